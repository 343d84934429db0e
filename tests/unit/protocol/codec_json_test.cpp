#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/model.hpp"

namespace fogbank::protocol::codec {
namespace {

using nlohmann::json;

const model::Shape* input_of(std::string_view service, std::string_view operation) {
  const auto* op = model::get(service).operation(operation);
  EXPECT_NE(op, nullptr) << service << "." << operation;
  return op != nullptr ? op->input : nullptr;
}

const model::Shape* output_of(std::string_view service, std::string_view operation) {
  const auto* op = model::get(service).operation(operation);
  EXPECT_NE(op, nullptr) << service << "." << operation;
  return op != nullptr ? op->output : nullptr;
}

json bytes(std::string_view s) { return json::binary(std::vector<std::uint8_t>(s.begin(), s.end())); }

/// The SerializationException message decode_json throws for `body`.
std::string serialization_message(const model::Shape* input, std::string_view body) {
  try {
    decode_json(input, body);
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code, "SerializationException") << body;
    EXPECT_EQ(e.status, 400) << body;
    return e.message;
  }
  ADD_FAILURE() << "no error for " << body;
  return {};
}

// A model with the shapes the AWS models above lack (doubles, timestamp formats, locationName).
const model::ServiceModel& synthetic() {
  static const model::ServiceModel m = model::parse("synthetic", R"({
    "version": "2.0",
    "metadata": {"protocol": "json", "jsonVersion": "1.1", "targetPrefix": "Synthetic"},
    "operations": {},
    "shapes": {
      "Thing": {"type": "structure", "members": {
        "Ratio": {"shape": "Ratio"},
        "Iso": {"shape": "Stamp", "timestampFormat": "iso8601"},
        "Http": {"shape": "Stamp", "timestampFormat": "rfc822"},
        "Epoch": {"shape": "Stamp"},
        "Wired": {"shape": "Name", "locationName": "wired_name"},
        "Flag": {"shape": "Flag"},
        "Count": {"shape": "Count"}
      }},
      "Ratio": {"type": "double"},
      "Stamp": {"type": "timestamp"},
      "Name": {"type": "string"},
      "Flag": {"type": "boolean"},
      "Count": {"type": "long"}
    }
  })");
  return m;
}

const model::Shape* thing() { return synthetic().shape("Thing"); }

TEST(CodecJson, KinesisPutRecordDecodesBlobAndDropsUnknownAndNullMembers) {
  auto v = decode_json(input_of("kinesis", "PutRecord"),
                       R"({"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"pk",
                           "ExplicitHashKey":null,"Bogus":{"deep":[1,2]}})");
  json expected = {{"StreamName", "orders"}, {"Data", bytes("hello")}, {"PartitionKey", "pk"}};
  EXPECT_EQ(v, expected);
}

TEST(CodecJson, EmptyOrBlankBodyIsAnEmptyObject) {
  const auto* input = input_of("sqs", "ListQueues");
  EXPECT_EQ(decode_json(input, ""), json::object());
  EXPECT_EQ(decode_json(input, " \r\n\t"), json::object());
  EXPECT_EQ(decode_json(input, "null"), json::object());
}

TEST(CodecJson, OperationWithoutInputKeepsNothing) {
  EXPECT_EQ(decode_json(nullptr, R"({"a":1})"), json::object());
  EXPECT_EQ(serialization_message(nullptr, "[]"), "Start of list found where not expected");
}

TEST(CodecJson, SqsSendMessageNestedMapOfStructures) {
  auto v = decode_json(input_of("sqs", "SendMessage"), R"({
      "QueueUrl": "http://localhost/1/q", "MessageBody": "hi", "DelaySeconds": 5,
      "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": "AAE=", "Extra": 1},
                            "b": {"DataType": "String", "StringValue": "x"}}})");
  EXPECT_EQ(v["DelaySeconds"], 5);
  EXPECT_EQ(v["MessageAttributes"]["a"], (json{{"DataType", "Binary"}, {"BinaryValue", json::binary({0, 1})}}));
  EXPECT_EQ(v["MessageAttributes"]["b"], (json{{"DataType", "String"}, {"StringValue", "x"}}));
}

