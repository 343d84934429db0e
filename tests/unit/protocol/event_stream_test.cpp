// Event-stream framing: a message built independently (Python's zlib and struct) is what we encode,
// and the decoder rejects every kind of damage without reading out of bounds.

#include "fogbank/protocol/event_stream.hpp"

#include <gtest/gtest.h>

namespace fogbank::protocol::eventstream {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// {":event-type": "SubscribeToShardEvent", ":content-type": "application/json",
//  ":message-type": "event"} with payload {"A":1}, framed by a script with zlib.crc32.
const std::string kGolden = unhex(
    "000000720000005b1a89e4ba0b3a6576656e742d74797065070015537562736372696265546f53686172644576656e74"
    "0d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d74797065"
    "0700056576656e747b2241223a317d7bc3466e");

TEST(EventStream, Crc32IsZlibs) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32("56789", crc32("1234")), 0xCBF43926u);
}

TEST(EventStream, EncodesTheGoldenMessage) {
  EXPECT_EQ(event("SubscribeToShardEvent", "application/json", R"({"A":1})"), kGolden);
}

TEST(EventStream, DecodesMessagesSplitAnywhere) {
  Message typed;
  typed.headers = {{"b", {HeaderType::kTrue, {}, 0}},
                   {"i8", {HeaderType::kByte, {}, -2}},
                   {"i16", {HeaderType::kShort, {}, -300}},
                   {"i32", {HeaderType::kInteger, {}, 70000}},
                   {"i64", {HeaderType::kLong, {}, -5000000000}},
                   {"t", {HeaderType::kTimestamp, {}, 1700000000123}},
                   {"raw", {HeaderType::kBytes, std::string("\0\1", 2), 0}},
                   {"id", {HeaderType::kUuid, std::string(16, 'u'), 0}}};
  typed.payload = "payload";
  const std::string stream = kGolden + encode(typed) + exception("ResourceInUseException", "application/json", "{}");
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, stream.size()}) {
    Decoder d;
    std::vector<Message> got;
    for (std::size_t at = 0; at < stream.size(); at += step) {
      d.feed(std::string_view(stream).substr(at, step));
      while (auto m = d.next()) {
        got.push_back(std::move(*m));
      }
    }
    ASSERT_EQ(got.size(), 3u) << "step " << step;
    EXPECT_EQ(got[0].string_header(":event-type"), "SubscribeToShardEvent");
    EXPECT_EQ(got[0].payload, R"({"A":1})");
    ASSERT_EQ(got[1].headers.size(), typed.headers.size());
    for (std::size_t i = 0; i < typed.headers.size(); ++i) {
      EXPECT_EQ(got[1].headers[i].name, typed.headers[i].name);
      EXPECT_EQ(got[1].headers[i].value.type, typed.headers[i].value.type);
      EXPECT_EQ(got[1].headers[i].value.number, typed.headers[i].value.number);
      EXPECT_EQ(got[1].headers[i].value.bytes, typed.headers[i].value.bytes);
    }
    EXPECT_EQ(got[2].string_header(":message-type"), "exception");
    EXPECT_EQ(got[2].string_header(":exception-type"), "ResourceInUseException");
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(EventStream, RejectsDamage) {
  auto fails = [](std::string bytes) {
    Decoder d;
    d.feed(bytes);
    try {
      while (d.next()) {
      }
    } catch (const DecodeError&) {
      return true;
    }
    return false;
  };
  std::string flipped = kGolden;
  flipped[40] ^= 1;
  EXPECT_TRUE(fails(flipped));                          // message CRC
  std::string prelude = kGolden;
  prelude[3] ^= 1;
  EXPECT_TRUE(fails(prelude));                          // prelude CRC
  // Well-framed (valid CRCs) but inconsistent inside.
  auto framed = [](std::uint32_t total, std::uint32_t headers_len, const std::string& rest) {
    std::string out;
    for (std::uint32_t v : {total, headers_len}) {
      for (int i = 3; i >= 0; --i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
      }
    }
    const std::uint32_t pc = crc32(out);
    for (int i = 3; i >= 0; --i) {
      out.push_back(static_cast<char>((pc >> (8 * i)) & 0xff));
    }
    out += rest;
    const std::uint32_t mc = crc32(out);
    for (int i = 3; i >= 0; --i) {
      out.push_back(static_cast<char>((mc >> (8 * i)) & 0xff));
    }
    return out;
  };
  EXPECT_FALSE(fails(framed(16, 0, "")));                       // an empty message is fine
  EXPECT_TRUE(fails(framed(15, 0, "")));                        // shorter than its frame
  EXPECT_TRUE(fails(framed(20, 8, "")));                        // headers longer than the message
  EXPECT_TRUE(fails(framed(kMaxMessageBytes + 1, 0, "")));      // over the limit, before buffering it
  EXPECT_TRUE(fails(framed(20, 4, std::string("\x01n\x0a", 3) + "z")));  // header type 10
  EXPECT_TRUE(fails(framed(21, 5, std::string("\x01n\x07\x00\x09", 5))));  // string past the block
  EXPECT_TRUE(fails(framed(20, 4, std::string("\x00nn\x00", 4))));        // empty header name
}

TEST(EventStream, EncodingRefusesWhatCannotBeFramed) {
  Message m;
  m.headers = {{std::string(256, 'n'), HeaderValue::string("v")}};
  EXPECT_THROW(encode(m), std::length_error);
  m.headers = {{"n", HeaderValue::string(std::string(70000, 'v'))}};
  EXPECT_THROW(encode(m), std::length_error);
  m.headers.clear();
  m.payload.assign(kMaxMessageBytes, 'x');
  EXPECT_THROW(encode(m), std::length_error);
}

}  // namespace
}  // namespace fogbank::protocol::eventstream
