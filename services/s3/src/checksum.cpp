#include "fogbank/s3/checksum.hpp"

#include <isa-l/crc.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <climits>
#include <new>
#include <stdexcept>

#include "fogbank/protocol/crypto.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#define FOGBANK_CRC64_CLMUL 1
#endif

namespace fogbank::s3 {
namespace {

// All three CRCs are "reflected" with init = xorout = all ones (CRC-32/ISO-HDLC, CRC-32/ISCSI,
// CRC-64/NVME in the CRC catalogue). These are the bit-reversed generator polynomials.
constexpr std::uint64_t kCrc32Poly = 0xEDB88320u;
constexpr std::uint64_t kCrc32cPoly = 0x82F63B78u;
constexpr std::uint64_t kCrc64NvmePoly = 0x9A6C9329AC4BC9B5ull;

// ---- CRC-64/NVME: slicing-by-8 ----------------------------------------------------------------
// ISA-L gained crc64_rocksoft (the same polynomial) only in 2.31; Debian 12 ships 2.30, so this
// one is ours. Eight 256-entry tables let the loop fold 8 input bytes per step (~1-2 GB/s).

using Crc64Tables = std::array<std::array<std::uint64_t, 256>, 8>;

constexpr Crc64Tables make_crc64_tables() {
  Crc64Tables t{};
  for (std::uint64_t byte = 0; byte < 256; ++byte) {
    std::uint64_t r = byte;
    for (int bit = 0; bit < 8; ++bit) {
      r = (r & 1) ? (r >> 1) ^ kCrc64NvmePoly : r >> 1;
    }
    t[0][byte] = r;
  }
  // t[k][b] is the register contribution of byte b followed by k zero bytes.
  for (std::size_t k = 1; k < t.size(); ++k) {
    for (std::size_t byte = 0; byte < 256; ++byte) {
      const std::uint64_t prev = t[k - 1][byte];
      t[k][byte] = (prev >> 8) ^ t[0][prev & 0xFF];
    }
  }
  return t;
}

constexpr Crc64Tables kCrc64Tables = make_crc64_tables();

/// Advances a raw (not yet complemented) CRC-64/NVME register over `data`.
std::uint64_t crc64_nvme_update(std::uint64_t reg, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  const auto& t = kCrc64Tables;
  while (n >= 8) {
    // Assemble little-endian explicitly (reflected CRCs consume the lowest byte first); GCC turns
    // this into one load on little-endian machines.
    std::uint64_t word = 0;
    for (int i = 7; i >= 0; --i) {
      word = (word << 8) | p[i];
    }
    reg ^= word;
    reg = t[7][reg & 0xFF] ^ t[6][(reg >> 8) & 0xFF] ^ t[5][(reg >> 16) & 0xFF] ^
          t[4][(reg >> 24) & 0xFF] ^ t[3][(reg >> 32) & 0xFF] ^ t[2][(reg >> 40) & 0xFF] ^
          t[1][(reg >> 48) & 0xFF] ^ t[0][reg >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    reg = (reg >> 8) ^ t[0][(reg ^ *p) & 0xFF];
    ++p;
    --n;
  }
  return reg;
}

/// CRC32C through ISA-L, whose crc32_iscsi takes and returns the raw register (no complement)
/// and an `int` length, so long inputs go in pieces below INT_MAX.
std::uint32_t crc32c_update(std::uint32_t reg, std::string_view data) {
  constexpr std::size_t kMaxPiece = std::size_t{1} << 30;
  // crc32_iscsi only reads the buffer; its prototype just lacks the const.
  auto* p = const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(data.data()));
  std::size_t n = data.size();
  while (n > 0) {
    const std::size_t piece = std::min(n, kMaxPiece);
    reg = crc32_iscsi(p, static_cast<int>(piece), reg);
    p += piece;
    n -= piece;
  }
  return reg;
}

// ---- GF(2) arithmetic for combine_crc ---------------------------------------------------------
// In the reflected representation of a width-W CRC, the top bit (1 << (W-1)) is x^0 and bit 0 is
// x^(W-1). Appending n zero bytes to a message multiplies its register by x^(8n) mod P, and with
// init = xorout = all ones the complements cancel, so crc(A‖B) = crc(A)·x^(8·len B) mod P ⊕ crc(B)
// (the same identity zlib's crc32_combine uses).

struct CrcField {
  std::uint64_t poly;  // reflected
  std::uint64_t top;   // x^0

  /// a(x)·b(x) mod P.
  [[nodiscard]] std::uint64_t multiply(std::uint64_t a, std::uint64_t b) const {
    std::uint64_t product = 0;
    for (std::uint64_t m = top; m != 0 && a != 0; m >>= 1) {
      if (a & m) {
        product ^= b;
        a ^= m;
      }
      b = (b & 1) ? (b >> 1) ^ poly : b >> 1;  // b·x mod P
    }
    return product;
  }

