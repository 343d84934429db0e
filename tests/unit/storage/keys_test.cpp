#include "fogbank/storage/keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace fogbank::storage {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

TEST(KeysTest, StringRoundTripWithEmbeddedNulls) {
  std::vector<std::string> parts = {""s, "a"s, "\0"s, "a\0b"s, "\0\0"s, "\xff"s, "\0\xff\x01"s};
  KeyBuilder b;
  for (const auto& p : parts) {
    b.str(p);
  }
  KeyReader r(b.key());
  for (const auto& p : parts) {
    auto got = r.str();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, p);
  }
  EXPECT_TRUE(r.done());
}

TEST(KeysTest, IntegersAreBigEndian) {
  EXPECT_EQ(KeyBuilder().u32(0x01020304).key(), "\x01\x02\x03\x04"s);
  EXPECT_EQ(KeyBuilder().u64(0x0102030405060708ULL).key(), "\x01\x02\x03\x04\x05\x06\x07\x08"s);
  std::string key = KeyBuilder().u32(7).u64(UINT64_MAX).str("x").key();
  KeyReader r(key);
  EXPECT_EQ(r.u32(), 7u);
  EXPECT_EQ(r.u64(), UINT64_MAX);
  EXPECT_EQ(r.str(), "x");
  EXPECT_TRUE(r.done());
}

TEST(KeysTest, TagConstructorAndRaw) {
  auto key = KeyBuilder("obj").str("bucket").raw("tail").key();
  KeyReader r(key);
  EXPECT_EQ(r.str(), "obj");
  EXPECT_EQ(r.str(), "bucket");
  EXPECT_EQ(r.rest(), "tail");
}

TEST(KeysTest, MalformedKeysAreRejected) {
  KeyReader unterminated("abc"sv);
  EXPECT_FALSE(unterminated.str().has_value());
  EXPECT_EQ(unterminated.rest(), "abc");  // a failed read consumes nothing

  KeyReader bad_escape("a\0\x05"sv);
  EXPECT_FALSE(bad_escape.str().has_value());

  KeyReader dangling_null("a\0"sv);
  EXPECT_FALSE(dangling_null.str().has_value());

  KeyReader short_int("\x01\x02\x03"sv);
  EXPECT_FALSE(short_int.u32().has_value());
  EXPECT_FALSE(short_int.u64().has_value());
  EXPECT_EQ(short_int.rest().size(), 3u);
}

TEST(KeysTest, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor("abc"), "abd");
  EXPECT_EQ(prefix_successor("ab\xff"s), "ac");
  EXPECT_EQ(prefix_successor("a\xff\xff"s), "b");
  EXPECT_EQ(prefix_successor("\xff\xff"s), "");
  EXPECT_EQ(prefix_successor(""), "");
  EXPECT_EQ(prefix_successor("\x00"s), "\x01"s);
  EXPECT_EQ(prefix_successor("a\xfe"s), "a\xff"s);
}

using Tuple = std::tuple<std::string, std::uint32_t, std::string, std::uint64_t>;

std::string encode(const Tuple& t) {
  return KeyBuilder()
      .str(std::get<0>(t))
      .u32(std::get<1>(t))
      .str(std::get<2>(t))
      .u64(std::get<3>(t))
      .key();
}

TEST(KeysTest, EncodedOrderMatchesTupleOrder) {
  // Small alphabet including 0x00, 0x01 and 0xFF so that embedded nulls, escape bytes and
  // strict prefixes ("a" vs "a\0") come up constantly.
  const std::string alphabet = "\x00\x01\xff" "ab"s;
  std::mt19937 rng(12345);
  auto random_string = [&] {
    std::string s;
    auto len = std::uniform_int_distribution<int>(0, 4)(rng);
    for (int i = 0; i < len; ++i) {
      s.push_back(alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)]);
    }
    return s;
  };
  const std::vector<std::uint64_t> ints = {0, 1, 255, 256, 0xffffffffULL, UINT64_MAX};
  std::vector<Tuple> tuples;
  for (int i = 0; i < 600; ++i) {
    tuples.emplace_back(random_string(),
                        static_cast<std::uint32_t>(ints[rng() % 5]),
                        random_string(), ints[rng() % ints.size()]);
  }
  for (std::size_t i = 0; i < tuples.size(); ++i) {
    for (std::size_t j = 0; j < tuples.size(); j += 7) {
      const auto& a = tuples[i];
      const auto& b = tuples[j];
      auto ea = encode(a);
      auto eb = encode(b);
      ASSERT_EQ(a < b, ea < eb) << i << " vs " << j;
      ASSERT_EQ(a == b, ea == eb) << i << " vs " << j;
    }
  }
}

TEST(KeysTest, SingleStringOrderIncludingPrefixes) {
  std::vector<std::string> strings = {""s,    "\0"s,   "\0\0"s, "\0\x01"s, "\x01"s, "a"s,
                                      "a\0"s, "a\0b"s, "a\x01"s, "ab"s,    "b"s,    "\xff"s,
                                      "\xff\0"s};
  for (const auto& a : strings) {
    for (const auto& b : strings) {
      EXPECT_EQ(a < b, KeyBuilder().str(a).key() < KeyBuilder().str(b).key());
    }
  }
}

TEST(KeysTest, PrefixOfWholePartsSelectsExactlyItsKeys) {
  // "a" must not select keys under "ab": the terminator separates them.
  auto prefix = KeyBuilder("t").str("a").key();
  auto inside = KeyBuilder("t").str("a").str("x").key();
  auto inside_null = KeyBuilder("t").str("a").str("\0"s).key();
  auto outside = KeyBuilder("t").str("ab").key();
  auto outside_null = KeyBuilder("t").str("a\0"s).key();
  auto end = prefix_successor(prefix);
  auto under = [&](const std::string& k) { return k >= prefix && k < end; };
  EXPECT_TRUE(under(inside));
  EXPECT_TRUE(under(inside_null));
  EXPECT_FALSE(under(outside));
  EXPECT_FALSE(under(outside_null));
}

}  // namespace
}  // namespace fogbank::storage
