// The phone's secure element (spec/jpki-card.md §3): the JPKI applet with
// the phone's label, empty until the app generates keys, sets PINs and writes
// the issued certificates through smacert's proprietary commands.
#pragma once

#include <filesystem>

#include "card/stored_applet.h"

namespace smacert::card {

enum class PhonePlatform { Android, Ios };

CardImage blank_secure_element(PhonePlatform platform);

// Creates the element's image at `path` (in the phone's folder; mode 0600).
// Errc::conflict when one is already there: a wipe goes through ERASE.
Result<StoredApplet> create_secure_element(const std::filesystem::path& path,
                                           PhonePlatform platform, Random& random);

}  // namespace smacert::card
