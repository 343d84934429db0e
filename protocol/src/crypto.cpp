#include "fogbank/protocol/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <stdexcept>

namespace fogbank::protocol {

int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";


int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

[[noreturn]] void crypto_failure(const char* what) {
  // OpenSSL only fails here on allocation failure or a broken installation.
  throw std::runtime_error(std::string("OpenSSL failure: ") + what);
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// OpenSSL 3 looks an algorithm up in its provider store (under a lock) on every EVP_sha256()-style
// call, and HMAC() sets up a MAC context each time: per request that cost more than the hashing
// of SigV4's few short strings. Algorithms are fetched once, and one-shot digests reuse a context
// per thread.
const EVP_MD* fetched_md(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) {
    crypto_failure("EVP_MD_fetch");
  }
  return md;  // kept for the life of the process
}

const EVP_MD* sha256_md() {
  static const EVP_MD* md = fetched_md("SHA256");
  return md;
}

const EVP_MD* md5_md() {
  static const EVP_MD* md = fetched_md("MD5");
  return md;
}

EVP_MD_CTX* thread_digest_ctx() {
  thread_local MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) {
    crypto_failure("EVP_MD_CTX_new");
  }
  return ctx.get();
}

/// Digest of the concatenation of `parts`, on this thread's reusable context.
template <std::size_t N>
std::array<std::uint8_t, N> digest(const EVP_MD* md, std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = thread_digest_ctx();
  if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1) {
    crypto_failure("EVP_DigestInit_ex2");
  }
  for (std::string_view part : parts) {
    if (!part.empty() && EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) {
      crypto_failure("EVP_DigestUpdate");
    }
  }
  std::array<std::uint8_t, N> out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != N) {
    crypto_failure("EVP_DigestFinal_ex");
  }
  return out;
}

MdCtxPtr new_digest_ctx(const EVP_MD* md) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    crypto_failure("EVP_DigestInit_ex");
  }
  return ctx;
}

void digest_update(EVP_MD_CTX* ctx, std::string_view data) {
  if (ctx == nullptr) {
    throw std::logic_error("digest used after finish or move");
  }
  if (!data.empty() && EVP_DigestUpdate(ctx, data.data(), data.size()) != 1) {
    crypto_failure("EVP_DigestUpdate");
  }
}

template <std::size_t N>
std::array<std::uint8_t, N> digest_finish(MdCtxPtr& ctx) {
  if (!ctx) {
    throw std::logic_error("digest finished twice or used after move");
  }
  std::array<std::uint8_t, N> out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != N) {
    crypto_failure("EVP_DigestFinal_ex");
  }
  ctx.reset();
  return out;
}

}  // namespace

Sha256Digest sha256(std::string_view data) { return digest<32>(sha256_md(), {data}); }

Md5Digest md5(std::string_view data) { return digest<16>(md5_md(), {data}); }

Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
  // RFC 2104 over SHA-256 (64-byte blocks): H((K ^ opad) || H((K ^ ipad) || data)).
  constexpr std::size_t kBlock = 64;
  std::array<char, kBlock> padded{};
  if (key.size() > kBlock) {
    const Sha256Digest hashed = sha256(key);
    std::copy(hashed.begin(), hashed.end(), padded.begin());
  } else {
    std::copy(key.begin(), key.end(), padded.begin());
  }
  std::array<char, kBlock> inner_pad{};
  std::array<char, kBlock> outer_pad{};
  for (std::size_t i = 0; i < kBlock; ++i) {
    inner_pad[i] = static_cast<char>(padded[i] ^ 0x36);
    outer_pad[i] = static_cast<char>(padded[i] ^ 0x5c);
  }
  const Sha256Digest inner = digest<32>(sha256_md(), {std::string_view(inner_pad.data(), kBlock), data});
  return digest<32>(sha256_md(), {std::string_view(outer_pad.data(), kBlock),
                                  std::string_view(reinterpret_cast<const char*>(inner.data()), inner.size())});
}

