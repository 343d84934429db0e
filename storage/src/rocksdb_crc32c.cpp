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

/// x^(8·bytes) mod P: appending `bytes` zero bytes multiplies a register by this.
std::uint32_t x_pow_8n(std::size_t bytes) {
  constexpr std::uint32_t kX8 = kOne >> 8;  // x^8 (below the polynomial's degree, so already reduced)
  std::uint32_t power = kX8;
  std::uint32_t result = kOne;
  for (; bytes != 0; bytes >>= 1) {
    if (bytes & 1) {
      result = multiply(power, result);
    }
    power = multiply(power, power);
  }
  return result;
}

}  // namespace

std::uint32_t Crc32cCombine(std::uint32_t crc1, std::uint32_t crc2, std::size_t crc2len) {
  // With init = xorout = all ones the complements cancel: crc(A‖B) = crc(A)·x^(8·|B|) ⊕ crc(B).
  return multiply(crc1, x_pow_8n(crc2len)) ^ crc2;
}

}  // namespace rocksdb::crc32c

namespace fogbank::storage {

bool rocksdb_crc32c_ok() {
  constexpr std::uint32_t kCheck = 0xE3069283;  // CRC-32C of "123456789"
  return rocksdb::crc32c::Extend(0, "123456789", 9) == kCheck &&
         rocksdb::crc32c::IsFastCrc32Supported() == kRocksDbCrc32cBackend;
}

}  // namespace fogbank::storage
