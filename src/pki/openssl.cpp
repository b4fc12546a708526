#include "pki/openssl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/encoding.h"

namespace smacert::pki {

void free_x509_stack(STACK_OF(X509) * s) {
  sk_X509_pop_free(s, X509_free);
}
X509StackPtr new_x509_stack() {
  return X509StackPtr(sk_X509_new_null());
}

MdCtxPtr new_one_shot_md_ctx() {
  MdCtxPtr md(EVP_MD_CTX_new());
  if (md) EVP_MD_CTX_set_flags(md.get(), EVP_MD_CTX_FLAG_FINALISE);
  return md;
}

Error openssl_error(Errc code, std::string_view doing) {
  std::string text(doing);
  unsigned long e = ERR_peek_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    text += " (";
    text += buf;
    text += ")";
  }
  ERR_clear_error();
  return Error{code, std::move(text)};
}

namespace {

template <class Ptr, class D2i>
Result<Ptr> parse_der(ByteView der, std::size_t max, D2i d2i, std::string_view what) {
  if (der.empty()) return fail(Errc::malformed, std::string(what) + " is empty");
  if (der.size() > max)
    return fail(Errc::too_large,
                std::string(what) + " is larger than " + std::to_string(max) + " bytes");
  const unsigned char* p = der.data();
  Ptr obj(d2i(nullptr, &p, static_cast<long>(der.size())));
  if (!obj) return fail(openssl_error(Errc::malformed, std::string(what) + " is not valid DER"));
  if (p != der.data() + der.size())
    return fail(Errc::malformed, std::string(what) + " has trailing bytes after its DER");
  return obj;
}

template <class T, class I2d>
Bytes encode_der(const T* obj, I2d i2d) {
  int len = i2d(obj, nullptr);
  if (len <= 0) return {};
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d(obj, &p);
  return out;
}

}  // namespace

Result<X509Ptr> parse_certificate(ByteView der) {
  return parse_der<X509Ptr>(der, kMaxDerSize, d2i_X509, "certificate");
}

Result<X509Ptr> parse_certificate_pem(std::string_view pem) {
  if (pem.size() > kMaxDerSize * 2) return fail(Errc::too_large, "PEM certificate is too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return fail(openssl_error(Errc::malformed, "PEM text holds no certificate"));
  return cert;
}

Result<X509ReqPtr> parse_csr(ByteView der) {
  return parse_der<X509ReqPtr>(der, kMaxDerSize, d2i_X509_REQ, "certificate request");
}

Result<X509CrlPtr> parse_crl(ByteView der, std::size_t max_size) {
  return parse_der<X509CrlPtr>(der, max_size, d2i_X509_CRL, "CRL");
}

Bytes to_der(const X509* cert) {
  return encode_der(cert, i2d_X509);
}
Bytes to_der(const X509_REQ* req) {
  return encode_der(req, i2d_X509_REQ);
}
Bytes to_der(const X509_CRL* crl) {
  return encode_der(crl, i2d_X509_CRL);
}

std::string to_pem(const X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), const_cast<X509*>(cert));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  Bytes mag(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), mag.data());
  if (mag.empty()) mag.push_back(0);
  return hex_encode(mag);
}

Result<Asn1IntegerPtr> serial_from_hex(std::string_view hex) {
  if (hex.empty() || hex.size() > 40)
    return fail(Errc::invalid_argument, "a serial number is 1 to 40 hex digits");
  auto mag = hex_decode(hex.size() % 2 ? "0" + std::string(hex) : std::string(hex));
  if (!mag) return fail(Errc::invalid_argument, "a serial number must be hex digits");
  BignumPtr bn(BN_bin2bn(mag->data(), static_cast<int>(mag->size()), nullptr));
  Asn1IntegerPtr out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return fail(openssl_error(Errc::crypto, "encoding a serial number"));
  return out;
}

Result<Bytes> serial_bytes(std::string_view hex) {
  auto i = serial_from_hex(hex);
  if (!i) return fail(i.error());
  BignumPtr bn(ASN1_INTEGER_to_BN(i->get(), nullptr));
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

}  // namespace smacert::pki