  /// x^(n·2^log2_unit) mod P by square-and-multiply (the unit keeps n·8 from overflowing).
  [[nodiscard]] std::uint64_t power_of_x(std::uint64_t n, int log2_unit) const {
    std::uint64_t power = top >> 1;  // x^1
    for (int k = 0; k < log2_unit; ++k) {
      power = multiply(power, power);
    }
    std::uint64_t result = top;  // x^0
    while (n != 0) {
      if (n & 1) {
        result = multiply(power, result);
      }
      power = multiply(power, power);
      n >>= 1;
    }
    return result;
  }

  /// x^(8·bytes) mod P: what appending `bytes` zero bytes multiplies a register by.
  [[nodiscard]] std::uint64_t x_pow_8n(std::uint64_t bytes) const { return power_of_x(bytes, 3); }
};

// ---- CRC-64/NVME: carry-less multiply folding (x86-64 with PCLMULQDQ) -------------------------
// The slicing tables manage ~2 GB/s, and S3 computes CRC-64/NVME on every upload that names no
// other checksum, next to MD5; folding with PCLMULQDQ (Intel, "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ") is several times faster.
//
// A 128-bit lane S (bit j = coefficient of x^(127-j): reflected, so the first byte's low bit is the
// highest power) followed by d more bits is S·x^d; with S = H·x^64 + L (H in the low qword),
// S·x^d ≡ H·(x^(d+64) mod P) + L·(x^d mod P). A carry-less product of two reflected 64-bit values
// comes out one bit short of the 128-bit reflected layout, so the constants are taken one power
// lower: x^(d+63) and x^(d-1). Eight lanes fold 128 bytes per step (d = 1024) to hide the multiply
// latency, are then folded into one (d = 128), and the last 16 bytes plus any tail go through the
// table code, which also performs the final reduction (a register of 0 over S yields S·x^64 mod P).

#if FOGBANK_CRC64_CLMUL
struct Crc64FoldConstants {
  std::uint64_t lane_low;    // x^(1024+63) mod P
  std::uint64_t lane_high;   // x^(1024-1) mod P
  std::uint64_t block_low;   // x^(128+63) mod P
  std::uint64_t block_high;  // x^(128-1) mod P
};

const Crc64FoldConstants& crc64_fold_constants() {
  static const Crc64FoldConstants constants = [] {
    const CrcField field{kCrc64NvmePoly, std::uint64_t{1} << 63};
    return Crc64FoldConstants{field.power_of_x(1024 + 63, 0), field.power_of_x(1024 - 1, 0),
                              field.power_of_x(128 + 63, 0), field.power_of_x(128 - 1, 0)};
  }();
  return constants;
}

__attribute__((target("pclmul,sse2"))) inline __m128i fold_lane(__m128i lane, __m128i constants) {
  return _mm_xor_si128(_mm_clmulepi64_si128(lane, constants, 0x00),   // H · low constant
                       _mm_clmulepi64_si128(lane, constants, 0x11));  // L · high constant
}

__attribute__((target("pclmul,sse2"))) std::uint64_t crc64_nvme_clmul(std::uint64_t reg, std::string_view data) {
  constexpr std::size_t kLanes = 8;
  constexpr std::size_t kStride = 16 * kLanes;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  const auto load = [](const unsigned char* at) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at)); };
  const Crc64FoldConstants& k = crc64_fold_constants();
  const __m128i lane_k = _mm_set_epi64x(static_cast<long long>(k.lane_high), static_cast<long long>(k.lane_low));
  const __m128i block_k = _mm_set_epi64x(static_cast<long long>(k.block_high), static_cast<long long>(k.block_low));

  __m128i lanes[kLanes];  // a C array: std::array would drop __m128i's vector attributes
  for (std::size_t i = 0; i < kLanes; ++i) {
    lanes[i] = load(p + 16 * i);
  }
  // The running register is added to the first 8 message bytes (the highest powers).
  lanes[0] = _mm_xor_si128(lanes[0], _mm_set_epi64x(0, static_cast<long long>(reg)));
  p += kStride;
  n -= kStride;
  while (n >= kStride) {
    for (std::size_t i = 0; i < kLanes; ++i) {
      lanes[i] = _mm_xor_si128(fold_lane(lanes[i], lane_k), load(p + 16 * i));
    }
    p += kStride;
    n -= kStride;
  }
  __m128i s = lanes[0];
  for (std::size_t i = 1; i < kLanes; ++i) {
    s = _mm_xor_si128(fold_lane(s, block_k), lanes[i]);
  }
  while (n >= 16) {
    s = _mm_xor_si128(fold_lane(s, block_k), load(p));
    p += 16;
    n -= 16;
  }
  std::array<char, 16> last{};
  _mm_storeu_si128(reinterpret_cast<__m128i*>(last.data()), s);
  const std::uint64_t folded = crc64_nvme_update(0, std::string_view(last.data(), last.size()));
  return crc64_nvme_update(folded, std::string_view(reinterpret_cast<const char*>(p), n));
}
#endif

