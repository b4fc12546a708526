// devicechange_bench URL ADMIN_TOKEN HOLDERS CONCURRENCY [--go-on-stdin] [--probe-ocsp]
// — device changes
// (機種変更) end to end over HTTP against a running `smacert serve`.
//
// Set-up, not timed: HOLDERS cards issued at the counter (POST
// /admin/v1/cards), each with an old phone that applied and got its two
// certificates, and for each a new phone's keys, CSRs, a challenge and the
// card's signature over the device-change application, all made ahead.
// Timed: CONCURRENCY keep-alive clients POST the HOLDERS device-change
// applications (/v1/applications). For each the service verifies the card
// certificate's chain and signature and both CSRs, issues two certificates,
// revokes the old phone's two, pre-signs four OCSP responses, queues and
// signs the push events and commits durably before it answers 202.
// Client keys are RSA-2048, as the card's applet and the phone's secure
// element make them, drawn from a pool made at set-up (making six keys per
// holder would take minutes; the service caches nothing by key, so reuse
// costs it the same). The service's CAs sign as configured. Prints JSON. With --go-on-stdin, the
// timed part waits after the set-up for a line on standard input. With
// --probe-ocsp, each client also asks OCSP for the old phone's status right
// after each 202 (status visibility, issue item 2): one GET more per change,
// inside the timing, so a round that measures throughput alone leaves it out.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "core/random.h"
#include "http/api_client.h"
#include "pki/authority.h"
#include "pki/der_reader.h"
#include "pki/der_writer.h"
#include "pki/key.h"
#include "pki/ocsp.h"
#include "pki/signer.h"
#include "protocol/canonical.h"

namespace {

using namespace smacert;

// This process's CPU time so far, user and system, in seconds: the client's
// own share of the cores it shares with the server.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}
using nlohmann::json;
using Steady = std::chrono::steady_clock;

struct Phone {
  std::string id;
  Bytes sign_csr, auth_csr;
};

struct Holder {
  pki::SoftwareSigner* card = nullptr;  // the card's signature key, from the pool
  Bytes card_cert;
  std::string card_serial;
  Phone old_phone, new_phone;
  std::string change;    // the device-change body, signed, as sent
  std::string old_ocsp;  // GET path of an OCSP request for the old phone's auth certificate
};

// GET /ocsp/auth/... for `cert` (DER) issued by `issuer` (DER).
std::string ocsp_path(const Bytes& cert, const Bytes& issuer) {
  auto c = pki::parse_certificate(cert);
  auto i = pki::parse_certificate(issuer);
  pki::OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), c->get(), i->get()));
  unsigned char* p = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &p);
  Bytes der(p, p + len);
  OPENSSL_free(p);
  return "/ocsp/auth/" + base64url_encode(der);
}

// Whether the first SingleResponse says revoked ([1], RFC 6960 4.2.1). A
// walk over the DER: OpenSSL's d2i would also decode the responder's
// certificate, and the client's core is shared with nothing else but must
// keep the server busy.
bool says_revoked(const std::string& response) {
  using namespace pki::der;
  auto content = [](std::optional<Tlv> t) { return t ? std::optional(t->content) : std::nullopt; };
  auto resp = only(as_bytes(response), tag::kSequence);  // OCSPResponse
  if (!resp || !read(*resp, tag::kEnumerated)) return false;
  auto bytes = content(read(*resp, tag::context(0)));  // [0] EXPLICIT ResponseBytes
  auto rb = bytes ? only(*bytes, tag::kSequence) : std::nullopt;
  if (!rb || !read(*rb, tag::kOid)) return false;
  auto octets = content(read(*rb, tag::kOctetString));
  auto basic = octets ? only(*octets, tag::kSequence) : std::nullopt;  // BasicOCSPResponse
  auto tbs = basic ? content(read(*basic, tag::kSequence)) : std::nullopt;
  if (!tbs) return false;
  read(*tbs, tag::context(0));                                          // version, if present
  if (!read(*tbs) || !read(*tbs, tag::kGeneralizedTime)) return false;  // responderID, producedAt
  auto responses = content(read(*tbs, tag::kSequence));
  auto single = responses ? content(read(*responses, tag::kSequence)) : std::nullopt;
  if (!single || !read(*single, tag::kSequence)) return false;  // certID
  auto status = read(*single);
  return status && status->tag == tag::context(1);
}