TEST(CodecJson, WrongScalarTypesUseCoralMessages) {
  const auto* send = input_of("sqs", "SendMessage");
  EXPECT_EQ(serialization_message(send, R"({"QueueUrl":"q","MessageBody":"b","DelaySeconds":"5"})"),
            "STRING_VALUE can not be converted to an Integer");
  EXPECT_EQ(serialization_message(send, R"({"QueueUrl":"q","MessageBody":"b","DelaySeconds":true})"),
            "TRUE_VALUE can not be converted to an Integer");
  EXPECT_EQ(serialization_message(send, R"({"QueueUrl":"q","MessageBody":5})"),
            "NUMBER_VALUE can not be converted to a String");
  EXPECT_EQ(serialization_message(send, R"({"QueueUrl":"q","MessageBody":false})"),
            "FALSE_VALUE can not be converted to a String");
  EXPECT_EQ(serialization_message(send, R"({"QueueUrl":"q","MessageBody":["b"]})"),
            "Start of list found where not expected");
  EXPECT_EQ(serialization_message(send, R"({"QueueUrl":"q","MessageBody":{}})"),
            "Start of structure or map found where not expected.");
  // A member the input does not have is dropped whatever its type.
  EXPECT_EQ(decode_json(input_of("kinesis", "ListStreams"), R"({"HasMoreStreams":[1]})"), json::object());
}

TEST(CodecJson, WrongContainerTypesUseCoralMessages) {
  const auto* send = input_of("sqs", "SendMessage");
  EXPECT_EQ(serialization_message(send, R"({"MessageAttributes":[]})"), "Start of list found where not expected");
  EXPECT_EQ(serialization_message(send, R"({"MessageAttributes":"x"})"), "Expected map or null");
  EXPECT_EQ(serialization_message(send, R"({"MessageAttributes":{"a":"x"}})"), "Expected null");
  const auto* put_records = input_of("kinesis", "PutRecords");
  EXPECT_EQ(serialization_message(put_records, R"({"Records":{}})"),
            "Start of structure or map found where not expected.");
  EXPECT_EQ(serialization_message(put_records, R"({"Records":7})"), "Expected list or null");
  EXPECT_EQ(serialization_message(put_records, R"({"Records":[[]]})"), "Start of list found where not expected");
  EXPECT_EQ(serialization_message(send, "[1]"), "Start of list found where not expected");
  EXPECT_EQ(serialization_message(send, "\"text\""), "Expected null");
}

TEST(CodecJson, MalformedJsonIsASerializationExceptionWithoutMessage) {
  const auto* send = input_of("sqs", "SendMessage");
  EXPECT_EQ(serialization_message(send, R"({"QueueUrl":)"), "");
  EXPECT_EQ(serialization_message(send, "{'a':1}"), "");
  EXPECT_EQ(serialization_message(send, "{} {}"), "");
}

