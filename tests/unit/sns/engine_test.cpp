// The SNS engine over an in-memory store, a controlled clock and a fake SQS sink: delivery,
// filtering, FIFO deduplication, cross-account access, and state that survives a reload.

#include <gtest/gtest.h>

#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"

#include "memory_store.hpp"

namespace fogbank::sns {
namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;
const std::string kOwner = "111111111111";
const std::string kOther = "222222222222";

class FakeSink final : public sqs::MessageSink {
 public:
  std::optional<sqs::QueueFacts> queue(std::string_view arn) override {
    auto it = queues.find(std::string(arn));
    if (it == queues.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  sqs::SendOutcome send(std::string_view arn, const sqs::ServiceMessage& message) override {
    sqs::SendOutcome out;
    if (queues.count(std::string(arn)) == 0) {
      out.error_code = "AWS.SimpleQueueService.NonExistentQueue";
      return out;
    }
    sent.emplace_back(std::string(arn), message);
    out.sent = true;
    out.message_id = "m" + std::to_string(sent.size());
    return out;
  }
  std::map<std::string, sqs::QueueFacts> queues;
  std::vector<std::pair<std::string, sqs::ServiceMessage>> sent;
};

class SnsEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = test::memory_store();
    sink_ = std::make_shared<FakeSink>();
    sink_->queues["arn:aws:sqs:us-east-1:111111111111:q"] = {};
    sink_->queues["arn:aws:sqs:us-east-1:111111111111:q.fifo"] = {true, false, ""};
    sink_->queues["arn:aws:sqs:us-east-1:111111111111:dlq"] = {};
    engine_ = make_engine();
  }

  std::unique_ptr<SnsEngine> make_engine() {
    auto e = std::make_unique<SnsEngine>(*store_, [this] { return now_; }, sink_);
    e->load();
    return e;
  }

  Caller caller(const std::string& account = kOwner) const {
    return Caller{account, "us-east-1", "arn:aws:iam::" + account + ":root", "http://localhost:4566", false, now_};
  }

  std::string topic(const std::string& name, Value attributes = Value::object()) {
    return engine_->create_topic(Value{{"Name", name}, {"Attributes", attributes}}, caller())["TopicArn"];
  }

  std::string subscribe(const std::string& topic_arn, const std::string& protocol, const std::string& endpoint,
                        Value attributes = Value::object()) {
    return engine_
        ->subscribe(Value{{"TopicArn", topic_arn},
                          {"Protocol", protocol},
                          {"Endpoint", endpoint},
                          {"Attributes", attributes},
                          {"ReturnSubscriptionArn", true}},
                    caller())["SubscriptionArn"];
  }

  static std::string error_code(const std::function<void()>& f) {
    try {
      f();
    } catch (const protocol::AwsError& e) {
      return e.code;
    }
    return "";
  }

