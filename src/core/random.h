// Randomness is injected like time. OsRandom draws from OpenSSL's CSPRNG;
// tests may supply a deterministic source where repeatability matters.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace smacert {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;

  std::vector<std::uint8_t> bytes(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    fill(v);
    return v;
  }
};

class OsRandom final : public Random {
 public:
  void fill(std::span<std::uint8_t> out) override;
};

}  // namespace smacert
