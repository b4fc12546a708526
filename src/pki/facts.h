// Reading back the four basic facts (基本4情報) a signature certificate
// carries, as a relying party does (spec/jpki-card.md §5): the inverse of what
// the CA writes into subjectAltName.
#pragma once

#include <string_view>

#include "pki/openssl.h"
#include "pki/profile.h"

namespace smacert::pki {

// JPKI's era digit before the birth date ("EYYYYMMDD").
enum class Era : int { unknown = 0, meiji = 1, taisho = 2, showa = 3, heisei = 4, reiwa = 5 };
std::string_view era_name(Era e);     // "Meiji", …, "unknown"
std::string_view era_name_ja(Era e);  // 明治, …, 不明

// The facts as the certificate states them: HolderFacts with the birth date
// converted back to YYYY-MM-DD (Gregorian) and sex as JPKI's code (1, 2, 3),
// plus the era the certificate names (it is stated, not derived, so a relying
// party sees exactly what was certified).
struct CertifiedFacts : HolderFacts {
  Era birth_era = Era::unknown;
};

// The otherName entries on arc 1.2.392.200149.8.5.5 of subjectAltName.
// Errc::not_found when the certificate carries none (an authentication
// certificate); Errc::malformed when an entry is there but unreadable.
Result<CertifiedFacts> facts_of_certificate(const X509* cert);

// "EYYYYMMDD" → {YYYY-MM-DD, era}; Errc::malformed otherwise.
struct JpkiBirth {
  std::string date;  // YYYY-MM-DD
  Era era = Era::unknown;
};
Result<JpkiBirth> parse_jpki_birth_date(std::string_view text);

}  // namespace smacert::pki
