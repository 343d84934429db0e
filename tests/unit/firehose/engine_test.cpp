// The Firehose engine over an in-memory store, a virtual clock and fakes of S3's ObjectWriter
// and Kinesis's StreamReader: interval and size flushes, KinesisStreamAsSource reading each
// record once across a reload.

#include "engine.hpp"

#include <chrono>
#include <condition_variable>
#include <thread>

#include <gtest/gtest.h>

#include "fogbank/protocol/aws_error.hpp"

#include "memory_store.hpp"

namespace fogbank::firehose {
namespace {

constexpr std::int64_t kStart = 1'800'000'000'000;
const Caller kCaller{"111111111111", "us-east-1", kStart};
const std::string kSourceArn = "arn:aws:kinesis:us-east-1:111111111111:stream/src";

class FakeWriter final : public s3::ObjectWriter {
 public:
  s3::WriteOutcome put(const s3::ServiceObject& object) override {
    std::lock_guard lock(mutex);
    objects.push_back(object);
    return {true, "etag", {}, {}};
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return objects.size();
  }
  std::mutex mutex;
  std::vector<s3::ServiceObject> objects;
};

/// One shard whose records have sequence numbers "1", "2", ...
class FakeReader final : public kinesis::StreamReader {
 public:
  kinesis::SourceBatch read(std::string_view arn, const std::map<std::string, std::string>& positions,
                            std::size_t limit) override {
    std::lock_guard lock(mutex);
    ++reads;
    kinesis::SourceBatch out;
    out.found = arn == kSourceArn;
    out.positions = positions;
    auto it = positions.find("shardId-000000000000");
    std::size_t from = it == positions.end() ? 0 : std::stoul(it->second);
    for (std::size_t i = from; i < data.size() && out.records.size() < limit; ++i) {
      out.records.push_back({"shardId-000000000000", std::to_string(i + 1), "pk", data[i], kStart});
      out.positions["shardId-000000000000"] = std::to_string(i + 1);
    }
    return out;
  }
  void add(std::string record) {
    std::lock_guard lock(mutex);
    data.push_back(std::move(record));
  }
  std::mutex mutex;
  std::vector<std::string> data;
  int reads = 0;
};

bool eventually(const std::function<bool()>& done, int max_ms = 5000) {
  for (int i = 0; i < max_ms; ++i) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

class FirehoseEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = test::memory_store();
    engine_ = make_engine();
  }
  void TearDown() override {
    engine_->shutdown();
    engine_.reset();
    scheduler_.reset();
  }

  std::shared_ptr<FirehoseEngine> make_engine() {
    FirehoseOptions options;
    options.transition_delay_ms = 0;
    auto e = std::make_shared<FirehoseEngine>(*store_, *scheduler_, writer_, reader_, options);
    e->load();
    return e;
  }

  Value s3_destination(int interval_s, int size_mb = 1) {
    return Value{{"RoleARN", "arn:aws:iam::111111111111:role/f"},
                 {"BucketARN", "arn:aws:s3:::sink"},
                 {"BufferingHints", {{"SizeInMBs", size_mb}, {"IntervalInSeconds", interval_s}}}};
  }

  std::string joined(std::size_t i) {
    std::lock_guard lock(writer_->mutex);
    return writer_->objects.at(i).body;
  }

  protocol::VirtualClock clock_{kStart};
  std::unique_ptr<protocol::Scheduler> scheduler_ = std::make_unique<protocol::Scheduler>(clock_, 1);
  std::unique_ptr<storage::Store> store_;
  std::shared_ptr<FakeWriter> writer_ = std::make_shared<FakeWriter>();
  std::shared_ptr<FakeReader> reader_ = std::make_shared<FakeReader>();
  std::shared_ptr<FirehoseEngine> engine_;
};

TEST_F(FirehoseEngineTest, TheIntervalWritesOneObjectOfEveryRecord) {
  engine_->create_delivery_stream(Value{{"DeliveryStreamName", "d"}, {"ExtendedS3DestinationConfiguration", s3_destination(60)}},
                                  kCaller);
  for (const char* r : {"a", "b", "c"}) {
    engine_->put_record(Value{{"DeliveryStreamName", "d"}, {"Record", {{"Data", r}}}}, kCaller);
  }
  clock_.advance_ms(59'999);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(writer_->count(), 0u);
  clock_.advance_ms(1);
  ASSERT_TRUE(eventually([&] { return writer_->count() == 1; }));
  EXPECT_EQ(joined(0), "abc");
  std::lock_guard lock(writer_->mutex);
  EXPECT_EQ(writer_->objects[0].bucket, "sink");
  EXPECT_EQ(writer_->objects[0].account, "111111111111");
  EXPECT_TRUE(writer_->objects[0].key.starts_with("2027/01/15/08/d-1-2027-01-15-08-00-00-")) << writer_->objects[0].key;
}

TEST_F(FirehoseEngineTest, SourceRecordsAreReadOnceAcrossAReload) {
  reader_->add("one;");
  reader_->add("two;");
  engine_->create_delivery_stream(
      Value{{"DeliveryStreamName", "k"},
            {"DeliveryStreamType", "KinesisStreamAsSource"},
            {"KinesisStreamSourceConfiguration", {{"KinesisStreamARN", kSourceArn}, {"RoleARN", "arn:aws:iam::1:role/r"}}},
            {"ExtendedS3DestinationConfiguration", s3_destination(60)}},
      kCaller);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(reader_->mutex);
    return reader_->reads >= 1;
  }));
  // PutRecord is not for streams fed by Kinesis.
  EXPECT_THROW(engine_->put_record(Value{{"DeliveryStreamName", "k"}, {"Record", {{"Data", "x"}}}}, kCaller),
               protocol::AwsError);
  // Restart before the buffer went out: buffered records and the read position come back.
  engine_->shutdown();
  engine_ = make_engine();
  ASSERT_TRUE(eventually([&] {  // the reloaded engine's first poll, which arms the next one
    std::lock_guard lock(reader_->mutex);
    return reader_->reads >= 2;
  }));
  reader_->add("three;");
  // The next poll is due a second after the last one ran; advance a second at a time (well
  // under the 60 s interval) until it has run.
  bool polled = false;
  for (int i = 0; i < 30 && !polled; ++i) {
    clock_.advance_ms(1000);
    polled = eventually([&] {
      std::lock_guard lock(reader_->mutex);
      return reader_->reads >= 3;
    }, 100);
  }
  ASSERT_TRUE(polled);
  clock_.advance_ms(60'000);
  ASSERT_TRUE(eventually([&] { return writer_->count() == 1; }));
  EXPECT_EQ(joined(0), "one;two;three;");
}

}  // namespace
}  // namespace fogbank::firehose
