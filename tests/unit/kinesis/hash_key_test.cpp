#include <gtest/gtest.h>

#include "hash_key.hpp"

namespace fogbank::kinesis {
namespace {

const std::string kMax = "340282366920938463463374607431768211455";  // 2^128 - 1

TEST(KinesisHashKey, DecimalRoundTripAtTheEdges) {
  EXPECT_EQ(to_decimal(0), "0");
  EXPECT_EQ(to_decimal(kMaxHashKey), kMax);
  EXPECT_EQ(parse_decimal(kMax), kMaxHashKey);
  EXPECT_EQ(parse_decimal("0"), static_cast<HashKey>(0));
  const HashKey big = (static_cast<HashKey>(1) << 126) + 5;
  EXPECT_EQ(to_decimal(big), "85070591730234615865843651857942052869");
  EXPECT_EQ(parse_decimal(to_decimal(big)), big);
}

TEST(KinesisHashKey, RejectsOverflowAndNonDigits) {
  EXPECT_FALSE(parse_decimal("340282366920938463463374607431768211456"));  // 2^128
  EXPECT_FALSE(parse_decimal("1000000000000000000000000000000000000000"));
  EXPECT_FALSE(parse_decimal(""));
  EXPECT_FALSE(parse_decimal("-1"));
  EXPECT_FALSE(parse_decimal("12a"));
}

TEST(KinesisHashKey, PartitionKeyIsMd5BigEndian) {
  // md5("") = d41d8cd98f00b204e9800998ecf8427e; both values computed with Python's hashlib.
  EXPECT_EQ(to_decimal(partition_key_hash("")), "281949768489412648962353822266799178366");
  EXPECT_EQ(partition_key_hash("a"), parse_decimal("16955237001963240173058271559858726497"));
}

TEST(KinesisHashKey, EvenSplitMatchesAws) {
  auto one = split_evenly(1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].start, HashKey{0});
  EXPECT_EQ(one[0].end, kMaxHashKey);

  // Four shards: quarters of 2^128, exactly.
  auto four = split_evenly(4);
  ASSERT_EQ(four.size(), 4u);
  const HashKey quarter = static_cast<HashKey>(1) << 126;
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(four[i].start, quarter * static_cast<HashKey>(i));
    EXPECT_EQ(four[i].end, quarter * static_cast<HashKey>(i + 1) - 1);
  }

  // Three shards: floor(2^128 / 3) each, the last takes the remainder; the ranges tile 0..max.
  auto three = split_evenly(3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(to_decimal(three[0].end), "113427455640312821154458202477256070484");
  EXPECT_EQ(to_decimal(three[1].start), "113427455640312821154458202477256070485");
  EXPECT_EQ(three[2].end, kMaxHashKey);
  for (std::size_t i = 1; i < three.size(); ++i) {
    EXPECT_EQ(three[i].start, three[i - 1].end + 1);
  }
}

}  // namespace
}  // namespace fogbank::kinesis
