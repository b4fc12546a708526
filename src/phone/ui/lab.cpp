#include "phone/ui/lab.h"

#include <openssl/ocsp.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "card/jpki_client.h"
#include "card/stored_applet.h"
#include "core/encoding.h"
#include "http/api_client.h"
#include "phone/ui/local_guard.h"
#include "phone/ui/static_files.h"
#include "pki/ocsp.h"
#include "pki/openssl.h"

namespace smacert::phone::ui {
namespace {

using namespace std::chrono_literals;

// What the responder says of one certificate, as a relying party would ask:
// a request by SHA-1 CertID, the answer checked against the issuer.
std::string ocsp_answer(http::ApiClient& api, const X509* cert, const X509* issuer,
                        const std::string& ca) {
  pki::OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), cert, issuer));
  unsigned char* p = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &p);
  if (len <= 0) return "error: cannot encode the request";
  std::string body(reinterpret_cast<char*>(p), static_cast<std::size_t>(len));
  OPENSSL_free(p);
  auto resp = api.post_bytes("/ocsp/" + ca, body, "application/ocsp-request");
  if (!resp) return "error: " + resp.error().message;
  auto st =
      pki::check_ocsp_response(as_bytes(*resp), cert, issuer, std::chrono::system_clock::now());
  if (!st) return "error: " + st.error().message;
  if (std::holds_alternative<pki::Good>(*st)) return "good";
  if (auto* r = std::get_if<pki::Revoked>(&*st))
    return "revoked (" + std::string(pki::reason_name(r->reason)) + ")";
  return "unknown";
}

}  // namespace

Result<std::string> holder_of_card(const std::filesystem::path& card_file,
                                   const std::string& service, const std::string& admin_token) {
  OsRandom random;
  auto applet = card::StoredApplet::open(card_file, random);
  if (!applet) return fail(applet.error());
  card::JpkiClient client(*applet);
  SMACERT_TRY_STATUS(client.select_application());
  auto der = client.read_certificate(card::kAuthCertFile);
  if (!der) return fail(der.error().context("reading the card's auth certificate"));
  auto cert = pki::parse_certificate(*der);
  if (!cert) return fail(cert.error());
  http::ApiClient admin(service, admin_token);
  auto rec =
      admin.get("/admin/v1/certificates/" + pki::serial_hex(X509_get0_serialNumber(cert->get())));
  if (!rec) return fail(rec.error().context("looking up the card's holder"));
  return rec->value("holder_id", "");
}

Lab::~Lab() {
  stop();
}

void Lab::start() {
  thread_ = std::thread([this] { poll_loop(); });
}

void Lab::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

nlohmann::json Lab::table() {
  http::ApiClient admin(options_.service, options_.admin_token);
  http::ApiClient pub(options_.service);
  nlohmann::json out{{"service", options_.service}, {"holder_id", options_.holder_id}};
  auto list = admin.get("/admin/v1/holders/" + options_.holder_id + "/certificates");
  if (!list) {
    out["error"] = list.error().message;
    return out;
  }
  pki::X509Ptr issuers[2];
  const char* names[2] = {"sign", "auth"};
  for (int i = 0; i < 2; ++i) {
    auto pem = pub.get_bytes(std::string("/ca/") + names[i] + ".pem");
    if (pem)
      if (auto c = pki::parse_certificate_pem(*pem)) issuers[i] = std::move(*c);
  }
  auto rows = nlohmann::json::array();
  for (const auto& c : (*list)["certificates"]) {
    std::string device = c.value("device_id", "");
    std::string phone = device.empty() ? "card" : device;
    for (const auto& [id, name] : options_.device_names)
      if (id == device) phone = name;
    std::string ca = c.value("ca", "");
    std::string answer = "error: unknown CA";
    auto der = base64_decode(c.value("certificate", ""));
    auto cert = der ? pki::parse_certificate(*der) : Result<pki::X509Ptr>(fail(der.error()));
    int which = ca == "sign" ? 0 : ca == "auth" ? 1 : -1;
    if (cert && which >= 0 && issuers[which])
      answer = ocsp_answer(pub, cert->get(), issuers[which].get(), ca);
    rows.push_back({{"serial", c.value("serial", "")},
                    {"kind", c.value("kind", "")},
                    {"phone", phone},
                    {"device_id", device},
                    {"status", c.value("status", "")},
                    {"reason", c.value("reason", "")},
                    {"issued_at", c.value("issued_at", "")},
                    {"ocsp", answer}});
  }
  out["certificates"] = rows;
  return out;
}

void Lab::poll_loop() {
  while (true) {
    auto doc = table().dump();
    {
      std::unique_lock lock(mutex_);
      if (doc != snapshot_) {
        snapshot_ = doc;
        ++version_;
        lock.unlock();
        hub_->notify("lab");
        lock.lock();
      }
      if (cv_.wait_for(lock, 700ms, [this] { return stopping_; })) return;
    }
  }
}

void Lab::add_routes(http::Router& router) {
  add_static_routes(router, "/lab", options_.web_lab, "lab_page");
  router.add("GET", "/", "lab_root", [](http::Request&) {
    auto r = http::text_response(302, "the lab is at /lab/\n");
    r.headers.set("Location", "/lab/");
    return r;
  });
  router.add(
      "GET", "/lab/api/config", "lab_config", local_only([this](http::Request&) {
        auto phones = nlohmann::json::array();
        for (const auto& p : options_.phones)
          phones.push_back(
              {{"name", p.name}, {"model", p.model}, {"device_id", p.device_id}, {"path", p.path}});
        return http::json_response(
            200,
            {{"service", options_.service}, {"holder_id", options_.holder_id}, {"phones", phones}});
      }));
  router.add("GET", "/lab/api/certificates", "lab_certificates", local_only([this](http::Request&) {
               std::lock_guard lock(mutex_);
               auto r = http::text_response(200, snapshot_, "application/json");
               return r;
             }));
  router.add("GET", "/lab/api/events", "lab_events", local_only([this](http::Request&) {
               http::SseStream stream;
               stream.hub = hub_;
               stream.topic = "lab";
               stream.fetch = [this](std::int64_t after) -> Result<std::vector<http::SseEvent>> {
                 std::lock_guard lock(mutex_);
                 if (version_ <= after) return std::vector<http::SseEvent>{};
                 return std::vector<http::SseEvent>{{version_, "certificates", snapshot_}};
               };
               return http::sse_response(std::move(stream));
             }));
}

}  // namespace smacert::phone::ui
