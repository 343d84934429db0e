// An event-stream operation through ModeledService: the initial-response message first, then each
// piece the source produces, framed and encoded in the request's protocol, exceptions as exception
// messages, and the source started once and cancelled once however the stream ends.

#include <gtest/gtest.h>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/event_stream.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/protocol/modeled_service.hpp"

namespace fogbank::protocol {
namespace {

struct FakeSource final : EventSource {
  int starts = 0;
  int cancels = 0;
  std::function<void()> wake;
  std::vector<Event> ready;
  bool finish = false;
  std::optional<AwsError> fail;
  std::int64_t deadline = 1234;

  void start(std::function<void()> w) override {
    ++starts;
    wake = std::move(w);
  }
  std::vector<Event> poll(bool /*at_deadline*/, bool& finished) override {
    if (fail) {
      throw *fail;
    }
    finished = finish;
    return std::exchange(ready, {});
  }
  std::int64_t deadline_ms() const override { return deadline; }
  void cancel() noexcept override { ++cancels; }
};

class EventStreamServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModeledServiceSpec spec;
    spec.name = "kinesis";
    spec.model = "kinesis";
    spec.operations.emplace("SubscribeToShard", [this](codec::Value, Call& call) -> codec::Value {
      call.stream(source);
      return codec::Value::object();
    });
    service = std::make_unique<ModeledService>(std::move(spec));
    head.method = "POST";
    head.target = "/";
    head.split_target();
    head.headers.add("X-Amz-Target", "Kinesis_20131202.SubscribeToShard");
  }

  Response call(const std::string& content_type, std::string body) {
    head.headers.set("Content-Type", content_type);
    RequestContext ctx(head);
    ctx.request_id = "req-1";
    return service->handle(ctx, std::move(body));
  }

  static std::vector<eventstream::Message> decode(const std::string& bytes) {
    eventstream::Decoder d;
    d.feed(bytes);
    std::vector<eventstream::Message> out;
    while (auto m = d.next()) {
      out.push_back(std::move(*m));
    }
    EXPECT_EQ(d.buffered(), 0u);
    return out;
  }

  static std::string piece(ResponseStream& stream, bool at_deadline = false) {
    auto wait = stream.next();
    EXPECT_NE(wait, nullptr);
    if (!wait) {
      return {};
    }
    wait->start([] {});
    auto r = wait->poll(at_deadline);
    wait->cancel();
    return r ? r->body : std::string("<none>");
  }

  std::shared_ptr<FakeSource> source = std::make_shared<FakeSource>();
  std::unique_ptr<ModeledService> service;
  RequestHead head;
};

const char* kJsonRequest =
    R"({"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1",)"
    R"("ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}})";

