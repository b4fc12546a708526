// The four end-entity profiles of spec/jpki-card.md §5 and the facts they
// carry. Shapes follow real JPKI certificates so relying parties' parsers work;
// policy OIDs are smacert's own so nobody mistakes one for a real one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "pki/key.h"

namespace smacert::pki {

enum class CaKind { sign, auth };
std::string_view ca_kind_name(CaKind k);  // "sign" | "auth"
Result<CaKind> parse_ca_kind(std::string_view name);

enum class CertificateKind { card_sign, card_auth, phone_sign, phone_auth };
std::string_view certificate_kind_name(CertificateKind k);  // "card_sign", ...
Result<CertificateKind> parse_certificate_kind(std::string_view name);
CaKind ca_of(CertificateKind k);
bool is_phone(CertificateKind k);

struct PolicyOids {
  // Defaults under smacert's UUID arc (spec/jpki-card.md §5).
  std::string card_sign = "2.25.114564764441084150581524837807062458047.1.1";
  std::string card_auth = "2.25.114564764441084150581524837807062458047.1.2";
  std::string phone_sign = "2.25.114564764441084150581524837807062458047.2.1";
  std::string phone_auth = "2.25.114564764441084150581524837807062458047.2.2";
  const std::string& of(CertificateKind k) const;
};

struct PkiConfig {
  KeyAlgorithm algorithm = KeyAlgorithm::rsa2048;  // of the CA and OCSP signer keys
  // Every end-entity certificate names {public_url}/ocsp/{sign|auth} (AIA) and
  // {public_url}/crl/{sign|auth}.crl (CRL distribution point).
  std::string public_url = "http://127.0.0.1:8700";
  PolicyOids policies;
  // JPKI marks certificatePolicies critical, and so does smacert by default.
  // NSS's legacy verifier (certutil -V, cmsutil) rejects any critical policy
  // extension as "unknown critical extension", as it does for real JPKI
  // certificates; a deployment whose relying parties use it sets this false.
  bool policies_critical = true;
  Seconds ocsp_validity{24 * 3600};  // nextUpdate - thisUpdate of pre-signed responses
  Seconds crl_validity{24 * 3600};
  std::string ocsp_url(CaKind k) const;
  std::string crl_url(CaKind k) const;
};

// The [pki] section of the configuration, checked (policy OIDs must be dotted OIDs).
Result<PkiConfig> pki_config(const Config::Pki& section);

// JPKI's four basic facts (基本4情報), as the signature certificate carries them.
struct HolderFacts {
  std::string name;                  // family and given name separated by U+3000
  std::string name_substitution;     // one '0'/'1' per character; empty = all '0'
  std::string birth_date;            // YYYY-MM-DD (Gregorian)
  int sex = 3;                       // JPKI code: 1 male, 2 female, 3 unknown
  std::string address;               // from the prefecture, ≤ 200 characters
  std::string address_substitution;  // as name_substitution
  bool operator==(const HolderFacts&) const = default;
};

// ISO/IEC 5218 (1, 2, 9, as the counter records it) to JPKI's code (1, 2, 3).
int jpki_sex_code(int iso5218);

// "EYYYYMMDD" of §5: the era digit (1 Meiji … 5 Reiwa, 0 unknown) then the date.
Result<std::string> jpki_birth_date(std::string_view yyyy_mm_dd);

// The prefecture and municipality at the start of an address, for the two
// L= attributes of the signature certificate's subject: 東京都千代田区霞が関 →
// {東京都, 千代田区}. Errc::invalid_argument when no prefecture starts it.
struct AddressLocality {
  std::string prefecture;
  std::string municipality;
};
Result<AddressLocality> split_address(std::string_view address);

Status check_facts(const HolderFacts& f);

// UTF-8 text split into characters (code point sequences), and whether it is
// well-formed UTF-8 (lead and continuation octets; overlongs not rejected).
std::vector<std::string_view> utf8_chars(std::string_view s);
bool valid_utf8(std::string_view s);

// Card certificates run until the holder's 5th birthday after `issued`, to the
// CA's end of day 23:59:59 Japan time (§5).
Result<TimePoint> card_certificate_expiry(std::string_view birth_yyyy_mm_dd, TimePoint issued);
// Signature certificates are not issued to people under 15 (§5).
Result<bool> is_at_least_15(std::string_view birth_yyyy_mm_dd, TimePoint at);

}  // namespace smacert::pki
