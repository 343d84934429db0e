#pragma once
// Delivery to subscribers, one Deliverer per protocol, called inside the request, so an
// acknowledged publish has been handed over (for SQS: committed to the queue; protocols without a
// transport: recorded). HTTP/HTTPS deliveries do not go through a Deliverer: they are written to
// the outbox with the publish and sent asynchronously (outbox.hpp).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "delivery_log.hpp"
#include "envelope.hpp"
#include "fogbank/sqs/message_sink.hpp"
#include "model.hpp"

namespace fogbank::sns {

class Signer;

/// One publish as its deliverers see it: the message and its signed envelopes, signed once per
/// distinct text (MessageStructure=json may give protocols different texts).
class DeliveryContext {
 public:
  DeliveryContext(const PublishedMessage& message, const Signer& signer) : message_(message), signer_(signer) {}
  [[nodiscard]] const PublishedMessage& message() const { return message_; }
  /// The Notification envelope `subscription` receives.
  std::string envelope(const Subscription& subscription);
  /// The event a Lambda function subscribed as `subscription` is invoked with.
  std::string lambda_event(const Subscription& subscription);
  /// What `subscription` receives: the envelope, or the bare text with raw delivery or for
  /// protocols that take text (email, SMS, mobile push); Lambda's event.
  std::string payload(const Subscription& subscription);

 private:
  const std::string& signature(const std::string& text);

  const PublishedMessage& message_;
  const Signer& signer_;
  std::map<std::string, std::string> signatures_;  // text → signature
};

/// The log record of `subscription`'s Notification of `context`'s message, before its outcome.
DeliveryRecord notification_record(const Subscription& subscription, DeliveryContext& context, std::int64_t time_ms);
/// The log record of a SubscriptionConfirmation or UnsubscribeConfirmation, before its outcome.
DeliveryRecord control_record(const Subscription& subscription, const ControlMessage& message, std::int64_t time_ms);

enum class DeliveryStatus {
  kDelivered,  ///< handed to the destination (SQS: committed)
  kRecorded,   ///< protocol without a transport yet: kept in the recorder, dropped
  kFailed,     ///< the destination refused it (queue missing, ...): counted, not retried
};

struct DeliveryResult {
  DeliveryStatus status = DeliveryStatus::kDelivered;
  std::string detail;             ///< error code of a failure
  std::string message;            ///< its error message
  std::string dead_letter_queue;  ///< the queue a failed delivery was redriven to, if any
};

struct DeliveryStats {
  std::uint64_t delivered = 0;
  std::uint64_t recorded = 0;
  std::uint64_t failed = 0;
};

class Deliverer {
 public:
  virtual ~Deliverer() = default;
  /// A notification for `subscription`.
  virtual DeliveryResult deliver(const Subscription& subscription, DeliveryContext& context) = 0;
  /// A SubscriptionConfirmation or UnsubscribeConfirmation for `subscription`.
  virtual DeliveryResult deliver_control(const Subscription& subscription, const ControlMessage& message) = 0;
};

/// Protocols without a transport (email, SMS, Lambda, Firehose, mobile push): each delivery is
/// kept in the DeliveryLog, rendered as the endpoint would receive it, and goes no further.
class RecordingDeliverer final : public Deliverer {
 public:
  RecordingDeliverer(std::shared_ptr<DeliveryLog> log, std::function<std::int64_t()> clock)
      : log_(std::move(log)), clock_(std::move(clock)) {}
  DeliveryResult deliver(const Subscription& subscription, DeliveryContext& context) override;
  DeliveryResult deliver_control(const Subscription& subscription, const ControlMessage& message) override;

 private:
  std::shared_ptr<DeliveryLog> log_;
  std::function<std::int64_t()> clock_;
};

/// The Deliverer of each protocol, and per-protocol counters.
class Deliverers {
 public:
  void set(const std::string& protocol, std::shared_ptr<Deliverer> deliverer);
  [[nodiscard]] Deliverer* find(std::string_view protocol) const;
  void count(std::string_view protocol, DeliveryStatus status);
  [[nodiscard]] DeliveryStats stats(std::string_view protocol) const;

 private:
  std::map<std::string, std::shared_ptr<Deliverer>, std::less<>> deliverers_;
  mutable std::mutex mutex_;
  std::map<std::string, DeliveryStats, std::less<>> stats_;
};

/// SQS: the envelope (or, with RawMessageDelivery, the bare message and its attributes as SQS
/// message attributes) sent through SQS's MessageSink. FIFO queues get the topic's
/// MessageGroupId and deduplication id. A queue that does not exist (any more) fails the delivery
/// without failing the publish; with a RedrivePolicy the message goes to its dead-letter queue.
std::shared_ptr<Deliverer> make_sqs_deliverer(std::shared_ptr<sqs::MessageSink> sink);

/// The dead-letter queue ARN of a subscription's RedrivePolicy; empty when it has none.
std::string dead_letter_target(const Subscription& subscription);

/// Redrives an undeliverable message to `dlq_arn` with the message attributes AWS adds to
/// dead-lettered SNS messages (RequestID, ErrorCode, ErrorMessage) next to the message's own (raw
/// delivery). Returns whether the queue took it.
bool send_to_dead_letter_queue(sqs::MessageSink& sink, const std::string& dlq_arn, sqs::ServiceMessage message,
                               const std::string& error_code, const std::string& error_message);

/// What SQS receivers see as the SenderId of SNS deliveries (AWS's SNS principal).
inline constexpr std::string_view kSnsSenderId = "AIDAIT2UOQQY3AUEKVGXU";

}  // namespace fogbank::sns
