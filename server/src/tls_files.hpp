#pragma once
// TLS material for the HTTPS side of the API port.

#include <string>

namespace fogbank::server {

struct TlsFiles {
  std::string cert_chain;  ///< PEM: server certificate followed by the CA
  std::string key;         ///< PEM private key
  std::string ca;          ///< PEM CA certificate (for AWS_CA_BUNDLE); empty for user certs
};

/// Returns `dir`/tls/{server.pem,server.key,ca.pem}, generating a local CA and a server
/// certificate (localhost, *.localhost, s3.localhost, *.s3.localhost, 127.0.0.1, ::1 and `host`)
/// on first use. Throws std::runtime_error on failure.
TlsFiles ensure_tls_files(const std::string& dir, const std::string& host);

}  // namespace fogbank::server