std::string hex(std::string_view bytes) {
  std::string out;
  out.resize(bytes.size() * 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0x0f];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view text) {
  if (text.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.resize(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_digit_value(text[2 * i]);
    int lo = hex_digit_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.resize(4 * ((bytes.size() + 2) / 3));
  if (bytes.empty()) {
    return out;
  }
  // EVP_EncodeBlock takes an int length; chunk by a multiple of 3 so padding only ends the output.
  constexpr std::size_t kStep = 3 * (1u << 28);
  std::size_t in_pos = 0;
  std::size_t out_pos = 0;
  while (in_pos < bytes.size()) {
    std::size_t n = std::min(kStep, bytes.size() - in_pos);
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + out_pos),
                                  reinterpret_cast<const unsigned char*>(bytes.data() + in_pos),
                                  static_cast<int>(n));
    in_pos += n;
    out_pos += static_cast<std::size_t>(written);
  }
  out.resize(out_pos);
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=') {
        // Padding only in the last quantum, only in the final one or two positions.
        if (!last || j < 2) {
          return std::nullopt;
        }
        ++pad;
        v[j] = 0;
        continue;
      }
      if (pad > 0) {
        return std::nullopt;
      }
      v[j] = base64_value(c);
      if (v[j] < 0) {
        return std::nullopt;
      }
    }
    // Reject non-canonical encodings whose unused low bits are set.
    if (pad == 2 && (v[1] & 0x0f) != 0) {
      return std::nullopt;
    }
    if (pad == 1 && (v[2] & 0x03) != 0) {
      return std::nullopt;
    }
    std::uint32_t n = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                      (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) {
      out.push_back(static_cast<char>((n >> 8) & 0xff));
    }
    if (pad < 1) {
      out.push_back(static_cast<char>(n & 0xff));
    }
  }
  return out;
}

namespace {

std::string secret_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::size_t pos = 0;
  while (pos < n) {
    // RAND_bytes takes an int count.
    std::size_t step = std::min<std::size_t>(n - pos, 1u << 30);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + pos), static_cast<int>(step)) != 1) {
      crypto_failure("RAND_bytes");
    }
    pos += step;
  }
  return out;
}

/// xoshiro256** (Blackman and Vigna), seeded per thread from the DRBG: 2^256 - 1 period, so ids
/// drawn from it do not repeat in practice, and threads never share a sequence.
class IdGenerator {
 public:
  IdGenerator() {
    const std::string seed = secret_bytes(sizeof state_);
    std::memcpy(state_.data(), seed.data(), sizeof state_);
    if (state_[0] == 0 && state_[1] == 0 && state_[2] == 0 && state_[3] == 0) {
      state_[0] = 1;  // the one state the generator cannot leave
    }
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
};

std::string identifier_bytes(std::size_t n) {
  thread_local IdGenerator generator;
  std::string out(n, '\0');
  for (std::size_t pos = 0; pos < n; pos += 8) {
    const std::uint64_t word = generator.next();
    std::memcpy(out.data() + pos, &word, std::min<std::size_t>(8, n - pos));
  }
  return out;
}

}  // namespace

std::string random_bytes(std::size_t n, Randomness kind) {
  return kind == Randomness::kSecret ? secret_bytes(n) : identifier_bytes(n);
}

std::string random_upper_alnum(std::size_t n, Randomness kind) {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out;
  out.reserve(n);
  // Rejection sampling keeps the distribution uniform: 252 = 7 * 36.
  constexpr unsigned kLimit = 252;
  while (out.size() < n) {
    std::string buf = random_bytes((n - out.size()) * 2, kind);
    for (char c : buf) {
      auto b = static_cast<unsigned char>(c);
      if (b < kLimit && out.size() < n) {
        out.push_back(kAlphabet[b % kAlphabet.size()]);
      }
    }
  }
  return out;
}

std::string random_uuid(Randomness kind) {
  std::string b = random_bytes(16, kind);
  b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0f) | 0x40);
  b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3f) | 0x80);
  std::string h = hex(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20);
}

struct Sha256::Impl {
  MdCtxPtr ctx;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>(Impl{new_digest_ctx(sha256_md())})) {}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::string_view data) { digest_update(impl_ ? impl_->ctx.get() : nullptr, data); }

Sha256Digest Sha256::finish() {
  if (!impl_) {
    throw std::logic_error("Sha256 used after move");
  }
  return digest_finish<32>(impl_->ctx);
}

