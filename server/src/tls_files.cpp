#include "tls_files.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <functional>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace fogbank::server {

namespace {

namespace fs = std::filesystem;

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_NAME* p) const { X509_NAME_free(p); }
  void operator()(FILE* f) const { std::fclose(f); }
};
template <class T>
using Owned = std::unique_ptr<T, Deleter>;

void check(bool ok, const char* what) {
  if (!ok) {
    throw std::runtime_error(std::string("TLS certificate generation failed: ") + what);
  }
}

Owned<EVP_PKEY> new_key() {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Owned<X509> new_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long days) {
  Owned<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fogbank"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  return cert;
}

void write_pem(const fs::path& path, const std::function<int(FILE*)>& writer, bool secret) {
  Owned<FILE> f(std::fopen(path.c_str(), "w"));
  check(f != nullptr, path.c_str());
  if (secret) {
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  }
  check(writer(f.get()) == 1, path.c_str());
}

}  // namespace

TlsFiles ensure_tls_files(const std::string& dir, const std::string& host) {
  fs::path tls = fs::path(dir) / "tls";
  TlsFiles files{(tls / "server.pem").string(), (tls / "server.key").string(), (tls / "ca.pem").string()};
  if (fs::exists(files.cert_chain) && fs::exists(files.key) && fs::exists(files.ca)) {
    return files;
  }
  fs::create_directories(tls);

  auto ca_key = new_key();
  auto ca = new_cert(ca_key.get(), "fogbank local CA", nullptr, nullptr, 3650);
  add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_ext(ca.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "sign CA");

  auto key = new_key();
  auto cert = new_cert(key.get(), "localhost", ca.get(), ca_key.get(), 825);
  std::string san = "DNS:localhost,DNS:*.localhost,DNS:s3.localhost,DNS:*.s3.localhost,"
                    "DNS:*.s3.localhost.localstack.cloud,DNS:localhost.localstack.cloud,"
                    "IP:127.0.0.1,IP:::1";
  if (!host.empty() && host != "127.0.0.1" && host != "localhost" && host != "0.0.0.0" && host != "::") {
    bool ip = host.find_first_not_of("0123456789.:") == std::string::npos;
    san += (ip ? ",IP:" : ",DNS:") + host;
  }
  add_ext(cert.get(), ca.get(), NID_subject_alt_name, san.c_str());
  add_ext(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_ext(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_ext(cert.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_ext(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "sign server certificate");

  write_pem(files.key, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  }, true);
  write_pem(files.cert_chain, [&](FILE* f) {
    return PEM_write_X509(f, cert.get()) == 1 && PEM_write_X509(f, ca.get()) == 1 ? 1 : 0;
  }, false);
  write_pem(files.ca, [&](FILE* f) { return PEM_write_X509(f, ca.get()); }, false);
  return files;
}

}  // namespace fogbank::server
