// HTTP/HTTPS delivery: the retry schedule of each backoff function and phase, DeliveryPolicy
// checks, and the outbox driven by a hand-moved clock and a fake HTTP client (headers, retries at
// the policy's times, dead-letter queues, throttling, durability across a reload, bounds).

#include <gtest/gtest.h>

#include <deque>

#include "delivery_policy.hpp"
#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "outbox.hpp"

#include "memory_store.hpp"

namespace fogbank::sns {
namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;
const std::string kOwner = "111111111111";
const std::string kHook = "http://127.0.0.1:9999/hook";
const std::string kDlq = "arn:aws:sqs:us-east-1:111111111111:dlq";

std::vector<std::int64_t> schedule(const RetryPolicy& p) {
  std::vector<std::int64_t> out;
  for (int n = 1; n <= p.num_retries; ++n) {
    out.push_back(p.delay_seconds(n));
  }
  return out;
}

RetryPolicy backoff_policy(Backoff f) {
  RetryPolicy p;
  p.min_delay = 5;
  p.max_delay = 260;
  p.num_retries = 10;
  p.backoff = f;
  return p;
}

TEST(SnsRetrySchedule, AwsDefaultsAreThreeRetriesTwentySecondsApart) {
  EXPECT_EQ(schedule(RetryPolicy{}), (std::vector<std::int64_t>{20, 20, 20}));
}

TEST(SnsRetrySchedule, LinearGoesFromMinimumToMaximum) {
  RetryPolicy p;
  p.max_delay = 40;  // AWS's documented example: 20, 30, 40
  EXPECT_EQ(schedule(p), (std::vector<std::int64_t>{20, 30, 40}));
  EXPECT_EQ(schedule(backoff_policy(Backoff::kLinear)),
            (std::vector<std::int64_t>{5, 33, 62, 90, 118, 147, 175, 203, 232, 260}));
}

TEST(SnsRetrySchedule, EachBackoffFunctionStartsAtTheMinimumAndEndsAtTheMaximum) {
  EXPECT_EQ(schedule(backoff_policy(Backoff::kArithmetic)),
            (std::vector<std::int64_t>{5, 8, 18, 33, 55, 84, 118, 159, 206, 260}));
  EXPECT_EQ(schedule(backoff_policy(Backoff::kGeometric)),
            (std::vector<std::int64_t>{5, 8, 12, 19, 29, 45, 70, 108, 168, 260}));
  EXPECT_EQ(schedule(backoff_policy(Backoff::kExponential)),
            (std::vector<std::int64_t>{5, 5, 6, 8, 12, 20, 36, 68, 132, 260}));
}

TEST(SnsRetrySchedule, PhasesComeInOrder) {
  // AWS's documented sample: 3 immediate, 2 at the minimum, 10 backing off, 35 at the maximum.
  RetryPolicy p;
  p.min_delay = 1;
  p.max_delay = 60;
  p.num_retries = 50;
  p.no_delay_retries = 3;
  p.min_delay_retries = 2;
  p.max_delay_retries = 35;
  p.backoff = Backoff::kExponential;
  auto s = schedule(p);
  ASSERT_EQ(s.size(), 50u);
  EXPECT_EQ(std::vector<std::int64_t>(s.begin(), s.begin() + 5), (std::vector<std::int64_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(s[5], 1);    // first backoff retry: the minimum
  EXPECT_EQ(s[14], 60);  // last backoff retry: the maximum
  for (std::size_t i = 6; i < 15; ++i) {
    EXPECT_GE(s[i], s[i - 1]);
  }
  for (std::size_t i = 15; i < 50; ++i) {
    EXPECT_EQ(s[i], 60);
  }
}

TEST(SnsDeliveryPolicy, ChecksWithAwsMessages) {
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const protocol::AwsError& e) {
      return e.code + " " + e.message;
    }
    return std::string("ok");
  };
  const std::string create = "Invalid parameter: Attributes Reason: ";
  EXPECT_EQ(message([&] {
              check_topic_delivery_policy(
                  R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":10,"maxDelayTarget":20,"numRetries":300}}})",
                  create);
            }),
            "InvalidParameter " + create +
                "DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100");
  EXPECT_EQ(message([&] {
              check_subscription_delivery_policy(
                  R"({"healthyRetryPolicy":{"numRetries":0,"minDelayTarget":0,"maxDelayTarget":0}})", create);
            }),
            "InvalidParameter " + create + "DeliveryPolicy: healthyRetryPolicy.minDelayTarget must be greater than or equal to 1");
  EXPECT_EQ(message([&] { check_subscription_delivery_policy(R"({"healthyRetryPolicy":{"numRetries":5}})", "P: "); }),
            "InvalidParameter P: DeliveryPolicy: healthyRetryPolicy.minDelayTarget must be specified");
  EXPECT_EQ(message([&] {
              check_subscription_delivery_policy(
                  R"({"healthyRetryPolicy":{"minDelayTarget":30,"maxDelayTarget":20,"numRetries":1}})", "P: ");
            }),
            "InvalidParameter P: DeliveryPolicy: healthyRetryPolicy.maxDelayTarget must be greater than or equal to "
            "minDelayTarget");
  EXPECT_EQ(message([&] {
              check_subscription_delivery_policy(
                  R"({"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":2,"numNoDelayRetries":3}})",
                  "P: ");
            }),
            "InvalidParameter P: DeliveryPolicy: healthyRetryPolicy.numRetries must be greater than or equal to total "
            "of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries");
  EXPECT_EQ(message([&] { check_subscription_delivery_policy(R"({"throttlePolicy":{"maxReceivesPerSecond":0}})", "P: "); }),
            "InvalidParameter P: DeliveryPolicy: throttlePolicy.maxReceivesPerSecond must be greater than or equal to 1");
  EXPECT_EQ(message([&] { check_subscription_delivery_policy("[1]", "P: "); }), "InvalidParameter P: DeliveryPolicy");
  EXPECT_EQ(message([&] {
              check_subscription_delivery_policy(
                  R"({"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":2,"backoffFunction":"exponential"},)"
                  R"("requestPolicy":{"headerContentType":"application/json"}})",
                  "P: ");
            }),
            "ok");
}

TEST(SnsDeliveryPolicy, SubscriptionOverridesTheTopicUnlessDisabled) {
  const std::string topic = R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":9,"numRetries":4}}})";
  const std::string sub =
      R"({"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":7},"throttlePolicy":{"maxReceivesPerSecond":3},)"
      R"("requestPolicy":{"headerContentType":"application/json"}})";
  auto p = http_delivery_policy(topic, "");
  EXPECT_EQ((std::tuple(p.retry.min_delay, p.retry.max_delay, p.retry.num_retries)), std::tuple(5, 9, 4));
  EXPECT_EQ(p.content_type, "text/plain; charset=UTF-8");
  p = http_delivery_policy(topic, sub);
  EXPECT_EQ((std::tuple(p.retry.min_delay, p.retry.max_delay, p.retry.num_retries)), std::tuple(1, 2, 7));
  EXPECT_EQ(p.max_receives_per_second, 3);
  EXPECT_EQ(p.content_type, "application/json");
  const std::string locked =
      R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":9,"numRetries":4},"disableSubscriptionOverrides":true}})";
  p = http_delivery_policy(locked, sub);
  EXPECT_EQ(p.retry.num_retries, 4);
  EXPECT_EQ(p.max_receives_per_second, 0);
}

/// Timers and pool work run only when the test says so, on the test's thread.
class FakeExecutor final : public DeliveryExecutor {
 public:
  [[nodiscard]] std::int64_t now_ms() const override { return now; }
  TimerId at(std::int64_t due_ms, std::function<void()> fn) override {
    timers.emplace(++next, std::pair(due_ms, std::move(fn)));
    return next;
  }
  void cancel(TimerId id) override { timers.erase(id); }
  void post(std::function<void()> fn) override { work.push_back(std::move(fn)); }

