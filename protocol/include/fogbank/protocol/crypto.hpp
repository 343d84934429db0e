#pragma once
// Hashes, HMAC, encodings and randomness (OpenSSL 3 underneath; no OpenSSL types leak out).

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fogbank::protocol {

using Sha256Digest = std::array<std::uint8_t, 32>;
using Md5Digest = std::array<std::uint8_t, 16>;

Sha256Digest sha256(std::string_view data);
Md5Digest md5(std::string_view data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);
inline std::string_view as_view(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

/// Lower-case hex of raw bytes.
std::string hex(std::string_view bytes);
template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& d) {
  return hex(std::string_view(reinterpret_cast<const char*>(d.data()), N));
}
/// Value of one hex digit (either case), -1 for anything else.
int hex_digit_value(char c) noexcept;
/// Decodes hex (either case); nullopt on odd length or a non-hex digit.
std::optional<std::string> unhex(std::string_view text);

std::string base64_encode(std::string_view bytes);
/// Strict standard base64 with padding; nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text);

/// What random bytes are for. Secrets (keys, tokens, receipt handles) come from OpenSSL's DRBG;
/// identifiers that only must not repeat (request ids, storage ids) from a per-thread generator
/// seeded by it, which costs nanoseconds instead of a locked DRBG call and a getpid() each time.
enum class Randomness { kSecret, kIdentifier };

std::string random_bytes(std::size_t n, Randomness kind = Randomness::kSecret);
/// Random string over [A-Z0-9] (AWS access key ids, S3 request ids).
std::string random_upper_alnum(std::size_t n, Randomness kind = Randomness::kSecret);
/// Random RFC 4122 version-4 UUID, lower case.
std::string random_uuid(Randomness kind = Randomness::kSecret);

/// Incremental SHA-256 / MD5 (for streamed bodies). Move-only.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::string_view data);
  Sha256Digest finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(Md5&&) noexcept;
  Md5& operator=(Md5&&) noexcept;
  void update(std::string_view data);
  Md5Digest finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// AES-256 in counter mode over a byte stream that may start anywhere: `offset` is the stream
/// position of the first byte `apply` sees, so a ranged read decrypts from the middle. The same
/// call encrypts and decrypts. `key` is 32 bytes, `iv` 16 (the counter block of offset 0).
class AesCtr {
 public:
  AesCtr(std::string_view key, std::string_view iv, std::uint64_t offset = 0);
  ~AesCtr();
  AesCtr(AesCtr&&) noexcept;
  AesCtr& operator=(AesCtr&&) noexcept;
  void apply(char* data, std::size_t n);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// AES-256-GCM with a random nonce: nonce (12) || ciphertext || tag (16). `open` answers
/// nullopt for anything `seal` did not make with that key (and the same `aad`).
std::string aes_gcm_seal(std::string_view key, std::string_view plaintext, std::string_view aad = {});
std::optional<std::string> aes_gcm_open(std::string_view key, std::string_view sealed, std::string_view aad = {});

}  // namespace fogbank::protocol
