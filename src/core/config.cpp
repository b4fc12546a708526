#include "core/config.h"

#include <toml++/toml.h>

#include <set>

#include "core/files.h"

namespace smacert {
namespace {

Error bad(std::string_view key, std::string_view what) {
  return Error{Errc::invalid_argument,
               "configuration key " + std::string(key) + " " + std::string(what)};
}

Status only_known(const toml::table& t, std::string_view prefix,
                  const std::set<std::string>& known) {
  for (auto& [k, v] : t) {
    if (!known.count(std::string(k.str())))
      return fail(bad(std::string(prefix) + std::string(k.str()), "is not a known key"));
  }
  return {};
}

Status get_string(const toml::table& t, std::string_view prefix, const char* key,
                  std::string& out) {
  if (auto* node = t.get(key)) {
    auto v = node->value<std::string>();
    if (!v) return fail(bad(std::string(prefix) + key, "must be a string"));
    out = *v;
  }
  return {};
}

Status get_bool(const toml::table& t, std::string_view prefix, const char* key, bool& out) {
  if (auto* node = t.get(key)) {
    auto v = node->value<bool>();
    if (!v || !node->is_boolean())
      return fail(bad(std::string(prefix) + key, "must be true or false"));
    out = *v;
  }
  return {};
}

Status get_seconds(const toml::table& t, std::string_view prefix, const char* key, Seconds min,
                   Seconds max, Seconds& out) {
  if (auto* node = t.get(key)) {
    auto v = node->value<std::int64_t>();
    if (!v || !node->is_integer())
      return fail(bad(std::string(prefix) + key, "must be a whole number of seconds"));
    if (*v < min.count() || *v > max.count())
      return fail(bad(std::string(prefix) + key, "must be between " + std::to_string(min.count()) +
                                                     " and " + std::to_string(max.count())));
    out = Seconds(*v);
  }
  return {};
}

}  // namespace

Result<Config> parse_config(std::string_view text) {
  if (text.size() > (1 << 20)) return fail(Errc::too_large, "the configuration file is over 1 MiB");
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    auto where = e.source().begin;
    return fail(Errc::invalid_argument, "the configuration is not valid TOML at line " +
                                            std::to_string(where.line) + ": " +
                                            std::string(e.description()));
  }
  Config c;
  SMACERT_TRY_STATUS(only_known(
      root, "", {"pki", "server", "issuance", "registration", "challenges", "sessions", "store"}));
  auto table = [&](const char* name) -> Result<const toml::table*> {
    if (!root.contains(name)) return static_cast<const toml::table*>(nullptr);
    auto* t = root.get_as<toml::table>(name);
    if (t == nullptr) return fail(bad(name, "must be a table"));
    return t;
  };
  auto server = table("server");
  if (!server) return fail(server.error());
  if (*server) {
    const std::string p = "server.";
    SMACERT_TRY_STATUS(only_known(**server, p,
                                  {"listen", "threads", "log_format", "log_level", "access_log",
                                   "tls_certificate", "tls_key"}));
    SMACERT_TRY_STATUS(get_string(**server, p, "listen", c.server.listen));
    Seconds threads{c.server.threads};
    SMACERT_TRY_STATUS(get_seconds(**server, p, "threads", Seconds(0), Seconds(256), threads));
    c.server.threads = static_cast<int>(threads.count());
    SMACERT_TRY_STATUS(get_string(**server, p, "log_format", c.server.log_format));
    if (c.server.log_format != "text" && c.server.log_format != "json")
      return fail(bad("server.log_format", "must be text or json"));
    SMACERT_TRY_STATUS(get_string(**server, p, "log_level", c.server.log_level));
    SMACERT_TRY_STATUS(get_bool(**server, p, "access_log", c.server.access_log));
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
    if (!kLevels.count(c.server.log_level))
      return fail(bad("server.log_level", "must be trace, debug, info, warn, error or off"));
    SMACERT_TRY_STATUS(get_string(**server, p, "tls_certificate", c.server.tls_certificate));
    SMACERT_TRY_STATUS(get_string(**server, p, "tls_key", c.server.tls_key));
    if (c.server.tls_certificate.empty() != c.server.tls_key.empty())
      return fail(bad(c.server.tls_key.empty() ? "server.tls_key" : "server.tls_certificate",
                      "must be set together with server.tls_certificate and server.tls_key"));
  }
  auto store = table("store");
  if (!store) return fail(store.error());
  if (*store) {
    SMACERT_TRY_STATUS(only_known(**store, "store.", {"url"}));
    SMACERT_TRY_STATUS(get_string(**store, "store.", "url", c.store.url));
  }
  auto issuance = table("issuance");
  if (!issuance) return fail(issuance.error());
  if (*issuance) {
    SMACERT_TRY_STATUS(only_known(**issuance, "issuance.", {"window"}));
    SMACERT_TRY_STATUS(get_string(**issuance, "issuance.", "window", c.issuance.window));
  }
  auto registration = table("registration");
  if (!registration) return fail(registration.error());
  if (*registration) {
    SMACERT_TRY_STATUS(only_known(**registration, "registration.", {"activation_delay"}));
    SMACERT_TRY_STATUS(get_seconds(**registration, "registration.", "activation_delay", Seconds(0),
                                   Seconds(86400), c.registration.activation_delay));
  }
  for (auto [name, slot, max] : {std::tuple{"challenges", &c.challenge_ttl, Seconds(3600)},
                                 std::tuple{"sessions", &c.session_ttl, Seconds(86400)}}) {
    auto t = table(name);
    if (!t) return fail(t.error());
    if (!*t) continue;
    std::string p = std::string(name) + ".";
    SMACERT_TRY_STATUS(only_known(**t, p, {"ttl"}));
    SMACERT_TRY_STATUS(get_seconds(**t, p, "ttl", Seconds(10), max, *slot));
  }
  if (auto* pki = root.get_as<toml::table>("pki")) {
    const std::string p = "pki.";
    SMACERT_TRY_STATUS(only_known(*pki, p,
                                  {"algorithm", "public_url", "policies_critical", "ocsp_validity",
                                   "crl_validity", "policies"}));
    SMACERT_TRY_STATUS(get_string(*pki, p, "algorithm", c.pki.algorithm));
    if (c.pki.algorithm != "rsa2048" && c.pki.algorithm != "p256")
      return fail(bad("pki.algorithm", "must be rsa2048 or p256"));
    SMACERT_TRY_STATUS(get_string(*pki, p, "public_url", c.pki.public_url));
    auto& url = c.pki.public_url;
    bool scheme_ok = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
    if (pki->contains("public_url") &&
        (!scheme_ok || url.find_first_of(", \t\r\n\"") != std::string::npos))
      return fail(
          bad("pki.public_url", "must be an http:// or https:// URL without spaces or commas"));
    while (!url.empty() && url.back() == '/') url.pop_back();
    SMACERT_TRY_STATUS(get_bool(*pki, p, "policies_critical", c.pki.policies_critical));
    SMACERT_TRY_STATUS(get_seconds(*pki, p, "ocsp_validity", Seconds(60), Seconds(7 * 86400),
                                   c.pki.ocsp_validity));
    SMACERT_TRY_STATUS(
        get_seconds(*pki, p, "crl_validity", Seconds(60), Seconds(30 * 86400), c.pki.crl_validity));
    if (auto* pol = pki->get_as<toml::table>("policies")) {
      const std::string pp = "pki.policies.";
      SMACERT_TRY_STATUS(
          only_known(*pol, pp, {"card_sign", "card_auth", "phone_sign", "phone_auth"}));
      SMACERT_TRY_STATUS(get_string(*pol, pp, "card_sign", c.pki.policy_card_sign));
      SMACERT_TRY_STATUS(get_string(*pol, pp, "card_auth", c.pki.policy_card_auth));
      SMACERT_TRY_STATUS(get_string(*pol, pp, "phone_sign", c.pki.policy_phone_sign));
      SMACERT_TRY_STATUS(get_string(*pol, pp, "phone_auth", c.pki.policy_phone_auth));
    } else if (pki->contains("policies")) {
      return fail(bad("pki.policies", "must be a table"));
    }
  } else if (root.contains("pki")) {
    return fail(bad("pki", "must be a table"));
  }
  return c;
}

Result<Config> load_config(const std::filesystem::path& path) {
  auto text = read_file(path, 1 << 20);
  if (!text) return fail(text.error());
  auto c = parse_config(as_chars(*text));
  if (!c) return fail(c.error().context(path.string()));
  // File names in the configuration are relative to the file itself.
  for (auto* file : {&c->server.tls_certificate, &c->server.tls_key}) {
    if (!file->empty() && std::filesystem::path(*file).is_relative())
      *file = (path.parent_path() / *file).string();
  }
  return c;
}

}  // namespace smacert
