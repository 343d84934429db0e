#pragma once
// S3 event notifications: the bucket's notification configuration (parsed, validated, stored,
// rendered), the event messages S3 sends (AWS's record structure and s3:TestEvent), and their
// delivery to SQS queues and SNS topics through those services' in-process interfaces.
// Internal to fogbank_svc_s3.
//
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::sqs {
class MessageSink;
}
namespace fogbank::sns {
class TopicPublisher;
}

namespace fogbank::s3 {

/// Where one configuration sends its events (the element names of the configuration document).
enum class DestinationType { kTopic, kQueue, kLambda };

/// One TopicConfiguration / QueueConfiguration / CloudFunctionConfiguration.
struct NotificationRule {
  DestinationType type = DestinationType::kQueue;
  std::string id;
  std::string arn;
  std::vector<std::string> events;  ///< as configured: "s3:ObjectCreated:*", ...
  bool has_filter = false;          ///< a <Filter> was given (returned as given)
  /// The filter rules in the order given, names normalised to "Prefix" / "Suffix".
  std::vector<std::pair<std::string, std::string>> filter_rules;

  [[nodiscard]] std::string_view prefix() const;
  [[nodiscard]] std::string_view suffix() const;
  /// Whether `event` ("s3:ObjectCreated:Put") is one this rule listens to, directly or through
  /// its family's wildcard ("s3:ObjectCreated:*").
  [[nodiscard]] bool listens_to(std::string_view event) const;
  /// Whether `key` (the object key, not encoded) passes the prefix and suffix rules.
  [[nodiscard]] bool matches_key(std::string_view key) const;
};

/// A bucket's notification configuration. Immutable once stored: buckets share it through a
/// shared_ptr<const>, so copying a bucket record copies a pointer.
struct NotificationConfig {
  std::vector<NotificationRule> rules;  ///< topics, then queues, then functions, each in given order
  bool event_bridge = false;            ///< <EventBridgeConfiguration/> was given

  [[nodiscard]] bool empty() const { return rules.empty() && !event_bridge; }
};

/// Whether `name` is an event type S3 notifications accept ("s3:ObjectCreated:Put", ...).
bool valid_event_name(std::string_view name);

/// Decodes a PutBucketNotificationConfiguration document (the codec's value) and checks what S3
/// checks before it looks at any destination: event names, filter rules (prefix/suffix, any case,
/// at most one of each), destination ARNs, and configurations that overlap. Missing Ids get one in
/// S3's form. `bucket_region` is checked against each destination's region.
/// Throws AwsError (InvalidArgument with AWS's messages and argument fields).
NotificationConfig parse_notification_config(const nlohmann::json& document, std::string_view bucket_region);

/// The GetBucketNotificationConfiguration output value (for encode_output_xml).
nlohmann::json notification_config_value(const NotificationConfig& config);

/// Storage form (part of the bucket record) and back; from_stored returns nullopt when malformed.
nlohmann::json to_stored(const NotificationConfig& config);
std::optional<NotificationConfig> from_stored(const nlohmann::json& j);

/// The Id S3 gives a configuration sent without one: base64 of a random version-4 UUID (48 chars).
std::string new_configuration_id();

/// An object key as event records carry it: URL-encoded form style (space → '+', '/' kept,
/// letters, digits and . - _ * kept, every other byte %XX).
std::string event_key(std::string_view key);

/// The Amazon customer id S3 shows as a principal for an account ("A" and 13 of [A-Z0-9]), stable
/// for the account.
std::string customer_principal_id(std::string_view account);

/// The operations that produce events.
enum class EventKind {
  kPut, kPost, kCopy, kCompleteMultipartUpload, kDelete, kDeleteMarker, kTaggingPut, kTaggingDelete, kAclPut,
  kLifecycleDelete, kLifecycleDeleteMarker  ///< what the lifecycle worker removes, not a client
};

/// Whether `kind` is done by S3 itself (lifecycle) rather than on a client's request.
bool by_s3(EventKind kind);
/// Whether `kind` changes an object that stays (tagging, ACL): its records have no size and no
/// sequencer, and are version 2.3 of the structure.
bool changes_object_in_place(EventKind kind);

/// "s3:ObjectCreated:Put", ... (the configuration's spelling; records drop the "s3:").
std::string_view event_type(EventKind kind);

/// Everything one event record says, gathered by the operation that produced it.
struct ObjectEvent {
  EventKind kind = EventKind::kPut;
  std::int64_t time_ms = 0;       ///< when S3 finished the request (the platform clock)
  std::string region;             ///< the bucket's
  std::string bucket;
  std::string bucket_owner;       ///< account id
  std::string principal_id;       ///< userIdentity.principalId
  std::string source_ip;
  std::string request_id;
  std::string host_id;            ///< the request's x-amz-id-2
  std::string key;                ///< not encoded
  std::uint64_t size = 0;         ///< ObjectCreated
  std::string etag;               ///< unquoted (ObjectCreated, ObjectTagging)
  std::string version_id;         ///< in versioned buckets ("null" for the null version)
  std::string sequencer;          ///< ObjectCreated, ObjectRemoved
};

/// The message body for one configuration: {"Records":[{...}]} in AWS's field order.
std::string event_message(const ObjectEvent& event, std::string_view configuration_id);

/// The s3:TestEvent S3 sends to a destination when a configuration naming it is stored.
std::string test_event_message(std::string_view bucket, std::string_view request_id,
                               std::string_view host_id, std::int64_t time_ms);

/// Sequencers: 18 upper-case hex digits, increasing across all keys (so per key), from the clock.
class Sequencer {
 public:
  std::string next(std::int64_t now_ms);

 private:
  std::atomic<std::uint64_t> last_{0};
};

/// Sends to the destinations; either interface may be null (no such service: nothing exists).
class NotificationDelivery {
 public:
  NotificationDelivery(std::shared_ptr<sqs::MessageSink> queues, std::shared_ptr<sns::TopicPublisher> topics)
      : queues_(std::move(queues)), topics_(std::move(topics)) {}

  /// Checks every destination the way S3 does before storing a configuration; throws AwsError
  /// "Unable to validate the following destination configurations" with one numbered
  /// ArgumentName/ArgumentValue pair per failing destination.
  void validate_destinations(const NotificationConfig& config) const;

  /// Sends the s3:TestEvent to each queue and topic of `config` (once per destination).
  void send_test_events(const NotificationConfig& config, std::string_view bucket, std::string_view bucket_owner,
                        std::string_view request_id, std::string_view host_id, std::int64_t time_ms) const;

  /// Sends `event` to every configuration that listens to it and whose filter passes its key; a
  /// destination that fails (deleted since) is skipped.
  void deliver(const NotificationConfig& config, const ObjectEvent& event) const;

  /// Whether any configuration of `config` would receive an event of `kind` for `key`.
  static bool wants(const NotificationConfig& config, EventKind kind, std::string_view key);

 private:
  void send(const NotificationRule& rule, const std::string& message, std::string_view bucket,
            std::string_view bucket_owner) const;

  std::shared_ptr<sqs::MessageSink> queues_;
  std::shared_ptr<sns::TopicPublisher> topics_;
};

}  // namespace fogbank::s3
