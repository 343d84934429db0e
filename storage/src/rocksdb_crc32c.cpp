// RocksDB's CRC32C, answered by ISA-L.
//
// Debian's librocksdb is a portable build: compiled without -msse4.2, its crc32c.cc falls back to
// the byte-table CRC (~1 GB/s). RocksDB checksums every blob record, WAL record and SST block with
// it, so on a large S3 upload it was the biggest single cost in the profile (a fifth of all CPU).
// Linking statically, the linker takes a symbol from librocksdb.a only when nothing before it
// defined it; defining all three functions of crc32c.cc here keeps that object out of the link
// and routes every RocksDB checksum through ISA-L's hardware CRC32C. Should a RocksDB upgrade add
// a function to crc32c.cc, its object is pulled in again and the link fails on the duplicate
// symbols rather than silently mixing the two (see ARCHITECTURE.md, "Storage").

#include "rocksdb_crc32c.hpp"

#include <isa-l/crc.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace rocksdb::crc32c {

std::string IsFastCrc32Supported();
std::uint32_t Extend(std::uint32_t init_crc, const char* data, std::size_t n);
std::uint32_t Crc32cCombine(std::uint32_t crc1, std::uint32_t crc2, std::size_t crc2len);

std::string IsFastCrc32Supported() { return std::string(fogbank::storage::kRocksDbCrc32cBackend); }

std::uint32_t Extend(std::uint32_t init_crc, const char* data, std::size_t n) {
  // RocksDB's value is the finished CRC (complemented); ISA-L takes and returns the raw register,
  // and an int length.
  constexpr std::size_t kMaxPiece = std::size_t{1} << 30;
  std::uint32_t reg = ~init_crc;
  // crc32_iscsi only reads the buffer; its prototype lacks the const.
  auto* p = const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(data));
  while (n > 0) {
    const std::size_t piece = n < kMaxPiece ? n : kMaxPiece;
    reg = crc32_iscsi(p, static_cast<int>(piece), reg);
    p += piece;
    n -= piece;
  }
  return ~reg;
}

namespace {

constexpr std::uint32_t kReflectedPoly = 0x82F63B78;  // CRC-32C (Castagnoli), reflected
constexpr std::uint32_t kOne = 0x80000000;            // x^0 in the reflected layout

/// a(x)·b(x) mod P in the reflected layout.
std::uint32_t multiply(std::uint32_t a, std::uint32_t b) {
  std::uint32_t product = 0;
  for (std::uint32_t m = kOne; m != 0 && a != 0; m >>= 1) {
    if (a & m) {
      product ^= b;
      a ^= m;
    }
    b = (b & 1) ? (b >> 1) ^ kReflectedPoly : b >> 1;
  }
  return product;
}

/// x^(8·2^k) mod P for k = 0..63: appending 2^k zero bytes multiplies a register by entry k.
/// RocksDB combines CRCs on every WAL write, so a combine costs popcount(bytes) products, not
/// a square-and-multiply chain.
const std::array<std::uint32_t, 64>& zero_byte_powers() {
  static const std::array<std::uint32_t, 64> powers = [] {
    std::array<std::uint32_t, 64> p{};
    p[0] = kOne >> 8;  // x^8 (below the polynomial's degree, so already reduced)
    for (std::size_t k = 1; k < p.size(); ++k) {
      p[k] = multiply(p[k - 1], p[k - 1]);
    }
    return p;
  }();
  return powers;
}

}  // namespace

std::uint32_t Crc32cCombine(std::uint32_t crc1, std::uint32_t crc2, std::size_t crc2len) {
  // With init = xorout = all ones the complements cancel: crc(A‖B) = crc(A)·x^(8·|B|) ⊕ crc(B).
  const auto& powers = zero_byte_powers();
  for (std::size_t k = 0; crc2len != 0; ++k, crc2len >>= 1) {
    if (crc2len & 1) {
      crc1 = multiply(crc1, powers[k]);
    }
  }
  return crc1 ^ crc2;
}

}  // namespace rocksdb::crc32c

namespace fogbank::storage {

bool rocksdb_crc32c_ok() {
  constexpr std::uint32_t kCheck = 0xE3069283;  // CRC-32C of "123456789"
  return rocksdb::crc32c::Extend(0, "123456789", 9) == kCheck &&
         rocksdb::crc32c::IsFastCrc32Supported() == kRocksDbCrc32cBackend;
}

}  // namespace fogbank::storage