/// Advances a raw CRC-64/NVME register, folding with PCLMULQDQ where the CPU has it.
std::uint64_t crc64_nvme(std::uint64_t reg, std::string_view data) {
#if FOGBANK_CRC64_CLMUL
  // Below a few strides the fold set-up costs more than the table saves.
  constexpr std::size_t kClmulMinimum = 256;
  static const bool has_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
  if (has_clmul && data.size() >= kClmulMinimum) {
    return crc64_nvme_clmul(reg, data);
  }
#endif
  return crc64_nvme_update(reg, data);
}

CrcField crc_field(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32: return {kCrc32Poly, std::uint64_t{1} << 31};
    case ChecksumAlgorithm::kCrc32c: return {kCrc32cPoly, std::uint64_t{1} << 31};
    case ChecksumAlgorithm::kCrc64Nvme: return {kCrc64NvmePoly, std::uint64_t{1} << 63};
    default: throw std::invalid_argument("combine_crc: not a CRC algorithm");
  }
}

std::string to_big_endian(std::uint64_t value, std::size_t bytes) {
  std::string out(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) {
    out[bytes - 1 - i] = static_cast<char>(value & 0xFF);
    value >>= 8;
  }
  return out;
}

std::uint64_t from_big_endian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (char c : bytes) {
    value = (value << 8) | static_cast<unsigned char>(c);
  }
  return value;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

const EVP_MD* evp_md(ChecksumAlgorithm a) {
  return a == ChecksumAlgorithm::kSha1 ? EVP_sha1() : EVP_sha256();
}

}  // namespace

std::optional<ChecksumAlgorithm> parse_checksum_algorithm(std::string_view name) {
  for (ChecksumAlgorithm a : kAllChecksumAlgorithms) {
    if (iequals(name, checksum_name(a))) {
      return a;
    }
  }
  return std::nullopt;
}

std::string_view checksum_name(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32: return "CRC32";
    case ChecksumAlgorithm::kCrc32c: return "CRC32C";
    case ChecksumAlgorithm::kCrc64Nvme: return "CRC64NVME";
    case ChecksumAlgorithm::kSha1: return "SHA1";
    case ChecksumAlgorithm::kSha256: return "SHA256";
  }
  return {};
}

std::string_view checksum_header(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32: return "x-amz-checksum-crc32";
    case ChecksumAlgorithm::kCrc32c: return "x-amz-checksum-crc32c";
    case ChecksumAlgorithm::kCrc64Nvme: return "x-amz-checksum-crc64nvme";
    case ChecksumAlgorithm::kSha1: return "x-amz-checksum-sha1";
    case ChecksumAlgorithm::kSha256: return "x-amz-checksum-sha256";
  }
  return {};
}

std::string_view checksum_xml_element(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32: return "ChecksumCRC32";
    case ChecksumAlgorithm::kCrc32c: return "ChecksumCRC32C";
    case ChecksumAlgorithm::kCrc64Nvme: return "ChecksumCRC64NVME";
    case ChecksumAlgorithm::kSha1: return "ChecksumSHA1";
    case ChecksumAlgorithm::kSha256: return "ChecksumSHA256";
  }
  return {};
}

bool is_crc(ChecksumAlgorithm a) {
  return a == ChecksumAlgorithm::kCrc32 || a == ChecksumAlgorithm::kCrc32c ||
         a == ChecksumAlgorithm::kCrc64Nvme;
}

std::size_t digest_size(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32: return 4;
    case ChecksumAlgorithm::kCrc32c: return 4;
    case ChecksumAlgorithm::kCrc64Nvme: return 8;
    case ChecksumAlgorithm::kSha1: return 20;
    case ChecksumAlgorithm::kSha256: return 32;
  }
  return 0;
}

// ---- Checksum ---------------------------------------------------------------------------------
// crc_ holds, per algorithm:
//   CRC32      the finished CRC so far (ISA-L's crc32_gzip_refl complements on entry and exit,
//              zlib-style, so the finished value is also the value to continue from; starts 0);
//   CRC32C     the raw register (starts all ones; the digest is its complement);
//   CRC64NVME  the raw register (likewise).

struct Checksum::HashState {
  EVP_MD_CTX* ctx = nullptr;

  HashState() : ctx(EVP_MD_CTX_new()) {
    if (ctx == nullptr) {
      throw std::bad_alloc();
    }
  }
  ~HashState() { EVP_MD_CTX_free(ctx); }
  HashState(const HashState&) = delete;
  HashState& operator=(const HashState&) = delete;

