#include "pki/authority.h"

#include <openssl/sha.h>
#include <unistd.h>

#include "core/encoding.h"
#include "core/files.h"
#include "pki/der_writer.h"
#include "pki/signer.h"

namespace smacert::pki {
namespace {

namespace fs = std::filesystem;

constexpr auto kRootLifetime = std::chrono::hours(24 * 365 * 20);
constexpr auto kOcspSignerLifetime = std::chrono::hours(24 * 365);
constexpr auto kOcspSignerRenewBefore = std::chrono::hours(24 * 30);

Status set_time(ASN1_TIME* field, TimePoint t) {
  // ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after (RFC 5280 4.1.2.5).
  if (!ASN1_TIME_set(field, static_cast<time_t>(to_unix(t))))
    return fail(openssl_error(Errc::crypto, "setting a certificate time"));
  return {};
}

TimePoint asn1_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  ASN1_TIME_to_tm(t, &tm);
  return from_unix(static_cast<long long>(timegm(&tm)));
}

// An extension from OpenSSL's configuration syntax, for the fixed values
// (key usage, basic constraints, key identifiers) that need no escaping.
Status add_conf_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || !X509_add_ext(cert, ext.get(), -1))
    return fail(openssl_error(Errc::crypto, std::string("adding extension ") + OBJ_nid2sn(nid)));
  return {};
}

Result<X509NamePtr> make_name(std::initializer_list<std::pair<const char*, std::string>> parts) {
  X509NamePtr name(X509_NAME_new());
  for (auto& [field, value] : parts) {
    // MBSTRING_UTF8: OpenSSL's string table keeps C as PrintableString and
    // encodes the rest as UTF8String (RFC 5280 4.1.2.6).
    if (!X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), -1, 0))
      return fail(
          openssl_error(Errc::invalid_argument, std::string("setting the name's ") + field));
  }
  return name;
}

// JPKI's arc for the four basic facts (spec/jpki-card.md §5).
constexpr const char* kFactArc = "1.2.392.200149.8.5.5.";

// RFC 5280 4.1.2.4 Name, one attribute per RDN: the country as a
// PrintableString (X.520), the rest as UTF8String (RFC 5280 4.1.2.6), with
// X.520's upper bounds (characters): C 2, L 128, CN 64.
struct Attribute {
  enum Type { country, locality, common_name } type;
  std::string_view value;
};

Result<Bytes> encode_name(std::initializer_list<Attribute> attributes) {
  std::vector<Bytes> rdns;
  for (const auto& a : attributes) {
    static constexpr const char* kOid[] = {"2.5.4.6", "2.5.4.7", "2.5.4.3"};
    static constexpr std::size_t kMax[] = {2, 128, 64};
    static constexpr const char* kName[] = {"C", "L", "CN"};
    const std::size_t chars = utf8_chars(a.value).size();
    if (chars == 0 || chars > kMax[a.type] || !valid_utf8(a.value))
      return fail(Errc::invalid_argument, std::string("the name's ") + kName[a.type] +
                                              " must be 1 to " + std::to_string(kMax[a.type]) +
                                              " characters of UTF-8");
    const std::uint8_t type =
        a.type == Attribute::country ? der::tag::kPrintableString : der::tag::kUtf8String;
    rdns.push_back(der::tlv(der::tag::kSet, der::sequence({der::oid(kOid[a.type]),
                                                           der::tlv(type, as_bytes(a.value))})));
  }
  Bytes content;
  for (const auto& r : rdns) content.insert(content.end(), r.begin(), r.end());
  return der::tlv(der::tag::kSequence, content);
}

// RFC 5280 4.2.1.6 GeneralName uniformResourceIdentifier [6] IA5String.
Bytes uri_name(const std::string& uri) {
  return der::tlv(der::tag::context(6, false), as_bytes(uri));
}

