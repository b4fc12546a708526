#include "http/url.h"

#include <algorithm>
#include <cctype>

namespace smacert::http {

std::string Url::host_field() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == (tls ? "443" : "80") ? h : h + ":" + port;
}

Result<Url> parse_url(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return fail(Errc::invalid_argument, "the URL " + std::string(url) + " " + std::string(why));
  };
  const auto starts_with = [&](std::string_view scheme) {
    return url.size() >= scheme.size() &&
           std::equal(scheme.begin(), scheme.end(), url.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  };
  Url out;
  std::string_view rest;
  if (starts_with("http://")) {
    rest = url.substr(7);
  } else if (starts_with("https://")) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    return bad("must start with http:// or https://");
  }
  const auto slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (const auto hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);
  if (authority.find('@') != std::string_view::npos) return bad("must not carry credentials");

  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed '[' in its host");
    out.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("has text after its IPv6 host");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("has no host");
  if (port.empty()) port = out.tls ? "443" : "80";
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) > 65535 || std::stoul(std::string(port)) == 0) {
    return bad("has a bad port");
  }
  out.port = std::string(port);
  out.target = target.empty() ? "/" : std::string(target);
  if (out.target.front() == '?') out.target.insert(0, "/");
  for (char c : out.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad("has a space or control character");
  }
  return out;
}

}  // namespace smacert::http
