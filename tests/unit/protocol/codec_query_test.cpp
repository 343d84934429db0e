// The model-driven Query codec. Request names are the ones botocore's QuerySerializer produces
// for the same models (vectors generated with botocore 1.43 from protocol/models/*.json); the
// response XML is what botocore's QueryParser reads.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"

namespace fogbank::protocol::codec {
namespace {

using nlohmann::json;

const model::Shape* input_of(std::string_view service, std::string_view op) {
  const auto* o = model::get(service).operation(op);
  EXPECT_NE(o, nullptr) << op;
  return o == nullptr ? nullptr : o->input;
}

json decode(std::string_view service, std::string_view op, const QueryParams& params) {
  return decode_query(input_of(service, op), params);
}

std::string encode(std::string_view service, std::string_view op, const json& output,
                   std::string_view request_id = "rid") {
  const auto& m = model::get(service);
  return encode_query_response(m, *m.operation(op), output, request_id);
}

json bytes(std::string_view s) {
  return json::binary(std::vector<std::uint8_t>(s.begin(), s.end()));
}

template <typename F>
AwsError error_of(F&& f) {
  try {
    f();
  } catch (const AwsError& e) {
    return e;
  }
  ADD_FAILURE() << "no AwsError thrown";
  return {};
}

AwsError decode_error(std::string_view service, std::string_view op, const QueryParams& params) {
  return error_of([&] { decode(service, op, params); });
}

// A small Query model with what the real ones lack: every scalar type, timestamp formats,
// non-default list and map names, member-level flattening and a recursive shape.
constexpr std::string_view kTestModel = R"json({
  "version": "2.0",
  "metadata": {"apiVersion": "2020-01-01", "protocol": "query", "xmlNamespace": "urn:test",
               "endpointPrefix": "test", "serviceId": "Test"},
  "operations": {
    "Everything": {"name": "Everything", "http": {"method": "POST", "requestUri": "/"},
                   "input": {"shape": "Bag"}, "output": {"shape": "Bag", "resultWrapper": "EverythingOutcome"}},
    "NoWrapper": {"name": "NoWrapper", "http": {"method": "POST", "requestUri": "/"},
                  "input": {"shape": "Bag"}, "output": {"shape": "Bag"}},
    "NoInput": {"name": "NoInput", "http": {"method": "POST", "requestUri": "/"}}
  },
  "shapes": {
    "Bag": {"type": "structure", "members": {
      "Str": {"shape": "Str"},
      "Int": {"shape": "Int"},
      "Long": {"shape": "Long"},
      "Bool": {"shape": "Bool"},
      "Float": {"shape": "Float"},
      "Double": {"shape": "Double"},
      "Blob": {"shape": "Blob"},
      "When": {"shape": "Time"},
      "WhenUnix": {"shape": "Time", "timestampFormat": "unixTimestamp"},
      "WhenRfc": {"shape": "RfcTime"},
      "Renamed": {"shape": "Str", "locationName": "Wire"},
      "Items": {"shape": "NamedList"},
      "Plain": {"shape": "PlainList"},
      "Flat": {"shape": "PlainList", "flattened": true},
      "Dict": {"shape": "PlainMap"},
      "FlatDict": {"shape": "NamedMap", "flattened": true},
      "Times": {"shape": "TimeList"},
      "Nested": {"shape": "ListOfLists"},
      "Tree": {"shape": "Node"}
    }},
    "Node": {"type": "structure", "members": {
      "Value": {"shape": "Str"},
      "Child": {"shape": "Node"},
      "Children": {"shape": "NodeList"}
    }},
    "NodeList": {"type": "list", "member": {"shape": "Node"}},
    "NamedList": {"type": "list", "member": {"shape": "Str", "locationName": "Item"}},
    "PlainList": {"type": "list", "member": {"shape": "Str"}},
    "TimeList": {"type": "list", "member": {"shape": "Time"}},
    "ListOfLists": {"type": "list", "member": {"shape": "PlainList"}},
    "PlainMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Int"}},
    "NamedMap": {"type": "map", "key": {"shape": "Str", "locationName": "K"},
                 "value": {"shape": "Str", "locationName": "V"}},
    "Str": {"type": "string"},
    "Int": {"type": "integer"},
    "Long": {"type": "long"},
    "Bool": {"type": "boolean"},
    "Float": {"type": "float"},
    "Double": {"type": "double"},
    "Blob": {"type": "blob"},
    "Time": {"type": "timestamp"},
    "RfcTime": {"type": "timestamp", "timestampFormat": "rfc822"}
  }
})json";

const model::ServiceModel& test_model() {
  static const model::ServiceModel m = model::parse("test", kTestModel);
  return m;
}

json decode_bag(const QueryParams& params) {
  return decode_query(test_model().operation("Everything")->input, params);
}

std::string encode_bag(const json& output, std::string_view op = "Everything") {
  const auto& m = test_model();
  return encode_query_response(m, *m.operation(op), output, "rid");
}

// The part of a response between <Result> tags, for readable expectations.
std::string result_of(const std::string& xml, std::string_view wrapper) {
  std::string open = "<" + std::string(wrapper) + ">";
  std::string close = "</" + std::string(wrapper) + ">";
  auto a = xml.find(open);
  auto b = xml.find(close);
  if (a == std::string::npos || b == std::string::npos) {
    return "<missing " + std::string(wrapper) + "> in " + xml;
  }
  return xml.substr(a + open.size(), b - a - open.size());
}

// --- decode: real models ----------------------------------------------------------------------

TEST(CodecQueryDecode, NullInputYieldsEmptyObject) {
  EXPECT_EQ(decode_query(nullptr, {{"Action", "X"}, {"A", "1"}}), json::object());
  EXPECT_EQ(decode("sts", "GetCallerIdentity", {{"Action", "GetCallerIdentity"}, {"Version", "2011-06-15"}}),
            json::object());
}

