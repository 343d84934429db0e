#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"

namespace fogbank::protocol::codec {
namespace {

using nlohmann::json;

const model::Shape* input_of(std::string_view service, std::string_view operation) {
  const auto* op = model::get(service).operation(operation);
  EXPECT_NE(op, nullptr) << service << "." << operation;
  return op != nullptr ? op->input : nullptr;
}

json bytes(std::size_t n) { return json::binary(std::vector<std::uint8_t>(n, 0x61)); }

/// The message validate() throws, or "" when the value is valid.
std::string violations(const model::Shape* input, const json& value, const ValidationStyle& style = {}) {
  try {
    validate(input, value, style);
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code, style.code);
    EXPECT_EQ(e.status, style.status);
    return e.message;
  }
  return "";
}

std::string one(std::string_view error) { return "1 validation error detected: " + std::string(error); }

ValidationStyle sts_style() {
  ValidationStyle style;
  style.code = "ValidationError";
  return style;
}

const model::Shape* synthetic() {
  static const model::ServiceModel m = model::parse("validate-synthetic", R"json({
    "metadata": {"protocol": "json"},
    "operations": {},
    "shapes": {
      "Input": {"type": "structure", "required": ["Name"], "members": {
        "Name": {"shape": "Name"},
        "Lookbehind": {"shape": "Lookbehind"},
        "Wild": {"shape": "Wild"},
        "Run": {"shape": "Run"},
        "Ratio": {"shape": "Ratio"},
        "Big": {"shape": "Big"},
        "Nested": {"shape": "Nested"},
        "Labels": {"shape": "Labels"},
        "Secret": {"shape": "Secret"}
      }},
      "Name": {"type": "string"},
      "Lookbehind": {"type": "string", "pattern": "[a-z]+(?<!-)"},
      "Wild": {"type": "string", "pattern": "a.*b"},
      "Run": {"type": "string", "pattern": "^[a-z]{2,4}$"},
      "Ratio": {"type": "double", "min": 0.5, "max": 1},
      "Big": {"type": "double", "max": 1000000000},
      "Nested": {"type": "structure", "required": ["Inner"], "members": {
        "Inner": {"shape": "Name"}, "Items": {"shape": "Items"}}},
      "Items": {"type": "list", "member": {"shape": "Item"}},
      "Item": {"type": "structure", "required": ["Id"], "members": {"Id": {"shape": "Name"}}},
      "Labels": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Item"}},
      "Secret": {"type": "string", "min": 8, "sensitive": true}
    }
  })json");
  return m.shape("Input");
}

TEST(Validate, KinesisStreamNamePattern) {
  const auto* create = input_of("kinesis", "CreateStream");
  EXPECT_EQ(violations(create, {{"StreamName", "x y"}, {"ShardCount", 1}}),
            one("Value 'x y' at 'streamName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"));
  EXPECT_EQ(violations(create, {{"StreamName", "orders_v1.2-x"}}), "");
}

TEST(Validate, PatternIsListedBeforeLength) {
  EXPECT_EQ(violations(input_of("kinesis", "CreateStream"), {{"StreamName", ""}}),
            "2 validation errors detected: "
            "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z0-9_.-]+; "
            "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1");
}

TEST(Validate, RequiredMembersAndValueRanges) {
  const auto* create = input_of("kinesis", "CreateStream");
  EXPECT_EQ(violations(create, json::object()),
            one("Value null at 'streamName' failed to satisfy constraint: Member must not be null"));
  EXPECT_EQ(violations(create, {{"StreamName", nullptr}}),
            one("Value null at 'streamName' failed to satisfy constraint: Member must not be null"));
  EXPECT_EQ(violations(create, {{"StreamName", "s"}, {"ShardCount", 0}}),
            one("Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"));
  EXPECT_EQ(violations(input_of("kinesis", "ListShards"), {{"MaxResults", 10001}}),
            one("Value '10001' at 'maxResults' failed to satisfy constraint: "
                "Member must have value less than or equal to 10000"));
}

