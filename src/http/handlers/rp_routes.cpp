// The relying-party API (spec/system.md flow 11): login challenges, login
// verification and document-signature verification, answered by the service
// itself with its own OCSP responder asked in process.
#include "core/encoding.h"
#include "http/error_status.h"
#include "http/handlers/handler.h"
#include "http/handlers/json_input.h"
#include "http/handlers/routes.h"
#include "rp/challenge_book.h"
#include "rp/facts_json.h"
#include "rp/verifier.h"

namespace smacert::http {
namespace {

constexpr std::size_t kMaxDer = 16 * 1024;
constexpr std::size_t kMaxSignature = 64 * 1024;  // a CMS with its certificates
constexpr std::size_t kMaxData = 1024 * 1024;     // the signed document
constexpr std::size_t kMaxAudience = 128;
// Login challenges live two minutes: long enough to unlock the phone's key.
constexpr Seconds kChallengeTtl{120};
// What a login signs when neither the challenge nor the login names an audience.
constexpr const char* kDefaultAudience = "smacert-rp";

pki::X509Ptr copy_of(X509* cert) {
  X509_up_ref(cert);
  return pki::X509Ptr(cert);
}

// What the routes share; it lives as long as the router's handlers.
struct RpState {
  RpState(const ServiceRoutes& d)
      : status(d.ocsp),
        challenges(d.service.clock(), random, kChallengeTtl),
        verifier(rp::TrustAnchors{copy_of(d.service.authorities().sign->certificate()),
                                  copy_of(d.service.authorities().auth->certificate())},
                 status, d.service.clock(), d.service.authorities().sign->config().policies) {}
  OsRandom random;
  rp::InProcessOcsp status;
  rp::ChallengeBook challenges;
  rp::Verifier verifier;
};

nlohmann::json certificate_summary(const rp::CertificateReport& r) {
  nlohmann::json j{{"subject", r.subject},
                   {"serial", r.serial},
                   {"not_before", to_rfc3339(r.not_before)},
                   {"not_after", to_rfc3339(r.not_after)},
                   {"status", std::string(rp::status_name(r.status))}};
  if (r.kind) j["kind"] = std::string(pki::certificate_kind_name(*r.kind));
  if (r.profile) j["profile"] = std::string(rp::profile_name(*r.profile));
  return j;
}

}  // namespace

void add_rp_routes(Router& router, const ServiceRoutes& d) {
  auto state = std::make_shared<RpState>(d);

  router.add("POST", "/rp/v1/challenges", "rp_challenges",
             handle([state](Request& req) -> Result<Response> {
               SMACERT_GET(in, JsonInput::parse(req.body.empty() ? "{}" : req.body, {"audience"}));
               SMACERT_GET(audience, in.string("audience", kMaxAudience, false));
               SMACERT_GET(c, state->challenges.issue(audience));
               nlohmann::json body{{"nonce", c.nonce}, {"expires_at", to_rfc3339(c.expires_at)}};
               if (!c.audience.empty()) body["audience"] = c.audience;
               return json_response(201, body);
             }));

  router.add(
      "POST", "/rp/v1/logins", "rp_logins", handle([state](Request& req) -> Result<Response> {
        SMACERT_GET(in,
                    JsonInput::parse(req.body, {"certificate", "nonce", "signature", "audience"}));
        SMACERT_GET(cert, in.base64("certificate", kMaxDer));
        SMACERT_GET(nonce, in.string("nonce", 128));
        SMACERT_GET(sig, in.base64("signature", 1024));
        SMACERT_GET(audience, in.string("audience", kMaxAudience, false));
        // Step 1: spend the nonce, whatever follows: a challenge is single use.
        SMACERT_GET(challenge, state->challenges.consume(nonce));
        // A challenge bound to an audience takes no other; an unbound one
        // takes the login's (the signature covers it either way, and the
        // answer names it so the relying party checks it is its own).
        std::string signed_audience = challenge.audience;
        if (signed_audience.empty())
          signed_audience = audience.empty() ? kDefaultAudience : audience;
        else if (!audience.empty() && audience != signed_audience)
          return fail(Errc::verification, "the audience '" + audience +
                                              "' is not the one the challenge was issued for");
        // Step 2: chain, signature over (audience, nonce), status.
        SMACERT_GET(login, state->verifier.verify_login(cert, signed_audience, nonce, sig));
        auto body = certificate_summary(login.certificate);
        body["audience"] = signed_audience;
        body["status"] = "ok";
        return json_response(200, body);
      }));

  router.add("POST", "/rp/v1/signatures/verify", "rp_signatures",
             handle([state](Request& req) -> Result<Response> {
               SMACERT_GET(in, JsonInput::parse(req.body, {"data", "signature"}));
               // An empty document is a document; a missing field is a mistake.
               if (!in.has("data")) return fail(Errc::invalid_argument, "field data is missing");
               SMACERT_GET(data, in.base64("data", kMaxData, false));
               SMACERT_GET(sig, in.base64("signature", kMaxSignature));
               SMACERT_GET(v, state->verifier.verify_signature(data, sig));
               nlohmann::json body{
                   {"valid", true},
                   {"signer", certificate_summary(v.signer)},
                   {"signing_time", v.signing_time ? nlohmann::json(to_rfc3339(*v.signing_time))
                                                   : nlohmann::json(nullptr)},
                   {"facts", rp::facts_json(*v.signer.facts)}};
               return json_response(200, body);
             }),
             RouteOptions{2 * kMaxData});
}

}  // namespace smacert::http
