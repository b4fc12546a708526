#include "card/applet.h"

#include <algorithm>

#include "pki/key.h"
#include "pki/signer.h"

namespace smacert::card {
namespace {

ResponseApdu data_ok(Bytes data) {
  return {std::move(data), value(Sw::kOk)};
}

bool is_phone(TokenKind t) {
  return t != TokenKind::Card;
}

}  // namespace

Result<Applet> Applet::open(CardImage image, Random& random) {
  Applet a(std::move(image), random);
  for (PinRef p : kPinRefs) {
    if (a.image_.key(p).empty()) continue;
    auto key = pki::parse_private_key_pem(a.image_.key(p));
    if (!key)
      return fail(
          key.error().context(std::string("loading the ") + std::string(pin_name(p)) + " key"));
    a.keys_[idx(p)] = std::move(*key);
  }
  return a;
}

bool Applet::proprietary_allowed() const {
  return is_phone(image_.token) || image_.lifecycle == Lifecycle::Personalisation;
}

Bytes Applet::file_content(const FileEntry& f) const {
  if (f.kind == FileKind::TokenInfo) {
    std::string label(token_label(image_.token));
    label.resize(kTokenLabelSize, ' ');
    return to_bytes(label);
  }
  const Bytes* b = image_.file(f.fid);
  return b ? *b : Bytes{};
}

Bytes Applet::process(ByteView command) {
  auto c = parse_command(command);
  // ISO 7816-4 clause 5.1: a body that fits none of the four cases is a wrong length.
  if (!c) {
    session_.pending.clear();
    return status(Sw::kWrongLength).encode();
  }
  return process(*c).encode();
}

ResponseApdu Applet::process(const CommandApdu& c) {
  const bool get_response_cmd = c.cla == kClaIso && c.ins == kInsGetResponse;
  if (!get_response_cmd) session_.pending.clear();
  ResponseApdu r = get_response_cmd ? get_response(c) : dispatch(c);
  // Clause 5.3.4: more data than Ne allows waits for GET RESPONSE, announced by 61xx.
  const std::size_t ne = c.ne.value_or(0);
  if (r.data.size() > ne && r.ok()) {
    const std::size_t keep = std::min(ne, r.data.size());
    session_.pending.assign(r.data.begin() + static_cast<std::ptrdiff_t>(keep), r.data.end());
    r.data.resize(keep);
    r.sw = sw_more_data(session_.pending.size());
  }
  return r;
}

ResponseApdu Applet::dispatch(const CommandApdu& c) {
  // Clause 5.4.1: b8-b5 of CLA 0 is the interindustry class without secure
  // messaging or chaining; 8 is the proprietary class. Nothing else is served.
  if (c.cla != kClaIso && c.cla != kClaProprietary) return status(Sw::kClaNotSupported);
  if (c.cla == kClaIso) {
    switch (c.ins) {
      case kInsSelect:
        return select(c);
      case kInsReadBinary:
        return read_binary(c);
      case kInsVerify:
        return verify(c);
      case kInsChangeReferenceData:
        return change_reference_data(c);
      default:
        return status(Sw::kInsNotSupported);
    }
  }
  if (c.ins == kInsComputeSignature) return compute_signature(c);
  if (!proprietary_allowed()) return status(Sw::kInsNotSupported);
  switch (c.ins) {
    case kInsGenerateKeyPair:
      return generate_key_pair(c);
    case kInsSetReferenceData:
      return set_reference_data(c);
    case kInsWriteFile:
      return write_file(c);
    case kInsErase:
      return erase(c);
    case kInsActivate:
      return activate(c);
    default:
      return status(Sw::kInsNotSupported);
  }
}

// SELECT (clause 11.2.2). P1 04 selects by DF name, P1 00/02 an EF by file id
// under the current DF; other selection methods find nothing on this card.
ResponseApdu Applet::select(const CommandApdu& c) {
  // P2 b4-b3: return FCI (00), FCP (04), FMD (08) or nothing (0C); b2-b1: first
  // occurrence only. No FCI is kept, so every answer carries no data.
  if (c.p2 != 0x00 && c.p2 != 0x04 && c.p2 != 0x0C) return status(Sw::kWrongP1P2);
  switch (c.p1) {
    case 0x04: {
      if (c.data.empty()) return status(Sw::kWrongLength);
      if (!std::equal(c.data.begin(), c.data.end(), kAidJpki.begin(), kAidJpki.end()))
        return status(Sw::kFileNotFound);
      // §2: verified PINs are cleared by re-selecting the application.
      session_ = Session{};
      session_.app_selected = true;
      return status(Sw::kOk);
    }
    case 0x00:
    case 0x02: {
      if (c.data.size() != 2) return status(Sw::kWrongLength);
      const auto fid = static_cast<std::uint16_t>(c.data[0] << 8 | c.data[1]);
      const FileEntry* f = session_.app_selected ? find_file(fid) : nullptr;
      if (f == nullptr) return status(Sw::kFileNotFound);
      // A certificate EF the phone has not been given yet is absent.
      if (f->kind == FileKind::Certificate && !image_.file(fid) && !proprietary_allowed())
        return status(Sw::kFileNotFound);
      if (f->kind == FileKind::PrivateKey && !keys_[idx(f->pin)] && !proprietary_allowed())
        return status(Sw::kFileNotFound);
      session_.current = f;  // security state survives (§2)
      return status(Sw::kOk);
    }
    case 0x01:
    case 0x03:
    case 0x08:
    case 0x09:
      return status(Sw::kFileNotFound);
    default:
      return status(Sw::kWrongP1P2);
  }
}

// READ BINARY (clause 11.3.3) with a 15-bit offset in P1-P2.
ResponseApdu Applet::read_binary(const CommandApdu& c) {
  // P1 b8 = 1 would carry a short EF identifier; this card has none.
  if (c.p1 & 0x80) return status(Sw::kWrongP1P2);
  if (!c.data.empty() || !c.ne) return status(Sw::kWrongLength);
  const FileEntry* f = session_.current;
  if (f == nullptr) return status(Sw::kNoCurrentEf);
  switch (f->read) {
    case ReadRule::Never:
      return status(Sw::kIncompatibleFile);  // keys and PINs
    case ReadRule::AfterSignPin:
      if (!session_.verified[idx(PinRef::Sign)]) return status(Sw::kSecurityNotSatisfied);
      break;
    case ReadRule::AfterAuthPinOnPhone:
      if (is_phone(image_.token) && !session_.verified[idx(PinRef::Auth)])
        return status(Sw::kSecurityNotSatisfied);
      break;
    case ReadRule::Always:
      break;
  }
  const Bytes content = file_content(*f);
  const std::size_t offset = c.p1p2();
  if (offset >= content.size()) return status(Sw::kWrongOffset);
  // §2: min(Le, bytes to the end) with 9000, also when fewer than Le remain.
  const std::size_t n = std::min(*c.ne, content.size() - offset);
  auto first = content.begin() + static_cast<std::ptrdiff_t>(offset);
  return data_ok(Bytes(first, first + static_cast<std::ptrdiff_t>(n)));
}

// VERIFY (clause 11.5.6) against the current PIN EF, P2 = 80 "specific reference data".
ResponseApdu Applet::verify(const CommandApdu& c) {
  if (c.p1 != 0x00 || c.p2 != 0x80) return status(Sw::kWrongP1P2);
  const FileEntry* f = session_.current;
  if (f == nullptr || f->kind != FileKind::Pin) return status(Sw::kReferenceNotFound);
  auto& rec = image_.pin(f->pin);
  if (!rec) return status(Sw::kReferenceNotUsable);
  // Clause 11.5.6: an empty data field asks for the retry counter (63Cx),
  // whatever the security state (§2: OpenSC relies on it).
  if (c.data.empty()) return {{}, sw_tries_left(rec->tries_left)};
  if (rec->blocked()) return status(Sw::kReferenceNotUsable);
  // A wrong try is counted in the stored state before the answer leaves (the
  // holder saves on generation()), so cutting the power cannot save a try.
  const bool ok = pin_matches(*rec, c.data);
  if (ok) {
    if (rec->tries_left != rec->max_tries) changed();
    rec->tries_left = rec->max_tries;
    session_.verified[idx(f->pin)] = true;
    return status(Sw::kOk);
  }
  --rec->tries_left;
  changed();
  session_.verified[idx(f->pin)] = false;
  return {{}, sw_tries_left(rec->tries_left)};
}

// CHANGE REFERENCE DATA (clause 11.5.7), P1 = 01: the data field is the new
// value only, allowed after a successful VERIFY of the same PIN (§2).
ResponseApdu Applet::change_reference_data(const CommandApdu& c) {
  if (c.p1 != 0x01 || c.p2 != 0x80) return status(Sw::kWrongP1P2);
  const FileEntry* f = session_.current;
  if (f == nullptr || f->kind != FileKind::Pin) return status(Sw::kReferenceNotFound);
  auto& rec = image_.pin(f->pin);
  if (!rec || rec->blocked()) return status(Sw::kReferenceNotUsable);
  if (!session_.verified[idx(f->pin)]) return status(Sw::kSecurityNotSatisfied);
  if (c.data.empty()) return status(Sw::kWrongLength);
  if (!check_pin_format(f->pin, as_chars(c.data))) return status(Sw::kWrongData);
  rec = make_pin_record(c.data, rec->max_tries, *random_, rec->iterations);
  changed();
  return status(Sw::kOk);
}

// COMPUTE DIGITAL SIGNATURE (§2; ISO 7816-8 PSO): PKCS#1 v1.5 over the
// DigestInfo in the data field, with the current key EF.
ResponseApdu Applet::compute_signature(const CommandApdu& c) {
  if (c.p1 != 0x00 || c.p2 != 0x80) return status(Sw::kWrongP1P2);
  if (c.data.empty() || c.data.size() > kMaxDigestInfo) return status(Sw::kWrongLength);
  const FileEntry* f = session_.current;
  if (f == nullptr || f->kind != FileKind::PrivateKey || !keys_[idx(f->pin)])
    return status(Sw::kReferenceNotFound);
  const auto& rec = image_.pin(f->pin);
  if (rec && rec->blocked()) return status(Sw::kAuthBlocked);
  if (!session_.verified[idx(f->pin)]) return status(Sw::kSecurityNotSatisfied);
  auto sig = pki::sign_digest_info_rsa(keys_[idx(f->pin)].get(), c.data);
  if (!sig) return status(Sw::kNoDiagnosis);
  return data_ok(std::move(*sig));
}

// GET RESPONSE (clause 11.7.1): the next bytes of a response that did not fit Ne.
ResponseApdu Applet::get_response(const CommandApdu& c) {
  if (c.p1 != 0x00 || c.p2 != 0x00) return status(Sw::kWrongP1P2);
  if (!c.data.empty() || !c.ne) return status(Sw::kWrongLength);
  if (session_.pending.empty()) return status(Sw::kConditionsNotSatisfied);
  Bytes all = std::move(session_.pending);
  session_.pending.clear();
  return data_ok(std::move(all));  // process() splits it again by Ne
}

}  // namespace smacert::card
