#include "card/token_report.h"

#include <openssl/x509v3.h>

#include "pki/authority.h"
#include "pki/facts.h"

namespace smacert::card {

Result<CertificateSummary> summarize_certificate(ByteView der) {
  auto cert = pki::parse_certificate(der);
  if (!cert) return fail(cert.error());
  return CertificateSummary{pki::name_text(X509_get_subject_name(cert->get())),
                            pki::name_text(X509_get_issuer_name(cert->get())),
                            pki::serial_hex(X509_get0_serialNumber(cert->get())),
                            pki::not_before(cert->get()), pki::not_after(cert->get())};
}

Result<CertificateFacts> facts_of_certificate(ByteView der) {
  auto cert = pki::parse_certificate(der);
  if (!cert) return fail(cert.error());
  auto f = pki::facts_of_certificate(cert->get());
  if (!f) return fail(f.error());
  // The report shows the facts as the card states them: EYYYYMMDD and the JPKI sex code.
  std::string birth(1, static_cast<char>('0' + static_cast<int>(f->birth_era)));
  for (char c : f->birth_date)
    if (c != '-') birth += c;
  return CertificateFacts{f->name, birth, std::to_string(f->sex), f->address};
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
