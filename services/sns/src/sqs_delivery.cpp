// SNS → SQS: the one protocol fogbank delivers for real, through SQS's in-process MessageSink.

#include "delivery.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/json_limits.hpp"

namespace fogbank::sns {

namespace {

constexpr std::string_view kNoQueue = "The specified queue does not exist or you do not have access to it.";

class SqsDeliverer final : public Deliverer {
 public:
  explicit SqsDeliverer(std::shared_ptr<sqs::MessageSink> sink) : sink_(std::move(sink)) {}

  DeliveryResult deliver(const Subscription& subscription, DeliveryContext& context) override {
    const PublishedMessage& m = context.message();
    sqs::ServiceMessage out;
    out.sender_id = std::string(kSnsSenderId);
    if (subscription.raw()) {
      out.body = m.text_for("sqs");
      // Raw delivery maps SNS attributes to SQS ones; SQS has no String.Array.
      for (const auto& [name, a] : m.attributes) {
        out.attributes[name] = {a.type == "String.Array" ? std::string("String") : a.type, a.value};
      }
    } else {
      out.body = context.envelope(subscription);
    }
    return send(subscription, subscription.endpoint, out, m.fifo, m.group_id, m.dedup_id);
  }

  DeliveryResult deliver_control(const Subscription& subscription, const ControlMessage& message) override {
    sqs::ServiceMessage out;
    out.sender_id = std::string(kSnsSenderId);
    out.body = control_envelope(message);
    return send(subscription, subscription.endpoint, out, true, "SubscriptionConfirmation", message.message_id);
  }

 private:
  DeliveryResult send(const Subscription& subscription, const std::string& queue_arn, sqs::ServiceMessage& out,
                      bool fifo_topic, const std::string& group_id, const std::string& dedup_id) {
    auto facts = sink_->queue(queue_arn);
    if (!facts) {
      if (fifo_topic) {
        out.group_id = group_id;  // for a FIFO dead-letter queue
        out.dedup_id = dedup_id;
      }
      return dead_letter(subscription, out, "AWS.SimpleQueueService.NonExistentQueue", std::string(kNoQueue));
    }
    if (facts->fifo) {
      out.group_id = group_id;
      out.dedup_id = dedup_id;
    } else if (!fifo_topic && !group_id.empty()) {
      out.group_id = group_id;  // a standard topic's MessageGroupId reaches fair queues
    }
    auto sent = sink_->send(queue_arn, out);
    if (!sent.sent) {
      return dead_letter(subscription, out, sent.error_code,
                         sent.error_message.empty() ? std::string(kNoQueue) : sent.error_message);
    }
    return {DeliveryStatus::kDelivered, {}, {}, {}};
  }

  /// A delivery the queue refused goes to the subscription's dead-letter queue, if it has one.
  DeliveryResult dead_letter(const Subscription& subscription, sqs::ServiceMessage& out, const std::string& error,
                             const std::string& message) {
    DeliveryResult result{DeliveryStatus::kFailed, error, message, {}};
    auto dlq = dead_letter_target(subscription);
    if (!dlq.empty() && send_to_dead_letter_queue(*sink_, dlq, out, error, message)) {
      result.dead_letter_queue = dlq;
    }
    return result;
  }

  std::shared_ptr<sqs::MessageSink> sink_;
};

}  // namespace

std::string dead_letter_target(const Subscription& subscription) {
  auto policy = subscription.attributes.find("RedrivePolicy");
  if (policy == subscription.attributes.end()) {
    return {};
  }
  auto doc = protocol::parse_json_limited(policy->second);
  if (doc.is_object() && doc.contains("deadLetterTargetArn") && doc["deadLetterTargetArn"].is_string()) {
    return doc["deadLetterTargetArn"].get<std::string>();
  }
  return {};
}

bool send_to_dead_letter_queue(sqs::MessageSink& sink, const std::string& dlq_arn, sqs::ServiceMessage message,
                               const std::string& error_code, const std::string& error_message) {
  auto facts = sink.queue(dlq_arn);
  if (!facts) {
    return false;
  }
  if (!facts->fifo) {
    message.group_id.clear();
    message.dedup_id.clear();
  }
  message.sender_id = std::string(kSnsSenderId);
  // SQS takes at most ten attributes: the message's own come first, AWS's three where they fit.
  const std::pair<const char*, std::string> added[] = {
      {"RequestID", protocol::random_uuid(protocol::Randomness::kIdentifier)},
      {"ErrorCode", error_code},
      {"ErrorMessage", error_message}};
  for (const auto& [name, value] : added) {
    if (message.attributes.size() < 10 && !value.empty()) {
      message.attributes.emplace(name, sqs::ServiceMessage::Attribute{"String", value});
    }
  }
  return sink.send(dlq_arn, message).sent;
}

std::shared_ptr<Deliverer> make_sqs_deliverer(std::shared_ptr<sqs::MessageSink> sink) {
  return std::make_shared<SqsDeliverer>(std::move(sink));
}

}  // namespace fogbank::sns
