// bench_fixture DATA_DIR COUNT [rsa2048|p256] — the generator behind `make bench`: fills a
// smacert data folder directly (no HTTP, no issuance flow) with COUNT
// certificates of the user-authentication CA, each with its pre-signed OCSP
// response, so `smacert serve --data DATA_DIR` starts with COUNT responses to
// load. It also writes what the baselines need, into DATA_DIR/bench/:
//   index.txt            the same serials in `openssl ca` / `openssl ocsp` format
//   request.der          a DER OCSPRequest (SHA-1 CertID) for the first serial
//   request.b64url       the same, URL-safe base64 (GET /ocsp/auth/...)
//   response.der         smacert's pre-signed response for that serial (nginx serves it)
//   serials.txt          every serial, hex, one a line
//   fixture.json         {"count": COUNT, "seconds": S}, written last (the folder is complete)
// The certificate rows carry a placeholder DER (one byte string, not a
// certificate): the responder and the CRL read only the serial, the status
// and the pre-signed response, and signing COUNT certificates would double
// the generation time without changing what is measured.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/random.h"
#include "openssl_index.h"
#include "pki/ocsp.h"
#include "store/sqlite_store.h"

namespace {

using namespace smacert;

bool write(const std::filesystem::path& p, ByteView b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return static_cast<bool>(f);
}

int run(const std::filesystem::path& data, long count, pki::KeyAlgorithm algorithm) {
  SystemClock clock;
  OsRandom random;
  pki::PkiConfig config;
  config.algorithm = algorithm;
  auto authorities = pki::Authorities::open_or_create(data, config, clock, random);
  if (!authorities) {
    std::cerr << authorities.error().message << "\n";
    return 1;
  }
  auto store = store::SqliteStore::open(data / "store.db");
  if (!store) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  pki::OcspResponder responder(*authorities, clock);
  auto dir = data / "bench";
  std::filesystem::create_directories(dir);
  std::ofstream index(dir / "index.txt"), serials(dir / "serials.txt");
  const Bytes placeholder = to_bytes("bench_fixture placeholder, not a certificate");
  auto start = std::chrono::steady_clock::now();
  auto now = clock.now();
  auto not_after = now + std::chrono::hours(24 * 365);
  Bytes first_serial, first_response;
  // Signing is most of the work (about 0.1 ms per P-256 response): each batch
  // is signed by `signers` threads while this thread writes the batch before
  // it in one transaction. Serials come from this thread's random source.
  const unsigned signers = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
  constexpr long kBatch = 2000;
  struct Row {
    std::string serial_hex;
    Bytes serial;
    std::shared_ptr<const pki::OcspEntry> entry;
  };
  auto make_batch = [&](long from) {
    std::vector<Row> rows(static_cast<std::size_t>(std::min(kBatch, count - from)));
    for (auto& r : rows) {
      r.serial_hex = pki::random_serial(random);
      r.serial = *pki::serial_bytes(r.serial_hex);
    }
    return rows;
  };
  auto sign_batch = [&](std::vector<Row>& rows) {
    std::vector<std::future<bool>> parts;
    for (unsigned t = 0; t < signers; ++t)
      parts.push_back(std::async(std::launch::async, [&rows, &responder, t, signers] {
        for (std::size_t i = t; i < rows.size(); i += signers) {
          auto entry = responder.sign_entry(pki::CaKind::auth, rows[i].serial, pki::Good{});
          if (!entry) {
            std::cerr << entry.error().message << "\n";
            return false;
          }
          rows[i].entry = std::move(*entry);
        }
        return true;
      }));
    return parts;
  };
  auto wait = [](std::vector<std::future<bool>>& parts) {
    bool ok = true;
    for (auto& f : parts) ok = f.get() && ok;
    return ok;
  };
  std::vector<Row> current = make_batch(0);
  auto pending = sign_batch(current);
  for (long done = 0; done < count;) {
    if (!wait(pending)) return 1;
    std::vector<Row> rows = std::move(current);
    const long next = done + static_cast<long>(rows.size());
    if (next < count) {
      current = make_batch(next);
      pending = sign_batch(current);
    }
    auto tx = (*store)->begin();
    if (!tx) {
      std::cerr << tx.error().message << "\n";
      return 1;
    }
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const long i = done + static_cast<long>(k);
      const auto& entry = rows[k].entry;
      store::CertificateRecord rec;
      rec.serial = rows[k].serial_hex;
      rec.ca = "auth";
      rec.kind = "phone_auth";
      rec.status = "active";
      rec.not_before = to_unix(now);
      rec.not_after = to_unix(not_after);
      rec.issued_at = to_unix(now);
      rec.der = placeholder;
      rec.ocsp_response = entry->response;
      rec.ocsp_next_update = to_unix(entry->next_update);
      if (auto st = (*tx)->reserve_serial(rec); !st) {
        std::cerr << st.error().message << "\n";
        return 1;
      }
      if (auto st = (*tx)->store_issued(rec); !st) {
        std::cerr << st.error().message << "\n";
        return 1;
      }
      if (i == 0) {
        first_serial = rows[k].serial;
        first_response = entry->response;
      }
      index << "V\t" << bench::openssl_index_time(not_after) << "\t\t"
            << hex_encode(rows[k].serial, true) << "\tunknown\t/CN=P" << i << "\n";
      serials << rec.serial << "\n";
    }
    if (auto st = (*tx)->commit(); !st) {
      std::cerr << st.error().message << "\n";
      return 1;
    }
    done = next;
    if (done % 1000000 == 0)
      std::cerr << "bench_fixture: " << done << " of " << count << " stored\n";
  }
  X509* ca = (*authorities).auth->certificate();
  pki::BignumPtr bn(BN_bin2bn(first_serial.data(), static_cast<int>(first_serial.size()), nullptr));
  pki::Asn1IntegerPtr sn(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  pki::OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca),
                                                   X509_get0_pubkey_bitstr(ca), sn.get()));
  unsigned char* p = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &p);
  Bytes request(p, p + len);
  OPENSSL_free(p);
  if (!write(dir / "request.der", request) ||
      !write(dir / "request.b64url", as_bytes(base64url_encode(request))) ||
      !write(dir / "response.der", first_response))
    return 1;
  std::ofstream(dir / "index.txt.attr") << "unique_subject = no\n";
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string summary =
      "{\"count\": " + std::to_string(count) + ", \"seconds\": " + std::to_string(secs) + "}\n";
  // Written last: its presence says the folder is complete (bench/run.py
  // reuses a complete one given --scale-data).
  if (!write(dir / "fixture.json", as_bytes(summary))) return 1;
  std::cout << summary;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: bench_fixture DATA_DIR COUNT [rsa2048|p256]\n";
    return 2;
  }
  // The CA and OCSP signer keys: RSA-2048 as served by default; P-256 makes
  // a 10-million-certificate store in minutes instead of an hour.
  auto algorithm = argc == 4 && std::string_view(argv[3]) == "p256" ? pki::KeyAlgorithm::p256
                                                                    : pki::KeyAlgorithm::rsa2048;
  return run(argv[1], std::atol(argv[2]), algorithm);
}