  /// Runs posted work and due timers (earliest first) until none is left.
  void run() {
    while (true) {
      if (!work.empty()) {
        auto fn = std::move(work.front());
        work.pop_front();
        fn();
        continue;
      }
      auto due = timers.end();
      for (auto it = timers.begin(); it != timers.end(); ++it) {
        if (it->second.first <= now && (due == timers.end() || it->second.first < due->second.first)) {
          due = it;
        }
      }
      if (due == timers.end()) {
        return;
      }
      auto fn = std::move(due->second.second);
      timers.erase(due);
      fn();
    }
  }
  void advance_ms(std::int64_t ms) {
    now += ms;
    run();
  }

  std::int64_t now = kStart;
  TimerId next = 0;
  std::map<TimerId, std::pair<std::int64_t, std::function<void()>>> timers;
  std::deque<std::function<void()>> work;
};

/// Answers every request with `status` (0: no answer), and keeps them.
class FakeHttp final : public protocol::HttpClient {
 public:
  void send(protocol::OutboundRequest request, std::function<void(protocol::OutboundResponse)> done) override {
    requests.push_back(request);
    protocol::OutboundResponse r;
    r.status = status;
    if (status == 0) {
      r.error = "connection refused";
    }
    done(r);
  }
  [[nodiscard]] std::string header(std::size_t i, const std::string& name) const {
    for (const auto& [k, v] : requests.at(i).headers) {
      if (k == name) {
        return v;
      }
    }
    return "<none>";
  }
  int status = 200;
  std::vector<protocol::OutboundRequest> requests;
};

class FakeSink final : public sqs::MessageSink {
 public:
  std::optional<sqs::QueueFacts> queue(std::string_view arn) override {
    if (arn != kDlq) {
      return std::nullopt;
    }
    return sqs::QueueFacts{};
  }
  sqs::SendOutcome send(std::string_view arn, const sqs::ServiceMessage& message) override {
    sent.emplace_back(std::string(arn), message);
    sqs::SendOutcome out;
    out.sent = true;
    return out;
  }
  std::vector<std::pair<std::string, sqs::ServiceMessage>> sent;
};

class SnsHttpDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = test::memory_store();
    executor_ = std::make_shared<FakeExecutor>();
    http_ = std::make_shared<FakeHttp>();
    sink_ = std::make_shared<FakeSink>();
    engine_ = make_engine();
  }

  std::unique_ptr<SnsEngine> make_engine(OutboxLimits limits = {}) {
    engine_.reset();
    auto e = std::make_unique<SnsEngine>(*store_, [this] { return executor_->now; }, sink_,
                                         Transport{executor_, http_, limits});
    e->load();
    return e;
  }

  Caller caller() const {
    return Caller{kOwner, "us-east-1", "arn:aws:iam::" + kOwner + ":root", "http://localhost:4566", false,
                  executor_->now};
  }

  std::string topic(const std::string& name = "web") {
    return engine_->create_topic(Value{{"Name", name}}, caller())["TopicArn"];
  }

  /// An HTTP subscription, confirmed through the token its SubscriptionConfirmation carried.
  std::string confirmed(const std::string& topic_arn, Value attributes = Value::object()) {
    const auto before = http_->requests.size();
    auto arn = engine_->subscribe(Value{{"TopicArn", topic_arn},
                                        {"Protocol", "http"},
                                        {"Endpoint", kHook},
                                        {"Attributes", attributes},
                                        {"ReturnSubscriptionArn", true}},
                                  caller())["SubscriptionArn"]
                   .get<std::string>();
    executor_->run();
    EXPECT_EQ(http_->requests.size(), before + 1);
    auto doc = nlohmann::json::parse(http_->requests.back().body);
    engine_->confirm_subscription(Value{{"TopicArn", topic_arn}, {"Token", doc["Token"]}}, caller());
    return arn;
  }

  void publish(const std::string& topic_arn, const std::string& message) {
    engine_->publish(Value{{"TopicArn", topic_arn}, {"Message", message}}, caller());
    executor_->run();
  }

  std::vector<DeliveryRecord> records(const std::string& status) {
    std::vector<DeliveryRecord> out;
    for (auto& r : engine_->deliveries().list()) {
      if (r.status == status) {
        out.push_back(r);
      }
    }
    return out;
  }

  std::unique_ptr<storage::Store> store_;
  std::shared_ptr<FakeExecutor> executor_;
  std::shared_ptr<FakeHttp> http_;
  std::shared_ptr<FakeSink> sink_;
  std::unique_ptr<SnsEngine> engine_;
};