[[noreturn]] void die(const std::string& what, const Error& e) {
  std::cerr << what << ": " << e.message << "\n";
  std::exit(1);
}

// RSA-2048 keys, as the card and the phone make them, used round robin.
class KeyPool {
 public:
  explicit KeyPool(int size) {
    for (int i = 0; i < size; ++i) {
      auto key = pki::generate_key(pki::KeyAlgorithm::rsa2048);
      if (!key) die("key", key.error());
      keys_.push_back(std::make_unique<pki::SoftwareSigner>(std::move(*key)));
    }
  }
  pki::SoftwareSigner& next() { return *keys_[next_++ % keys_.size()]; }

 private:
  std::vector<std::unique_ptr<pki::SoftwareSigner>> keys_;
  std::size_t next_ = 0;
};

Bytes csr_for(KeyPool& keys, std::string_view cn) {
  auto csr = pki::make_csr(keys.next(), cn);
  if (!csr) die("csr", csr.error());
  return pki::to_der(csr->get());
}

Phone new_phone(KeyPool& keys, std::string id) {
  return Phone{std::move(id), csr_for(keys, "phone"), csr_for(keys, "phone")};
}

json application(http::ApiClient& api, Holder& h, const Phone& p, const std::string& kind) {
  auto challenge = api.post("/v1/challenges", {{"purpose", "application"}});
  if (!challenge) die("challenge", challenge.error());
  std::string nonce = (*challenge)["nonce"];
  bool change = kind == "device_change";
  protocol::ApplicationFields fields{kind,          nonce,      p.id,       "android", "Bench",
                                     h.card_serial, p.sign_csr, p.auth_csr, true,      change};
  auto sig = h.card->sign_sha256(pki::sha256(protocol::application_bytes(fields)));
  if (!sig) die("card signature", sig.error());
  return {{"kind", kind},
          {"challenge", nonce},
          {"device", {{"id", p.id}, {"platform", "android"}, {"model", "Bench"}}},
          {"card_certificate", base64_encode(h.card_cert)},
          {"card_signature", base64_encode(*sig)},
          {"csrs", {{"sign", base64_encode(p.sign_csr)}, {"auth", base64_encode(p.auth_csr)}}},
          {"consents", {{"terms", true}, {"revoke_old", change}}}};
}

}  // namespace

