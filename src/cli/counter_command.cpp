// smacert counter — the municipal counter and the 24/7 hotline, against the
// service's admin API (bearer token from --token-file or SMACERT_ADMIN_TOKEN).
#include <cstdlib>
#include <iostream>

#include "card/jpki_client.h"
#include "card/stored_applet.h"
#include "cli/command.h"
#include "core/encoding.h"
#include "core/files.h"
#include "counter/card_issuance.h"
#include "http/api_client.h"

namespace smacert::cli {
namespace {

namespace fs = std::filesystem;

struct CounterOptions {
  std::string token_file = "./smacert-data/admin.token";
  // issue-card
  std::string name, address, birth, sign_password, auth_pin, out;
  int sex = 9;
  // change-address
  std::string card;
  // suspend / resume / revoke
  std::string serial, reason;
  bool phone = false;
};

Result<std::string> read_token(const CounterOptions& o) {
  if (const char* env = std::getenv("SMACERT_ADMIN_TOKEN"); env != nullptr && *env != '\0')
    return std::string(env);
  auto t = read_file(o.token_file, 4096);
  if (!t)
    return fail(Errc::invalid_argument, "cannot read the admin token (" + t.error().message +
                                            "); use --token-file or SMACERT_ADMIN_TOKEN");
  std::string s(as_chars(*t));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<http::ApiClient> admin_client(const GlobalOptions& g, const CounterOptions& o) {
  auto token = read_token(o);
  if (!token) return fail(token.error());
  return http::ApiClient(g.server, *token);
}

int issue_card(const GlobalOptions& g, const CounterOptions& o) {
  auto api = admin_client(g, o);
  if (!api) return report(api.error(), g);
  OsRandom random;
  auto issued = counter::issue_card(
      *api, {o.name, o.address, o.birth, o.sex, o.sign_password, o.auth_pin}, o.out, random);
  if (!issued) return report(issued.error(), g);
  if (g.json) {
    print_json({{"card", o.out}, {"holder_id", issued->holder_id}, {"card_id", issued->card_id}});
  } else {
    std::cout << say(g, "マイナンバーカードを交付しました: ", "Issued a My Number Card: ") << o.out
              << "\n"
              << say(g, "  利用者: ", "  holder: ") << issued->holder_id << "\n";
  }
  return kExitOk;
}

// The serial of the card's authentication certificate, read as a reader would
// (EF 000A needs no PIN on a card).
Result<std::string> card_auth_serial(const std::string& path) {
  OsRandom random;
  auto applet = card::StoredApplet::open(path, random);
  if (!applet) return fail(applet.error());
  card::JpkiClient client(*applet);
  auto der = client.read_certificate(card::kAuthCertFile);
  if (!der) return fail(der.error().context("reading the card"));
  auto cert = pki::parse_certificate(*der);
  if (!cert) return fail(cert.error());
  return pki::serial_hex(X509_get0_serialNumber(cert->get()));
}

Result<nlohmann::json> card_record(http::ApiClient& api, const std::string& card_path) {
  auto serial = card_auth_serial(card_path);
  if (!serial) return fail(serial.error());
  return api.get("/admin/v1/certificates/" + *serial);
}

int change_records(const GlobalOptions& g, const CounterOptions& o) {
  if (o.address.empty() && o.name.empty())
    return report(Error{Errc::invalid_argument, "give --address, --name or both"}, g);
  auto api = admin_client(g, o);
  if (!api) return report(api.error(), g);
  auto rec = card_record(*api, o.card);
  if (!rec) return report(rec.error(), g);
  nlohmann::json body = nlohmann::json::object();
  if (!o.address.empty()) body["address"] = o.address;
  if (!o.name.empty()) body["name"] = o.name;
  std::string holder = (*rec)["holder_id"].get<std::string>();
  auto r = api->post("/admin/v1/holders/" + holder + "/records", body);
  if (!r) return report(r.error(), g);
  if (g.json)
    print_json({{"holder_id", holder}, {"status", "changed"}});
  else
    std::cout << say(
        g, "記載事項を変更しました。署名用電子証明書（カード・スマホ）は失効しました。\n",
        "Records changed; the holder's signature certificates (card and phone) are revoked.\n");
  return kExitOk;
}

int change_status(const GlobalOptions& g, const CounterOptions& o, const std::string& action) {
  auto api = admin_client(g, o);
  if (!api) return report(api.error(), g);
  std::vector<std::string> serials;
  if (!o.serial.empty()) {
    serials.push_back(o.serial);
  } else {
    auto rec = card_record(*api, o.card);
    if (!rec) return report(rec.error(), g);
    auto list =
        api->get("/admin/v1/holders/" + (*rec)["holder_id"].get<std::string>() + "/certificates");
    if (!list) return report(list.error(), g);
    std::string card_id = (*rec)["card_id"].get<std::string>();
    for (const auto& c : (*list)["certificates"]) {
      bool phone = !c["device_id"].get<std::string>().empty();
      bool ours = o.phone ? phone : c["card_id"] == card_id;
      bool applies = action == "resume" ? c["status"] == "suspended"
                                        : (c["status"] == "active" ||
                                           (action == "revoke" && c["status"] == "suspended"));
      if (ours && applies) serials.push_back(c["serial"].get<std::string>());
    }
    if (serials.empty())
      return report(Error{Errc::not_found, std::string(say(g, "対象の電子証明書がありません",
                                                           "no certificate to ")) +
                                               (japanese(g) ? "" : action)},
                    g);
  }
  nlohmann::json done = nlohmann::json::array();
  for (const auto& s : serials) {
    nlohmann::json body = nlohmann::json::object();
    if (!o.reason.empty()) body["reason"] = o.reason;
    auto r = api->post("/admin/v1/certificates/" + s + "/" + action, body);
    if (!r) return report(r.error(), g);
    done.push_back(*r);
    if (!g.json)
      std::cout << (*r)["kind"].get<std::string>() << " " << s << ": "
                << (*r)["status"].get<std::string>() << "\n";
  }
  if (g.json) print_json({{"certificates", done}});
  return kExitOk;
}

}  // namespace

void add_counter_commands(CLI::App& app, GlobalOptions& g, int& result) {
  auto* counter =
      app.add_subcommand("counter", "The municipal counter and the 24/7 hotline (admin token)");
  counter->require_subcommand(1);
  auto o = std::make_shared<CounterOptions>();
  counter->add_option("--token-file", o->token_file, "Admin token file (or SMACERT_ADMIN_TOKEN)")
      ->capture_default_str();

  auto* issue =
      add_command(*counter, "issue-card", "Register a holder and issue a virtual My Number Card",
                  result, [&g, o] { return issue_card(g, *o); });
  issue->add_option("--name", o->name, "Family and given name, separated by a full-width space")
      ->required();
  issue->add_option("--address", o->address, "Address from the prefecture, e.g. 東京都千代田区…")
      ->required();
  issue->add_option("--birth", o->birth, "Date of birth, YYYY-MM-DD")->required();
  issue->add_option("--sex", o->sex, "1 male, 2 female, 9 not known")
      ->required()
      ->check(CLI::IsMember({1, 2, 9}));
  issue->add_option("--sign-password", o->sign_password, "Card signature password: 6-16 of A-Z 0-9")
      ->required();
  issue->add_option("--auth-pin", o->auth_pin, "Card authentication PIN: 4 digits")->required();
  issue->add_option("--out", o->out, "The card file to create")->required();

  auto* change =
      add_command(*counter, "change-address", "Records change: new address (and/or name)", result,
                  [&g, o] { return change_records(g, *o); });
  change->add_option("--card", o->card, "The holder's card file")
      ->required()
      ->check(CLI::ExistingFile);
  change->add_option("--address", o->address, "The new address");
  change->add_option("--name", o->name, "The new name");

  for (const char* action : {"suspend", "resume", "revoke"}) {
    std::string a = action;
    auto* sub =
        add_command(*counter, a,
                    a == "suspend"  ? "Suspend certificates (lost or stolen; certificateHold)"
                    : a == "resume" ? "Resume suspended certificates"
                                    : "Revoke certificates",
                    result, [&g, o, a] { return change_status(g, *o, a); });
    auto* serial = sub->add_option("--serial", o->serial, "One certificate, by serial (hex)");
    auto* card = sub->add_option("--card", o->card, "The certificates of this card")
                     ->check(CLI::ExistingFile);
    serial->excludes(card);
    sub->add_flag("--phone", o->phone, "With --card: the holder's phone certificates instead")
        ->needs(card);
    if (a == "revoke")
      sub->add_option("--reason", o->reason, "RFC 5280 reason, e.g. keyCompromise");
    sub->callback([sub, serial, card, &g, o, a, &result] {
      if (serial->count() == 0 && card->count() == 0) {
        result = report(Error{Errc::invalid_argument, "give --serial or --card"}, g);
        return;
      }
      result = change_status(g, *o, a);
    });
  }
}

}  // namespace smacert::cli
