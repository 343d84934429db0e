// S3 event notifications: the configuration's parsing and validation (AWS's errors), event
// matching and key filters, overlap rules, the stored form, the exact event and test-event JSON,
// and the service end of it: destinations checked, the TestEvent sent, one event per successful
// operation delivered synchronously (also from a large PUT committed on the pool).

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/platform.hpp"
#include "fogbank/s3/s3_service.hpp"
#include "fogbank/storage/store.hpp"
#include "s3_internal.hpp"
#include "s3_notifications.hpp"

namespace fogbank::s3 {
namespace {

using nlohmann::json;

constexpr std::string_view kAccount = "111122223333";
constexpr std::string_view kQueue = "arn:aws:sqs:us-east-1:111122223333:events";
constexpr std::string_view kTopic = "arn:aws:sns:us-east-1:111122223333:topic";

std::string doc(std::string_view inner) {
  return R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)" + std::string(inner) +
         "</NotificationConfiguration>";
}

std::string queue_config(std::string_view events, std::string_view filter = {}, std::string_view id = {},
                         std::string_view arn = kQueue) {
  std::string out = "<QueueConfiguration>";
  if (!id.empty()) {
    out += "<Id>" + std::string(id) + "</Id>";
  }
  out += "<Queue>" + std::string(arn) + "</Queue>" + std::string(events);
  if (!filter.empty()) {
    out += "<Filter><S3Key>" + std::string(filter) + "</S3Key></Filter>";
  }
  return out + "</QueueConfiguration>";
}

std::string rule(std::string_view name, std::string_view value) {
  return "<FilterRule><Name>" + std::string(name) + "</Name><Value>" + std::string(value) + "</Value></FilterRule>";
}

NotificationConfig parse(std::string_view inner, std::string_view region = "us-east-1") {
  return parse_notification_config(decode_body_xml("PutBucketNotificationConfiguration", doc(inner)), region);
}

AwsError parse_error(std::string_view inner, std::string_view region = "us-east-1") {
  try {
    parse(inner, region);
  } catch (const AwsError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << inner;
  return AwsError();
}

std::vector<std::pair<std::string, std::string>> fields(std::initializer_list<std::pair<std::string, std::string>> f) {
  return f;
}

// ---- parsing and validation

TEST(NotificationConfigTest, ParsesEveryKindWithIdsAndNormalisedFilterNames) {
  auto config = parse(
      "<TopicConfiguration><Id>t1</Id><Topic>" + std::string(kTopic) +
      "</Topic><Event>s3:ObjectRemoved:*</Event></TopicConfiguration>" +
      queue_config("<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectTagging:Put</Event>",
                   rule("PREFIX", "logs/") + rule("suffix", ".txt")) +
      "<EventBridgeConfiguration/>");
  ASSERT_EQ(config.rules.size(), 2u);
  EXPECT_TRUE(config.event_bridge);
  EXPECT_EQ(config.rules[0].type, DestinationType::kTopic);
  EXPECT_EQ(config.rules[0].id, "t1");
  EXPECT_EQ(config.rules[0].events, std::vector<std::string>{"s3:ObjectRemoved:*"});
  const auto& q = config.rules[1];
  EXPECT_EQ(q.type, DestinationType::kQueue);
  EXPECT_EQ(q.arn, kQueue);
  EXPECT_EQ(q.events, (std::vector<std::string>{"s3:ObjectCreated:*", "s3:ObjectTagging:Put"}));
  EXPECT_EQ(q.filter_rules, (std::vector<std::pair<std::string, std::string>>{{"Prefix", "logs/"}, {"Suffix", ".txt"}}));
  EXPECT_EQ(q.prefix(), "logs/");
  EXPECT_EQ(q.suffix(), ".txt");
  // No Id given: S3's form, base64 of a version-4 UUID.
  ASSERT_EQ(q.id.size(), 48u);
  auto raw = protocol::base64_decode(q.id);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size(), 36u);
  EXPECT_EQ((*raw)[14], '4');
  EXPECT_NE(parse(queue_config("<Event>s3:ObjectCreated:*</Event>")).rules[0].id, q.id);
}

TEST(NotificationConfigTest, OutputValueHasTheGivenFilterOrderAndIds) {
  auto config = parse(queue_config("<Event>s3:ObjectCreated:Put</Event>", rule("Suffix", ".jpg") + rule("prefix", "a/"), "q1") +
                      "<CloudFunctionConfiguration><Id>f</Id><CloudFunction>arn:aws:lambda:us-east-1:111122223333:function:f"
                      "</CloudFunction><Event>s3:ObjectRemoved:*</Event></CloudFunctionConfiguration>");
  auto value = notification_config_value(config);
  EXPECT_EQ(value, json::parse(R"({
    "QueueConfigurations": [{"Id": "q1", "QueueArn": "arn:aws:sqs:us-east-1:111122223333:events",
      "Events": ["s3:ObjectCreated:Put"],
      "Filter": {"Key": {"FilterRules": [{"Name": "Suffix", "Value": ".jpg"}, {"Name": "Prefix", "Value": "a/"}]}}}],
    "LambdaFunctionConfigurations": [{"Id": "f",
      "LambdaFunctionArn": "arn:aws:lambda:us-east-1:111122223333:function:f", "Events": ["s3:ObjectRemoved:*"]}]})"));
  auto xml = encode_output_xml("GetBucketNotificationConfiguration", value, "NotificationConfiguration");
  EXPECT_NE(xml.find("<QueueConfiguration><Id>q1</Id><Queue>arn:aws:sqs:us-east-1:111122223333:events</Queue>"
                     "<Event>s3:ObjectCreated:Put</Event><Filter><S3Key><FilterRule><Name>Suffix</Name>"
                     "<Value>.jpg</Value></FilterRule>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<CloudFunctionConfiguration><Id>f</Id><CloudFunction>"), std::string::npos) << xml;
}

TEST(NotificationConfigTest, EmptyDocumentIsAnEmptyConfiguration) {
  EXPECT_TRUE(parse("").empty());
  EXPECT_FALSE(parse("<EventBridgeConfiguration></EventBridgeConfiguration>").empty());
}

TEST(NotificationConfigTest, UnknownEventIsInvalidArgument) {
  auto e = parse_error(queue_config("<Event>s3:ObjectCreated:Get</Event>"));
  EXPECT_EQ(e.code, "InvalidArgument");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message, "The event is not supported for notifications");
  EXPECT_EQ(e.fields, fields({{"ArgumentName", "Event"}, {"ArgumentValue", "s3:ObjectCreated:Get"}}));
  EXPECT_EQ(parse_error(queue_config("<Event>ObjectCreated:Put</Event>")).fields[1].second, "ObjectCreated:Put");
}

