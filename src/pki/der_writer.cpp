#include "pki/der_writer.h"

#include <algorithm>

namespace smacert::pki::der {

namespace {

void put_header(Bytes& out, std::uint8_t t, std::size_t n) {
  out.push_back(t);
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
    return;
  }
  std::uint8_t len[8];
  int k = 0;
  for (std::size_t v = n; v > 0; v >>= 8) len[k++] = static_cast<std::uint8_t>(v & 0xff);
  out.push_back(static_cast<std::uint8_t>(0x80 | k));
  while (k > 0) out.push_back(len[--k]);
}

// Days since 1970-01-01 to a civil date (H. Hinnant's days_from_civil
// inverse): no locale, no lock, no gmtime.
void civil_from_days(long long z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe + era * 400) + (m <= 2);
}

std::size_t put_time_as(std::uint8_t* out, TimePoint t, bool allow_utc) {
  const long long s = to_unix(t);
  long long days = s / 86400, secs = s % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  int year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, year, month, day);
  const bool utc = allow_utc && year >= 1950 && year <= 2049;
  std::uint8_t* p = out + 2;
  auto two = [&p](unsigned v) {
    *p++ = static_cast<std::uint8_t>('0' + v / 10);
    *p++ = static_cast<std::uint8_t>('0' + v % 10);
  };
  const unsigned y = static_cast<unsigned>(year);
  if (!utc) two(y / 100 % 100);
  two(y % 100);
  two(month);
  two(day);
  two(static_cast<unsigned>(secs / 3600));
  two(static_cast<unsigned>(secs / 60 % 60));
  two(static_cast<unsigned>(secs % 60));
  *p++ = 'Z';
  out[0] = utc ? tag::kUtcTime : tag::kGeneralizedTime;
  out[1] = static_cast<std::uint8_t>(p - out - 2);
  return static_cast<std::size_t>(p - out);
}

}  // namespace

Bytes tlv(std::uint8_t t, ByteView content) {
  Bytes out;
  out.reserve(content.size() + 6);
  put_header(out, t, content.size());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes header(std::uint8_t t, std::size_t size) {
  Bytes out;
  put_header(out, t, size);
  return out;
}

Bytes concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes sequence(std::initializer_list<ByteView> parts) {
  return tlv(tag::kSequence, concat(parts));
}

Bytes set_of(std::vector<Bytes> parts) {
  std::sort(parts.begin(), parts.end());  // lexicographic on bytes = X.690 11.6 order
  Bytes content;
  for (auto& p : parts) content.insert(content.end(), p.begin(), p.end());
  return tlv(tag::kSet, content);
}

Bytes small_integer(unsigned value) {
  Bytes content;
  do {
    content.insert(content.begin(), static_cast<std::uint8_t>(value & 0xff));
    value >>= 8;
  } while (value > 0);
  if (content.front() & 0x80) content.insert(content.begin(), 0);
  return tlv(tag::kInteger, content);
}

Bytes oid(std::string_view dotted) {
  // Each arc as a binary number of any size (UUID arcs under 2.25 take 128
  // bits), little-endian octets, then written in base 128 (X.690 8.19).
  std::vector<std::vector<std::uint8_t>> arcs;
  while (!dotted.empty()) {
    auto dot = dotted.find('.');
    std::vector<std::uint8_t> value;
    for (char c : dotted.substr(0, dot)) {
      unsigned carry = static_cast<unsigned>(c - '0');
      for (auto& octet : value) {
        unsigned v = octet * 10u + carry;
        octet = static_cast<std::uint8_t>(v & 0xff);
        carry = v >> 8;
      }
      if (carry) value.push_back(static_cast<std::uint8_t>(carry));
    }
    arcs.push_back(std::move(value));
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  if (arcs.size() >= 2) {  // the first two arcs share a subidentifier: 40 * first + second
    unsigned carry = 40u * (arcs[0].empty() ? 0u : arcs[0][0]);
    for (auto& octet : arcs[1]) {
      unsigned v = octet + carry;
      octet = static_cast<std::uint8_t>(v & 0xff);
      carry = v >> 8;
    }
    if (carry) arcs[1].push_back(static_cast<std::uint8_t>(carry));
    arcs.erase(arcs.begin());
  }
  Bytes content;
  for (const auto& arc : arcs) {
    std::size_t bits = arc.size() * 8;
    while (bits > 0 && !((arc[(bits - 1) / 8] >> ((bits - 1) % 8)) & 1)) --bits;
    std::size_t groups = bits == 0 ? 1 : (bits + 6) / 7;
    for (std::size_t g = groups; g-- > 0;) {
      std::uint8_t septet = 0;
      for (std::size_t k = 0; k < 7; ++k) {
        std::size_t bit = g * 7 + k;
        if (bit < bits && ((arc[bit / 8] >> (bit % 8)) & 1))
          septet |= static_cast<std::uint8_t>(1 << k);
      }
      content.push_back(static_cast<std::uint8_t>(septet | (g > 0 ? 0x80 : 0)));
    }
  }
  return tlv(tag::kOid, content);
}

Bytes octet_string(ByteView content) {
  return tlv(tag::kOctetString, content);
}
Bytes null() {
  return Bytes{tag::kNull, 0};
}

Bytes integer(ByteView magnitude) {
  while (!magnitude.empty() && magnitude.front() == 0) magnitude = magnitude.subspan(1);
  const bool pad = magnitude.empty() || (magnitude.front() & 0x80);
  Bytes out;
  out.reserve(magnitude.size() + 4);
  put_header(out, tag::kInteger, magnitude.size() + (pad ? 1 : 0));
  if (pad) out.push_back(0);
  out.insert(out.end(), magnitude.begin(), magnitude.end());
  return out;
}

Bytes bit_string(ByteView octets) {
  Bytes out;
  out.reserve(octets.size() + 5);
  put_header(out, tag::kBitString, octets.size() + 1);
  out.push_back(0);
  out.insert(out.end(), octets.begin(), octets.end());
  return out;
}

std::size_t put_time(std::uint8_t* out, TimePoint t) {
  return put_time_as(out, t, true);
}

Bytes time(TimePoint t) {
  std::uint8_t buf[kMaxTime];
  return Bytes(buf, buf + put_time_as(buf, t, true));
}

Bytes generalized_time(TimePoint t) {
  std::uint8_t buf[kMaxTime];
  return Bytes(buf, buf + put_time_as(buf, t, false));
}

Bytes extension(std::string_view dotted_oid, bool critical, ByteView value) {
  static const std::uint8_t kTrue[] = {tag::kBoolean, 1, 0xff};
  return sequence({oid(dotted_oid), critical ? ByteView(kTrue) : ByteView{}, octet_string(value)});
}

}  // namespace smacert::pki::der
