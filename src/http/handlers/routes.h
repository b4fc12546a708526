// The service's HTTP API (spec/interfaces.md): handlers that turn requests
// into calls on service::Service and results into JSON, DER or event streams.
// One file per audience: public (OCSP, CRL, CA, health), phone, admin.
#pragma once

#include <memory>
#include <string>

#include "http/hub.h"
#include "http/metrics.h"
#include "http/router.h"
#include "pki/ocsp.h"
#include "service/service.h"

namespace smacert::http {

struct ServiceRoutes {
  service::Service& service;
  pki::OcspResponder& ocsp;
  std::shared_ptr<Hub> hub;           // woken per device when events are queued
  std::shared_ptr<Metrics> metrics;   // the server's, for GET /metrics
  std::string admin_token;            // bearer token of the counter and hotline
  ManualClock* test_clock = nullptr;  // set with --test-clock: POST /admin/v1/clock
  // Called after the test clock moved (issue what became due).
  std::function<void()> on_clock_moved;
};

void add_public_routes(Router& router, const ServiceRoutes& deps);
void add_phone_routes(Router& router, const ServiceRoutes& deps);
void add_admin_routes(Router& router, const ServiceRoutes& deps);
void add_rp_routes(Router& router, const ServiceRoutes& deps);

inline void add_service_routes(Router& router, const ServiceRoutes& deps) {
  add_public_routes(router, deps);
  add_phone_routes(router, deps);
  add_admin_routes(router, deps);
  add_rp_routes(router, deps);
}

// "Authorization: Bearer TOKEN" → TOKEN, or "" when absent or malformed.
std::string bearer_token(const Request& request);

// The JSON of an issued certificate, as the phone and the counter receive it.
nlohmann::json certificate_json(const service::IssuedCertificate& c);

}  // namespace smacert::http
