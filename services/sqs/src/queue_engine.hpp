#pragma once
// The queue engine: every queue and message of every account, indexed in memory and written
// through to the store with one atomic batch per change.
//
// Thread-safety: every public member takes the engine's one mutex. A single lock keeps
// cross-queue moves (dead-letter queues, move tasks) simple; the critical sections are in-memory
// index updates plus one RocksDB write (WAL append), short enough for a local emulator on a few
// cores. Wake callbacks of long-poll waiters are invoked under the lock; they only post to the
// server's strands and never call back into the engine.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fogbank/storage/store.hpp"
#include "model.hpp"

namespace fogbank::sqs {

/// Unix time in milliseconds: the platform clock in the service, a controlled one in unit tests.
using Clock = std::function<std::int64_t()>;

/// A queue's identity: owner account and name (queue URLs and ARNs both reduce to this).
struct QueueId {
  std::string account;
  std::string name;
};

struct SendRequest {
  std::string body;
  MessageAttributes attributes;
  MessageAttributes system_attributes;
  std::optional<std::int64_t> delay_seconds;
  std::string group_id;
  std::string dedup_id;
  std::string sender_id;
};

struct SendResult {
  std::string message_id;
  std::string md5_body;
  std::string md5_attributes;
  std::string md5_system_attributes;
  std::string sequence_number;  ///< FIFO only
};

struct ReceiveRequest {
  std::int64_t max_messages = 1;
  std::optional<std::int64_t> visibility_timeout;
};

/// A received message: a snapshot taken under the lock, rendered after it.
struct Received {
  Message message;
  std::string receipt_handle;
  bool fifo = false;
};

/// What an access check needs to know about a queue.
struct QueueAccess {
  std::string arn;
  std::string policy;  ///< the Policy attribute, empty when none
};

struct QueueSummary {
  std::string region;
  bool fifo = false;
  std::int64_t wait_seconds = 0;
  bool content_based_dedup = false;
};

class QueueEngine {
 public:
  QueueEngine(storage::Store& store, Clock clock);

  /// Rebuilds the in-memory indexes from the store (start-up).
  void load();
  /// Drops all in-memory state (the store was wiped).
  void reset();
  [[nodiscard]] std::int64_t now_ms() const { return clock_(); }

  // --- queues ---------------------------------------------------------------------------------
  /// Creates the queue, or checks that an existing one has the same attributes (QueueNameExists
  /// otherwise). `attributes` are the raw request values.
  void create_queue(const QueueId& id, const std::string& region,
                    const std::map<std::string, std::string>& attributes,
                    const std::map<std::string, std::string>& tags);
  void delete_queue(const QueueId& id);
  /// Throws QueueDoesNotExist when missing.
  [[nodiscard]] QueueSummary describe(const QueueId& id);
  /// The queue's ARN and resource policy; nullopt when it does not exist.
  [[nodiscard]] std::optional<QueueAccess> access(const QueueId& id);
  /// Names of `account`'s queues starting with `prefix`, sorted.
  [[nodiscard]] std::vector<std::string> list_queues(const std::string& account, const std::string& prefix);
  /// GetQueueAttributes: `names` may contain "All".
  [[nodiscard]] std::map<std::string, std::string> get_attributes(const QueueId& id,
                                                                  const std::vector<std::string>& names);
  void set_attributes(const QueueId& id, const std::map<std::string, std::string>& attributes);
  /// Replaces Policy through `edit(current policy JSON or "")`, which returns the new policy or
  /// "" to remove it (AddPermission / RemovePermission).
  void edit_policy(const QueueId& id, const std::function<std::string(const std::string&, const std::string& arn)>& edit);
  [[nodiscard]] std::map<std::string, std::string> tags(const QueueId& id);
  void tag(const QueueId& id, const std::map<std::string, std::string>& tags);
  void untag(const QueueId& id, const std::vector<std::string>& keys);
  void purge(const QueueId& id);
  /// Queues whose RedrivePolicy targets `id`, sorted by name.
  [[nodiscard]] std::vector<QueueId> dead_letter_sources(const QueueId& id);

  // --- messages -------------------------------------------------------------------------------
  SendResult send(const QueueId& id, SendRequest request);
  std::vector<Received> receive(const QueueId& id, const ReceiveRequest& request);
  void delete_message(const QueueId& id, const std::string& receipt_handle);
  void change_visibility(const QueueId& id, const std::string& receipt_handle, std::int64_t timeout);

  // --- long polling ---------------------------------------------------------------------------
  /// Registers a wake callback on the queue; returns its id (0 when the queue does not exist).
  std::uint64_t add_waiter(const QueueId& id, std::function<void()> wake);
  void remove_waiter(const QueueId& id, std::uint64_t waiter);

  // --- message move tasks ---------------------------------------------------------------------
  /// Moves the source DLQ's available messages to `destination_arn` (or each message's original
  /// source when empty); returns the task handle.
  std::string start_move_task(const std::string& source_arn, const std::string& destination_arn,
                              std::int64_t max_per_second);
  [[nodiscard]] std::vector<MoveTask> list_move_tasks(const std::string& source_arn, std::size_t max);
  /// Cancels a running task of one of `account`'s queues; returns the messages moved so far.
  std::int64_t cancel_move_task(const std::string& handle, const std::string& account);

  /// Parses "arn:aws:sqs:<region>:<account>:<name>".
  static std::optional<QueueId> parse_arn(const std::string& arn);

 private:
  Queue* find(const QueueId& id);
  Queue& require(const QueueId& id);
  Queue* find_arn(const std::string& arn);
  void persist_queue(const Queue& q);
  /// load() with the lock held (also after a failed commit).
  void load_locked();
  void commit(storage::Batch& batch);
  // Index maintenance (see model.hpp for the invariants).
  void make_hidden(Queue& q, Message& m, std::int64_t until_ms, bool in_flight);
  void make_visible(Queue& q, Message& m);
  void erase(Queue& q, std::uint64_t seq, storage::Batch& batch);
  void insert(Queue& q, Message m);
  /// Moves due messages back to `ready` and sweeps expired ones (retention, dedup window).
  void refresh(Queue& q, std::int64_t now, storage::Batch& batch);
  void wake(Queue& q);
  /// Copies `m` into `to` as a new message (new seq), deleting it from `from`; persists both.
  void move_message(Queue& from, std::uint64_t seq, Queue& to, bool reset_receives, storage::Batch& batch);
  std::string receipt_handle(const Queue& q, const Message& m) const;
  Message* resolve_handle(Queue& q, const std::string& handle, bool& stale);

  storage::Store& store_;
  Clock clock_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Queue>> queues_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t next_waiter_ = 1;
};

}  // namespace fogbank::sqs
