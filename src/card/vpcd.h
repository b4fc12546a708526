// The vpcd bridge: the virtual card side ("vicc") of vsmartcard's pcscd
// reader driver (spec/jpki-card.md §4). Frames both ways are a 2-byte
// big-endian length then the bytes; a 1-byte frame from vpcd is control
// (00 power off, 01 power on, 02 reset, 04 give the ATR), anything longer a
// command APDU. The card is in the reader while the TCP connection is up.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "card/stored_applet.h"

namespace smacert::card {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
inline constexpr std::uint16_t kVpcdPort = 35963;  // vpcd's default (0x8C7B)

// "HOST:PORT" or "HOST" (with `default_port`); IPv6 as "[::1]:PORT".
Result<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port);

struct VpcdOptions {
  enum class Mode { Connect, Listen } mode = Mode::Connect;
  HostPort address{"127.0.0.1", kVpcdPort};
  Bytes atr;
  // Readable when the bridge must stop (a signalfd for SIGINT/SIGTERM, or a pipe).
  int stop_fd = -1;
  // One line per event for a person: connected, listening, card removed.
  std::function<void(const std::string&)> log;
};

// Serves `card` until stop_fd becomes readable. Connect mode connects to a
// listening vpcd and reconnects after it goes away; listen mode accepts one
// vpcd at a time (its reversed mode). A save failure ends with that error.
Status serve_vpcd(StoredApplet& card, const VpcdOptions& options);

}  // namespace smacert::card