TEST_F(EventStreamServiceTest, InitialResponseThenEventsAsTheSourceProducesThem) {
  Response r = call("application/x-amz-json-1.1", kJsonRequest);
  ASSERT_NE(r.stream, nullptr);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("content-type"), "application/vnd.amazon.eventstream");
  EXPECT_EQ(r.headers.get("x-amzn-RequestId"), "req-1");

  auto initial = decode(piece(*r.stream));
  ASSERT_EQ(initial.size(), 1u);
  EXPECT_EQ(initial[0].string_header(":event-type"), "initial-response");
  EXPECT_EQ(initial[0].string_header(":message-type"), "event");
  EXPECT_EQ(initial[0].payload, "{}");
  EXPECT_EQ(source->starts, 0);  // not before the first event is wanted

  // Nothing ready: the piece keeps waiting until its deadline, which is the source's.
  auto wait = r.stream->next();
  wait->start([] {});
  EXPECT_EQ(source->starts, 1);
  EXPECT_EQ(wait->deadline_ms(), 1234);
  EXPECT_FALSE(wait->poll(false).has_value());
  int woken = 0;
  wait->cancel();
  wait = r.stream->next();
  wait->start([&] { ++woken; });
  source->wake();  // the source's one wake reaches the piece in progress
  EXPECT_EQ(woken, 1);
  source->ready.push_back({"SubscribeToShardEvent",
                           {{"Records", codec::Value::array()}, {"ContinuationSequenceNumber", "49"},
                            {"MillisBehindLatest", 0}}});
  source->ready.push_back({"SubscribeToShardEvent",
                           {{"Records", codec::Value::array()}, {"ContinuationSequenceNumber", "50"},
                            {"MillisBehindLatest", 7}}});
  auto got = wait->poll(false);
  wait->cancel();
  ASSERT_TRUE(got.has_value());
  auto events = decode(got->body);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].string_header(":event-type"), "SubscribeToShardEvent");
  EXPECT_EQ(events[0].string_header(":content-type"), "application/json");
  EXPECT_EQ(events[1].payload, R"({"Records":[],"ContinuationSequenceNumber":"50","MillisBehindLatest":7})");
  EXPECT_EQ(source->starts, 1);

  // At its deadline an empty piece is an answer (nothing to send), not a wait.
  EXPECT_EQ(piece(*r.stream, true), "");

  source->finish = true;
  EXPECT_EQ(piece(*r.stream), "");
  EXPECT_EQ(r.stream->next(), nullptr);
  EXPECT_EQ(source->cancels, 1);
  r.stream.reset();
  EXPECT_EQ(source->cancels, 1);
}

TEST_F(EventStreamServiceTest, AnErrorBecomesAnExceptionMessageAndEndsTheStream) {
  Response r = call("application/x-amz-json-1.1", kJsonRequest);
  piece(*r.stream);
  source->fail = AwsError("ResourceNotFoundException", 400, "Stream s under account 000000000000 not found.");
  auto messages = decode(piece(*r.stream));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].string_header(":message-type"), "exception");
  EXPECT_EQ(messages[0].string_header(":exception-type"), "ResourceNotFoundException");
  EXPECT_EQ(messages[0].payload, R"({"message":"Stream s under account 000000000000 not found."})");
  EXPECT_EQ(r.stream->next(), nullptr);
  EXPECT_EQ(source->cancels, 1);

  // An error the stream does not model is its InternalFailureException.
  source = std::make_shared<FakeSource>();
  Response r2 = call("application/x-amz-json-1.1", kJsonRequest);
  piece(*r2.stream);
  source->fail = AwsError("Throttling", 400, "slow down");
  auto internal = decode(piece(*r2.stream));
  EXPECT_EQ(internal.at(0).string_header(":exception-type"), "InternalFailureException");
}

TEST_F(EventStreamServiceTest, CborRequestsGetCborPayloads) {
  Response r = call("application/x-amz-cbor-1.1",
                    codec::encode_cbor(model::get("kinesis").operation("SubscribeToShard")->input,
                                       codec::Value::parse(kJsonRequest)));
  auto initial = decode(piece(*r.stream));
  EXPECT_EQ(initial.at(0).payload, std::string("\xA0", 1));
  source->ready.push_back({"SubscribeToShardEvent",
                           {{"Records", codec::Value::array()}, {"ContinuationSequenceNumber", "1"},
                            {"MillisBehindLatest", 0}}});
  auto events = decode(piece(*r.stream));
  EXPECT_EQ(events.at(0).string_header(":content-type"), "application/cbor");
  auto decoded = codec::decode_cbor(model::get("kinesis").shape("SubscribeToShardEvent"), events.at(0).payload);
  EXPECT_EQ(decoded["ContinuationSequenceNumber"], "1");
}

TEST_F(EventStreamServiceTest, ASourceStartedButAbandonedIsCancelledOnce) {
  Response r = call("application/x-amz-json-1.1", kJsonRequest);
  piece(*r.stream);
  auto wait = r.stream->next();
  wait->start([] {});
  wait->cancel();
  wait.reset();
  r.stream.reset();  // the server stopped asking (client gone)
  EXPECT_EQ(source->starts, 1);
  EXPECT_EQ(source->cancels, 1);
}

}  // namespace
}  // namespace fogbank::protocol