TEST(Validate, ListPathsAreOneBasedMembers) {
  const auto* put = input_of("kinesis", "PutRecords");
  EXPECT_EQ(violations(put, {{"Records", json::array()}}),
            one("Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"));
  json records = {{"Records", {{{"Data", bytes(1)}, {"PartitionKey", std::string(257, 'k')}}, {{"Data", bytes(1)}}}}};
  EXPECT_EQ(violations(put, records),
            "2 validation errors detected: Value '" + std::string(257, 'k') +
                "' at 'records.1.member.partitionKey' failed to satisfy constraint: "
                "Member must have length less than or equal to 256; "
                "Value null at 'records.2.member.partitionKey' failed to satisfy constraint: Member must not be null");
}

TEST(Validate, ListsRenderLikeJavaAndCheckTheirItems) {
  const auto* enable = input_of("kinesis", "EnableEnhancedMonitoring");
  json eight = json::array();
  for (int i = 0; i < 8; ++i) {
    eight.push_back("ALL");
  }
  EXPECT_EQ(violations(enable, {{"ShardLevelMetrics", eight}}),
            one("Value '[ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL]' at 'shardLevelMetrics' failed to satisfy constraint: "
                "Member must have length less than or equal to 7"));
  EXPECT_EQ(violations(enable, {{"ShardLevelMetrics", {"IncomingBytes", "Bogus"}}}),
            one("Value 'Bogus' at 'shardLevelMetrics.2.member' failed to satisfy constraint: "
                "Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, "
                "WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]"));
}

TEST(Validate, BlobsRenderAsByteBuffers) {
  const auto* put = input_of("firehose", "PutRecord");
  EXPECT_EQ(violations(put, {{"DeliveryStreamName", "d"}, {"Record", {{"Data", bytes(1024001)}}}}),
            one("Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'record.data' failed to satisfy "
                "constraint: Member must have length less than or equal to 1024000"));
  EXPECT_EQ(violations(put, {{"DeliveryStreamName", "d"}, {"Record", {{"Data", bytes(1024000)}}}}), "");
}

TEST(Validate, EnumsAndPatternsCanBeSwitchedOff) {
  const auto* iterator = input_of("kinesis", "GetShardIterator");
  json value = {{"ShardId", "shardId-0"}, {"ShardIteratorType", "NOPE"}};
  EXPECT_EQ(violations(iterator, value),
            one("Value 'NOPE' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: "
                "[AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"));
  ValidationStyle lenient;
  lenient.check_enums = false;
  lenient.check_patterns = false;
  EXPECT_EQ(violations(iterator, value, lenient), "");
  EXPECT_EQ(violations(input_of("kinesis", "CreateStream"), {{"StreamName", "x y"}}, lenient), "");
}

TEST(Validate, MapsCheckSizeKeysAndValues) {
  const auto* tag = input_of("kinesis", "AddTagsToStream");
  EXPECT_EQ(violations(tag, {{"Tags", json::object()}}),
            one("Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"));
  EXPECT_EQ(violations(tag, {{"Tags", {{"", "v"}}}}),
            one("Value '' at 'tags' failed to satisfy constraint: "
                "Map keys must satisfy constraint: [Member must have length greater than or equal to 1]"));
  EXPECT_EQ(violations(tag, {{"Tags", {{"team", std::string(257, 'v')}}}}),
            one("Value '" + std::string(257, 'v') +
                "' at 'tags.team.member' failed to satisfy constraint: Member must have length less than or equal to 256"));
  EXPECT_EQ(violations(synthetic(), {{"Name", "n"}, {"Labels", {{"k", json::object()}}}}),
            one("Value null at 'labels.k.member.id' failed to satisfy constraint: Member must not be null"));
}

