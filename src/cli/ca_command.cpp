// smacert ca init|show — the two certificate authorities in a data folder.
#include <openssl/evp.h>

#include <iostream>

#include "cli/command.h"
#include "core/encoding.h"
#include "pki/authority.h"

namespace smacert::cli {
namespace {

std::string fingerprint(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  return hex_encode(ByteView(md, len), true);
}

std::string subject(const X509* cert) {
  pki::BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

nlohmann::json describe(const pki::CertificateAuthority& ca) {
  auto cert_json = [](const X509* c) {
    return nlohmann::json{{"subject", subject(c)},
                          {"serial", pki::serial_hex(X509_get0_serialNumber(c))},
                          {"not_before", to_rfc3339(pki::not_before(c))},
                          {"not_after", to_rfc3339(pki::not_after(c))},
                          {"key", pki::describe_key(X509_get0_pubkey(c))},
                          {"sha256_fingerprint", fingerprint(c)}};
  };
  return {{"kind", std::string(pki::ca_kind_name(ca.kind()))},
          {"root", cert_json(ca.certificate())},
          {"ocsp_signer", cert_json(ca.ocsp_certificate())},
          {"ocsp_url", ca.config().ocsp_url(ca.kind())},
          {"crl_url", ca.config().crl_url(ca.kind())}};
}

void print_human(const GlobalOptions& g, const nlohmann::json& doc) {
  for (const auto& ca : doc["authorities"]) {
    bool sign = ca["kind"] == "sign";
    std::cout << (sign ? say(g, "署名用認証局", "Signature CA")
                       : say(g, "利用者証明用認証局", "User-authentication CA"))
              << "\n";
    for (const char* part : {"root", "ocsp_signer"}) {
      const auto& c = ca[part];
      std::cout << "  "
                << (std::string_view(part) == "root" ? say(g, "ルート証明書", "root")
                                                     : say(g, "OCSP署名者", "OCSP signer"))
                << ": " << c["subject"].get<std::string>() << "\n"
                << "    " << say(g, "鍵", "key") << " " << c["key"].get<std::string>() << ", "
                << say(g, "有効期間", "valid") << " " << c["not_before"].get<std::string>() << " – "
                << c["not_after"].get<std::string>() << "\n"
                << "    SHA-256 " << c["sha256_fingerprint"].get<std::string>() << "\n";
    }
    std::cout << "  OCSP: " << ca["ocsp_url"].get<std::string>() << "\n"
              << "  CRL:  " << ca["crl_url"].get<std::string>() << "\n";
  }
  std::cout << say(g, "鍵の置き場所", "Keys (mode 0600) in") << ": "
            << doc["folder"].get<std::string>() << "\n";
}

struct CaOptions {
  std::string data = "./smacert-data";
  std::string config;
};

int run_ca(const GlobalOptions& g, const CaOptions& o, bool create) {
  Config config;
  if (!o.config.empty()) {
    auto c = load_config(o.config);
    if (!c) return report(c.error(), g);
    config = *c;
  }
  auto pki_cfg = pki::pki_config(config.pki);
  if (!pki_cfg) return report(pki_cfg.error(), g);
  std::filesystem::path dir(o.data);
  if (!create && !std::filesystem::exists(dir / "ca" / "sign" / "ca.pem"))
    return report(
        Error{Errc::not_found,
              std::string(say(g, "認証局がありません。先に smacert ca init を実行してください: ",
                              "no certificate authorities there; run smacert ca init first: ")) +
                  o.data},
        g);
  SystemClock clock;
  OsRandom random;
  auto authorities = pki::Authorities::open_or_create(dir, *pki_cfg, clock, random);
  if (!authorities) return report(authorities.error(), g);
  nlohmann::json doc{{"folder", (dir / "ca").string()},
                     {"authorities", {describe(*authorities->sign), describe(*authorities->auth)}}};
  if (g.json)
    print_json(doc);
  else
    print_human(g, doc);
  return kExitOk;
}

}  // namespace

void add_ca_commands(CLI::App& app, GlobalOptions& g, int& result) {
  auto* ca =
      app.add_subcommand("ca", "Certificate authorities (signature and user authentication)");
  ca->require_subcommand(1);
  // The options live as long as the callbacks that hold them, i.e. the App.
  auto o = std::make_shared<CaOptions>();
  auto* init =
      add_command(*ca, "init", "Create both CAs in the data folder, or load them if present",
                  result, [&g, o] { return run_ca(g, *o, true); });
  auto* show = add_command(*ca, "show", "Show both CAs of the data folder", result,
                           [&g, o] { return run_ca(g, *o, false); });
  for (auto* sub : {init, show}) {
    sub->add_option("--data", o->data, "Data folder")->capture_default_str();
    sub->add_option("--config", o->config, "TOML configuration file")->check(CLI::ExistingFile);
  }
}

}  // namespace smacert::cli
