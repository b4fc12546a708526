// The one-method seam between a client and a card (style.md §3): the same
// JpkiClient talks to a virtual card in this process, a phone's secure
// element, or a real card in a PC/SC reader.
#pragma once

#include "card/applet.h"
#include "core/bytes.h"
#include "core/error.h"

namespace smacert::card {

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one command APDU and returns the response APDU (data + SW1-SW2).
  // An error means the exchange itself failed (no reader, card removed).
  virtual Result<Bytes> transmit(ByteView command) = 0;
};

// An applet in this process whose state the caller keeps (tests, issuance).
class InProcessTransport final : public Transport {
 public:
  explicit InProcessTransport(Applet& applet) : applet_(applet) {}
  Result<Bytes> transmit(ByteView command) override { return applet_.process(command); }

 private:
  Applet& applet_;
};

}  // namespace smacert::card
