#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"

namespace fogbank::protocol::codec {
namespace {

using nlohmann::json;

const model::Shape* input_of(std::string_view operation) {
  const auto* op = model::get("kinesis").operation(operation);
  EXPECT_NE(op, nullptr) << operation;
  return op != nullptr ? op->input : nullptr;
}

const model::Shape* output_of(std::string_view operation) {
  const auto* op = model::get("kinesis").operation(operation);
  EXPECT_NE(op, nullptr) << operation;
  return op != nullptr ? op->output : nullptr;
}

const model::Shape* numbers() {
  static const model::ServiceModel m = model::parse("cbor-numbers", R"({
    "metadata": {"protocol": "json"},
    "operations": {},
    "shapes": {
      "Numbers": {"type": "structure", "members": {"Count": {"shape": "Count"}, "Ratio": {"shape": "Ratio"}}},
      "Count": {"type": "long"},
      "Ratio": {"type": "double"}
    }
  })");
  return m.shape("Numbers");
}

json bytes(std::string_view s) { return json::binary(std::vector<std::uint8_t>(s.begin(), s.end())); }

/// Bytes from hex pairs; spaces are ignored.
std::string hex(std::string_view text) {
  std::string out;
  int high = -1;
  for (const char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    }
    if (v < 0) {
      continue;
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

std::string show(std::string_view data) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : data) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 15];
    out += ' ';
  }
  return out;
}

std::string serialization_message(const model::Shape* input, std::string_view body) {
  try {
    decode_cbor(input, body);
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code, "SerializationException") << show(body);
    EXPECT_EQ(e.status, 400);
    return e.message;
  }
  ADD_FAILURE() << "no error for " << show(body);
  return "(no error)";
}

TEST(CodecCbor, EncodesPutRecordOutputByteForByte) {
  json out = {{"SequenceNumber", "49"}, {"EncryptionType", "NONE"}, {"ShardId", "shardId-000000000000"}, {"X", 1}};
  const std::string expected = hex("A3 67") + "ShardId" + hex("74") + "shardId-000000000000" + hex("6E") +
                               "SequenceNumber" + hex("62") + "49" + hex("6E") + "EncryptionType" + hex("64") + "NONE";
  const std::string got = encode_cbor(output_of("PutRecord"), out);
  EXPECT_EQ(got, expected) << show(got);
}

TEST(CodecCbor, EncodesGetRecordsWithByteStringsAndMillisecondTimestamps) {
  json out = {{"Records",
               {{{"SequenceNumber", "1"},
                 {"ApproximateArrivalTimestamp", 1700000000.5},
                 {"Data", bytes("hi")},
                 {"PartitionKey", "k"}}}},
              {"NextShardIterator", "it"},
              {"MillisBehindLatest", 0}};
  // 1700000000500 ms = 0x0000018BCFE569F4, under tag 1 (C1).
  const std::string expected = hex("A3 67") + "Records" + hex("81 A4 6E") + "SequenceNumber" + hex("61") + "1" +
                               hex("78 1B") + "ApproximateArrivalTimestamp" + hex("C1 1B 00 00 01 8B CF E5 69 F4") +
                               hex("64") + "Data" + hex("42") + "hi" + hex("6C") + "PartitionKey" + hex("61") + "k" +
                               hex("71") + "NextShardIterator" + hex("62") + "it" + hex("72") + "MillisBehindLatest" +
                               hex("00");
  const std::string got = encode_cbor(output_of("GetRecords"), out);
  EXPECT_EQ(got, expected) << show(got);
}

TEST(CodecCbor, EncodesIntegersWithTheShortestHead) {
  const std::vector<std::pair<std::int64_t, std::string_view>> cases = {
      {0, "00"},
      {23, "17"},
      {24, "18 18"},
      {255, "18 FF"},
      {256, "19 01 00"},
      {65536, "1A 00 01 00 00"},
      {4294967296LL, "1B 00 00 00 01 00 00 00 00"},
      {-1, "20"},
      {-24, "37"},
      {-25, "38 18"},
      {-500, "39 01 F3"},
      {std::numeric_limits<std::int64_t>::min(), "3B 7F FF FF FF FF FF FF FF"},
  };
  for (const auto& [n, want] : cases) {
    const std::string got = encode_cbor(numbers(), {{"Count", n}});
    EXPECT_EQ(got, hex("A1 65") + "Count" + hex(want)) << n << ": " << show(got);
    EXPECT_EQ(decode_cbor(numbers(), got)["Count"], n) << n;
  }
  EXPECT_EQ(encode_cbor(numbers(), {{"Count", std::numeric_limits<std::uint64_t>::max()}}),
            hex("A1 65") + "Count" + hex("1B FF FF FF FF FF FF FF FF"));
}

