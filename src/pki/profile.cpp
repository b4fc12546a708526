#include "pki/profile.h"

#include <openssl/objects.h>

#include <array>
#include <charconv>
#include <ctime>

namespace smacert::pki {

std::string_view ca_kind_name(CaKind k) {
  return k == CaKind::sign ? "sign" : "auth";
}

Result<CaKind> parse_ca_kind(std::string_view name) {
  if (name == "sign") return CaKind::sign;
  if (name == "auth") return CaKind::auth;
  return fail(Errc::invalid_argument, "unknown CA '" + std::string(name) + "' (use sign or auth)");
}

namespace {
constexpr std::array<std::string_view, 4> kKindNames = {"card_sign", "card_auth", "phone_sign",
                                                        "phone_auth"};
}

std::string_view certificate_kind_name(CertificateKind k) {
  return kKindNames[static_cast<std::size_t>(k)];
}

Result<CertificateKind> parse_certificate_kind(std::string_view name) {
  for (std::size_t i = 0; i < kKindNames.size(); ++i)
    if (kKindNames[i] == name) return static_cast<CertificateKind>(i);
  return fail(Errc::invalid_argument, "unknown certificate kind '" + std::string(name) + "'");
}

CaKind ca_of(CertificateKind k) {
  return k == CertificateKind::card_sign || k == CertificateKind::phone_sign ? CaKind::sign
                                                                             : CaKind::auth;
}

bool is_phone(CertificateKind k) {
  return k == CertificateKind::phone_sign || k == CertificateKind::phone_auth;
}

const std::string& PolicyOids::of(CertificateKind k) const {
  switch (k) {
    case CertificateKind::card_sign:
      return card_sign;
    case CertificateKind::card_auth:
      return card_auth;
    case CertificateKind::phone_sign:
      return phone_sign;
    case CertificateKind::phone_auth:
      return phone_auth;
  }
  return card_sign;
}

std::string PkiConfig::ocsp_url(CaKind k) const {
  return public_url + "/ocsp/" + std::string(ca_kind_name(k));
}
std::string PkiConfig::crl_url(CaKind k) const {
  return public_url + "/crl/" + std::string(ca_kind_name(k)) + ".crl";
}

Result<PkiConfig> pki_config(const Config::Pki& section) {
  PkiConfig c;
  auto alg = parse_key_algorithm(section.algorithm);
  if (!alg) return fail(alg.error());
  c.algorithm = *alg;
  if (!section.public_url.empty()) c.public_url = section.public_url;
  c.policies_critical = section.policies_critical;
  c.ocsp_validity = section.ocsp_validity;
  c.crl_validity = section.crl_validity;
  const std::pair<const std::string*, std::string*> policies[] = {
      {&section.policy_card_sign, &c.policies.card_sign},
      {&section.policy_card_auth, &c.policies.card_auth},
      {&section.policy_phone_sign, &c.policies.phone_sign},
      {&section.policy_phone_auth, &c.policies.phone_auth}};
  for (auto [given, slot] : policies) {
    if (given->empty()) continue;
    ASN1_OBJECT* obj = OBJ_txt2obj(given->c_str(), 1);
    if (obj == nullptr)
      return fail(Errc::invalid_argument, "the policy OID '" + *given + "' is not a dotted OID");
    ASN1_OBJECT_free(obj);
    *slot = *given;
  }
  return c;
}

int jpki_sex_code(int iso5218) {
  return iso5218 == 1 ? 1 : iso5218 == 2 ? 2 : 3;
}

namespace {

struct Date {
  int y, m, d;
  auto operator<=>(const Date&) const = default;
};

Result<Date> parse_date(std::string_view s) {
  auto bad = [&] {
    return fail(Errc::invalid_argument,
                "a date must be YYYY-MM-DD, got '" + std::string(s.substr(0, 20)) + "'");
  };
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return bad();
  Date d{};
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + pos + len;
  };
  if (!num(0, 4, d.y) || !num(5, 2, d.m) || !num(8, 2, d.d)) return bad();
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d.y < 1800 || d.m < 1 || d.m > 12 || d.d < 1 || d.d > kDays[d.m - 1]) return bad();
  bool leap = (d.y % 4 == 0 && d.y % 100 != 0) || d.y % 400 == 0;
  if (d.m == 2 && d.d == 29 && !leap) return bad();
  return d;
}

bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Japan has no daylight saving: JST is UTC+9 all year.
constexpr long long kJstOffset = 9 * 3600;

