#pragma once
// The SNS engine: every topic, subscription and SMS setting of every account, indexed in memory
// and written through to the store's `sns` column family with one atomic batch per change.
//
// Thread-safety: every operation takes the engine's one mutex. A FIFO topic's deliveries happen
// under it, so that its sequence numbers and its deliveries happen in the same order; a standard
// topic's deliveries (signing, SQS sends, recorded deliveries) run after it is released, so that
// concurrent publishers sign and enqueue in parallel (AWS orders nothing across them either) and
// the publish still answers only once they are done. Delivery to SQS takes SQS's own lock, under
// ours for FIFO topics; SQS never calls back into SNS, so the order is fixed. The outbox's lock is
// taken under ours too, never the other way round: its timers and HTTP callbacks never call the
// engine.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "delivery.hpp"
#include "fogbank/protocol/http_client.hpp"
#include "fogbank/sqs/message_sink.hpp"
#include "fogbank/storage/store.hpp"
#include "model.hpp"
#include "outbox.hpp"
#include "signing.hpp"

namespace fogbank::sns {

using Value = nlohmann::json;

/// Who is calling, copied out of the request.
struct Caller {
  std::string account;   ///< empty for anonymous requests (SubscribeURL / UnsubscribeURL)
  std::string region;
  std::string arn;       ///< the caller's principal (SubscriptionPrincipal, authorization errors)
  std::string base_url;  ///< scheme://host the request used: the base of URLs in delivered messages
  bool anonymous = false;
  std::int64_t now_ms = 0;
};

/// Unix milliseconds: the platform clock in the service, a controlled one in unit tests.
using Clock = std::function<std::int64_t()>;

/// How HTTP/HTTPS deliveries leave: without an executor they are recorded as failed at once
/// (engine tests that do not exercise them); with one, through the durable outbox.
struct Transport {
  std::shared_ptr<DeliveryExecutor> executor;
  std::shared_ptr<protocol::HttpClient> http;  ///< null: every attempt fails as unreachable
  OutboxLimits limits;
};

class SnsEngine {
 public:
  SnsEngine(storage::Store& store, Clock clock, std::shared_ptr<sqs::MessageSink> queues, Transport transport = {});
  ~SnsEngine();

  /// Rebuilds the in-memory state from the store; creates (and stores) the signing key on first
  /// start; resumes the outbox's deliveries.
  void load();
  /// Drops every topic, subscription and setting (the store was wiped); the signing key stays and
  /// is written back, so certificate URLs already handed out keep working.
  void reset();

  [[nodiscard]] const Signer& signer() const { return *signer_; }
  [[nodiscard]] std::int64_t now_ms() const { return clock_(); }
  [[nodiscard]] Deliverers& deliverers() { return deliverers_; }
  /// Deliveries without a transport (email, sms, lambda, ...), HTTP attempts, failures.
  [[nodiscard]] DeliveryLog& deliveries() { return *log_; }
  /// Null without a Transport executor.
  [[nodiscard]] Outbox* outbox() { return outbox_.get(); }

  // --- topics -----------------------------------------------------------------------------------
  Value create_topic(const Value& in, const Caller& c);
  Value delete_topic(const Value& in, const Caller& c);
  Value list_topics(const Value& in, const Caller& c);
  Value get_topic_attributes(const Value& in, const Caller& c);
  Value set_topic_attributes(const Value& in, const Caller& c);
  Value add_permission(const Value& in, const Caller& c);
  Value remove_permission(const Value& in, const Caller& c);
  Value tag_resource(const Value& in, const Caller& c);
  Value untag_resource(const Value& in, const Caller& c);
  Value list_tags_for_resource(const Value& in, const Caller& c);
  Value get_data_protection_policy(const Value& in, const Caller& c);
  Value put_data_protection_policy(const Value& in, const Caller& c);

  // --- subscriptions ----------------------------------------------------------------------------
  Value subscribe(const Value& in, const Caller& c);
  Value confirm_subscription(const Value& in, const Caller& c);
  Value unsubscribe(const Value& in, const Caller& c);
  Value list_subscriptions(const Value& in, const Caller& c);
  Value list_subscriptions_by_topic(const Value& in, const Caller& c);
  Value get_subscription_attributes(const Value& in, const Caller& c);
  Value set_subscription_attributes(const Value& in, const Caller& c);

  // --- publishing -------------------------------------------------------------------------------
  Value publish(const Value& in, const Caller& c);
  Value publish_batch(const Value& in, const Caller& c);

  // --- SMS --------------------------------------------------------------------------------------
  Value set_sms_attributes(const Value& in, const Caller& c);
  Value get_sms_attributes(const Value& in, const Caller& c);
  Value check_if_phone_number_is_opted_out(const Value& in, const Caller& c);
  Value list_phone_numbers_opted_out(const Value& in, const Caller& c);
  Value opt_in_phone_number(const Value& in, const Caller& c);
  Value get_sms_sandbox_account_status(const Value& in, const Caller& c);
  Value list_origination_numbers(const Value& in, const Caller& c);
  Value create_sms_sandbox_phone_number(const Value& in, const Caller& c);
  Value verify_sms_sandbox_phone_number(const Value& in, const Caller& c);
  Value list_sms_sandbox_phone_numbers(const Value& in, const Caller& c);
  Value delete_sms_sandbox_phone_number(const Value& in, const Caller& c);

  /// Records that `phone` replied STOP (there is no API for it on AWS either; tests and the
  /// admin endpoint use this).
  void opt_out(const std::string& account, const std::string& phone);
  /// Every account SNS knows (owners of topics, subscriptions, SMS settings and opt-outs).
  std::set<std::string> accounts();

