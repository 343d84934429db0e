// RocksDB's CRC32C is replaced by ISA-L's at link time (storage/src/rocksdb_crc32c.cpp): these
// pin that the replacement is the one linked and that it computes what RocksDB's own would, or
// every checksum in existing databases would stop matching.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "fogbank/storage/store.hpp"

namespace rocksdb::crc32c {
std::string IsFastCrc32Supported();
std::uint32_t Extend(std::uint32_t init_crc, const char* data, std::size_t n);
std::uint32_t Crc32cCombine(std::uint32_t crc1, std::uint32_t crc2, std::size_t crc2len);
}  // namespace rocksdb::crc32c

namespace {

std::uint32_t value(const std::string& s) { return rocksdb::crc32c::Extend(0, s.data(), s.size()); }

TEST(RocksDbCrc32c, OursIsTheOneLinked) {
  EXPECT_EQ(rocksdb::crc32c::IsFastCrc32Supported(), "ISA-L crc32_iscsi (fogbank)");
}

TEST(RocksDbCrc32c, KnownValues) {
  EXPECT_EQ(value(""), 0u);
  EXPECT_EQ(value("123456789"), 0xE3069283u);
  // RFC 3720 (iSCSI) B.4 test vectors.
  EXPECT_EQ(value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(value(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
  }
  EXPECT_EQ(value(ascending), 0x46DD794Eu);
}

TEST(RocksDbCrc32c, ExtendAndCombineAgreeWithOneShot) {
  std::string data;
  for (int i = 0; i < 100000; ++i) {
    data.push_back(static_cast<char>((i * 131) ^ (i >> 7)));
  }
  const std::uint32_t whole = value(data);
  for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{65536}, data.size()}) {
    const std::uint32_t head = rocksdb::crc32c::Extend(0, data.data(), split);
    EXPECT_EQ(rocksdb::crc32c::Extend(head, data.data() + split, data.size() - split), whole) << split;
    const std::uint32_t tail = rocksdb::crc32c::Extend(0, data.data() + split, data.size() - split);
    EXPECT_EQ(rocksdb::crc32c::Crc32cCombine(head, tail, data.size() - split), whole) << split;
  }
}

}  // namespace
