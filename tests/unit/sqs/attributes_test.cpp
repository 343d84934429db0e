// SQS attributes (the MD5 of message attributes, character checks, queue attribute validation)
// and the Query error codes the service takes from its Query model.

#include <gtest/gtest.h>

#include "attributes.hpp"
#include "errors.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/sqs/sqs_service.hpp"
#include "fogbank/storage/store.hpp"

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

/// A clock that stands still, for the service tests.
class FixedClock final : public protocol::Clock {
 public:
  std::int64_t now_ms() const override { return 1700000000000; }
};

TEST(SqsErrorsTest, QueryCodesComeFromTheQueryModel) {
  storage::Options options;
  options.in_memory = true;
  storage::Status status;
  auto store = storage::Store::open(options, status);
  ASSERT_NE(store, nullptr);
  FixedClock clock;
  auto sqs = make_sqs_service(*store, clock);
  auto code = [&](const char* c) { return sqs->query_compatible_code(protocol::AwsError(c, 400, "")); };
  EXPECT_EQ(code("QueueDoesNotExist"), "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(code("QueueNameExists"), "QueueAlreadyExists");
  EXPECT_EQ(code("TooManyEntriesInBatchRequest"), "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
  EXPECT_EQ(code("InvalidParameterValue"), "InvalidParameterValue");
  EXPECT_EQ(sqs->json_type_namespace(), "com.amazonaws.sqs");
}

}  // namespace
}  // namespace fogbank::sqs