TEST_F(SnsHttpDeliveryTest, ConfirmationAndNotificationCarryAwsHeaders) {
  auto t = topic();
  auto sub = confirmed(t);
  const auto& confirmation = http_->requests[0];
  EXPECT_EQ(confirmation.method, "POST");
  EXPECT_EQ(confirmation.url, kHook);
  EXPECT_EQ(http_->header(0, "x-amz-sns-message-type"), "SubscriptionConfirmation");
  EXPECT_EQ(http_->header(0, "x-amz-sns-topic-arn"), t);
  EXPECT_EQ(http_->header(0, "x-amz-sns-subscription-arn"), "<none>");
  EXPECT_EQ(http_->header(0, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(http_->header(0, "User-Agent"), "Amazon Simple Notification Service Agent");
  EXPECT_EQ(confirmation.timeout, std::chrono::milliseconds(15000));

  publish(t, "hello");
  ASSERT_EQ(http_->requests.size(), 2u);
  auto body = nlohmann::json::parse(http_->requests[1].body);
  EXPECT_EQ(body["Type"], "Notification");
  EXPECT_EQ(body["Message"], "hello");
  EXPECT_EQ(http_->header(1, "x-amz-sns-message-type"), "Notification");
  EXPECT_EQ(http_->header(1, "x-amz-sns-message-id"), body["MessageId"]);
  EXPECT_EQ(http_->header(1, "x-amz-sns-subscription-arn"), sub);
  EXPECT_EQ(http_->header(1, "x-amz-sns-rawdelivery"), "<none>");
  EXPECT_EQ(records("delivered").size(), 2u);
  EXPECT_EQ(engine_->outbox()->size(), 0u);
}

TEST_F(SnsHttpDeliveryTest, RawDeliverySendsTheBareMessage) {
  auto t = topic();
  confirmed(t, Value{{"RawMessageDelivery", "true"},
                     {"DeliveryPolicy", R"({"requestPolicy":{"headerContentType":"application/json"}})"}});
  publish(t, R"({"a":1})");
  EXPECT_EQ(http_->requests.back().body, R"({"a":1})");
  EXPECT_EQ(http_->header(1, "x-amz-sns-rawdelivery"), "true");
  EXPECT_EQ(http_->header(1, "Content-Type"), "application/json");
}

TEST_F(SnsHttpDeliveryTest, FailedAttemptsAreRetriedAtThePolicysTimes) {
  auto t = topic();
  confirmed(t, Value{{"DeliveryPolicy",
                      R"({"healthyRetryPolicy":{"minDelayTarget":10,"maxDelayTarget":30,"numRetries":3}})"}});
  http_->status = 500;
  publish(t, "flaky");
  ASSERT_EQ(http_->requests.size(), 2u);
  auto retrying = records("retrying");
  ASSERT_EQ(retrying.size(), 1u);
  EXPECT_EQ(retrying[0].attempt, 1);
  EXPECT_EQ(retrying[0].http_status, 500);
  EXPECT_EQ(retrying[0].next_attempt_ms, kStart + 10000);
  for (std::int64_t delay : {10000, 20000}) {  // linear from 10 to 30: 10, 20, (30)
    executor_->advance_ms(delay - 1);
    EXPECT_EQ(http_->requests.size(), retrying.size() + 1);
    executor_->advance_ms(1);
    retrying = records("retrying");
    EXPECT_EQ(http_->requests.size(), retrying.size() + 1);
  }
  ASSERT_EQ(retrying.size(), 3u);
  http_->status = 204;
  executor_->advance_ms(30000);
  ASSERT_EQ(http_->requests.size(), 5u);
  auto delivered = records("delivered");
  ASSERT_EQ(delivered.size(), 2u);  // the confirmation, then the fourth attempt
  EXPECT_EQ(delivered[1].attempt, 4);
  // Every attempt carried the same message id.
  EXPECT_EQ(http_->header(1, "x-amz-sns-message-id"), http_->header(4, "x-amz-sns-message-id"));
}

TEST_F(SnsHttpDeliveryTest, ExhaustedRetriesGoToTheDeadLetterQueue) {
  auto t = topic();
  confirmed(t, Value{{"RedrivePolicy", R"({"deadLetterTargetArn":")" + kDlq + R"("})"}});
  http_->status = 0;
  publish(t, "lost");
  for (int i = 0; i < 3; ++i) {
    executor_->advance_ms(20000);
  }
  EXPECT_EQ(http_->requests.size(), 5u);  // confirmation + 1 attempt + 3 retries
  ASSERT_EQ(sink_->sent.size(), 1u);
  const auto& [queue, message] = sink_->sent[0];
  EXPECT_EQ(queue, kDlq);
  EXPECT_EQ(nlohmann::json::parse(message.body)["Message"], "lost");
  EXPECT_EQ(message.attributes.at("ErrorCode").value, "EndpointUnreachable");
  EXPECT_EQ(message.attributes.at("ErrorCode").data_type, "String");
  EXPECT_NE(message.attributes.at("ErrorMessage").value.find("connection refused"), std::string::npos);
  EXPECT_EQ(message.attributes.at("RequestID").value.size(), 36u);
  auto dead = records("dead-lettered");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempt, 4);
  EXPECT_EQ(dead[0].dead_letter_queue, kDlq);
  EXPECT_EQ(engine_->outbox()->size(), 0u);
}

TEST_F(SnsHttpDeliveryTest, ClientErrorsAreNotRetried) {
  auto t = topic();
  confirmed(t);
  http_->status = 404;
  publish(t, "nobody home");
  executor_->advance_ms(3600000);
  EXPECT_EQ(http_->requests.size(), 2u);
  auto failed = records("failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].http_status, 404);
}

TEST_F(SnsHttpDeliveryTest, PendingDeliveriesSurviveARestart) {
  auto t = topic();
  auto sub = confirmed(t);
  http_->status = 503;
  publish(t, "durable");
  EXPECT_EQ(http_->requests.size(), 2u);
  // The process dies with the retry pending: the new engine finds it in the store.
  executor_->timers.clear();
  executor_ = std::make_shared<FakeExecutor>();
  executor_->now = kStart + 5000;
  http_->status = 200;
  engine_ = make_engine();
  ASSERT_EQ(engine_->outbox()->size(), 1u);
  auto pending = engine_->outbox()->pending(sub);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].attempts, 1);
  executor_->run();
  EXPECT_EQ(http_->requests.size(), 2u);  // not before its time
  executor_->advance_ms(15000);
  ASSERT_EQ(http_->requests.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(http_->requests[2].body)["Message"], "durable");
  EXPECT_EQ(engine_->outbox()->size(), 0u);
  engine_ = make_engine();
  EXPECT_EQ(engine_->outbox()->size(), 0u);  // delivered means removed
}

