// ISO/IEC 7816-4 command and response APDUs (clause 5.1 "Command-response
// pairs"), short and extended lengths. Parsing is bounded and total: any byte
// string yields a CommandApdu or the status word a card answers it with.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/bytes.h"
#include "core/error.h"

namespace smacert::card {

// SW1-SW2 (ISO 7816-4 clause 5.6). Only the values this project answers or
// interprets; status_text() carries the standard's wording for each.
enum class Sw : std::uint16_t {
  kOk = 0x9000,
  kEndOfFile = 0x6282,      // end of file reached before reading Ne bytes
  kMemoryFailure = 0x6581,  // the card could not keep its state
  kWrongLength = 0x6700,
  kIncompatibleFile = 0x6981,  // command incompatible with file structure
  kSecurityNotSatisfied = 0x6982,
  kAuthBlocked = 0x6983,  // authentication method blocked
  kReferenceNotUsable = 0x6984,
  kConditionsNotSatisfied = 0x6985,
  kNoCurrentEf = 0x6986,
  kWrongData = 0x6A80,  // incorrect parameters in the command data field
  kFileNotFound = 0x6A82,
  kNotEnoughMemory = 0x6A84,
  kWrongP1P2 = 0x6A86,
  kReferenceNotFound = 0x6A88,
  kWrongOffset = 0x6B00,  // wrong parameters P1-P2 (offset outside the EF)
  kInsNotSupported = 0x6D00,
  kClaNotSupported = 0x6E00,
  kNoDiagnosis = 0x6F00,
};

inline constexpr std::uint16_t value(Sw sw) {
  return static_cast<std::uint16_t>(sw);
}

// 63Cx: verification failed, x further tries allowed (ISO 7816-4 clause 5.6, table 6).
inline constexpr std::uint16_t sw_tries_left(unsigned x) {
  return static_cast<std::uint16_t>(0x63C0 | (x & 0x0F));
}
// 61xx: xx more response bytes available through GET RESPONSE (clause 5.3.4).
inline constexpr std::uint16_t sw_more_data(std::size_t remaining) {
  return static_cast<std::uint16_t>(0x6100 | (remaining > 0xFF ? 0x00 : remaining));
}

// The ISO 7816-4 meaning of a status word, e.g. "6982 security status not satisfied".
std::string status_text(std::uint16_t sw);

// The largest Nc and Ne an extended APDU carries (clause 5.1).
inline constexpr std::size_t kMaxShortNe = 256;
inline constexpr std::size_t kMaxExtendedNe = 65536;
inline constexpr std::size_t kMaxExtendedNc = 65535;
inline constexpr std::size_t kMaxCommandSize = 4 + 3 + kMaxExtendedNc + 2;

struct CommandApdu {
  std::uint8_t cla = 0;
  std::uint8_t ins = 0;
  std::uint8_t p1 = 0;
  std::uint8_t p2 = 0;
  Bytes data;                     // Nc bytes (empty when there is no Lc field)
  std::optional<std::size_t> ne;  // absent: no Le field; 256 or 65536 for Le = 00 / 0000
  bool extended = false;

  // Encodes in the shortest form that carries Nc and Ne (short unless one
  // exceeds 255/256), or in extended form when `extended` is set.
  Bytes encode() const;
  std::uint16_t p1p2() const { return static_cast<std::uint16_t>(p1 << 8 | p2); }
};

// Parses the four cases of clause 5.1 (table 1/2): 1, 2S/2E, 3S/3E, 4S/4E.
// Errors carry Errc::malformed; the card answers them with 6700.
Result<CommandApdu> parse_command(ByteView bytes);

struct ResponseApdu {
  Bytes data;
  std::uint16_t sw = value(Sw::kOk);

  bool ok() const { return sw == value(Sw::kOk); }
  std::uint8_t sw1() const { return static_cast<std::uint8_t>(sw >> 8); }
  std::uint8_t sw2() const { return static_cast<std::uint8_t>(sw & 0xFF); }
  Bytes encode() const;
};

// A response is at least SW1-SW2 (clause 5.1); shorter input is malformed.
Result<ResponseApdu> parse_response(ByteView bytes);

inline ResponseApdu status(Sw sw) {
  return {{}, value(sw)};
}

}  // namespace smacert::card
