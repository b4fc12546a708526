#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace smacert::http::detail {

namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL's reason for the last failure, and the error queue emptied.
std::string openssl_reason() {
  std::string reason;
  while (const unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    reason = text;  // the last is the nearest to the call
  }
  return reason.empty() ? "unknown error" : reason;
}

std::shared_ptr<ssl::context> make_context(ssl::context::method method) {
  auto context = std::make_shared<ssl::context>(method);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  return context;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> server_tls_context(const std::string& certificate_file,
                                                         const std::string& key_file) {
  if (certificate_file.empty() != key_file.empty()) {
    return fail(Errc::invalid_argument,
                "TLS needs both a certificate file and a key file (one of them is missing)");
  }
  ERR_clear_error();
  auto context = make_context(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(native, certificate_file.c_str()) != 1) {
    return fail(Errc::invalid_argument,
                "cannot use the TLS certificate " + certificate_file + ": " + openssl_reason());
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    const std::string reason = openssl_reason();
    if (mismatch) {
      return fail(
          Errc::invalid_argument,
          "the TLS key " + key_file + " does not belong to the certificate " + certificate_file);
    }
    return fail(Errc::invalid_argument, "cannot use the TLS key " + key_file + ": " + reason);
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return fail(
        Errc::invalid_argument,
        "the TLS key " + key_file + " does not belong to the certificate " + certificate_file);
  }
  struct stat st {};
  if (::stat(key_file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("the TLS key {} can be read by other users (mode {:o}); 0600 is safer", key_file,
                 st.st_mode & 0777);
  }
  return context;
}

Result<std::shared_ptr<ssl::context>> client_tls_context(const std::string& ca_file) {
  ERR_clear_error();
  auto context = make_context(ssl::context::tls_client);
  boost::system::error_code ec;
  context->set_default_verify_paths(ec);
  if (ec) ERR_clear_error();  // no system store: ca_file may still be given
  if (!ca_file.empty()) {
    context->load_verify_file(ca_file, ec);
    if (ec) {
      return fail(Errc::invalid_argument,
                  "cannot read the CA file " + ca_file + ": " + openssl_reason());
    }
  }
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

}  // namespace smacert::http::detail
