// crl_bench N_BIG N_BASE DIR — the CRL builder on N_BIG and N_BASE revoked
// serials (random 128-bit, as issued): a full build (every entry encoded,
// then signed), and a rebuild after one more revocation with the other
// encodings kept (incremental). Writes DIR/index.txt, N_BASE of the same
// entries in `openssl ca`'s format, for the baseline (`openssl ca -gencrl`),
// which make bench runs beside it. Prints JSON; best of three per figure.
#include <chrono>
#include <fstream>
#include <iostream>
#include <random>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/random.h"
#include "openssl_index.h"
#include "pki/crl.h"

namespace {

using namespace smacert;
using Steady = std::chrono::steady_clock;

double seconds_since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: crl_bench N_BIG N_BASE DIR\n";
    return 2;
  }
  const std::size_t n_big = std::stoul(argv[1]), n_base = std::stoul(argv[2]);
  const std::filesystem::path dir = argv[3];
  SystemClock clock;
  OsRandom random;
  auto authorities = pki::Authorities::open_or_create(dir, {}, clock, random);
  if (!authorities) {
    std::cerr << authorities.error().message << "\n";
    return 1;
  }
  const auto& ca = *authorities->sign;
  auto now = from_unix(to_unix(clock.now()));

  // Reasons that `openssl ca` takes without more arguments (certificateHold
  // needs a hold instruction there); the encoding is the same size.
  constexpr pki::RevocationReason kReasons[] = {
      pki::RevocationReason::unspecified, pki::RevocationReason::key_compromise,
      pki::RevocationReason::superseded, pki::RevocationReason::cessation_of_operation};
  constexpr const char* kReasonNames[] = {"", ",keyCompromise", ",superseded",
                                          ",cessationOfOperation"};
  std::mt19937_64 rng(8);
  std::vector<pki::CrlEntry> entries;
  entries.reserve(n_big);
  for (std::size_t i = 0; i < std::max(n_big, n_base); ++i) {
    Bytes b(16);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    b[0] = static_cast<std::uint8_t>((b[0] & 0x7f) | 0x01);
    entries.push_back(
        {hex_encode(b), now - std::chrono::seconds(rng() % 86400000), kReasons[i % 4]});
  }
  {
    std::ofstream index(dir / "index.txt");
    for (std::size_t i = 0; i < n_base; ++i)
      index << "R\t" << bench::openssl_index_time(now + std::chrono::hours(24 * 365)) << "\t"
            << bench::openssl_index_time(entries[i].revoked_at) << kReasonNames[i % 4] << "\t"
            << hex_encode(*hex_decode(entries[i].serial), true) << "\tunknown\t/CN=P" << i << "\n";
  }
  pki::CrlParams params{1, now, now + std::chrono::hours(24)};

  auto full = [&](std::size_t n, std::size_t& bytes) {
    double best = 1e9;
    for (int round = 0; round < 3; ++round) {
      auto t = Steady::now();
      auto der = pki::build_crl(ca, std::span(entries).first(n), params);
      best = std::min(best, seconds_since(t));
      if (!der) {
        std::cerr << der.error().message << "\n";
        std::exit(1);
      }
      bytes = der->size();
    }
    return best;
  };
  std::size_t big_bytes = 0, base_bytes = 0;
  double full_base = full(n_base, base_bytes);
  double full_big = full(n_big, big_bytes);

  // Incremental: a builder that holds n_big entries takes one more and signs.
  pki::CrlBuilder builder(ca);
  auto t = Steady::now();
  (void)builder.assign(std::span(entries).first(n_big));
  double encode_big = seconds_since(t);
  double incremental = 1e9, set_one = 1e9;
  for (int round = 0; round < 3; ++round) {
    Bytes b(16);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    b[0] &= 0x7f;
    auto t0 = Steady::now();
    (void)builder.set({hex_encode(b), now, pki::RevocationReason::superseded});
    set_one = std::min(set_one, seconds_since(t0));
    params.number++;
    auto der = builder.build(params);
    incremental = std::min(incremental, seconds_since(t0));
    if (!der) return 1;
  }
  std::cout << "{\"n_big\": " << n_big << ", \"n_base\": " << n_base
            << ", \"full_big_s\": " << full_big << ", \"full_base_s\": " << full_base
            << ", \"encode_big_s\": " << encode_big << ", \"incremental_big_s\": " << incremental
            << ", \"set_one_s\": " << set_one << ", \"crl_big_bytes\": " << big_bytes
            << ", \"crl_base_bytes\": " << base_bytes << ", \"ca_dir\": \""
            << (dir / "ca" / "sign").string() << "\", \"index_file\": \""
            << (dir / "index.txt").string() << "\"}\n";
  return 0;
}
