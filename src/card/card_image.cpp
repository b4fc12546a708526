#include "card/card_image.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/files.h"

namespace smacert::card {
namespace {

using nlohmann::json;

constexpr std::string_view kFormatName = "smacert-jpki-token";

std::string fid_hex(std::uint16_t fid) {
  char s[5];
  std::snprintf(s, sizeof s, "%04X", fid);
  return s;
}

json pin_json(const PinRecord& r) {
  return {{"kdf", "pbkdf2-sha256"},        {"iterations", r.iterations},
          {"salt", base64_encode(r.salt)}, {"hash", base64_encode(r.hash)},
          {"tries_left", r.tries_left},    {"max_tries", r.max_tries}};
}

json facts_json(const pki::HolderFacts& f) {
  return {{"name", f.name},
          {"name_substitution", f.name_substitution},
          {"birth_date", f.birth_date},
          {"sex", f.sex},
          {"address", f.address},
          {"address_substitution", f.address_substitution}};
}

Result<Bytes> b64_field(const json& j, const char* key) {
  auto b = base64_decode(j.at(key).get<std::string>());
  if (!b) return fail(Errc::malformed, std::string("field ") + key + " is not base64");
  return b;
}

Result<PinRecord> parse_pin(const json& j) {
  if (j.at("kdf").get<std::string>() != "pbkdf2-sha256")
    return fail(Errc::malformed, "unknown PIN key derivation");
  PinRecord r;
  r.iterations = j.at("iterations").get<unsigned>();
  auto salt = b64_field(j, "salt");
  auto hash = b64_field(j, "hash");
  if (!salt) return fail(salt.error());
  if (!hash) return fail(hash.error());
  r.salt = std::move(*salt);
  r.hash = std::move(*hash);
  r.tries_left = j.at("tries_left").get<unsigned>();
  r.max_tries = j.at("max_tries").get<unsigned>();
  if (r.iterations == 0 || r.max_tries == 0 || r.max_tries > 15 || r.tries_left > r.max_tries ||
      r.hash.size() != 32)
    return fail(Errc::malformed, "a PIN record is out of range");
  return r;
}

Result<TokenKind> parse_token(const std::string& s) {
  for (auto t : {TokenKind::Card, TokenKind::Android, TokenKind::Ios})
    if (token_name(t) == s) return t;
  return fail(Errc::malformed, "unknown token kind '" + s + "'");
}

Result<CardImage> from_json(const json& j) {
  if (j.at("format").get<std::string>() != kFormatName)
    return fail(Errc::malformed, "not a smacert card or secure element image");
  int version = j.at("version").get<int>();
  if (version > CardImage::kFormatVersion)
    return fail(Errc::invalid_argument, "the image has format version " + std::to_string(version) +
                                            "; this smacert reads up to " +
                                            std::to_string(CardImage::kFormatVersion));
  if (version < 1) return fail(Errc::malformed, "bad image format version");
  CardImage im;
  auto token = parse_token(j.at("token").get<std::string>());
  if (!token) return fail(token.error());
  im.token = *token;
  const auto& lc = j.at("lifecycle").get_ref<const std::string&>();
  if (lc == "personalisation")
    im.lifecycle = Lifecycle::Personalisation;
  else if (lc == "operational")
    im.lifecycle = Lifecycle::Operational;
  else
    return fail(Errc::malformed, "unknown lifecycle '" + lc + "'");
  for (PinRef p : kPinRefs) {
    const auto& pins = j.at("pins");
    std::string name(pin_name(p));
    if (pins.contains(name) && !pins.at(name).is_null()) {
      auto r = parse_pin(pins.at(name));
      if (!r) return fail(r.error());
      im.pin(p) = std::move(*r);
    }
    const auto& keys = j.at("keys");
    if (keys.contains(name) && !keys.at(name).is_null())
      im.key(p) = keys.at(name).get<std::string>();
  }
  for (const auto& [fid, content] : j.at("files").items()) {
    unsigned long v = 0;
    try {
      std::size_t used = 0;
      v = std::stoul(fid, &used, 16);
      if (used != fid.size()) throw std::invalid_argument(fid);
    } catch (const std::exception&) {
      return fail(Errc::malformed, "bad file id '" + fid + "'");
    }
    const FileEntry* f = find_file(static_cast<std::uint16_t>(v));
    if (v > 0xFFFF || f == nullptr || f->kind != FileKind::Certificate)
      return fail(Errc::malformed, "the image holds unknown file " + fid);
    auto b = base64_decode(content.get<std::string>());
    if (!b) return fail(Errc::malformed, "file " + fid + " is not base64");
    if (!b->empty()) im.files[static_cast<std::uint16_t>(v)] = std::move(*b);
  }
  if (j.contains("holder") && !j.at("holder").is_null()) {
    const auto& h = j.at("holder");
    const auto& f = h.at("facts");
    im.holder = HolderRecord{
        h.at("auth_subject_id").get<std::string>(), h.at("sign_subject_id").get<std::string>(),
        pki::HolderFacts{
            f.at("name").get<std::string>(), f.at("name_substitution").get<std::string>(),
            f.at("birth_date").get<std::string>(), f.at("sex").get<int>(),
            f.at("address").get<std::string>(), f.at("address_substitution").get<std::string>()}};
  }
  return im;
}

}  // namespace

const Bytes* CardImage::file(std::uint16_t fid) const {
  auto it = files.find(fid);
  return it == files.end() ? nullptr : &it->second;
}

std::string serialize_card_image(const CardImage& im) {
  json pins = json::object(), keys = json::object(), files = json::object();
  for (PinRef p : kPinRefs) {
    std::string name(pin_name(p));
    pins[name] = im.pin(p) ? pin_json(*im.pin(p)) : json(nullptr);
    keys[name] = im.key(p).empty() ? json(nullptr) : json(im.key(p));
  }
  for (const auto& [fid, content] : im.files) files[fid_hex(fid)] = base64_encode(content);
  json j = {
      {"format", kFormatName},
      {"version", CardImage::kFormatVersion},
      {"token", token_name(im.token)},
      {"label", token_label(im.token)},
      {"lifecycle", im.lifecycle == Lifecycle::Operational ? "operational" : "personalisation"},
      {"pins", pins},
      {"keys", keys},
      {"files", files},
      {"holder", nullptr}};
  if (im.holder)
    j["holder"] = {{"auth_subject_id", im.holder->auth_subject_id},
                   {"sign_subject_id", im.holder->sign_subject_id},
                   {"facts", facts_json(im.holder->facts)}};
  return j.dump(2) + "\n";
}

Result<CardImage> parse_card_image(std::string_view text) {
  if (text.size() > kMaxImageSize) return fail(Errc::too_large, "the card image is too large");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return fail(Errc::malformed, "the card image is not a JSON object");
  try {
    return from_json(j);
  } catch (const json::exception& e) {
    // A missing or mistyped field: nlohmann's text names it.
    return fail(Errc::malformed, std::string("the card image is incomplete: ") + e.what());
  }
}

Result<CardImage> load_card_image(const std::filesystem::path& path) {
  auto bytes = read_file(path, kMaxImageSize);
  if (!bytes) return fail(bytes.error().context("reading " + path.string()));
  auto im = parse_card_image(as_chars(*bytes));
  if (!im) return fail(im.error().context(path.string()));
  return im;
}

Status save_card_image(const std::filesystem::path& path, const CardImage& image) {
  std::string text = serialize_card_image(image);
  auto st = write_file_atomic(path, as_bytes(text), 0600);
  if (!st) return fail(st.error().context("saving " + path.string()));
  return {};
}

}  // namespace smacert::card
