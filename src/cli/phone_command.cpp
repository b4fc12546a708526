// smacert phone — the app's flows as commands, one per screen of the seed.
#include <iostream>

#include "card/pcsc_transport.h"
#include "card/stored_applet.h"
#include "cli/command.h"
#include "core/encoding.h"
#include "core/files.h"
#include "phone/app.h"

namespace smacert::cli {
namespace {

struct PhoneOptions {
  std::string dir;
  std::string model, platform = "android";
  std::string card, reader, card_password;
  std::string certs = "sign,auth";
  std::string sign_password, sign_password_confirm, auth_pin, auth_pin_confirm;
  bool agree = false, agree_revoke_old = false;
  double wait = 0;
  bool biometric = false, other_phone = false;
  std::string in, out, rp;
};

// The card to read: a virtual card file, or a card in a PC/SC reader.
Result<std::unique_ptr<card::Transport>> open_card(const PhoneOptions& o, Random& random) {
  if (!o.card.empty()) {
    auto applet = card::StoredApplet::open(o.card, random);
    if (!applet) return fail(applet.error());
    return std::unique_ptr<card::Transport>(
        std::make_unique<card::StoredApplet>(std::move(*applet)));
  }
  if (!o.reader.empty()) {
    auto t = card::PcscTransport::connect(o.reader == "-" ? "" : o.reader);
    if (!t) return fail(t.error());
    return std::unique_ptr<card::Transport>(std::move(*t));
  }
  return fail(Errc::invalid_argument, "give --card FILE or --reader NAME");
}

Result<phone::PhoneApp> open_phone(const GlobalOptions& g, const PhoneOptions& o, Random& random,
                                   bool server_given) {
  return phone::PhoneApp::open(o.dir, random, server_given ? g.server : std::string());
}

std::string cert_label(const GlobalOptions& g, const std::string& kind) {
  bool sign = kind.find("sign") != std::string::npos;
  return std::string(sign ? say(g, "署名用電子証明書", "signature certificate")
                          : say(g, "利用者証明用電子証明書", "user-authentication certificate"));
}

std::string state_label(const GlobalOptions& g, const std::string& app_status,
                        const std::string& status) {
  if (status == "revoked") return std::string(say(g, "失効", "revoked"));
  if (status == "suspended") return std::string(say(g, "一時停止", "suspended"));
  if (app_status == "registered") return std::string(say(g, "登録済", "registered"));
  if (app_status == "ready" || app_status == "issued")
    return std::string(say(g, "登録準備が完了しています", "ready to register"));
  return std::string(say(g, "申請中", "applied"));
}

int do_apply(const GlobalOptions& g, const PhoneOptions& o, bool server_given,
             const std::string& kind) {
  OsRandom random;
  phone::ApplyInput in;
  in.kind = kind;
  in.card_password = o.card_password;
  in.want_sign = o.certs.find("sign") != std::string::npos;
  in.want_auth = o.certs.find("auth") != std::string::npos;
  in.agree_terms = o.agree;
  in.agree_revoke_old = o.agree_revoke_old;
  in.sign_password = o.sign_password;
  in.sign_password_confirm =
      o.sign_password_confirm.empty() ? o.sign_password : o.sign_password_confirm;
  in.auth_pin = o.auth_pin;
  in.auth_pin_confirm = o.auth_pin_confirm.empty() ? o.auth_pin : o.auth_pin_confirm;
  // The rules first, in the user's language, before the card is touched.
  if (in.want_sign)
    if (auto r = phone::check_sign_password(in.sign_password, in.sign_password_confirm);
        r != phone::Rule::ok)
      return report(Error{Errc::invalid_argument, phone::rule_message(r, japanese(g))}, g);
  if (in.want_auth)
    if (auto r = phone::check_auth_pin(in.auth_pin, in.auth_pin_confirm); r != phone::Rule::ok)
      return report(Error{Errc::invalid_argument, phone::rule_message(r, japanese(g))}, g);
  if (auto r = phone::check_card_password(in.card_password); r != phone::Rule::ok)
    return report(Error{Errc::invalid_argument, phone::rule_message(r, japanese(g))}, g);
  auto app = open_phone(g, o, random, server_given);
  if (!app) return report(app.error(), g);
  auto card = open_card(o, random);
  if (!card) return report(card.error(), g);
  in.card = card->get();
  auto r = app->apply(in);
  if (!r) return report(r.error(), g);
  if (g.json) {
    print_json(
        {{"application_id", r->application_id}, {"status", r->status}, {"ready_at", r->ready_at}});
    return kExitOk;
  }
  std::cout << say(g, "申請の完了\nスマホ用電子証明書の利用を申請しました\n",
                   "Application complete\nYou applied for smartphone certificates\n");
  if (r->status == "waiting")
    std::cout << say(g, "この後プッシュ通知が届きます（受付時間外のため翌朝: ",
                     "A push notification follows (outside operating hours: at ")
              << r->ready_at << ")\n";
  else
    std::cout << say(g, "この後プッシュ通知が届きます\n", "A push notification follows\n");
  std::cout << say(
      g, "※19:30以降の申請は翌朝に届きます\n",
      "(applications after 19:30 arrive the next morning when the operating window applies)\n");
  return kExitOk;
}

}  // namespace

void add_phone_commands(CLI::App& app, GlobalOptions& g, int& result) {
  auto* ph = app.add_subcommand("phone", "A virtual phone: the app's flows (the seed's steps)");
  ph->require_subcommand(1);
  auto o = std::make_shared<PhoneOptions>();
  // --server on the phone commands too: the service the phone talks to.
  auto server_given = std::make_shared<bool>(false);
  auto dir_option = [o](CLI::App* sub) {
    sub->add_option("--dir", o->dir, "The phone's folder")->required();
  };
  auto server_option = [&g, server_given](CLI::App* sub) {
    sub->add_option_function<std::string>(
        "--server",
        [&g, server_given](const std::string& v) {
          g.server = v;
          *server_given = true;
        },
        "Service URL (remembered by the phone)");
  };

  auto* create = add_command(
      *ph, "new", "Set up a new phone (folder, device id, secure element)", result, [&g, o] {
        OsRandom random;
        auto app = phone::PhoneApp::create(o->dir, o->platform, o->model, g.server, random);
        if (!app) return report(app.error(), g);
        if (g.json)
          print_json({{"device_id", app->state().device_id}, {"dir", o->dir}});
        else
          std::cout << say(g, "スマホを用意しました: ", "Phone ready: ") << app->state().device_id
                    << "\n";
        return int{kExitOk};
      });
  dir_option(create);
  server_option(create);
  create->add_option("--model", o->model, "Model name shown to the service");
  create->add_option("--platform", o->platform, "android or ios")
      ->check(CLI::IsMember({"android", "ios"}))
      ->capture_default_str();

  for (std::string kind : {"new", "device_change"}) {
    bool change = kind == "device_change";
    auto* sub = add_command(
        *ph, change ? "change" : "apply",
        change ? "機種変更: apply from the NEW phone; the old phone's certificates are revoked"
               : "利用申請: the first application from this phone",
        result, [&g, o, server_given, kind] { return do_apply(g, *o, *server_given, kind); });
    dir_option(sub);
    server_option(sub);
    auto* card_opt = sub->add_option("--card", o->card, "The virtual My Number Card file")
                         ->check(CLI::ExistingFile);
    auto* reader_opt = sub->add_option("--reader", o->reader,
                                       "A PC/SC reader holding a real card ('-' = the first)");
    card_opt->excludes(reader_opt);
    sub->add_option("--card-password", o->card_password, "④ the card's signature password")
        ->required();
    sub->add_option("--certs", o->certs, "⑤ which certificates: sign,auth (both by default)")
        ->capture_default_str();
    sub->add_option("--sign-password", o->sign_password, "⑩ the phone's new signature password");
    sub->add_option("--sign-password-confirm", o->sign_password_confirm,
                    "⑩ its confirmation (default: the same)");
    sub->add_option("--auth-pin", o->auth_pin, "⑪ the phone's new 4-digit authentication PIN");
    sub->add_option("--auth-pin-confirm", o->auth_pin_confirm,
                    "⑪ its confirmation (default: the same)");
    sub->add_flag("--agree", o->agree, "⑥ 確認しました: the terms");
    if (change)
      sub->add_flag("--agree-revoke-old", o->agree_revoke_old,
                    "⑨ 同意して次へ: revoke the old phone's certificates");
  }

  auto* sync = add_command(
      *ph, "sync", "Receive push events and act on them", result, [&g, o, server_given] {
        OsRandom random;
        auto app = open_phone(g, *o, random, *server_given);
        if (!app) return report(app.error(), g);
        auto events = app->sync(std::chrono::milliseconds(static_cast<long long>(o->wait * 1000)));
        if (!events) return report(events.error(), g);
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : *events) {
          list.push_back({{"seq", e.seq}, {"type", e.type}, {"detail", e.detail}});
          if (g.json) continue;
          if (e.type == "registration_ready")
            std::cout << say(g, "● 登録準備が完了しています", "● Ready to register") << "\n";
          else if (e.type == "wipe")
            std::cout << say(g, "古いスマホの電子証明書を削除しました",
                             "This phone's certificates were erased (device change)")
                      << "\n";
          else if (e.type == "application_rejected")
            std::cout << say(g, "申請は受け付けられませんでした: ", "The application was refused: ")
                      << e.detail << "\n";
          else if (e.type == "suspended")
            std::cout << say(g, "一時停止されました: ", "Suspended: ") << e.detail << "\n";
          else if (e.type == "resumed")
            std::cout << say(g, "一時停止が解除されました: ", "Resumed: ") << e.detail << "\n";
          else if (e.type == "revoked")
            std::cout << say(g, "失効しました: ", "Revoked: ") << e.detail << "\n";
        }
        if (g.json)
          print_json({{"events", list}});
        else if (events->empty())
          std::cout << say(g, "新しい通知はありません", "No new notifications") << "\n";
        return int{kExitOk};
      });
  dir_option(sync);
  server_option(sync);
  sync->add_option("--wait", o->wait, "Seconds to wait for events (0: what is there now)");