TEST(Validate, NestedStructurePaths) {
  EXPECT_EQ(violations(synthetic(), {{"Name", "n"}, {"Nested", {{"Items", {{{"Id", "a"}}, json::object()}}}}}),
            "2 validation errors detected: "
            "Value null at 'nested.inner' failed to satisfy constraint: Member must not be null; "
            "Value null at 'nested.items.2.member.id' failed to satisfy constraint: Member must not be null");
}

TEST(Validate, ListsAtMostTenErrors) {
  json records = json::array();
  for (int i = 0; i < 12; ++i) {
    records.push_back({{"Data", bytes(1)}});
  }
  auto message = violations(input_of("kinesis", "PutRecords"), {{"Records", records}});
  EXPECT_TRUE(message.starts_with("10 validation errors detected: Value null at 'records.1.member.partitionKey'"))
      << message;
  EXPECT_NE(message.find("records.10.member"), std::string::npos);
  EXPECT_EQ(message.find("records.11.member"), std::string::npos);
  std::size_t separators = 0;
  for (std::size_t at = message.find("; "); at != std::string::npos; at = message.find("; ", at + 2)) {
    ++separators;
  }
  EXPECT_EQ(separators, 9u);
}

TEST(Validate, LengthsCountUtf16UnitsLikeJava) {
  const auto* tag = input_of("kinesis", "AddTagsToStream");
  std::string emoji64;
  for (int i = 0; i < 64; ++i) {
    emoji64 += "\xf0\x9f\x98\x80";  // one code point, two UTF-16 units
  }
  EXPECT_EQ(violations(tag, {{"Tags", {{emoji64, "v"}}}}), "");
  std::string emoji65 = emoji64 + "\xf0\x9f\x98\x80";
  EXPECT_NE(violations(tag, {{"Tags", {{emoji65, "v"}}}}).find("less than or equal to 128"), std::string::npos);
  std::string accents(128 * 2, ' ');
  for (std::size_t i = 0; i < accents.size(); i += 2) {
    accents[i] = '\xc3';
    accents[i + 1] = '\xa9';
  }
  EXPECT_EQ(violations(tag, {{"Tags", {{accents, "v"}}}}), "");  // 128 characters, 256 bytes
}

// --- STS: the generic messages must be the ones services/sts/src/sts_service.cpp writes by hand ---

TEST(Validate, StsAssumeRoleMatchesTheHandWrittenMessages) {
  const auto* assume = input_of("sts", "AssumeRole");
  const json base = {{"RoleArn", "arn:aws:iam::123456789012:role/demo"}, {"RoleSessionName", "s1"}};
  auto with = [&](const char* key, json v) {
    json value = base;
    value[key] = std::move(v);
    return value;
  };
  EXPECT_EQ(violations(assume, base, sts_style()), "");
  EXPECT_EQ(violations(assume, with("RoleSessionName", "bad name!"), sts_style()),
            one(R"(Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: )"
                R"(Member must satisfy regular expression pattern: [\w+=,.@-]*)"));
  EXPECT_EQ(violations(assume, with("RoleSessionName", "x"), sts_style()),
            one("Value 'x' at 'roleSessionName' failed to satisfy constraint: "
                "Member must have length greater than or equal to 2"));
  EXPECT_EQ(violations(assume, with("RoleSessionName", std::string(65, 'a')), sts_style()),
            one("Value '" + std::string(65, 'a') +
                "' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"));
  EXPECT_EQ(violations(assume, with("DurationSeconds", 100), sts_style()),
            one("Value '100' at 'durationSeconds' failed to satisfy constraint: "
                "Member must have value greater than or equal to 900"));
  EXPECT_EQ(violations(assume, with("DurationSeconds", 43201), sts_style()),
            one("Value '43201' at 'durationSeconds' failed to satisfy constraint: "
                "Member must have value less than or equal to 43200"));
  EXPECT_EQ(violations(assume, with("ExternalId", "a b"), sts_style()),
            one(R"(Value 'a b' at 'externalId' failed to satisfy constraint: )"
                R"(Member must satisfy regular expression pattern: [\w+=,.@:\/-]*)"));
  EXPECT_EQ(violations(assume, with("RoleArn", "arn:aws:iam::1"), sts_style()),
            one("Value 'arn:aws:iam::1' at 'roleArn' failed to satisfy constraint: "
                "Member must have length greater than or equal to 20"));
  EXPECT_EQ(violations(assume, {{"RoleSessionName", "s1"}}, sts_style()),
            one("Value null at 'roleArn' failed to satisfy constraint: Member must not be null"));
}

