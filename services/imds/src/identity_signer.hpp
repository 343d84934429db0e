#pragma once
// Signs the instance identity document the way EC2 publishes it: `signature` (base64 RSA-SHA256)
// and `pkcs7`/`rsa2048` (base64 DER PKCS#7 signed data with the document inside). The RSA-2048
// key and its self-signed certificate are generated on first use (not at start: RSA key
// generation takes tens of milliseconds) and kept in a directory so they survive restarts.
// Not thread-safe: the caller serialises.

#include <memory>
#include <string>

namespace fogbank::imds {

class IdentitySigner {
 public:
  IdentitySigner();
  ~IdentitySigner();
  void set_directory(std::string dir) { dir_ = std::move(dir); }
  std::string signature(const std::string& document);
  std::string pkcs7(const std::string& document);
  std::string certificate();

 private:
  void ensure_key();
  struct Keys;
  std::unique_ptr<Keys> keys_;
  std::string dir_;
};

}  // namespace fogbank::imds