// subjectAltName of the four basic facts: otherName [0] { OID, [0] EXPLICIT UTF8String }.
Bytes facts_extension(const HolderFacts& f, std::string_view birth) {
  auto subst = [](const std::string& given, std::string_view text) {
    if (!given.empty()) return given;
    return std::string(utf8_chars(text).size(), '0');
  };
  // Real certificates carry them in the order .1 .4 .3 .5 .2 .6.
  const std::pair<int, std::string> entries[] = {
      {1, f.name},
      {4, std::string(birth)},
      {3, std::to_string(f.sex)},
      {5, f.address},
      {2, subst(f.name_substitution, f.name)},
      {6, subst(f.address_substitution, f.address)},
  };
  Bytes names;
  for (auto& [arc, value] : entries) {
    Bytes other = der::tlv(
        der::tag::context(0),
        der::concat(
            {der::oid(kFactArc + std::to_string(arc)),
             der::tlv(der::tag::context(0), der::tlv(der::tag::kUtf8String, as_bytes(value)))}));
    names.insert(names.end(), other.begin(), other.end());
  }
  return der::extension("2.5.29.17", false, der::tlv(der::tag::kSequence, names));
}

Status check_subject_id(const std::string& id) {
  if (id.empty() || id.size() > 64 ||
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") !=
          std::string::npos)
    return fail(Errc::invalid_argument, "a subject id is 1 to 64 of A-Z a-z 0-9 -");
  return {};
}

// A root's or OCSP signer's fields but its extensions (end-entity
// certificates are written as DER: CertificateAuthority::issue).
Result<X509Ptr> new_certificate(const std::string& serial_hex, const X509_NAME* subject,
                                const X509_NAME* issuer, EVP_PKEY* pub, TimePoint nb,
                                TimePoint na) {
  X509Ptr cert(X509_new());
  auto serial = serial_from_hex(serial_hex);
  if (!serial) return fail(serial.error());
  if (!X509_set_version(cert.get(), X509_VERSION_3) ||
      !X509_set_serialNumber(cert.get(), serial->get()) ||
      !X509_set_subject_name(cert.get(), subject) || !X509_set_issuer_name(cert.get(), issuer) ||
      !X509_set_pubkey(cert.get(), pub))
    return fail(openssl_error(Errc::crypto, "building a certificate"));
  SMACERT_TRY_STATUS(set_time(X509_getm_notBefore(cert.get()), nb));
  SMACERT_TRY_STATUS(set_time(X509_getm_notAfter(cert.get()), na));
  return cert;
}

Status sign_certificate(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, EVP_sha256()) <= 0)
    return fail(openssl_error(Errc::crypto, "signing a certificate"));
  return {};
}

std::string ou_of(CaKind kind) {
  return kind == CaKind::sign ? "smacert for digital signature" : "smacert for user authentication";
}