TEST(CodecJson, ReaderFollowsRfc8259) {
  const auto* send = input_of("sqs", "SendMessage");
  auto body_of = [&](std::string_view json_text) {
    return decode_json(send, R"({"MessageBody":)" + std::string(json_text) + "}")["MessageBody"];
  };
  EXPECT_EQ(body_of(R"("a\"b\\c\/d\b\f\n\r\t")"), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(body_of(R"("\u00e9\u20AC\ud83d\ude00")"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(body_of("\"\xc3\xa9 \xf0\x9f\x98\x80 long enough to pass the eight-byte scan\""),
            "\xc3\xa9 \xf0\x9f\x98\x80 long enough to pass the eight-byte scan");
  EXPECT_EQ(body_of(R"("")"), "");
  for (const char* bad : {R"("\ud83d")", R"("\ude00")", R"("\ud83d\u0041")", R"("\x41")", R"("\u12G4")",
                          "\"tab\there\"", "\"bad \xff utf8\"", "\"overlong \xc0\xaf\"", R"("unterminated)"}) {
    EXPECT_EQ(serialization_message(send, R"({"MessageBody":)" + std::string(bad) + "}"), "") << bad;
  }
  const auto* iterator = input_of("kinesis", "GetShardIterator");
  auto number_of = [&](std::string_view text) {
    return decode_json(iterator, R"({"Timestamp":)" + std::string(text) + "}")["Timestamp"];
  };
  EXPECT_EQ(number_of("-0"), 0);
  EXPECT_EQ(number_of("12.5e1"), 125.0);
  EXPECT_EQ(number_of("1E-2"), 0.01);
  EXPECT_EQ(number_of("18446744073709551615"), 18446744073709551615ULL);
  EXPECT_EQ(number_of("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(number_of("123456789012345678901234567890"), 1.2345678901234568e29);
  EXPECT_EQ(number_of("1e400").get<double>(), INFINITY);
  for (const char* bad : {"01", "+1", "1.", ".5", "1e", "-", "0x10", "1.5.2", "NaN"}) {
    EXPECT_EQ(serialization_message(iterator, R"({"Timestamp":)" + std::string(bad) + "}"), "") << bad;
  }
  for (const char* bad : {"[1,]", "{,}", R"({"a" 1})", R"({"a":1,})", "[1 2]", "tru", "nul", "{\"a\":1}x"}) {
    EXPECT_EQ(serialization_message(send, bad), "") << bad;
  }
  EXPECT_EQ(decode_json(send, "\xef\xbb\xbf {\"MessageBody\" : \"x\" , \"MessageBody\":\"last\"}\n"),
            (json{{"MessageBody", "last"}}));
}

TEST(CodecJson, IntegersAreRangeCheckedAndWholeFloatsAccepted) {
  const auto* send = input_of("sqs", "SendMessage");
  auto v = decode_json(send, R"({"DelaySeconds":5.0})");
  EXPECT_TRUE(v["DelaySeconds"].is_number_integer());
  EXPECT_EQ(v["DelaySeconds"], 5);
  EXPECT_EQ(decode_json(send, R"({"DelaySeconds":-7.9})")["DelaySeconds"], -7);
  EXPECT_EQ(serialization_message(send, R"({"DelaySeconds":2147483648})"),
            "NUMBER_VALUE can not be converted to an Integer");
  EXPECT_EQ(decode_json(send, R"({"DelaySeconds":-2147483648})")["DelaySeconds"], -2147483648LL);
  EXPECT_EQ(decode_json(thing(), R"({"Count":9007199254740993})")["Count"], 9007199254740993LL);
  EXPECT_EQ(serialization_message(thing(), R"({"Count":9223372036854775808})"),
            "NUMBER_VALUE can not be converted to a Long");
}

TEST(CodecJson, DoublesAcceptIntegersAndNonFiniteStrings) {
  EXPECT_EQ(decode_json(thing(), R"({"Ratio":2})")["Ratio"], 2);
  EXPECT_EQ(decode_json(thing(), R"({"Ratio":0.25})")["Ratio"], 0.25);
  EXPECT_TRUE(std::isnan(decode_json(thing(), R"({"Ratio":"NaN"})")["Ratio"].get<double>()));
  EXPECT_EQ(decode_json(thing(), R"({"Ratio":"-Infinity"})")["Ratio"].get<double>(), -INFINITY);
  EXPECT_EQ(serialization_message(thing(), R"({"Ratio":"1.5"})"), "STRING_VALUE can not be converted to a Double");
  EXPECT_EQ(serialization_message(thing(), R"({"Flag":"true"})"), "STRING_VALUE can not be converted to a Boolean");
}

TEST(CodecJson, InvalidBase64UsesCoralBlobMessages) {
  const auto* put = input_of("kinesis", "PutRecord");
  EXPECT_EQ(serialization_message(put, R"({"Data":"abc"})"),
            "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3");
  EXPECT_EQ(serialization_message(put, R"({"Data":"ab!="})"),
            "'ab!=' can not be converted to a Blob: Invalid Base64 character: '!'");
  EXPECT_EQ(serialization_message(put, R"({"Data":"a=bc"})"),
            "'a=bc' can not be converted to a Blob: Invalid Base64 character: '='");
  EXPECT_EQ(serialization_message(put, R"({"Data":"QR=="})"),
            "'QR==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected");
  EXPECT_EQ(serialization_message(put, R"({"Data":12})"), "NUMBER_VALUE can not be converted to a Blob");
  EXPECT_EQ(decode_json(put, R"({"Data":""})")["Data"], json::binary({}));
  EXPECT_EQ(decode_json(put, R"({"Data":"QQ=="})")["Data"], bytes("A"));
  EXPECT_EQ(decode_json(put, R"({"Data":"QUI="})")["Data"], bytes("AB"));
}

TEST(CodecJson, TimestampsAreEpochSecondsOrIso8601) {
  const auto* iterator = input_of("kinesis", "GetShardIterator");
  EXPECT_EQ(decode_json(iterator, R"({"Timestamp":1700000000})")["Timestamp"], 1700000000);
  EXPECT_EQ(decode_json(iterator, R"({"Timestamp":1700000000.125})")["Timestamp"], 1700000000.125);
  auto iso = decode_json(iterator, R"({"Timestamp":"2023-11-14T22:13:20Z"})")["Timestamp"];
  EXPECT_TRUE(iso.is_number_integer());
  EXPECT_EQ(iso, 1700000000);
  EXPECT_EQ(decode_json(iterator, R"({"Timestamp":"2023-11-14T23:13:20.250+01:00"})")["Timestamp"], 1700000000.25);
  EXPECT_EQ(decode_json(iterator, R"({"Timestamp":"1969-12-31T23:59:59Z"})")["Timestamp"], -1);
  EXPECT_EQ(serialization_message(iterator, R"({"Timestamp":"2023-02-30T00:00:00Z"})"),
            "STRING_VALUE can not be converted to a Timestamp");
  EXPECT_EQ(serialization_message(iterator, R"({"Timestamp":"yesterday"})"),
            "STRING_VALUE can not be converted to a Timestamp");
  // Nested, as in SubscribeToShard's starting position.
  auto sub = decode_json(input_of("kinesis", "SubscribeToShard"),
                         R"({"ConsumerARN":"arn","ShardId":"shardId-0",
                             "StartingPosition":{"Type":"AT_TIMESTAMP","Timestamp":1700000000.5}})");
  EXPECT_EQ(sub["StartingPosition"]["Timestamp"], 1700000000.5);
}

