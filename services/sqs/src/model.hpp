#pragma once
// The SQS domain model: queues, messages and their in-memory indexes. Plain data; the QueueEngine
// (queue_engine.hpp) owns every instance and guards them with its mutex.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fogbank::sqs {

/// One message attribute (user or system). Binary values are kept as raw bytes; the wire carries
/// them base64-encoded in both protocols.
struct MessageAttribute {
  std::string data_type;     ///< "String", "Number", "Binary", optionally with ".custom"
  std::string string_value;  ///< String and Number types
  std::string binary_value;  ///< Binary types (raw bytes)
  [[nodiscard]] bool is_binary() const { return data_type.rfind("Binary", 0) == 0; }
};
/// Sorted by name: the order AWS's MD5OfMessageAttributes is computed in.
using MessageAttributes = std::map<std::string, MessageAttribute>;

/// A stored message. The first block never changes after the send (persisted once, under the
/// `m` key); the second block is its delivery state (persisted under the `s` key on every change).
struct Message {
  std::uint64_t seq = 0;  ///< order within the queue, also the FIFO SequenceNumber's source
  std::string id;
  std::string body;
  MessageAttributes attributes;
  MessageAttributes system_attributes;  ///< AWSTraceHeader
  std::string md5_body;
  std::string md5_attributes;         ///< of all user attributes; empty when none
  std::string md5_system_attributes;  ///< empty when none
  std::string sender_id;
  std::int64_t sent_ms = 0;
  std::string group_id;
  std::string dedup_id;
  std::string dead_letter_source_arn;  ///< set when moved to a DLQ

  std::int64_t visible_at_ms = 0;  ///< invisible (delayed or in flight) until then
  std::uint32_t receive_count = 0;
  std::int64_t first_receive_ms = 0;
  std::string receipt_token;  ///< the latest receive's token; older handles are stale

  bool in_flight = false;  ///< memory only: received and not yet visible again (locks its group)
};

/// A message move task (StartMessageMoveTask). fogbank moves the messages synchronously, so a
/// task is COMPLETED by the time StartMessageMoveTask answers.
struct MoveTask {
  std::string handle;
  std::string status;  ///< RUNNING, COMPLETED, CANCELLED, FAILED
  std::string source_arn;
  std::string destination_arn;  ///< empty: each message back to its original source
  std::int64_t max_per_second = -1;
  std::int64_t moved = 0;
  std::int64_t to_move = 0;
  std::int64_t started_ms = 0;
  std::string failure_reason;
};

/// A FIFO deduplication record (5-minute window).
struct DedupEntry {
  std::int64_t expires_ms = 0;
  std::string message_id;
  std::uint64_t seq = 0;
};

struct Queue {
  // Identity and configuration (persisted under the `q` key).
  std::string account;
  std::string name;
  std::string region;
  std::string uid;  ///< random; prefixes this queue's message keys, so a re-created queue starts empty
  bool fifo = false;
  std::int64_t created_s = 0;
  std::int64_t modified_s = 0;
  /// Every settable attribute, defaults included, as AWS reports them ("VisibilityTimeout" → "30").
  std::map<std::string, std::string> attributes;
  std::map<std::string, std::string> tags;
  std::int64_t last_purge_ms = 0;
  std::vector<MoveTask> move_tasks;

  // Typed views of `attributes`, refreshed by apply_attributes().
  std::int64_t visibility_timeout = 30;
  std::int64_t delay_seconds = 0;
  std::int64_t maximum_message_size = 1048576;
  std::int64_t retention_seconds = 345600;
  std::int64_t wait_seconds = 0;
  bool content_based_dedup = false;
  bool dedup_per_group = false;
  std::string dead_letter_arn;  ///< RedrivePolicy target, empty when none
  std::int64_t max_receive_count = 0;

  // Messages and their indexes (memory only; rebuilt at load).
  std::map<std::uint64_t, Message> messages;
  std::set<std::uint64_t> ready;                               ///< visible, by seq
  std::set<std::pair<std::int64_t, std::uint64_t>> hidden;     ///< (visible_at_ms, seq)
  std::map<std::string, int> groups_in_flight;                 ///< FIFO group locks
  std::map<std::string, DedupEntry> dedup;                     ///< FIFO dedup key → entry
  std::deque<std::pair<std::int64_t, std::string>> dedup_expiry;  ///< (expires_ms, key), in order
  /// Long-poll receivers waiting on this queue: id → wake callback (thread-safe, cheap).
  std::map<std::uint64_t, std::function<void()>> waiters;

  [[nodiscard]] std::string arn() const { return "arn:aws:sqs:" + region + ":" + account + ":" + name; }
};

}  // namespace fogbank::sqs