  /// A pending subscription and the URL that confirms it.
  struct PendingSubscription {
    std::string arn, topic_arn, protocol, endpoint, owner, token;
  };
  std::vector<PendingSubscription> pending_subscriptions();

  // --- other services (TopicPublisher) -----------------------------------------------------------
  struct TopicInfo {
    bool fifo = false;
    std::string owner;
    std::string policy;
  };
  std::optional<TopicInfo> topic_info(const std::string& arn);
  /// The scheme://host of the latest client request: the base of URLs in messages that other
  /// services publish.
  std::string base_url();
  void remember_base_url(const std::string& url);

 private:
  using TopicKey = std::tuple<std::string, std::string, std::string>;  // account, region, name

  /// The topic an ARN parameter names, checked as AWS does (format, region, existence) and, for
  /// another account's topic, against its Policy for `action`.
  Topic& topic_for(const Caller& c, const std::string& arn, std::string_view param, std::string_view action);
  /// The topic a tag operation's ResourceArn names (ResourceNotFound; owner only).
  Topic& tagged_topic(const Caller& c, const std::string& arn, std::string_view action);
  Topic* find_topic(const std::string& account, const std::string& region, const std::string& name);
  Topic* find_topic_arn(const std::string& arn);
  [[nodiscard]] Value topic_attributes(const Topic& t) const;
  /// Checks one topic attribute as CreateTopic (`creating`) or SetTopicAttributes words it.
  void check_topic_attribute(bool fifo, const std::string& name, const std::string& value, bool creating) const;

  Subscription& subscription_for(const Caller& c, const std::string& arn, std::string_view action);
  /// Checks one subscription attribute (Subscribe: `prefix` "Invalid parameter: Attributes Reason: ";
  /// SetSubscriptionAttributes: "Invalid parameter: ") and returns the value to store.
  std::string check_subscription_attribute(const std::string& name, const std::string& value, const Topic& topic,
                                           const std::string& protocol, const std::string& endpoint,
                                           const std::string& prefix) const;
  Value subscription_attributes(const Subscription& s);
  ControlMessage control_message(const Subscription& s, const std::string& type, const Caller& c);
  /// A SubscriptionConfirmation or UnsubscribeConfirmation: HTTP(S) ones are staged in `batch`
  /// (to activate after the commit), the others are delivered once `batch` is committed, by the
  /// caller, through deliver_control().
  void stage_control(storage::Batch& batch, std::vector<OutboxEntry>& staged, const Subscription& s,
                     const ControlMessage& message);
  void deliver_control(const Subscription& s, const ControlMessage& message);
  static bool http_protocol(const std::string& protocol) { return protocol == "http" || protocol == "https"; }
  OutboxEntry http_entry(const Subscription& s, std::string type, std::string message_id, std::string body);

  /// A standard topic's deliveries left for after the lock (see the thread-safety note).
  struct OwedDelivery {
    PublishedMessage message;
    std::string sender_account;
    std::vector<Subscription> targets;
  };
  /// Dedup check, sequence number, persistence and delivery of one message to a topic; returns
  /// the response members (MessageId, SequenceNumber). A standard topic's non-HTTP deliveries go
  /// to `owed`, which the caller passes to deliver_owed() once it released the lock.
  Value dispatch(PublishedMessage m, Topic& topic, const Caller& c, std::vector<OwedDelivery>& owed);
  /// Runs deliveries that dispatch() left, without the engine's lock.
  void deliver_owed(std::vector<OwedDelivery>& owed);
  /// Hands one subscription's delivery to its deliverer and records a failure; no lock needed.
  void deliver_to(const Subscription& s, DeliveryContext& context);
  /// Whether a delivery is refused or impossible before any deliverer sees it (an opted-out phone,
  /// HTTP without a transport); records why. Under the lock.
  bool undeliverable(const Subscription& s, DeliveryContext& context, const std::string& sender_account);
  /// The confirmed subscriptions of `topic` whose filter policy accepts `m`, in creation order.
  std::vector<const Subscription*> matching(const PublishedMessage& m, const Topic& topic);
  void record_failure(const Subscription& s, DeliveryContext& context, const DeliveryResult& result);
  void sweep_dedup(const std::string& topic_arn, std::int64_t now_ms, storage::Batch& batch);

  void put_topic(storage::Batch& batch, const Topic& t);
  void put_subscription(storage::Batch& batch, const Subscription& s);
  void commit(storage::Batch& batch);
  void persist_signer();
  void load_locked();

  storage::Store& store_;
  Clock clock_;
  std::shared_ptr<sqs::MessageSink> queues_;
  std::unique_ptr<Signer> signer_;
  Deliverers deliverers_;
  std::shared_ptr<DeliveryLog> log_;
  std::shared_ptr<RecordingDeliverer> recorder_;
  std::shared_ptr<Outbox> outbox_;

  std::mutex mutex_;
  std::map<TopicKey, Topic> topics_;
  std::map<std::string, Subscription> subscriptions_;                      // by ARN
  std::map<std::string, std::map<std::string, DedupEntry>> dedup_;         // topic ARN → id → entry
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::string>> sms_;  // (account, region)
  std::set<std::pair<std::string, std::string>> opted_out_;               // (account, phone)
  std::map<SandboxKey, SandboxNumber> sandbox_;
  std::uint64_t next_order_ = 1;

  std::mutex base_url_mutex_;
  std::string base_url_ = "http://localhost:4566";
};

}  // namespace fogbank::sns
