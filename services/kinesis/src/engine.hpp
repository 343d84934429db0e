#pragma once
// The Kinesis engine: an in-memory index of every stream (by account, region and name) written
// through to the `kinesis` column family, one mutex over it, and Scheduler timers on the platform
// clock for lifecycle transitions and retention trimming.
//
// Handlers take the decoded input value and the caller and return the output value or throw
// AwsError. They are split by topic: streams.cpp (lifecycle, describe, list, settings),
// shards.cpp (ListShards, split, merge, UpdateShardCount), records.cpp (PutRecord(s),
// GetShardIterator, GetRecords, retention), extras.cpp (tags, consumers, policies, limits).
// direct.cpp reads and writes the JSON of PutRecords and GetRecords itself and calls the typed
// cores (put_entries, read_iterator) that the generic handlers share.

#include <cstdint>
#include <map>
#include <memory>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "fogbank/kinesis/kinesis_service.hpp"
#include "fogbank/kinesis/stream_reader.hpp"
#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/codec.hpp"
#include "model.hpp"
#include "persistence.hpp"
#include "shard_iterator.hpp"
#include "throughput.hpp"

namespace fogbank::protocol {
class EventSource;
}  // namespace fogbank::protocol

namespace fogbank::storage {
class Store;
class Batch;
}  // namespace fogbank::storage

namespace fogbank::kinesis {

using protocol::codec::Value;

struct Caller {
  std::string account;
  std::string region;
  std::int64_t now_ms = 0;
};

class KinesisEngine : public std::enable_shared_from_this<KinesisEngine> {
 public:
  /// `scheduler` may be null (tests): transitions then complete within the request.
  KinesisEngine(storage::Store& store, const protocol::Clock& clock, protocol::Scheduler* scheduler,
                KinesisOptions options);

  /// Reads every stream, shard counter and the iterator key; resumes pending transitions and
  /// starts retention trimming. Call once, after construction.
  void load();
  /// Forgets everything in memory (the store was wiped) and starts afresh.
  void reset();

  // Streams (streams.cpp)
  Value create_stream(const Value& in, const Caller& c);
  Value delete_stream(const Value& in, const Caller& c);
  Value describe_stream(const Value& in, const Caller& c);
  Value describe_stream_summary(const Value& in, const Caller& c);
  Value list_streams(const Value& in, const Caller& c);
  Value update_stream_mode(const Value& in, const Caller& c);
  Value increase_retention(const Value& in, const Caller& c);
  Value decrease_retention(const Value& in, const Caller& c);
  Value start_encryption(const Value& in, const Caller& c);
  Value stop_encryption(const Value& in, const Caller& c);
  Value enable_monitoring(const Value& in, const Caller& c);
  Value disable_monitoring(const Value& in, const Caller& c);
  Value update_warm_throughput(const Value& in, const Caller& c);
  Value update_max_record_size(const Value& in, const Caller& c);
  // Shards (shards.cpp)
  Value list_shards(const Value& in, const Caller& c);
  Value split_shard(const Value& in, const Caller& c);
  Value merge_shards(const Value& in, const Caller& c);
  Value update_shard_count(const Value& in, const Caller& c);
  // Records (records.cpp)
  Value put_record(const Value& in, const Caller& c);
  Value put_records(const Value& in, const Caller& c);
  Value get_shard_iterator(const Value& in, const Caller& c);
  Value get_records(const Value& in, const Caller& c);
  // Enhanced fan-out (subscribe.cpp): the events of one SubscribeToShard call.
  std::shared_ptr<protocol::EventSource> subscribe_to_shard(const Value& in, const Caller& c);
  // Tags, consumers, policies, limits (extras.cpp)
  Value add_tags_to_stream(const Value& in, const Caller& c);
  Value remove_tags_from_stream(const Value& in, const Caller& c);
  Value list_tags_for_stream(const Value& in, const Caller& c);
  Value tag_resource(const Value& in, const Caller& c);
  Value untag_resource(const Value& in, const Caller& c);
  Value list_tags_for_resource(const Value& in, const Caller& c);
  Value register_consumer(const Value& in, const Caller& c);
  Value describe_consumer(const Value& in, const Caller& c);
  Value list_consumers(const Value& in, const Caller& c);
  Value deregister_consumer(const Value& in, const Caller& c);
  Value put_resource_policy(const Value& in, const Caller& c);
  Value get_resource_policy(const Value& in, const Caller& c);
  Value delete_resource_policy(const Value& in, const Caller& c);
  Value describe_limits(const Value& in, const Caller& c);
  Value describe_account_settings(const Value& in, const Caller& c);
  Value update_account_settings(const Value& in, const Caller& c);

