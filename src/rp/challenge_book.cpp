#include "rp/challenge_book.h"

#include "core/encoding.h"

namespace smacert::rp {

ChallengeBook::ChallengeBook(const Clock& clock, Random& random, Seconds ttl, std::size_t capacity)
    : clock_(clock), random_(random), ttl_(ttl), capacity_(capacity) {}

void ChallengeBook::purge_expired(TimePoint now) {
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.challenge.expires_at < now ? entries_.erase(it) : std::next(it);
}

Result<Challenge> ChallengeBook::issue(const std::string& audience) {
  auto now = clock_.now();
  Challenge c{base64url_encode(random_.bytes(32)), audience, now + ttl_};
  std::lock_guard lock(mutex_);
  if (entries_.size() >= capacity_) purge_expired(now);
  if (entries_.size() >= capacity_)
    return fail(Errc::unavailable, "too many open login challenges; try again shortly");
  entries_[c.nonce] = Entry{c, false};
  return c;
}

Result<Challenge> ChallengeBook::consume(const std::string& nonce) {
  auto now = clock_.now();
  std::lock_guard lock(mutex_);
  auto it = entries_.find(nonce);
  if (it == entries_.end())
    return fail(Errc::verification, "the nonce was not issued here, or it expired long ago");
  if (it->second.used) return fail(Errc::conflict, "the nonce was already used (a replay)");
  if (it->second.challenge.expires_at < now) {
    entries_.erase(it);
    return fail(Errc::expired, "the nonce has expired; ask for a new challenge");
  }
  it->second.used = true;
  return it->second.challenge;
}

std::size_t ChallengeBook::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace smacert::rp
