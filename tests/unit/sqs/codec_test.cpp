// SQS codecs: the MD5 of message attributes, character checks, and the Query ↔ JSON translation.

#include <gtest/gtest.h>

#include "attributes.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "errors.hpp"
#include "query_codec.hpp"

namespace fogbank::sqs {
namespace {

TEST(SqsAttributesTest, Md5OfMessageAttributesMatchesAws) {
  // Reference value from boto3 against AWS for {"a": String "x"} (also what moto/ElasticMQ give).
  MessageAttributes attrs = {{"a", {"String", "x", ""}}};
  std::string buf;
  auto put = [&](std::string_view s) {
    auto n = static_cast<std::uint32_t>(s.size());
    buf += {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
    buf += s;
  };
  put("a");
  put("String");
  buf += '\x01';
  put("x");
  EXPECT_EQ(md5_of_attributes(attrs), protocol::hex(protocol::md5(buf)));
  EXPECT_EQ(md5_of_attributes({}), "");
  // Binary values use transport type 2 and their raw bytes.
  MessageAttributes binary = {{"b", {"Binary", "", std::string("\x00\x01", 2)}}};
  EXPECT_NE(md5_of_attributes(binary), md5_of_attributes({{"b", {"String", std::string("\x00\x01", 2), ""}}}));
}

TEST(SqsAttributesTest, MessageCharacters) {
  EXPECT_NO_THROW(check_message_characters("plain \t\r\n text é ✓ 😀", "message body"));
  for (std::string bad : {std::string("\x00", 1), std::string("\x01"), std::string("\xff"),
                          std::string("\xed\xa0\x80") /* surrogate */, std::string("\xef\xbf\xbe") /* U+FFFE */}) {
    try {
      check_message_characters("ok" + bad, "message body");
      FAIL() << "accepted " << protocol::hex(bad);
    } catch (const protocol::AwsError& e) {
      EXPECT_EQ(e.code, "InvalidMessageContents");
    }
  }
}

TEST(SqsAttributesTest, QueueAttributeValidation) {
  EXPECT_EQ(validate_queue_attributes({{"VisibilityTimeout", "0"}}, false, true).at("VisibilityTimeout"), "0");
  EXPECT_THROW(validate_queue_attributes({{"VisibilityTimeout", "-1"}}, false, true), protocol::AwsError);
  EXPECT_THROW(validate_queue_attributes({{"FifoQueue", "true"}}, false, false), protocol::AwsError);
  EXPECT_THROW(validate_queue_attributes({{"DeduplicationScope", "queue"}}, false, true), protocol::AwsError);
  auto redrive = validate_queue_attributes(
      {{"RedrivePolicy", R"({"maxReceiveCount":"3","deadLetterTargetArn":"arn:aws:sqs:r:1:d"})"}}, false, true);
  EXPECT_EQ(redrive.at("RedrivePolicy"), R"({"deadLetterTargetArn":"arn:aws:sqs:r:1:d","maxReceiveCount":3})");
  EXPECT_THROW(validate_queue_attributes({{"RedrivePolicy", "not json"}}, false, true), protocol::AwsError);
}

TEST(SqsErrorsTest, QueryCodes) {
  EXPECT_EQ(query_code("QueueDoesNotExist"), "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(query_code("QueueNameExists"), "QueueAlreadyExists");
  EXPECT_EQ(query_code("InvalidParameterValue"), "InvalidParameterValue");
}

TEST(SqsQueryCodecTest, FormToJsonShapes) {
  protocol::QueryParams params = {
      {"Action", "SendMessageBatch"},
      {"QueueUrl", "http://h/1/q"},
      {"SendMessageBatchRequestEntry.2.Id", "b"},
      {"SendMessageBatchRequestEntry.2.MessageBody", "two"},
      {"SendMessageBatchRequestEntry.1.Id", "a"},
      {"SendMessageBatchRequestEntry.1.MessageBody", "one"},
      {"SendMessageBatchRequestEntry.1.DelaySeconds", "5"},
      {"SendMessageBatchRequestEntry.1.MessageAttribute.1.Name", "k"},
      {"SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType", "String"},
      {"SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue", "v"},
  };
  auto j = query_to_json("SendMessageBatch", params);
  ASSERT_EQ(j["Entries"].size(), 2u);
  EXPECT_EQ(j["Entries"][0]["Id"], "a");
  EXPECT_EQ(j["Entries"][0]["DelaySeconds"], 5);
  EXPECT_EQ(j["Entries"][0]["MessageAttributes"]["k"]["StringValue"], "v");
  EXPECT_EQ(j["Entries"][1]["MessageBody"], "two");
  EXPECT_FALSE(j.contains("Action"));

  auto create = query_to_json("CreateQueue", {{"QueueName", "q"}, {"Attribute.1.Name", "DelaySeconds"},
                                              {"Attribute.1.Value", "3"}, {"Tag.1.Key", "k"}, {"Tag.1.Value", "v"}});
  EXPECT_EQ(create["Attributes"]["DelaySeconds"], "3");
  EXPECT_EQ(create["tags"]["k"], "v");
  auto receive = query_to_json("ReceiveMessage", {{"AttributeName.1", "All"}, {"MessageAttributeName.1", "a.*"}});
  EXPECT_EQ(receive["AttributeNames"], nlohmann::json::array({"All"}));
  EXPECT_EQ(receive["MessageAttributeNames"], nlohmann::json::array({"a.*"}));
  EXPECT_THROW(query_to_json("ReceiveMessage", {{"MaxNumberOfMessages", "ten"}}), protocol::AwsError);
}

TEST(SqsQueryCodecTest, JsonToXmlShapes) {
  nlohmann::json result = {
      {"Successful", {{{"Id", "a"}, {"MessageId", "m"}}}},
      {"Failed", {{{"Id", "b"}, {"SenderFault", true}, {"Code", "C"}, {"Message", "M"}}}},
  };
  auto xml = json_to_query_xml("SendMessageBatch", result, "ns", "rid");
  EXPECT_NE(xml.find("<SendMessageBatchResult><BatchResultErrorEntry><Code>C</Code>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<SenderFault>true</SenderFault>"), std::string::npos);
  EXPECT_NE(xml.find("<SendMessageBatchResultEntry><Id>a</Id><MessageId>m</MessageId></SendMessageBatchResultEntry>"),
            std::string::npos);
  auto attrs = json_to_query_xml("GetQueueAttributes", {{"Attributes", {{"A", "1"}}}}, "ns", "rid");
  EXPECT_NE(attrs.find("<Attribute><Name>A</Name><Value>1</Value></Attribute>"), std::string::npos) << attrs;
  auto none = json_to_query_xml("DeleteMessage", nlohmann::json::object(), "ns", "rid");
  EXPECT_EQ(none.find("DeleteMessageResult"), std::string::npos);
}

}  // namespace
}  // namespace fogbank::sqs