  auto* reg = add_command(
      *ph, "register", "⑫–⑬ 登録する: write the certificates into the secure element", result,
      [&g, o, server_given] {
        OsRandom random;
        auto app = open_phone(g, *o, random, *server_given);
        if (!app) return report(app.error(), g);
        if (auto st = app->register_certificates(); !st) return report(st.error(), g);
        if (g.json)
          print_json({{"status", "registered"}});
        else
          std::cout << say(g, "登録完了\n登録が完了しました。\n", "Registration complete\n");
        return int{kExitOk};
      });
  dir_option(reg);
  server_option(reg);

  auto* bio =
      ph->add_subcommand("biometrics", "生体認証: let biometrics unlock the authentication key");
  bio->require_subcommand(1);
  auto* enroll = add_command(
      *bio, "enroll", "Enrol (the auth PIN is checked once, then sealed)", result, [&g, o] {
        OsRandom random;
        auto app = phone::PhoneApp::open(o->dir, random);
        if (!app) return report(app.error(), g);
        if (auto st = app->enroll_biometrics(o->auth_pin); !st) return report(st.error(), g);
        if (!g.json)
          std::cout << say(g, "生体認証を登録しました\n", "Biometrics enrolled\n");
        else
          print_json({{"biometrics", true}});
        return int{kExitOk};
      });
  dir_option(enroll);
  enroll->add_option("--auth-pin", o->auth_pin, "The phone's authentication PIN")->required();
  auto* remove = add_command(*bio, "remove", "Remove the enrolment", result, [&g, o] {
    OsRandom random;
    auto app = phone::PhoneApp::open(o->dir, random);
    if (!app) return report(app.error(), g);
    if (auto st = app->remove_biometrics(); !st) return report(st.error(), g);
    if (g.json) print_json({{"biometrics", false}});
    return int{kExitOk};
  });
  dir_option(remove);

