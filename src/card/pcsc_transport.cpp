#include "card/pcsc_transport.h"

#include <PCSC/pcsclite.h>

namespace smacert::card {
namespace {

Error pcsc_error(LONG rc, std::string_view doing) {
  // No reader, no daemon or no card: the peer is missing, not the input wrong.
  return {Errc::unavailable, std::string(doing) + ": " + pcsc_stringify_error(rc)};
}

// Owns an SCARDCONTEXT until handed to the transport.
struct ContextGuard {
  SCARDCONTEXT ctx = 0;
  bool owned = false;
  ~ContextGuard() {
    if (owned) SCardReleaseContext(ctx);
  }
};

Result<std::vector<std::string>> readers_of(SCARDCONTEXT ctx) {
  DWORD size = 0;
  LONG rc = SCardListReaders(ctx, nullptr, nullptr, &size);
  if (rc == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>{};
  if (rc != SCARD_S_SUCCESS) return fail(pcsc_error(rc, "listing readers"));
  std::string buf(size, '\0');
  rc = SCardListReaders(ctx, nullptr, buf.data(), &size);
  if (rc == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>{};
  if (rc != SCARD_S_SUCCESS) return fail(pcsc_error(rc, "listing readers"));
  // A multi-string: names separated by NUL, ended by an empty one.
  std::vector<std::string> out;
  for (std::size_t i = 0; i < buf.size() && buf[i] != '\0';) {
    std::string name(buf.c_str() + i);
    i += name.size() + 1;
    out.push_back(std::move(name));
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> PcscTransport::list_readers() {
  ContextGuard g;
  LONG rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &g.ctx);
  if (rc != SCARD_S_SUCCESS) return fail(pcsc_error(rc, "connecting to pcscd"));
  g.owned = true;
  return readers_of(g.ctx);
}

Result<std::unique_ptr<PcscTransport>> PcscTransport::connect(const std::string& reader) {
  ContextGuard g;
  LONG rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &g.ctx);
  if (rc != SCARD_S_SUCCESS) return fail(pcsc_error(rc, "connecting to pcscd"));
  g.owned = true;
  std::vector<std::string> candidates;
  if (reader.empty()) {
    auto all = readers_of(g.ctx);
    if (!all) return fail(all.error());
    candidates = std::move(*all);
    if (candidates.empty()) return fail(Errc::unavailable, "no smart-card reader is connected");
  } else {
    candidates.push_back(reader);
  }
  LONG last = SCARD_E_NO_SMARTCARD;
  for (const auto& name : candidates) {
    SCARDHANDLE card = 0;
    DWORD protocol = 0;
    rc = SCardConnect(g.ctx, name.c_str(), SCARD_SHARE_SHARED,
                      SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card, &protocol);
    if (rc == SCARD_S_SUCCESS) {
      g.owned = false;
      return std::unique_ptr<PcscTransport>(new PcscTransport(g.ctx, card, protocol, name));
    }
    last = rc;
  }
  return fail(pcsc_error(last, reader.empty() ? std::string("finding a card in any reader")
                                              : "connecting to the card in '" + reader + "'"));
}

PcscTransport::~PcscTransport() {
  SCardDisconnect(card_, SCARD_LEAVE_CARD);
  SCardReleaseContext(context_);
}

Result<Bytes> PcscTransport::transmit(ByteView command) {
  const SCARD_IO_REQUEST* pci = protocol_ == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
  Bytes response(kMaxExtendedNe + 2);
  DWORD len = static_cast<DWORD>(response.size());
  LONG rc = SCardTransmit(card_, pci, command.data(), static_cast<DWORD>(command.size()), nullptr,
                          response.data(), &len);
  if (rc != SCARD_S_SUCCESS) return fail(pcsc_error(rc, "sending a command to the card"));
  response.resize(len);
  return response;
}

}  // namespace smacert::card
