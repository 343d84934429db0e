#include "signing.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "fogbank/protocol/crypto.hpp"

namespace fogbank::sns {

struct Signer::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

template <class T, void (*Free)(T*)>
struct Owned {
  T* p = nullptr;
  explicit Owned(T* ptr) : p(ptr) {}
  ~Owned() {
    if (p != nullptr) {
      Free(p);
    }
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
};

void bio_free(BIO* b) { BIO_free(b); }
using Bio = Owned<BIO, bio_free>;
using Cert = Owned<X509, X509_free>;
using Bignum = Owned<BIGNUM, BN_free>;
using MdCtx = Owned<EVP_MD_CTX, EVP_MD_CTX_free>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string cert_id_of(X509* cert) {
  int n = i2d_X509(cert, nullptr);
  if (n <= 0) {
    throw std::runtime_error("SNS signing certificate: DER encoding failed");
  }
  std::string der(static_cast<std::size_t>(n), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert, &out);
  return protocol::hex(protocol::sha256(der)).substr(0, 32);
}

}  // namespace

Signer::Signer(std::unique_ptr<Key> key, std::string key_pem, std::string cert_pem, std::string cert_id)
    : key_(std::move(key)), key_pem_(std::move(key_pem)), cert_pem_(std::move(cert_pem)), cert_id_(std::move(cert_id)) {}

Signer::~Signer() = default;

std::unique_ptr<Signer> Signer::generate() {
  auto key = std::make_unique<Key>();
  key->pkey = EVP_RSA_gen(2048);
  if (key->pkey == nullptr) {
    throw std::runtime_error("SNS signing key: RSA key generation failed");
  }
  Cert cert(X509_new());
  Bignum serial(BN_new());
  bool ok = cert.p != nullptr && serial.p != nullptr && X509_set_version(cert.p, 2) == 1 &&
            BN_rand(serial.p, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
            BN_to_ASN1_INTEGER(serial.p, X509_get_serialNumber(cert.p)) != nullptr &&
            // Validity is real time on purpose: verifiers check it against their own clocks.
            X509_gmtime_adj(X509_getm_notBefore(cert.p), -24L * 3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.p), 10L * 365 * 24 * 3600) != nullptr &&
            X509_set_pubkey(cert.p, key->pkey) == 1;
  X509_NAME* name = ok ? X509_get_subject_name(cert.p) : nullptr;
  ok = ok && name != nullptr &&
       X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("US"), -1, -1,
                                  0) == 1 &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fogbank"), -1,
                                  -1, 0) == 1 &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>("sns.amazonaws.com"), -1, -1, 0) == 1 &&
       X509_set_issuer_name(cert.p, name) == 1 && X509_sign(cert.p, key->pkey, EVP_sha256()) > 0;
  if (!ok) {
    throw std::runtime_error("SNS signing certificate: creation failed");
  }
  Bio key_bio(BIO_new(BIO_s_mem()));
  Bio cert_bio(BIO_new(BIO_s_mem()));
  if (key_bio.p == nullptr || cert_bio.p == nullptr ||
      PEM_write_bio_PrivateKey(key_bio.p, key->pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cert_bio.p, cert.p) != 1) {
    throw std::runtime_error("SNS signing key: PEM encoding failed");
  }
  std::string id = cert_id_of(cert.p);
  return std::unique_ptr<Signer>(new Signer(std::move(key), bio_text(key_bio.p), bio_text(cert_bio.p), std::move(id)));
}

std::unique_ptr<Signer> Signer::from_pem(std::string_view key_pem, std::string_view cert_pem) {
  Bio key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  Bio cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  if (key_bio.p == nullptr || cert_bio.p == nullptr) {
    return nullptr;
  }
  auto key = std::make_unique<Key>();
  key->pkey = PEM_read_bio_PrivateKey(key_bio.p, nullptr, nullptr, nullptr);
  Cert cert(PEM_read_bio_X509(cert_bio.p, nullptr, nullptr, nullptr));
  if (key->pkey == nullptr || cert.p == nullptr || X509_check_private_key(cert.p, key->pkey) != 1) {
    return nullptr;
  }
  std::string id = cert_id_of(cert.p);
  return std::unique_ptr<Signer>(new Signer(std::move(key), std::string(key_pem), std::string(cert_pem), std::move(id)));
}

std::string Signer::sign(std::string_view data, std::string_view version) const {
  MdCtx ctx(EVP_MD_CTX_new());
  const EVP_MD* md = version == "2" ? EVP_sha256() : EVP_sha1();
  std::size_t len = 0;
  if (ctx.p == nullptr || EVP_DigestSignInit(ctx.p, nullptr, md, nullptr, key_->pkey) != 1 ||
      EVP_DigestSign(ctx.p, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    throw std::runtime_error("SNS signature: signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.p, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    throw std::runtime_error("SNS signature: signing failed");
  }
  sig.resize(len);
  return protocol::base64_encode(sig);
}

namespace {

void field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.push_back('\n');
  out.append(value);
  out.push_back('\n');
}

}  // namespace

std::string notification_string_to_sign(std::string_view message, std::string_view message_id,
                                        const std::optional<std::string>& subject, std::string_view timestamp,
                                        std::string_view topic_arn) {
  std::string out;
  field(out, "Message", message);
  field(out, "MessageId", message_id);
  if (subject) {
    field(out, "Subject", *subject);
  }
  field(out, "Timestamp", timestamp);
  field(out, "TopicArn", topic_arn);
  field(out, "Type", "Notification");
  return out;
}

std::string confirmation_string_to_sign(std::string_view type, std::string_view message, std::string_view message_id,
                                        std::string_view subscribe_url, std::string_view timestamp,
                                        std::string_view token, std::string_view topic_arn) {
  std::string out;
  field(out, "Message", message);
  field(out, "MessageId", message_id);
  field(out, "SubscribeURL", subscribe_url);
  field(out, "Timestamp", timestamp);
  field(out, "Token", token);
  field(out, "TopicArn", topic_arn);
  field(out, "Type", type);
  return out;
}

}  // namespace fogbank::sns