TEST(CodecCbor, EncodesDoublesInTheShortestLosslessWidth) {
  const std::vector<std::pair<double, std::string_view>> cases = {
      {1.5, "F9 3E 00"},
      {0.0, "F9 00 00"},
      {-0.0, "F9 80 00"},
      {2.0, "F9 40 00"},
      {65504.0, "F9 7B FF"},
      {5.960464477539063e-08, "F9 00 01"},  // the smallest half subnormal
      {100000.0, "FA 47 C3 50 00"},
      {3.4028234663852886e38, "FA 7F 7F FF FF"},
      {0.1, "FB 3F B9 99 99 99 99 99 9A"},
      {1e300, "FB 7E 37 E4 3C 88 00 75 9C"},
      {std::numeric_limits<double>::infinity(), "F9 7C 00"},
      {-std::numeric_limits<double>::infinity(), "F9 FC 00"},
  };
  for (const auto& [d, want] : cases) {
    const std::string got = encode_cbor(numbers(), {{"Ratio", d}});
    EXPECT_EQ(got, hex("A1 65") + "Ratio" + hex(want)) << d << ": " << show(got);
    const auto back = decode_cbor(numbers(), got)["Ratio"].get<double>();
    EXPECT_EQ(back, d);
    EXPECT_EQ(std::signbit(back), std::signbit(d));
  }
  EXPECT_EQ(encode_cbor(numbers(), {{"Ratio", std::nan("")}}), hex("A1 65") + "Ratio" + hex("F9 7E 00"));
  EXPECT_TRUE(std::isnan(decode_cbor(numbers(), hex("A1 65") + "Ratio" + hex("F9 7E 00"))["Ratio"].get<double>()));
  EXPECT_EQ(encode_cbor(numbers(), {{"Ratio", 3}}), hex("A1 65") + "Ratio" + hex("F9 42 00"));
}

TEST(CodecCbor, DecodesJavaSdkIndefiniteMapsAndDropsUnknownMembers) {
  const std::string body = hex("BF 6A") + "StreamName" + hex("66") + "orders" + hex("64") + "Data" + hex("45") +
                           "hello" + hex("6C") + "PartitionKey" + hex("62") + "pk" + hex("65") + "Bogus" +
                           hex("9F 01 FF 6F") + "ExplicitHashKey" + hex("F6 FF");
  json expected = {{"StreamName", "orders"}, {"Data", bytes("hello")}, {"PartitionKey", "pk"}};
  EXPECT_EQ(decode_cbor(input_of("PutRecord"), body), expected);
}

TEST(CodecCbor, DecodesTag1AsEpochMilliseconds) {
  auto timestamp_of = [&](std::string_view encoded) {
    return decode_cbor(input_of("GetShardIterator"), hex("A2 67") + "ShardId" + hex("69") + "shardId-0" + hex("69") +
                                                         "Timestamp" + std::string(encoded))["Timestamp"];
  };
  EXPECT_EQ(timestamp_of(hex("C1 1B 00 00 01 8B CF E5 69 F4")), 1700000000.5);
  auto whole = timestamp_of(hex("C1 1B 00 00 01 8B CF E5 68 00"));  // 1700000000000 ms
  EXPECT_TRUE(whole.is_number_integer());
  EXPECT_EQ(whole, 1700000000);
  EXPECT_EQ(timestamp_of(hex("C1 FB 42 78 BC FE 56 9F 40 00")), 1700000000.5);  // float milliseconds
  EXPECT_EQ(timestamp_of(hex("1B 00 00 01 8B CF E5 69 F4")), 1700000000.5);     // untagged
  EXPECT_EQ(timestamp_of(hex("C0 74") + "2023-11-14T22:13:20Z"), 1700000000);   // tag 0 text
  // Nested: SubscribeToShard's starting position.
  const std::string sub = hex("A3 6B") + "ConsumerARN" + hex("63") + "arn" + hex("67") + "ShardId" + hex("61") + "s" +
                          hex("70") + "StartingPosition" + hex("A2 64") + "Type" + hex("6C") + "AT_TIMESTAMP" +
                          hex("69") + "Timestamp" + hex("C1 1B 00 00 01 8B CF E5 69 F4");
  EXPECT_EQ(decode_cbor(input_of("SubscribeToShard"), sub)["StartingPosition"]["Timestamp"], 1700000000.5);
}

TEST(CodecCbor, DecodesChunkedStringsAndBase64Blobs) {
  const std::string body = hex("A2 6C") + "PartitionKey" + hex("7F 62") + "ab" + hex("61") + "c" + hex("FF 64") +
                           "Data" + hex("5F 41 01 42 02 03 FF");
  auto v = decode_cbor(input_of("PutRecord"), body);
  EXPECT_EQ(v["PartitionKey"], "abc");
  EXPECT_EQ(v["Data"], json::binary({1, 2, 3}));
  auto text_blob = decode_cbor(input_of("PutRecord"), hex("A1 64") + "Data" + hex("68") + "aGVsbG8=");
  EXPECT_EQ(text_blob["Data"], bytes("hello"));
}