  auto unlock_of = [o]() {
    phone::Unlock u;
    if (!o->auth_pin.empty()) u.auth_pin = o->auth_pin;
    u.biometric = o->biometric;
    return u;
  };
  auto unlock_options = [o](CLI::App* sub, bool required) {
    auto* pin = sub->add_option("--auth-pin", o->auth_pin, "The phone's authentication PIN");
    auto* bio =
        sub->add_flag("--biometric", o->biometric, "Unlock with biometrics (simulated match)");
    pin->excludes(bio);
    if (required) sub->require_option(1);
  };

  auto* check =
      add_command(*ph, "check", "動作確認: log in with the auth key and check OCSP", result,
                  [&g, o, server_given, unlock_of] {
                    OsRandom random;
                    auto app = open_phone(g, *o, random, *server_given);
                    if (!app) return report(app.error(), g);
                    auto r = app->check(unlock_of());
                    if (!r) return report(r.error(), g);
                    if (g.json)
                      print_json({{"result", "passed"}, {"serial", r->serial}, {"ocsp", "good"}});
                    else
                      std::cout << say(g, "動作確認が完了しました（OCSP: 有効）\n",
                                       "Operation check passed (OCSP: good)\n");
                    return int{kExitOk};
                  });
  dir_option(check);
  server_option(check);
  unlock_options(check, false);

