#include "http/handlers/json_input.h"

#include <set>

#include "core/encoding.h"

namespace smacert::http {
namespace {

Status only_allowed(const nlohmann::json& doc, std::initializer_list<const char*> allowed,
                    const std::string& prefix) {
  std::set<std::string_view> names(allowed.begin(), allowed.end());
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (!names.count(it.key()))
      return fail(Errc::invalid_argument, "unknown field " + prefix + it.key().substr(0, 64));
  return {};
}

}  // namespace

Result<JsonInput> JsonInput::parse(std::string_view body,
                                   std::initializer_list<const char*> allowed) {
  // nlohmann's parser is iterative for arrays/objects but recursion-bounded
  // here by the body limit (64 KiB) the server enforces before we run.
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) return fail(Errc::malformed, "the body is not valid JSON");
  if (!doc.is_object()) return fail(Errc::invalid_argument, "the body must be a JSON object");
  SMACERT_TRY_STATUS(only_allowed(doc, allowed, ""));
  return JsonInput(std::move(doc), "");
}

Result<JsonInput> JsonInput::object(const char* name, std::initializer_list<const char*> allowed,
                                    bool required) const {
  auto it = doc_.find(name);
  if (it == doc_.end()) {
    if (required) return fail(Errc::invalid_argument, "missing field " + field(name));
    return JsonInput(nlohmann::json::object(), field(name) + ".");
  }
  if (!it->is_object())
    return fail(Errc::invalid_argument, "field " + field(name) + " must be an object");
  SMACERT_TRY_STATUS(only_allowed(*it, allowed, field(name) + "."));
  return JsonInput(*it, field(name) + ".");
}

Result<std::string> JsonInput::string(const char* name, std::size_t max_len, bool required) const {
  auto it = doc_.find(name);
  if (it == doc_.end() || it->is_null()) {
    if (required) return fail(Errc::invalid_argument, "missing field " + field(name));
    return std::string();
  }
  if (!it->is_string())
    return fail(Errc::invalid_argument, "field " + field(name) + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len)
    return fail(Errc::invalid_argument,
                "field " + field(name) + " is longer than " + std::to_string(max_len) + " bytes");
  return s;
}

Result<Bytes> JsonInput::base64(const char* name, std::size_t max_bytes, bool required) const {
  auto s = string(name, (max_bytes + 2) / 3 * 4 + 4, required);
  if (!s) return fail(s.error());
  if (s->empty()) {
    if (required) return fail(Errc::invalid_argument, "field " + field(name) + " is empty");
    return Bytes{};
  }
  auto b = base64_decode(*s);
  if (!b) return fail(Errc::invalid_argument, "field " + field(name) + " is not base64");
  return b;
}

Result<bool> JsonInput::boolean(const char* name, bool fallback) const {
  auto it = doc_.find(name);
  if (it == doc_.end()) return fallback;
  if (!it->is_boolean())
    return fail(Errc::invalid_argument, "field " + field(name) + " must be true or false");
  return it->get<bool>();
}

Result<std::int64_t> JsonInput::integer(const char* name, std::int64_t min, std::int64_t max,
                                        std::optional<std::int64_t> fallback) const {
  auto it = doc_.find(name);
  if (it == doc_.end()) {
    if (fallback) return *fallback;
    return fail(Errc::invalid_argument, "missing field " + field(name));
  }
  if (!it->is_number_integer())
    return fail(Errc::invalid_argument, "field " + field(name) + " must be an integer");
  auto v = it->get<std::int64_t>();
  if (v < min || v > max)
    return fail(Errc::invalid_argument, "field " + field(name) + " must be between " +
                                            std::to_string(min) + " and " + std::to_string(max));
  return v;
}

}  // namespace smacert::http