TEST(CodecQueryDecode, StsAssumeRoleNonFlattenedLists) {
  // botocore: AssumeRole(RoleArn, RoleSessionName, PolicyArns, Tags, TransitiveTagKeys,
  // DurationSeconds, ProvidedContexts)
  auto v = decode("sts", "AssumeRole",
                  {{"Action", "AssumeRole"},
                   {"Version", "2011-06-15"},
                   {"RoleArn", "arn:aws:iam::123456789012:role/r"},
                   {"RoleSessionName", "s1"},
                   {"PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/A"},
                   {"Tags.member.1.Key", "k"},
                   {"Tags.member.1.Value", "v"},
                   {"TransitiveTagKeys.member.1", "k"},
                   {"DurationSeconds", "900"},
                   {"ProvidedContexts.member.1.ProviderArn", "p"},
                   {"ProvidedContexts.member.1.ContextAssertion", "c"}});
  json expected = {
      {"RoleArn", "arn:aws:iam::123456789012:role/r"},
      {"RoleSessionName", "s1"},
      {"PolicyArns", json::array({{{"arn", "arn:aws:iam::aws:policy/A"}}})},
      {"Tags", json::array({{{"Key", "k"}, {"Value", "v"}}})},
      {"TransitiveTagKeys", json::array({"k"})},
      {"DurationSeconds", 900},
      {"ProvidedContexts", json::array({{{"ProviderArn", "p"}, {"ContextAssertion", "c"}}})},
  };
  EXPECT_EQ(v, expected) << v.dump();
  EXPECT_TRUE(v["DurationSeconds"].is_number_integer());
}

TEST(CodecQueryDecode, ListsAreOrderedByNumericIndexWithGaps) {
  auto v = decode("sts", "AssumeRole",
                  {{"Tags.member.10.Key", "ten"},
                   {"Tags.member.2.Key", "two"},
                   {"Tags.member.1.Key", "one"},
                   {"Tags.member.7.Key", "seven"},
                   {"TransitiveTagKeys.member.3", "c"},
                   {"TransitiveTagKeys.member.12", "d"},
                   {"TransitiveTagKeys.member.1", "a"}});
  ASSERT_EQ(v["Tags"].size(), 4u) << v.dump();
  EXPECT_EQ(v["Tags"][0]["Key"], "one");
  EXPECT_EQ(v["Tags"][1]["Key"], "two");
  EXPECT_EQ(v["Tags"][2]["Key"], "seven");
  EXPECT_EQ(v["Tags"][3]["Key"], "ten");
  EXPECT_EQ(v["TransitiveTagKeys"], json::array({"a", "c", "d"}));
}

TEST(CodecQueryDecode, IndicesThatAreNotPositiveCanonicalNumbersAreIgnored) {
  auto v = decode("sts", "AssumeRole",
                  {{"TransitiveTagKeys.member.0", "zero"},
                   {"TransitiveTagKeys.member.01", "padded"},
                   {"TransitiveTagKeys.member.x", "letter"},
                   {"TransitiveTagKeys.member.-1", "negative"},
                   {"TransitiveTagKeys.member.99999999999999999999999", "huge"},
                   {"TransitiveTagKeys.member.2", "ok"}});
  EXPECT_EQ(v["TransitiveTagKeys"], json::array({"ok"}));
}

TEST(CodecQueryDecode, EmptyListIsSentAsEmptyValue) {
  // botocore: TransitiveTagKeys=[] → "TransitiveTagKeys="; ReceiveMessage(AttributeNames=[])
  // → "AttributeNames=" (the member's name, although elements go by "AttributeName.N").
  auto sts = decode("sts", "AssumeRole", {{"TransitiveTagKeys", ""}});
  EXPECT_EQ(sts, json({{"TransitiveTagKeys", json::array()}}));
  auto sqs = decode("sqs-query", "ReceiveMessage", {{"QueueUrl", "u"}, {"AttributeNames", ""}});
  EXPECT_EQ(sqs, json({{"QueueUrl", "u"}, {"AttributeNames", json::array()}}));
  auto alt = decode("sqs-query", "ReceiveMessage", {{"AttributeName", ""}});
  EXPECT_EQ(alt, json({{"AttributeNames", json::array()}}));
  // A non-empty value where a list belongs is not a list.
  EXPECT_EQ(decode("sts", "AssumeRole", {{"TransitiveTagKeys", "k"}}), json::object());
}

TEST(CodecQueryDecode, SqsFlattenedListsUseTheItemLocationName) {
  // botocore: ReceiveMessage(QueueUrl='u', MessageAttributeNames=['x','y'],
  // MessageSystemAttributeNames is not in the 2012-11-05 model)
  auto v = decode("sqs-query", "ReceiveMessage",
                  {{"Action", "ReceiveMessage"},
                   {"QueueUrl", "u"},
                   {"AttributeName.1", "All"},
                   {"MessageAttributeName.1", "x"},
                   {"MessageAttributeName.2", "y"},
                   {"MaxNumberOfMessages", "10"},
                   {"WaitTimeSeconds", "0"}});
  json expected = {{"QueueUrl", "u"},
                   {"AttributeNames", json::array({"All"})},
                   {"MessageAttributeNames", json::array({"x", "y"})},
                   {"MaxNumberOfMessages", 10},
                   {"WaitTimeSeconds", 0}};
  EXPECT_EQ(v, expected) << v.dump();
  // The member's own name is not where flattened items live.
  EXPECT_EQ(decode("sqs-query", "ReceiveMessage", {{"AttributeNames.1", "All"}}), json::object());
}

