// The JPKI application as one state machine, shared by the virtual card and
// the phone's secure element (spec/jpki-card.md §2–§3). It answers every byte
// string with a response APDU; private keys stay inside — no command reads one.
#pragma once

#include <array>
#include <cstdint>

#include "card/apdu.h"
#include "card/card_image.h"
#include "core/random.h"
#include "pki/openssl.h"

namespace smacert::card {

class Applet {
 public:
  // Loads the keys of `image`; fails when a stored key does not parse.
  static Result<Applet> open(CardImage image, Random& random);

  // One command-response pair. Total: malformed input gets 6700, never a crash.
  Bytes process(ByteView command);
  ResponseApdu process(const CommandApdu& command);

  // Power-on, reset or power-off (ISO 7816-3 clause 6.2): the security state
  // and the selection are lost; the stored state is not.
  void reset() { session_ = Session{}; }

  const CardImage& image() const { return image_; }
  // Increases whenever the stored state changes (tries, keys, PINs, files), so
  // a holder of the applet knows when to save the image.
  std::uint64_t generation() const { return generation_; }
  bool verified(PinRef p) const { return session_.verified[idx(p)]; }

 private:
  struct Session {
    bool app_selected = false;
    const FileEntry* current = nullptr;  // current EF (ISO 7816-4 clause 7.1.1)
    std::array<bool, 2> verified{};      // security status per PIN (clause 5.4)
    Bytes pending;                       // response bytes awaiting GET RESPONSE
  };

  Applet(CardImage image, Random& random) : image_(std::move(image)), random_(&random) {}
  static constexpr std::size_t idx(PinRef p) { return static_cast<std::size_t>(p); }
  void changed() { ++generation_; }
  bool proprietary_allowed() const;
  Bytes file_content(const FileEntry& f) const;

  ResponseApdu dispatch(const CommandApdu& c);
  ResponseApdu select(const CommandApdu& c);
  ResponseApdu read_binary(const CommandApdu& c);
  ResponseApdu verify(const CommandApdu& c);
  ResponseApdu change_reference_data(const CommandApdu& c);
  ResponseApdu compute_signature(const CommandApdu& c);
  ResponseApdu get_response(const CommandApdu& c);
  // Proprietary class (applet_personalise.cpp).
  ResponseApdu generate_key_pair(const CommandApdu& c);
  ResponseApdu set_reference_data(const CommandApdu& c);
  ResponseApdu write_file(const CommandApdu& c);
  ResponseApdu erase(const CommandApdu& c);
  ResponseApdu activate(const CommandApdu& c);

  CardImage image_;
  Random* random_;
  std::array<pki::PkeyPtr, 2> keys_;
  Session session_;
  std::uint64_t generation_ = 0;
};

}  // namespace smacert::card
