// Request-target parsing (RFC 9112 3.2 origin-form, RFC 3986 2.1
// percent-encoding). Pure functions, shared by the server and the router.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smacert::http {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX escapes; with plus_is_space, '+' becomes ' ' (form encoding,
// only in queries). Nothing on a bad escape such as "%4" or "%zz".
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space = false);

// "/a/b?x=1" → {"/a/b", "x=1"}. Nothing unless the target is in origin-form
// (starts with '/'); absolute-form and '*' are refused.
struct SplitTarget {
  std::string_view path;   // still percent-encoded
  std::string_view query;  // without '?', still encoded
};
std::optional<SplitTarget> split_target(std::string_view target);

// "a=1&b=x+y&c" → {{"a","1"},{"b","x y"},{"c",""}}; nothing on a bad escape.
std::optional<QueryParams> parse_query(std::string_view query);

}  // namespace smacert::http