  /// One bounded retention pass: deletes up to `retention_sweep_batch` stored chunks (the records
  /// of one call and shard, which arrived together) older than their stream's retention period.
  /// Returns how many it deleted (tests call it directly).
  std::size_t sweep_retention();
  /// StreamReader::read (Firehose's KinesisStreamAsSource), for the stream's own account.
  SourceBatch read_source(std::string_view stream_arn, const std::map<std::string, std::string>& positions,
                          std::size_t limit);
  [[nodiscard]] const KinesisOptions& options() const { return options_; }
  [[nodiscard]] const protocol::Clock& clock() const { return clock_; }

  /// What one read of a shard found (GetRecords, SubscribeToShard); the records themselves went
  /// to the read's RecordVisitor.
  struct ShardPage {
    std::size_t count = 0;         ///< records visited
    std::uint64_t next = 0;        ///< the first counter not read
    std::int64_t behind_ms = 0;    ///< MillisBehindLatest
    bool closed_end = false;       ///< a closed shard read to its end: `child_shards` apply
    Value child_shards;
    std::optional<std::string> last_sequence;  ///< of the last record returned
    std::string position;          ///< a sequence number just before `next` (resume AFTER it)
  };
  /// Sees each record a read returns, in order, with its sequence number. The views are valid
  /// only during the call (they point into the stored chunk).
  using RecordVisitor = std::function<void(const persist::StoredRecord&, const std::string& sequence_number)>;
  /// Reads `at`'s shard from counter `from`: at most `limit` records and `max_bytes` of data (at
  /// least one record). Throws ResourceNotFoundException when the stream or shard is gone, and
  /// InvalidArgument when `stream_arn` is given and names another stream.
  /// `metered`: a GetRecords call, subject to the read limits under --kinesis-limits.
  ShardPage read_shard(const IteratorPosition& at, std::uint64_t from, std::size_t limit, std::size_t max_bytes,
                       std::int64_t now_ms, const std::string* stream_arn, bool metered, const RecordVisitor& visit);
  /// GetRecords with its input already read: checks the iterator, reads its page into `page` and
  /// `visit`, and returns the next iterator (none at a closed shard's end: see page.child_shards).
  std::optional<std::string> read_iterator(const std::string& token, const std::string& stream_arn, std::size_t limit,
                                           const Caller& c, const RecordVisitor& visit, ShardPage& page);

  /// One record of a PutRecords call as the wire gave it (views into the request).
  struct PutEntry {
    std::string_view partition_key;
    std::string_view data;
    std::optional<std::string_view> explicit_hash_key;
  };
  /// One record's outcome: its shard and sequence number, or the error AWS reports for it alone.
  struct PutResult {
    std::uint32_t shard = 0;
    std::string sequence_number;
    std::string error_code;  ///< empty when the record was written
    std::string error_message;
  };
  struct PutOutcome {
    std::vector<PutResult> records;
    int failed = 0;
    bool encrypted = false;
  };
  /// PutRecords with its input already read (the generic handler and the JSON direct path).
  PutOutcome put_entries(const std::string& stream_name, const std::string& stream_arn,
                         const std::vector<PutEntry>& entries, const Caller& c);

  /// Calls `wake` after records are written to the stream `stream_id` or its shards change, until
  /// unwatch(returned id). `wake` must not call back into the engine.
  std::uint64_t watch(const std::string& stream_id, std::function<void()> wake);
  void unwatch(std::uint64_t id);

 private:
  using StreamKey = std::string;  // persist::stream_key(account, region, name)

  /// A stream or consumer named by ResourceARN, with its tags.
  struct ResourceRef {
    Stream* stream = nullptr;
    std::map<std::string, std::string>* tags = nullptr;
    std::string arn;
  };
  ResourceRef find_resource(const Value& in, const Caller& c);
  /// Increase/DecreaseStreamRetentionPeriod: AWS's bounds, direction and state checks.
  Value change_retention(const Value& in, const Caller& c, bool increase);
  /// The consumer named by ConsumerARN, or by StreamARN and ConsumerName, with its stream.
  std::pair<Stream*, Consumer*> named_consumer(const Value& in, const Caller& c);

  // Lookups (throw ResourceNotFoundException / ResourceInUseException with AWS's wording).
  Stream& find_stream(const Value& in, const Caller& c);
  Stream& find_stream(const std::string& name, const std::string& arn, const Caller& c);
  static StreamKey key_of(const Stream& s);
  Stream* find_stream_by_arn(std::string_view arn, const Caller& c);
  Stream& find_stream_named(const std::string& name, const std::string& account, const std::string& region);
  Stream& active_stream(const Value& in, const Caller& c);
  Shard& find_shard(Stream& s, std::string_view shard_id, const char* operation);
  [[nodiscard]] int open_shards_in(const std::string& account, const std::string& region) const;
  void check_shard_limit(const Caller& c, int additional) const;
  /// AWS lets 5 streams per account and region be CREATING or DELETING at once.
  static constexpr int kMaxStreamsInTransition = 5;
  void check_transition_limit(const Caller& c) const;