TEST(NotificationConfigTest, EveryModelEventIsAccepted) {
  for (std::string_view e : {"s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:DeleteMarkerCreated",
                             "s3:ObjectRestore:Delete", "s3:LifecycleExpiration:*", "s3:ObjectAcl:Put",
                             "s3:Replication:OperationNotTracked", "s3:ReducedRedundancyLostObject",
                             "s3:IntelligentTiering", "s3:LifecycleTransition", "s3:ObjectTagging:*"}) {
    EXPECT_TRUE(valid_event_name(e)) << e;
  }
  EXPECT_FALSE(valid_event_name("s3:ObjectCreated:put"));
  EXPECT_FALSE(valid_event_name("s3:*"));
}

TEST(NotificationConfigTest, FilterRuleErrors) {
  auto e = parse_error(queue_config("<Event>s3:ObjectCreated:*</Event>", rule("INVALID", "x")));
  EXPECT_EQ(e.code, "InvalidArgument");
  EXPECT_EQ(e.message, "filter rule name must be either prefix or suffix");
  EXPECT_EQ(e.fields, fields({{"ArgumentName", "FilterRule.Name"}, {"ArgumentValue", "INVALID"}}));

  e = parse_error(queue_config("<Event>s3:ObjectCreated:*</Event>", rule("prefix", "a") + rule("Prefix", "b")));
  EXPECT_EQ(e.message, "Cannot specify more than one prefix rule in a filter.");
  EXPECT_EQ(e.fields, fields({{"ArgumentName", "FilterRule.Name"}, {"ArgumentValue", "Prefix"}}));
  e = parse_error(queue_config("<Event>s3:ObjectCreated:*</Event>", rule("suffix", "a") + rule("SUFFIX", "b")));
  EXPECT_EQ(e.message, "Cannot specify more than one suffix rule in a filter.");
}

TEST(NotificationConfigTest, ArnsThatDoNotParse) {
  for (std::string_view arn : {"invalid-queue", "arn:aws:sns:us-east-1:111122223333:topic", "arn:aws:sqs::1:q",
                               "arn:aws:sqs:us-east-1:111122223333:"}) {
    auto e = parse_error(queue_config("<Event>s3:ObjectCreated:*</Event>", {}, {}, arn));
    EXPECT_EQ(e.message, "The ARN could not be parsed") << arn;
    EXPECT_EQ(e.fields, fields({{"ArgumentName", "Queue"}, {"ArgumentValue", std::string(arn)}}));
  }
  auto e = parse_error("<TopicConfiguration><Topic>nope</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>");
  EXPECT_EQ(e.fields, fields({{"ArgumentName", "Topic"}, {"ArgumentValue", "nope"}}));
  e = parse_error("<CloudFunctionConfiguration><CloudFunction>x</CloudFunction><Event>s3:ObjectCreated:*</Event>"
                  "</CloudFunctionConfiguration>");
  EXPECT_EQ(e.fields, fields({{"ArgumentName", "CloudFunction"}, {"ArgumentValue", "x"}}));
}

