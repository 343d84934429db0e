#include <gtest/gtest.h>

#include "fogbank/protocol/crypto.hpp"
#include "shard_iterator.hpp"

namespace fogbank::kinesis {
namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";

IteratorPosition sample() {
  return {"123456789012", "eu-west-3", std::string(128, 's'), 1764553200123, 3, 77, 1764553300000};
}

TEST(KinesisShardIterator, RoundTripsAndFitsTheModel) {
  const auto token = encode_iterator(sample(), kKey);
  EXPECT_LE(token.size(), 512u);  // ShardIterator's model limit
  EXPECT_EQ(decode_iterator(token, kKey), sample());
}

TEST(KinesisShardIterator, RejectsTamperingAndOtherKeys) {
  const auto token = encode_iterator(sample(), kKey);
  auto raw = *protocol::base64_decode(token);
  for (std::size_t i = 0; i < raw.size(); i += 7) {
    auto forged = raw;
    forged[i] = static_cast<char>(forged[i] ^ 0x01);
    EXPECT_FALSE(decode_iterator(protocol::base64_encode(forged), kKey)) << "byte " << i;
  }
  EXPECT_FALSE(decode_iterator(token, "another key"));
  EXPECT_FALSE(decode_iterator("garbage!", kKey));
  EXPECT_FALSE(decode_iterator("", kKey));
  EXPECT_FALSE(decode_iterator(token.substr(0, token.size() - 4), kKey));
}

}  // namespace
}  // namespace fogbank::kinesis
