// json_text: the strict base64 decoder against the encoder for every tail length, and the
// scanner's refusals (each one sends a request down the general codec's path).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fogbank/protocol/json_text.hpp"

namespace fogbank::protocol::json_text {
namespace {

std::optional<std::string> decoded(std::string_view text) {
  std::string out(text.size() / 4 * 3, '\0');
  auto size = decode_base64(text, reinterpret_cast<std::uint8_t*>(out.data()));
  if (!size) {
    return std::nullopt;
  }
  out.resize(*size);
  return out;
}

TEST(JsonTextBase64, DecodesWhatItEncodes) {
  std::string bytes;
  for (int n = 0; n < 300; ++n) {
    std::string text;
    append_base64(text, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ASSERT_EQ(text.size() % 4, 0u);
    EXPECT_EQ(decoded(text), bytes) << n;
    bytes.push_back(static_cast<char>(n * 37 + 11));
  }
  EXPECT_EQ(decoded("aGk="), "hi");
  EXPECT_EQ(decoded("aA=="), "h");
}

TEST(JsonTextBase64, EveryByteAtEveryPlaceOfALongText) {
  // Long enough for the vector path (32-character blocks) and its scalar tail.
  std::string bytes;
  for (int i = 0; i < 100; ++i) {
    bytes.push_back(static_cast<char>(i * 151 + 7));
  }
  std::string text;
  append_base64(text, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t at : {std::size_t{0}, std::size_t{5}, std::size_t{31}, std::size_t{32}, std::size_t{63},
                         std::size_t{100}, std::size_t{127}, std::size_t{128}, text.size() - 5}) {
    for (int c = 0; c < 256; ++c) {
      std::string changed = text;
      changed[at] = static_cast<char>(c);
      auto got = decoded(changed);
      if (kAlphabet.find(static_cast<char>(c)) == std::string_view::npos) {
        EXPECT_FALSE(got) << at << " " << c;
        continue;
      }
      ASSERT_TRUE(got) << at << " " << c;
      // The same bytes as decoding six bits at a time by hand.
      std::string expected;
      std::uint32_t acc = 0;
      int bits = 0;
      for (char ch : changed) {
        if (ch == '=') {
          break;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(kAlphabet.find(ch));
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          expected.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
      }
      EXPECT_EQ(*got, expected) << at << " " << c;
    }
  }
}

TEST(JsonTextBase64, RefusesAnythingNotStrictlyPadded) {
  for (std::string_view text : {"aGk", "aGk==", "a===", "====", "aB==", "aGl=", "a-k=", "aG k", "aA=A", "=aGk"}) {
    EXPECT_FALSE(decoded(text)) << text;
  }
}

TEST(JsonTextScanner, ReadsAFlatDocument) {
  Scanner in(R"( { "A" : "x", "B":[ {"C": -12}, {} ] ,"D":[]} )");
  std::string_view key;
  std::string_view text;
  std::int64_t n = 0;
  ASSERT_TRUE(in.open('{'));
  ASSERT_TRUE(in.member(key));
  EXPECT_EQ(key, "A");
  ASSERT_TRUE(in.string(text));
  EXPECT_EQ(text, "x");
  ASSERT_TRUE(in.member(key));
  ASSERT_TRUE(in.open('['));
  ASSERT_TRUE(in.element());
  ASSERT_TRUE(in.open('{'));
  ASSERT_TRUE(in.member(key));
  ASSERT_TRUE(in.integer(n));
  EXPECT_EQ(n, -12);
  EXPECT_FALSE(in.member(key));
  ASSERT_TRUE(in.element());
  ASSERT_TRUE(in.open('{'));
  EXPECT_FALSE(in.member(key));
  EXPECT_FALSE(in.element());
  ASSERT_TRUE(in.member(key));
  EXPECT_EQ(key, "D");
  ASSERT_TRUE(in.open('['));
  EXPECT_FALSE(in.element());
  EXPECT_FALSE(in.member(key));
  EXPECT_FALSE(in.failed());
  EXPECT_TRUE(in.finished());
}

TEST(JsonTextScanner, RefusesWhatOnlyTheCodecReads) {
  auto one_string = [](std::string_view doc) {
    Scanner in(doc);
    std::string_view key;
    std::string_view text;
    return in.open('{') && in.member(key) && in.string(text) && !in.member(key) && in.finished();
  };
  EXPECT_TRUE(one_string(R"({"a":"b"})"));
  EXPECT_FALSE(one_string(R"({"a":"b\n"})"));
  EXPECT_FALSE(one_string(R"({"a\u0041":"b"})"));
  EXPECT_FALSE(one_string("{\"a\":\"b\tc\"}"));
  EXPECT_FALSE(one_string(R"({"a":"b")"));
  EXPECT_FALSE(one_string(R"({"a":"b"}})"));
  EXPECT_FALSE(one_string(R"({"a":null})"));
  EXPECT_FALSE(one_string(R"({"a":"b",})"));
  auto one_integer = [](std::string_view doc) {
    Scanner in(doc);
    std::string_view key;
    std::int64_t n = 0;
    return in.open('{') && in.member(key) && in.integer(n) && !in.member(key) && in.finished();
  };
  EXPECT_TRUE(one_integer(R"({"a":10000})"));
  EXPECT_TRUE(one_integer(R"({"a":0})"));
  EXPECT_TRUE(one_integer(R"({"a":-10})"));
  for (std::string_view doc : {R"({"a":1.5})", R"({"a":1e3})", R"({"a":01})", R"({"a":-01})", R"({"a":00})",
                               R"({"a":99999999999999999999})", R"({"a":})", R"({"a":true})"}) {
    EXPECT_FALSE(one_integer(doc)) << doc;
  }
  const std::string brackets(Scanner::kMaxDepth + 1, '[');
  Scanner deep(brackets);
  bool opened = true;
  for (int i = 0; i <= Scanner::kMaxDepth && opened; ++i) {
    opened = deep.open('[') && (i == Scanner::kMaxDepth || deep.element());
  }
  EXPECT_FALSE(opened);
  EXPECT_TRUE(deep.failed());
}

}  // namespace
}  // namespace fogbank::protocol::json_text
