#include "pki/crl.h"

#include <algorithm>
#include <cstring>

#include "pki/der_writer.h"
#include "pki/signer.h"

namespace smacert::pki {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Bytes integer64(std::int64_t v) {
  Bytes content;
  std::uint64_t u = static_cast<std::uint64_t>(v);
  do {
    content.insert(content.begin(), static_cast<std::uint8_t>(u & 0xff));
    u >>= 8;
  } while (u > 0);
  if (content.front() & 0x80) content.insert(content.begin(), 0);
  return der::tlv(der::tag::kInteger, content);
}

}  // namespace

CrlBuilder::CrlBuilder(const CertificateAuthority& ca) : ca_(ca) {}

// Magnitude of a positive hex serial of at most 20 octets, as a key.
Result<CrlBuilder::Key> CrlBuilder::key_of(std::string_view hex) {
  auto bad = [&] {
    return fail(Errc::invalid_argument,
                "a CRL serial must be positive hex of at most 20 octets, not '" +
                    std::string(hex.substr(0, 48)) + "'");
  };
  std::size_t z = 0;
  while (z < hex.size() && hex[z] == '0') ++z;
  std::string_view digits = hex.substr(z);
  if (hex.empty() || digits.empty() || digits.size() > 40) return bad();
  Key key{};
  const std::size_t n = (digits.size() + 1) / 2;
  key[0] = static_cast<std::uint8_t>(n);
  std::size_t i = 0, at = 1;
  if (digits.size() % 2) {
    int v = hex_digit(digits[0]);
    if (v < 0) return bad();
    key[at++] = static_cast<std::uint8_t>(v);
    i = 1;
  }
  for (; i < digits.size(); i += 2) {
    int hi = hex_digit(digits[i]), lo = hex_digit(digits[i + 1]);
    if (hi < 0 || lo < 0) return bad();
    key[at++] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return key;
}

// SEQUENCE { userCertificate INTEGER, revocationDate Time, crlEntryExtensions }
Result<CrlBuilder::Item> CrlBuilder::encode(const CrlEntry& e) {
  auto key = key_of(e.serial);
  if (!key) return fail(key.error().context("CRL entry"));
  Item item{*key, {}};
  std::uint8_t* body = item.encoded.der.data() + 2;
  const std::size_t size = (*key)[0];
  const bool pad = ((*key)[1] & 0x80) != 0;
  std::size_t n = 0;
  body[n++] = der::tag::kInteger;
  body[n++] = static_cast<std::uint8_t>(size + (pad ? 1 : 0));
  if (pad) body[n++] = 0;
  std::memcpy(body + n, key->data() + 1, size);
  n += size;
  n += der::put_time(body + n, e.revoked_at);
  // RFC 5280 5.3.1: "the reason code CRL entry extension SHOULD be absent
  // instead of using the unspecified (0) reasonCode value".
  if (e.reason != RevocationReason::unspecified) {
    static constexpr std::uint8_t kReason[] = {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55,
                                               0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01};
    std::memcpy(body + n, kReason, sizeof kReason);
    n += sizeof kReason;
    body[n++] = static_cast<std::uint8_t>(e.reason);
  }
  item.encoded.der[0] = der::tag::kSequence;
  item.encoded.der[1] = static_cast<std::uint8_t>(n);
  item.encoded.size = static_cast<std::uint8_t>(n + 2);
  return item;
}

Status CrlBuilder::assign(std::span<const CrlEntry> entries) {
  std::vector<Item> items;
  items.reserve(entries.size());
  for (const auto& e : entries) {
    auto item = encode(e);
    if (!item) return fail(item.error());
    items.push_back(*item);
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.key < b.key; });
  // Of equal serials the last one listed stays.
  std::vector<Item> unique;
  unique.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i)
    if (i + 1 == items.size() || items[i + 1].key != items[i].key) unique.push_back(items[i]);
  sorted_ = std::move(unique);
  changes_.clear();
  count_ = sorted_.size();
  entries_bytes_ = 0;
  for (const auto& i : sorted_) entries_bytes_ += i.encoded.size;
  return {};
}

const CrlBuilder::Encoded* CrlBuilder::find_sorted(const Key& key) const {
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), key,
                             [](const Item& i, const Key& k) { return i.key < k; });
  return it != sorted_.end() && it->key == key ? &it->encoded : nullptr;
}

void CrlBuilder::apply(const Key& key, std::optional<Encoded> encoded) {
  // What the list says of this serial now, to keep the count and the size.
  const Encoded* now = nullptr;
  if (auto c = changes_.find(key); c != changes_.end())
    now = c->second ? &*c->second : nullptr;
  else
    now = find_sorted(key);
  if (now) {
    --count_;
    entries_bytes_ -= now->size;
  }
  if (encoded) {
    ++count_;
    entries_bytes_ += encoded->size;
  }
  changes_[key] = encoded;
  // Keep the merge in build() cheap: fold once the changes grow.
  if (changes_.size() > std::max<std::size_t>(4096, sorted_.size() / 16)) fold();
}

