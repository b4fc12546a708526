// An applet whose state lives in an image file: the virtual card a holder
// carries, or the phone's secure element in its folder. Every change of the
// stored state (a try counted, a PIN set) is written to the file before the
// response leaves, as a card writes its EEPROM before answering.
#pragma once

#include <filesystem>

#include "card/transport.h"

namespace smacert::card {

class StoredApplet final : public Transport {
 public:
  static Result<StoredApplet> open(const std::filesystem::path& path, Random& random);
  // Writes `image` to `path` (mode 0600) and opens it.
  static Result<StoredApplet> create(const std::filesystem::path& path, CardImage image,
                                     Random& random);

  // An error when the new state could not be saved: the command's answer is
  // withheld, since the card could not keep what it would report.
  Result<Bytes> transmit(ByteView command) override;
  void reset() { applet_.reset(); }
  const Applet& applet() const { return applet_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  StoredApplet(std::filesystem::path path, Applet applet)
      : path_(std::move(path)), applet_(std::move(applet)) {}
  std::filesystem::path path_;
  Applet applet_;
};

}  // namespace smacert::card
