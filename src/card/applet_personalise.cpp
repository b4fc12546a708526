// smacert's proprietary commands (CLA 80, docs/card-protocol.md): what the
// phone's secure element adds to JPKI (§3), and what a card is personalised
// with before ACTIVATE closes them for its life.
#include <openssl/err.h>

#include "card/applet.h"
#include "pki/key.h"

namespace smacert::card {
namespace {

const FileEntry* key_entry_for_p2(std::uint8_t p2) {
  const FileEntry* f = find_file(p2);
  return f && f->kind == FileKind::PrivateKey ? f : nullptr;
}

}  // namespace

// GENERATE KEY PAIR: 80 46 00 <key EF low byte: 17 | 1A> Le → SubjectPublicKeyInfo.
// P1 00 is RSA-2048 (the only algorithm JPKI readers accept). The old key and
// its certificate go: a certificate never names a key the element lacks.
ResponseApdu Applet::generate_key_pair(const CommandApdu& c) {
  const FileEntry* f = key_entry_for_p2(c.p2);
  if (c.p1 != 0x00 || f == nullptr) return status(Sw::kWrongP1P2);
  if (!c.data.empty()) return status(Sw::kWrongLength);
  if (!session_.app_selected) return status(Sw::kConditionsNotSatisfied);
  auto key = pki::generate_key(pki::KeyAlgorithm::rsa2048);
  if (!key) return status(Sw::kNoDiagnosis);
  const PinRef p = f->pin;
  image_.key(p) = pki::private_key_pem(key->get());
  image_.files.erase(p == PinRef::Auth ? kAuthCertFile : kSignCertFile);
  keys_[idx(p)] = std::move(*key);
  session_.verified[idx(p)] = false;
  changed();
  return {pki::public_key_der(keys_[idx(p)].get()), value(Sw::kOk)};
}

// SET REFERENCE DATA: 80 24 00 <PIN EF low byte: 18 | 1B> Lc <value>. Only
// for a PIN not yet set (after ERASE or on a new element); a set PIN changes
// through CHANGE REFERENCE DATA after VERIFY.
ResponseApdu Applet::set_reference_data(const CommandApdu& c) {
  const FileEntry* f = find_file(c.p2);
  if (c.p1 != 0x00 || f == nullptr || f->kind != FileKind::Pin) return status(Sw::kWrongP1P2);
  if (c.data.empty() || c.data.size() > 16) return status(Sw::kWrongLength);
  if (!session_.app_selected) return status(Sw::kConditionsNotSatisfied);
  auto& rec = image_.pin(f->pin);
  if (rec) return status(Sw::kConditionsNotSatisfied);
  if (!check_pin_format(f->pin, as_chars(c.data))) return status(Sw::kWrongData);
  rec = make_pin_record(c.data, max_tries(f->pin), *random_);
  changed();
  return status(Sw::kOk);
}

// WRITE FILE: 80 D6 <file id> Lc <whole DER> (extended Lc for a certificate of
// more than 255 bytes). A certificate EF takes a certificate; the holder's
// own certificate must carry the public key of the key in the element.
ResponseApdu Applet::write_file(const CommandApdu& c) {
  const FileEntry* f = find_file(c.p1p2());
  if (f == nullptr || f->kind != FileKind::Certificate) return status(Sw::kWrongP1P2);
  if (c.data.empty()) return status(Sw::kWrongLength);
  if (c.data.size() > pki::kMaxDerSize) return status(Sw::kNotEnoughMemory);
  if (!session_.app_selected) return status(Sw::kConditionsNotSatisfied);
  auto cert = pki::parse_certificate(c.data);
  if (!cert) return status(Sw::kWrongData);
  if (f->fid == kAuthCertFile || f->fid == kSignCertFile) {
    const auto& key = keys_[idx(f->pin)];
    if (!key) return status(Sw::kConditionsNotSatisfied);
    if (X509_check_private_key(cert->get(), key.get()) != 1) {
      ERR_clear_error();
      return status(Sw::kWrongData);
    }
  }
  image_.files[f->fid] = c.data;
  changed();
  return status(Sw::kOk);
}

// ERASE: 80 0E 00 00 — every key, certificate and PIN (§3: the phone's wipe).
ResponseApdu Applet::erase(const CommandApdu& c) {
  if (c.p1 != 0x00 || c.p2 != 0x00) return status(Sw::kWrongP1P2);
  if (!c.data.empty()) return status(Sw::kWrongLength);
  if (!session_.app_selected) return status(Sw::kConditionsNotSatisfied);
  image_.pins = {};
  image_.keys = {};
  image_.files.clear();
  image_.holder.reset();
  keys_ = {};
  session_ = Session{};
  session_.app_selected = true;
  changed();
  return status(Sw::kOk);
}

// ACTIVATE: 80 44 00 00 — ends personalisation (ISO 7816-4 clause 5.3.3.2,
// "operational state"). A card must be complete; on a card the proprietary
// commands answer 6D00 from then on.
ResponseApdu Applet::activate(const CommandApdu& c) {
  if (c.p1 != 0x00 || c.p2 != 0x00) return status(Sw::kWrongP1P2);
  if (!c.data.empty()) return status(Sw::kWrongLength);
  if (!session_.app_selected) return status(Sw::kConditionsNotSatisfied);
  for (PinRef p : kPinRefs)
    if (!keys_[idx(p)] || !image_.pin(p)) return status(Sw::kConditionsNotSatisfied);
  for (auto fid : {kAuthCertFile, kAuthCaFile, kSignCertFile, kSignCaFile})
    if (!image_.file(fid)) return status(Sw::kConditionsNotSatisfied);
  if (image_.lifecycle != Lifecycle::Operational) {
    image_.lifecycle = Lifecycle::Operational;
    changed();
  }
  return status(Sw::kOk);
}

}  // namespace smacert::card
