#include "fogbank/s3/checksum.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "fogbank/protocol/crypto.hpp"

namespace fogbank::s3 {
namespace {

using A = ChecksumAlgorithm;

// Expected values: CRC check values from the CRC catalogue ("123456789"); the rest computed with
// Python (zlib.crc32, which botocore's Crc32Checksum uses; hashlib; a bit-at-a-time CRC for
// CRC32C and CRC64/NVME), as base64 of the big-endian digest, the x-amz-checksum-* form.
struct Vector {
  A algorithm;
  std::string input;
  std::string base64;
};

const std::vector<Vector>& vectors() {
  static const std::vector<Vector> v = {
      {A::kCrc32, "", "AAAAAA=="},
      {A::kCrc32c, "", "AAAAAA=="},
      {A::kCrc64Nvme, "", "AAAAAAAAAAA="},
      {A::kSha1, "", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
      {A::kSha256, "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
      {A::kCrc32, "123456789", "y/Q5Jg=="},           // 0xCBF43926
      {A::kCrc32c, "123456789", "4waSgw=="},          // 0xE3069283
      {A::kCrc64Nvme, "123456789", "rosUhgp5mIg="},   // 0xAE8B14860A799888
      {A::kSha1, "123456789", "98O8HYCOBHMq32eZZczDTKeuNEE="},
      {A::kSha256, "123456789", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
      {A::kCrc32, "hello world", "DUoRhQ=="},  // botocore Crc32Checksum().b64digest()
      {A::kCrc32c, "hello world", "yZRlqg=="},
      {A::kCrc64Nvme, "hello world", "jSnVw/bqjr4="},
      {A::kSha1, "hello world", "Kq5sNclPz7QV2+lfQIuc6R7oRu0="},
      {A::kSha256, "hello world", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
      {A::kCrc32, "The quick brown fox jumps over the lazy dog", "QU+jOQ=="},
      {A::kCrc32c, "The quick brown fox jumps over the lazy dog", "ImIEBA=="},
      {A::kCrc64Nvme, "The quick brown fox jumps over the lazy dog", "12xUBUlUwUM="},
  };
  return v;
}

/// Bit-at-a-time reflected CRC with init = xorout = all ones: slow, obviously right, and
/// independent of both ISA-L and our slicing tables.
std::uint64_t reference_crc(A a, std::string_view data) {
  std::uint64_t poly = 0;
  std::uint64_t mask = 0xFFFFFFFFu;
  switch (a) {
    case A::kCrc32: poly = 0xEDB88320u; break;
    case A::kCrc32c: poly = 0x82F63B78u; break;
    case A::kCrc64Nvme: poly = 0x9A6C9329AC4BC9B5ull; mask = ~std::uint64_t{0}; break;
    default: ADD_FAILURE() << "not a CRC"; return 0;
  }
  std::uint64_t reg = mask;
  for (char c : data) {
    reg ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) {
      reg = (reg & 1) ? (reg >> 1) ^ poly : reg >> 1;
    }
  }
  return reg ^ mask;
}

std::uint64_t value_of(std::string_view digest) {
  std::uint64_t v = 0;
  for (char c : digest) {
    v = (v << 8) | static_cast<unsigned char>(c);
  }
  return v;
}

std::string random_data(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) {
    c = static_cast<char>(rng() & 0xFF);
  }
  return s;
}

std::string digest_of(A a, std::string_view data) {
  Checksum sum(a);
  sum.update(data);
  return sum.digest();
}

TEST(S3ChecksumTest, KnownVectors) {
  for (const Vector& v : vectors()) {
    Checksum sum(v.algorithm);
    sum.update(v.input);
    EXPECT_EQ(sum.base64(), v.base64) << checksum_name(v.algorithm) << " of '" << v.input << "'";
    EXPECT_EQ(sum.digest().size(), digest_size(v.algorithm));
  }
}

TEST(S3ChecksumTest, NoUpdateIsEmptyInput) {
  EXPECT_EQ(Checksum(A::kCrc32).base64(), "AAAAAA==");
  EXPECT_EQ(Checksum(A::kCrc64Nvme).base64(), "AAAAAAAAAAA=");
  EXPECT_EQ(Checksum(A::kSha256).base64(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

TEST(S3ChecksumTest, CrcsMatchBitwiseReferenceAtEveryLength) {
  // Lengths 0..1100 cover the slicing loop's tail handling, ISA-L's small-buffer paths and the
  // CRC-64 folding path (>= 256 bytes: one to several 128-byte strides, 16-byte blocks, tails).
  const std::string data = random_data(1100, 1);
  for (A a : {A::kCrc32, A::kCrc32c, A::kCrc64Nvme}) {
    for (std::size_t n = 0; n <= data.size(); ++n) {
      const std::string_view prefix(data.data(), n);
      ASSERT_EQ(value_of(digest_of(a, prefix)), reference_crc(a, prefix))
          << checksum_name(a) << " length " << n;
    }
  }
}

TEST(S3ChecksumTest, CrcsMatchBitwiseReferenceAtUnalignedOffsets) {
  const std::string data = random_data(70000, 5);
  for (A a : {A::kCrc32, A::kCrc32c, A::kCrc64Nvme}) {
    for (std::size_t offset = 0; offset < 16; ++offset) {
      const std::string_view slice = std::string_view(data).substr(offset, 65536 + offset * 7);
      ASSERT_EQ(value_of(digest_of(a, slice)), reference_crc(a, slice)) << checksum_name(a) << " offset " << offset;
    }
  }
}

TEST(S3ChecksumTest, IncrementalEqualsOneShot) {
  const std::string data = random_data(1 << 20, 2);
  for (A a : kAllChecksumAlgorithms) {
    Checksum pieces(a);
    std::size_t at = 0;
    std::size_t step = 1;
    while (at < data.size()) {
      const std::size_t n = std::min(step, data.size() - at);
      pieces.update(std::string_view(data).substr(at, n));
      at += n;
      step = step * 3 + 1;  // uneven piece sizes, including unaligned ones
    }
    EXPECT_EQ(pieces.digest(), digest_of(a, data)) << checksum_name(a);
  }
}

TEST(S3ChecksumTest, DigestIsRepeatableAndUpdatesContinue) {
  for (A a : kAllChecksumAlgorithms) {
    Checksum sum(a);
    sum.update("hello ");
    const std::string midway = sum.digest();
    EXPECT_EQ(sum.digest(), midway);
    EXPECT_EQ(midway, digest_of(a, "hello ")) << checksum_name(a);
    sum.update("world");
    EXPECT_EQ(sum.digest(), digest_of(a, "hello world")) << checksum_name(a);
  }
}

TEST(S3ChecksumTest, CopiesContinueIndependently) {
  for (A a : kAllChecksumAlgorithms) {
    Checksum original(a);
    original.update("hello ");
    Checksum copy = original;
    copy.update("world");
    original.update("there");
    EXPECT_EQ(copy.digest(), digest_of(a, "hello world"));
    EXPECT_EQ(original.digest(), digest_of(a, "hello there"));
    Checksum moved = std::move(copy);
    EXPECT_EQ(moved.algorithm(), a);
    EXPECT_EQ(moved.digest(), digest_of(a, "hello world"));
  }
}

TEST(S3ChecksumTest, NamesAndParsing) {
  EXPECT_EQ(parse_checksum_algorithm("CRC32"), A::kCrc32);
  EXPECT_EQ(parse_checksum_algorithm("crc32c"), A::kCrc32c);
  EXPECT_EQ(parse_checksum_algorithm("Crc64Nvme"), A::kCrc64Nvme);
  EXPECT_EQ(parse_checksum_algorithm("sha1"), A::kSha1);
  EXPECT_EQ(parse_checksum_algorithm("SHA256"), A::kSha256);
  EXPECT_EQ(parse_checksum_algorithm("MD5"), std::nullopt);
  EXPECT_EQ(parse_checksum_algorithm(""), std::nullopt);
  EXPECT_EQ(parse_checksum_algorithm("CRC32 "), std::nullopt);
  for (A a : kAllChecksumAlgorithms) {
    EXPECT_EQ(parse_checksum_algorithm(checksum_name(a)), a);
  }
  EXPECT_EQ(checksum_name(A::kCrc64Nvme), "CRC64NVME");
  EXPECT_EQ(checksum_header(A::kCrc32c), "x-amz-checksum-crc32c");
  EXPECT_EQ(checksum_header(A::kSha256), "x-amz-checksum-sha256");
  EXPECT_EQ(checksum_xml_element(A::kCrc64Nvme), "ChecksumCRC64NVME");
  EXPECT_EQ(checksum_xml_element(A::kSha1), "ChecksumSHA1");
  EXPECT_TRUE(is_crc(A::kCrc32));
  EXPECT_TRUE(is_crc(A::kCrc64Nvme));
  EXPECT_FALSE(is_crc(A::kSha1));
  EXPECT_EQ(digest_size(A::kCrc32), 4u);
  EXPECT_EQ(digest_size(A::kCrc32c), 4u);
  EXPECT_EQ(digest_size(A::kCrc64Nvme), 8u);
  EXPECT_EQ(digest_size(A::kSha1), 20u);
  EXPECT_EQ(digest_size(A::kSha256), 32u);
}

TEST(S3ChecksumTest, ValidValues) {
  EXPECT_TRUE(valid_checksum_value(A::kCrc32, "DUoRhQ=="));
  EXPECT_FALSE(valid_checksum_value(A::kCrc32, "DUoRhQ"));            // unpadded
  EXPECT_FALSE(valid_checksum_value(A::kCrc32, "jSnVw/bqjr4="));      // 8 bytes
  EXPECT_TRUE(valid_checksum_value(A::kCrc64Nvme, "jSnVw/bqjr4="));
  EXPECT_FALSE(valid_checksum_value(A::kSha256, "Kq5sNclPz7QV2+lfQIuc6R7oRu0="));  // SHA-1 sized
  EXPECT_TRUE(valid_checksum_value(A::kSha1, "Kq5sNclPz7QV2+lfQIuc6R7oRu0="));
  EXPECT_FALSE(valid_checksum_value(A::kCrc32c, "not base64!"));
  EXPECT_FALSE(valid_checksum_value(A::kCrc32c, ""));
  EXPECT_EQ(decode_checksum_value(A::kCrc32, "y/Q5Jg=="), std::string("\xCB\xF4\x39\x26", 4));
}

TEST(S3ChecksumTest, CompositeMatchesHandComputedValue) {
  // Parts "hello " and "world": CRC32 of the two 4-byte part CRCs, and SHA-256 of the two
  // 32-byte part digests (computed with zlib/hashlib), with the part count appended.
  std::vector<std::string> crcs = {digest_of(A::kCrc32, "hello "), digest_of(A::kCrc32, "world")};
  EXPECT_EQ(composite_checksum(A::kCrc32, crcs), "1Fu2mQ==-2");
  std::vector<std::string> shas = {digest_of(A::kSha256, "hello "), digest_of(A::kSha256, "world")};
  EXPECT_EQ(composite_checksum(A::kSha256, shas), "Zhie15keHg/OBlOZxcoF/BXCgYZaeimRvdZnwUZqkaQ=-2");
  EXPECT_EQ(composite_checksum(A::kSha1, {digest_of(A::kSha1, "x")}),
            protocol::base64_encode(digest_of(A::kSha1, digest_of(A::kSha1, "x"))) + "-1");
}

TEST(S3ChecksumTest, CombineCrcEqualsCrcOfConcatenation) {
  const std::string data = random_data(200000, 3);
  const std::size_t splits[] = {0, 1, 7, 8, 9, 4096, 65537, 199999, 200000};
  for (A a : {A::kCrc32, A::kCrc32c, A::kCrc64Nvme}) {
    const std::string whole = digest_of(a, data);
    for (std::size_t split : splits) {
      const std::string_view left = std::string_view(data).substr(0, split);
      const std::string_view right = std::string_view(data).substr(split);
      EXPECT_EQ(combine_crc(a, digest_of(a, left), digest_of(a, right), right.size()), whole)
          << checksum_name(a) << " split at " << split;
    }
  }
}

TEST(S3ChecksumTest, CombineCrcFoldsManyParts) {
  // A FULL_OBJECT multipart checksum: fold the parts' CRCs left to right.
  const std::string data = random_data(100000, 4);
  for (A a : {A::kCrc32, A::kCrc32c, A::kCrc64Nvme}) {
    std::string folded;
    std::size_t at = 0;
    for (std::size_t part_size : {10000u, 33333u, 1u, 56666u}) {
      const std::string_view part = std::string_view(data).substr(at, part_size);
      const std::string part_crc = digest_of(a, part);
      folded = at == 0 ? part_crc : combine_crc(a, folded, part_crc, part.size());
      at += part_size;
    }
    ASSERT_EQ(at, data.size());
    EXPECT_EQ(folded, digest_of(a, data)) << checksum_name(a);
  }
}

TEST(S3ChecksumTest, CombineCrcHugeLengths) {
  // len(B) beyond 4 GiB exercises the high bits of the exponent. crc(A‖0^n) is crc(A) combined
  // with crc(0^n); check it against combining in two halves.
  for (A a : {A::kCrc32, A::kCrc32c, A::kCrc64Nvme}) {
    const std::string crc_a = digest_of(a, "prefix");
    const std::string zeros(1 << 16, '\0');
    const std::string crc_z = digest_of(a, zeros);
    // crc of 2^16 zeros combined twice equals crc of 2^17 zeros combined once.
    const std::string crc_zz = combine_crc(a, crc_z, crc_z, zeros.size());
    EXPECT_EQ(crc_zz, digest_of(a, zeros + zeros));
    const std::uint64_t huge = (std::uint64_t{1} << 40) + 12345;
    const std::string once = combine_crc(a, crc_a, crc_z, huge);
    EXPECT_EQ(once.size(), digest_size(a));
    // Associativity: (A‖B)‖C == A‖(B‖C) with a huge C.
    const std::string crc_b = digest_of(a, "middle");
    const std::string left = combine_crc(a, combine_crc(a, crc_a, crc_b, 6), crc_z, huge);
    const std::string right = combine_crc(a, crc_a, combine_crc(a, crc_b, crc_z, huge), 6 + huge);
    EXPECT_EQ(left, right) << checksum_name(a);
  }
}

TEST(S3ChecksumTest, CombineCrcRejectsMisuse) {
  const std::string four(4, '\0');
  EXPECT_THROW(combine_crc(A::kSha256, four, four, 1), std::invalid_argument);
  EXPECT_THROW(combine_crc(A::kCrc64Nvme, four, four, 1), std::invalid_argument);
  EXPECT_EQ(combine_crc(A::kCrc32, digest_of(A::kCrc32, "abc"), digest_of(A::kCrc32, ""), 0),
            digest_of(A::kCrc32, "abc"));
}

}  // namespace
}  // namespace fogbank::s3