TEST_F(SnsHttpDeliveryTest, UnsubscribeDropsWhatWaitsAndConfirms) {
  auto t = topic();
  auto sub = confirmed(t);
  http_->status = 500;
  publish(t, "never mind");
  ASSERT_EQ(engine_->outbox()->size(), 1u);
  http_->status = 200;
  engine_->unsubscribe(Value{{"SubscriptionArn", sub}}, caller());
  executor_->run();
  ASSERT_EQ(http_->requests.size(), 3u);
  EXPECT_EQ(http_->header(2, "x-amz-sns-message-type"), "UnsubscribeConfirmation");
  EXPECT_EQ(http_->header(2, "x-amz-sns-subscription-arn"), sub);
  executor_->advance_ms(60000);
  EXPECT_EQ(http_->requests.size(), 3u);
  EXPECT_EQ(engine_->outbox()->size(), 0u);
}

TEST_F(SnsHttpDeliveryTest, ResubscribingSendsTheConfirmationAgain) {
  auto t = topic();
  Value in{{"TopicArn", t}, {"Protocol", "https"}, {"Endpoint", "https://127.0.0.1:1/x"}};
  engine_->subscribe(in, caller());
  executor_->run();
  engine_->subscribe(in, caller());
  executor_->run();
  ASSERT_EQ(http_->requests.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(http_->requests[0].body)["Token"],
            nlohmann::json::parse(http_->requests[1].body)["Token"]);
}

