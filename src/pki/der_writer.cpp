#include "pki/der_writer.h"

#include <algorithm>
#include <charconv>

namespace smacert::pki::der {

Bytes tlv(std::uint8_t t, ByteView content) {
  Bytes out;
  out.reserve(content.size() + 6);
  out.push_back(t);
  std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    std::uint8_t len[8];
    int k = 0;
    for (std::size_t v = n; v > 0; v >>= 8) len[k++] = static_cast<std::uint8_t>(v & 0xff);
    out.push_back(static_cast<std::uint8_t>(0x80 | k));
    while (k > 0) out.push_back(len[--k]);
  }
  out.insert(out.end(), content.begin(), content.end());
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
  std::vector<unsigned long> arcs;
  while (!dotted.empty()) {
    auto dot = dotted.find('.');
    auto part = dotted.substr(0, dot);
    unsigned long v = 0;
    std::from_chars(part.data(), part.data() + part.size(), v);
    arcs.push_back(v);
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  Bytes content;
  auto put = [&](unsigned long v) {
    std::uint8_t buf[10];
    int k = 0;
    buf[k++] = v & 0x7f;
    while (v >>= 7) buf[k++] = static_cast<std::uint8_t>(0x80 | (v & 0x7f));
    while (k > 0) content.push_back(buf[--k]);
  };
  if (arcs.size() >= 2) put(arcs[0] * 40 + arcs[1]);
  for (std::size_t i = 2; i < arcs.size(); ++i) put(arcs[i]);
  return tlv(tag::kOid, content);
}

Bytes octet_string(ByteView content) {
  return tlv(tag::kOctetString, content);
}
Bytes null() {
  return Bytes{tag::kNull, 0};
}

}  // namespace smacert::pki::der
