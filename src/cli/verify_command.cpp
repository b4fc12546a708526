// smacert verify signature|cert — what a relying party checks: the chain to
// smacert's roots, revocation by OCSP (or CRL), and the four basic facts.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "core/encoding.h"
#include "core/files.h"
#include "pki/cms.h"
#include "rp/facts_json.h"
#include "rp/verifier.h"

namespace smacert::cli {
namespace {

struct VerifyOptions {
  std::string in, sig, cert;
  std::string ca_dir;
  bool crl = false;
};

nlohmann::json certificate_json(const rp::CertificateReport& r) {
  nlohmann::json j{{"subject", r.subject},
                   {"serial", r.serial},
                   {"issuer", std::string(pki::ca_kind_name(r.issuer))},
                   {"not_before", to_rfc3339(r.not_before)},
                   {"not_after", to_rfc3339(r.not_after)},
                   {"chain", "ok"},
                   {"status", std::string(rp::status_name(r.status))},
                   {"status_method", r.status_method}};
  if (auto* rev = std::get_if<pki::Revoked>(&r.status)) {
    j["reason"] = std::string(pki::reason_name(rev->reason));
    j["revoked_at"] = to_rfc3339(rev->at);
  }
  if (r.kind) j["kind"] = std::string(pki::certificate_kind_name(*r.kind));
  if (r.profile) j["profile"] = std::string(rp::profile_name(*r.profile));
  return j;
}

std::string_view sex_text(const GlobalOptions& g, int code) {
  if (code == 1) return say(g, "男", "male");
  if (code == 2) return say(g, "女", "female");
  return say(g, "不明", "unknown");
}

std::string status_text(const GlobalOptions& g, const rp::CertificateReport& r) {
  std::string method = r.status_method == "crl" ? "CRL" : "OCSP";
  if (r.good()) return std::string(say(g, "有効", "good")) + " (" + method + ")";
  if (auto* rev = std::get_if<pki::Revoked>(&r.status)) {
    if (rev->reason == pki::RevocationReason::certificate_hold)
      return std::string(say(g, "一時停止", "suspended")) + " (" + method + ", " +
             to_rfc3339(rev->at) + ")";
    return std::string(say(g, "失効", "revoked")) + " (" + method + ", " +
           std::string(pki::reason_name(rev->reason)) + ", " + to_rfc3339(rev->at) + ")";
  }
  return std::string(say(g, "不明", "unknown")) + " (" + method + ")";
}

void print_certificate(const GlobalOptions& g, const rp::CertificateReport& r) {
  bool sign = r.issuer == pki::CaKind::sign;
  std::string kind =
      std::string(sign ? say(g, "署名用電子証明書", "signature certificate")
                       : say(g, "利用者証明用電子証明書", "user-authentication certificate"));
  if (r.profile)
    kind = std::string(r.profile == rp::Profile::phone ? say(g, "スマホ用", "phone ")
                                                       : say(g, "カード", "card ")) +
           kind;
  std::cout << "  " << say(g, "種類", "Kind") << ": " << kind << "\n"
            << "  " << say(g, "主体者", "Subject") << ": " << r.subject << "\n"
            << "  " << say(g, "シリアル番号", "Serial") << ": " << r.serial << "\n"
            << "  " << say(g, "有効期間", "Valid") << ": " << to_rfc3339(r.not_before) << " – "
            << to_rfc3339(r.not_after) << "\n"
            << "  " << say(g, "証明書チェーン", "Chain") << ": "
            << say(g, "OK (smacert の", "ok (to smacert's ")
            << (sign ? say(g, "署名用ルート)", "signature root)")
                     : say(g, "利用者証明用ルート)", "user-authentication root)"))
            << "\n"
            << "  " << say(g, "失効状態", "Status") << ": " << status_text(g, r) << "\n";
  if (r.facts) {
    const auto& f = *r.facts;
    std::string era =
        std::string(japanese(g) ? pki::era_name_ja(f.birth_era) : pki::era_name(f.birth_era));
    std::cout << "  " << say(g, "氏名", "Name") << ": " << f.name << "\n"
              << "  " << say(g, "住所", "Address") << ": " << f.address << "\n"
              << "  " << say(g, "生年月日", "Date of birth") << ": " << f.birth_date << " (" << era
              << ")\n"
              << "  " << say(g, "性別", "Sex") << ": " << sex_text(g, f.sex) << "\n";
  }
}

// Trust anchors from --ca-dir, else fetched from the server; the status source.
struct Tools {
  std::unique_ptr<rp::StatusSource> status;
  SystemClock clock;
  std::unique_ptr<rp::Verifier> verifier;
};

Result<std::unique_ptr<Tools>> tools(const GlobalOptions& g, const VerifyOptions& o) {
  auto anchors = o.ca_dir.empty() ? rp::TrustAnchors::fetch(g.server)
                                  : rp::TrustAnchors::from_data_dir(o.ca_dir);
  if (!anchors) return fail(anchors.error());
  auto t = std::make_unique<Tools>();
  if (o.crl)
    t->status = std::make_unique<rp::CrlOverHttp>();
  else
    t->status = std::make_unique<rp::OcspOverHttp>();
  t->verifier = std::make_unique<rp::Verifier>(std::move(*anchors), *t->status, t->clock);
  return t;
}

Result<pki::X509Ptr> load_certificate(const std::string& path) {
  auto bytes = read_file(path, pki::kMaxDerSize * 2);
  if (!bytes) return fail(bytes.error());
  std::string_view text = as_chars(*bytes);
  if (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos)
    return pki::parse_certificate_pem(text);
  return pki::parse_certificate(*bytes);
}

int verify_cert(const GlobalOptions& g, const VerifyOptions& o) {
  auto cert = load_certificate(o.cert);
  if (!cert) return report(cert.error().context(o.cert), g);
  auto t = tools(g, o);
  if (!t) return report(t.error(), g);
  auto r = (*t)->verifier->verify_certificate(cert->get());
  if (!r) return report(r.error(), g);
  std::string why = rp::status_sentence(r->status);
  if (g.json) {
    nlohmann::json doc{{"valid", r->good()}, {"certificate", certificate_json(*r)}};
    if (r->facts) doc["facts"] = rp::facts_json(*r->facts);
    if (!why.empty()) doc["message"] = why;
    print_json(doc);
  } else {
    std::cout << (r->good() ? say(g, "証明書は有効です", "The certificate is valid")
                            : say(g, "証明書は有効ではありません", "The certificate is NOT valid"))
              << "\n";
    print_certificate(g, *r);
    if (!why.empty()) std::cerr << "smacert: " << why << "\n";
  }
  return r->good() ? kExitOk : kExitFailure;
}

int verify_signature(const GlobalOptions& g, const VerifyOptions& o) {
  auto data = read_file(o.in, 256u << 20);
  if (!data) return report(data.error().context(o.in), g);
  auto sig = read_file(o.sig, pki::kMaxCmsSize);
  if (!sig) return report(sig.error().context(o.sig), g);
  auto t = tools(g, o);
  if (!t) return report(t.error(), g);
  auto v = (*t)->verifier->verify_signature(*data, *sig);
  if (!v) return report(v.error(), g);
  if (g.json) {
    nlohmann::json doc{
        {"valid", true},
        {"signer", certificate_json(v->signer)},
        {"signing_time",
         v->signing_time ? nlohmann::json(to_rfc3339(*v->signing_time)) : nlohmann::json(nullptr)},
        {"facts", rp::facts_json(*v->signer.facts)}};
    print_json(doc);
  } else {
    std::cout << say(g, "署名は有効です", "The signature is valid") << "\n";
    if (v->signing_time)
      std::cout << "  " << say(g, "署名日時", "Signed at") << ": " << to_rfc3339(*v->signing_time)
                << "\n";
    print_certificate(g, v->signer);
  }
  return kExitOk;
}

}  // namespace

void add_verify_commands(CLI::App& app, GlobalOptions& g, int& result) {
  auto* verify = app.add_subcommand(
      "verify", "Verify signatures and certificates as a relying party (chain, OCSP/CRL, facts)");
  verify->require_subcommand(1);
  verify->fallthrough();
  // The options live as long as the callbacks that hold them, i.e. the App.
  auto o = std::make_shared<VerifyOptions>();
  auto* sig = add_command(*verify, "signature",
                          "Verify a CMS detached signature and show the signer's basic facts",
                          result, [&g, o] { return verify_signature(g, *o); });
  sig->add_option("--in", o->in, "The signed document")->required()->check(CLI::ExistingFile);
  sig->add_option("--sig", o->sig, "The CMS detached signature (DER, .p7s)")
      ->required()
      ->check(CLI::ExistingFile);
  auto* cert = add_command(*verify, "cert", "Verify a certificate's chain and revocation status",
                           result, [&g, o] { return verify_cert(g, *o); });
  cert->add_option("--cert", o->cert, "The certificate (PEM or DER)")
      ->required()
      ->check(CLI::ExistingFile);
  for (auto* sub : {sig, cert}) {
    // Global options (--json, --lang) may also follow the subcommand.
    sub->fallthrough();
    sub->add_option("--server", g.server, "Service to fetch the roots from (without --ca-dir)");
    sub->add_option("--ca-dir", o->ca_dir,
                    "Data folder whose ca/sign/ca.pem and ca/auth/ca.pem are the roots")
        ->check(CLI::ExistingDirectory);
    sub->add_flag("--crl", o->crl,
                  "Check revocation with the CRL instead of OCSP (URLs from the certificate)");
  }
}

}  // namespace smacert::cli
