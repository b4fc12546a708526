// Issuing a virtual My Number Card for a holder: the municipal counter's job.
// The card makes its keys inside and signs its own certificate requests; the
// CAs issue through the card profiles (spec/jpki-card.md §5).
#pragma once

#include <functional>

#include "card/card_image.h"
#include "core/clock.h"
#include "core/random.h"
#include "pki/authority.h"

namespace smacert::card {

struct CardIssueRequest {
  pki::HolderFacts facts;
  std::string auth_subject_id;  // opaque CNs; empty = a random one
  std::string sign_subject_id;
  std::string auth_pin;       // 4 digits
  std::string sign_password;  // 6–16 of A–Z 0–9, a letter and a digit
  // Called with each serial before its certificate is signed ("persist before
  // sign", style.md §2); an error stops the issuance. May be empty.
  std::function<Status(pki::CertificateKind, const std::string& serial)> reserve_serial;
};

// What the card hands to whoever issues its certificates: one request per
// key, each signed by the card itself.
struct CardRequests {
  Bytes auth_csr, sign_csr;  // DER PKCS#10
};
// What comes back: both certificates and the CA certificates behind them.
struct CardCertificates {
  Bytes auth_cert, sign_cert, auth_ca, sign_ca;  // DER
};
// The seam where issuance varies: the CAs in this process (tests, tools) or
// the service's counter API (`smacert counter issue-card`).
using CardIssuer = std::function<Result<CardCertificates>(const CardRequests&)>;

// Step by step, through the applet's own APDUs: generate both key pairs, set
// both PINs, let the card sign each CSR (CardSigner), have `issuer` issue
// both certificates, write them and their CA certificates, activate.
// Returns the finished image; the caller saves it.
Result<CardImage> make_virtual_card(const CardIssueRequest& request, const CardIssuer& issuer,
                                    Random& random);

// The issuer for CAs held in this process: certificates valid until
// card_certificate_expiry, with reserve_serial called before each signature.
CardIssuer local_card_issuer(const CardIssueRequest& request, const pki::Authorities& authorities,
                             const Clock& clock, Random& random);

// make_virtual_card with local_card_issuer.
Result<CardImage> issue_virtual_card(const CardIssueRequest& request,
                                     const pki::Authorities& authorities, const Clock& clock,
                                     Random& random);

}  // namespace smacert::card
