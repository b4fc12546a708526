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

Result<CardImage> issue_virtual_card(const CardIssueRequest& req,
                                     const pki::Authorities& authorities, const Clock& clock,
                                     Random& random) {
  // Step 1: the counter's checks, before the card is made.
  SMACERT_TRY_STATUS(check_pin_format(PinRef::Auth, req.auth_pin));
  SMACERT_TRY_STATUS(check_pin_format(PinRef::Sign, req.sign_password));
  SMACERT_TRY_STATUS(pki::check_facts(req.facts));
  const TimePoint now = clock.now();
  auto adult = pki::is_at_least_15(req.facts.birth_date, now);
  if (!adult) return fail(adult.error());
  if (!*adult)
    return fail(Errc::policy, "signature certificates are not issued to people under 15");
  auto expiry = pki::card_certificate_expiry(req.facts.birth_date, now);
  if (!expiry) return fail(expiry.error());
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

  // Step 5: per certificate, the card signs its request, the serial is
  // reserved, the CA issues, the card stores the certificate.
  struct Kind {
    PinRef pin;
    pki::CertificateKind kind;
    pki::PkeyPtr* pub;
    const std::string* subject_id;
    const std::string* secret;
  };
  for (const Kind& k : {Kind{PinRef::Auth, pki::CertificateKind::card_auth, &*auth_pub,
                             &holder.auth_subject_id, &req.auth_pin},
                        Kind{PinRef::Sign, pki::CertificateKind::card_sign, &*sign_pub,
                             &holder.sign_subject_id, &req.sign_password}}) {
    CardSigner signer(transport, k.pin, *k.secret, std::move(*k.pub));
    auto csr = pki::make_csr(signer, *k.subject_id);
    if (!csr) return fail(csr.error());
    std::string serial = pki::random_serial(random);
    if (req.reserve_serial) SMACERT_TRY_STATUS(req.reserve_serial(k.kind, serial));
    pki::IssueRequest ir{k.kind, csr->get(), *k.subject_id, std::nullopt,
                         serial, now,        *expiry,       std::nullopt};
    if (k.pin == PinRef::Sign) ir.facts = req.facts;
    const auto& ca = authorities.of(pki::ca_of(k.kind));
    auto cert = ca.issue(ir);
    if (!cert) return fail(cert.error().context("issuing the card's certificate"));
    SMACERT_TRY_STATUS(client.write_file(certificate_file(k.pin), pki::to_der(cert->get())));
    SMACERT_TRY_STATUS(client.write_file(k.pin == PinRef::Auth ? kAuthCaFile : kSignCaFile,
                                         pki::to_der(ca.certificate())));
  }

  // Step 6: close personalisation; the card now answers only JPKI's commands.
  SMACERT_TRY_STATUS(client.activate());
  CardImage image = applet->image();
  image.holder = std::move(holder);
  return image;
}

}  // namespace smacert::card