TEST(CodecQueryDecode, SqsSendMessageFlattenedMapWithStructuredValues) {
  // botocore: SendMessage(QueueUrl='u', MessageBody='b', MessageAttributes={'k': {'DataType':
  // 'String', 'StringListValues': ['a','b'], 'BinaryValue': b'\x00\x01'}})
  auto v = decode("sqs-query", "SendMessage",
                  {{"Action", "SendMessage"},
                   {"Version", "2012-11-05"},
                   {"QueueUrl", "u"},
                   {"MessageBody", "b"},
                   {"MessageAttribute.1.Name", "k"},
                   {"MessageAttribute.1.Value.DataType", "String"},
                   {"MessageAttribute.1.Value.StringListValue.1", "a"},
                   {"MessageAttribute.1.Value.StringListValue.2", "b"},
                   {"MessageAttribute.1.Value.BinaryValue", "AAE="},
                   {"MessageAttribute.2.Name", "n"},
                   {"MessageAttribute.2.Value.DataType", "Number"},
                   {"MessageAttribute.2.Value.StringValue", "42"},
                   {"MessageSystemAttribute.1.Name", "AWSTraceHeader"},
                   {"MessageSystemAttribute.1.Value.DataType", "String"},
                   {"MessageSystemAttribute.1.Value.StringValue", "Root=1"},
                   {"DelaySeconds", "5"}});
  json expected = {
      {"QueueUrl", "u"},
      {"MessageBody", "b"},
      {"DelaySeconds", 5},
      {"MessageAttributes",
       {{"k", {{"DataType", "String"}, {"StringListValues", json::array({"a", "b"})},
               {"BinaryValue", bytes(std::string("\x00\x01", 2))}}},
        {"n", {{"DataType", "Number"}, {"StringValue", "42"}}}}},
      {"MessageSystemAttributes", {{"AWSTraceHeader", {{"DataType", "String"}, {"StringValue", "Root=1"}}}}},
  };
  EXPECT_EQ(v, expected) << v.dump();
}

TEST(CodecQueryDecode, SqsShapeLevelLocationNamesNameTheMap) {
  // botocore: TagQueue(QueueUrl='u', Tags={'a':'1','b':'2'}): the member has no locationName,
  // the TagMap shape's own "Tag" is used.
  auto tag = decode("sqs-query", "TagQueue",
                    {{"QueueUrl", "u"}, {"Tag.1.Key", "a"}, {"Tag.1.Value", "1"}, {"Tag.2.Key", "b"}, {"Tag.2.Value", "2"}});
  EXPECT_EQ(tag, json({{"QueueUrl", "u"}, {"Tags", {{"a", "1"}, {"b", "2"}}}})) << tag.dump();
  // botocore: CreateQueue(QueueName='q', Attributes={'DelaySeconds':'3'}, tags={'k':'v'})
  auto create = decode("sqs-query", "CreateQueue",
                       {{"QueueName", "q"},
                        {"Attribute.1.Name", "DelaySeconds"},
                        {"Attribute.1.Value", "3"},
                        {"Tag.1.Key", "k"},
                        {"Tag.1.Value", "v"}});
  EXPECT_EQ(create, json({{"QueueName", "q"}, {"Attributes", {{"DelaySeconds", "3"}}}, {"tags", {{"k", "v"}}}}));
  auto untag = decode("sqs-query", "UntagQueue", {{"QueueUrl", "u"}, {"TagKey.1", "a"}, {"TagKey.2", "b"}});
  EXPECT_EQ(untag["TagKeys"], json::array({"a", "b"}));
}

TEST(CodecQueryDecode, SqsSendMessageBatchEntries) {
  auto v = decode("sqs-query", "SendMessageBatch",
                  {{"Action", "SendMessageBatch"},
                   {"QueueUrl", "http://h/1/q"},
                   {"SendMessageBatchRequestEntry.2.Id", "b"},
                   {"SendMessageBatchRequestEntry.2.MessageBody", "two"},
                   {"SendMessageBatchRequestEntry.1.Id", "a"},
                   {"SendMessageBatchRequestEntry.1.MessageBody", "one"},
                   {"SendMessageBatchRequestEntry.1.DelaySeconds", "5"},
                   {"SendMessageBatchRequestEntry.1.MessageAttribute.1.Name", "k"},
                   {"SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType", "String"},
                   {"SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue", "v"}});
  ASSERT_EQ(v["Entries"].size(), 2u) << v.dump();
  EXPECT_EQ(v["Entries"][0],
            json({{"Id", "a"},
                  {"MessageBody", "one"},
                  {"DelaySeconds", 5},
                  {"MessageAttributes", {{"k", {{"DataType", "String"}, {"StringValue", "v"}}}}}}));
  EXPECT_EQ(v["Entries"][1], json({{"Id", "b"}, {"MessageBody", "two"}}));
  EXPECT_FALSE(v.contains("Action"));
}

TEST(CodecQueryDecode, SqsMapKeyWithoutValueIsEmptyAndValueWithoutKeyIsSkipped) {
  auto v = decode("sqs-query", "CreateQueue",
                  {{"QueueName", "q"},
                   {"Attribute.1.Name", "Policy"},
                   {"Attribute.2.Value", "orphan"},
                   {"Attribute.3.Name", "DelaySeconds"},
                   {"Attribute.3.Value", "1"}});
  EXPECT_EQ(v["Attributes"], json({{"Policy", ""}, {"DelaySeconds", "1"}})) << v.dump();
}

TEST(CodecQueryDecode, SnsNonFlattenedMapsUseEntryAndKeyValueNames) {
  // botocore: CreateTopic(Name='t', Attributes={'a':'b'}, Tags=[{'Key':'k','Value':'v'}])
  auto create = decode("sns", "CreateTopic",
                       {{"Name", "t"},
                        {"Attributes.entry.1.key", "a"},
                        {"Attributes.entry.1.value", "b"},
                        {"Attributes.entry.2.key", "DisplayName"},
                        {"Attributes.entry.2.value", "d"},
                        {"Tags.member.1.Key", "k"},
                        {"Tags.member.1.Value", "v"}});
  EXPECT_EQ(create, json({{"Name", "t"},
                          {"Attributes", {{"a", "b"}, {"DisplayName", "d"}}},
                          {"Tags", json::array({{{"Key", "k"}, {"Value", "v"}}})}}))
      << create.dump();
  // botocore: PublishBatch(TopicArn='t', PublishBatchRequestEntries=[{'Id':'1','Message':'m',
  // 'MessageAttributes':{'k':{'DataType':'String','StringValue':'v'}}}])
  auto batch = decode("sns", "PublishBatch",
                      {{"TopicArn", "t"},
                       {"PublishBatchRequestEntries.member.1.Id", "1"},
                       {"PublishBatchRequestEntries.member.1.Message", "m"},
                       {"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name", "k"},
                       {"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType", "String"},
                       {"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue", "v"}});
  EXPECT_EQ(batch["PublishBatchRequestEntries"][0]["MessageAttributes"],
            json({{"k", {{"DataType", "String"}, {"StringValue", "v"}}}}))
      << batch.dump();
  // botocore: Publish(..., MessageAttributes={'k': {'DataType':'Binary','BinaryValue':b'xy'}})
  auto publish = decode("sns", "Publish",
                        {{"TopicArn", "t"},
                         {"Message", "m"},
                         {"MessageAttributes.entry.1.Name", "k"},
                         {"MessageAttributes.entry.1.Value.DataType", "Binary"},
                         {"MessageAttributes.entry.1.Value.BinaryValue", "eHk="}});
  EXPECT_EQ(publish["MessageAttributes"]["k"]["BinaryValue"], bytes("xy"));
  // Flattened spelling is not this model's.
  EXPECT_FALSE(decode("sns", "CreateTopic", {{"Attributes.1.key", "a"}, {"Attributes.1.value", "b"}})
                   .contains("Attributes"));
}

