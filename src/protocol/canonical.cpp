#include "protocol/canonical.h"

#include "core/encoding.h"
#include "pki/signer.h"

namespace smacert::protocol {
namespace {

class Builder {
 public:
  explicit Builder(std::string_view domain) { field("domain", domain); }
  Builder& field(std::string_view name, std::string_view value) {
    out_.insert(out_.end(), name.begin(), name.end());
    out_.push_back(':');
    auto len = std::to_string(value.size());
    out_.insert(out_.end(), len.begin(), len.end());
    out_.push_back(':');
    out_.insert(out_.end(), value.begin(), value.end());
    out_.push_back('\n');
    return *this;
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

std::string digest_or_dash(const Bytes& der) {
  return der.empty() ? "-" : hex_encode(pki::sha256(der));
}

}  // namespace

Bytes application_bytes(const ApplicationFields& f) {
  return Builder("smacert application v1")
      .field("kind", f.kind)
      .field("challenge", f.challenge)
      .field("device_id", f.device_id)
      .field("platform", f.platform)
      .field("model", f.model)
      .field("card_serial", f.card_serial)
      .field("sign_csr_sha256", digest_or_dash(f.sign_csr))
      .field("auth_csr_sha256", digest_or_dash(f.auth_csr))
      .field("consent_terms", f.consent_terms ? "yes" : "no")
      .field("consent_revoke_old", f.consent_revoke_old ? "yes" : "no")
      .take();
}

Bytes registration_bytes(const std::string& application_id, const std::string& nonce,
                         const std::string& kind) {
  return Builder("smacert registration v1")
      .field("application", application_id)
      .field("nonce", nonce)
      .field("key", kind)
      .take();
}

Bytes login_bytes(const std::string& audience, const std::string& nonce) {
  return Builder("smacert login v1").field("audience", audience).field("nonce", nonce).take();
}

Bytes card_revocation_bytes(const std::string& serial, const std::string& nonce) {
  return Builder("smacert card revocation v1").field("serial", serial).field("nonce", nonce).take();
}

Bytes event_bytes(const std::string& device_id, const std::string& type,
                  const std::string& data_json) {
  return Builder("smacert event v1")
      .field("device", device_id)
      .field("type", type)
      .field("data", data_json)
      .take();
}

}  // namespace smacert::protocol
