// SubscribeToShard: enhanced fan-out, pushed to the consumer as an event stream.
//
// A subscription reads its shard the way GetRecords does (read_shard) and turns each read into a
// SubscribeToShardEvent. It sends an event at once, then whenever records arrive (the engine wakes
// its watchers after every put) and at least every 5 seconds while the shard is quiet, so a
// consumer always holds a fresh ContinuationSequenceNumber. At a closed shard's end the last event
// carries ChildShards and the stream ends; after 5 minutes on the platform's clock it ends too, and
// the consumer subscribes again from its continuation, as with AWS.

#include <mutex>

#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/modeled_service.hpp"
#include "persistence.hpp"

namespace fogbank::kinesis {

namespace {

constexpr std::int64_t kSubscriptionMs = 5 * 60 * 1000;
constexpr std::int64_t kQuietEventMs = 5'000;
// AWS pushes up to 2 MiB per second per shard to each consumer; one event carries at most that.
constexpr std::size_t kEventBytes = 2 * 1024 * 1024;
constexpr std::size_t kEventRecords = 10'000;

class Subscription final : public protocol::EventSource {
 public:
  Subscription(std::shared_ptr<KinesisEngine> engine, IteratorPosition at, std::string stream_id,
               std::int64_t started_ms)
      : engine_(std::move(engine)), at_(std::move(at)), stream_id_(std::move(stream_id)),
        ends_ms_(started_ms + kSubscriptionMs) {}

  ~Subscription() override { cancel(); }

  void start(std::function<void()> wake) override {
    watch_ = engine_->watch(stream_id_, std::move(wake));
  }

  std::vector<Event> poll(bool /*at_deadline*/, bool& finished) override {
    const std::int64_t now = engine_->clock().now_ms();
    if (now >= ends_ms_) {
      finished = true;
      return {};
    }
    Value records = Value::array();
    auto page = engine_->read_shard(at_, at_.next_counter, kEventRecords, kEventBytes, now, nullptr, false,
                                    [&](const persist::StoredRecord& r, const std::string& seq) {
                                      records.push_back(record_value(r, seq));
                                    });
    const bool quiet_too_long = last_event_ms_ < 0 || now - last_event_ms_ >= kQuietEventMs;
    if (page.count == 0 && !page.closed_end && !quiet_too_long) {
      return {};
    }
    at_.next_counter = page.next;
    Value event = {{"Records", std::move(records)}, {"MillisBehindLatest", page.behind_ms}};
    if (page.closed_end) {
      // The shard is done: the consumer continues with its children, not from a sequence number.
      event["ChildShards"] = std::move(page.child_shards);
      finished = true;
    } else {
      if (page.last_sequence) {
        continuation_ = *page.last_sequence;
      } else if (continuation_.empty()) {
        continuation_ = page.position;
      }
      event["ContinuationSequenceNumber"] = continuation_;
    }
    last_event_ms_ = now;
    return {Event{"SubscribeToShardEvent", std::move(event)}};
  }

  std::int64_t deadline_ms() const override {
    return last_event_ms_ < 0 ? 0 : std::min(last_event_ms_ + kQuietEventMs, ends_ms_);
  }

  void cancel() noexcept override {
    if (watch_ != 0) {
      engine_->unwatch(watch_);
      watch_ = 0;
    }
  }

 private:
  std::shared_ptr<KinesisEngine> engine_;
  IteratorPosition at_;
  std::string stream_id_;
  std::int64_t ends_ms_;
  std::int64_t last_event_ms_ = -1;
  std::string continuation_;  // the last record sent, or where the subscription started
  std::uint64_t watch_ = 0;
};

}  // namespace

std::shared_ptr<protocol::EventSource> KinesisEngine::subscribe_to_shard(const Value& in, const Caller& c) {
  const std::string consumer_arn = string_of(in, "ConsumerARN");
  const std::string shard_id = string_of(in, "ShardId");
  const Value& starting = in.contains("StartingPosition") ? in["StartingPosition"] : Value::object();
  const std::string type = string_of(starting, "Type");
  const bool wants_seq = type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER";
  if (wants_seq && !starting.contains("SequenceNumber")) {
    throw errors::invalid_argument("StartingPosition.SequenceNumber must be specified for type " + type + ".");
  }
  if (type == "AT_TIMESTAMP" && !starting.contains("Timestamp")) {
    throw errors::invalid_argument("StartingPosition.Timestamp must be specified for type AT_TIMESTAMP.");
  }
  std::lock_guard lock(mu_);
  Value by_arn = {{"ConsumerARN", consumer_arn}};
  auto [s, consumer] = named_consumer(by_arn, c);
  if (consumer->status != "ACTIVE") {
    throw errors::in_use("Consumer " + consumer->arn + " is not in ACTIVE state.");
  }
  if (s->status != "ACTIVE" && s->status != "UPDATING") {
    throw errors::in_use("Stream " + s->name + " under account " + s->account + " is not ACTIVE.");
  }
  auto index = shard_index_of(shard_id);
  if (!index || *index >= s->shards.size()) {
    throw protocol::AwsError("ResourceNotFoundException", 400,
                             "Shard " + shard_id + " in stream " + s->name + " under account " + s->account +
                                 " does not exist");
  }
  const std::string key = consumer->arn + "|" + shard_id;
  if (auto it = subscribed_at_.find(key); it != subscribed_at_.end() && c.now_ms - it->second < 5'000) {
    throw errors::in_use("Another active subscription exists for consumer " + consumer->arn + " on shard " + shard_id +
                         "; a consumer can subscribe to a shard once every 5 seconds.");
  }
  const Shard& shard = s->shards[*index];
  const std::uint64_t from =
      start_counter(*s, shard, type, string_of(starting, "SequenceNumber"),
                    starting.contains("Timestamp") ? timestamp_ms(starting["Timestamp"]) : 0, "SubscribeToShard");
  subscribed_at_[key] = c.now_ms;
  IteratorPosition at{s->account, s->region, s->name, s->created_ms, shard.index, from, c.now_ms};
  return std::make_shared<Subscription>(shared_from_this(), std::move(at), s->id, c.now_ms);
}

std::uint64_t KinesisEngine::watch(const std::string& stream_id, std::function<void()> wake) {
  std::lock_guard lock(watch_mu_);
  const std::uint64_t id = next_watch_++;
  watchers_.emplace(id, std::make_pair(stream_id, std::move(wake)));
  return id;
}

void KinesisEngine::unwatch(std::uint64_t id) {
  std::lock_guard lock(watch_mu_);
  watchers_.erase(id);
}

void KinesisEngine::notify_watchers(const std::string& stream_id) {
  std::lock_guard lock(watch_mu_);
  for (const auto& [id, w] : watchers_) {
    if (w.first == stream_id) {
      w.second();  // the server's wake only posts to the waiting connection
    }
  }
}

}  // namespace fogbank::kinesis
