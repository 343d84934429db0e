#pragma once
// The public face SQS shows other services: SNS subscriptions and S3 event notifications send
// to queues through it, in process, with the same semantics (FIFO ordering and deduplication,
// delays, size limits) as a SendMessage from a client. Nothing else of SQS is visible to them.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fogbank::sqs {

/// A message another service sends. Attributes become SQS message attributes as given (the
/// sender maps its own attribute types to SQS's, e.g. SNS's String.Array to String).
struct ServiceMessage {
  struct Attribute {
    std::string data_type;  ///< "String", "Number", "Binary"
    std::string value;      ///< the string, or the raw bytes of a Binary
  };
  std::string body;
  std::map<std::string, Attribute> attributes;
  std::string group_id;  ///< FIFO queues: MessageGroupId
  std::string dedup_id;  ///< FIFO queues: MessageDeduplicationId (empty: content-based, if enabled)
  std::string sender_id; ///< what receivers see as SenderId
};

/// What a sender may check before subscribing or sending (AWS refuses some pairings up front,
/// e.g. a FIFO queue under a standard SNS topic).
struct QueueFacts {
  bool fifo = false;
  bool content_based_deduplication = false;
  std::string policy;  ///< the queue's Policy attribute, empty when none
};

/// The outcome of one send: a message id, or the error SQS would have answered a client.
struct SendOutcome {
  bool sent = false;
  std::string message_id;
  std::string sequence_number;  ///< FIFO queues
  std::string error_code;       ///< e.g. "AWS.SimpleQueueService.NonExistentQueue"
  std::string error_message;
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  /// The queue named by `queue_arn` (arn:aws:sqs:<region>:<account>:<name>); nullopt when there
  /// is no such queue (or the ARN is not one).
  [[nodiscard]] virtual std::optional<QueueFacts> queue(std::string_view queue_arn) = 0;
  /// Sends one message; durable (committed to the store) when it returns `sent`.
  virtual SendOutcome send(std::string_view queue_arn, const ServiceMessage& message) = 0;
};

}  // namespace fogbank::sqs