Result<X509Ptr> make_root(CaKind kind, EVP_PKEY* key, const Clock& clock, Random& random) {
  auto name = make_name({{"C", "JP"}, {"O", "smacert"}, {"OU", ou_of(kind)}});
  if (!name) return fail(name.error());
  auto now = clock.now();
  auto cert = new_certificate(random_serial(random), name->get(), name->get(), key, now,
                              now + kRootLifetime);
  if (!cert) return cert;
  X509* c = cert->get();
  SMACERT_TRY_STATUS(add_conf_ext(c, c, NID_basic_constraints, "critical,CA:TRUE"));
  SMACERT_TRY_STATUS(add_conf_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign"));
  SMACERT_TRY_STATUS(add_conf_ext(c, c, NID_subject_key_identifier, "hash"));
  SMACERT_TRY_STATUS(sign_certificate(c, key));
  return cert;
}

Result<X509Ptr> make_ocsp_signer(CaKind kind, X509* ca, EVP_PKEY* ca_key, EVP_PKEY* key,
                                 const Clock& clock, Random& random) {
  auto name =
      make_name({{"C", "JP"},
                 {"O", "smacert"},
                 {"OU", ou_of(kind)},
                 {"CN", "smacert OCSP responder (" + std::string(ca_kind_name(kind)) + ")"}});
  if (!name) return fail(name.error());
  auto now = clock.now();
  auto cert = new_certificate(random_serial(random), name->get(), X509_get_subject_name(ca), key,
                              now, now + kOcspSignerLifetime);
  if (!cert) return cert;
  X509* c = cert->get();
  // RFC 6960 4.2.2.2: id-kp-OCSPSigning; 4.2.2.2.1: id-pkix-ocsp-nocheck, so
  // clients do not ask about the responder's own status.
  SMACERT_TRY_STATUS(add_conf_ext(c, ca, NID_key_usage, "critical,digitalSignature"));
  SMACERT_TRY_STATUS(add_conf_ext(c, ca, NID_ext_key_usage, "critical,OCSPSigning"));
  SMACERT_TRY_STATUS(add_conf_ext(c, ca, NID_id_pkix_OCSP_noCheck, "ignored"));
  SMACERT_TRY_STATUS(add_conf_ext(c, ca, NID_subject_key_identifier, "hash"));
  SMACERT_TRY_STATUS(add_conf_ext(c, ca, NID_authority_key_identifier, "keyid:always"));
  SMACERT_TRY_STATUS(sign_certificate(c, ca_key));
  return cert;
}

Result<X509Ptr> load_certificate(const fs::path& path) {
  auto pem = read_file(path, 1 << 20);
  if (!pem) return fail(pem.error());
  auto cert = parse_certificate_pem(as_chars(*pem));
  if (!cert) return fail(cert.error().context("reading " + path.string()));
  return cert;
}

Status save_certificate(const fs::path& path, const X509* cert) {
  return write_file_atomic(path, as_bytes(to_pem(cert)), 0644);
}

// First start: everything is made in a fresh folder beside `dir` and renamed
// into place at the end, so a crash never leaves a half-made CA.
Status create_ca(const fs::path& dir, CaKind kind, const PkiConfig& config, const Clock& clock,
                 Random& random) {
  fs::path tmp = dir;
  tmp += ".new-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  SMACERT_TRY_STATUS(ensure_directory(tmp, 0700));
  auto key = generate_key(config.algorithm);
  if (!key) return fail(key.error());
  auto root = make_root(kind, key->get(), clock, random);
  if (!root) return fail(root.error());
  auto ocsp_key = generate_key(config.algorithm);
  if (!ocsp_key) return fail(ocsp_key.error());
  auto ocsp = make_ocsp_signer(kind, root->get(), key->get(), ocsp_key->get(), clock, random);
  if (!ocsp) return fail(ocsp.error());
  SMACERT_TRY_STATUS(save_private_key(tmp / "ca.key", key->get()));
  SMACERT_TRY_STATUS(save_certificate(tmp / "ca.pem", root->get()));
  SMACERT_TRY_STATUS(save_private_key(tmp / "ocsp.key", ocsp_key->get()));
  SMACERT_TRY_STATUS(save_certificate(tmp / "ocsp.pem", ocsp->get()));
  fs::rename(tmp, dir, ec);
  if (ec)
    return fail(Errc::io, "cannot move the new CA into " + dir.string() + ": " + ec.message());
  return {};
}

}  // namespace

std::string random_serial(Random& random) {
  auto b = random.bytes(16);
  b[0] &= 0x7f;
  if (b[0] == 0) b[0] = 0x01;  // keep all 16 octets significant
  return hex_encode(b);
}

TimePoint not_after(const X509* cert) {
  return asn1_time_point(X509_get0_notAfter(cert));
}
TimePoint not_before(const X509* cert) {
  return asn1_time_point(X509_get0_notBefore(cert));
}

