// The lab: phones side by side (each one's UI in a frame) and the service's
// certificate table for the holder — serial, kind, phone, status and what
// the OCSP responder answers — updated live while a device change proceeds.
// It uses the admin API, so it holds the admin token; it runs on loopback.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/hub.h"
#include "http/router.h"

namespace smacert::phone::ui {

struct LabPhone {
  std::string name;       // the folder's name, e.g. "new-phone"
  std::string model;      // "Pixel 9"
  std::string device_id;  // to name the phone in the table
  std::string path;       // where its UI is mounted, e.g. "/phones/new-phone/"
};

struct LabOptions {
  std::string service;      // the service's URL
  std::string admin_token;  // for /admin/v1
  std::string holder_id;
  std::filesystem::path web_lab;  // web/lab
  std::vector<LabPhone> phones;   // shown side by side
  // Every phone folder's device id → its name, for the table's phone column.
  std::vector<std::pair<std::string, std::string>> device_names;
};

class Lab {
 public:
  explicit Lab(LabOptions options) : options_(std::move(options)) {}
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  void add_routes(http::Router& router);
  void start();  // polls the service for the table
  void stop();

 private:
  nlohmann::json table();  // one poll: the admin API and OCSP for every certificate
  void poll_loop();

  LabOptions options_;
  std::mutex mutex_;
  std::string snapshot_ = "null";
  std::int64_t version_ = 0;
  std::shared_ptr<http::Hub> hub_ = std::make_shared<http::Hub>();
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// The holder of a virtual card: the card's auth certificate (readable
// without a PIN on a card) looked up by serial in the admin API.
Result<std::string> holder_of_card(const std::filesystem::path& card_file,
                                   const std::string& service, const std::string& admin_token);

}  // namespace smacert::phone::ui
