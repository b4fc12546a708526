// The pre-signed OCSP answers of one CA, held compactly enough for ten
// million serials. Every answer the delegated signer makes is the same
// OCSPResponse around two parts that differ per serial (RFC 6960 4.2.1):
//
//   OCSPResponse { responseStatus successful, responseBytes [0] {
//     id-pkix-ocsp-basic, OCTET STRING { BasicOCSPResponse {
//       tbsResponseData      <- per serial
//       signatureAlgorithm   <- shared
//       signature            <- per serial
//       certs [0]            <- shared: the signer's certificate, ~500 bytes } } } }
//
// so only tbsResponseData and the signature are kept per serial, in an arena
// of large blocks, and the rest (a "frame": the algorithm and the
// certificates, one per signer seen) is spliced back when answering. The
// outer lengths are written in minimal DER, and a response is split only if
// all of its own lengths are minimal and nothing else sits between the
// parts, so the answer is the stored response byte for byte. Anything of
// another shape is kept whole.
//
// Not thread-safe: the responder holds its lock around every call.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "pki/revocation.h"

namespace smacert::pki {

// Serials up to 20 octets (RFC 5280 4.1.2.2) as fixed-size keys: a lookup
// builds its key on the stack.
struct SerialKey {
  std::array<std::uint8_t, 20> bytes{};
  std::uint8_t size = 0;
  static std::optional<SerialKey> of(ByteView serial);
  ByteView view() const { return {bytes.data(), size}; }
  bool operator==(const SerialKey&) const = default;
};

// The parts of a DER OCSPResponse as made by OcspSigner: views into it.
struct OcspResponseParts {
  ByteView tbs;        // tbsResponseData, the whole TLV
  ByteView algorithm;  // signatureAlgorithm, the whole TLV
  ByteView signature;  // signature BIT STRING, the whole TLV
  ByteView extra;      // certs [0], the whole TLV, or empty when absent
};
// The parts, or nullopt unless joining them again gives exactly `der`.
std::optional<OcspResponseParts> split_ocsp_response(ByteView der);
// Writes the OCSPResponse made of `parts` into `out` (resized, so a buffer
// that already has the capacity is not reallocated).
void join_ocsp_response(const OcspResponseParts& parts, Bytes& out);

class OcspStore {
 public:
  // What an entry says besides its bytes.
  struct Facts {
    CertStatus status;
    TimePoint next_update;
    std::uint16_t version = 0;  // changes with every put of this serial
  };

  // Installs or replaces the answer for `serial` (the magnitude, at most 20
  // octets; longer ones are not ours and are refused with false).
  bool put(ByteView serial, ByteView response, const CertStatus& status, TimePoint next_update);
  // put(), only if the entry's version is still `version` (nothing replaced
  // it since it was read); false otherwise.
  bool replace(const SerialKey& serial, std::uint16_t version, ByteView response,
               const CertStatus& status, TimePoint next_update);

  // Writes the answer for `serial` into `out`; false if there is none.
  // Allocates nothing when `out` has the capacity.
  bool answer(ByteView serial, Bytes& out) const;
  std::optional<Facts> facts(ByteView serial) const;

  // Up to `limit` serials whose nextUpdate is before `horizon`, soonest
  // minute first, with what their entries say now. Looks only at entries
  // filed under minutes before the horizon (an index by nextUpdate), never
  // at the whole store.
  struct Due {
    SerialKey serial;
    Facts facts;
  };
  std::vector<Due> due(TimePoint horizon, std::size_t limit);

  std::size_t size() const { return count_; }
  // Bytes held for the entries (slots, hash index, arena, due index).
  std::size_t memory() const;

 private:
  static constexpr std::uint8_t kWhole = 0xff;  // frame of an entry kept whole
  struct Slot {
    std::array<std::uint8_t, 20> serial;
    std::uint8_t serial_size;
    std::uint8_t frame;   // index into frames_, or kWhole
    std::uint8_t status;  // 0 good, 1 revoked, 2 unknown
    std::uint8_t reason;
    std::uint16_t tbs_size;  // the record is tbs followed by the signature
    std::uint16_t version;
    std::uint32_t size;        // record bytes
    std::uint64_t record;      // arena reference
    std::int64_t next_update;  // system_clock ticks
    std::int64_t revoked_at;   // system_clock ticks
  };
  struct Frame {
    Bytes algorithm, extra;
  };
  struct Bucket {
    std::uint32_t slot = 0;  // slot index + 1; 0 is empty
    std::uint32_t hash = 0;
  };
  static constexpr std::size_t kSlotsPerChunk = 1 << 16;
  static constexpr std::size_t kArenaBlock = 4 << 20;

  Slot& slot(std::uint32_t i) { return slots_[i / kSlotsPerChunk][i % kSlotsPerChunk]; }
  const Slot& slot(std::uint32_t i) const { return slots_[i / kSlotsPerChunk][i % kSlotsPerChunk]; }
  std::optional<std::uint32_t> find(const SerialKey& key, std::uint32_t hash) const;
  void grow_index();
  void write(Slot& s, ByteView response, const CertStatus& status, TimePoint next_update);
  Facts facts_of(const Slot& s) const;
  std::uint8_t frame_of(ByteView algorithm, ByteView extra);
  std::uint64_t allocate(std::uint32_t size);
  void release(std::uint64_t ref, std::uint32_t size);
  std::uint8_t* at(std::uint64_t ref) { return blocks_[ref >> 32].get() + (ref & 0xffffffffu); }
  const std::uint8_t* at(std::uint64_t ref) const {
    return blocks_[ref >> 32].get() + (ref & 0xffffffffu);
  }
  static std::int64_t minute_of(std::int64_t ticks);

  std::vector<std::unique_ptr<Slot[]>> slots_;
  std::uint32_t count_ = 0;
  std::vector<Bucket> index_;  // open addressing, linear probing, power-of-two size
  std::vector<Frame> frames_;
  // The arena: blocks of kArenaBlock bytes (or one record, if larger), a
  // bump pointer in the last, and freed records kept by exact size for the
  // next record of that size (answers of one signer differ by a few bytes).
  std::vector<std::unique_ptr<std::uint8_t[]>> blocks_;
  std::vector<std::size_t> block_sizes_;
  std::size_t block_used_ = 0;
  std::unordered_map<std::uint32_t, std::vector<std::uint64_t>> free_;
  std::size_t arena_bytes_ = 0;
  // Slots by the minute of their nextUpdate. A slot whose nextUpdate moves
  // is filed again under its new minute and left in the old one, where
  // due() drops it when it gets there.
  std::map<std::int64_t, std::vector<std::uint32_t>> by_next_update_;
  std::size_t filed_ = 0;
};

}  // namespace smacert::pki
