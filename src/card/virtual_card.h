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

// Step by step, through the applet's own APDUs: generate both key pairs, set
// both PINs, let the card sign each CSR (CardSigner), issue both certificates
// valid until card_certificate_expiry, write them and their CA certificates,
// activate. Returns the finished image; the caller saves it.
Result<CardImage> issue_virtual_card(const CardIssueRequest& request,
                                     const pki::Authorities& authorities, const Clock& clock,
                                     Random& random);

}  // namespace smacert::card
