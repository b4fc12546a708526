// The page's local JSON API: the state, the event stream, the rules, the
// application screen by screen (②–⑪), registration (⑫–⑬), biometrics, the
// operation check, the other phone's revocation and the card settings.
#include <spdlog/spdlog.h>

#include "card/jpki_client.h"
#include "card/pcsc_transport.h"
#include "http/error_status.h"
#include "http/handlers/handler.h"
#include "http/handlers/json_input.h"
#include "phone/ui/local_guard.h"
#include "phone/ui/phone_ui.h"
#include "phone/ui/static_files.h"

namespace smacert::phone::ui {
namespace {

using http::JsonInput;
using http::Request;
using http::Response;

std::string_view rule_name(Rule r) {
  switch (r) {
    case Rule::ok:
      return "ok";
    case Rule::sign_length:
      return "sign_length";
    case Rule::sign_charset:
      return "sign_charset";
    case Rule::sign_mix:
      return "sign_mix";
    case Rule::sign_mismatch:
      return "sign_mismatch";
    case Rule::pin_format:
      return "pin_format";
    case Rule::pin_mismatch:
      return "pin_mismatch";
    case Rule::card_password_format:
      return "card_password_format";
  }
  return "unknown";
}

nlohmann::json rule_json(Rule r) {
  return {{"ok", r == Rule::ok},
          {"rule", rule_name(r)},
          {"message", {{"ja", rule_message(r, true)}, {"en", rule_message(r, false)}}}};
}

// An error for the page: what went wrong (the taxonomy's name), where
// ("card", "phone", "service", "input"), the sentence, and the tries left
// when a password or PIN was wrong. The page picks its screen from these.
Response ui_error(const Error& e, std::string where, std::optional<unsigned> tries_left = {}) {
  if (e.from_service || (e.code == Errc::unavailable && where != "card")) where = "service";
  nlohmann::json body{{"error", errc_name(e.code)}, {"where", where}, {"message", e.message}};
  if (tries_left) body["tries_left"] = *tries_left;
  return http::json_response(http::to_http_status(e.code), body);
}

Response rule_error(Rule r) {
  auto body = rule_json(r);
  body["error"] = "invalid_argument";
  body["where"] = "input";
  return http::json_response(400, body);
}

Response ok(nlohmann::json body = {{"ok", true}}) {
  return http::json_response(200, body);
}

// A 400 for a body that does not parse, in the page's error shape.
#define UI_GET(var, expr)                                            \
  auto var##_result = (expr);                                        \
  if (!var##_result) return ui_error(var##_result.error(), "input"); \
  auto var = std::move(*var##_result)

Unlock unlock_of(const JsonInput& in, Result<std::string>& pin, Result<bool>& bio) {
  pin = in.string("auth_pin", 4, false);
  bio = in.boolean("biometric", false);
  Unlock u;
  if (pin && !pin->empty()) u.auth_pin = *pin;
  if (bio) u.biometric = *bio;
  return u;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void PhoneUi::add_routes(http::Router& router, const std::string& prefix) {
  auto add = [&](const char* method, const std::string& path, const std::string& name,
                 http::Handler h) {
    router.add(method, prefix + "/api/" + path, "ui_" + name, local_only(std::move(h)));
  };
  add_static_routes(router, prefix, options_.web_phone, "ui_page");

  add("GET", "state", "state", [this](Request&) { return ok(state_json()); });

  add("GET", "events", "events", [this](Request& req) {
    std::int64_t last = 0;
    auto from = req.header("Last-Event-ID");
    if (!from) from = req.query_param("after");
    if (from) {
      try {
        last = std::stoll(std::string(*from));
      } catch (...) {
        return http::error_response(400, "invalid_argument", "after must be an event number");
      }
    }
    http::SseStream stream;
    stream.hub = hub_;
    stream.topic = "phone";
    stream.last_id = last;
    stream.fetch = [this](std::int64_t after) { return events_after(after); };
    return http::sse_response(std::move(stream));
  });

  // Live feedback while typing: the C++ rules are the only rules.
  add("POST", "rules/{which}", "rules", [](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"value", "confirm"}));
    UI_GET(value, in.string("value", 64, false));
    UI_GET(confirm, in.string("confirm", 64, false));
    auto which = req.param("which");
    if (which == "card-password") return ok(rule_json(check_card_password(value)));
    if (which == "sign-password") return ok(rule_json(check_sign_password(value, confirm)));
    if (which == "auth-pin") return ok(rule_json(check_auth_pin(value, confirm)));
    return http::error_response(404, "not_found",
                                "no such rule (card-password, sign-password, auth-pin)");
  });

  // ② ③: 機種変更 (or 利用申請) starts a fresh application.
  add("POST", "application/start", "start", [this](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"kind"}));
    UI_GET(kind, in.string("kind", 32));
    if (kind != "new" && kind != "device_change")
      return http::error_response(400, "invalid_argument", "kind must be new or device_change");
    std::lock_guard lock(app_mutex_);
    draft_ = Draft{};
    draft_.kind = kind;
    return ok();
  });

  add("POST", "application/cancel", "cancel", [this](Request&) {
    std::lock_guard lock(app_mutex_);
    draft_ = Draft{};
    return ok();
  });

  // ④–⑦: the card's password, the certificates, 確認しました, 申請する.
  add("POST", "application/form", "form", [this](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"card_password", "sign", "auth", "agree_terms"}));
    UI_GET(password, in.string("card_password", 64));
    UI_GET(sign, in.boolean("sign", true));
    UI_GET(auth, in.boolean("auth", true));
    UI_GET(terms, in.boolean("agree_terms", false));
    if (auto r = check_card_password(password); r != Rule::ok) return rule_error(r);
    if (!sign && !auth)
      return ui_error({Errc::invalid_argument, "choose at least one certificate (⑤)"}, "input");
    if (!terms)
      return ui_error({Errc::invalid_argument, "the terms must be accepted (⑥ 確認しました)"},
                      "input");
    std::lock_guard lock(app_mutex_);
    if (draft_.kind.empty())
      return ui_error({Errc::conflict, "start an application first (機種変更)"}, "phone");
    draft_.card_password = upper(password);
    draft_.want_sign = sign;
    draft_.want_auth = auth;
    draft_.agree_terms = true;
    draft_.card_read = false;
    return ok();
  });

  // ⑧: the card checks its password; its signature certificate is read.
  add("POST", "application/read-card", "read_card", [this](Request&) {
    std::lock_guard lock(app_mutex_);
    if (draft_.card_password.empty())
      return ui_error({Errc::conflict, "enter the card's password first (④)"}, "phone");
    auto card = open_card();
    if (!card) return ui_error(card.error(), "card");
    card::JpkiClient client(**card);
    if (auto st = client.select_application(); !st) return ui_error(st.error(), "card");
    if (auto st = client.verify(card::PinRef::Sign, draft_.card_password); !st) {
      draft_.card_password.clear();  // a wrong password is not kept
      std::optional<unsigned> left;
      if (st.error().code == Errc::unauthorized)
        if (auto t = client.tries_left(card::PinRef::Sign)) left = *t;
      return ui_error(st.error(), "card", left);
    }
    auto cert = client.read_certificate(card::kSignCertFile);
    if (!cert) return ui_error(cert.error(), "card");
    draft_.card_read = true;
    return ok({{"ok", true}, {"kind", draft_.kind}});
  });

  // ⑨ 同意して次へ.
  add("POST", "application/consent", "consent", [this](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"revoke_old"}));
    UI_GET(agree, in.boolean("revoke_old", false));
    std::lock_guard lock(app_mutex_);
    if (!draft_.card_read) return ui_error({Errc::conflict, "read the card first (⑧)"}, "phone");
    draft_.agree_revoke_old = agree;
    return ok();
  });

  // ⑩: the phone's new signature password.
  add("POST", "application/sign-password", "sign_password", [this](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"password", "confirm"}));
    UI_GET(pw, in.string("password", 64));
    UI_GET(confirm, in.string("confirm", 64));
    if (auto r = check_sign_password(pw, confirm); r != Rule::ok) return rule_error(r);
    std::lock_guard lock(app_mutex_);
    if (!draft_.card_read) return ui_error({Errc::conflict, "read the card first (⑧)"}, "phone");
    draft_.sign_password = pw;
    draft_.sign_set = true;
    return ok();
  });

  // ⑪ (the auth certificate's screen): the phone's new 4-digit PIN.
  add("POST", "application/auth-pin", "auth_pin", [this](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"pin", "confirm"}));
    UI_GET(pin, in.string("pin", 8));
    UI_GET(confirm, in.string("confirm", 8));
    if (auto r = check_auth_pin(pin, confirm); r != Rule::ok) return rule_error(r);
    std::lock_guard lock(app_mutex_);
    if (!draft_.card_read) return ui_error({Errc::conflict, "read the card first (⑧)"}, "phone");
    draft_.auth_pin = pin;
    draft_.auth_set = true;
    return ok();
  });

  // 次へ → 申請の完了: PhoneApp::apply does the work; its steps reach the page live.
  add("POST", "application/submit", "submit", [this](Request&) {
    std::lock_guard lock(app_mutex_);
    const Draft& d = draft_;
    if (!d.card_read) return ui_error({Errc::conflict, "read the card first (⑧)"}, "phone");
    if (d.kind == "device_change" && !d.agree_revoke_old)
      return ui_error({Errc::invalid_argument, "agree to revoke the old phone (⑨ 同意して次へ)"},
                      "input");
    if ((d.want_sign && !d.sign_set) || (d.want_auth && !d.auth_set))
      return ui_error({Errc::invalid_argument, "set the new password and PIN first (⑩ ⑪)"},
                      "input");
    auto card = open_card();
    if (!card) return ui_error(card.error(), "card");
    ApplyInput in;
    in.kind = d.kind;
    in.card = card->get();
    in.card_password = d.card_password;
    in.want_sign = d.want_sign;
    in.want_auth = d.want_auth;
    in.agree_terms = d.agree_terms;
    in.agree_revoke_old = d.agree_revoke_old;
    in.sign_password = in.sign_password_confirm = d.sign_password;
    in.auth_pin = in.auth_pin_confirm = d.auth_pin;
    in.progress = [this](std::string_view step) {
      publish("progress", {{"step", std::string(step)}});
    };
    auto r = app_->apply(in);
    draft_ = Draft{};  // the secrets are in the element and the keystore now, or gone
    if (!r) return ui_error(r.error(), "phone");
    publish("applied", {{"status", r->status}});
    stop_cv_.notify_all();  // the background sync has a token to listen with now
    return ok(
        {{"application_id", r->application_id}, {"status", r->status}, {"ready_at", r->ready_at}});
  });

  // ⑫ ⑬ 登録する.
  add("POST", "register", "register", [this](Request&) {
    std::lock_guard lock(app_mutex_);
    if (auto st = app_->register_certificates(); !st) return ui_error(st.error(), "phone");
    publish("registered", nlohmann::json::object());
    return ok();
  });

  // 生体認証などの利用登録: the element checks the PIN, the keystore seals it.
  add("POST", "biometrics", "biometrics", [this](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"auth_pin"}));
    UI_GET(pin, in.string("auth_pin", 8));
    std::lock_guard lock(app_mutex_);
    if (auto st = app_->enroll_biometrics(pin); !st) {
      std::optional<unsigned> left;
      if (st.error().code == Errc::unauthorized)
        if (auto t = element_tries_left(true)) left = *t;
      return ui_error(st.error(), "phone", left);
    }
    return ok();
  });

  // 動作確認: a login with the auth key and the responder's word on it.
  add("POST", "check", "check", [this](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"auth_pin", "biometric"}));
    Result<std::string> pin = std::string();
    Result<bool> bio = false;
    auto unlock = unlock_of(in, pin, bio);
    if (!pin) return ui_error(pin.error(), "input");
    if (!bio) return ui_error(bio.error(), "input");
    std::lock_guard lock(app_mutex_);
    auto r = app_->check(unlock);
    if (!r) {
      std::optional<unsigned> left;
      if (r.error().code == Errc::unauthorized && !r.error().from_service)
        if (auto t = element_tries_left(true)) left = *t;
      return ui_error(r.error(), "phone", left);
    }
    return ok({{"ok", true},
               {"serial", r->serial},
               {"ocsp", std::holds_alternative<pki::Good>(r->ocsp) ? "good" : "not good"},
               {"session_expires_at", r->session_expires_at}});
  });

  // マイページ: 別のスマホのスマホ用電子証明書 失効.
  add("POST", "revoke-other", "revoke_other", [this](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"auth_pin", "biometric"}));
    Result<std::string> pin = std::string();
    Result<bool> bio = false;
    auto unlock = unlock_of(in, pin, bio);
    if (!pin) return ui_error(pin.error(), "input");
    if (!bio) return ui_error(bio.error(), "input");
    std::lock_guard lock(app_mutex_);
    auto r = app_->revoke(true, unlock);
    if (!r && r.error().code == Errc::not_found && !r.error().from_service)
      return ok({{"ok", true}, {"revoked", nlohmann::json::array()}});
    if (!r) {
      std::optional<unsigned> left;
      if (r.error().code == Errc::unauthorized && !r.error().from_service)
        if (auto t = element_tries_left(true)) left = *t;
      return ui_error(r.error(), "phone", left);
    }
    return ok({{"ok", true}, {"revoked", *r}});
  });

  // 設定: read the virtual card file, or a card in a PC/SC reader.
  add("GET", "settings", "settings", [this](Request&) {
    nlohmann::json body;
    {
      std::lock_guard lock(app_mutex_);
      body = {{"source", use_reader_ ? "reader" : "file"},
              {"file", options_.card_file.string()},
              {"reader", reader_}};
    }
    auto readers = card::PcscTransport::list_readers();
    if (readers)
      body["readers"] = *readers;
    else
      body["readers_error"] = readers.error().message;
    return ok(body);
  });

  add("POST", "settings", "settings_set", [this](Request& req) {
    UI_GET(in, JsonInput::parse(req.body, {"source", "reader"}));
    UI_GET(source, in.string("source", 16));
    UI_GET(reader, in.string("reader", 256, false));
    if (source != "file" && source != "reader")
      return http::error_response(400, "invalid_argument", "source must be file or reader");
    if (source == "file" && options_.card_file.empty())
      return ui_error({Errc::not_found, "this phone was started without --card FILE"}, "card");
    std::lock_guard lock(app_mutex_);
    use_reader_ = source == "reader";
    reader_ = reader;
    return ok();
  });
}

}  // namespace smacert::phone::ui
