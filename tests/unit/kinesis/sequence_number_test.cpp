#include <gtest/gtest.h>

#include <vector>

#include "sequence_number.hpp"

namespace fogbank::kinesis {
namespace {

TEST(KinesisSequenceNumber, Has56DigitsAndRoundTrips) {
  const SequenceNumber seq{1764553200123, 7, 42, 1764553201456};
  const auto text = format_sequence_number(seq);
  EXPECT_EQ(text.size(), 56u);
  EXPECT_TRUE(text.starts_with("49"));
  EXPECT_EQ(text.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(parse_sequence_number(text), seq);
}

TEST(KinesisSequenceNumber, FormatterWritesWhatFormatDoes) {
  SequenceFormatter shard(1764553200123, 7);
  for (const auto& [counter, arrival] : std::vector<std::pair<std::uint64_t, std::int64_t>>{
           {1, 1764553201456}, {2, 1764553201456}, {123456789, 1764553201457}, {0, 5}, {UINT64_MAX, 9999999999999}}) {
    EXPECT_EQ(shard.format(counter, arrival), format_sequence_number({1764553200123, 7, counter, arrival}));
  }
}

TEST(KinesisSequenceNumber, OrdersWithinAndAcrossShards) {
  const std::int64_t created = 1764553200000;
  // Within a shard: by counter, even when the clock went back between two records.
  const auto a = format_sequence_number({created, 0, 1, created + 50});
  const auto b = format_sequence_number({created, 0, 2, created + 10});
  EXPECT_LT(a, b);
  // A child shard (created later) sorts after every record of its parent.
  const auto parent_last = format_sequence_number({created, 0, 999999, created + 100000});
  const auto child_start = format_sequence_number({created + 100001, 1, 0, created + 100001});
  EXPECT_LT(parent_last, child_start);
  // Shards created in the same millisecond (a split's two children): by index.
  EXPECT_LT(format_sequence_number({created, 1, 5, created}), format_sequence_number({created, 2, 1, created}));
}

TEST(KinesisSequenceNumber, RejectsMalformed) {
  EXPECT_FALSE(parse_sequence_number("1"));
  EXPECT_FALSE(parse_sequence_number(std::string(56, '9')));             // wrong prefix
  EXPECT_FALSE(parse_sequence_number("49" + std::string(53, '0') + "x"));  // not digits
  EXPECT_FALSE(parse_sequence_number("49" + std::string(55, '0')));      // 57 digits
}

}  // namespace
}  // namespace fogbank::kinesis