CertificateAuthority::CertificateAuthority(CaKind kind, PkiConfig config, X509Ptr cert, PkeyPtr key,
                                           X509Ptr ocsp_cert, PkeyPtr ocsp_key)
    : kind_(kind),
      config_(std::move(config)),
      cert_(std::move(cert)),
      key_(std::move(key)),
      ocsp_cert_(std::move(ocsp_cert)),
      ocsp_key_(std::move(ocsp_key)),
      signature_algorithm_(pki::signature_algorithm(key_.get())) {
  unsigned char* p = nullptr;
  int n = i2d_X509_NAME(X509_get_subject_name(cert_.get()), &p);
  if (n > 0) name_der_.assign(p, p + n);
  OPENSSL_free(p);
  // RFC 5280 4.2.1.1 keyIdentifier [0]: the CA's own subject key identifier,
  // or the SHA-1 of its key bits (4.2.1.2 method 1) for a root made without one.
  Bytes key_id;
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert_.get())) {
    key_id.assign(ASN1_STRING_get0_data(ski), ASN1_STRING_get0_data(ski) + ASN1_STRING_length(ski));
  } else {
    key_id.resize(EVP_MAX_MD_SIZE);
    unsigned len = 0;
    X509_pubkey_digest(cert_.get(), EVP_sha1(), key_id.data(), &len);
    key_id.resize(len);
  }
  authority_key_identifier_ = der::extension(
      "2.5.29.35", false, der::sequence({der::tlv(der::tag::context(0, false), key_id)}));
  // RFC 5280 4.2.1.3 keyUsage, critical: digitalSignature (bit 0), and
  // nonRepudiation (bit 1) for signature certificates.
  static const std::uint8_t kSignUsage[] = {der::tag::kBitString, 2, 6, 0xc0};
  static const std::uint8_t kAuthUsage[] = {der::tag::kBitString, 2, 7, 0x80};
  key_usage_ = der::extension("2.5.29.15", true,
                              kind_ == CaKind::sign ? ByteView(kSignUsage) : ByteView(kAuthUsage));
  // RFC 5280 4.2.1.4: one PolicyInformation with the kind's OID, no qualifiers.
  for (auto k : {CertificateKind::card_sign, CertificateKind::card_auth,
                 CertificateKind::phone_sign, CertificateKind::phone_auth})
    policies_[static_cast<std::size_t>(k)] =
        der::extension("2.5.29.32", config_.policies_critical,
                       der::sequence({der::sequence({der::oid(config_.policies.of(k))})}));
  // RFC 5280 4.2.2.1 AIA id-ad-ocsp; 4.2.1.13 one distribution point with a full name.
  locations_ = der::concat(
      {der::extension("1.3.6.1.5.5.7.1.1", false,
                      der::sequence({der::sequence(
                          {der::oid("1.3.6.1.5.5.7.48.1"), uri_name(config_.ocsp_url(kind_))})})),
       der::extension("2.5.29.31", false,
                      der::sequence({der::sequence({der::tlv(
                          der::tag::context(0),
                          der::tlv(der::tag::context(0), uri_name(config_.crl_url(kind_))))})}))});
}

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::open_or_create(
    const fs::path& dir, CaKind kind, const PkiConfig& config, const Clock& clock, Random& random) {
  std::error_code ec;
  if (!fs::exists(dir / "ca.pem", ec) && !fs::exists(dir / "ca.key", ec)) {
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
      return fail(Errc::conflict, dir.string() + " exists but holds no CA; refusing to touch it");
    if (fs::exists(dir, ec)) fs::remove(dir, ec);
    SMACERT_TRY_STATUS(ensure_directory(dir.parent_path(), 0700));
    SMACERT_TRY_STATUS(create_ca(dir, kind, config, clock, random));
  }
  auto cert = load_certificate(dir / "ca.pem");
  if (!cert) return fail(cert.error());
  auto key = load_private_key(dir / "ca.key");
  if (!key) return fail(key.error());
  if (X509_check_private_key(cert->get(), key->get()) != 1)
    return fail(openssl_error(Errc::conflict, dir.string() + ": ca.key does not match ca.pem"));
  auto ocsp_cert = load_certificate(dir / "ocsp.pem");
  if (!ocsp_cert) return fail(ocsp_cert.error());
  auto ocsp_key = load_private_key(dir / "ocsp.key");
  if (!ocsp_key) return fail(ocsp_key.error());
  if (X509_check_private_key(ocsp_cert->get(), ocsp_key->get()) != 1)
    return fail(openssl_error(Errc::conflict, dir.string() + ": ocsp.key does not match ocsp.pem"));
  if (not_after(ocsp_cert->get()) - clock.now() < kOcspSignerRenewBefore) {
    auto renewed = make_ocsp_signer(kind, cert->get(), key->get(), ocsp_key->get(), clock, random);
    if (!renewed) return fail(renewed.error());
    SMACERT_TRY_STATUS(save_certificate(dir / "ocsp.pem", renewed->get()));
    *ocsp_cert = std::move(*renewed);
  }
  return std::unique_ptr<CertificateAuthority>(
      new CertificateAuthority(kind, config, std::move(*cert), std::move(*key),
                               std::move(*ocsp_cert), std::move(*ocsp_key)));
}

