// The phone app's API: challenges, applications, registration, the push
// channel, wipe acknowledgement, login, My Page and revocation by the holder.
#include "core/encoding.h"
#include "http/error_status.h"
#include "http/handlers/handler.h"
#include "http/handlers/json_input.h"
#include "http/handlers/routes.h"

namespace smacert::http {
namespace {

constexpr std::size_t kMaxDer = 16 * 1024;

nlohmann::json events_json(const std::vector<store::EventRecord>& events) {
  auto out = nlohmann::json::array();
  for (const auto& e : events)
    out.push_back({{"seq", e.seq}, {"type", e.type}, {"event", nlohmann::json::parse(e.payload)}});
  return out;
}

}  // namespace

void add_phone_routes(Router& router, const ServiceRoutes& d) {
  router.add(
      "POST", "/v1/challenges", "challenges", handle([d](Request& req) -> Result<Response> {
        SMACERT_GET(in,
                    JsonInput::parse(req.body.empty() ? "{}" : req.body, {"purpose", "subject"}));
        SMACERT_GET(purpose, in.string("purpose", 32, false));
        SMACERT_GET(subject, in.string("subject", 128, false));
        SMACERT_GET(c, d.service.new_challenge(purpose.empty() ? "application" : purpose, subject));
        return json_response(201, {{"nonce", c.nonce},
                                   {"purpose", c.purpose},
                                   {"expires_at", to_rfc3339(from_unix(c.expires_at))}});
      }));

  router.add(
      "POST", "/v1/applications", "applications", handle([d](Request& req) -> Result<Response> {
        SMACERT_GET(in,
                    JsonInput::parse(req.body, {"kind", "challenge", "device", "card_certificate",
                                                "card_signature", "csrs", "consents"}));
        service::ApplicationRequest r;
        SMACERT_GET(kind, in.string("kind", 32));
        SMACERT_GET(challenge, in.string("challenge", 128));
        SMACERT_GET(device, in.object("device", {"id", "platform", "model"}));
        SMACERT_GET(id, device.string("id", 64));
        SMACERT_GET(platform, device.string("platform", 16));
        SMACERT_GET(model, device.string("model", 64, false));
        SMACERT_GET(card_cert, in.base64("card_certificate", kMaxDer));
        SMACERT_GET(card_sig, in.base64("card_signature", 1024));
        SMACERT_GET(csrs, in.object("csrs", {"sign", "auth"}));
        SMACERT_GET(sign_csr, csrs.base64("sign", kMaxDer, false));
        SMACERT_GET(auth_csr, csrs.base64("auth", kMaxDer, false));
        SMACERT_GET(consents, in.object("consents", {"terms", "revoke_old"}));
        SMACERT_GET(terms, consents.boolean("terms", false));
        SMACERT_GET(revoke_old, consents.boolean("revoke_old", false));
        r.kind = kind;
        r.challenge = challenge;
        r.device = {id, platform, model};
        r.card_certificate = std::move(card_cert);
        r.card_signature = std::move(card_sig);
        r.sign_csr = std::move(sign_csr);
        r.auth_csr = std::move(auth_csr);
        r.consent_terms = terms;
        r.consent_revoke_old = revoke_old;
        if (auto key = req.header("Idempotency-Key")) r.idempotency_key = std::string(*key);
        SMACERT_GET(a, d.service.submit_application(r));
        nlohmann::json body{{"application_id", a.application_id},
                            {"status", a.status},
                            {"ready_at", to_rfc3339(a.ready_at)},
                            {"push_key", base64_encode(d.service.event_signer().public_key_der())}};
        // The token is shown once; a replayed request does not get it again.
        if (!a.replayed) body["device_token"] = a.device_token;
        return json_response(202, body);
      }));

  router.add(
      "GET", "/v1/applications/{id}", "application", handle([d](Request& req) -> Result<Response> {
        SMACERT_GET(v, d.service.application(std::string(req.param("id")), bearer_token(req)));
        auto certs = nlohmann::json::array();
        for (const auto& c : v.certificates) certs.push_back(certificate_json(c));
        const auto& a = d.service.authorities();
        return json_response(200,
                             {{"application_id", v.record.id},
                              {"kind", v.record.kind},
                              {"status", v.record.status},
                              {"ready_at", to_rfc3339(from_unix(v.record.ready_at))},
                              {"certificates", certs},
                              {"ca",
                               {{"sign", base64_encode(pki::to_der(a.sign->certificate()))},
                                {"auth", base64_encode(pki::to_der(a.auth->certificate()))}}}});
      }));

  router.add("POST", "/v1/applications/{id}/registration", "registration",
             handle([d](Request& req) -> Result<Response> {
               SMACERT_GET(in, JsonInput::parse(req.body, {"nonce", "signatures"}));
               SMACERT_GET(nonce, in.string("nonce", 128));
               SMACERT_GET(sigs, in.object("signatures", {"sign", "auth"}));
               SMACERT_GET(sign, sigs.base64("sign", 1024, false));
               SMACERT_GET(auth, sigs.base64("auth", 1024, false));
               auto st =
                   d.service.register_application(std::string(req.param("id")), bearer_token(req),
                                                  {nonce, std::move(sign), std::move(auth)});
               if (!st) return fail(st.error());
               return json_response(200, {{"status", "registered"}});
             }));

  router.add("GET", "/v1/devices/{id}/events", "events",
             handle([d](Request& req) -> Result<Response> {
               std::string device(req.param("id"));
               std::string token = bearer_token(req);
               std::int64_t last = 0;
               auto from = req.header("Last-Event-ID");
               if (!from) from = req.query_param("after");
               if (from) {
                 try {
                   last = std::stoll(std::string(*from));
                 } catch (...) {
                   return fail(Errc::invalid_argument, "Last-Event-ID must be an event number");
                 }
               }
               // Authenticate before opening the stream, so a wrong token gets a 401.
               SMACERT_GET(first, d.service.events(device, token, last, 100));
               if (req.query_param("format") == std::optional<std::string_view>("json"))
                 return json_response(200, {{"events", events_json(first)}});
               SseStream stream;
               stream.hub = d.hub;
               stream.topic = device;
               stream.last_id = last;
               stream.fetch = [svc = &d.service, device,
                               token](std::int64_t after) -> Result<std::vector<SseEvent>> {
                 auto events = svc->events(device, token, after, 100);
                 if (!events) return fail(events.error());
                 std::vector<SseEvent> out;
                 for (const auto& e : *events) out.push_back({e.seq, e.type, e.payload});
                 return out;
               };
               return sse_response(std::move(stream));
             }));

  router.add("POST", "/v1/devices/{id}/wipe-ack", "wipe_ack",
             handle([d](Request& req) -> Result<Response> {
               SMACERT_GET(in, JsonInput::parse(req.body, {"seq"}));
               SMACERT_GET(seq, in.integer("seq", 0, std::numeric_limits<std::int64_t>::max()));
               auto st =
                   d.service.acknowledge_wipe(std::string(req.param("id")), bearer_token(req), seq);
               if (!st) return fail(st.error());
               return json_response(200, {{"status", "wiped"}});
             }));

  router.add("POST", "/v1/sessions", "sessions", handle([d](Request& req) -> Result<Response> {
               SMACERT_GET(in, JsonInput::parse(req.body, {"certificate", "nonce", "signature"}));
               SMACERT_GET(cert, in.base64("certificate", kMaxDer));
               SMACERT_GET(nonce, in.string("nonce", 128));
               SMACERT_GET(sig, in.base64("signature", 1024));
               SMACERT_GET(s, d.service.login({std::move(cert), nonce, std::move(sig)}));
               return json_response(201, {{"token", s.token},
                                          {"holder_id", s.holder_id},
                                          {"device_id", s.device_id},
                                          {"serial", s.serial},
                                          {"expires_at", to_rfc3339(s.expires_at)}});
             }));

  router.add("GET", "/v1/me/certificates", "my_page", handle([d](Request& req) -> Result<Response> {
               SMACERT_GET(s, d.service.session(bearer_token(req)));
               SMACERT_GET(page, d.service.my_page(s));
               auto certs = nlohmann::json::array();
               for (const auto& v : page.certificates) {
                 const auto& c = v.record;
                 nlohmann::json j{{"serial", c.serial},
                                  {"kind", c.kind},
                                  {"device_id", c.device_id},
                                  {"this_device", c.device_id == page.device_id},
                                  {"status", c.status},
                                  {"registered", v.registered},
                                  {"not_after", to_rfc3339(from_unix(c.not_after))}};
                 if (v.registered) j["available_at"] = to_rfc3339(v.available_at);
                 if (c.revocation_reason >= 0) {
                   auto reason = pki::reason_from_code(c.revocation_reason);
                   if (reason) j["reason"] = std::string(pki::reason_name(*reason));
                 }
                 certs.push_back(std::move(j));
               }
               return json_response(200, {{"holder_id", page.holder_id},
                                          {"device_id", page.device_id},
                                          {"certificates", certs}});
             }));

  router.add(
      "POST", "/v1/certificates/{serial}/revoke", "holder_revoke",
      handle([d](Request& req) -> Result<Response> {
        std::string serial(req.param("serial"));
        Result<store::CertificateRecord> r = fail(Errc::internal, "");
        if (!bearer_token(req).empty()) {
          SMACERT_GET(s, d.service.session(bearer_token(req)));
          r = d.service.revoke_by_holder(s, serial);
        } else {
          SMACERT_GET(in, JsonInput::parse(req.body, {"card_certificate", "nonce", "signature"}));
          SMACERT_GET(cert, in.base64("card_certificate", kMaxDer));
          SMACERT_GET(nonce, in.string("nonce", 128));
          SMACERT_GET(sig, in.base64("signature", 1024));
          r = d.service.revoke_with_card(serial, {std::move(cert), nonce, std::move(sig)});
        }
        if (!r) return fail(r.error());
        return json_response(200, {{"serial", r->serial}, {"status", r->status}});
      }));
}

}  // namespace smacert::http
