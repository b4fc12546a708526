// The JPKI application as spec/jpki-card.md §1–§2 describes it: AIDs, the
// file table, PIN rules and the ATR, in one place.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace smacert::card {

// JPKI (公的個人認証) application identifier (ISO 7816-4 clause 8.2.1.2 DF name).
inline constexpr std::array<std::uint8_t, 10> kAidJpki{0xD3, 0x92, 0xF0, 0x00, 0x26,
                                                       0x01, 0x00, 0x00, 0x00, 0x01};

enum class PinRef { Auth, Sign };
inline constexpr std::array kPinRefs{PinRef::Auth, PinRef::Sign};
inline constexpr std::string_view pin_name(PinRef p) {
  return p == PinRef::Auth ? "auth" : "sign";
}

inline constexpr std::uint16_t kAuthCertFile = 0x000A;
inline constexpr std::uint16_t kAuthCaFile = 0x000B;
inline constexpr std::uint16_t kSignCertFile = 0x0001;
inline constexpr std::uint16_t kSignCaFile = 0x0002;
inline constexpr std::uint16_t kTokenInfoFile = 0x0006;
inline constexpr std::uint16_t kAuthKeyFile = 0x0017;
inline constexpr std::uint16_t kAuthPinFile = 0x0018;
inline constexpr std::uint16_t kSignKeyFile = 0x001A;
inline constexpr std::uint16_t kSignPinFile = 0x001B;

inline constexpr unsigned kAuthPinTries = 3;
inline constexpr unsigned kSignPinTries = 5;
inline constexpr unsigned max_tries(PinRef p) {
  return p == PinRef::Auth ? kAuthPinTries : kSignPinTries;
}

enum class FileKind {
  Certificate,  // transparent EF holding DER; READ BINARY
  TokenInfo,    // transparent EF, generated from the token's label
  PrivateKey,   // usable by COMPUTE DIGITAL SIGNATURE, never readable
  Pin,          // reference data for VERIFY / CHANGE REFERENCE DATA
};

// When READ BINARY is allowed on a file.
enum class ReadRule {
  Always,
  AfterSignPin,         // EF 0001 everywhere
  AfterAuthPinOnPhone,  // EF 000A: free on the card, after the auth PIN on the phone
  Never,
};

struct FileEntry {
  std::uint16_t fid;
  FileKind kind;
  ReadRule read;
  PinRef pin;  // the PIN a key or PIN file belongs to (ignored for the others)
  std::string_view name;
};

inline constexpr std::array kJpkiFiles{
    FileEntry{kAuthCertFile, FileKind::Certificate, ReadRule::AfterAuthPinOnPhone, PinRef::Auth,
              "auth certificate"},
    FileEntry{kAuthCaFile, FileKind::Certificate, ReadRule::Always, PinRef::Auth,
              "auth CA certificate"},
    FileEntry{kSignCertFile, FileKind::Certificate, ReadRule::AfterSignPin, PinRef::Sign,
              "signature certificate"},
    FileEntry{kSignCaFile, FileKind::Certificate, ReadRule::Always, PinRef::Sign,
              "signature CA certificate"},
    FileEntry{kTokenInfoFile, FileKind::TokenInfo, ReadRule::Always, PinRef::Auth, "token info"},
    FileEntry{kAuthKeyFile, FileKind::PrivateKey, ReadRule::Never, PinRef::Auth, "auth key"},
    FileEntry{kAuthPinFile, FileKind::Pin, ReadRule::Never, PinRef::Auth, "auth PIN"},
    FileEntry{kSignKeyFile, FileKind::PrivateKey, ReadRule::Never, PinRef::Sign, "signature key"},
    FileEntry{kSignPinFile, FileKind::Pin, ReadRule::Never, PinRef::Sign, "signature password"},
};

inline constexpr const FileEntry* find_file(std::uint16_t fid) {
  for (const auto& f : kJpkiFiles)
    if (f.fid == fid) return &f;
  return nullptr;
}
inline constexpr std::uint16_t key_file(PinRef p) {
  return p == PinRef::Auth ? kAuthKeyFile : kSignKeyFile;
}
inline constexpr std::uint16_t pin_file(PinRef p) {
  return p == PinRef::Auth ? kAuthPinFile : kSignPinFile;
}

// The token kinds and their EF 0006 labels (§1).
enum class TokenKind { Card, Android, Ios };
inline constexpr std::string_view token_label(TokenKind t) {
  switch (t) {
    case TokenKind::Card:
      return "JPKIAPICCTOKEN2";
    case TokenKind::Android:
      return "JPKIAPGPSETOKEN";
    case TokenKind::Ios:
      return "JPKIAPIOSTOKEN";
  }
  return "";
}
inline constexpr std::string_view token_name(TokenKind t) {
  switch (t) {
    case TokenKind::Card:
      return "card";
    case TokenKind::Android:
      return "android";
    case TokenKind::Ios:
      return "ios";
  }
  return "";
}
inline constexpr std::size_t kTokenLabelSize = 32;  // ASCII, padded with spaces

// A real card's contact ATR (§2), T=1; TCK checked by the tests.
inline constexpr std::array<std::uint8_t, 19> kCardAtr{0x3B, 0xDA, 0x13, 0xFF, 0x81, 0x31, 0xFB,
                                                       0x46, 0x80, 0x12, 0x39, 0x2F, 0x31, 0xC1,
                                                       0x73, 0xC6, 0x01, 0xC0, 0x3B};

// The largest DigestInfo COMPUTE DIGITAL SIGNATURE accepts: a 2048-bit
// PKCS#1 v1.5 block less its 11 bytes of padding (RFC 8017 9.2 note 1).
inline constexpr std::size_t kMaxDigestInfo = 245;

// smacert's proprietary commands (CLA 80) for the phone's secure element and
// for personalising a card; docs/card-protocol.md documents their encoding.
inline constexpr std::uint8_t kClaIso = 0x00;
inline constexpr std::uint8_t kClaProprietary = 0x80;
inline constexpr std::uint8_t kInsSelect = 0xA4;
inline constexpr std::uint8_t kInsReadBinary = 0xB0;
inline constexpr std::uint8_t kInsVerify = 0x20;
inline constexpr std::uint8_t kInsChangeReferenceData = 0x24;
inline constexpr std::uint8_t kInsComputeSignature = 0x2A;
inline constexpr std::uint8_t kInsGetResponse = 0xC0;
inline constexpr std::uint8_t kInsGenerateKeyPair = 0x46;   // CLA 80
inline constexpr std::uint8_t kInsSetReferenceData = 0x24;  // CLA 80
inline constexpr std::uint8_t kInsWriteFile = 0xD6;         // CLA 80
inline constexpr std::uint8_t kInsErase = 0x0E;             // CLA 80
inline constexpr std::uint8_t kInsActivate = 0x44;          // CLA 80

}  // namespace smacert::card