TEST(NotificationConfigTest, DestinationInAnotherRegion) {
  auto e = parse_error(queue_config("<Event>s3:ObjectCreated:*</Event>"), "eu-west-1");
  EXPECT_EQ(e.message, "The notification destination service region is not valid for the bucket location constraint");
}

TEST(NotificationConfigTest, MissingEventsOrDestinationIsMalformed) {
  EXPECT_EQ(parse_error("<QueueConfiguration><Queue>" + std::string(kQueue) + "</Queue></QueueConfiguration>").code,
            "MalformedXML");
  EXPECT_EQ(parse_error("<QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration>").code,
            "MalformedXML");
}

TEST(NotificationConfigTest, SameEventTypeWithSameFilterOverlaps) {
  auto e = parse_error(queue_config("<Event>s3:ObjectRemoved:*</Event>") + queue_config("<Event>s3:ObjectRemoved:*</Event>"));
  EXPECT_EQ(e.code, "InvalidArgument");
  EXPECT_EQ(e.message, "Configurations overlap. Configurations on the same bucket cannot share a common event type.");
  EXPECT_EQ(e.fields, fields({{"ArgumentName", "Event"}, {"ArgumentValue", "s3:ObjectRemoved:*, s3:ObjectRemoved:*"}}));
  // A wildcard and one of its events, across destination kinds.
  e = parse_error("<TopicConfiguration><Topic>" + std::string(kTopic) +
                  "</Topic><Event>s3:ObjectCreated:Put</Event></TopicConfiguration>" +
                  queue_config("<Event>s3:ObjectCreated:*</Event>"));
  EXPECT_EQ(e.fields[1].second, "s3:ObjectCreated:Put, s3:ObjectCreated:*");
  // Identical non-empty filters too.
  e = parse_error(queue_config("<Event>s3:ObjectCreated:Put</Event>", rule("prefix", "a/")) +
                  queue_config("<Event>s3:ObjectCreated:Put</Event>", rule("Prefix", "a/")));
  EXPECT_EQ(e.message, "Configurations overlap. Configurations on the same bucket cannot share a common event type.");
}

TEST(NotificationConfigTest, OverlappingPrefixesAndSuffixesAreAmbiguous) {
  const std::string kAmbiguous =
      "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are "
      "overlapping for the same event type.";
  // No filter against a suffix filter: every key of the second is also one of the first.
  EXPECT_EQ(parse_error(queue_config("<Event>s3:ObjectCreated:*</Event>") +
                        queue_config("<Event>s3:ObjectCreated:*</Event>", rule("suffix", ".log")))
                .message,
            kAmbiguous);
  EXPECT_EQ(parse_error(queue_config("<Event>s3:ObjectCreated:*</Event>", rule("prefix", "a/")) +
                        queue_config("<Event>s3:ObjectCreated:*</Event>", rule("prefix", "a/b/")))
                .message,
            kAmbiguous);
  EXPECT_EQ(parse_error(queue_config("<Event>s3:ObjectCreated:*</Event>", rule("suffix", ".tar.gz")) +
                        queue_config("<Event>s3:ObjectCreated:*</Event>", rule("suffix", ".gz")))
                .message,
            kAmbiguous);
}

TEST(NotificationConfigTest, DisjointFiltersOrEventsDoNotOverlap) {
  EXPECT_EQ(parse(queue_config("<Event>s3:ObjectCreated:*</Event>", rule("prefix", "a/")) +
                  queue_config("<Event>s3:ObjectCreated:*</Event>", rule("prefix", "b/")))
                .rules.size(),
            2u);
  EXPECT_EQ(parse(queue_config("<Event>s3:ObjectCreated:*</Event>", rule("prefix", "a/") + rule("suffix", ".jpg")) +
                  queue_config("<Event>s3:ObjectCreated:*</Event>", rule("prefix", "a/") + rule("suffix", ".png")))
                .rules.size(),
            2u);
  EXPECT_EQ(parse(queue_config("<Event>s3:ObjectCreated:*</Event>") + queue_config("<Event>s3:ObjectRemoved:*</Event>") +
                  queue_config("<Event>s3:ObjectTagging:Put</Event>") + queue_config("<Event>s3:ObjectTagging:Delete</Event>"))
                .rules.size(),
            4u);
}

// ---- matching

TEST(NotificationMatchTest, EventsAndWildcards) {
  NotificationRule r;
  r.events = {"s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"};
  EXPECT_TRUE(r.listens_to("s3:ObjectCreated:Put"));
  EXPECT_TRUE(r.listens_to("s3:ObjectCreated:CompleteMultipartUpload"));
  EXPECT_TRUE(r.listens_to("s3:ObjectRemoved:Delete"));
  EXPECT_FALSE(r.listens_to("s3:ObjectRemoved:DeleteMarkerCreated"));
  EXPECT_FALSE(r.listens_to("s3:ObjectTagging:Put"));
}

