#include "card/token_report.h"

#include <openssl/x509v3.h>

#include "pki/authority.h"

namespace smacert::card {
namespace {

std::string name_text(const X509_NAME* name) {
  pki::BioPtr bio(BIO_new(BIO_s_mem()));
  // RFC 2253 order and escaping, but UTF-8 kept as is for Japanese names.
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

constexpr std::string_view kFactsArc = "1.2.392.200149.8.5.5.";

}  // namespace

Result<CertificateSummary> summarize_certificate(ByteView der) {
  auto cert = pki::parse_certificate(der);
  if (!cert) return fail(cert.error());
  return CertificateSummary{name_text(X509_get_subject_name(cert->get())),
                            name_text(X509_get_issuer_name(cert->get())),
                            pki::serial_hex(X509_get0_serialNumber(cert->get())),
                            pki::not_before(cert->get()), pki::not_after(cert->get())};
}

Result<CertificateFacts> facts_of_certificate(ByteView der) {
  auto cert = pki::parse_certificate(der);
  if (!cert) return fail(cert.error());
  pki::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return fail(Errc::not_found, "the certificate carries no basic facts");
  CertificateFacts f;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_OTHERNAME) continue;
    char oid[80];
    OBJ_obj2txt(oid, sizeof oid, gn->d.otherName->type_id, 1);
    std::string_view id(oid);
    const ASN1_TYPE* v = gn->d.otherName->value;
    if (id.substr(0, kFactsArc.size()) != kFactsArc || v == nullptr || v->type != V_ASN1_UTF8STRING)
      continue;
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v->value.utf8string)),
                     static_cast<std::size_t>(ASN1_STRING_length(v->value.utf8string)));
    std::string_view leaf = id.substr(kFactsArc.size());
    if (leaf == "1")
      f.name = text;
    else if (leaf == "3")
      f.sex = text;
    else if (leaf == "4")
      f.birth = text;
    else if (leaf == "5")
      f.address = text;
  }
  if (f.name.empty()) return fail(Errc::not_found, "the certificate carries no basic facts");
  return f;
}

Result<TokenReport> read_token_report(JpkiClient& client,
                                      const std::optional<std::string>& sign_password) {
  TokenReport report;
  auto label = client.token_label();
  if (!label) return fail(label.error());
  report.label = std::move(*label);
  // Step 1: the password first, so the tries shown are those after it.
  if (sign_password) SMACERT_TRY_STATUS(client.verify(PinRef::Sign, *sign_password));
  // Step 2: tries left; a PIN not set yet (a fresh phone element) has none.
  for (PinRef p : kPinRefs) {
    auto t = client.tries_left(p);
    if (t)
      report.pins[static_cast<std::size_t>(p)] = PinStatus{*t, max_tries(p)};
    else if (t.error().code != Errc::locked)
      return fail(t.error());
  }
  // Step 3: the certificates this session may read.
  const std::pair<const char*, std::uint16_t> files[] = {{"auth", kAuthCertFile},
                                                         {"auth_ca", kAuthCaFile},
                                                         {"sign", kSignCertFile},
                                                         {"sign_ca", kSignCaFile}};
  for (const auto& [name, ef] : files) {
    if (ef == kSignCertFile && !sign_password) continue;
    auto der = client.read_certificate(ef);
    if (!der) {
      // Not issued yet, or (on a phone) behind the auth PIN: leave it out.
      if (der.error().code == Errc::not_found || der.error().code == Errc::unauthorized) continue;
      return fail(der.error());
    }
    auto s = summarize_certificate(*der);
    if (!s) return fail(s.error());
    report.certificates[name] = std::move(*s);
    if (ef == kSignCertFile) {
      auto f = facts_of_certificate(*der);
      if (f) report.facts = std::move(*f);
    }
  }
  return report;
}

}  // namespace smacert::card
