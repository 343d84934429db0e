// make_sns: the service and the TopicPublisher other services (S3 event notifications) publish
// through; a service publish is delivered like a client's.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/http.hpp"
#include "fogbank/protocol/platform.hpp"
#include "fogbank/sns/sns_service.hpp"
#include "fogbank/storage/store.hpp"

#include "memory_store.hpp"

namespace fogbank::sns {
namespace {

class RecordingSink final : public sqs::MessageSink {
 public:
  std::optional<sqs::QueueFacts> queue(std::string_view arn) override {
    if (arn.ends_with(":q")) {
      return sqs::QueueFacts{};
    }
    return std::nullopt;
  }
  sqs::SendOutcome send(std::string_view arn, const sqs::ServiceMessage& message) override {
    sent.push_back(message);
    sqs::SendOutcome out;
    out.sent = true;
    return out;
  }
  std::vector<sqs::ServiceMessage> sent;
};

/// Calls a Query action of `service` as account 000000000000 would (signed: not anonymous).
protocol::Response call(protocol::Service& service, const protocol::Clock& clock, const std::string& form) {
  protocol::RequestHead head;
  head.method = "POST";
  head.target = "/";
  head.split_target();
  head.headers.add("Host", "localhost:4566");
  head.headers.add("Content-Type", "application/x-www-form-urlencoded");
  head.headers.add("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sns/aws4_request");
  protocol::RequestContext ctx(head);
  ctx.request_id = "r";
  ctx.account_id = "000000000000";
  ctx.region = "us-east-1";
  ctx.clock = &clock;
  ctx.now_ms = clock.now_ms();
  ctx.now = ctx.now_ms / 1000;
  ctx.protocol = service.protocol_for(head);
  return service.handle(ctx, form + "&Version=2010-03-31");
}

TEST(SnsTopicPublisher, ServicePublishesAreDeliveredLikeClientOnes) {
  auto store = test::memory_store();
  protocol::VirtualClock clock(1'700'000'000'000);
  protocol::Scheduler scheduler(clock, 1);
  auto sink = std::make_shared<RecordingSink>();
  protocol::Platform platform{*store, clock, scheduler, nullptr, nullptr};
  Sns sns = make_sns(platform, sink);
  ASSERT_TRUE(sns.service);
  ASSERT_TRUE(sns.publisher);

  const std::string topic = "arn:aws:sns:us-east-1:000000000000:events";
  EXPECT_FALSE(sns.publisher->topic(topic));
  ASSERT_EQ(call(*sns.service, clock, "Action=CreateTopic&Name=events").status, 200);
  ASSERT_EQ(call(*sns.service, clock, "Action=Subscribe&TopicArn=" + topic +
                                   "&Protocol=sqs&Endpoint=arn:aws:sqs:us-east-1:000000000000:q")
                .status,
            200);
  auto facts = sns.publisher->topic(topic);
  ASSERT_TRUE(facts);
  EXPECT_FALSE(facts->fifo);
  EXPECT_EQ(facts->owner, "000000000000");
  EXPECT_NE(facts->policy.find("__default_policy_ID"), std::string::npos);

  ServicePublish p;
  p.topic_arn = topic;
  p.subject = "Amazon S3 Notification";
  p.message = R"({"Records":[]})";
  p.string_attributes = {{"origin", "s3"}};
  p.source_service = "s3.amazonaws.com";
  auto outcome = sns.publisher->publish(p);
  ASSERT_TRUE(outcome.published) << outcome.error_code << " " << outcome.error_message;
  ASSERT_EQ(sink->sent.size(), 1u);
  auto envelope = nlohmann::json::parse(sink->sent[0].body);
  EXPECT_EQ(envelope["MessageId"], outcome.message_id);
  EXPECT_EQ(envelope["Subject"], "Amazon S3 Notification");
  EXPECT_EQ(envelope["Message"], p.message);
  EXPECT_EQ(envelope["MessageAttributes"]["origin"]["Value"], "s3");
  EXPECT_EQ(envelope["SigningCertURL"].get<std::string>().rfind("http://localhost:4566/", 0), 0u);

  p.topic_arn = topic + "-gone";
  outcome = sns.publisher->publish(p);
  EXPECT_FALSE(outcome.published);
  EXPECT_EQ(outcome.error_code, "NotFound");
  p.topic_arn = topic;
  p.message.clear();
  outcome = sns.publisher->publish(p);
  EXPECT_EQ(outcome.error_code, "InvalidParameter");
}

}  // namespace
}  // namespace fogbank::sns
