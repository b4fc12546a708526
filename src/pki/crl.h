// Full CRLs per CA (RFC 5280 5): CRL number, authority key identifier,
// reason codes, thisUpdate / nextUpdate, signed by the CA key.
//
// A country's CRL holds millions of serials, so the DER is written directly
// (no X509_REVOKED objects): each revoked entry is encoded once, when it is
// set, and kept in serial order (a sorted array, plus the changes since it
// was last sorted); a new CRL concatenates the kept encodings, adds the
// header and extensions and is signed once. After one more revocation only
// that entry is encoded again.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pki/authority.h"
#include "pki/revocation.h"

namespace smacert::pki {

struct CrlEntry {
  std::string serial;  // hex
  TimePoint revoked_at;
  RevocationReason reason;
};

struct CrlParams {
  std::int64_t number;  // RFC 5280 5.2.3: strictly increasing per CA
  TimePoint this_update;
  TimePoint next_update;
};

class CrlBuilder {
 public:
  explicit CrlBuilder(const CertificateAuthority& ca);

  // Replaces every entry (a load from the store); a serial listed twice
  // keeps its last entry.
  Status assign(std::span<const CrlEntry> entries);
  // Adds a revoked serial, or replaces what it says (a suspension that
  // became a revocation); Errc::invalid_argument for a serial that is not
  // positive hex of at most 20 octets (RFC 5280 4.1.2.2).
  Status set(const CrlEntry& entry);
  // Takes a serial off the list (a suspension lifted); true if it was there.
  bool remove(std::string_view serial_hex);
  void clear();
  std::size_t size() const { return count_; }

  // The signed DER CertificateList of every entry set, in serial order.
  Result<Bytes> build(const CrlParams& params) const;

 private:
  // RFC 5280 allows 20 octets; one byte more for the length so that keys
  // order as the serials' values do (shorter magnitude first).
  using Key = std::array<std::uint8_t, 21>;
  // SEQUENCE { serial, revocationDate, [reasonCode extension] } fits in 64.
  struct Encoded {
    std::uint8_t size = 0;
    std::array<std::uint8_t, 63> der{};
  };
  struct Item {
    Key key;
    Encoded encoded;
  };
  static Result<Item> encode(const CrlEntry& entry);
  static Result<Key> key_of(std::string_view serial_hex);
  const Encoded* find_sorted(const Key& key) const;
  void apply(const Key& key, std::optional<Encoded> encoded);
  void fold();  // the changes into the sorted array

  const CertificateAuthority& ca_;
  std::vector<Item> sorted_;                       // by key, unique
  std::map<Key, std::optional<Encoded>> changes_;  // since: set, or removed
  std::size_t count_ = 0;
  std::size_t entries_bytes_ = 0;
};

// One CRL from a list of entries: a CrlBuilder holding exactly them.
Result<Bytes> build_crl(const CertificateAuthority& ca, std::span<const CrlEntry> entries,
                        const CrlParams& params);

}  // namespace smacert::pki
