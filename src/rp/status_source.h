// The one-method seam where a relying party's revocation check varies
// (Boulder's OCSP Source): OCSP over HTTP to the URL in the certificate, a CRL
// fetched from its distribution point, or — inside the service — the
// service's own OCSP responder asked directly. Every source hands back what
// the CA says (good, revoked with a reason, unknown) or an error when it could
// not learn it: Errc::unavailable when the responder cannot be reached.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "http/client.h"
#include "pki/ocsp.h"
#include "pki/revocation.h"

namespace smacert::rp {

class StatusSource {
 public:
  virtual ~StatusSource() = default;
  // The status of `cert`, issued by `issuer`, at `at`.
  virtual Result<pki::CertStatus> status(const X509* cert, const X509* issuer, TimePoint at) = 0;
  // "ocsp" or "crl", for reports.
  virtual std::string_view method() const = 0;
};

// RFC 6960 A.1: POSTs an OCSP request to the certificate's AIA URL and checks
// the answer with pki::check_ocsp_response. One HTTP client: not thread-safe.
class OcspOverHttp final : public StatusSource {
 public:
  explicit OcspOverHttp(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  Result<pki::CertStatus> status(const X509* cert, const X509* issuer, TimePoint at) override;
  std::string_view method() const override { return "ocsp"; }

 private:
  http::Client client_;
};

// RFC 5280 6.3: GETs the CRL from the certificate's distribution point,
// checks it is the issuer's and current, and looks up the serial. A fetched
// CRL is reused for up to `max_age` (and never past its nextUpdate, which
// status_from_crl enforces). Not thread-safe.
class CrlOverHttp final : public StatusSource {
 public:
  explicit CrlOverHttp(std::chrono::seconds max_age = std::chrono::seconds(60),
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));
  Result<pki::CertStatus> status(const X509* cert, const X509* issuer, TimePoint at) override;
  std::string_view method() const override { return "crl"; }

 private:
  struct Cached {
    pki::X509CrlPtr crl;
    TimePoint fetched;
  };
  std::chrono::seconds max_age_;
  http::Client client_;
  std::map<std::string, Cached> cache_;  // by URL
};

// The service's own responder, asked with the same DER request a client
// would send and checked the same way, so the in-process path proves what
// the wire path would. Thread-safe (the responder is).
class InProcessOcsp final : public StatusSource {
 public:
  explicit InProcessOcsp(const pki::OcspResponder& responder) : responder_(responder) {}
  Result<pki::CertStatus> status(const X509* cert, const X509* issuer, TimePoint at) override;
  std::string_view method() const override { return "ocsp"; }

 private:
  const pki::OcspResponder& responder_;
};

}  // namespace smacert::rp
