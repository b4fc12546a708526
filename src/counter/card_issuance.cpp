#include "counter/card_issuance.h"

#include "card/card_image.h"
#include "core/encoding.h"

namespace smacert::counter {
namespace {

Result<Bytes> b64_field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string())
    return fail(Error{Errc::malformed, std::string("the service's answer lacks ") + key, true});
  auto b = base64_decode(j[key].get<std::string>());
  if (!b)
    return fail(
        Error{Errc::malformed, std::string("the service's ") + key + " is not base64", true});
  return b;
}

}  // namespace

Result<IssuedCard> issue_card(http::ApiClient& api, const NewHolder& h,
                              const std::filesystem::path& out, Random& random) {
  std::error_code ec;
  if (std::filesystem::exists(out, ec))
    return fail(Errc::conflict, out.string() + " exists; a card is never overwritten");
  card::CardIssueRequest req;
  req.facts = {h.name, "", h.birth_date, pki::jpki_sex_code(h.sex), h.address, ""};
  req.auth_pin = h.auth_pin;
  req.sign_password = h.sign_password;
  IssuedCard issued;
  card::CardIssuer issuer = [&](const card::CardRequests& r) -> Result<card::CardCertificates> {
    auto answer = api.post("/admin/v1/cards", {{"name", h.name},
                                               {"address", h.address},
                                               {"birth_date", h.birth_date},
                                               {"sex", h.sex},
                                               {"sign_csr", base64_encode(r.sign_csr)},
                                               {"auth_csr", base64_encode(r.auth_csr)}});
    if (!answer) return fail(answer.error());
    card::CardCertificates certs;
    for (const auto& c : answer->value("certificates", nlohmann::json::array())) {
      auto der = b64_field(c, "certificate");
      if (!der) return fail(der.error());
      (c.value("kind", "") == "card_sign" ? certs.sign_cert : certs.auth_cert) = std::move(*der);
    }
    auto sign_ca = b64_field(answer->value("ca", nlohmann::json()), "sign");
    if (!sign_ca) return fail(sign_ca.error());
    auto auth_ca = b64_field(answer->value("ca", nlohmann::json()), "auth");
    if (!auth_ca) return fail(auth_ca.error());
    certs.sign_ca = std::move(*sign_ca);
    certs.auth_ca = std::move(*auth_ca);
    issued.holder_id = answer->value("holder_id", "");
    issued.card_id = answer->value("card_id", "");
    return certs;
  };
  auto image = card::make_virtual_card(req, issuer, random);
  if (!image) return fail(image.error());
  SMACERT_TRY_STATUS(card::save_card_image(out, *image));
  return issued;
}

}  // namespace smacert::counter