Result<Authorities> Authorities::open_or_create(const fs::path& data_dir, const PkiConfig& config,
                                                const Clock& clock, Random& random) {
  auto sign = CertificateAuthority::open_or_create(data_dir / "ca" / "sign", CaKind::sign, config,
                                                   clock, random);
  if (!sign) return fail(sign.error());
  auto auth = CertificateAuthority::open_or_create(data_dir / "ca" / "auth", CaKind::auth, config,
                                                   clock, random);
  if (!auth) return fail(auth.error());
  return Authorities{std::move(*sign), std::move(*auth)};
}

Result<Bytes> CertificateAuthority::issue(const IssueRequest& r) const {
  // Step 1: the request belongs to this hierarchy.
  if (ca_of(r.kind) != kind_)
    return fail(Errc::invalid_argument, std::string(certificate_kind_name(r.kind)) +
                                            " is not issued by the " +
                                            std::string(ca_kind_name(kind_)) + " CA");
  if (r.csr == nullptr) return fail(Errc::invalid_argument, "no certificate request");
  // Step 2: proof of possession (RFC 2986 3) was checked when the request was
  // read (CertificateRequest::parse). Step 3: the key policy of the profile.
  SMACERT_TRY_STATUS(r.csr->end_entity_key());
  // Step 4: the subject and, for signature certificates, the four basic facts.
  SMACERT_TRY_STATUS(check_subject_id(r.subject_id));
  bool signature = kind_ == CaKind::sign;
  if (signature) {
    if (!r.facts)
      return fail(Errc::invalid_argument, "a signature certificate needs the holder's facts");
    SMACERT_TRY_STATUS(check_facts(*r.facts));
  }
  // Step 5: validity, bounded by the card certificate for phone certificates.
  if (r.not_after <= r.not_before)
    return fail(Errc::invalid_argument, "notAfter must be later than notBefore");
  if (is_phone(r.kind)) {
    if (!r.not_after_limit)
      return fail(Errc::invalid_argument, "a phone certificate needs its card certificate's end");
    if (r.not_after > *r.not_after_limit)
      return fail(Errc::policy, "a phone certificate may not outlive the card certificate (" +
                                    to_rfc3339(*r.not_after_limit) + ")");
  }
  // Step 6: build it to the profile (RFC 5280 4.1), the parts this CA fixes
  // encoded once, in the order OpenSSL's encoders keep.
  Result<Bytes> subject = [&]() -> Result<Bytes> {
    if (!signature)
      return encode_name({{Attribute::country, "JP"}, {Attribute::common_name, r.subject_id}});
    auto loc = split_address(r.facts->address);
    if (!loc) return fail(loc.error());
    return encode_name({{Attribute::country, "JP"},
                        {Attribute::locality, loc->prefecture},
                        {Attribute::locality, loc->municipality},
                        {Attribute::common_name, r.subject_id}});
  }();
  if (!subject) return fail(subject.error());
  auto serial = serial_bytes(r.serial);
  if (!serial) return fail(serial.error());
  Bytes facts;
  if (signature) {
    auto birth = jpki_birth_date(r.facts->birth_date);
    if (!birth) return fail(birth.error());
    facts = facts_extension(*r.facts, *birth);
  }
  const CertificateRequest& csr = *r.csr;
  // The requester's key as algorithm, parameters (NULL for RSA, RFC 3279
  // 2.3.1; the named curve for EC, RFC 5480 2.1.1) and key bits.
  const Bytes spki = der::sequence(
      {der::sequence(
           {csr.algorithm_oid(), csr.curve_oid().empty() ? der::null() : Bytes{}, csr.curve_oid()}),
       der::bit_string(csr.key_bits())});
  // RFC 5280 4.2.1.2 method 1: the SHA-1 of the subjectPublicKey bits.
  Bytes ski(SHA_DIGEST_LENGTH);
  SHA1(csr.key_bits().data(), csr.key_bits().size(), ski.data());
  static const std::uint8_t kVersion3[] = {der::tag::context(0), 3, der::tag::kInteger, 1, 2};
  const Bytes tbs = der::sequence(
      {kVersion3, der::integer(*serial), signature_algorithm_, name_der_,
       der::sequence({der::time(r.not_before), der::time(r.not_after)}), *subject, spki,
       der::tlv(der::tag::context(3),
                der::sequence({key_usage_, policies_[static_cast<std::size_t>(r.kind)], facts,
                               der::extension("2.5.29.14", false, der::octet_string(ski)),
                               authority_key_identifier_, locations_}))});
  // Step 7: sign.
  return signed_der(key_.get(), signature_algorithm_, tbs);
}

