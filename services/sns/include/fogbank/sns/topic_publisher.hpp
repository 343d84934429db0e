#pragma once
// The public face SNS shows other services: S3 event notifications (and later others) publish to
// topics through it, in process, as an AWS service principal would. Nothing else of SNS is
// visible to them.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fogbank::sns {

/// A publish by another service. It is delivered like a client's Publish (fan-out, filter
/// policies, signatures, FIFO rules) and durable when publish() returns `published`.
struct ServicePublish {
  std::string topic_arn;
  std::string subject;   ///< empty: none (S3 sends "Amazon S3 Notification")
  std::string message;
  std::map<std::string, std::string> string_attributes;  ///< message attributes of type String
  std::string group_id;  ///< FIFO topics
  std::string dedup_id;  ///< FIFO topics; empty: content-based when the topic enables it
  std::string source_service;  ///< principal, e.g. "s3.amazonaws.com"
  std::string source_arn;      ///< e.g. the bucket's ARN (aws:SourceArn)
  std::string source_account;  ///< the account of the source resource
};

struct TopicFacts {
  bool fifo = false;
  std::string owner;   ///< account id
  std::string policy;  ///< the topic's Policy attribute
};

struct PublishOutcome {
  bool published = false;
  std::string message_id;
  std::string error_code;  ///< e.g. "NotFound"
  std::string error_message;
};

class TopicPublisher {
 public:
  virtual ~TopicPublisher() = default;
  /// The topic named by `topic_arn`; nullopt when there is no such topic.
  [[nodiscard]] virtual std::optional<TopicFacts> topic(std::string_view topic_arn) = 0;
  virtual PublishOutcome publish(const ServicePublish& message) = 0;
};

}  // namespace fogbank::sns
