// TLS contexts for the server and the client, on OpenSSL through Asio.
// Internal to src/http.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "core/error.h"

namespace smacert::http::detail {

// A server context: TLS 1.2 and 1.3 only, the certificate chain (PEM, leaf
// first) and its key (PEM), checked to match. Errc::invalid_argument names
// the file and what OpenSSL said; never the key's content.
Result<std::shared_ptr<boost::asio::ssl::context>> server_tls_context(
    const std::string& certificate_file, const std::string& key_file);

// A client context that verifies the server: the trust anchors are OpenSSL's
// defaults (the system store, or SSL_CERT_FILE / SSL_CERT_DIR), plus
// ca_file when it is not empty. TLS 1.2 and 1.3 only.
Result<std::shared_ptr<boost::asio::ssl::context>> client_tls_context(const std::string& ca_file);

}  // namespace smacert::http::detail
