// Single-use, short-lived login challenges for relying parties
// (POST /rp/v1/challenges), held in memory. The service's own challenge table
// is not used: only the service's use cases consume from it, inside their
// transactions, and a relying party's nonce needs no durability — after a
// restart the phone simply asks for a new one, as sessions are also kept in
// memory. A scale-out deployment pins a login to the node that issued its
// challenge, or gives each relying party its own book.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"

namespace smacert::rp {

struct Challenge {
  std::string nonce;  // 32 random bytes, base64url
  // What the login signature must name; empty: not bound, the login names it.
  std::string audience;
  TimePoint expires_at;
};

class ChallengeBook {
 public:
  // At most `capacity` live challenges: a flood of requests cannot grow memory
  // without bound (Errc::unavailable until some expire).
  ChallengeBook(const Clock& clock, Random& random, Seconds ttl = Seconds(120),
                std::size_t capacity = 100'000);

  Result<Challenge> issue(const std::string& audience);

  // Spends the nonce: Errc::conflict when it was already used (a replay),
  // Errc::expired when its time ran out, Errc::verification when never issued (or long gone).
  Result<Challenge> consume(const std::string& nonce);

  std::size_t size() const;

 private:
  struct Entry {
    Challenge challenge;
    bool used = false;
  };
  void purge_expired(TimePoint now);

  const Clock& clock_;
  Random& random_;
  Seconds ttl_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  // Used nonces stay until they expire, so a replay is named as such.
  std::map<std::string, Entry> entries_;
};

}  // namespace smacert::rp
