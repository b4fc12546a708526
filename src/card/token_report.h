// What `smacert card info` shows, read the way a reader reads a card: labels,
// certificates, tries left, and — only after the signature password — the
// signature certificate and the four basic facts it carries.
#pragma once

#include <array>
#include <map>
#include <optional>

#include "card/jpki_client.h"
#include "core/clock.h"

namespace smacert::card {

struct CertificateSummary {
  std::string subject;  // RFC 2253, UTF-8
  std::string issuer;
  std::string serial;  // lower-case hex
  TimePoint not_before;
  TimePoint not_after;
};

struct PinStatus {
  unsigned tries_left = 0;
  unsigned max_tries = 0;
  bool blocked() const { return tries_left == 0; }
};

// The four basic facts as the signature certificate's subjectAltName carries
// them (spec/jpki-card.md §5, arc 1.2.392.200149.8.5.5).
struct CertificateFacts {
  std::string name;
  std::string birth;  // EYYYYMMDD
  std::string sex;    // 1 male, 2 female, 3 unknown
  std::string address;
};

struct TokenReport {
  std::string label;
  // "auth", "auth_ca", "sign", "sign_ca"; absent when unreadable or empty.
  std::map<std::string, CertificateSummary> certificates;
  std::array<std::optional<PinStatus>, 2> pins;  // by PinRef; absent when not set
  std::optional<CertificateFacts> facts;         // only with the signature password
};

Result<CertificateSummary> summarize_certificate(ByteView der);
Result<CertificateFacts> facts_of_certificate(ByteView der);

// Reads the report; with `sign_password` it VERIFYs it first through the
// card, which costs a try when wrong (the error says how many are left).
Result<TokenReport> read_token_report(JpkiClient& client,
                                      const std::optional<std::string>& sign_password);

}  // namespace smacert::card
