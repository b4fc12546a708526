#include "pki/verify.h"

namespace smacert::pki {

Result<X509Ptr> verify_chain(const X509* cert, std::span<X509* const> anchors, TimePoint at,
                             std::span<X509* const> intermediates) {
  X509StorePtr store(X509_STORE_new());
  for (X509* a : anchors) X509_STORE_add_cert(store.get(), a);
  auto untrusted = new_x509_stack();
  for (X509* i : intermediates) {
    X509_up_ref(i);
    sk_X509_push(untrusted.get(), i);
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!X509_STORE_CTX_init(ctx.get(), store.get(), const_cast<X509*>(cert), untrusted.get()))
    return fail(openssl_error(Errc::crypto, "preparing chain verification"));
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(to_unix(at)));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    Errc code = err == X509_V_ERR_CERT_HAS_EXPIRED ? Errc::expired : Errc::verification;
    return fail(code, std::string("the certificate does not chain to a smacert root: ") +
                          X509_verify_cert_error_string(err));
  }
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  X509* top = sk_X509_value(chain, sk_X509_num(chain) - 1);
  X509_up_ref(top);
  return X509Ptr(top);
}

Status require_good(const CertStatus& status, std::string_view what) {
  if (std::holds_alternative<Good>(status)) return {};
  if (auto* r = std::get_if<Revoked>(&status)) {
    if (r->reason == RevocationReason::certificate_hold)
      return fail(Errc::verification, std::string(what) + " is suspended (certificateHold)");
    return fail(Errc::verification, std::string(what) + " is revoked (" +
                                        std::string(reason_name(r->reason)) + ", " +
                                        to_rfc3339(r->at) + ")");
  }
  return fail(Errc::verification, std::string(what) + " is unknown to its OCSP responder");
}

}  // namespace smacert::pki
