#include "card/virtual_card.h"

#include "card/jpki_client.h"
#include "card/pin.h"
#include "core/encoding.h"

namespace smacert::card {
namespace {

std::string random_subject_id(Random& random) {
  return hex_encode(random.bytes(16), /*upper=*/true);
}

}  // namespace

Result<CardImage> make_virtual_card(const CardIssueRequest& req, const CardIssuer& issuer,
                                    Random& random) {
  // Step 1: the counter's checks, before the card is made.
  SMACERT_TRY_STATUS(check_pin_format(PinRef::Auth, req.auth_pin));
  SMACERT_TRY_STATUS(check_pin_format(PinRef::Sign, req.sign_password));
  SMACERT_TRY_STATUS(pki::check_facts(req.facts));
  HolderRecord holder{req.auth_subject_id.empty() ? random_subject_id(random) : req.auth_subject_id,
                      req.sign_subject_id.empty() ? random_subject_id(random) : req.sign_subject_id,
                      req.facts};

  // Step 2: a blank card in personalisation; every later step goes through its APDUs.
  CardImage blank;
  blank.token = TokenKind::Card;
  blank.lifecycle = Lifecycle::Personalisation;
  auto applet = Applet::open(std::move(blank), random);
  if (!applet) return fail(applet.error());
  InProcessTransport transport(*applet);
  JpkiClient client(transport);

  // Step 3: the keys are made inside the card; only the public halves come out.
  auto auth_pub = client.generate_key_pair(PinRef::Auth);
  if (!auth_pub) return fail(auth_pub.error());
  auto sign_pub = client.generate_key_pair(PinRef::Sign);
  if (!sign_pub) return fail(sign_pub.error());

  // Step 4: the holder's PIN and password.
  SMACERT_TRY_STATUS(client.set_pin(PinRef::Auth, req.auth_pin));
  SMACERT_TRY_STATUS(client.set_pin(PinRef::Sign, req.sign_password));

  // Step 5: the card signs a request for each key (proof of possession).
  CardRequests requests;
  for (auto [pin, pub, subject, secret, out] :
       {std::tuple{PinRef::Auth, &*auth_pub, &holder.auth_subject_id, &req.auth_pin,
                   &requests.auth_csr},
        std::tuple{PinRef::Sign, &*sign_pub, &holder.sign_subject_id, &req.sign_password,
                   &requests.sign_csr}}) {
    CardSigner signer(transport, pin, *secret, std::move(*pub));
    auto csr = pki::make_csr(signer, *subject);
    if (!csr) return fail(csr.error());
    *out = pki::to_der(csr->get());
  }

  // Step 6: the issuer issues; the card stores what it got.
  auto issued = issuer(requests);
  if (!issued) return fail(issued.error().context("issuing the card's certificates"));
  SMACERT_TRY_STATUS(client.write_file(kAuthCertFile, issued->auth_cert));
  SMACERT_TRY_STATUS(client.write_file(kAuthCaFile, issued->auth_ca));
  SMACERT_TRY_STATUS(client.write_file(kSignCertFile, issued->sign_cert));
  SMACERT_TRY_STATUS(client.write_file(kSignCaFile, issued->sign_ca));

  // Step 7: close personalisation; the card now answers only JPKI's commands.
  SMACERT_TRY_STATUS(client.activate());
  CardImage image = applet->image();
  image.holder = std::move(holder);
  return image;
}

CardIssuer local_card_issuer(const CardIssueRequest& req, const pki::Authorities& authorities,
                             const Clock& clock, Random& random) {
  return [&req, &authorities, &clock,
          &random](const CardRequests& requests) -> Result<CardCertificates> {
    const TimePoint now = clock.now();
    auto adult = pki::is_at_least_15(req.facts.birth_date, now);
    if (!adult) return fail(adult.error());
    if (!*adult)
      return fail(Errc::policy, "signature certificates are not issued to people under 15");
    auto expiry = pki::card_certificate_expiry(req.facts.birth_date, now);
    if (!expiry) return fail(expiry.error());
    CardCertificates out;
    for (auto [kind, der, cert_out, ca_out] :
         {std::tuple{pki::CertificateKind::card_auth, &requests.auth_csr, &out.auth_cert,
                     &out.auth_ca},
          std::tuple{pki::CertificateKind::card_sign, &requests.sign_csr, &out.sign_cert,
                     &out.sign_ca}}) {
      auto csr = pki::CertificateRequest::parse(*der);
      if (!csr) return fail(csr.error());
      std::string serial = pki::random_serial(random);
      if (req.reserve_serial) SMACERT_TRY_STATUS(req.reserve_serial(kind, serial));
      pki::IssueRequest ir{
          kind, &*csr, random_subject_id(random), std::nullopt, serial, now, *expiry, std::nullopt};
      if (kind == pki::CertificateKind::card_sign) ir.facts = req.facts;
      const auto& ca = authorities.of(pki::ca_of(kind));
      auto cert = ca.issue(ir);
      if (!cert) return fail(cert.error());
      *cert_out = std::move(*cert);
      *ca_out = pki::to_der(ca.certificate());
    }
    return out;
  };
}

Result<CardImage> issue_virtual_card(const CardIssueRequest& req,
                                     const pki::Authorities& authorities, const Clock& clock,
                                     Random& random) {
  return make_virtual_card(req, local_card_issuer(req, authorities, clock, random), random);
}

}  // namespace smacert::card
