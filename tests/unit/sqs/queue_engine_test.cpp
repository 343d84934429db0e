// The SQS queue engine with a controlled clock and an in-memory store: visibility, delays, FIFO
// group locks, dead-letter moves and reloading state from the store.

#include <gtest/gtest.h>

#include "errors.hpp"
#include "queue_engine.hpp"

#include "memory_store.hpp"

namespace fogbank::sqs {
namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;

class QueueEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = test::memory_store();
    engine_ = make_engine();
  }

  std::unique_ptr<QueueEngine> make_engine() {
    auto e = std::make_unique<QueueEngine>(*store_, [this] { return now_; });
    e->load();
    return e;
  }

  SendResult send(const QueueId& q, std::string body, std::string group = {}) {
    SendRequest r;
    r.body = std::move(body);
    r.group_id = std::move(group);
    r.sender_id = "000000000000";
    return engine_->send(q, std::move(r));
  }

  std::vector<std::string> receive_bodies(const QueueId& q, std::int64_t max = 10,
                                          std::optional<std::int64_t> visibility = std::nullopt) {
    std::vector<std::string> out;
    for (const auto& r : engine_->receive(q, {max, visibility})) {
      out.push_back(r.message.body);
    }
    return out;
  }

  std::int64_t now_ = kStart;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<QueueEngine> engine_;
  QueueId q_{"000000000000", "q"};
};

TEST_F(QueueEngineTest, VisibilityTimeoutHidesThenReturnsMessage) {
  engine_->create_queue(q_, "us-east-1", {{"VisibilityTimeout", "10"}}, {});
  send(q_, "a");
  EXPECT_EQ(receive_bodies(q_), std::vector<std::string>{"a"});
  EXPECT_TRUE(receive_bodies(q_).empty());
  now_ += 9'999;
  EXPECT_TRUE(receive_bodies(q_).empty());
  now_ += 1;
  auto again = engine_->receive(q_, {1, std::nullopt});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].message.receive_count, 2u);
  EXPECT_EQ(again[0].message.first_receive_ms, kStart);
}

TEST_F(QueueEngineTest, DelayedMessagesAreCountedSeparately) {
  engine_->create_queue(q_, "us-east-1", {{"DelaySeconds", "5"}}, {});
  send(q_, "later");
  auto attrs = engine_->get_attributes(q_, {"All"});
  EXPECT_EQ(attrs["ApproximateNumberOfMessages"], "0");
  EXPECT_EQ(attrs["ApproximateNumberOfMessagesDelayed"], "1");
  now_ += 5'000;
  attrs = engine_->get_attributes(q_, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"});
  EXPECT_EQ(attrs["ApproximateNumberOfMessages"], "1");
  EXPECT_EQ(attrs["ApproximateNumberOfMessagesDelayed"], "0");
}

TEST_F(QueueEngineTest, RetentionDropsOldMessages) {
  engine_->create_queue(q_, "us-east-1", {{"MessageRetentionPeriod", "60"}}, {});
  send(q_, "old");
  now_ += 60'000;
  EXPECT_TRUE(receive_bodies(q_).empty());
  EXPECT_EQ(engine_->get_attributes(q_, {"ApproximateNumberOfMessages"})["ApproximateNumberOfMessages"], "0");
}

TEST_F(QueueEngineTest, FifoGroupStaysLockedWhileInFlight) {
  QueueId f{"000000000000", "f.fifo"};
  engine_->create_queue(f, "us-east-1", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}}, {});
  send(f, "a1", "A");
  send(f, "a2", "A");
  send(f, "b1", "B");
  EXPECT_EQ(receive_bodies(f, 1), std::vector<std::string>{"a1"});
  EXPECT_EQ(receive_bodies(f, 10), std::vector<std::string>{"b1"});
  now_ += 30'000;  // a1 and b1 become visible again, in order
  EXPECT_EQ(receive_bodies(f, 10), (std::vector<std::string>{"a1", "a2", "b1"}));
}