Result<X509ReqPtr> make_csr(Signer& signer, std::string_view cn) {
  X509ReqPtr req(X509_REQ_new());
  auto name = make_name({{"C", "JP"}, {"CN", std::string(cn)}});
  if (!name) return fail(name.error());
  EVP_PKEY* pub = const_cast<EVP_PKEY*>(signer.public_key());
  if (!X509_REQ_set_version(req.get(), 0) || !X509_REQ_set_subject_name(req.get(), name->get()) ||
      !X509_REQ_set_pubkey(req.get(), pub))
    return fail(openssl_error(Errc::crypto, "making a certificate request"));
  // The signer may be a card: sign the encoded CertificationRequestInfo
  // (RFC 2986 4.2) ourselves instead of handing OpenSSL a private key.
  X509_ALGOR* alg = X509_ALGOR_new();
  bool rsa = EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA;
  X509_ALGOR_set0(alg, OBJ_nid2obj(rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256),
                  rsa ? V_ASN1_NULL : V_ASN1_UNDEF, nullptr);
  X509_REQ_set1_signature_algo(req.get(), alg);
  X509_ALGOR_free(alg);
  unsigned char* tbs = nullptr;
  int tbs_len = i2d_re_X509_REQ_tbs(req.get(), &tbs);
  if (tbs_len <= 0) return fail(openssl_error(Errc::crypto, "encoding a certificate request"));
  Bytes digest = sha256(ByteView(tbs, static_cast<std::size_t>(tbs_len)));
  OPENSSL_free(tbs);
  auto sig = signer.sign_sha256(digest);
  if (!sig) return fail(sig.error().context("signing the certificate request"));
  ASN1_BIT_STRING* bits = ASN1_BIT_STRING_new();
  ASN1_BIT_STRING_set(bits, sig->data(), static_cast<int>(sig->size()));
  // A signature is whole octets: say so, or DER would drop trailing zero bits.
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  X509_REQ_set0_signature(req.get(), bits);
  return req;
}

}  // namespace smacert::pki