  // Write-through.
  void save(const Stream& s);
  void save(const Stream& s, storage::Batch& batch);

  // Lifecycle: `status` now, ACTIVE (or gone, for DELETING) after the configured delay.
  void begin_transition(Stream& s, const std::string& status, std::int64_t now_ms);
  void schedule_transition(const StreamKey& key, std::int64_t due_ms);
  void complete_transition(const StreamKey& key);
  void complete_locked(const StreamKey& key);
  /// After a transition began (mu_ held): completes it now when no delay applies, else arms its timer.
  void settle(const StreamKey& key);
  void settle_consumer(const StreamKey& key, const std::string& consumer);
  void complete_consumer_locked(const StreamKey& key, const std::string& consumer);
  void erase_stream(const StreamKey& key);
  void schedule_consumer(const StreamKey& key, const std::string& consumer, std::int64_t due_ms);
  void complete_consumer(const StreamKey& key, const std::string& consumer);
  void schedule_retention(std::int64_t due_ms);

  // Shards.
  Shard& add_shard(Stream& s, HashRange range, std::int64_t now_ms, std::optional<std::uint32_t> parent,
                   std::optional<std::uint32_t> adjacent);
  static void close_shard(Shard& shard, std::int64_t now_ms);

  // Output shapes.
  Value shard_value(const Shard& shard) const;
  Value summary_value(const Stream& s) const;

  // Records.
  /// The first record counter a reader starting at `type` reads (GetShardIterator's and
  /// SubscribeToShard's StartingPosition). mu_ held.
  std::uint64_t start_counter(const Stream& s, const Shard& shard, const std::string& type, const std::string& seq_text,
                              std::int64_t at_ms, const char* operation);
  /// Wakes the watchers of `stream_id` (mu_ not held).
  void notify_watchers(const std::string& stream_id);
  /// Routes one record and adds it to `by_shard[index of its shard]`: a call's records become one
  /// chunk per shard (see persistence.hpp).
  PutResult put_one(Stream& s, std::string_view partition_key, const std::string_view* explicit_hash_key,
                    std::string_view data, std::int64_t now_ms, std::vector<persist::ChunkWriter>& by_shard);
  /// One empty chunk per shard of `s`, for records arriving at `now_ms`.
  static std::vector<persist::ChunkWriter> chunk_writers(const Stream& s, std::int64_t now_ms);
  /// Writes the non-empty chunks and their shards' counters, atomically.
  void commit_records(const Stream& s, std::vector<persist::ChunkWriter>& by_shard);

  storage::Store& store_;
  const protocol::Clock& clock_;
  protocol::Scheduler* scheduler_;
  KinesisOptions options_;
  std::string iterator_key_;

  mutable std::mutex mu_;
  std::map<StreamKey, Stream> streams_;
  std::map<std::string, std::string> account_settings_;  ///< account/region key → status
  /// --kinesis-limits: stream id + shard index → its buckets (in memory: a restart refills them).
  std::map<std::string, ShardThrottle> throttles_;
  ShardThrottle& throttle(const std::string& stream_id, std::uint32_t shard);
  /// Consumer ARN + shard → when its last SubscribeToShard began (AWS allows one per 5 s).
  std::map<std::string, std::int64_t> subscribed_at_;

  std::mutex watch_mu_;  // after mu_ when both are taken
  std::uint64_t next_watch_ = 1;
  std::map<std::uint64_t, std::pair<std::string, std::function<void()>>> watchers_;
};

namespace errors {
protocol::AwsError not_found(const std::string& stream, const std::string& account);
protocol::AwsError in_use(std::string message);
protocol::AwsError invalid_argument(std::string message);
protocol::AwsError limit_exceeded(std::string message);
protocol::AwsError validation(std::string message);
/// ProvisionedThroughputExceededException for `shard` of a stream, in AWS's words.
protocol::AwsError throughput_exceeded(const std::string& shard, const std::string& stream, const std::string& account);
}  // namespace errors

/// GetRecords' Record shape of a stored record.
Value record_value(const persist::StoredRecord& r, const std::string& sequence_number);

/// Epoch seconds with milliseconds, the value the codecs write as a timestamp.
inline double to_timestamp(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }
/// A timestamp input value (epoch seconds) in milliseconds.
std::int64_t timestamp_ms(const Value& v);
/// The string member `name` of `in`, or "" when absent.
std::string string_of(const Value& in, const char* name);

}  // namespace fogbank::kinesis