TEST(NotificationMatchTest, PrefixAndSuffixBothApply) {
  NotificationRule r;
  EXPECT_TRUE(r.matches_key("anything"));
  r.filter_rules = {{"Prefix", "images/"}, {"Suffix", ".jpg"}};
  EXPECT_TRUE(r.matches_key("images/a.jpg"));
  EXPECT_FALSE(r.matches_key("images/a.png"));
  EXPECT_FALSE(r.matches_key("docs/a.jpg"));
  EXPECT_FALSE(r.matches_key("Images/a.jpg"));  // case-sensitive values
}

// ---- stored form

TEST(NotificationStoreTest, BucketRecordRoundTrip) {
  BucketRecord b;
  b.name = "bkt";
  b.account = std::string(kAccount);
  b.region = "us-east-1";
  b.created_ms = 5;
  auto config = parse(queue_config("<Event>s3:ObjectCreated:*</Event>", rule("prefix", "p"), "id1") +
                      "<EventBridgeConfiguration/>");
  b.notifications = std::make_shared<const NotificationConfig>(config);
  BucketRecord back;
  ASSERT_TRUE(decode(encode(b), back));
  ASSERT_TRUE(back.notifications);
  EXPECT_EQ(notification_config_value(*back.notifications), notification_config_value(config));
  EXPECT_TRUE(back.notifications->event_bridge);

  BucketRecord none;
  none.name = "n";
  ASSERT_TRUE(decode(encode(none), back));
  EXPECT_FALSE(back.notifications);
}

// ---- event JSON

ObjectEvent sample_event(EventKind kind) {
  ObjectEvent e;
  e.kind = kind;
  e.time_ms = 1'700'000'000'123;
  e.region = "us-east-1";
  e.bucket = "bkt";
  e.bucket_owner = std::string(kAccount);
  e.principal_id = "AWS:AIDAEXAMPLE";
  e.source_ip = "127.0.0.1";
  e.request_id = "REQID";
  e.host_id = "HOSTID";
  e.key = "dir/my file@1.txt";
  e.size = 9;
  e.etag = "437b930db84b8079c2dd804a71936b5f";
  e.sequencer = "0017F";
  return e;
}

TEST(NotificationEventTest, ObjectCreatedRecordInAwsOrder) {
  const auto owner = customer_principal_id(kAccount);
  EXPECT_EQ(event_message(sample_event(EventKind::kPut), "cfg"),
            R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",)"
            R"("eventTime":"2023-11-14T22:13:20.123Z","eventName":"ObjectCreated:Put",)"
            R"("userIdentity":{"principalId":"AWS:AIDAEXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},)"
            R"("responseElements":{"x-amz-request-id":"REQID","x-amz-id-2":"HOSTID"},)"
            R"("s3":{"s3SchemaVersion":"1.0","configurationId":"cfg","bucket":{"name":"bkt",)"
            R"("ownerIdentity":{"principalId":")" + owner + R"("},"arn":"arn:aws:s3:::bkt"},)"
            R"("object":{"key":"dir/my+file%401.txt","size":9,"eTag":"437b930db84b8079c2dd804a71936b5f",)"
            R"("sequencer":"0017F"}}}]})");
}

TEST(NotificationEventTest, RemovedAndTaggingRecordsCarryWhatAwsSends) {
  auto removed = json::parse(event_message(sample_event(EventKind::kDelete), "c"));
  EXPECT_EQ(removed["Records"][0]["eventName"], "ObjectRemoved:Delete");
  EXPECT_EQ(removed["Records"][0]["eventVersion"], "2.1");
  EXPECT_EQ(removed["Records"][0]["s3"]["object"], json::parse(R"({"key":"dir/my+file%401.txt","sequencer":"0017F"})"));

  auto tagged = json::parse(event_message(sample_event(EventKind::kTaggingPut), "c"));
  EXPECT_EQ(tagged["Records"][0]["eventName"], "ObjectTagging:Put");
  EXPECT_EQ(tagged["Records"][0]["eventVersion"], "2.3");
  EXPECT_EQ(tagged["Records"][0]["s3"]["object"],
            json::parse(R"({"key":"dir/my+file%401.txt","eTag":"437b930db84b8079c2dd804a71936b5f"})"));
  EXPECT_EQ(json::parse(event_message(sample_event(EventKind::kTaggingDelete), "c"))["Records"][0]["eventName"],
            "ObjectTagging:Delete");
  for (auto [kind, name] : {std::pair{EventKind::kPost, "ObjectCreated:Post"}, std::pair{EventKind::kCopy, "ObjectCreated:Copy"},
                            std::pair{EventKind::kCompleteMultipartUpload, "ObjectCreated:CompleteMultipartUpload"}}) {
    EXPECT_EQ(json::parse(event_message(sample_event(kind), "c"))["Records"][0]["eventName"], name);
  }
}