TEST_F(SnsHttpDeliveryTest, ThrottlePolicySpacesAttempts) {
  auto t = topic();
  confirmed(t, Value{{"DeliveryPolicy", R"({"throttlePolicy":{"maxReceivesPerSecond":2}})"}});
  engine_->publish(Value{{"TopicArn", t}, {"Message", "1"}}, caller());
  engine_->publish(Value{{"TopicArn", t}, {"Message", "2"}}, caller());
  engine_->publish(Value{{"TopicArn", t}, {"Message", "3"}}, caller());
  executor_->run();
  EXPECT_EQ(http_->requests.size(), 2u);
  executor_->advance_ms(499);
  EXPECT_EQ(http_->requests.size(), 2u);
  executor_->advance_ms(1);
  EXPECT_EQ(http_->requests.size(), 3u);
  executor_->advance_ms(500);
  EXPECT_EQ(http_->requests.size(), 4u);
}

TEST_F(SnsHttpDeliveryTest, AFullOutboxRefusesMoreForThatSubscription) {
  engine_ = make_engine(OutboxLimits{2, 1u << 20, 1u << 20});
  auto t = topic();
  confirmed(t, Value{{"RedrivePolicy", R"({"deadLetterTargetArn":")" + kDlq + R"("})"}});
  http_->status = 500;
  for (const char* m : {"a", "b", "c"}) {
    engine_->publish(Value{{"TopicArn", t}, {"Message", m}}, caller());
  }
  executor_->run();
  EXPECT_EQ(engine_->outbox()->size(), 2u);
  ASSERT_EQ(sink_->sent.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(sink_->sent[0].second.body)["Message"], "c");
  EXPECT_EQ(sink_->sent[0].second.attributes.at("ErrorCode").value, "OutboxFull");
}

