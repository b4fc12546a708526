// The web phone UI's process side: one virtual phone (PhoneApp) behind a
// local JSON API, the application being filled in screen by screen, and a
// background sync that turns the service's push events into events for the
// page (Server-Sent Events). The page holds no secrets and does no
// cryptography; every secret it sends is kept here until it is used.
//
// PhoneApp is not thread-safe: every use of it holds app_mutex_.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "card/transport.h"
#include "core/random.h"
#include "http/hub.h"
#include "http/router.h"
#include "phone/app.h"

namespace smacert::phone::ui {

struct PhoneUiOptions {
  std::filesystem::path dir;        // the phone's folder (smacert phone new)
  std::string server;               // overrides the phone's service URL when set
  std::filesystem::path card_file;  // the virtual My Number Card, if any
  std::string reader;               // a PC/SC reader to use instead ("-": the first)
  std::filesystem::path web_phone;  // web/phone
};

// The application as the screens fill it in (②–⑪). Secrets live here, not
// in the page, and are dropped once the application is sent.
struct Draft {
  std::string kind;  // "" (none) | "new" | "device_change"
  std::string card_password;
  bool want_sign = true, want_auth = true, agree_terms = false;
  bool card_read = false;         // ⑧ done
  bool agree_revoke_old = false;  // ⑨
  std::string sign_password, auth_pin;
  bool sign_set = false, auth_set = false;
};

class PhoneUi {
 public:
  static Result<std::unique_ptr<PhoneUi>> open(PhoneUiOptions options);
  ~PhoneUi();
  PhoneUi(const PhoneUi&) = delete;
  PhoneUi& operator=(const PhoneUi&) = delete;

  // The page at PREFIX/ and its API at PREFIX/api/… ("" for `phone ui`).
  void add_routes(http::Router& router, const std::string& prefix);
  // The background sync; stop() ends it (the destructor calls stop()).
  void start();
  void stop();

  std::string device_id();
  std::string model();

 private:
  explicit PhoneUi(PhoneUiOptions options) : options_(std::move(options)) {}
  // For the page: a numbered event, then a wake-up of its streams.
  void publish(const std::string& type, const nlohmann::json& data);
  Result<std::vector<http::SseEvent>> events_after(std::int64_t id);
  std::int64_t event_cursor();

  nlohmann::json state_json();  // holds app_mutex_
  Result<std::unique_ptr<card::Transport>> open_card();
  Result<unsigned> element_tries_left(bool auth);
  void sync_loop();

  PhoneUiOptions options_;
  OsRandom random_;

  std::mutex app_mutex_;
  std::optional<PhoneApp> app_;
  Draft draft_;
  bool use_reader_ = false;
  std::string reader_;

  std::mutex events_mutex_;
  std::vector<http::SseEvent> events_;
  std::int64_t next_event_ = 1;
  std::shared_ptr<http::Hub> hub_ = std::make_shared<http::Hub>();
  std::atomic<int> service_up_{-1};  // -1 unknown, 0 down, 1 up

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread sync_thread_;
};

}  // namespace smacert::phone::ui
