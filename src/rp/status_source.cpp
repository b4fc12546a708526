#include "rp/status_source.h"

#include "rp/status_check.h"

namespace smacert::rp {
namespace {

http::ClientOptions options_with(std::chrono::milliseconds timeout, std::size_t body_limit) {
  http::ClientOptions o;
  o.timeout = timeout;
  o.body_limit = body_limit;
  o.user_agent = "smacert-rp";
  return o;
}

// A peer that answered with a 5xx is as good as unreachable; a 4xx means we
// asked the wrong thing (a URL that is not a responder).
Error answer_error(const std::string& what, const std::string& url, int status) {
  Errc code = status >= 500 ? Errc::unavailable : Errc::verification;
  return Error{code, what + " at " + url + " answered HTTP " + std::to_string(status)};
}

}  // namespace

OcspOverHttp::OcspOverHttp(std::chrono::milliseconds timeout)
    : client_(options_with(timeout, pki::kMaxDerSize)) {}

Result<pki::CertStatus> OcspOverHttp::status(const X509* cert, const X509* issuer, TimePoint at) {
  auto url = ocsp_url_of(cert);
  if (!url) return fail(url.error());
  auto request = ocsp_request_for(cert, issuer);
  if (!request) return fail(request.error());
  auto answer = client_.post(*url, as_chars(*request), "application/ocsp-request");
  if (!answer) {
    Error e = answer.error();
    if (e.code != Errc::too_large) e.code = Errc::unavailable;
    return fail(e.context("the OCSP responder at " + *url + " cannot be reached"));
  }
  if (answer->status != 200) return fail(answer_error("the OCSP responder", *url, answer->status));
  return pki::check_ocsp_response(as_bytes(answer->body), cert, issuer, at);
}

CrlOverHttp::CrlOverHttp(std::chrono::seconds max_age, std::chrono::milliseconds timeout)
    : max_age_(max_age), client_(options_with(timeout, 256u << 20)) {}

Result<pki::CertStatus> CrlOverHttp::status(const X509* cert, const X509* issuer, TimePoint at) {
  auto url = crl_url_of(cert);
  if (!url) return fail(url.error());
  auto it = cache_.find(*url);
  if (it == cache_.end() || at - it->second.fetched > max_age_ || at < it->second.fetched) {
    auto answer = client_.get(*url);
    if (!answer) {
      Error e = answer.error();
      if (e.code != Errc::too_large) e.code = Errc::unavailable;
      return fail(e.context("the CRL at " + *url + " cannot be fetched"));
    }
    if (answer->status != 200) return fail(answer_error("the CRL server", *url, answer->status));
    auto crl = pki::parse_crl(as_bytes(answer->body));
    if (!crl) return fail(crl.error().context("the CRL at " + *url));
    it = cache_.insert_or_assign(*url, Cached{std::move(*crl), at}).first;
  }
  return status_from_crl(it->second.crl.get(), cert, issuer, at);
}

Result<pki::CertStatus> InProcessOcsp::status(const X509* cert, const X509* issuer, TimePoint at) {
  auto request = ocsp_request_for(cert, issuer);
  if (!request) return fail(request.error());
  auto answer = responder_.respond(*request);
  return pki::check_ocsp_response(*answer, cert, issuer, at);
}

}  // namespace smacert::rp
