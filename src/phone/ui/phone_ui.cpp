// The UI process's phone: opening it, the card source, the page's event log
// and the background sync that turns push events into page events.
#include "phone/ui/phone_ui.h"

#include <spdlog/spdlog.h>

#include "card/jpki_client.h"
#include "card/pcsc_transport.h"
#include "card/stored_applet.h"

namespace smacert::phone::ui {
namespace {

using namespace std::chrono_literals;

// Events kept for pages that reconnect (Last-Event-ID); older ones are dropped.
constexpr std::size_t kEventsKept = 256;
// How long one wait on the service's push channel lasts before it is renewed.
constexpr auto kPushWait = 3s;

}  // namespace

Result<std::unique_ptr<PhoneUi>> PhoneUi::open(PhoneUiOptions options) {
  std::unique_ptr<PhoneUi> ui(new PhoneUi(std::move(options)));
  auto app = PhoneApp::open(ui->options_.dir, ui->random_, ui->options_.server);
  if (!app) return fail(app.error().context("opening the phone " + ui->options_.dir.string()));
  ui->app_.emplace(std::move(*app));
  ui->use_reader_ = ui->options_.card_file.empty() && !ui->options_.reader.empty();
  ui->reader_ = ui->options_.reader == "-" ? "" : ui->options_.reader;
  return ui;
}

PhoneUi::~PhoneUi() {
  stop();
}

std::string PhoneUi::device_id() {
  std::lock_guard lock(app_mutex_);
  return app_->state().device_id;
}

std::string PhoneUi::model() {
  std::lock_guard lock(app_mutex_);
  return app_->state().model;
}

void PhoneUi::start() {
  sync_thread_ = std::thread([this] { sync_loop(); });
}

void PhoneUi::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
}

void PhoneUi::publish(const std::string& type, const nlohmann::json& data) {
  {
    std::lock_guard lock(events_mutex_);
    events_.push_back({next_event_++, type, data.dump()});
    if (events_.size() > kEventsKept)
      events_.erase(events_.begin(), events_.begin() + (events_.size() - kEventsKept));
  }
  hub_->notify("phone");
}

Result<std::vector<http::SseEvent>> PhoneUi::events_after(std::int64_t id) {
  std::lock_guard lock(events_mutex_);
  std::vector<http::SseEvent> out;
  for (const auto& e : events_)
    if (e.id > id) out.push_back(e);
  return out;
}

std::int64_t PhoneUi::event_cursor() {
  std::lock_guard lock(events_mutex_);
  return next_event_ - 1;
}

Result<std::unique_ptr<card::Transport>> PhoneUi::open_card() {
  if (use_reader_) {
    auto t = card::PcscTransport::connect(reader_);
    if (!t) return fail(t.error());
    return std::unique_ptr<card::Transport>(std::move(*t));
  }
  if (options_.card_file.empty())
    return fail(Errc::not_found,
                "no card to read: start with --card FILE, or choose a PC/SC reader in settings");
  auto applet = card::StoredApplet::open(options_.card_file, random_);
  if (!applet) return fail(applet.error());
  return std::unique_ptr<card::Transport>(std::make_unique<card::StoredApplet>(std::move(*applet)));
}

Result<unsigned> PhoneUi::element_tries_left(bool auth) {
  // The phone's own element (PhoneApp opens it per call, under the same lock).
  auto se = card::StoredApplet::open(options_.dir / "se.img", random_);
  if (!se) return fail(se.error());
  card::JpkiClient element(*se);
  SMACERT_TRY_STATUS(element.select_application());
  return element.tries_left(auth ? card::PinRef::Auth : card::PinRef::Sign);
}

nlohmann::json PhoneUi::state_json() {
  std::lock_guard lock(app_mutex_);
  const auto& s = app_->state();
  auto certs = nlohmann::json::array();
  for (const auto& c : s.certificates)
    certs.push_back(
        {{"kind", c.kind}, {"serial", c.serial}, {"status", c.status}, {"reason", c.reason}});
  nlohmann::json card{{"source", use_reader_ ? "reader" : "file"},
                      {"file", options_.card_file.filename().string()},
                      {"reader", reader_}};
  nlohmann::json draft{{"kind", draft_.kind},
                       {"want_sign", draft_.want_sign},
                       {"want_auth", draft_.want_auth},
                       {"card_read", draft_.card_read},
                       {"agree_revoke_old", draft_.agree_revoke_old},
                       {"sign_set", draft_.sign_set},
                       {"auth_set", draft_.auth_set}};
  int up = service_up_.load();
  return {{"device_id", s.device_id},
          {"model", s.model},
          {"platform", s.platform},
          {"server", s.server},
          {"applied", !s.device_token.empty()},
          {"application",
           {{"id", s.application_id},
            {"kind", s.application_kind},
            {"status", s.application_status},
            {"ready_at", s.ready_at}}},
          {"certificates", certs},
          {"wiped", s.wiped},
          {"biometrics", s.biometrics},
          {"card", card},
          {"draft", draft},
          {"service_up", up < 0 ? nlohmann::json(nullptr) : nlohmann::json(up == 1)},
          {"event_cursor", event_cursor()}};
}

void PhoneUi::sync_loop() {
  while (true) {
    std::string server, device, token;
    std::int64_t last = 0;
    {
      std::lock_guard lock(app_mutex_);
      const auto& s = app_->state();
      if (!s.wiped && !s.device_token.empty()) {
        server = s.server;
        device = s.device_id;
        token = s.device_token;
        last = s.last_event;
      }
    }
    {
      std::unique_lock lock(stop_mutex_);
      if (stopping_) return;
      if (token.empty()) {  // nothing to sync until the phone applies
        stop_cv_.wait_for(lock, 500ms, [this] { return stopping_; });
        continue;
      }
    }
    // The wait on the push channel happens outside app_mutex_, so the page's
    // calls are never held up by it; the events themselves are then taken,
    // checked against the pinned push key and acted on by PhoneApp::sync.
    bool rang = false;
    http::ApiClient api(server, token);
    auto waited = api.read_events(
        "/v1/devices/" + device + "/events", last,
        [&rang](const http::SseEvent&) {
          rang = true;
          return false;
        },
        kPushWait);
    int up = waited || waited.error().from_service ? 1 : 0;
    if (service_up_.exchange(up) != up) publish("service", {{"up", up == 1}});
    if (!waited) {
      spdlog::debug("push channel: {}", waited.error().message);
      std::unique_lock lock(stop_mutex_);
      stop_cv_.wait_for(lock, 1s, [this] { return stopping_; });
      continue;
    }
    if (!rang) continue;
    std::vector<SyncedEvent> events;
    {
      std::lock_guard lock(app_mutex_);
      auto synced = app_->sync(std::chrono::milliseconds(0));
      if (!synced) {
        spdlog::warn("sync: {}", synced.error().message);
      } else {
        events = std::move(*synced);
      }
    }
    if (events.empty()) {  // a failed or empty sync: do not spin on the same event
      std::unique_lock lock(stop_mutex_);
      stop_cv_.wait_for(lock, 1s, [this] { return stopping_; });
      continue;
    }
    for (const auto& e : events) publish(e.type, {{"seq", e.seq}, {"detail", e.detail}});
  }
}

}  // namespace smacert::phone::ui