  std::int64_t now_ = kStart;
  std::unique_ptr<storage::Store> store_;
  std::shared_ptr<FakeSink> sink_;
  std::unique_ptr<SnsEngine> engine_;
};

TEST_F(SnsEngineTest, PublishDeliversTheEnvelopeToSqs) {
  auto t = topic("orders");
  auto sub = subscribe(t, "sqs", "arn:aws:sqs:us-east-1:111111111111:q");
  auto out = engine_->publish(Value{{"TopicArn", t}, {"Message", "hi"}}, caller());
  ASSERT_EQ(sink_->sent.size(), 1u);
  const auto& [queue, message] = sink_->sent[0];
  EXPECT_EQ(queue, "arn:aws:sqs:us-east-1:111111111111:q");
  EXPECT_EQ(message.sender_id, "AIDAIT2UOQQY3AUEKVGXU");
  EXPECT_TRUE(message.attributes.empty());
  auto body = nlohmann::json::parse(message.body);
  EXPECT_EQ(body["MessageId"], out["MessageId"]);
  EXPECT_EQ(body["Message"], "hi");
  EXPECT_EQ(body["Timestamp"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(body["UnsubscribeURL"], "http://localhost:4566/?Action=Unsubscribe&SubscriptionArn=" + sub);
  EXPECT_EQ(body["SigningCertURL"], "http://localhost:4566" + engine_->signer().certificate_path());
  EXPECT_EQ(engine_->deliverers().stats("sqs").delivered, 1u);
}

TEST_F(SnsEngineTest, RawDeliveryMapsAttributesToSqs) {
  auto t = topic("raw");
  subscribe(t, "sqs", "arn:aws:sqs:us-east-1:111111111111:q", Value{{"RawMessageDelivery", "True"}});
  Value attributes = {{"list", {{"DataType", "String.Array"}, {"StringValue", R"(["a","b"])"}}},
                      {"n", {{"DataType", "Number"}, {"StringValue", "1.5"}}}};
  engine_->publish(Value{{"TopicArn", t}, {"Message", "bare"}, {"MessageAttributes", attributes}}, caller());
  ASSERT_EQ(sink_->sent.size(), 1u);
  const auto& message = sink_->sent[0].second;
  EXPECT_EQ(message.body, "bare");
  ASSERT_EQ(message.attributes.size(), 2u);
  EXPECT_EQ(message.attributes.at("list").data_type, "String");
  EXPECT_EQ(message.attributes.at("list").value, R"(["a","b"])");
  EXPECT_EQ(message.attributes.at("n").data_type, "Number");
}

TEST_F(SnsEngineTest, FilterPoliciesDecidePerSubscription) {
  auto t = topic("filtered");
  subscribe(t, "sqs", "arn:aws:sqs:us-east-1:111111111111:q", Value{{"FilterPolicy", R"({"color":["red"]})"}});
  auto red = Value{{"color", {{"DataType", "String"}, {"StringValue", "red"}}}};
  auto blue = Value{{"color", {{"DataType", "String"}, {"StringValue", "blue"}}}};
  engine_->publish(Value{{"TopicArn", t}, {"Message", "1"}, {"MessageAttributes", blue}}, caller());
  engine_->publish(Value{{"TopicArn", t}, {"Message", "2"}, {"MessageAttributes", red}}, caller());
  ASSERT_EQ(sink_->sent.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(sink_->sent[0].second.body)["Message"], "2");
}

TEST_F(SnsEngineTest, FifoTopicsSequenceAndDeduplicateForFiveMinutes) {
  auto t = topic("f.fifo", Value{{"FifoTopic", "true"}, {"ContentBasedDeduplication", "true"}});
  subscribe(t, "sqs", "arn:aws:sqs:us-east-1:111111111111:q.fifo");
  auto first = engine_->publish(Value{{"TopicArn", t}, {"Message", "a"}, {"MessageGroupId", "g"}}, caller());
  EXPECT_EQ(first["SequenceNumber"], "10000000000000003000");
  auto second = engine_->publish(Value{{"TopicArn", t}, {"Message", "b"}, {"MessageGroupId", "g"}}, caller());
  EXPECT_EQ(second["SequenceNumber"], "10000000000000004000");
  ASSERT_EQ(sink_->sent.size(), 2u);
  EXPECT_EQ(sink_->sent[0].second.group_id, "g");
  // Content-based: the SHA-256 of the message is the deduplication id.
  EXPECT_EQ(sink_->sent[0].second.dedup_id, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
  now_ += 299'000;
  auto again = engine_->publish(Value{{"TopicArn", t}, {"Message", "a"}, {"MessageGroupId", "other"}}, caller());
  EXPECT_EQ(again["MessageId"], first["MessageId"]);
  EXPECT_EQ(again["SequenceNumber"], first["SequenceNumber"]);
  EXPECT_EQ(sink_->sent.size(), 2u);
  now_ += 2'000;
  auto later = engine_->publish(Value{{"TopicArn", t}, {"Message", "a"}, {"MessageGroupId", "g"}}, caller());
  EXPECT_EQ(later["SequenceNumber"], "10000000000000005000");
  EXPECT_EQ(sink_->sent.size(), 3u);
}

TEST_F(SnsEngineTest, MissingQueueFailsTheDeliveryNotThePublish) {
  auto t = topic("lost");
  subscribe(t, "sqs", "arn:aws:sqs:us-east-1:111111111111:gone",
            Value{{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:dlq"})"}});
  auto out = engine_->publish(Value{{"TopicArn", t}, {"Message", "x"}}, caller());
  EXPECT_TRUE(out.contains("MessageId"));
  EXPECT_EQ(engine_->deliverers().stats("sqs").failed, 1u);
  ASSERT_EQ(sink_->sent.size(), 1u);
  EXPECT_EQ(sink_->sent[0].first, "arn:aws:sqs:us-east-1:111111111111:dlq");
}

TEST_F(SnsEngineTest, OtherAccountsNeedAGrant) {
  auto t = topic("private");
  auto other = caller(kOther);
  EXPECT_EQ(error_code([&] { engine_->publish(Value{{"TopicArn", t}, {"Message", "x"}}, other); }), "AuthorizationError");
  EXPECT_EQ(error_code([&] { engine_->get_topic_attributes(Value{{"TopicArn", t}}, other); }), "AuthorizationError");
  EXPECT_TRUE(engine_->list_topics(Value::object(), other)["Topics"].empty());
  engine_->add_permission(
      Value{{"TopicArn", t}, {"Label", "p"}, {"AWSAccountId", {kOther}}, {"ActionName", {"Publish"}}}, caller());
  EXPECT_TRUE(engine_->publish(Value{{"TopicArn", t}, {"Message", "x"}}, other).contains("MessageId"));
  EXPECT_EQ(error_code([&] { engine_->delete_topic(Value{{"TopicArn", t}}, other); }), "AuthorizationError");
  EXPECT_EQ(error_code([&] { engine_->tag_resource(Value{{"ResourceArn", t}, {"Tags", Value::array()}}, other); }),
            "AuthorizationError");
}

TEST_F(SnsEngineTest, PendingSubscriptionsConfirmWithTheirToken) {
  auto t = topic("web");
  auto arn = subscribe(t, "http", "http://example.com/hook");
  auto records = engine_->deliveries().list();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].type, "SubscriptionConfirmation");
  auto doc = nlohmann::json::parse(records[0].body);
  const std::string token = doc["Token"];
  EXPECT_EQ(token.size(), 288u);
  EXPECT_EQ(doc["SubscribeURL"], "http://localhost:4566/?Action=ConfirmSubscription&TopicArn=" + t + "&Token=" + token);
  engine_->publish(Value{{"TopicArn", t}, {"Message", "not yet"}}, caller());
  EXPECT_EQ(engine_->deliveries().list().size(), 1u);  // pending: nothing delivered
  Caller anonymous{"", "us-east-1", "", "http://localhost:4566", true, now_};
  EXPECT_EQ(engine_->confirm_subscription(Value{{"TopicArn", t}, {"Token", token}}, anonymous)["SubscriptionArn"], arn);
  auto attrs = engine_->get_subscription_attributes(Value{{"SubscriptionArn", arn}}, caller())["Attributes"];
  EXPECT_EQ(attrs["PendingConfirmation"], "false");
  EXPECT_EQ(attrs["ConfirmationWasAuthenticated"], "false");
  engine_->publish(Value{{"TopicArn", t}, {"Message", "now"}}, caller());
  ASSERT_EQ(engine_->deliveries().list().size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(engine_->deliveries().list()[1].body)["Message"], "now");
}

TEST_F(SnsEngineTest, StateSurvivesAReload) {
  auto t = topic("kept.fifo", Value{{"FifoTopic", "true"}, {"DisplayName", "Kept"}});
  engine_->tag_resource(Value{{"ResourceArn", t}, {"Tags", {{{"Key", "k"}, {"Value", "v"}}}}}, caller());
  auto sub = subscribe(t, "sqs", "arn:aws:sqs:us-east-1:111111111111:q.fifo",
                       Value{{"FilterPolicy", R"({"a":["b"]})"}, {"RawMessageDelivery", "true"}});
  engine_->publish(Value{{"TopicArn", t}, {"Message", "1"}, {"MessageGroupId", "g"}, {"MessageDeduplicationId", "d"},
                         {"MessageAttributes", {{"a", {{"DataType", "String"}, {"StringValue", "b"}}}}}},
                   caller());
  engine_->set_sms_attributes(Value{{"attributes", {{"DefaultSMSType", "Transactional"}}}}, caller());
  engine_->opt_out(kOwner, "+15551234567");
  const auto cert = engine_->signer().certificate_id();

  engine_ = make_engine();
  EXPECT_EQ(engine_->signer().certificate_id(), cert);
  auto attrs = engine_->get_topic_attributes(Value{{"TopicArn", t}}, caller())["Attributes"];
  EXPECT_EQ(attrs["DisplayName"], "Kept");
  EXPECT_EQ(attrs["SubscriptionsConfirmed"], "1");
  EXPECT_EQ(engine_->list_tags_for_resource(Value{{"ResourceArn", t}}, caller())["Tags"][0]["Key"], "k");
  auto sattrs = engine_->get_subscription_attributes(Value{{"SubscriptionArn", sub}}, caller())["Attributes"];
  EXPECT_EQ(sattrs["FilterPolicy"], R"({"a":["b"]})");
  EXPECT_EQ(sattrs["RawMessageDelivery"], "true");
  // The dedup window and the sequence survive: "d" is still a duplicate, the next number follows.
  auto dup = engine_->publish(Value{{"TopicArn", t}, {"Message", "x"}, {"MessageGroupId", "g"},
                                    {"MessageDeduplicationId", "d"}},
                              caller());
  EXPECT_EQ(dup["SequenceNumber"], "10000000000000003000");
  auto next = engine_->publish(Value{{"TopicArn", t}, {"Message", "2"}, {"MessageGroupId", "g"},
                                     {"MessageDeduplicationId", "e"},
                                     {"MessageAttributes", {{"a", {{"DataType", "String"}, {"StringValue", "c"}}}}}},
                               caller());
  EXPECT_EQ(next["SequenceNumber"], "10000000000000004000");
  EXPECT_EQ(sink_->sent.size(), 1u);  // the filter policy was reloaded too: "c" is filtered out
  EXPECT_EQ(engine_->get_sms_attributes(Value::object(), caller())["attributes"]["DefaultSMSType"], "Transactional");
  EXPECT_TRUE(engine_->check_if_phone_number_is_opted_out(Value{{"phoneNumber", "+15551234567"}}, caller())["isOptedOut"]);
  auto listed = engine_->list_phone_numbers_opted_out(Value::object(), caller());
  EXPECT_EQ(listed["phoneNumbers"], Value::array({"+15551234567"}));
  engine_->opt_in_phone_number(Value{{"phoneNumber", "+15551234567"}}, caller());
  engine_ = make_engine();
  EXPECT_FALSE(engine_->check_if_phone_number_is_opted_out(Value{{"phoneNumber", "+15551234567"}}, caller())["isOptedOut"]);
}

TEST_F(SnsEngineTest, ResetForgetsEverythingButTheKey) {
  auto t = topic("gone");
  const auto cert = engine_->signer().certificate_id();
  ASSERT_TRUE(store_->wipe_all());
  engine_->reset();
  EXPECT_TRUE(engine_->list_topics(Value::object(), caller())["Topics"].empty());
  EXPECT_EQ(error_code([&] { engine_->get_topic_attributes(Value{{"TopicArn", t}}, caller()); }), "NotFound");
  engine_ = make_engine();
  EXPECT_EQ(engine_->signer().certificate_id(), cert);
}

TEST_F(SnsEngineTest, SandboxNumbersVerifyWithTheRecordedCodeAndSurviveAReload) {
  const Value phone = {{"PhoneNumber", "+15555550123"}};
  engine_->create_sms_sandbox_phone_number(phone, caller());
  auto sent = engine_->deliveries().list(DeliveryFilter{});
  ASSERT_EQ(sent.size(), 1u);
  const std::string code = sent[0].attributes.at("OneTimePassword");
  EXPECT_EQ(sent[0].type, "SandboxVerification");
  EXPECT_NE(sent[0].body.find(code), std::string::npos);

  auto verify = [&](const std::string& otp) {
    Value in = phone;
    in["OneTimePassword"] = otp;
    engine_->verify_sms_sandbox_phone_number(in, caller());
  };
  EXPECT_EQ(error_code([&] { verify(code == "99999" ? "88888" : "99999"); }), "VerificationException");
  auto listed = engine_->list_sms_sandbox_phone_numbers(Value::object(), caller())["PhoneNumbers"];
  EXPECT_EQ(listed, (Value::array({Value{{"PhoneNumber", "+15555550123"}, {"Status", "Pending"}}})));
  verify(code);

  engine_ = make_engine();
  listed = engine_->list_sms_sandbox_phone_numbers(Value::object(), caller())["PhoneNumbers"];
  EXPECT_EQ(listed, (Value::array({Value{{"PhoneNumber", "+15555550123"}, {"Status", "Verified"}}})));
  EXPECT_TRUE(engine_->list_sms_sandbox_phone_numbers(Value::object(), caller(kOther))["PhoneNumbers"].empty());
  EXPECT_EQ(error_code([&] { engine_->delete_sms_sandbox_phone_number(phone, caller(kOther)); }), "ResourceNotFound");
  engine_->delete_sms_sandbox_phone_number(phone, caller());
  EXPECT_EQ(error_code([&] { engine_->delete_sms_sandbox_phone_number(phone, caller()); }), "ResourceNotFound");
}

}  // namespace
}  // namespace fogbank::sns
