// "http://host:port/path?query" (or https://) split into what a client
// connects to.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace smacert::http {

struct Url {
  bool tls = false;                // https://
  std::string host;                // "127.0.0.1", "example.org" or an IPv6 address without brackets
  std::string port;                // "80" ("443" for https) when absent
  std::string target;              // "/path?query"; "/" when absent
  std::string host_field() const;  // the Host header: "host:port", IPv6 in brackets
};

// http:// or https://; Errc::invalid_argument with the reason otherwise.
Result<Url> parse_url(std::string_view url);

}  // namespace smacert::http
