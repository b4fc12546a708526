#include "card/apdu.h"

#include <array>
#include <cstdio>

namespace smacert::card {
namespace {

struct SwText {
  std::uint16_t sw;
  std::string_view text;
};

// ISO/IEC 7816-4:2013 clause 5.6, tables 5 and 6 (the wording of the standard).
constexpr std::array kSwTable{
    SwText{0x9000, "normal processing"},
    SwText{0x6282, "end of file or record reached before reading Ne bytes"},
    SwText{0x6581, "memory failure"},
    SwText{0x6700, "wrong length"},
    SwText{0x6981, "command incompatible with file structure"},
    SwText{0x6982, "security status not satisfied"},
    SwText{0x6983, "authentication method blocked"},
    SwText{0x6984, "reference data not usable"},
    SwText{0x6985, "conditions of use not satisfied"},
    SwText{0x6986, "command not allowed (no current EF)"},
    SwText{0x6A80, "incorrect parameters in the command data field"},
    SwText{0x6A82, "file or application not found"},
    SwText{0x6A84, "not enough memory space in the file"},
    SwText{0x6A86, "incorrect parameters P1-P2"},
    SwText{0x6A88, "referenced data or reference data not found"},
    SwText{0x6B00, "wrong parameters P1-P2 (offset outside the EF)"},
    SwText{0x6D00, "instruction code not supported or invalid"},
    SwText{0x6E00, "class not supported"},
    SwText{0x6F00, "no precise diagnosis"},
};

std::size_t be16(ByteView b, std::size_t at) {
  return static_cast<std::size_t>(b[at]) << 8 | b[at + 1];
}

void push_be16(Bytes& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8 & 0xFF));
  out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

}  // namespace

std::string status_text(std::uint16_t sw) {
  char code[5];
  std::snprintf(code, sizeof code, "%04X", sw);
  std::string out(code);
  if ((sw & 0xFFF0) == 0x63C0)
    return out + " verification failed, " + std::to_string(sw & 0x0F) + " tries left";
  if ((sw & 0xFF00) == 0x6100)
    return out + " " + std::to_string(sw & 0xFF ? sw & 0xFF : 256) +
           "+ response bytes still available";
  for (const auto& e : kSwTable)
    if (e.sw == sw) return out + " " + std::string(e.text);
  return out + " unknown status";
}

// ISO 7816-4 clause 5.1: after the 4-byte header, the body is empty (case 1),
// Le alone (2), Lc + data (3) or Lc + data + Le (4). A first body byte of 00
// followed by more bytes marks extended length fields (3 bytes for the first
// field, 2 for a Le that follows Lc).
Result<CommandApdu> parse_command(ByteView b) {
  if (b.size() < 4) return fail(Errc::malformed, "a command APDU has at least 4 header bytes");
  if (b.size() > kMaxCommandSize) return fail(Errc::too_large, "the command APDU is too long");
  CommandApdu c{b[0], b[1], b[2], b[3], {}, std::nullopt, false};
  const std::size_t body = b.size() - 4;
  if (body == 0) return c;  // case 1
  const std::size_t b0 = b[4];
  if (body == 1) {  // case 2S
    c.ne = b0 == 0 ? kMaxShortNe : b0;
    return c;
  }
  if (b0 != 0) {  // short Lc: case 3S or 4S
    if (body == 1 + b0) {
      c.data.assign(b.begin() + 5, b.end());
      return c;
    }
    if (body == 2 + b0) {
      c.data.assign(b.begin() + 5, b.begin() + 5 + static_cast<std::ptrdiff_t>(b0));
      c.ne = b.back() == 0 ? kMaxShortNe : b.back();
      return c;
    }
    return fail(Errc::malformed, "the command APDU's length does not match its Lc");
  }
  // Extended length: 00 then two bytes.
  if (body < 3) return fail(Errc::malformed, "a truncated extended length field");
  c.extended = true;
  const std::size_t n = be16(b, 5);
  if (body == 3) {  // case 2E
    c.ne = n == 0 ? kMaxExtendedNe : n;
    return c;
  }
  if (n == 0) return fail(Errc::malformed, "an extended Lc of zero");
  if (body == 3 + n) {  // case 3E
    c.data.assign(b.begin() + 7, b.end());
    return c;
  }
  if (body == 3 + n + 2) {  // case 4E
    c.data.assign(b.begin() + 7, b.begin() + 7 + static_cast<std::ptrdiff_t>(n));
    const std::size_t le = be16(b, b.size() - 2);
    c.ne = le == 0 ? kMaxExtendedNe : le;
    return c;
  }
  return fail(Errc::malformed, "the command APDU's length does not match its extended Lc");
}

Bytes CommandApdu::encode() const {
  Bytes out{cla, ins, p1, p2};
  const bool ext = extended || data.size() > 255 || (ne && *ne > kMaxShortNe);
  if (!ext) {
    if (!data.empty()) {
      out.push_back(static_cast<std::uint8_t>(data.size()));
      out.insert(out.end(), data.begin(), data.end());
    }
    if (ne) out.push_back(static_cast<std::uint8_t>(*ne == kMaxShortNe ? 0 : *ne));
    return out;
  }
  if (!data.empty()) {
    out.push_back(0);
    push_be16(out, data.size());
    out.insert(out.end(), data.begin(), data.end());
  }
  if (ne) {
    if (data.empty()) out.push_back(0);
    push_be16(out, *ne >= kMaxExtendedNe ? 0 : *ne);
  }
  return out;
}

Bytes ResponseApdu::encode() const {
  Bytes out = data;
  push_be16(out, sw);
  return out;
}

Result<ResponseApdu> parse_response(ByteView b) {
  if (b.size() < 2) return fail(Errc::malformed, "a response APDU ends with two status bytes");
  if (b.size() > kMaxExtendedNe + 2) return fail(Errc::too_large, "the response APDU is too long");
  ResponseApdu r;
  r.data.assign(b.begin(), b.end() - 2);
  r.sw = static_cast<std::uint16_t>(be16(b, b.size() - 2));
  return r;
}

}  // namespace smacert::card
