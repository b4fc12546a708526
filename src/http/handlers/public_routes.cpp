// Public endpoints: health, metrics, CA certificates, OCSP (RFC 6960 A.1,
// POST and GET) and CRLs (RFC 5280), all answered from memory.
#include "core/encoding.h"
#include "http/error_status.h"
#include "http/handlers/routes.h"

namespace smacert::http {
namespace {

Response ocsp_answer(std::shared_ptr<const Bytes> der) {
  Response r = bytes_response(200, std::move(der), "application/ocsp-response");
  // RFC 5019 6.2: let caches keep a pre-signed answer for a while, not past nextUpdate.
  r.headers.set("Cache-Control", "max-age=60, public, no-transform, must-revalidate");
  return r;
}

}  // namespace

std::string bearer_token(const Request& request) {
  auto h = request.header("Authorization");
  if (!h) return {};
  constexpr std::string_view kPrefix = "Bearer ";
  if (h->size() <= kPrefix.size() || h->substr(0, kPrefix.size()) != kPrefix) return {};
  return std::string(h->substr(kPrefix.size()));
}

nlohmann::json certificate_json(const service::IssuedCertificate& c) {
  return {{"kind", c.kind},
          {"serial", c.serial},
          {"certificate", base64_encode(c.der)},
          {"not_after", to_rfc3339(c.not_after)}};
}

void add_public_routes(Router& router, const ServiceRoutes& d) {
  router.add("GET", "/healthz", "healthz", [](Request&) {
    return json_response(200, {{"status", "ok"}});
  });

  router.add("GET", "/metrics", "metrics", [d](Request&) {
    std::string text = d.metrics ? d.metrics->prometheus_text() : std::string();
    const auto& s = d.service.stats();
    auto counter = [&](const char* name, const char* help, std::uint64_t v) {
      text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
              name + " " + std::to_string(v) + "\n";
    };
    counter("smacert_certificates_issued_total", "Certificates issued.", s.issued.load());
    counter("smacert_certificates_revoked_total", "Certificates revoked.", s.revoked.load());
    counter("smacert_certificates_suspended_total", "Certificates suspended.", s.suspended.load());
    counter("smacert_certificates_resumed_total", "Certificates resumed.", s.resumed.load());
    counter("smacert_applications_accepted_total", "Applications accepted.", s.applications.load());
    counter("smacert_signatures_ahead_used_total",
            "Certificates and OCSP answers signed before an application's write transaction "
            "and taken by it.",
            s.signed_ahead_used.load());
    counter("smacert_signatures_ahead_dropped_total",
            "Certificates and OCSP answers signed ahead and dropped: the holder changed meanwhile.",
            s.signed_ahead_dropped.load());
    auto waiting = d.service.waiting_applications();
    text +=
        "# HELP smacert_applications_waiting Applications waiting for the issuance window.\n"
        "# TYPE smacert_applications_waiting gauge\nsmacert_applications_waiting " +
        std::to_string(waiting ? *waiting : -1) + "\n";
    text +=
        "# HELP smacert_ocsp_responses Pre-signed OCSP responses held in memory.\n"
        "# TYPE smacert_ocsp_responses gauge\nsmacert_ocsp_responses " +
        std::to_string(d.ocsp.size()) + "\n";
    text +=
        "# HELP smacert_ocsp_memory_bytes Bytes the OCSP responder holds for its answers.\n"
        "# TYPE smacert_ocsp_memory_bytes gauge\nsmacert_ocsp_memory_bytes " +
        std::to_string(d.ocsp.memory()) + "\n";
    return text_response(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  });

  for (auto kind : {pki::CaKind::sign, pki::CaKind::auth}) {
    std::string name(pki::ca_kind_name(kind));
    auto pem = std::make_shared<const Bytes>(
        to_bytes(pki::to_pem(d.service.authorities().of(kind).certificate())));
    router.add("GET", "/ca/" + name + ".pem", "ca_" + name,
               [pem](Request&) { return bytes_response(200, pem, "application/x-pem-file"); });
  }

  router.add(
      "POST", "/ocsp/{ca}", "ocsp_post",
      [d](Request& req) {
        if (req.param("ca") != "sign" && req.param("ca") != "auth")
          return error_response(404, "not_found",
                                "no OCSP responder at this path (use sign or auth)");
        return ocsp_answer(d.ocsp.respond(as_bytes(req.body)));
      },
      RouteOptions{pki::kMaxOcspRequest});

  router.add("GET", "/ocsp/{ca}/{request}", "ocsp_get", [d](Request& req) {
    if (req.param("ca") != "sign" && req.param("ca") != "auth")
      return error_response(404, "not_found", "no OCSP responder at this path (use sign or auth)");
    auto der = base64url_decode(req.param("request"));
    // RFC 6960 A.1: the request is base64 in the URL; bad base64 is a malformed request.
    if (!der) return ocsp_answer(d.ocsp.respond({}));
    return ocsp_answer(d.ocsp.respond(*der));
  });

  router.add("GET", "/crl/{file}", "crl", [d](Request& req) {
    auto file = req.param("file");
    std::optional<pki::CaKind> kind;
    if (file == "sign.crl") kind = pki::CaKind::sign;
    if (file == "auth.crl") kind = pki::CaKind::auth;
    if (!kind) return error_response(404, "not_found", "no CRL here (use sign.crl or auth.crl)");
    auto der = d.service.crl(*kind);
    if (!der) return error_response(der.error());
    return bytes_response(200, std::move(*der), "application/pkix-crl");
  });
}

}  // namespace smacert::http