TEST(CodecCbor, WrongTypesUseTheJsonMessages) {
  EXPECT_EQ(serialization_message(input_of("PutRecord"), hex("A1 64") + "Data" + hex("0C")),
            "NUMBER_VALUE can not be converted to a Blob");
  EXPECT_EQ(serialization_message(input_of("PutRecord"), hex("A1 6C") + "PartitionKey" + hex("41 00")),
            "BLOB_VALUE can not be converted to a String");
  EXPECT_EQ(serialization_message(input_of("PutRecords"), hex("A1 67") + "Records" + hex("A0")),
            "Start of structure or map found where not expected.");
  EXPECT_EQ(serialization_message(input_of("PutRecord"), hex("80")), "Start of list found where not expected");
}

TEST(CodecCbor, MalformedInputIsRejected) {
  const auto* put = input_of("PutRecord");
  EXPECT_EQ(serialization_message(put, hex("A1 67") + "Records"), "");                // truncated
  EXPECT_EQ(serialization_message(put, hex("A1 64") + "Data" + hex("5B FF FF FF FF FF FF FF FF")), "");
  EXPECT_EQ(serialization_message(put, hex("A1 64") + "Data" + hex("9B 00 00 00 01 00 00 00 00")), "");
  EXPECT_EQ(serialization_message(put, hex("BB 00 00 00 01 00 00 00 00")), "");   // 2^32 pairs claimed
  EXPECT_EQ(serialization_message(put, hex("A1 01 02")), "");                      // non-text key
  EXPECT_EQ(serialization_message(put, hex("FF")), "");                            // stray break
  EXPECT_EQ(serialization_message(put, hex("A0 00")), "");                         // trailing item
  EXPECT_EQ(serialization_message(put, hex("A1 61 FF 00")), "");                   // invalid UTF-8 key
  EXPECT_EQ(serialization_message(put, hex("A1 64") + "Data" + hex("1C")), "");    // reserved argument
  EXPECT_EQ(serialization_message(put, hex("A1 64") + "Data" + hex("F0")), "");    // unassigned simple value
  EXPECT_EQ(serialization_message(put, hex("A1 64") + "Data" + hex("7F 41 00 FF")), "");  // mixed chunks
}

TEST(CodecCbor, DeepNestingIsRejectedWithoutCrashing) {
  const auto* put = input_of("PutRecord");
  std::string arrays(200000, '\x81');
  arrays += '\x00';
  EXPECT_NE(serialization_message(put, arrays).find("deeper than 64"), std::string::npos);
  std::string indefinite(200000, '\x9F');
  EXPECT_NE(serialization_message(put, indefinite).find("deeper"), std::string::npos);
  auto maps = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) {
      s += hex("A1 61") + "a";
    }
    return s + hex("01");
  };
  EXPECT_NE(serialization_message(put, maps(65)).find("deeper"), std::string::npos);
  EXPECT_EQ(decode_cbor(put, maps(64)), json::object());
  // Tags nest without recursion; a million of them end in a plain (wrongly typed) integer.
  std::string tags(1000000, '\xC1');
  tags += '\x00';
  EXPECT_EQ(serialization_message(put, tags), "Expected null");
}

TEST(CodecCbor, EmptyBodyAndNoShapes) {
  EXPECT_EQ(decode_cbor(input_of("ListStreams"), ""), json::object());
  EXPECT_EQ(decode_cbor(nullptr, hex("A1 61") + "a" + hex("01")), json::object());
  EXPECT_EQ(encode_cbor(nullptr, {{"a", 1}}), hex("A0"));
  EXPECT_EQ(encode_cbor(output_of("PutRecord"), json()), hex("A0"));
}

TEST(CodecCbor, RoundTripsInputShapes) {
  const auto* put_records = input_of("PutRecords");
  json records = {{"StreamName", "s"},
                  {"Records",
                   {{{"Data", bytes(std::string("\x00\x01\xfe\xff", 4))}, {"PartitionKey", "a"}},
                    {{"Data", bytes("")}, {"PartitionKey", "\xc3\xa9"}, {"ExplicitHashKey", "123"}}}}};
  EXPECT_EQ(decode_cbor(put_records, encode_cbor(put_records, records)), records);
  const auto* iterator = input_of("GetShardIterator");
  json at = {{"ShardId", "shardId-000000000001"}, {"ShardIteratorType", "AT_TIMESTAMP"}, {"Timestamp", 1700000000.125}};
  EXPECT_EQ(decode_cbor(iterator, encode_cbor(iterator, at)), at);
  // 2^60 s lies beyond any calendar: written as float milliseconds, exact both ways.
  json far = {{"ShardId", "s"}, {"ShardIteratorType", "AT_TIMESTAMP"}, {"Timestamp", 1152921504606846976.0}};
  EXPECT_EQ(decode_cbor(iterator, encode_cbor(iterator, far))["Timestamp"], 1152921504606846976.0);
  const auto* tags = input_of("AddTagsToStream");
  json tagged = {{"StreamName", "s"}, {"Tags", {{"team", "blue"}, {"empty", ""}}}};
  EXPECT_EQ(decode_cbor(tags, encode_cbor(tags, tagged)), tagged);
}

}  // namespace
}  // namespace fogbank::protocol::codec