int main(int argc, char** argv) {
  bool wait_for_go = false, probe_ocsp = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--go-on-stdin")
      wait_for_go = true;
    else if (a == "--probe-ocsp")
      probe_ocsp = true;
    else
      args.emplace_back(a);
  }
  if (args.size() != 4) {
    std::cerr << "usage: devicechange_bench URL ADMIN_TOKEN HOLDERS CONCURRENCY [--go-on-stdin] "
                 "[--probe-ocsp]\n";
    return 2;
  }
  const std::string url = args[0], token = args[1];
  const int n = std::stoi(args[2]), concurrency = std::stoi(args[3]);
  OsRandom random;
  const std::string run = hex_encode(random.bytes(4));
  http::ApiClient admin(url, token), api(url);

  auto setup_start = Steady::now();
  KeyPool keys(16);
  std::vector<Holder> holders(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& h = holders[static_cast<std::size_t>(i)];
    h.card = &keys.next();
    auto card_csr = pki::make_csr(*h.card, "card");
    if (!card_csr) die("card csr", card_csr.error());
    auto card =
        admin.post("/admin/v1/cards", {{"name", "見本　太郎"},
                                       {"address", "東京都千代田区霞が関１－２－３"},
                                       {"birth_date", "1980-01-01"},
                                       {"sex", 1},
                                       {"sign_csr", base64_encode(pki::to_der(card_csr->get()))},
                                       {"auth_csr", base64_encode(csr_for(keys, "card"))}});
    if (!card) die("issuing a card", card.error());
    for (const auto& c : (*card)["certificates"])
      if (c["kind"] == "card_sign") {
        h.card_cert = *base64_decode(c["certificate"].get<std::string>());
        h.card_serial = c["serial"];
      }
    h.old_phone = new_phone(keys, "old-" + run + "-" + std::to_string(i));
    auto first = api.post("/v1/applications", application(api, h, h.old_phone, "new"));
    if (!first) die("the old phone's application", first.error());
    if ((*first)["status"] != "issued") {
      std::cerr << "the old phone's application is " << (*first)["status"]
                << " (the issuance window must be open)\n";
      return 1;
    }
    http::ApiClient device(url, (*first)["device_token"]);
    auto app = device.get("/v1/applications/" + (*first)["application_id"].get<std::string>());
    if (!app) die("the old phone's application", app.error());
    for (const auto& c : (*app)["certificates"])
      if (c["kind"] == "phone_auth")
        h.old_ocsp = ocsp_path(*base64_decode(c["certificate"].get<std::string>()),
                               *base64_decode((*app)["ca"]["auth"].get<std::string>()));
    h.new_phone = new_phone(keys, "new-" + run + "-" + std::to_string(i));
    h.change = application(api, h, h.new_phone, "device_change").dump();
  }
  double setup_s = std::chrono::duration<double>(Steady::now() - setup_start).count();
  // Profilers and bench/run.py wait for this line; with --go-on-stdin the
  // timed part starts when a line arrives (run.py measures the machine's
  // RSA speed in between, so the bound is taken right next to the figure).
  std::cerr << "set-up done, timing " << n << " device changes" << std::endl;
  if (wait_for_go) {
    std::string go;
    std::getline(std::cin, go);
  }

  std::atomic<int> next{0}, failed{0}, visible{0};
  std::vector<double> latency_ms(static_cast<std::size_t>(n)),
      visible_ms(static_cast<std::size_t>(n));
  auto start = Steady::now();
  const double cpu_start = cpu_seconds();
  std::vector<std::thread> clients;
  for (int c = 0; c < concurrency; ++c) {
    clients.emplace_back([&] {
      http::ApiClient client(url);
      for (int i; (i = next++) < n;) {
        auto t = Steady::now();
        auto r = client.post_bytes("/v1/applications", holders[static_cast<std::size_t>(i)].change,
                                   "application/json");
        latency_ms[static_cast<std::size_t>(i)] =
            std::chrono::duration<double, std::milli>(Steady::now() - t).count();
        auto answer = r ? json::parse(*r, nullptr, false) : json();
        if (!r || !answer.is_object() || answer.value("status", "") != "issued") {
          if (failed++ == 0)
            std::cerr << "device change failed: " << (r ? *r : r.error().message) << "\n";
          continue;
        }
        if (!probe_ocsp) continue;
        // Status visibility: the first OCSP answer after the 202 for the old
        // phone's auth certificate (one GET, about 0.1 ms, inside the timing).
        auto answered = Steady::now();
        auto ocsp = client.get_bytes(holders[static_cast<std::size_t>(i)].old_ocsp);
        visible_ms[static_cast<std::size_t>(i)] =
            std::chrono::duration<double, std::milli>(Steady::now() - answered).count();
        if (ocsp && says_revoked(*ocsp)) ++visible;
      }
    });
  }
  for (auto& t : clients) t.join();
  double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  const double client_cpu = cpu_seconds() - cpu_start;
  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double q) {
    return latency_ms[std::min(latency_ms.size() - 1, static_cast<std::size_t>(q * n))];
  };
  json out{{"holders", n},
           {"concurrency", concurrency},
           {"setup_s", setup_s},
           {"elapsed_s", elapsed},
           {"per_s", n / elapsed},
           {"client_cores", client_cpu / elapsed},  // CPU the client itself used, in cores
           {"failed", failed.load()},
           {"p50_ms", pct(0.5)},
           {"p99_ms", pct(0.99)},
           {"max_ms", latency_ms.back()},
           {"ocsp_probed", probe_ocsp}};
  if (probe_ocsp) {
    out["old_phone_revoked_at_first_ocsp_answer"] = visible.load();
    out["ocsp_after_change_max_ms"] = *std::max_element(visible_ms.begin(), visible_ms.end());
  }
  std::cout << out.dump() << "\n";
  return failed.load() == 0 ? 0 : 1;
}
