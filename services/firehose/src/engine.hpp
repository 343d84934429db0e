#pragma once
// The Firehose engine: delivery streams of every account and region, their buffered records and
// their deliveries, in memory and written through to the store (the `kinesis` column family,
// under keys that start with "firehose").
//
// A record is acknowledged once it is in RocksDB. A stream's buffer is written out as one object
// when it reaches BufferingHints.SizeInMBs or IntervalInSeconds after its first record (a timer
// on the platform's clock, so a virtual clock's advance delivers), on the platform's pool; the
// buffered records are deleted only after S3 accepted the object, so a crash or a missing bucket
// delivers them later (at least once, as AWS).

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/firehose/firehose_service.hpp"
#include "fogbank/protocol/clock.hpp"
#include "fogbank/storage/store.hpp"

namespace fogbank::firehose {

using Value = nlohmann::json;

struct Caller {
  std::string account;
  std::string region;
  std::int64_t now_ms = 0;
};

struct StreamKey {
  std::string account;
  std::string region;
  std::string name;
  auto operator<=>(const StreamKey&) const = default;
};

struct DeliveryStream {
  std::string account;
  std::string region;
  std::string name;
  std::string type = "DirectPut";  ///< or KinesisStreamAsSource, MSKAsSource
  std::string status = "CREATING";
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  int version = 1;
  Value source;                  ///< the source configuration as given (null for DirectPut)
  std::string destination_kind;  ///< "ExtendedS3", "Redshift", "HttpEndpoint", ...
  Value destination;             ///< the destination as DescribeDeliveryStream shows it
  std::vector<std::pair<std::string, std::string>> tags;
  Value encryption;              ///< DeliveryStreamEncryptionConfiguration, or null
  std::uint64_t next_record = 1;
  /// KinesisStreamAsSource: how far each source shard was read (shard id → sequence number).
  std::map<std::string, std::string> source_positions;

  [[nodiscard]] std::string arn() const {
    return "arn:aws:firehose:" + region + ":" + account + ":deliverystream/" + name;
  }
  [[nodiscard]] bool s3() const { return destination_kind == "ExtendedS3" || destination_kind == "S3"; }
};

/// One object written (or what a destination fogbank cannot reach would have received), for the
/// inspection endpoint.
struct Delivery {
  std::int64_t time_ms = 0;
  std::string stream_arn;
  std::string destination;  ///< the kind
  std::string bucket;
  std::string key;
  std::size_t records = 0;
  std::size_t bytes = 0;     ///< before compression
  std::string status;        ///< "delivered", "recorded", "failed"
  std::string error;
  std::string data;          ///< "recorded": the concatenated records
};

class FirehoseEngine : public std::enable_shared_from_this<FirehoseEngine> {
 public:
  FirehoseEngine(storage::Store& store, protocol::Scheduler& scheduler, std::shared_ptr<s3::ObjectWriter> s3,
                 std::shared_ptr<kinesis::StreamReader> kinesis, FirehoseOptions options);

  void load();
  void reset();
  /// Stops timers from posting work (called before the engine goes away).
  void shutdown();

  Value create_delivery_stream(const Value& in, const Caller& c);
  Value delete_delivery_stream(const Value& in, const Caller& c);
  Value describe_delivery_stream(const Value& in, const Caller& c);
  Value list_delivery_streams(const Value& in, const Caller& c);
  Value update_destination(const Value& in, const Caller& c);
  Value put_record(const Value& in, const Caller& c);
  Value put_record_batch(const Value& in, const Caller& c);
  Value tag_delivery_stream(const Value& in, const Caller& c);
  Value untag_delivery_stream(const Value& in, const Caller& c);
  Value list_tags_for_delivery_stream(const Value& in, const Caller& c);
  Value start_delivery_stream_encryption(const Value& in, const Caller& c);
  Value stop_delivery_stream_encryption(const Value& in, const Caller& c);

  /// Newest last; `stream` filters by name or ARN.
  std::vector<Delivery> deliveries(const std::string& stream);
  void clear_deliveries();

 private:
  struct Buffer {
    std::uint64_t bytes = 0;
    std::uint64_t records = 0;
    std::int64_t first_ms = 0;
    bool armed = false;          ///< a flush timer is pending
    std::uint64_t arm_count = 0;  ///< which arm() the pending timer belongs to
    std::optional<protocol::Scheduler::TimerId> timer;  ///< its id, once known (to cancel it)
    bool flushing = false;
  };

  DeliveryStream& require(const Caller& c, const Value& in);
  void persist(storage::Batch& batch, const DeliveryStream& s);
  void commit(storage::Batch& batch);
  /// Appends records (already checked) durably under the lock, with `positions` when they came
  /// from a source stream; the caller then starts buffering (after_append()).
  std::vector<std::string> append(DeliveryStream& s, const std::vector<std::string>& records, std::int64_t now_ms,
                                  const std::map<std::string, std::string>* positions = nullptr);
  /// Under the lock, after append(): whether to flush now, or when to arm the interval timer.
  struct Next {
    bool flush_now = false;
    std::optional<std::int64_t> arm_at;
  };
  Next after_append(const StreamKey& key, const DeliveryStream& s);
  void start(const StreamKey& key, const Next& next);
  /// Reads new records of a KinesisStreamAsSource stream's source (on the pool), then again an
  /// interval later while the stream exists.
  void poll_source(const StreamKey& key);
  void schedule_poll(const StreamKey& key, std::int64_t delay_ms);
  void arm(const StreamKey& key, std::int64_t due_ms);
  /// Writes the stream's buffer out (on the pool).
  void flush(const StreamKey& key);
  void record(Delivery d);
  void finish_transition(const StreamKey& key, const std::string& from);
  [[nodiscard]] std::int64_t interval_ms(const DeliveryStream& s) const;
  [[nodiscard]] std::uint64_t size_limit(const DeliveryStream& s) const;

  storage::Store& store_;
  protocol::Scheduler& scheduler_;
  std::shared_ptr<s3::ObjectWriter> s3_;
  std::shared_ptr<kinesis::StreamReader> kinesis_;
  FirehoseOptions options_;

  std::mutex mutex_;
  std::map<StreamKey, DeliveryStream> streams_;
  std::map<StreamKey, Buffer> buffers_;
  std::deque<Delivery> deliveries_;
  bool stopped_ = false;
};

}  // namespace fogbank::firehose