TEST(NotificationEventTest, KeyEncoding) {
  EXPECT_EQ(event_key("a@b"), "a%40b");
  EXPECT_EQ(event_key("red flower.jpg"), "red+flower.jpg");
  EXPECT_EQ(event_key("a/b-c_d.e*f"), "a/b-c_d.e*f");
  EXPECT_EQ(event_key("a+b=c&d~e(f)"), "a%2Bb%3Dc%26d%7Ee%28f%29");
  EXPECT_EQ(event_key("\xC3\xA9t\xC3\xA9"), "%C3%A9t%C3%A9");
}

TEST(NotificationEventTest, TestEventMessage) {
  EXPECT_EQ(test_event_message("bkt", "REQ", "HOST", 1'700'000'000'007),
            R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2023-11-14T22:13:20.007Z",)"
            R"("Bucket":"bkt","RequestId":"REQ","HostId":"HOST"})");
}

TEST(NotificationEventTest, CustomerIdIsStableAndShaped) {
  auto id = customer_principal_id(kAccount);
  EXPECT_EQ(id, customer_principal_id(kAccount));
  EXPECT_NE(id, customer_principal_id("000000000000"));
  ASSERT_EQ(id.size(), 14u);
  EXPECT_EQ(id[0], 'A');
  for (char c : id) {
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << id;
  }
}

TEST(NotificationEventTest, SequencersIncreaseEvenWhenTheClockStandsStill) {
  Sequencer s;
  auto a = s.next(1'700'000'000'000);
  auto b = s.next(1'700'000'000'000);
  auto c = s.next(1'600'000'000'000);  // clock set back
  auto d = s.next(1'800'000'000'000);
  EXPECT_EQ(a.size(), 18u);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  for (char ch : a) {
    EXPECT_TRUE((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F')) << a;
  }
}

// ---- the service

class NoKeys final : public protocol::sigv4::CredentialLookup {
 public:
  std::optional<protocol::sigv4::Credential> find(std::string_view) const override { return std::nullopt; }
};

struct Sent {
  std::string destination;
  std::string body;
  std::string subject;
  std::string source_arn;
};

class FakeQueues final : public sqs::MessageSink {
 public:
  std::optional<sqs::QueueFacts> queue(std::string_view arn) override {
    std::lock_guard lock(mu);
    if (!existing.count(std::string(arn))) {
      return std::nullopt;
    }
    sqs::QueueFacts f;
    f.fifo = arn.ends_with(".fifo");
    return f;
  }
  sqs::SendOutcome send(std::string_view arn, const sqs::ServiceMessage& m) override {
    std::lock_guard lock(mu);
    sqs::SendOutcome out;
    if (!existing.count(std::string(arn))) {
      out.error_code = "AWS.SimpleQueueService.NonExistentQueue";
      return out;
    }
    sent.push_back({std::string(arn), m.body, {}, {}});
    out.sent = true;
    return out;
  }
  std::mutex mu;
  std::set<std::string> existing;
  std::vector<Sent> sent;
};

class FakeTopics final : public sns::TopicPublisher {
 public:
  std::optional<sns::TopicFacts> topic(std::string_view arn) override {
    if (!existing.count(std::string(arn))) {
      return std::nullopt;
    }
    return sns::TopicFacts{};
  }
  sns::PublishOutcome publish(const sns::ServicePublish& p) override {
    sns::PublishOutcome out;
    sent.push_back({p.topic_arn, p.message, p.subject, p.source_arn});
    EXPECT_EQ(p.source_service, "s3.amazonaws.com");
    out.published = true;
    return out;
  }
  std::set<std::string> existing;
  std::vector<Sent> sent;
};

/// Waits for a deferred response as the server does.
Response settle(Response r) {
  if (!r.pending) {
    return r;
  }
  auto pending = r.pending;
  std::mutex mutex;
  std::condition_variable cv;
  bool woken = false;
  pending->start([&] {
    std::lock_guard lock(mutex);
    woken = true;
    cv.notify_all();
  });
  for (;;) {
    {
      std::unique_lock lock(mutex);
      woken = false;
    }
    if (auto out = pending->poll(false)) {
      pending->cancel();
      return std::move(*out);
    }
    std::unique_lock lock(mutex);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return woken; });
  }
}

class NotificationServiceTest : public ::testing::Test {
 protected:
  NotificationServiceTest() {
    storage::Options options;
    options.in_memory = true;
    storage::Status status;
    store_ = storage::Store::open(options, status);
    EXPECT_TRUE(status.is_ok()) << status.message();
    platform_ = std::make_unique<protocol::Platform>(
        protocol::Platform{*store_, clock_, scheduler_, std::make_shared<NoKeys>(), nullptr});
    queues_ = std::make_shared<FakeQueues>();
    topics_ = std::make_shared<FakeTopics>();
    s3_ = make_s3_service(*platform_, NotificationTargets{queues_, topics_});
    EXPECT_EQ(call("PUT", "/bkt").status, 200);
  }