TEST_F(QueueEngineTest, FifoDeduplicationWindowIsFiveMinutes) {
  QueueId f{"000000000000", "d.fifo"};
  engine_->create_queue(f, "us-east-1", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}}, {});
  auto first = send(f, "same", "g");
  EXPECT_EQ(send(f, "same", "g").message_id, first.message_id);
  now_ += 5 * 60'000;
  EXPECT_NE(send(f, "same", "g").message_id, first.message_id);
}

TEST_F(QueueEngineTest, MaxReceiveCountMovesToDeadLetterQueue) {
  QueueId dlq{"000000000000", "dlq"};
  engine_->create_queue(dlq, "us-east-1", {}, {});
  engine_->create_queue(
      q_, "us-east-1",
      {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":1})"}}, {});
  send(q_, "poison");
  EXPECT_EQ(receive_bodies(q_, 1, 0), std::vector<std::string>{"poison"});
  EXPECT_TRUE(receive_bodies(q_).empty());
  auto moved = engine_->receive(dlq, {1, std::nullopt});
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].message.dead_letter_source_arn, "arn:aws:sqs:us-east-1:000000000000:q");
  ASSERT_EQ(engine_->dead_letter_sources(dlq).size(), 1u);
}

TEST_F(QueueEngineTest, StateSurvivesReload) {
  engine_->create_queue(q_, "us-east-1", {{"VisibilityTimeout", "100"}}, {{"team", "a"}});
  send(q_, "one");
  send(q_, "two");
  auto in_flight = engine_->receive(q_, {1, std::nullopt});
  ASSERT_EQ(in_flight.size(), 1u);
  engine_ = make_engine();  // a restart: everything comes back from the store
  EXPECT_EQ(engine_->tags(q_).at("team"), "a");
  EXPECT_EQ(receive_bodies(q_), std::vector<std::string>{"two"});
  engine_->delete_message(q_, in_flight[0].receipt_handle);
  now_ += 100'000;
  // "two" (received after the restart, not deleted) comes back; the deleted "one" does not.
  EXPECT_EQ(receive_bodies(q_), std::vector<std::string>{"two"});
}

TEST_F(QueueEngineTest, StaleReceiptHandleDeletesNothing) {
  engine_->create_queue(q_, "us-east-1", {}, {});
  send(q_, "m");
  auto first = engine_->receive(q_, {1, 0});
  auto second = engine_->receive(q_, {1, std::nullopt});
  ASSERT_EQ(second.size(), 1u);
  engine_->delete_message(q_, first[0].receipt_handle);
  EXPECT_EQ(engine_->get_attributes(q_, {"ApproximateNumberOfMessagesNotVisible"})["ApproximateNumberOfMessagesNotVisible"], "1");
  EXPECT_THROW(engine_->delete_message(q_, "not-base64!"), protocol::AwsError);
}

TEST_F(QueueEngineTest, WaitersAreWokenBySendAndVisibilityReset) {
  engine_->create_queue(q_, "us-east-1", {}, {});
  int wakes = 0;
  auto id = engine_->add_waiter(q_, [&] { ++wakes; });
  ASSERT_NE(id, 0u);
  send(q_, "m");
  EXPECT_EQ(wakes, 1);
  auto got = engine_->receive(q_, {1, std::nullopt});
  engine_->change_visibility(q_, got[0].receipt_handle, 0);
  EXPECT_EQ(wakes, 2);
  engine_->remove_waiter(q_, id);
  send(q_, "n");
  EXPECT_EQ(wakes, 2);
}

TEST_F(QueueEngineTest, PurgeIsRateLimited) {
  engine_->create_queue(q_, "us-east-1", {}, {});
  send(q_, "m");
  engine_->purge(q_);
  EXPECT_TRUE(receive_bodies(q_).empty());
  try {
    engine_->purge(q_);
    FAIL() << "second purge within 60 s must fail";
  } catch (const protocol::AwsError& e) {
    EXPECT_EQ(e.code, "PurgeQueueInProgress");
    EXPECT_EQ(e.status, 403);
  }
  now_ += 60'000;
  engine_->purge(q_);
}

}  // namespace
}  // namespace fogbank::sqs
