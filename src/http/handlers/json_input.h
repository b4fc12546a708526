// Strict reading of JSON request bodies: the body must be one JSON object,
// every field has the expected type and size, and an unknown field is an
// error (a typo must not be silently ignored). Errors name the field.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/error.h"

namespace smacert::http {

class JsonInput {
 public:
  // Parses `body`; `allowed` lists every field name the object may carry.
  static Result<JsonInput> parse(std::string_view body, std::initializer_list<const char*> allowed);
  // A nested object field, checked the same way.
  Result<JsonInput> object(const char* name, std::initializer_list<const char*> allowed,
                           bool required = true) const;

  Result<std::string> string(const char* name, std::size_t max_len, bool required = true) const;
  Result<Bytes> base64(const char* name, std::size_t max_bytes, bool required = true) const;
  Result<bool> boolean(const char* name, bool fallback) const;
  Result<std::int64_t> integer(const char* name, std::int64_t min, std::int64_t max,
                               std::optional<std::int64_t> fallback = std::nullopt) const;
  bool has(const char* name) const { return doc_.contains(name); }

 private:
  JsonInput(nlohmann::json doc, std::string prefix)
      : doc_(std::move(doc)), prefix_(std::move(prefix)) {}
  std::string field(const char* name) const { return prefix_ + name; }
  nlohmann::json doc_;
  std::string prefix_;
};

}  // namespace smacert::http
