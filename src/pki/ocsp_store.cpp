#include "pki/ocsp_store.h"

#include <algorithm>
#include <cstring>

#include "pki/der_reader.h"

namespace smacert::pki {
namespace {

using der::only;

bool same(ByteView a, ByteView b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// responseStatus successful (RFC 6960 4.2.1), and id-pkix-ocsp-basic.
constexpr std::uint8_t kSuccessful[] = {0x0a, 0x01, 0x00};
constexpr std::uint8_t kBasicOid[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x05,
                                      0x05, 0x07, 0x30, 0x01, 0x01};

std::size_t header_size(std::size_t len) {
  if (len < 0x80) return 2;
  std::size_t n = 0;
  for (std::size_t l = len; l; l >>= 8) ++n;
  return 2 + n;
}

std::uint8_t* write_header(std::uint8_t* p, std::uint8_t tag, std::size_t len) {
  *p++ = tag;
  if (len < 0x80) {
    *p++ = static_cast<std::uint8_t>(len);
    return p;
  }
  std::size_t n = header_size(len) - 2;
  *p++ = static_cast<std::uint8_t>(0x80 | n);
  for (std::size_t i = n; i-- > 0;) *p++ = static_cast<std::uint8_t>(len >> (8 * i));
  return p;
}

std::uint8_t* put_bytes(std::uint8_t* p, ByteView b) {
  if (!b.empty()) std::memcpy(p, b.data(), b.size());
  return p + b.size();
}

std::uint32_t hash_of(const SerialKey& k) {
  // FNV-1a: serials are random, but a hash must not trust its input.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < k.size; ++i) h = (h ^ k.bytes[i]) * 0x100000001b3ULL;
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

}  // namespace

std::optional<SerialKey> SerialKey::of(ByteView serial) {
  if (serial.size() > 20) return std::nullopt;
  SerialKey k;
  std::copy(serial.begin(), serial.end(), k.bytes.begin());
  k.size = static_cast<std::uint8_t>(serial.size());
  return k;
}

std::optional<OcspResponseParts> split_ocsp_response(ByteView der) {
  // Every level must be the only content of the one above it, in minimal
  // DER: then writing the lengths again gives the same bytes.
  auto response = only(der, 0x30);
  if (!response) return std::nullopt;
  ByteView in = *response;
  auto status = der::read(in);
  auto bytes = der::read(in);
  if (!bytes || !in.empty() || !same(status->whole, kSuccessful) || bytes->tag != 0xa0)
    return std::nullopt;
  auto seq = only(bytes->content, 0x30);
  if (!seq) return std::nullopt;
  in = *seq;
  auto type = der::read(in);
  auto octets = der::read(in);
  if (!octets || !in.empty() || !same(type->whole, kBasicOid) || octets->tag != 0x04)
    return std::nullopt;
  auto basic = only(octets->content, 0x30);
  if (!basic) return std::nullopt;
  in = *basic;
  auto tbs = der::read(in);
  auto algorithm = der::read(in);
  auto signature = der::read(in);
  if (!signature || tbs->tag != 0x30 || algorithm->tag != 0x30 || signature->tag != 0x03)
    return std::nullopt;
  OcspResponseParts parts{tbs->whole, algorithm->whole, signature->whole, {}};
  if (!in.empty()) {
    auto certs = der::read(in);
    if (!certs || !in.empty() || certs->tag != 0xa0) return std::nullopt;
    parts.extra = certs->whole;
  }
  return parts;
}

void join_ocsp_response(const OcspResponseParts& parts, Bytes& out) {
  const std::size_t basic =
      parts.tbs.size() + parts.algorithm.size() + parts.signature.size() + parts.extra.size();
  const std::size_t octets = header_size(basic) + basic;
  const std::size_t seq = sizeof kBasicOid + header_size(octets) + octets;
  const std::size_t bytes = header_size(seq) + seq;
  const std::size_t response = sizeof kSuccessful + header_size(bytes) + bytes;
  out.resize(header_size(response) + response);
  std::uint8_t* p = write_header(out.data(), 0x30, response);
  p = put_bytes(p, kSuccessful);
  p = write_header(p, 0xa0, bytes);
  p = write_header(p, 0x30, seq);
  p = put_bytes(p, kBasicOid);
  p = write_header(p, 0x04, octets);
  p = write_header(p, 0x30, basic);
  p = put_bytes(p, parts.tbs);
  p = put_bytes(p, parts.algorithm);
  p = put_bytes(p, parts.signature);
  put_bytes(p, parts.extra);
}

std::optional<std::uint32_t> OcspStore::find(const SerialKey& key, std::uint32_t hash) const {
  if (index_.empty()) return std::nullopt;
  const std::size_t mask = index_.size() - 1;
  for (std::size_t pos = hash & mask;; pos = (pos + 1) & mask) {
    const Bucket& b = index_[pos];
    if (b.slot == 0) return std::nullopt;
    if (b.hash != hash) continue;
    const Slot& s = slot(b.slot - 1);
    if (s.serial_size == key.size &&
        std::equal(key.bytes.begin(), key.bytes.begin() + key.size, s.serial.begin()))
      return b.slot - 1;
  }
}

void OcspStore::grow_index() {
  std::vector<Bucket> bigger(index_.empty() ? 1024 : index_.size() * 2);
  const std::size_t mask = bigger.size() - 1;
  for (const Bucket& b : index_) {
    if (b.slot == 0) continue;
    std::size_t pos = b.hash & mask;
    while (bigger[pos].slot != 0) pos = (pos + 1) & mask;
    bigger[pos] = b;
  }
  index_.swap(bigger);
}

std::int64_t OcspStore::minute_of(std::int64_t ticks) {
  return std::chrono::floor<std::chrono::minutes>(TimePoint::duration(ticks)).count();
}

std::uint8_t OcspStore::frame_of(ByteView algorithm, ByteView extra) {
  for (std::size_t i = 0; i < frames_.size(); ++i)
    if (same(frames_[i].algorithm, algorithm) && same(frames_[i].extra, extra))
      return static_cast<std::uint8_t>(i);
  if (frames_.size() == kWhole) return kWhole;  // a new signer every time: keep them whole
  frames_.push_back(
      Frame{Bytes(algorithm.begin(), algorithm.end()), Bytes(extra.begin(), extra.end())});
  return static_cast<std::uint8_t>(frames_.size() - 1);
}

std::uint64_t OcspStore::allocate(std::uint32_t size) {
  if (auto it = free_.find(size); it != free_.end() && !it->second.empty()) {
    std::uint64_t ref = it->second.back();
    it->second.pop_back();
    return ref;
  }
  if (blocks_.empty() || block_sizes_.back() - block_used_ < size) {
    std::size_t n = std::max<std::size_t>(kArenaBlock, size);
    blocks_.push_back(std::make_unique_for_overwrite<std::uint8_t[]>(n));
    block_sizes_.push_back(n);
    block_used_ = 0;
    arena_bytes_ += n;
  }
  std::uint64_t ref = (static_cast<std::uint64_t>(blocks_.size() - 1) << 32) | block_used_;
  block_used_ += size;
  return ref;
}

void OcspStore::release(std::uint64_t ref, std::uint32_t size) {
  free_[size].push_back(ref);
}

void OcspStore::write(Slot& s, ByteView response, const CertStatus& status, TimePoint next_update) {
  auto parts = split_ocsp_response(response);
  std::uint8_t frame = kWhole;
  if (parts && parts->tbs.size() <= 0xffff) frame = frame_of(parts->algorithm, parts->extra);
  ByteView first = response, second;
  if (frame != kWhole) {
    first = parts->tbs;
    second = parts->signature;
  }
  s.frame = frame;
  s.tbs_size = frame == kWhole ? 0 : static_cast<std::uint16_t>(first.size());
  s.size = static_cast<std::uint32_t>(first.size() + second.size());
  s.record = allocate(s.size);
  put_bytes(put_bytes(at(s.record), first), second);
  s.status = 0;
  s.reason = 0;
  s.revoked_at = 0;
  if (const auto* r = std::get_if<Revoked>(&status)) {
    s.status = 1;
    s.reason = static_cast<std::uint8_t>(r->reason);
    s.revoked_at = r->at.time_since_epoch().count();
  } else if (std::holds_alternative<Unknown>(status)) {
    s.status = 2;
  }
  s.next_update = next_update.time_since_epoch().count();
}

bool OcspStore::put(ByteView serial, ByteView response, const CertStatus& status,
                    TimePoint next_update) {
  auto key = SerialKey::of(serial);
  if (!key) return false;
  const std::uint32_t hash = hash_of(*key);
  if (auto i = find(*key, hash)) {
    Slot& s = slot(*i);
    const std::int64_t minute = minute_of(s.next_update);
    release(s.record, s.size);
    write(s, response, status, next_update);
    ++s.version;
    if (minute_of(s.next_update) != minute) {
      by_next_update_[minute_of(s.next_update)].push_back(*i);
      ++filed_;
    }
    return true;
  }
  if (count_ == UINT32_MAX - 1) return false;
  if ((static_cast<std::size_t>(count_) + 1) * 4 > index_.size() * 3) grow_index();
  const std::uint32_t i = count_;
  if (i / kSlotsPerChunk == slots_.size())
    slots_.push_back(std::make_unique_for_overwrite<Slot[]>(kSlotsPerChunk));
  Slot& s = slot(i);
  s.serial = key->bytes;
  s.serial_size = key->size;
  s.version = 0;
  write(s, response, status, next_update);
  const std::size_t mask = index_.size() - 1;
  std::size_t pos = hash & mask;
  while (index_[pos].slot != 0) pos = (pos + 1) & mask;
  index_[pos] = Bucket{i + 1, hash};
  ++count_;
  by_next_update_[minute_of(s.next_update)].push_back(i);
  ++filed_;
  return true;
}

bool OcspStore::replace(const SerialKey& serial, std::uint16_t version, ByteView response,
                        const CertStatus& status, TimePoint next_update) {
  auto i = find(serial, hash_of(serial));
  if (!i || slot(*i).version != version) return false;
  return put(serial.view(), response, status, next_update);
}

bool OcspStore::answer(ByteView serial, Bytes& out) const {
  auto key = SerialKey::of(serial);
  if (!key) return false;
  auto i = find(*key, hash_of(*key));
  if (!i) return false;
  const Slot& s = slot(*i);
  const std::uint8_t* record = at(s.record);
  if (s.frame == kWhole) {
    out.resize(s.size);
    std::memcpy(out.data(), record, s.size);
    return true;
  }
  const Frame& f = frames_[s.frame];
  join_ocsp_response({ByteView(record, s.tbs_size), f.algorithm,
                      ByteView(record + s.tbs_size, s.size - s.tbs_size), f.extra},
                     out);
  return true;
}

OcspStore::Facts OcspStore::facts_of(const Slot& s) const {
  Facts f;
  if (s.status == 1)
    f.status = Revoked{TimePoint(TimePoint::duration(s.revoked_at)),
                       static_cast<RevocationReason>(s.reason)};
  else if (s.status == 2)
    f.status = Unknown{};
  else
    f.status = Good{};
  f.next_update = TimePoint(TimePoint::duration(s.next_update));
  f.version = s.version;
  return f;
}

std::optional<OcspStore::Facts> OcspStore::facts(ByteView serial) const {
  auto key = SerialKey::of(serial);
  if (!key) return std::nullopt;
  auto i = find(*key, hash_of(*key));
  if (!i) return std::nullopt;
  return facts_of(slot(*i));
}

std::vector<OcspStore::Due> OcspStore::due(TimePoint horizon, std::size_t limit) {
  const std::int64_t before = horizon.time_since_epoch().count();
  const std::int64_t last = minute_of(before);
  std::vector<Due> out;
  for (auto it = by_next_update_.begin();
       it != by_next_update_.end() && it->first <= last && out.size() < limit;) {
    auto& filed = it->second;
    std::size_t kept = 0, r = 0;
    for (; r < filed.size(); ++r) {
      const Slot& s = slot(filed[r]);
      if (minute_of(s.next_update) != it->first) {  // re-signed or changed since: filed elsewhere
        --filed_;
        continue;
      }
      if (s.next_update < before) {
        if (out.size() == limit) break;
        SerialKey key;
        key.bytes = s.serial;
        key.size = s.serial_size;
        out.push_back(Due{key, facts_of(s)});
      }
      // Stays filed here until its new answer is put (a failed signature
      // is retried on the next round).
      filed[kept++] = filed[r];
    }
    for (; r < filed.size(); ++r) filed[kept++] = filed[r];
    filed.resize(kept);
    if (filed.empty())
      it = by_next_update_.erase(it);
    else
      ++it;
  }
  return out;
}

std::size_t OcspStore::memory() const {
  std::size_t n = slots_.size() * kSlotsPerChunk * sizeof(Slot) + index_.size() * sizeof(Bucket) +
                  arena_bytes_ + filed_ * sizeof(std::uint32_t);
  for (const auto& f : frames_) n += f.algorithm.size() + f.extra.size();
  return n;
}

}  // namespace smacert::pki
