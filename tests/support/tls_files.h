// TLS certificates for tests, made with the openssl command-line tool: a CA,
// a server certificate for 127.0.0.1 signed by it (with its key), a CA
// nobody trusts, and a key that belongs to no certificate. Keys are 0600.
#pragma once

#include <filesystem>
#include <string>

#include "support/process.h"

namespace smacert::testing {

struct TlsFiles {
  std::filesystem::path ca, certificate, key;  // ca.pem, server.pem, server.key
  std::filesystem::path other_ca, stray_key;   // other.pem, stray.key
};

// Writes the files into `dir`; the openssl output on failure.
inline RunResult make_tls_files(const std::filesystem::path& dir, TlsFiles& files) {
  const auto p = [&](const char* name) { return sh((dir / name).string()); };
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
  const std::string script =
      "openssl req -x509" + ec + "-subj /CN=Test-TLS-CA -days 2 -keyout " + p("ca.key") + " -out " +
      p("ca.pem") + " && openssl req" + ec + "-subj /CN=127.0.0.1 -keyout " + p("server.key") +
      " -out " + p("server.csr") + " && printf " +
      sh("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n") + " > " + p("ext.cnf") +
      " && openssl x509 -req -in " + p("server.csr") + " -CA " + p("ca.pem") + " -CAkey " +
      p("ca.key") + " -days 1 -extfile " + p("ext.cnf") + " -out " + p("server.pem") +
      " && openssl req -x509" + ec + "-subj /CN=Other-CA -days 2 -keyout " + p("other.key") +
      " -out " + p("other.pem") +
      " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + p("stray.key") +
      " && chmod 600 " + sh(dir.string()) + "/*.key";
  files = {dir / "ca.pem", dir / "server.pem", dir / "server.key", dir / "other.pem",
           dir / "stray.key"};
  return run(script);
}

}  // namespace smacert::testing
