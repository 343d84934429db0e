#include "identity_signer.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "fogbank/protocol/crypto.hpp"

namespace fogbank::imds {

struct IdentitySigner::Keys {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~Keys() {
    EVP_PKEY_free(key);
    X509_free(cert);
  }
};

namespace {

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

IdentitySigner::IdentitySigner() = default;
IdentitySigner::~IdentitySigner() = default;

void IdentitySigner::ensure_key() {
  if (keys_) {
    return;
  }
  auto keys = std::make_unique<Keys>();
  std::filesystem::path pem = dir_.empty() ? std::filesystem::path() : std::filesystem::path(dir_) / "imds-identity.pem";
  if (!pem.empty() && std::filesystem::exists(pem)) {
    std::ifstream in(pem);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    keys->key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    keys->cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  }
  if (keys->key == nullptr || keys->cert == nullptr) {
    EVP_PKEY_free(keys->key);
    X509_free(keys->cert);
    keys->key = EVP_RSA_gen(2048);
    keys->cert = X509_new();
    if (keys->key == nullptr || keys->cert == nullptr) {
      throw std::runtime_error("cannot generate the instance identity signing key");
    }
    X509_set_version(keys->cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(keys->cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(keys->cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(keys->cert), 3650L * 86400);
    X509_set_pubkey(keys->cert, keys->key);
    X509_NAME* name = X509_get_subject_name(keys->cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fogbank"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("fogbank instance identity"), -1, -1, 0);
    X509_set_issuer_name(keys->cert, name);
    X509_sign(keys->cert, keys->key, EVP_sha256());
    if (!pem.empty()) {
      BIO* bio = BIO_new(BIO_s_mem());
      PEM_write_bio_PrivateKey(bio, keys->key, nullptr, nullptr, 0, nullptr, nullptr);
      PEM_write_bio_X509(bio, keys->cert);
      std::filesystem::create_directories(pem.parent_path());
      std::ofstream out(pem, std::ios::trunc);
      out << bio_string(bio);
      BIO_free(bio);
      std::filesystem::permissions(pem, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
  }
  keys_ = std::move(keys);
}

std::string IdentitySigner::signature(const std::string& document) {
  ensure_key();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(512, '\0');
  std::size_t len = sig.size();
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, keys_->key) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(document.data()), document.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    throw std::runtime_error("signing the identity document failed");
  }
  sig.resize(len);
  return protocol::base64_encode(sig);
}

std::string IdentitySigner::pkcs7(const std::string& document) {
  ensure_key();
  BIO* in = BIO_new_mem_buf(document.data(), static_cast<int>(document.size()));
  PKCS7* p7 = PKCS7_sign(keys_->cert, keys_->key, nullptr, in, PKCS7_BINARY | PKCS7_NOCERTS);
  BIO_free(in);
  if (p7 == nullptr) {
    throw std::runtime_error("PKCS7 signing of the identity document failed");
  }
  BIO* out = BIO_new(BIO_s_mem());
  i2d_PKCS7_bio(out, p7);
  std::string der = bio_string(out);
  BIO_free(out);
  PKCS7_free(p7);
  // EC2 serves the base64 body wrapped at 64 columns, without PEM armour.
  std::string b64 = protocol::base64_encode(der);
  std::string wrapped;
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    wrapped += b64.substr(i, 64);
    if (i + 64 < b64.size()) {
      wrapped += '\n';
    }
  }
  return wrapped;
}

std::string IdentitySigner::certificate() {
  ensure_key();
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, keys_->cert);
  std::string pem = bio_string(bio);
  BIO_free(bio);
  return pem;
}

}  // namespace fogbank::imds