  RequestContext& context(std::string method, std::string target,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto head = std::make_unique<protocol::RequestHead>();
    head->method = std::move(method);
    head->target = std::move(target);
    head->headers.add("Host", "localhost:4566");
    for (auto& [n, v] : headers) {
      head->headers.add(n, v);
    }
    head->remote_address = "10.1.2.3";
    head->split_target();
    auto ctx = std::make_shared<RequestContext>(*head);
    ctx->account_id = std::string(kAccount);
    ctx->caller.account_id = std::string(kAccount);
    ctx->caller.user_id = std::string(kAccount);
    ctx->region = "us-east-1";
    ctx->request_id = "REQ" + std::to_string(heads_.size());
    ctx->now_ms = clock_.now_ms();
    ctx->now = ctx->now_ms / 1000;
    ctx->clock = &clock_;
    ctx->authenticated = true;
    heads_.push_back(std::move(head));
    contexts_.push_back(ctx);
    return *ctx;
  }

  Response call(std::string method, std::string target, std::string body = {},
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto& ctx = context(std::move(method), std::move(target), std::move(headers));
    return settle(s3_->handle(ctx, std::move(body)));
  }

  AwsError call_error(std::string method, std::string target, std::string body = {},
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    try {
      call(std::move(method), std::move(target), std::move(body), std::move(headers));
    } catch (const AwsError& e) {
      return e;
    }
    ADD_FAILURE() << "no error";
    return AwsError();
  }

  Response put(std::string target, const std::string& body) {
    context("PUT", std::move(target), {{"Content-Length", std::to_string(body.size())}});
    auto sink = s3_->begin_stream(contexts_.back());
    for (std::size_t at = 0; at < body.size(); at += 256 << 10) {
      sink->write(std::string_view(body).substr(at, 256 << 10));
    }
    Response out = settle(sink->finish());
    sinks_.push_back(std::move(sink));
    return out;
  }

  void configure_queue(std::string_view events_xml, std::string_view filter = {}) {
    queues_->existing.insert(std::string(kQueue));
    ASSERT_EQ(call("PUT", "/bkt?notification", doc(queue_config(events_xml, filter, "cfg"))).status, 200);
    queues_->sent.clear();
  }

  json only_record() {
    EXPECT_EQ(queues_->sent.size(), 1u);
    if (queues_->sent.empty()) {
      return json();
    }
    auto j = json::parse(queues_->sent.back().body);
    EXPECT_EQ(j["Records"].size(), 1u);
    return j["Records"][0];
  }

  std::unique_ptr<storage::Store> store_;
  protocol::VirtualClock clock_{1'700'000'000'000};
  protocol::Scheduler scheduler_{clock_, 2};
  std::unique_ptr<protocol::Platform> platform_;
  std::shared_ptr<FakeQueues> queues_;
  std::shared_ptr<FakeTopics> topics_;
  std::shared_ptr<protocol::Service> s3_;
  std::vector<std::unique_ptr<protocol::RequestHead>> heads_;
  std::vector<std::shared_ptr<RequestContext>> contexts_;
  std::vector<std::unique_ptr<protocol::BodySink>> sinks_;
};

TEST_F(NotificationServiceTest, MissingDestinationsAreListedNumbered) {
  auto e = call_error("PUT", "/bkt?notification",
                      doc(queue_config("<Event>s3:ObjectCreated:*</Event>") +
                          queue_config("<Event>s3:ObjectRemoved:*</Event>", {}, {},
                                       "arn:aws:sqs:us-east-1:111122223333:other") +
                          "<CloudFunctionConfiguration><CloudFunction>arn:aws:lambda:us-east-1:111122223333:function:f"
                          "</CloudFunction><Event>s3:ObjectTagging:*</Event></CloudFunctionConfiguration>"));
  EXPECT_EQ(e.code, "InvalidArgument");
  EXPECT_EQ(e.message, "Unable to validate the following destination configurations");
  EXPECT_EQ(e.fields,
            fields({{"ArgumentName1", std::string(kQueue)},
                    {"ArgumentValue1", "The destination queue does not exist"},
                    {"ArgumentName2", "arn:aws:sqs:us-east-1:111122223333:other"},
                    {"ArgumentValue2", "The destination queue does not exist"},
                    {"ArgumentName3", "arn:aws:lambda:us-east-1:111122223333:function:f, null"},
                    {"ArgumentValue3", "Not authorized to invoke function [arn:aws:lambda:us-east-1:111122223333:function:f]"}}));
  e = call_error("PUT", "/bkt?notification",
                 doc("<TopicConfiguration><Topic>" + std::string(kTopic) +
                     "</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>"));
  EXPECT_EQ(e.fields, fields({{"ArgumentName1", std::string(kTopic)},
                              {"ArgumentValue1", "The destination topic does not exist"}}));
  // Nothing was stored.
  auto got = call("GET", "/bkt?notification");
  EXPECT_EQ(got.body, R"(<?xml version="1.0" encoding="UTF-8"?>)"
                      "\n" R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></NotificationConfiguration>)")
      << got.body;
}

