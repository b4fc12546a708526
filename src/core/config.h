// smacert's configuration: one TOML file (`smacert serve --config`), every key
// documented in docs/configuration.md. Parsing is strict: an unknown key or a
// value of the wrong type is an error that names the key, so a typo never
// silently falls back to a default.
#pragma once

#include <filesystem>
#include <string>

#include "core/clock.h"
#include "core/error.h"

namespace smacert {

struct Config {
  struct Pki {
    std::string algorithm = "rsa2048";  // of CA and OCSP signer keys: rsa2048 | p256
    // Empty: `smacert serve` uses the address it listens on.
    std::string public_url;
    bool policies_critical = true;
    Seconds ocsp_validity{24 * 3600};
    Seconds crl_validity{24 * 3600};
    std::string policy_card_sign, policy_card_auth, policy_phone_sign,
        policy_phone_auth;  // empty = default
  } pki;
  struct Server {
    std::string listen = "127.0.0.1:8700";
    int threads = 0;                  // 0: per core, four (service) or one (--role ocsp)
    std::string log_format = "text";  // text | json
    std::string log_level = "info";   // trace | debug | info | warn | error | off
    bool access_log = true;           // one line per request
    // HTTPS when both are set: PEM certificate chain and PEM key. Relative
    // paths are relative to the configuration file's folder.
    std::string tls_certificate;
    std::string tls_key;
  } server;
  struct Store {
    // sqlite:PATH, or postgresql://… for a store several nodes share; empty:
    // DATA/store.db. `smacert serve --store` overrides it.
    std::string url;
  } store;
  struct Issuance {
    std::string window = "always";  // or "HH:MM-HH:MM", Japan time
  } issuance;
  struct Registration {
    Seconds activation_delay{0};  // the seed's "wait about 15 minutes": 900
  } registration;
  Seconds challenge_ttl{300};  // [challenges] ttl
  Seconds session_ttl{900};    // [sessions] ttl
};

Result<Config> parse_config(std::string_view toml_text);
Result<Config> load_config(const std::filesystem::path& path);

}  // namespace smacert