  [[nodiscard]] std::unique_ptr<HashState> clone() const {
    auto copy = std::make_unique<HashState>();
    if (EVP_MD_CTX_copy_ex(copy->ctx, ctx) != 1) {
      throw std::runtime_error("EVP_MD_CTX_copy_ex failed");
    }
    return copy;
  }
};

Checksum::Checksum(ChecksumAlgorithm a) : algorithm_(a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32: crc_ = 0; break;
    case ChecksumAlgorithm::kCrc32c: crc_ = 0xFFFFFFFFu; break;
    case ChecksumAlgorithm::kCrc64Nvme: crc_ = ~std::uint64_t{0}; break;
    case ChecksumAlgorithm::kSha1:
    case ChecksumAlgorithm::kSha256:
      hash_ = std::make_unique<HashState>();
      if (EVP_DigestInit_ex(hash_->ctx, evp_md(a), nullptr) != 1) {
        throw std::runtime_error("EVP_DigestInit_ex failed");
      }
      break;
  }
}

Checksum::~Checksum() = default;
Checksum::Checksum(Checksum&& other) noexcept = default;
Checksum& Checksum::operator=(Checksum&& other) noexcept = default;

Checksum::Checksum(const Checksum& other)
    : algorithm_(other.algorithm_), crc_(other.crc_), hash_(other.hash_ ? other.hash_->clone() : nullptr) {}

Checksum& Checksum::operator=(const Checksum& other) {
  if (this != &other) {
    Checksum copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void Checksum::update(std::string_view data) {
  switch (algorithm_) {
    case ChecksumAlgorithm::kCrc32:
      crc_ = crc32_gzip_refl(static_cast<std::uint32_t>(crc_),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size());
      break;
    case ChecksumAlgorithm::kCrc32c:
      crc_ = crc32c_update(static_cast<std::uint32_t>(crc_), data);
      break;
    case ChecksumAlgorithm::kCrc64Nvme:
      crc_ = crc64_nvme(crc_, data);
      break;
    case ChecksumAlgorithm::kSha1:
    case ChecksumAlgorithm::kSha256:
      if (EVP_DigestUpdate(hash_->ctx, data.data(), data.size()) != 1) {
        throw std::runtime_error("EVP_DigestUpdate failed");
      }
      break;
  }
}

std::string Checksum::digest() const {
  switch (algorithm_) {
    case ChecksumAlgorithm::kCrc32: return to_big_endian(crc_, 4);
    case ChecksumAlgorithm::kCrc32c: return to_big_endian(~crc_ & 0xFFFFFFFFu, 4);
    case ChecksumAlgorithm::kCrc64Nvme: return to_big_endian(~crc_, 8);
    case ChecksumAlgorithm::kSha1:
    case ChecksumAlgorithm::kSha256: {
      // Finalise a copy so the running context stays usable (digest() may be read mid-stream).
      auto finished = hash_->clone();
      std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
      unsigned int len = 0;
      if (EVP_DigestFinal_ex(finished->ctx, out.data(), &len) != 1) {
        throw std::runtime_error("EVP_DigestFinal_ex failed");
      }
      return {reinterpret_cast<const char*>(out.data()), len};
    }
  }
  return {};
}

std::string Checksum::base64() const {
  return protocol::base64_encode(digest());
}

// ---- multipart ------------------------------------------------------------------------------

std::string composite_checksum(ChecksumAlgorithm a, const std::vector<std::string>& raw_part_digests) {
  Checksum sum(a);
  for (const std::string& part : raw_part_digests) {
    sum.update(part);
  }
  return sum.base64() + "-" + std::to_string(raw_part_digests.size());
}

std::string combine_crc(ChecksumAlgorithm a, std::string_view crc_a, std::string_view crc_b,
                        std::uint64_t len_b) {
  const CrcField field = crc_field(a);  // throws for the SHAs
  const std::size_t size = digest_size(a);
  if (crc_a.size() != size || crc_b.size() != size) {
    throw std::invalid_argument("combine_crc: digest of the wrong size");
  }
  const std::uint64_t a_value = from_big_endian(crc_a);
  const std::uint64_t b_value = from_big_endian(crc_b);
  return to_big_endian(field.multiply(field.x_pow_8n(len_b), a_value) ^ b_value, size);
}

std::optional<std::string> decode_checksum_value(ChecksumAlgorithm a, std::string_view base64_value) {
  auto raw = protocol::base64_decode(base64_value);
  if (!raw || raw->size() != digest_size(a)) {
    return std::nullopt;
  }
  return raw;
}

bool valid_checksum_value(ChecksumAlgorithm a, std::string_view base64_value) {
  return decode_checksum_value(a, base64_value).has_value();
}

}  // namespace fogbank::s3