TEST_F(NotificationServiceTest, SkipDestinationValidationStoresWithoutTestEvent) {
  ASSERT_EQ(call("PUT", "/bkt?notification", doc(queue_config("<Event>s3:ObjectCreated:*</Event>", {}, "x")),
                 {{"x-amz-skip-destination-validation", "true"}})
                .status,
            200);
  EXPECT_TRUE(queues_->sent.empty());
  EXPECT_NE(call("GET", "/bkt?notification").body.find("<Id>x</Id>"), std::string::npos);
}

TEST_F(NotificationServiceTest, PutSendsTheTestEventOncePerDestination) {
  queues_->existing.insert(std::string(kQueue));
  topics_->existing.insert(std::string(kTopic));
  auto r = call("PUT", "/bkt?notification",
                doc("<TopicConfiguration><Topic>" + std::string(kTopic) +
                    "</Topic><Event>s3:ObjectRemoved:*</Event></TopicConfiguration>" +
                    queue_config("<Event>s3:ObjectCreated:*</Event>") + queue_config("<Event>s3:ObjectTagging:*</Event>")));
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(queues_->sent.size(), 1u);
  const auto& rid = contexts_.back()->request_id;
  auto expected = R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2023-11-14T22:13:20.000Z","Bucket":"bkt",)"
                  R"("RequestId":")" + rid + R"(","HostId":")" + protocol::base64_encode(rid + rid) + R"("})";
  EXPECT_EQ(queues_->sent[0].body, expected);
  ASSERT_EQ(topics_->sent.size(), 1u);
  EXPECT_EQ(topics_->sent[0].body, expected);
  EXPECT_EQ(topics_->sent[0].subject, "Amazon S3 Notification");
}

TEST_F(NotificationServiceTest, FifoQueueIsRefused) {
  const std::string fifo = "arn:aws:sqs:us-east-1:111122223333:q.fifo";
  queues_->existing.insert(fifo);
  auto e = call_error("PUT", "/bkt?notification", doc(queue_config("<Event>s3:ObjectCreated:*</Event>", {}, {}, fifo)));
  EXPECT_EQ(e.fields, fields({{"ArgumentName1", fifo},
                              {"ArgumentValue1", "Permissions on the destination queue do not allow S3 to publish "
                                                 "notifications from this bucket"}}));
}

TEST_F(NotificationServiceTest, WithoutTargetsEveryDestinationFailsValidation) {
  auto bare = make_s3_service(*platform_);
  auto& ctx = context("PUT", "/bkt?notification");
  try {
    bare->handle(ctx, doc(queue_config("<Event>s3:ObjectCreated:*</Event>")));
    ADD_FAILURE() << "accepted";
  } catch (const AwsError& e) {
    EXPECT_EQ(e.message, "Unable to validate the following destination configurations");
  }
}

TEST_F(NotificationServiceTest, PutObjectEventHasEveryField) {
  configure_queue("<Event>s3:ObjectCreated:*</Event>");
  clock_.advance_ms(1234);
  ASSERT_EQ(put("/bkt/a%20b", "hello world").status, 200);
  auto rec = only_record();
  const auto& rid = contexts_.back()->request_id;
  EXPECT_EQ(rec["eventVersion"], "2.1");
  EXPECT_EQ(rec["eventSource"], "aws:s3");
  EXPECT_EQ(rec["awsRegion"], "us-east-1");
  EXPECT_EQ(rec["eventTime"], "2023-11-14T22:13:21.234Z");
  EXPECT_EQ(rec["eventName"], "ObjectCreated:Put");
  EXPECT_EQ(rec["userIdentity"]["principalId"], customer_principal_id(kAccount));
  EXPECT_EQ(rec["requestParameters"]["sourceIPAddress"], "10.1.2.3");
  EXPECT_EQ(rec["responseElements"]["x-amz-request-id"], rid);
  EXPECT_EQ(rec["responseElements"]["x-amz-id-2"], protocol::base64_encode(rid + rid));
  EXPECT_EQ(rec["s3"]["configurationId"], "cfg");
  EXPECT_EQ(rec["s3"]["bucket"]["arn"], "arn:aws:s3:::bkt");
  EXPECT_EQ(rec["s3"]["object"]["key"], "a+b");
  EXPECT_EQ(rec["s3"]["object"]["size"], 11);
  EXPECT_EQ(rec["s3"]["object"]["eTag"], protocol::hex(protocol::md5("hello world")));
  EXPECT_FALSE(rec["s3"]["object"].contains("versionId"));
}

TEST_F(NotificationServiceTest, LargePutCommittedOnThePoolStillNotifiesBeforeAnswering) {
  configure_queue("<Event>s3:ObjectCreated:Put</Event>");
  std::string big((3u << 20) + 7, 'x');
  ASSERT_EQ(put("/bkt/big", big).status, 200);
  EXPECT_EQ(only_record()["s3"]["object"]["size"], big.size());
}