void CrlBuilder::fold() {
  std::vector<Item> merged;
  merged.reserve(count_);
  auto c = changes_.begin();
  for (const auto& item : sorted_) {
    for (; c != changes_.end() && c->first < item.key; ++c)
      if (c->second) merged.push_back({c->first, *c->second});
    if (c != changes_.end() && c->first == item.key) {
      if (c->second) merged.push_back({c->first, *c->second});
      ++c;
    } else {
      merged.push_back(item);
    }
  }
  for (; c != changes_.end(); ++c)
    if (c->second) merged.push_back({c->first, *c->second});
  sorted_ = std::move(merged);
  changes_.clear();
}

Status CrlBuilder::set(const CrlEntry& e) {
  auto item = encode(e);
  if (!item) return fail(item.error());
  apply(item->key, item->encoded);
  return {};
}

bool CrlBuilder::remove(std::string_view serial_hex) {
  auto key = key_of(serial_hex);
  if (!key) return false;
  auto c = changes_.find(*key);
  bool listed = c != changes_.end() ? c->second.has_value() : find_sorted(*key) != nullptr;
  if (listed) apply(*key, std::nullopt);
  return listed;
}

void CrlBuilder::clear() {
  sorted_.clear();
  changes_.clear();
  count_ = 0;
  entries_bytes_ = 0;
}

Result<Bytes> CrlBuilder::build(const CrlParams& params) const {
  const Bytes& issuer = ca_.name_der();
  const Bytes& signature_alg = ca_.signature_algorithm();
  // RFC 5280 5.1.2.1: version 2 (INTEGER 1) because the CRL carries extensions.
  const Bytes version = der::small_integer(1);
  const Bytes this_update = der::time(params.this_update);
  const Bytes next_update = der::time(params.next_update);
  // RFC 5280 5.2.1 (AKI, MUST) and 5.2.3 (CRL number, MUST), in that order.
  const Bytes extensions =
      der::tlv(der::tag::context(0),
               der::sequence({ca_.authority_key_identifier(),
                              der::extension("2.5.29.20", false, integer64(params.number))}));
  // RFC 5280 5.1.2.6: revokedCertificates is absent when there are none.
  const Bytes revoked_header =
      count_ == 0 ? Bytes{} : der::header(der::tag::kSequence, entries_bytes_);
  const std::size_t tbs_content = version.size() + signature_alg.size() + issuer.size() +
                                  this_update.size() + next_update.size() + revoked_header.size() +
                                  entries_bytes_ + extensions.size();
  const Bytes tbs_header = der::header(der::tag::kSequence, tbs_content);
  const std::size_t tbs_size = tbs_header.size() + tbs_content;

  // The whole CertificateList in one buffer: room for its own header first,
  // then the TBSCertList, which is signed where it lies.
  constexpr std::size_t kRoom = 6;
  Bytes out;
  out.reserve(kRoom + tbs_size + signature_alg.size() + 16 + 512);
  out.resize(kRoom);
  auto append = [&out](ByteView b) { out.insert(out.end(), b.begin(), b.end()); };
  append(tbs_header);
  append(version);
  append(signature_alg);
  append(issuer);
  append(this_update);
  append(next_update);
  append(revoked_header);
  const std::size_t entries_at = out.size();
  out.resize(entries_at + entries_bytes_);
  std::uint8_t* w = out.data() + entries_at;
  auto put = [&w](const Encoded& e) {
    std::memcpy(w, e.der.data(), e.size);
    w += e.size;
  };
  // The sorted array merged with the changes since, in serial order.
  auto c = changes_.begin();
  for (const auto& item : sorted_) {
    for (; c != changes_.end() && c->first < item.key; ++c)
      if (c->second) put(*c->second);
    if (c != changes_.end() && c->first == item.key) {
      if (c->second) put(*c->second);
      ++c;
    } else {
      put(item.encoded);
    }
  }
  for (; c != changes_.end(); ++c)
    if (c->second) put(*c->second);
  append(extensions);

  auto signature = sign_sha256_data(ca_.key(), ByteView(out).subspan(kRoom, tbs_size));
  if (!signature) return fail(signature.error().context("signing the CRL"));
  append(signature_alg);
  append(der::bit_string(*signature));

  const Bytes list_header = der::header(der::tag::kSequence, out.size() - kRoom);
  std::memcpy(out.data() + kRoom - list_header.size(), list_header.data(), list_header.size());
  out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(kRoom - list_header.size()));
  return out;
}

Result<Bytes> build_crl(const CertificateAuthority& ca, std::span<const CrlEntry> entries,
                        const CrlParams& params) {
  CrlBuilder builder(ca);
  SMACERT_TRY_STATUS(builder.assign(entries));
  return builder.build(params);
}

}  // namespace smacert::pki