TEST(Validate, StsGetSessionTokenMatchesTheHandWrittenMessages) {
  const auto* token = input_of("sts", "GetSessionToken");
  EXPECT_EQ(violations(token, {{"DurationSeconds", 129601}}, sts_style()),
            one("Value '129601' at 'durationSeconds' failed to satisfy constraint: "
                "Member must have value less than or equal to 129600"));
  EXPECT_EQ(violations(token, {{"TokenCode", "12345a"}}, sts_style()),
            one(R"(Value '12345a' at 'tokenCode' failed to satisfy constraint: )"
                R"(Member must satisfy regular expression pattern: [\d]*)"));
  EXPECT_EQ(violations(token, {{"SerialNumber", "arn:aws:iam::123456789012:mfa/user"}, {"TokenCode", "123456"}},
                       sts_style()),
            "");
  EXPECT_EQ(violations(token, {{"SerialNumber", "bad serial"}}, sts_style()),
            one(R"(Value 'bad serial' at 'serialNumber' failed to satisfy constraint: )"
                R"(Member must satisfy regular expression pattern: [\w+=/:,.@-]*)"));
}

TEST(Validate, UnicodeCategoriesInTagPatterns) {
  const auto* assume = input_of("sts", "AssumeRole");
  json value = {{"RoleArn", "arn:aws:iam::123456789012:role/demo"},
                {"RoleSessionName", "s1"},
                {"Tags", {{{"Key", "\xe3\x83\x97\xe3\x83\xad\xe3\x82\xb8\xe3\x82\xa7\xe3\x82\xaf\xe3\x83\x88 name_1"},
                           {"Value", "\xc3\xa9t\xc3\xa9 2024"}}}}};
  EXPECT_EQ(violations(assume, value, sts_style()), "");
  value["Tags"][0]["Key"] = "bad#key";
  EXPECT_EQ(violations(assume, value, sts_style()),
            one(R"(Value 'bad#key' at 'tags.1.member.key' failed to satisfy constraint: )"
                R"(Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+)"));
}

TEST(Validate, LookaheadPatternsGoThroughTheRegexEngine) {
  const auto* tag = input_of("firehose", "TagDeliveryStream");
  EXPECT_EQ(violations(tag, {{"DeliveryStreamName", "d"}, {"Tags", {{{"Key", "team"}, {"Value", "blue sky"}}}}}), "");
  EXPECT_EQ(violations(tag, {{"DeliveryStreamName", "d"}, {"Tags", {{{"Key", "aws:x"}}}}}),
            one(R"(Value 'aws:x' at 'tags.1.member.key' failed to satisfy constraint: )"
                R"(Member must satisfy regular expression pattern: ^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$)"));
  const auto* iterator = input_of("kinesis", "GetShardIterator");
  json value = {{"ShardId", "shardId-0"}, {"ShardIteratorType", "AT_SEQUENCE_NUMBER"}};
  for (const char* ok : {"0", "49", "49590338271490256608559692538361571095921575989136588898"}) {
    value["StartingSequenceNumber"] = ok;
    EXPECT_EQ(violations(iterator, value), "") << ok;
  }
  value["StartingSequenceNumber"] = "0123";
  EXPECT_EQ(violations(iterator, value),
            one(R"(Value '0123' at 'startingSequenceNumber' failed to satisfy constraint: )"
                R"(Member must satisfy regular expression pattern: 0|([1-9]\d{0,128}))"));
  const auto* summary = input_of("kinesis", "DescribeStreamSummary");
  EXPECT_EQ(violations(summary, {{"StreamARN", "arn:aws:kinesis:us-east-1:123456789012:stream/s"}}), "");
  EXPECT_NE(violations(summary, {{"StreamARN", "arn:aws:kinesis:us-east-1:1234:stream/s"}}), "");
}