TEST(CodecQueryDecode, SnsBooleans) {
  auto yes = decode("sns", "Subscribe", {{"TopicArn", "t"}, {"Protocol", "sqs"}, {"ReturnSubscriptionArn", "true"}});
  EXPECT_EQ(yes["ReturnSubscriptionArn"], true);
  auto no = decode("sns", "Subscribe", {{"ReturnSubscriptionArn", "false"}});
  EXPECT_EQ(no["ReturnSubscriptionArn"], false);
  EXPECT_EQ(decode("sns", "Subscribe", {{"ReturnSubscriptionArn", "TRUE"}})["ReturnSubscriptionArn"], true);
  auto e = decode_error("sns", "Subscribe", {{"ReturnSubscriptionArn", "yes"}});
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_EQ(e.message, "Value yes for parameter ReturnSubscriptionArn is invalid. Reason: Must be true or false.");
}

TEST(CodecQueryDecode, UnknownParametersAreIgnored) {
  auto v = decode("sqs-query", "SendMessage",
                  {{"QueueUrl", "u"},
                   {"MessageBody", "b"},
                   {"Bogus", "1"},
                   {"QueueUrl.extra", "x"},
                   {"MessageAttribute.1.Name", "k"},
                   {"MessageAttribute.1.Value.Nope", "z"},
                   {"MessageAttribute.1.Value.DataType", "String"},
                   {"", "empty name"},
                   {".", "dot"},
                   {std::string(30000, '.'), "dots"}});
  EXPECT_EQ(v, json({{"QueueUrl", "u"}, {"MessageBody", "b"}, {"MessageAttributes", {{"k", {{"DataType", "String"}}}}}}))
      << v.dump();
}

TEST(CodecQueryDecode, RepeatedParameterFirstOneWins) {
  auto v = decode("sqs-query", "SendMessage", {{"MessageBody", "first"}, {"QueueUrl", "u"}, {"MessageBody", "second"}});
  EXPECT_EQ(v["MessageBody"], "first");
}

TEST(CodecQueryDecode, BadIntegerKeepsSqsWording) {
  // tests/e2e/test_sqs_query.py and the SQS handlers know this code and sentence.
  auto e = decode_error("sqs-query", "ReceiveMessage", {{"QueueUrl", "x"}, {"MaxNumberOfMessages", "ten"}});
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_EQ(e.status, 400);
  EXPECT_TRUE(e.sender_fault);
  EXPECT_EQ(e.message, "Value ten for parameter MaxNumberOfMessages is invalid. Reason: Must be an integer.");
  for (const char* bad : {"", " 5", "5 ", "5x", "+5", "1.5", "0x10", "99999999999999999999"}) {
    EXPECT_EQ(decode_error("sqs-query", "ReceiveMessage", {{"VisibilityTimeout", bad}}).code, "InvalidParameterValue")
        << "'" << bad << "'";
  }
  EXPECT_EQ(decode("sqs-query", "ReceiveMessage", {{"VisibilityTimeout", "-3"}})["VisibilityTimeout"], -3);
  // Nested parameters are named in full.
  auto nested = decode_error("sqs-query", "SendMessageBatch",
                             {{"SendMessageBatchRequestEntry.1.Id", "a"}, {"SendMessageBatchRequestEntry.1.DelaySeconds", "x"}});
  EXPECT_EQ(nested.message,
            "Value x for parameter SendMessageBatchRequestEntry.1.DelaySeconds is invalid. Reason: Must be an integer.");
}

TEST(CodecQueryDecode, LongBadValuesAreCutInTheMessage) {
  auto e = decode_error("sqs-query", "ReceiveMessage", {{"WaitTimeSeconds", std::string(100000, '9') + "x"}});
  EXPECT_EQ(e.message, "Value " + std::string(256, '9') +
                           "... for parameter WaitTimeSeconds is invalid. Reason: Must be an integer.");
}

TEST(CodecQueryDecode, BadBase64Blob) {
  auto e = decode_error("sqs-query", "SendMessage",
                        {{"MessageAttribute.1.Name", "k"}, {"MessageAttribute.1.Value.BinaryValue", "not base64!"}});
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_EQ(e.message,
            "Value not base64! for parameter MessageAttribute.1.Value.BinaryValue is invalid. Reason: Must be "
            "base64-encoded.");
}

// --- decode: every scalar type and edge case (test model) ------------------------------------