TEST(CodecJson, WireNamesBecomeMemberNames) {
  auto v = decode_json(thing(), R"({"wired_name":"x","Wired":"dropped"})");
  EXPECT_EQ(v, (json{{"Wired", "x"}}));
  EXPECT_EQ(encode_json(thing(), v), R"({"wired_name":"x"})");
}

TEST(CodecJson, DeepNestingIsRejectedWithoutRecursion) {
  const auto* send = input_of("sqs", "SendMessage");
  std::string deep = R"({"MessageAttributes":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
  EXPECT_NE(serialization_message(send, deep).find("deeper than 64"), std::string::npos);
  std::string objects;
  for (int i = 0; i < 65; ++i) {
    objects += R"({"a":)";
  }
  objects += "1" + std::string(65, '}');
  EXPECT_NE(serialization_message(send, objects).find("deeper"), std::string::npos);
  // 64 levels are fine (the members are unknown, so dropped).
  std::string ok;
  for (int i = 0; i < 64; ++i) {
    ok += R"({"a":)";
  }
  ok += "1" + std::string(64, '}');
  EXPECT_EQ(decode_json(send, ok), json::object());
}

TEST(CodecJson, BracketsInsideStringsDoNotCountAsNesting) {
  const auto* send = input_of("sqs", "SendMessage");
  std::string body = std::string(100, '[') + "\\\"" + std::string(100, '{') + "\\\\";
  auto v = decode_json(send, R"({"MessageBody":")" + body + R"("})");
  EXPECT_EQ(v["MessageBody"], std::string(100, '[') + "\"" + std::string(100, '{') + "\\");
}

TEST(CodecJson, EncodesSqsSendMessageResultInModelOrder) {
  json out = {{"MessageId", "m-1"}, {"MD5OfMessageBody", "abc"}, {"Unknown", 1}, {"SequenceNumber", nullptr}};
  EXPECT_EQ(encode_json(output_of("sqs", "SendMessage"), out), R"({"MD5OfMessageBody":"abc","MessageId":"m-1"})");
  EXPECT_EQ(encode_json(nullptr, out), "{}");
  EXPECT_EQ(encode_json(output_of("sqs", "SendMessage"), json()), "{}");
}

TEST(CodecJson, EncodesKinesisGetRecordsBlobsAndTimestamps) {
  json out = {{"Records",
               {{{"SequenceNumber", "1"},
                 {"ApproximateArrivalTimestamp", 1700000000.5},
                 {"Data", bytes("hello")},
                 {"PartitionKey", "k"}},
                {{"SequenceNumber", "2"},
                 {"ApproximateArrivalTimestamp", 1700000000},
                 {"Data", "raw"},
                 {"PartitionKey", "k"}}}},
              {"MillisBehindLatest", 0}};
  EXPECT_EQ(encode_json(output_of("kinesis", "GetRecords"), out),
            R"({"Records":[{"SequenceNumber":"1","ApproximateArrivalTimestamp":1700000000.5,"Data":"aGVsbG8=",)"
            R"("PartitionKey":"k"},{"SequenceNumber":"2","ApproximateArrivalTimestamp":1700000000,"Data":"cmF3",)"
            R"("PartitionKey":"k"}],"MillisBehindLatest":0})");
}