Date jst_date(TimePoint t) {
  std::time_t secs = static_cast<std::time_t>(to_unix(t) + kJstOffset);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return Date{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

// 23:59:59 JST of a calendar date, as UTC.
TimePoint end_of_jst_day(Date d) {
  std::tm tm{};
  tm.tm_year = d.y - 1900;
  tm.tm_mon = d.m - 1;
  tm.tm_mday = d.d;
  tm.tm_hour = 23;
  tm.tm_min = 59;
  tm.tm_sec = 59;
  return from_unix(static_cast<long long>(timegm(&tm)) - kJstOffset);
}

// A birthday on 29 February falls on 28 February in common years.
Date birthday_in(Date birth, int year) {
  Date b{year, birth.m, birth.d};
  if (b.m == 2 && b.d == 29 && !is_leap(year)) b.d = 28;
  return b;
}

}  // namespace

Result<std::string> jpki_birth_date(std::string_view ymd) {
  auto d = parse_date(ymd);
  if (!d) return fail(d.error());
  char era = '0';
  if (*d >= Date{2019, 5, 1})
    era = '5';
  else if (*d >= Date{1989, 1, 8})
    era = '4';
  else if (*d >= Date{1926, 12, 25})
    era = '3';
  else if (*d >= Date{1912, 7, 30})
    era = '2';
  else if (*d >= Date{1868, 10, 23})
    era = '1';
  std::string out(1, era);
  out += ymd.substr(0, 4);
  out += ymd.substr(5, 2);
  out += ymd.substr(8, 2);
  return out;
}

std::vector<std::string_view> utf8_chars(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > s.size()) n = s.size() - i;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n;
  }
  return true;
}

Result<AddressLocality> split_address(std::string_view address) {
  auto chars = utf8_chars(address);
  AddressLocality out;
  std::size_t i = 0;
  // 都道府県: the prefecture ends at the first 都, 道, 府 or 県 within 4 characters
  // (北海道 is the only 道; 京都府 contains 都 before 府, so prefer 府/県 when present).
  std::size_t end = 0;
  for (std::size_t k = 0; k < chars.size() && k < 4; ++k) {
    auto c = chars[k];
    if (c == "県" || c == "府" || (c == "道" && k == 2) ||
        (c == "都" && k == 2 && chars[0] == "東")) {
      end = k + 1;
      break;
    }
  }
  if (end == 0)
    return fail(Errc::invalid_argument,
                "the address must start with a prefecture (都道府県), e.g. 東京都千代田区…");
  for (; i < end; ++i) out.prefecture += chars[i];
  // 市区町村: up to the first 市, 区, 町 or 村 (a 郡 stays part of it).
  for (; i < chars.size(); ++i) {
    out.municipality += chars[i];
    auto c = chars[i];
    if (c == "市" || c == "区" || c == "町" || c == "村") break;
  }
  if (out.municipality.empty())
    return fail(Errc::invalid_argument,
                "the address must name a municipality after the prefecture");
  return out;
}

Status check_facts(const HolderFacts& f) {
  for (auto* s : {&f.name, &f.address})
    if (!valid_utf8(*s)) return fail(Errc::invalid_argument, "names and addresses must be UTF-8");
  auto name_len = utf8_chars(f.name).size();
  if (name_len == 0 || name_len > 100)
    return fail(Errc::invalid_argument, "the name must be 1 to 100 characters");
  auto addr_len = utf8_chars(f.address).size();
  if (addr_len == 0 || addr_len > 200)
    return fail(Errc::invalid_argument, "the address must be 1 to 200 characters");
  if (auto loc = split_address(f.address); !loc) return fail(loc.error());
  if (f.sex < 1 || f.sex > 3) return fail(Errc::invalid_argument, "sex must be 1, 2 or 3");
  if (auto b = jpki_birth_date(f.birth_date); !b) return fail(b.error());
  auto check_subst = [](const std::string& subst, std::size_t len, const char* what) -> Status {
    if (subst.empty()) return {};
    if (subst.size() != len || subst.find_first_not_of("01") != std::string::npos)
      return fail(Errc::invalid_argument,
                  std::string(what) + " substitution must be one 0 or 1 per character");
    return {};
  };
  SMACERT_TRY_STATUS(check_subst(f.name_substitution, name_len, "the name's"));
  SMACERT_TRY_STATUS(check_subst(f.address_substitution, addr_len, "the address's"));
  return {};
}

Result<TimePoint> card_certificate_expiry(std::string_view birth, TimePoint issued) {
  auto b = parse_date(birth);
  if (!b) return fail(b.error());
  Date today = jst_date(issued);
  // The first birthday strictly after the day of issuance, then four more.
  Date first = birthday_in(*b, today.y);
  int year = first > today ? today.y : today.y + 1;
  return end_of_jst_day(birthday_in(*b, year + 4));
}

Result<bool> is_at_least_15(std::string_view birth, TimePoint at) {
  auto b = parse_date(birth);
  if (!b) return fail(b.error());
  Date today = jst_date(at);
  return today >= birthday_in(*b, b->y + 15);
}

}  // namespace smacert::pki
