#include "pki/der_reader.h"

#include <algorithm>

namespace smacert::pki::der {

std::optional<Tlv> read(ByteView& in) {
  if (in.size() < 2) return std::nullopt;
  const std::uint8_t tag = in[0];
  if ((tag & 0x1f) == 0x1f) return std::nullopt;
  std::size_t len = in[1], at = 2;
  if (len & 0x80) {
    const std::size_t k = len & 0x7f;
    // Up to 3 length octets (16 MiB), the first never zero (X.690 10.1).
    if (k == 0 || k > 3 || in.size() < 2 + k || in[2] == 0) return std::nullopt;
    len = 0;
    for (std::size_t i = 0; i < k; ++i) len = (len << 8) | in[2 + i];
    if (len < 0x80) return std::nullopt;  // should have been the short form
    at += k;
  }
  if (in.size() - at < len) return std::nullopt;
  Tlv t{tag, in.subspan(at, len), in.subspan(0, at + len)};
  in = in.subspan(at + len);
  return t;
}

std::optional<Tlv> read(ByteView& in, std::uint8_t tag) {
  if (in.empty() || in[0] != tag) return std::nullopt;
  return read(in);
}

std::optional<ByteView> only(ByteView in, std::uint8_t tag) {
  auto t = read(in, tag);
  if (!t || !in.empty()) return std::nullopt;
  return t->content;
}

bool equals(ByteView a, std::initializer_list<std::uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::optional<ByteView> whole_octets(const Tlv& bits) {
  if (bits.content.empty() || bits.content[0] != 0) return std::nullopt;
  return bits.content.subspan(1);
}

std::optional<ByteView> positive_integer(ByteView& in) {
  ByteView rest = in;
  auto t = read(rest, 0x02);
  if (!t || t->content.empty() || (t->content[0] & 0x80)) return std::nullopt;
  ByteView v = t->content;
  if (v.size() > 1 && v[0] == 0 && !(v[1] & 0x80)) return std::nullopt;  // not minimal
  while (!v.empty() && v[0] == 0) v = v.subspan(1);
  if (v.empty()) return std::nullopt;
  in = rest;
  return v;
}

}  // namespace smacert::pki::der
