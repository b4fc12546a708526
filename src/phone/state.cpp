#include "phone/state.h"

#include <nlohmann/json.hpp>

#include "core/files.h"

namespace smacert::phone {
namespace {

constexpr const char* kFile = "phone.json";

}  // namespace

Result<PhoneState> load_state(const std::filesystem::path& dir) {
  auto bytes = read_file(dir / kFile, 1 << 20);
  if (!bytes) {
    if (bytes.error().code == Errc::not_found)
      return fail(Errc::not_found,
                  dir.string() + " is not a phone folder (no phone.json); run smacert phone new");
    return fail(bytes.error());
  }
  auto j = nlohmann::json::parse(as_chars(*bytes), nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != "smacert-phone")
    return fail(Errc::malformed, (dir / kFile).string() + " is not a smacert phone state");
  if (j.value("version", 0) != kStateVersion)
    return fail(Errc::conflict, (dir / kFile).string() + " has format version " +
                                    std::to_string(j.value("version", 0)) +
                                    "; this smacert reads " + std::to_string(kStateVersion));
  try {
    PhoneState s;
    s.device_id = j.at("device_id");
    s.platform = j.at("platform");
    s.model = j.value("model", "");
    s.server = j.value("server", "");
    s.device_token = j.value("device_token", "");
    s.push_key = j.value("push_key", "");
    s.application_id = j.value("application_id", "");
    s.application_kind = j.value("application_kind", "");
    s.application_status = j.value("application_status", "");
    s.ready_at = j.value("ready_at", "");
    s.idempotency_key = j.value("idempotency_key", "");
    for (const auto& c : j.value("certificates", nlohmann::json::array()))
      s.certificates.push_back(
          {c.at("kind"), c.at("serial"), c.value("status", "active"), c.value("reason", "")});
    s.last_event = j.value("last_event", std::int64_t{0});
    s.wiped = j.value("wiped", false);
    s.biometrics = j.value("biometrics", false);
    return s;
  } catch (const nlohmann::json::exception&) {
    return fail(Errc::malformed,
                (dir / kFile).string() + " lacks a field or has one of the wrong type");
  }
}

Status save_state(const std::filesystem::path& dir, const PhoneState& s) {
  auto certs = nlohmann::json::array();
  for (const auto& c : s.certificates)
    certs.push_back(
        {{"kind", c.kind}, {"serial", c.serial}, {"status", c.status}, {"reason", c.reason}});
  nlohmann::json j{{"format", "smacert-phone"},
                   {"version", kStateVersion},
                   {"device_id", s.device_id},
                   {"platform", s.platform},
                   {"model", s.model},
                   {"server", s.server},
                   {"device_token", s.device_token},
                   {"push_key", s.push_key},
                   {"application_id", s.application_id},
                   {"application_kind", s.application_kind},
                   {"application_status", s.application_status},
                   {"ready_at", s.ready_at},
                   {"idempotency_key", s.idempotency_key},
                   {"certificates", certs},
                   {"last_event", s.last_event},
                   {"wiped", s.wiped},
                   {"biometrics", s.biometrics}};
  return write_file_atomic(dir / kFile, as_bytes(j.dump(2) + "\n"), 0600);
}

}  // namespace smacert::phone
