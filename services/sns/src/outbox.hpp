#pragma once
// The durable outbox of HTTP/HTTPS deliveries. A publish (or a Subscribe's confirmation, or an
// Unsubscribe's) writes one entry per HTTP(S) subscription into the same RocksDB batch as the rest
// of its change, so an acknowledged request has its deliveries on disk; they are then sent
// asynchronously through protocol::HttpClient, retried on Scheduler timers by the subscription's
// effective DeliveryPolicy, and removed once delivered, refused or given up (to the dead-letter
// queue, if the subscription has one). After a restart, load() resumes every entry left.
//
// Bounded (OutboxLimits): by default at most 10,000 entries and 64 MiB per subscription, 256 MiB
// in all. A delivery beyond that is not written: it fails at once (to the
// dead-letter queue, if any) and is recorded as failed, so a dead endpoint cannot fill the disk.
//
// Thread-safety: every member may be called from any thread. Timer callbacks, HTTP callbacks and
// pool work hold only a weak reference, so the outbox may go away while they are pending; the
// destructor cancels its timers.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "delivery_log.hpp"
#include "delivery_policy.hpp"
#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/http_client.hpp"
#include "fogbank/sqs/message_sink.hpp"
#include "fogbank/storage/store.hpp"

namespace fogbank::sns {

/// Timers, a work pool and the time: protocol::Scheduler in the service, a hand-driven fake in
/// unit tests.
class DeliveryExecutor {
 public:
  using TimerId = std::uint64_t;
  virtual ~DeliveryExecutor() = default;
  [[nodiscard]] virtual std::int64_t now_ms() const = 0;
  /// Runs `fn` once now_ms() >= due_ms, on some thread; never inline.
  virtual TimerId at(std::int64_t due_ms, std::function<void()> fn) = 0;
  /// After this returns the timer's callback neither runs nor will run (unless on this thread).
  virtual void cancel(TimerId id) = 0;
  /// Runs `fn` soon on a thread that may block; never inline.
  virtual void post(std::function<void()> fn) = 0;
};

/// The executor over the platform's Scheduler (which must outlive it).
std::shared_ptr<DeliveryExecutor> scheduler_executor(protocol::Scheduler& scheduler);

/// One delivery waiting in the outbox, with everything needed to send it, retry it and redrive
/// it, so that it needs nothing else after a restart.
struct OutboxEntry {
  std::uint64_t id = 0;  ///< assigned by stage()
  std::string subscription_arn;
  std::string topic_arn;
  std::string protocol;  ///< "http" | "https"
  std::string endpoint;  ///< the URL
  std::string type;      ///< "Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"
  std::string message_id;
  std::string subject;
  std::string body;
  bool raw = false;
  /// Raw delivery: the message's attributes, for a dead-letter queue (name → type, value).
  std::map<std::string, sqs::ServiceMessage::Attribute> attributes;
  HttpDeliveryPolicy policy;
  std::string dead_letter_queue;  ///< the RedrivePolicy's queue ARN when staged, empty for none
  std::int64_t created_ms = 0;
  std::int64_t due_ms = 0;  ///< when the next attempt may start
  int attempts = 0;         ///< attempts made so far

  [[nodiscard]] std::size_t bytes() const { return body.size() + endpoint.size() + 512; }
};

/// How much the outbox may hold.
struct OutboxLimits {
  std::size_t entries_per_subscription = 10000;
  std::size_t bytes_per_subscription = 64u << 20;
  std::size_t bytes = 256u << 20;
};

class Outbox : public std::enable_shared_from_this<Outbox> {
 public:
  static constexpr std::int64_t kRequestTimeoutMs = 15000;  // AWS's

  /// `http` may be null: every attempt then fails as unreachable. `queues` may be null: nothing
  /// is dead-lettered.
  Outbox(storage::Store& store, std::shared_ptr<DeliveryExecutor> executor, std::shared_ptr<protocol::HttpClient> http,
         std::shared_ptr<sqs::MessageSink> queues, std::shared_ptr<DeliveryLog> log, OutboxLimits limits = {});
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  /// Writes `entry` into `batch` (it goes live with activate() once the batch is committed), or,
  /// when the subscription's share of the outbox is full, fails it at once and returns nullopt.
  std::optional<OutboxEntry> stage(storage::Batch& batch, OutboxEntry entry);
  /// Starts sending entries whose batch was committed.
  void activate(std::vector<OutboxEntry> entries);
  /// Forgets the subscription's entries (every type, or only `type`) and deletes them from the
  /// store; an attempt in flight completes (and is recorded) unless `in_flight` says otherwise.
  void drop_subscription(const std::string& subscription_arn, const std::string& type = {}, bool in_flight = true);
  /// Reads the entries left in the store and schedules them; entries for which `keep` says no
  /// (their subscription is gone) are deleted.
  void load(const std::function<bool(const OutboxEntry&)>& keep);
  /// Forgets everything (the store was wiped).
  void reset();

  [[nodiscard]] std::size_t size() const;
  /// What became of the entries since start (or reset).
  struct Stats {
    std::uint64_t attempts = 0;
    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;  ///< given up without a dead-letter queue (or refused by it): dropped
    std::uint64_t dead_lettered = 0;
  };
  [[nodiscard]] Stats stats() const;
  /// The pending entries of a subscription, by id (tests, diagnostics).
  [[nodiscard]] std::vector<OutboxEntry> pending(const std::string& subscription_arn = {}) const;

  static std::string encode(const OutboxEntry& e);
  static bool decode(std::string_view data, OutboxEntry& e);
  static std::string key(std::uint64_t id);

 private:
  struct Slot {
    OutboxEntry entry;
    DeliveryExecutor::TimerId timer = 0;
  };
  struct Usage {
    std::size_t entries = 0;
    std::size_t bytes = 0;
    std::int64_t next_slot_ms = 0;  ///< throttle: the earliest start of the next attempt
  };

  void schedule_locked(Slot& slot);
  void attempt(std::uint64_t id);
  void complete(std::uint64_t id, const protocol::OutboundResponse& response, std::int64_t started_ms);
  /// Removes `id` from memory (not from the store) and returns it (lock held).
  OutboxEntry take_locked(std::uint64_t id);
  void give_up(OutboxEntry entry, DeliveryRecord record, const std::string& code, const std::string& message);
  DeliveryRecord record_of(const OutboxEntry& e, std::int64_t time_ms) const;
  std::vector<DeliveryExecutor::TimerId> clear_locked();

  storage::Store& store_;
  std::shared_ptr<DeliveryExecutor> executor_;
  std::shared_ptr<protocol::HttpClient> http_;
  std::shared_ptr<sqs::MessageSink> queues_;
  std::shared_ptr<DeliveryLog> log_;
  OutboxLimits limits_;

  mutable std::mutex mutex_;
  std::map<std::uint64_t, Slot> slots_;
  std::map<std::string, Usage> usage_;  // by subscription ARN
  std::size_t bytes_ = 0;
  std::uint64_t next_id_ = 1;
  Stats stats_;
};

}  // namespace fogbank::sns
