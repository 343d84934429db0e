#include "fogbank/protocol/json_limits.hpp"

#include <string>

#include <gtest/gtest.h>

namespace fogbank::protocol {
namespace {

std::string nested(std::size_t levels, char open = '[', char close = ']') {
  return std::string(levels, open) + std::string(levels, close);
}

TEST(JsonLimits, AcceptsDocumentsUpToTheLimit) {
  auto j = parse_json_limited(nested(64));
  ASSERT_FALSE(j.is_discarded());
  EXPECT_TRUE(j.is_array());
  EXPECT_TRUE(parse_json_limited(R"({"a": {"b": [1, {"c": "d"}]}})").is_object());
}

TEST(JsonLimits, RefusesDeeperDocuments) {
  EXPECT_TRUE(parse_json_limited(nested(65)).is_discarded());
  EXPECT_TRUE(parse_json_limited(nested(3), 2).is_discarded());
  EXPECT_FALSE(parse_json_limited(nested(2), 2).is_discarded());
}

TEST(JsonLimits, HundredThousandLevelsAreRefusedWithoutRecursing) {
  // The shape of the crash: a value nested 100,000 levels inside an otherwise normal document.
  std::string deep = R"({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:d", "maxReceiveCount": )" +
                     std::string(100000, '[') + "1" + std::string(100000, ']') + "}";
  EXPECT_FALSE(json_depth_within(deep, kMaxClientJsonDepth));
  EXPECT_TRUE(parse_json_limited(deep).is_discarded());
  EXPECT_TRUE(parse_json_limited(nested(100000, '{', '}')).is_discarded());
}

TEST(JsonLimits, BracketsInsideStringsDoNotCount) {
  std::string text = "{\"k\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}";
  EXPECT_TRUE(json_depth_within(text, 2));
  auto j = parse_json_limited(text, 2);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["k"].get<std::string>().size(), 2001u);
}

TEST(JsonLimits, MalformedInputIsDiscardedNotThrown) {
  EXPECT_TRUE(parse_json_limited("").is_discarded());
  EXPECT_TRUE(parse_json_limited("{").is_discarded());
  EXPECT_TRUE(parse_json_limited("]]]]").is_discarded());
  EXPECT_TRUE(parse_json_limited("{\"a\": 1} trailing").is_discarded());
}

}  // namespace
}  // namespace fogbank::protocol