TEST(CodecJson, EncodesBlobsOfEveryLengthAsPaddedBase64) {
  // Lengths around the encoder's 3 KiB chunks and each padding case.
  for (std::size_t n : std::initializer_list<std::size_t>{0, 1, 2, 3, 4, 5, 3071, 3072, 3073, 3074, 6144, 10000, 100001}) {
    std::string raw(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
      raw[i] = static_cast<char>((i * 131 + n) & 0xff);
    }
    json out = {{"Records", {{{"SequenceNumber", "1"}, {"Data", bytes(raw)}, {"PartitionKey", "k"}}}}};
    EXPECT_EQ(encode_json(output_of("kinesis", "GetRecords"), out),
              R"({"Records":[{"SequenceNumber":"1","Data":")" + base64_encode(raw) + R"(","PartitionKey":"k"}]})")
        << n;
  }
}

TEST(CodecJson, EncodesTimestampsToTheMillisecondAndInTheirModelFormat) {
  EXPECT_EQ(encode_json(thing(), {{"Epoch", 1700000000.1234}}), R"({"Epoch":1700000000.123})");
  EXPECT_EQ(encode_json(thing(), {{"Epoch", 1.0}}), R"({"Epoch":1})");
  EXPECT_EQ(encode_json(thing(), {{"Epoch", -1.5}}), R"({"Epoch":-1.5})");
  EXPECT_EQ(encode_json(thing(), {{"Epoch", "2023-11-14T22:13:20Z"}}), R"({"Epoch":1700000000})");
  EXPECT_EQ(encode_json(thing(), {{"Iso", 1700000000.25}}), R"({"Iso":"2023-11-14T22:13:20.250Z"})");
  EXPECT_EQ(encode_json(thing(), {{"Iso", 0}}), R"({"Iso":"1970-01-01T00:00:00Z"})");
  EXPECT_EQ(encode_json(thing(), {{"Http", 1422172800}}), R"({"Http":"Sun, 25 Jan 2015 08:00:00 GMT"})");
  // Beyond the calendar: a plain number instead of an overflowing millisecond count.
  EXPECT_EQ(encode_json(thing(), {{"Epoch", 1e300}, {"Iso", -1e300}}), R"({"Iso":-1e+300,"Epoch":1e+300})");
}

TEST(CodecJson, EncodesNumbersGivenAsStringsAndNonFiniteDoubles) {
  json out = {{"StreamDescriptionSummary", {{"StreamName", "s"}, {"OpenShardCount", "3"}, {"RetentionPeriodHours", 24.0}}}};
  EXPECT_EQ(encode_json(output_of("kinesis", "DescribeStreamSummary"), out),
            R"({"StreamDescriptionSummary":{"StreamName":"s","RetentionPeriodHours":24,"OpenShardCount":3}})");
  EXPECT_EQ(encode_json(thing(), {{"Ratio", 0.5}, {"Flag", true}, {"Count", "12"}}),
            R"({"Ratio":0.5,"Flag":true,"Count":12})");
  EXPECT_EQ(encode_json(thing(), {{"Ratio", std::nan("")}}), R"({"Ratio":"NaN"})");
  EXPECT_EQ(encode_json(thing(), {{"Ratio", -INFINITY}}), R"({"Ratio":"-Infinity"})");
  EXPECT_EQ(encode_json(thing(), {{"Wired", 42}}), R"({"wired_name":"42"})");
}

TEST(CodecJson, EncodesStringEscapesAndReplacesInvalidUtf8) {
  std::string s = "q\"b\\s\n\t\x01 \xc3\xa9 \xf0\x9f\x98\x80 bad\xff!";
  EXPECT_EQ(encode_json(thing(), {{"Wired", s}}),
            "{\"wired_name\":\"q\\\"b\\\\s\\n\\t\\u0001 \xc3\xa9 \xf0\x9f\x98\x80 bad\\ufffd!\"}");
}

TEST(CodecJson, RoundTripsThroughEncodeAndDecode) {
  const auto* shape = input_of("kinesis", "PutRecords");
  json value = {{"StreamName", "s"},
                {"Records",
                 {{{"Data", bytes(std::string("\x00\x01\xfe\xff", 4))}, {"PartitionKey", "a"}},
                  {{"Data", bytes("")}, {"PartitionKey", "b"}, {"ExplicitHashKey", "123"}}}}};
  EXPECT_EQ(decode_json(shape, encode_json(shape, value)), value);
}

}  // namespace
}  // namespace fogbank::protocol::codec
