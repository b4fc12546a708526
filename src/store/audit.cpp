// The audit log's hash chain, shared by every Store implementation.
//
// hash = hex(SHA-256(F(prev_hash) || F(seq) || F(at) || F(actor) || F(action)
//                    || F(subject) || F(details)))
// where F(x) is the byte length of x as 8 bytes big-endian followed by x, and
// seq and at are written as decimal ASCII. The length prefix is what stops a
// rewrite that moves bytes from one field to the next (actor "ab", action "c"
// versus actor "a", action "bc") from keeping the hash. Anyone can recompute
// it with a few lines in another language.
#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "store/rules.h"
#include "store/store.h"

namespace smacert::store {
namespace {

void append_field(std::string& out, std::string_view field) {
  const std::uint64_t size = field.size();
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((size >> shift) & 0xff);
  out += field;
}

constexpr int kPageSize = 1000;

}  // namespace

std::string audit_hash(const AuditEntry& e) {
  std::string message;
  message.reserve(7 * 8 + e.prev_hash.size() + e.actor.size() + e.action.size() + e.subject.size() +
                  e.details.size() + 40);
  append_field(message, e.prev_hash);
  append_field(message, std::to_string(e.seq));
  append_field(message, std::to_string(e.at));
  append_field(message, e.actor);
  append_field(message, e.action);
  append_field(message, e.subject);
  append_field(message, e.details);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // One-shot EVP_Digest needs no context to free. It only fails when the
  // default provider is unusable; an empty hash then never verifies, and
  // append_audit refuses to store it.
  if (EVP_Digest(message.data(), message.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  return hex_encode(ByteView(digest, size));
}

Status verify_audit_chain(Store& store) {
  std::string expected_prev = kGenesisHash;
  std::int64_t expected_seq = 1;
  for (;;) {
    // One short transaction per page: the log is append-only, so pages read
    // at different moments still form one chain, and writers are not held up
    // for the length of a full walk.
    auto tx = store.begin();
    if (!tx) return fail(tx.error().context("verifying the audit chain"));
    auto page = (*tx)->audit_entries(expected_seq - 1, kPageSize);
    if (!page) return fail(page.error().context("verifying the audit chain"));
    tx->reset();  // read only: ending it (a rollback) frees the connection
    for (const AuditEntry& e : *page) {
      const std::string where = "audit entry " + std::to_string(e.seq) + ": ";
      if (e.seq != expected_seq) {
        return fail(Errc::verification, "audit entry " + std::to_string(expected_seq) +
                                            " is missing (next entry is " + std::to_string(e.seq) +
                                            ")");
      }
      if (e.prev_hash != expected_prev) {
        return fail(Errc::verification,
                    where + (e.seq == 1 ? "the first entry's prev_hash is not 64 zeros"
                                        : "prev_hash does not match the hash of entry " +
                                              std::to_string(e.seq - 1)));
      }
      if (audit_hash(e) != e.hash) {
        return fail(Errc::verification, where + "its content does not match its hash");
      }
      expected_prev = e.hash;
      ++expected_seq;
    }
    if (page->size() < static_cast<std::size_t>(kPageSize)) return {};
  }
}

}  // namespace smacert::store