struct Md5::Impl {
  MdCtxPtr ctx;
};

Md5::Md5() : impl_(std::make_unique<Impl>(Impl{new_digest_ctx(md5_md())})) {}
Md5::~Md5() = default;
Md5::Md5(Md5&&) noexcept = default;
Md5& Md5::operator=(Md5&&) noexcept = default;

void Md5::update(std::string_view data) { digest_update(impl_ ? impl_->ctx.get() : nullptr, data); }

Md5Digest Md5::finish() {
  if (!impl_) {
    throw std::logic_error("Md5 used after move");
  }
  return digest_finish<16>(impl_->ctx);
}

}  // namespace fogbank::protocol

namespace fogbank::protocol {

namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

CipherCtxPtr new_cipher_ctx() {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) {
    throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  }
  return ctx;
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

struct AesCtr::Impl {
  CipherCtxPtr ctx;
};

AesCtr::AesCtr(std::string_view key, std::string_view iv, std::uint64_t offset) : impl_(std::make_unique<Impl>()) {
  if (key.size() != 32 || iv.size() != 16) {
    throw std::invalid_argument("AES-256-CTR needs a 32-byte key and a 16-byte IV");
  }
  // The counter block of `offset`: the IV plus the block index, as one 128-bit big-endian sum.
  std::array<unsigned char, 16> counter{};
  std::memcpy(counter.data(), iv.data(), 16);
  std::uint64_t add = offset / 16;
  for (int i = 15; i >= 0 && add != 0; --i) {
    const unsigned sum = counter[static_cast<std::size_t>(i)] + static_cast<unsigned>(add & 0xff);
    counter[static_cast<std::size_t>(i)] = static_cast<unsigned char>(sum);
    add = (add >> 8) + (sum >> 8);
  }
  impl_->ctx = new_cipher_ctx();
  if (EVP_EncryptInit_ex(impl_->ctx.get(), EVP_aes_256_ctr(), nullptr, bytes(key), counter.data()) != 1) {
    throw std::runtime_error("AES-256-CTR init failed");
  }
  if (const auto within = static_cast<std::size_t>(offset % 16); within != 0) {
    std::array<char, 16> skip{};
    apply(skip.data(), within);
  }
}

AesCtr::~AesCtr() = default;
AesCtr::AesCtr(AesCtr&&) noexcept = default;
AesCtr& AesCtr::operator=(AesCtr&&) noexcept = default;

void AesCtr::apply(char* data, std::size_t n) {
  auto* p = reinterpret_cast<unsigned char*>(data);
  while (n > 0) {
    const int chunk = static_cast<int>(std::min<std::size_t>(n, 1u << 30));
    int out = 0;
    if (EVP_EncryptUpdate(impl_->ctx.get(), p, &out, p, chunk) != 1 || out != chunk) {
      throw std::runtime_error("AES-256-CTR failed");
    }
    p += chunk;
    n -= static_cast<std::size_t>(chunk);
  }
}

std::string aes_gcm_seal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  if (key.size() != 32) {
    throw std::invalid_argument("AES-256-GCM needs a 32-byte key");
  }
  std::string out = random_bytes(12);
  out.resize(12 + plaintext.size() + 16);
  auto ctx = new_cipher_ctx();
  int len = 0;
  auto* body = reinterpret_cast<unsigned char*>(out.data() + 12);
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(out.substr(0, 12))) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), body, &len, bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.data() + 12 + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM seal failed");
  }
  return out;
}

std::optional<std::string> aes_gcm_open(std::string_view key, std::string_view sealed, std::string_view aad) {
  if (key.size() != 32 || sealed.size() < 28) {
    return std::nullopt;
  }
  const auto text = sealed.substr(12, sealed.size() - 28);
  std::string tag(sealed.substr(sealed.size() - 16));
  std::string out(text.size(), '\0');
  auto ctx = new_cipher_ctx();
  int len = 0;
  auto* body = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(sealed.substr(0, 12))) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), body, &len, bytes(text), static_cast<int>(text.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), body + len, &len) != 1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace fogbank::protocol