  auto* status = add_command(
      *ph, "status", "マイページ: this phone's certificates and their state", result,
      [&g, o, server_given, unlock_of] {
        OsRandom random;
        auto app = open_phone(g, *o, random, *server_given);
        if (!app) return report(app.error(), g);
        std::optional<phone::Unlock> unlock;
        if (!o->auth_pin.empty() || o->biometric) unlock = unlock_of();
        auto v = app->status(unlock);
        if (!v) return report(v.error(), g);
        const auto& s = v->state;
        nlohmann::json certs = nlohmann::json::array();
        for (const auto& c : s.certificates)
          certs.push_back({{"kind", c.kind},
                           {"serial", c.serial},
                           {"status", c.status},
                           {"state", state_label(g, s.application_status, c.status)}});
        if (g.json) {
          nlohmann::json doc{{"device_id", s.device_id},
                             {"application_status", s.application_status},
                             {"wiped", s.wiped},
                             {"biometrics", s.biometrics},
                             {"certificates", certs}};
          if (v->my_page) doc["my_page"] = *v->my_page;
          print_json(doc);
          return int{kExitOk};
        }
        std::cout << say(g, "マイページ — ", "My Page — ") << s.device_id << " (" << s.model
                  << ")\n";
        if (s.wiped)
          std::cout << say(g, "このスマホの電子証明書は削除されました\n",
                           "This phone's certificates were erased\n");
        for (const auto& c : s.certificates)
          std::cout << "  " << cert_label(g, c.kind) << "\n  ● "
                    << state_label(g, s.application_status, c.status) << "  (" << c.serial << ")\n";
        if (s.certificates.empty() && !s.wiped)
          std::cout << say(g, "  電子証明書はまだありません\n", "  No certificates yet\n");
        if (v->my_page)
          for (const auto& c : (*v->my_page)["certificates"])
            if (!c["this_device"].get<bool>() && c["status"] != "revoked")
              std::cout << say(g, "  別のスマホのスマホ用電子証明書: ",
                               "  Another phone's certificate: ")
                        << c["kind"].get<std::string>() << " " << c["serial"].get<std::string>()
                        << "\n";
        return int{kExitOk};
      });
  dir_option(status);
  server_option(status);
  unlock_options(status, false);

  auto* revoke = add_command(
      *ph, "revoke", "利用をやめる, or revoke the other phone (--other-phone)", result,
      [&g, o, server_given, unlock_of] {
        OsRandom random;
        auto app = open_phone(g, *o, random, *server_given);
        if (!app) return report(app.error(), g);
        Result<std::vector<std::string>> r = fail(Errc::internal, "");
        if (!o->card.empty() || !o->reader.empty()) {
          if (o->other_phone)
            return report(Error{Errc::invalid_argument,
                                "with the card, only this phone's certificates can be revoked"},
                          g);
          auto card = open_card(*o, random);
          if (!card) return report(card.error(), g);
          r = app->revoke_with_card(**card, o->card_password);
        } else {
          r = app->revoke(o->other_phone, unlock_of());
        }
        if (!r) return report(r.error(), g);
        if (g.json)
          print_json({{"revoked", *r}});
        else
          for (const auto& s : *r) std::cout << say(g, "失効しました: ", "Revoked: ") << s << "\n";
        return int{kExitOk};
      });
  dir_option(revoke);
  server_option(revoke);
  revoke->add_flag("--other-phone", o->other_phone, "別のスマホのスマホ用電子証明書 失効");
  revoke->add_option("--card", o->card, "Prove it with the card instead of the auth PIN")
      ->check(CLI::ExistingFile);
  revoke->add_option("--card-password", o->card_password,
                     "The card's signature password (with --card)");
  unlock_options(revoke, false);

  auto* sign = add_command(*ph, "sign", "CMS detached signature with the phone's signature key",
                           result, [&g, o] {
                             OsRandom random;
                             auto app = phone::PhoneApp::open(o->dir, random);
                             if (!app) return report(app.error(), g);
                             auto data = read_file(o->in, 64u << 20);
                             if (!data) return report(data.error(), g);
                             auto sig = app->sign(o->sign_password, *data);
                             if (!sig) return report(sig.error(), g);
                             if (auto st = write_file_atomic(o->out, *sig, 0644); !st)
                               return report(st.error(), g);
                             if (g.json)
                               print_json({{"signature", o->out}, {"bytes", sig->size()}});
                             else
                               std::cout << say(g, "署名しました: ", "Signed: ") << o->out << "\n";
                             return int{kExitOk};
                           });
  dir_option(sign);
  sign->add_option("--sign-password", o->sign_password, "The phone's signature password")
      ->required();
  sign->add_option("--in", o->in, "The document")->required()->check(CLI::ExistingFile);
  sign->add_option("--out", o->out, "The signature to write (.p7s, DER)")->required();

  auto* login =
      add_command(*ph, "login", "Log in to a relying party (or the service) with the auth key",
                  result, [&g, o, server_given, unlock_of] {
                    OsRandom random;
                    auto app = open_phone(g, *o, random, *server_given);
                    if (!app) return report(app.error(), g);
                    auto r = app->login(unlock_of(), o->rp);
                    if (!r) return report(r.error(), g);
                    if (g.json)
                      print_json(*r);
                    else
                      std::cout << say(g, "ログインしました\n", "Logged in\n");
                    return int{kExitOk};
                  });
  dir_option(login);
  server_option(login);
  unlock_options(login, false);
  login->add_option("--rp", o->rp, "The relying party's URL (default: the service itself)");
  add_phone_ui_command(*ph, g, result);
}

}  // namespace smacert::cli