TEST_F(NotificationServiceTest, SequencersIncreasePerKey) {
  configure_queue("<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event>");
  put("/bkt/k", "1");
  put("/bkt/k", "2");
  call("DELETE", "/bkt/k");
  ASSERT_EQ(queues_->sent.size(), 3u);
  std::vector<std::string> seq;
  for (const auto& s : queues_->sent) {
    seq.push_back(json::parse(s.body)["Records"][0]["s3"]["object"]["sequencer"]);
  }
  EXPECT_LT(seq[0], seq[1]);
  EXPECT_LT(seq[1], seq[2]);
}

TEST_F(NotificationServiceTest, FiltersAndEventTypesSelect) {
  configure_queue("<Event>s3:ObjectCreated:Put</Event>", rule("prefix", "in/") + rule("suffix", ".csv"));
  put("/bkt/in/a.csv", "x");
  put("/bkt/in/a.txt", "x");
  put("/bkt/out/a.csv", "x");
  call("PUT", "/bkt/in/b.csv", {}, {{"x-amz-copy-source", "/bkt/in/a.csv"}});  // Copy: not listened to
  ASSERT_EQ(queues_->sent.size(), 1u);
  EXPECT_EQ(json::parse(queues_->sent[0].body)["Records"][0]["s3"]["object"]["key"], "in/a.csv");
}

TEST_F(NotificationServiceTest, DeleteObjectsFiresPerKeyAndMissingKeysToo) {
  put("/bkt/a", "1");
  configure_queue("<Event>s3:ObjectRemoved:*</Event>");
  call("DELETE", "/bkt/never-existed");
  std::string body = "<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object></Delete>";
  call("POST", "/bkt?delete", body, {{"Content-MD5", protocol::base64_encode(std::string(
                                          reinterpret_cast<const char*>(protocol::md5(body).data()), 16))}});
  ASSERT_EQ(queues_->sent.size(), 3u);
  std::vector<std::string> keys;
  for (const auto& s : queues_->sent) {
    auto rec = json::parse(s.body)["Records"][0];
    EXPECT_EQ(rec["eventName"], "ObjectRemoved:Delete");
    keys.push_back(rec["s3"]["object"]["key"]);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"never-existed", "a", "b"}));
}

TEST_F(NotificationServiceTest, TaggingEvents) {
  put("/bkt/t", "data");
  configure_queue("<Event>s3:ObjectTagging:*</Event>");
  std::string tagging = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>";
  ASSERT_EQ(call("PUT", "/bkt/t?tagging", tagging).status, 200);
  auto rec = only_record();
  EXPECT_EQ(rec["eventName"], "ObjectTagging:Put");
  EXPECT_EQ(rec["eventVersion"], "2.3");
  EXPECT_EQ(rec["s3"]["object"], json({{"key", "t"}, {"eTag", protocol::hex(protocol::md5("data"))}}));
  queues_->sent.clear();
  ASSERT_EQ(call("DELETE", "/bkt/t?tagging").status, 204);
  EXPECT_EQ(only_record()["eventName"], "ObjectTagging:Delete");
}

TEST_F(NotificationServiceTest, DeliveryFailureDoesNotFailTheRequest) {
  configure_queue("<Event>s3:ObjectCreated:*</Event>");
  queues_->existing.clear();  // the queue was deleted since
  EXPECT_EQ(put("/bkt/x", "1").status, 200);
  EXPECT_TRUE(queues_->sent.empty());
}

TEST_F(NotificationServiceTest, EmptyConfigurationTurnsNotificationsOff) {
  configure_queue("<Event>s3:ObjectCreated:*</Event>");
  ASSERT_EQ(call("PUT", "/bkt?notification", doc("")).status, 200);
  put("/bkt/x", "1");
  EXPECT_TRUE(queues_->sent.empty());
}

TEST_F(NotificationServiceTest, ConfigurationSurvivesAReload) {
  configure_queue("<Event>s3:ObjectCreated:*</Event>");
  s3_ = make_s3_service(*platform_, NotificationTargets{queues_, topics_});  // loads the bucket table again
  put("/bkt/after", "1");
  EXPECT_EQ(only_record()["s3"]["configurationId"], "cfg");
}

TEST_F(NotificationServiceTest, TopicReceivesSubjectAndSource) {
  topics_->existing.insert(std::string(kTopic));
  ASSERT_EQ(call("PUT", "/bkt?notification",
                 doc("<TopicConfiguration><Id>t</Id><Topic>" + std::string(kTopic) +
                     "</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>"))
                .status,
            200);
  topics_->sent.clear();
  put("/bkt/k", "v");
  ASSERT_EQ(topics_->sent.size(), 1u);
  EXPECT_EQ(topics_->sent[0].subject, "Amazon S3 Notification");
  EXPECT_EQ(topics_->sent[0].source_arn, "arn:aws:s3:::bkt");
  EXPECT_EQ(json::parse(topics_->sent[0].body)["Records"][0]["s3"]["configurationId"], "t");
}

}  // namespace
}  // namespace fogbank::s3