TEST(CodecQueryDecode, TypedScalars) {
  auto v = decode_bag({{"Str", "a b"},
                       {"Int", "-7"},
                       {"Long", "9007199254740993"},
                       {"Bool", "true"},
                       {"Float", "1.5"},
                       {"Double", "-2e3"},
                       {"Blob", "aGk="},
                       {"Wire", "renamed"},
                       {"Renamed", "not the wire name"}});
  EXPECT_EQ(v["Str"], "a b");
  EXPECT_EQ(v["Int"], -7);
  EXPECT_EQ(v["Long"].get<std::int64_t>(), 9007199254740993LL);
  EXPECT_EQ(v["Bool"], true);
  EXPECT_DOUBLE_EQ(v["Float"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(v["Double"].get<double>(), -2000.0);
  EXPECT_EQ(v["Blob"], bytes("hi"));
  EXPECT_EQ(v["Renamed"], "renamed");
  EXPECT_EQ(v.size(), 8u) << v.dump();
}


TEST(CodecQueryDecode, FloatSpecialValuesAsBotocoreSendsThem) {
  EXPECT_TRUE(std::isinf(decode_bag({{"Double", "Infinity"}})["Double"].get<double>()));
  EXPECT_LT(decode_bag({{"Double", "-Infinity"}})["Double"].get<double>(), 0);
  EXPECT_TRUE(std::isnan(decode_bag({{"Float", "NaN"}})["Float"].get<double>()));
  EXPECT_DOUBLE_EQ(decode_bag({{"Float", "3"}})["Float"].get<double>(), 3.0);
  for (const char* bad : {"", "1,5", "one", " 1", "1.5f"}) {
    auto e = error_of([&] { decode_bag({{"Double", bad}}); });
    EXPECT_EQ(e.code, "InvalidParameterValue") << bad;
    EXPECT_NE(e.message.find("Reason: Must be a number."), std::string::npos) << e.message;
  }
}

TEST(CodecQueryDecode, TimestampsBecomeEpochSeconds) {
  // 2026-11-21T10:00:00Z is 1795255200.
  auto whole = decode_bag({{"When", "2026-11-21T10:00:00Z"}})["When"];
  EXPECT_TRUE(whole.is_number_integer()) << whole.dump();
  EXPECT_EQ(whole, 1795255200);
  // botocore sends microseconds when there are any.
  EXPECT_DOUBLE_EQ(decode_bag({{"When", "2026-11-21T10:00:00.123000Z"}})["When"].get<double>(), 1795255200.123);
  EXPECT_DOUBLE_EQ(decode_bag({{"When", "2026-11-21T10:00:00.5Z"}})["When"].get<double>(), 1795255200.5);
  EXPECT_EQ(decode_bag({{"When", "2026-11-21T12:30:00+02:30"}})["When"], 1795255200);
  EXPECT_EQ(decode_bag({{"When", "2026-11-21T07:00:00-0300"}})["When"], 1795255200);
  EXPECT_EQ(decode_bag({{"When", "2026-11-21T10:00:00"}})["When"], 1795255200);
  EXPECT_EQ(decode_bag({{"When", "1970-01-01T00:00:00Z"}})["When"], 0);
  EXPECT_EQ(decode_bag({{"When", "1969-12-31T23:59:59Z"}})["When"], -1);
  EXPECT_EQ(decode_bag({{"When", "2024-02-29T00:00:00Z"}})["When"], 1709164800);
  // Epoch seconds, whatever format the model declares.
  EXPECT_EQ(decode_bag({{"When", "1795255200"}})["When"], 1795255200);
  EXPECT_EQ(decode_bag({{"WhenUnix", "1795255200"}})["WhenUnix"], 1795255200);
  EXPECT_DOUBLE_EQ(decode_bag({{"WhenUnix", "1795255200.25"}})["WhenUnix"].get<double>(), 1795255200.25);
  // RFC 822 as botocore writes it for rfc822 members.
  EXPECT_EQ(decode_bag({{"WhenRfc", "Tue, 14 Nov 2023 22:13:20 GMT"}})["WhenRfc"], 1700000000);
  EXPECT_EQ(decode_bag({{"WhenRfc", "14 Nov 2023 22:13:20 +0000"}})["WhenRfc"], 1700000000);
  for (const char* bad : {"", "yesterday", "2026-11-21", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-21T25:00:00Z", "2026-11-21T10:00:00.Z", "2026-11-21T10:00:00Zjunk",
                          "2026-11-21T10:00:00+5", "inf", "nan", "Tue, 14 Foo 2023 22:13:20 GMT"}) {
    auto e = error_of([&] { decode_bag({{"When", bad}}); });
    EXPECT_EQ(e.code, "InvalidParameterValue") << bad;
  }
}

TEST(CodecQueryDecode, ListAndMapSpellings) {
  auto v = decode_bag({{"Action", "Everything"},
                       {"Version", "2020-01-01"},
                       {"Items.Item.1", "a"},
                       {"Items.Item.2", "b"},
                       {"Items.member.3", "wrong item name"},
                       {"Plain.member.1", "p"},
                       {"Flat.1", "f1"},
                       {"Flat.2", "f2"},
                       {"Dict.entry.1.key", "x"},
                       {"Dict.entry.1.value", "1"},
                       {"FlatDict.1.K", "k"},
                       {"FlatDict.1.V", "v"},
                       {"Times.member.1", "2026-11-21T10:00:00.123000Z"},
                       {"Nested.member.1.member.1", "a"},
                       {"Nested.member.1.member.2", "b"},
                       {"Nested.member.2.member.1", "c"}});
  EXPECT_EQ(v["Items"], json::array({"a", "b"}));
  EXPECT_EQ(v["Plain"], json::array({"p"}));
  EXPECT_EQ(v["Flat"], json::array({"f1", "f2"}));
  EXPECT_EQ(v["Dict"], json({{"x", 1}}));
  EXPECT_EQ(v["FlatDict"], json({{"k", "v"}}));
  EXPECT_DOUBLE_EQ(v["Times"][0].get<double>(), 1795255200.123);
  EXPECT_EQ(v["Nested"], json::array({json::array({"a", "b"}), json::array({"c"})}));
  EXPECT_EQ(v.size(), 7u) << v.dump();
  // Typed map values are checked like any scalar.
  auto e = error_of([] { decode_bag({{"Dict.entry.1.key", "x"}, {"Dict.entry.1.value", "one"}}); });
  EXPECT_EQ(e.message, "Value one for parameter Dict.entry.1.value is invalid. Reason: Must be an integer.");
  // A key without a value has no empty form for an integer: the entry is dropped.
  EXPECT_FALSE(decode_bag({{"Dict.entry.1.key", "x"}}).contains("Dict"));
}

TEST(CodecQueryDecode, RecursiveShapeFollowsOnlyTheNamesSent) {
  auto v = decode_bag({{"Tree.Value", "r"},
                       {"Tree.Child.Value", "c"},
                       {"Tree.Child.Child.Value", "g"},
                       {"Tree.Children.member.1.Value", "k1"},
                       {"Tree.Children.member.2.Child.Value", "k2c"}});
  json expected = {{"Value", "r"},
                   {"Child", {{"Value", "c"}, {"Child", {{"Value", "g"}}}}},
                   {"Children", json::array({{{"Value", "k1"}}, {{"Child", {{"Value", "k2c"}}}}})}};
  EXPECT_EQ(v["Tree"], expected) << v.dump();
}

TEST(CodecQueryDecode, DeepNamesCannotRecurseWithoutBound) {
  // Within the cap a recursive shape decodes as deep as the names go.
  std::string name = "Tree";
  for (int i = 0; i < 20; ++i) {
    name += ".Child";
  }
  auto v = decode_bag({{name + ".Value", "deep"}});
  const json* node = &v["Tree"];
  for (int i = 0; i < 20; ++i) {
    node = &(*node)["Child"];
  }
  EXPECT_EQ((*node)["Value"], "deep");

  // 30,000 levels: refused with a client error, not a stack overflow.
  std::string hostile = "Tree";
  hostile.reserve(6 * 30000 + 10);
  for (int i = 0; i < 30000; ++i) {
    hostile += ".Child";
  }
  auto e = error_of([&] { decode_bag({{hostile + ".Value", "x"}}); });
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_EQ(e.status, 400);

  // Dots under a non-recursive member are just unknown names.
  EXPECT_EQ(decode_bag({{"Str" + std::string(30000, '.'), "x"}, {"Items" + std::string(30000, '.') + "1", "y"}}),
            json::object());
}

TEST(CodecQueryDecode, ManyParametersStayCheap) {
  QueryParams params;
  constexpr int kCount = 20000;
  for (int i = kCount; i >= 1; --i) {
    params.emplace_back("Tree.Children.member." + std::to_string(i) + ".Value", std::to_string(i));
  }
  auto start = std::chrono::steady_clock::now();
  auto v = decode_bag(params);
  auto took = std::chrono::steady_clock::now() - start;
  const auto& children = v["Tree"]["Children"];
  ASSERT_EQ(children.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(children[0]["Value"], "1");
  EXPECT_EQ(children[kCount - 1]["Value"], std::to_string(kCount));
  // Generous even for a Debug build on a busy machine; quadratic work would take minutes.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(took).count(), 10);
}

// --- encode -----------------------------------------------------------------------------------

TEST(CodecQueryEncode, StsGetCallerIdentityWholeDocument) {
  auto xml = encode("sts", "GetCallerIdentity",
                    {{"UserId", "AIDA"}, {"Account", "123456789012"}, {"Arn", "arn:aws:iam::123456789012:user/u"}},
                    "req-1");
  EXPECT_EQ(xml,
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<GetCallerIdentityResult><UserId>AIDA</UserId><Account>123456789012</Account>"
            "<Arn>arn:aws:iam::123456789012:user/u</Arn></GetCallerIdentityResult>"
            "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>");
}

TEST(CodecQueryEncode, StsAssumeRoleInModelOrderWithTimestamps) {
  // Members given out of model order, plus one the model does not know.
  json out = {{"SourceIdentity", "src"},
              {"PackedPolicySize", 6},
              {"Unknown", "dropped"},
              {"AssumedRoleUser", {{"Arn", "arn:a"}, {"AssumedRoleId", "AROA:s"}}},
              {"Credentials",
               {{"Expiration", 1795255200},
                {"SessionToken", "tok"},
                {"SecretAccessKey", "sec"},
                {"AccessKeyId", "ASIA"}}}};
  EXPECT_EQ(result_of(encode("sts", "AssumeRole", out), "AssumeRoleResult"),
            "<Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>sec</SecretAccessKey>"
            "<SessionToken>tok</SessionToken><Expiration>2026-11-21T10:00:00Z</Expiration></Credentials>"
            "<AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>arn:a</Arn></AssumedRoleUser>"
            "<PackedPolicySize>6</PackedPolicySize><SourceIdentity>src</SourceIdentity>");
  // Milliseconds only when there is a fraction; a string is already wire text.
  auto with_ms = encode("sts", "GetSessionToken", {{"Credentials", {{"Expiration", 1795255200.123}}}});
  EXPECT_NE(with_ms.find("<Expiration>2026-11-21T10:00:00.123Z</Expiration>"), std::string::npos) << with_ms;
  auto as_text = encode("sts", "GetSessionToken", {{"Credentials", {{"Expiration", "2030-01-01T00:00:00Z"}}}});
  EXPECT_NE(as_text.find("<Expiration>2030-01-01T00:00:00Z</Expiration>"), std::string::npos) << as_text;
}

TEST(CodecQueryEncode, NoOutputShapeMeansNoResultElement) {
  EXPECT_EQ(encode("sqs-query", "DeleteMessage", json::object(), "r"),
            "<DeleteMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"
            "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteMessageResponse>");
  EXPECT_EQ(encode("sns", "SetTopicAttributes", json::object()).find("Result"), std::string::npos);
  // An output shape with nothing in it still has its (empty) Result element.
  EXPECT_NE(encode("sqs-query", "GetQueueUrl", json::object()).find("<GetQueueUrlResult></GetQueueUrlResult>"),
            std::string::npos);
}

TEST(CodecQueryEncode, SqsReceiveMessageFlattenedListsAndMaps) {
  json out = {{"Messages",
               json::array({{{"MessageId", "m1"},
                             {"ReceiptHandle", "rh"},
                             {"MD5OfBody", "md5"},
                             {"Body", "<hi & bye>"},
                             {"Attributes", {{"SenderId", "AIDA"}, {"SentTimestamp", "1700000000000"}}},
                             {"MessageAttributes",
                              {{"b", {{"DataType", "Binary"}, {"BinaryValue", bytes(std::string("\x00\x01\x02", 3))}}},
                               {"s", {{"DataType", "String"}, {"StringValue", "v"}, {"StringListValues", json::array({"x", "y"})}}}}}},
                            {{"MessageId", "m2"}}})}};
  EXPECT_EQ(result_of(encode("sqs-query", "ReceiveMessage", out), "ReceiveMessageResult"),
            "<Message><MessageId>m1</MessageId><ReceiptHandle>rh</ReceiptHandle><MD5OfBody>md5</MD5OfBody>"
            "<Body>&lt;hi &amp; bye&gt;</Body>"
            "<Attribute><Name>SenderId</Name><Value>AIDA</Value></Attribute>"
            "<Attribute><Name>SentTimestamp</Name><Value>1700000000000</Value></Attribute>"
            "<MessageAttribute><Name>b</Name><Value><BinaryValue>AAEC</BinaryValue><DataType>Binary</DataType></Value>"
            "</MessageAttribute>"
            "<MessageAttribute><Name>s</Name><Value><StringValue>v</StringValue>"
            "<StringListValue>x</StringListValue><StringListValue>y</StringListValue>"
            "<DataType>String</DataType></Value></MessageAttribute></Message>"
            "<Message><MessageId>m2</MessageId></Message>");
}

TEST(CodecQueryEncode, SqsBatchResultsAndUrlLists) {
  json batch = {{"Successful", json::array({{{"Id", "a"}, {"MessageId", "m"}, {"MD5OfMessageBody", "d"}}})},
                {"Failed", json::array({{{"Id", "b"}, {"SenderFault", true}, {"Code", "C"}, {"Message", "M"}}})}};
  EXPECT_EQ(result_of(encode("sqs-query", "SendMessageBatch", batch), "SendMessageBatchResult"),
            "<SendMessageBatchResultEntry><Id>a</Id><MessageId>m</MessageId><MD5OfMessageBody>d</MD5OfMessageBody>"
            "</SendMessageBatchResultEntry>"
            "<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>C</Code><Message>M</Message>"
            "</BatchResultErrorEntry>");
  EXPECT_EQ(result_of(encode("sqs-query", "ListQueues", {{"QueueUrls", json::array({"u1", "u2"})}, {"NextToken", "t"}}),
                      "ListQueuesResult"),
            "<QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl><NextToken>t</NextToken>");
  EXPECT_EQ(result_of(encode("sqs-query", "ListDeadLetterSourceQueues", {{"queueUrls", json::array({"u"})}}),
                      "ListDeadLetterSourceQueuesResult"),
            "<QueueUrl>u</QueueUrl>");
  // An empty flattened list has no element at all.
  EXPECT_EQ(result_of(encode("sqs-query", "ListQueues", {{"QueueUrls", json::array()}}), "ListQueuesResult"), "");
  EXPECT_EQ(result_of(encode("sqs-query", "ListQueueTags", {{"Tags", {{"k", "v"}}}}), "ListQueueTagsResult"),
            "<Tag><Key>k</Key><Value>v</Value></Tag>");
  EXPECT_EQ(result_of(encode("sqs-query", "GetQueueAttributes", {{"Attributes", {{"A", "1"}}}}), "GetQueueAttributesResult"),
            "<Attribute><Name>A</Name><Value>1</Value></Attribute>");
}

TEST(CodecQueryEncode, SnsNonFlattenedListsAndMaps) {
  EXPECT_EQ(result_of(encode("sns", "ListTopics",
                             {{"Topics", json::array({{{"TopicArn", "t1"}}, {{"TopicArn", "t2"}}})}, {"NextToken", "n"}}),
                      "ListTopicsResult"),
            "<Topics><member><TopicArn>t1</TopicArn></member><member><TopicArn>t2</TopicArn></member></Topics>"
            "<NextToken>n</NextToken>");
  EXPECT_EQ(result_of(encode("sns", "GetTopicAttributes", {{"Attributes", {{"A", "1"}, {"B", "2"}}}}),
                      "GetTopicAttributesResult"),
            "<Attributes><entry><key>A</key><value>1</value></entry><entry><key>B</key><value>2</value></entry>"
            "</Attributes>");
  // Empty non-flattened containers keep their element: the SDK reads an empty list or map.
  EXPECT_EQ(result_of(encode("sns", "ListTopics", {{"Topics", json::array()}}), "ListTopicsResult"),
            "<Topics></Topics>");
  EXPECT_EQ(result_of(encode("sns", "PublishBatch",
                             {{"Successful", json::array({{{"Id", "1"}, {"MessageId", "m"}}})},
                              {"Failed", json::array({{{"Id", "2"}, {"Code", "C"}, {"SenderFault", false}}})}}),
                      "PublishBatchResult"),
            "<Successful><member><Id>1</Id><MessageId>m</MessageId></member></Successful>"
            "<Failed><member><Id>2</Id><Code>C</Code><SenderFault>false</SenderFault></member></Failed>");
}

TEST(CodecQueryEncode, EscapingNullsAndMismatchedValues) {
  json out = {{"Messages",
               json::array({{{"MessageId", nullptr},
                             {"Body", "a\"b'c\r\n"},
                             {"ReceiptHandle", json::object()},
                             {"Attributes", "not a map"},
                             {"MessageAttributes", {{"k&", {{"DataType", "String"}, {"StringValue", nullptr}}}}}}})}};
  EXPECT_EQ(result_of(encode("sqs-query", "ReceiveMessage", out), "ReceiveMessageResult"),
            "<Message><Body>a&quot;b&apos;c&#13;\n</Body>"
            "<MessageAttribute><Name>k&amp;</Name><Value><DataType>String</DataType></Value></MessageAttribute>"
            "</Message>");
  // A non-object output renders an empty Result rather than failing.
  EXPECT_NE(encode("sqs-query", "SendMessage", json()).find("<SendMessageResult></SendMessageResult>"),
            std::string::npos);
  // The request id is escaped like any text.
  EXPECT_NE(encode("sqs-query", "DeleteQueue", json::object(), "<id>").find("<RequestId>&lt;id&gt;</RequestId>"),
            std::string::npos);
}

TEST(CodecQueryEncode, ScalarTypesAndTimestampFormats) {
  json out = {{"Str", 12},
              {"Int", 42},
              {"Long", -9007199254740993LL},
              {"Bool", false},
              {"Float", 1.5},
              {"Double", 5.0},
              {"Blob", bytes("hi")},
              {"When", 1795255200.5},
              {"WhenUnix", 1795255200},
              {"WhenRfc", 1700000000},
              {"Renamed", "r"}};
  EXPECT_EQ(result_of(encode_bag(out), "EverythingOutcome"),
            "<Str>12</Str><Int>42</Int><Long>-9007199254740993</Long><Bool>false</Bool><Float>1.5</Float>"
            "<Double>5</Double><Blob>aGk=</Blob><When>2026-11-21T10:00:00.500Z</When>"
            "<WhenUnix>1795255200</WhenUnix><WhenRfc>Tue, 14 Nov 2023 22:13:20 GMT</WhenRfc><Wire>r</Wire>");
  // Numbers handed over as text are written as they are.
  EXPECT_EQ(result_of(encode_bag({{"Int", "7"}, {"Bool", "true"}, {"When", "yesterday"}}), "EverythingOutcome"),
            "<Int>7</Int><Bool>true</Bool><When>yesterday</When>");
  EXPECT_EQ(result_of(encode_bag({{"Double", std::numeric_limits<double>::infinity()}}), "EverythingOutcome"),
            "<Double>Infinity</Double>");
  EXPECT_EQ(result_of(encode_bag({{"Double", -std::numeric_limits<double>::infinity()}}), "EverythingOutcome"),
            "<Double>-Infinity</Double>");
  EXPECT_EQ(result_of(encode_bag({{"Float", std::nan("")}}), "EverythingOutcome"), "<Float>NaN</Float>");
  EXPECT_EQ(result_of(encode_bag({{"When", -1}, {"WhenUnix", 1.25}}), "EverythingOutcome"),
            "<When>1969-12-31T23:59:59Z</When><WhenUnix>1.25</WhenUnix>");
  EXPECT_EQ(result_of(encode_bag({{"When", 1795255200.9996}}), "EverythingOutcome"),
            "<When>2026-11-21T10:00:01Z</When>");
  // Four-digit years only; instants no parser could read back are left out.
  EXPECT_EQ(result_of(encode_bag({{"When", 253402300799LL}, {"WhenRfc", -62167219200LL}}), "EverythingOutcome"),
            "<When>9999-12-31T23:59:59Z</When><WhenRfc>Sat, 01 Jan 0000 00:00:00 GMT</WhenRfc>");
  EXPECT_EQ(result_of(encode_bag({{"When", std::numeric_limits<std::int64_t>::max()},
                                  {"WhenRfc", std::numeric_limits<std::uint64_t>::max()},
                                  {"Times", json::array({1e300, std::nan(""), -62167219201LL})}}),
                      "EverythingOutcome"),
            "<Times></Times>");
}

TEST(CodecQueryEncode, ListAndMapSpellingsAndRecursion) {
  json out = {{"Items", json::array({"a", "b"})},
              {"Plain", json::array({"p"})},
              {"Flat", json::array({"f1", "f2"})},
              {"Dict", {{"x", 1}}},
              {"FlatDict", {{"k", "v"}, {"k2", "v2"}}},
              {"Times", json::array({1795255200})},
              {"Nested", json::array({json::array({"a", "b"}), json::array({"c"})})},
              {"Tree", {{"Value", "r"}, {"Child", {{"Child", {{"Value", "g"}}}}}, {"Children", json::array({{{"Value", "k"}}})}}}};
  EXPECT_EQ(result_of(encode_bag(out), "EverythingOutcome"),
            "<Items><Item>a</Item><Item>b</Item></Items>"
            "<Plain><member>p</member></Plain>"
            "<Flat>f1</Flat><Flat>f2</Flat>"
            "<Dict><entry><key>x</key><value>1</value></entry></Dict>"
            "<FlatDict><K>k</K><V>v</V></FlatDict><FlatDict><K>k2</K><V>v2</V></FlatDict>"
            "<Times><member>2026-11-21T10:00:00Z</member></Times>"
            "<Nested><member><member>a</member><member>b</member></member><member><member>c</member></member></Nested>"
            "<Tree><Value>r</Value><Child><Child><Value>g</Value></Child></Child>"
            "<Children><member><Value>k</Value></member></Children></Tree>");
}

TEST(CodecQueryEncode, ResultElementNameFallsBackToOperationName) {
  auto xml = encode_bag({{"Str", "s"}}, "NoWrapper");
  EXPECT_EQ(xml,
            "<NoWrapperResponse xmlns=\"urn:test\"><NoWrapperResult><Str>s</Str></NoWrapperResult>"
            "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></NoWrapperResponse>");
}

TEST(CodecQueryEncode, DecodeOfEncodedRequestNamesRoundTrips) {
  // The two directions share the model's names: what the test model's Bag decodes from
  // botocore's names encodes back into the spellings botocore's parser reads.
  auto v = decode_bag({{"Items.Item.1", "a"}, {"Flat.1", "f"}, {"FlatDict.1.K", "k"}, {"FlatDict.1.V", "v"},
                       {"When", "2026-11-21T10:00:00Z"}, {"Blob", "aGk="}});
  EXPECT_EQ(result_of(encode_bag(v), "EverythingOutcome"),
            "<Blob>aGk=</Blob><When>2026-11-21T10:00:00Z</When><Items><Item>a</Item></Items><Flat>f</Flat>"
            "<FlatDict><K>k</K><V>v</V></FlatDict>");
}

}  // namespace
}  // namespace fogbank::protocol::codec