TEST_F(SnsHttpDeliveryTest, OptedOutNumbersAreRefused) {
  auto t = topic();
  engine_->subscribe(Value{{"TopicArn", t}, {"Protocol", "sms"}, {"Endpoint", "+15555550123"}}, caller());
  engine_->opt_out(kOwner, "+15555550123");
  publish(t, "page");
  engine_->publish(Value{{"PhoneNumber", "+15555550124"}, {"Message", "direct"}}, caller());
  auto refused = records("refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].endpoint, "+15555550123");
  DeliveryFilter direct;
  direct.phone = "+15555550124";
  auto sent = engine_->deliveries().list(direct);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].body, "direct");
  EXPECT_EQ(sent[0].status, "recorded");
  EXPECT_TRUE(sent[0].topic_arn.empty());
}

TEST_F(SnsHttpDeliveryTest, LambdaDeliveriesAreRecordedAsTheirEvent) {
  auto t = topic();
  auto sub = engine_->subscribe(Value{{"TopicArn", t},
                                      {"Protocol", "lambda"},
                                      {"Endpoint", "arn:aws:lambda:us-east-1:111111111111:function:f"}},
                                caller())["SubscriptionArn"];
  publish(t, "event");
  auto recorded = records("recorded");
  ASSERT_EQ(recorded.size(), 1u);
  auto event = nlohmann::json::parse(recorded[0].body);
  const auto& record = event["Records"][0];
  EXPECT_EQ(record["EventSource"], "aws:sns");
  EXPECT_EQ(record["EventSubscriptionArn"], sub);
  EXPECT_EQ(record["Sns"]["Message"], "event");
  EXPECT_TRUE(record["Sns"]["Subject"].is_null());
  EXPECT_TRUE(record["Sns"]["MessageAttributes"].is_object());
  EXPECT_TRUE(record["Sns"].contains("SigningCertUrl"));
}

TEST(SnsOutboxEntry, RoundTripsThroughTheStoreEncoding) {
  OutboxEntry e;
  e.id = 7;
  e.subscription_arn = "arn:aws:sns:us-east-1:1:t:s";
  e.topic_arn = "arn:aws:sns:us-east-1:1:t";
  e.protocol = "https";
  e.endpoint = "https://x/y";
  e.type = "Notification";
  e.message_id = "m";
  e.body = std::string("\xff\x00not utf-8", 11);
  e.raw = true;
  e.attributes["bin"] = {"Binary", std::string("\x00\x01", 2)};
  e.policy.retry.backoff = Backoff::kGeometric;
  e.policy.max_receives_per_second = 4;
  e.dead_letter_queue = kDlq;
  e.created_ms = 1;
  e.due_ms = 2;
  e.attempts = 3;
  OutboxEntry back;
  ASSERT_TRUE(Outbox::decode(Outbox::encode(e), back));
  EXPECT_EQ(back.body, e.body);
  EXPECT_EQ(back.attributes.at("bin").value, e.attributes.at("bin").value);
  EXPECT_EQ(back.policy.retry.backoff, Backoff::kGeometric);
  EXPECT_EQ(back.policy.max_receives_per_second, 4);
  EXPECT_EQ((std::tuple(back.id, back.due_ms, back.attempts, back.raw)), std::tuple(e.id, e.due_ms, e.attempts, true));
}

}  // namespace
}  // namespace fogbank::sns
