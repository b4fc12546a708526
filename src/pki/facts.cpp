#include "pki/facts.h"

#include <array>
#include <optional>

namespace smacert::pki {
namespace {

// JPKI's arc for the four basic facts (spec/jpki-card.md §5).
constexpr std::string_view kFactArc = "1.2.392.200149.8.5.5.";

constexpr std::array<std::string_view, 6> kEraNames = {"unknown", "Meiji",  "Taisho",
                                                       "Showa",   "Heisei", "Reiwa"};
constexpr std::array<std::string_view, 6> kEraNamesJa = {"不明", "明治", "大正",
                                                         "昭和", "平成", "令和"};

}  // namespace

std::string_view era_name(Era e) {
  return kEraNames.at(static_cast<std::size_t>(e));
}

std::string_view era_name_ja(Era e) {
  return kEraNamesJa.at(static_cast<std::size_t>(e));
}

Result<JpkiBirth> parse_jpki_birth_date(std::string_view text) {
  auto bad = [&] {
    return fail(Errc::malformed, "the date of birth in the certificate is not EYYYYMMDD: '" +
                                     std::string(text.substr(0, 16)) + "'");
  };
  if (text.size() != 9 || text[0] < '0' || text[0] > '5') return bad();
  JpkiBirth b;
  b.era = static_cast<Era>(text[0] - '0');
  b.date = std::string(text.substr(1, 4)) + "-" + std::string(text.substr(5, 2)) + "-" +
           std::string(text.substr(7, 2));
  // The same checks the CA made when it wrote the date.
  if (!jpki_birth_date(b.date)) return bad();
  return b;
}

Result<CertifiedFacts> facts_of_certificate(const X509* cert) {
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return fail(Errc::not_found, "the certificate carries no basic facts");
  // Indexed by the last arc: .1 name, .2 name substitution, .3 sex,
  // .4 birth, .5 address, .6 address substitution.
  std::array<std::optional<std::string>, 7> found;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_OTHERNAME) continue;
    char oid[80];
    if (OBJ_obj2txt(oid, sizeof oid, gn->d.otherName->type_id, 1) <= 0) continue;
    std::string_view id(oid);
    if (id.substr(0, kFactArc.size()) != kFactArc) continue;
    std::string_view leaf = id.substr(kFactArc.size());
    if (leaf.size() != 1 || leaf[0] < '1' || leaf[0] > '6') continue;
    auto& slot = found[static_cast<std::size_t>(leaf[0] - '0')];
    if (slot)
      return fail(Errc::malformed,
                  "the certificate states basic fact ." + std::string(leaf) + " twice");
    // otherName value: [0] EXPLICIT UTF8String.
    const ASN1_TYPE* v = gn->d.otherName->value;
    if (v == nullptr || v->type != V_ASN1_UTF8STRING)
      return fail(Errc::malformed,
                  "basic fact ." + std::string(leaf) + " of the certificate is not a UTF8String");
    slot = std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v->value.utf8string)),
                       static_cast<std::size_t>(ASN1_STRING_length(v->value.utf8string)));
  }
  if (!found[1] && !found[3] && !found[4] && !found[5])
    return fail(Errc::not_found, "the certificate carries no basic facts");
  const std::pair<int, const char*> required[] = {
      {1, "name"}, {3, "sex"}, {4, "date of birth"}, {5, "address"}};
  for (auto [arc, what] : required)
    if (!found[static_cast<std::size_t>(arc)])
      return fail(Errc::malformed, std::string("the certificate's basic facts lack the ") + what);

  CertifiedFacts f;
  f.name = *found[1];
  f.name_substitution = found[2].value_or("");
  f.address = *found[5];
  f.address_substitution = found[6].value_or("");
  const std::string& sex = *found[3];
  if (sex != "1" && sex != "2" && sex != "3")
    return fail(Errc::malformed, "the sex code in the certificate is not 1, 2 or 3");
  f.sex = sex[0] - '0';
  auto birth = parse_jpki_birth_date(*found[4]);
  if (!birth) return fail(birth.error());
  f.birth_date = birth->date;
  f.birth_era = birth->era;
  return f;
}

}  // namespace smacert::pki
