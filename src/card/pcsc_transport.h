// A real reader through pcsc-lite (PC/SC): a USB reader with a My Number
// Card, or pcscd's vpcd reader with a virtual card attached.
#pragma once

#include <PCSC/winscard.h>

#include <memory>
#include <string>
#include <vector>

#include "card/transport.h"

namespace smacert::card {

class PcscTransport final : public Transport {
 public:
  // Reader names as pcscd reports them (SCardListReaders).
  static Result<std::vector<std::string>> list_readers();
  // Connects to the card in `reader` (shared, T=0 or T=1); an empty name
  // means the first reader with a card present.
  static Result<std::unique_ptr<PcscTransport>> connect(const std::string& reader);

  ~PcscTransport() override;
  PcscTransport(const PcscTransport&) = delete;
  PcscTransport& operator=(const PcscTransport&) = delete;

  Result<Bytes> transmit(ByteView command) override;
  const std::string& reader() const { return reader_; }

 private:
  PcscTransport(SCARDCONTEXT context, SCARDHANDLE card, DWORD protocol, std::string reader)
      : context_(context), card_(card), protocol_(protocol), reader_(std::move(reader)) {}
  SCARDCONTEXT context_;
  SCARDHANDLE card_;
  DWORD protocol_;
  std::string reader_;
};

}  // namespace smacert::card
