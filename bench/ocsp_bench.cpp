// The OCSP answer path in process: a pre-signed response found in memory
// (what the responder does for every known serial) against signing one on
// demand (what a responder without pre-signing does) — the baseline, run in
// the same go. Issue 8 adds the HTTP-level benchmarks against nginx and
// `openssl ocsp`.
#include <benchmark/benchmark.h>

#include <chrono>

#include "core/clock.h"
#include "core/random.h"
#include "pki/ocsp.h"
#include "support/temp_dir.h"

namespace {

using namespace smacert;

struct Fixture {
  testing::TempDir dir{"bench"};
  SystemClock clock;
  OsRandom random;
  pki::Authorities authorities;
  std::unique_ptr<pki::OcspResponder> responder;
  std::vector<Bytes> requests;
  std::vector<Bytes> serials;

  Fixture() {
    authorities = std::move(*pki::Authorities::open_or_create(dir.path(), {}, clock, random));
    responder = std::make_unique<pki::OcspResponder>(authorities, clock);
    X509* ca = authorities.auth->certificate();
    // 10,000 serials in memory; requests for a sample of them.
    for (int i = 0; i < 10000; ++i) {
      auto serial = *pki::serial_bytes(pki::random_serial(random));
      responder->put(pki::CaKind::auth, serial,
                     *responder->sign_entry(pki::CaKind::auth, serial, pki::Good{}));
      serials.push_back(serial);
    }
    for (int i = 0; i < 256; ++i) {
      pki::BignumPtr bn(
          BN_bin2bn(serials[i * 37].data(), static_cast<int>(serials[i * 37].size()), nullptr));
      pki::Asn1IntegerPtr sn(BN_to_ASN1_INTEGER(bn.get(), nullptr));
      pki::OcspRequestPtr req(OCSP_REQUEST_new());
      OCSP_request_add0_id(req.get(), OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca),
                                                       X509_get0_pubkey_bitstr(ca), sn.get()));
      unsigned char* p = nullptr;
      int len = i2d_OCSP_REQUEST(req.get(), &p);
      requests.emplace_back(p, p + len);
      OPENSSL_free(p);
    }
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_OcspPresigned(benchmark::State& state) {
  auto& f = fixture();
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = f.responder->respond(f.requests[i++ % f.requests.size()]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_OcspSignOnDemand(benchmark::State& state) {
  auto& f = fixture();
  pki::OcspSigner signer(*f.authorities.auth);
  std::size_t i = 0;
  for (auto _ : state) {
    auto now = f.clock.now();
    auto r = signer.sign(f.serials[i++ % f.serials.size()], pki::Good{}, now,
                         now + std::chrono::hours(24));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_OcspPresigned);
BENCHMARK(BM_OcspSignOnDemand);

}  // namespace

BENCHMARK_MAIN();
