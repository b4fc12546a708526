// The on-disk image of a virtual My Number Card or a phone's secure element:
// everything the applet keeps between sessions. Versioned JSON, written
// atomically with mode 0600 (it holds private keys); docs/card-image.md.
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "card/jpki_layout.h"
#include "card/pin.h"
#include "pki/profile.h"

namespace smacert::card {

// ISO 7816-4 clause 5.3.3.2 life cycle: a card is personalised (keys, PINs,
// certificates written) and then activated; a phone's element stays open to
// smacert's proprietary commands for its whole life.
enum class Lifecycle { Personalisation, Operational };

// The holder as printed on the card and recorded at issuance.
struct HolderRecord {
  std::string auth_subject_id;  // CN of the auth certificate
  std::string sign_subject_id;  // CN of the signature certificate
  pki::HolderFacts facts;
};

struct CardImage {
  static constexpr int kFormatVersion = 1;

  TokenKind token = TokenKind::Card;
  Lifecycle lifecycle = Lifecycle::Personalisation;
  std::array<std::optional<PinRecord>, 2> pins;  // indexed by PinRef
  std::array<std::string, 2> keys;               // PKCS#8 PEM by PinRef; empty = none
  std::map<std::uint16_t, Bytes> files;          // certificate EFs that hold content
  std::optional<HolderRecord> holder;            // cards only

  std::optional<PinRecord>& pin(PinRef p) { return pins[static_cast<std::size_t>(p)]; }
  const std::optional<PinRecord>& pin(PinRef p) const { return pins[static_cast<std::size_t>(p)]; }
  std::string& key(PinRef p) { return keys[static_cast<std::size_t>(p)]; }
  const std::string& key(PinRef p) const { return keys[static_cast<std::size_t>(p)]; }
  const Bytes* file(std::uint16_t fid) const;
};

inline constexpr std::size_t kMaxImageSize = 1u << 20;

std::string serialize_card_image(const CardImage& image);
// Total: anything but a well-formed image of a known version is an error
// (Errc::malformed, or Errc::invalid_argument for a newer version).
Result<CardImage> parse_card_image(std::string_view json);

Result<CardImage> load_card_image(const std::filesystem::path& path);
Status save_card_image(const std::filesystem::path& path, const CardImage& image);

}  // namespace smacert::card