TEST(Validate, SimpleRunsLongValuesAndUntranslatablePatterns) {
  const auto* input = synthetic();
  EXPECT_EQ(violations(input, {{"Name", "n"}, {"Run", "ab"}}), "");
  EXPECT_EQ(violations(input, {{"Name", "n"}, {"Run", "abcde"}}),
            one("Value 'abcde' at 'run' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: ^[a-z]{2,4}$"));
  EXPECT_NE(violations(input, {{"Name", "n"}, {"Run", "aB"}}), "");
  EXPECT_EQ(violations(input, {{"Name", "n"}, {"Wild", "axxb"}}), "");
  EXPECT_NE(violations(input, {{"Name", "n"}, {"Wild", "a" + std::string(100, 'x') + "c"}}), "");
  // Past the regex input limit the pattern is skipped instead of recursing 100000 deep.
  EXPECT_EQ(violations(input, {{"Name", "n"}, {"Wild", "a" + std::string(100000, 'x') + "c"}}), "");
  // Lookbehind does not translate to ECMAScript: the pattern is not checked.
  EXPECT_EQ(violations(input, {{"Name", "n"}, {"Lookbehind", "-"}}), "");
}

TEST(Validate, DoublesRenderLikeJava) {
  const auto* input = synthetic();
  EXPECT_EQ(violations(input, {{"Name", "n"}, {"Ratio", 0.25}}),
            one("Value '0.25' at 'ratio' failed to satisfy constraint: Member must have value greater than or equal to 0.5"));
  EXPECT_EQ(violations(input, {{"Name", "n"}, {"Ratio", 2.0}}),
            one("Value '2.0' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1"));
  EXPECT_EQ(violations(input, {{"Name", "n"}, {"Big", 1e10}}),
            one("Value '1.0E10' at 'big' failed to satisfy constraint: "
                "Member must have value less than or equal to 1000000000"));
}

TEST(Validate, SensitiveValuesAreNotEchoed) {
  EXPECT_EQ(violations(synthetic(), {{"Name", "n"}, {"Secret", "short"}}),
            one("Value at 'secret' failed to satisfy constraint: Member must have length greater than or equal to 8"));
  EXPECT_EQ(violations(input_of("sts", "AssumeRoleWithSAML"),
                       {{"RoleArn", "arn:aws:iam::123456789012:role/demo"},
                        {"PrincipalArn", "arn:aws:iam::123456789012:saml-provider/p"},
                        {"SAMLAssertion", "abc"}},
                       sts_style()),
            one("Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length greater than or equal to 4"));
}

TEST(Validate, PatternCacheIsSafeAcrossThreads) {
  const auto* create = input_of("kinesis", "CreateStream");
  const auto* summary = input_of("kinesis", "DescribeStreamSummary");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        failures[t] += violations(create, {{"StreamName", "x y"}}).empty() ? 1 : 0;
        failures[t] += violations(summary, {{"StreamARN", "arn:aws:kinesis:r:123456789012:stream/s"}}).empty() ? 0 : 1;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (int f : failures) {
    EXPECT_EQ(f, 0);
  }
}

TEST(Validate, NothingToCheck) {
  EXPECT_NO_THROW(validate(nullptr, {{"a", 1}}, {}));
  EXPECT_NO_THROW(validate(input_of("kinesis", "CreateStream"), json::array(), {}));
}

}  // namespace
}  // namespace fogbank::protocol::codec
