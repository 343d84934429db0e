#include "delivery.hpp"

#include "signing.hpp"

namespace fogbank::sns {

const std::string& DeliveryContext::signature(const std::string& text) {
  auto it = signatures_.find(text);
  if (it == signatures_.end()) {
    auto to_sign = notification_string_to_sign(text, message_.message_id, message_.subject,
                                               format_timestamp_ms(message_.timestamp_ms), message_.topic_arn);
    it = signatures_.emplace(text, signer_.sign(to_sign, message_.signature_version)).first;
  }
  return it->second;
}

std::string DeliveryContext::envelope(const Subscription& subscription) {
  const std::string& text = message_.text_for(subscription.protocol);
  static const std::string kNone;
  const std::string& sig = message_.fifo ? kNone : signature(text);
  return notification_envelope(message_, text, sig, signer_.certificate_path(), subscription.arn);
}

std::string DeliveryContext::lambda_event(const Subscription& subscription) {
  const std::string& text = message_.text_for(subscription.protocol);
  return sns::lambda_event(message_, text, signature(text), signer_.certificate_path(), subscription.arn);
}

std::string DeliveryContext::payload(const Subscription& subscription) {
  const auto& p = subscription.protocol;
  if (p == "lambda") {
    return lambda_event(subscription);
  }
  bool json = p == "http" || p == "https" || p == "email-json" || p == "firehose" || p == "sqs";
  return json && !subscription.raw() ? envelope(subscription) : message_.text_for(p);
}

DeliveryRecord notification_record(const Subscription& subscription, DeliveryContext& context, std::int64_t time_ms) {
  const PublishedMessage& m = context.message();
  DeliveryRecord r;
  r.time_ms = time_ms;
  r.protocol = subscription.protocol;
  r.endpoint = subscription.endpoint;
  r.subscription_arn = subscription.arn;
  r.topic_arn = m.topic_arn;
  r.type = "Notification";
  r.message_id = m.message_id;
  r.subject = m.subject.value_or("");
  r.body = context.payload(subscription);
  return r;
}

DeliveryRecord control_record(const Subscription& subscription, const ControlMessage& message, std::int64_t time_ms) {
  DeliveryRecord r;
  r.time_ms = time_ms;
  r.protocol = subscription.protocol;
  r.endpoint = subscription.endpoint;
  r.subscription_arn = subscription.arn;
  r.topic_arn = subscription.topic_arn;
  r.type = message.type;
  r.message_id = message.message_id;
  r.body = control_envelope(message);
  return r;
}

DeliveryResult RecordingDeliverer::deliver(const Subscription& subscription, DeliveryContext& context) {
  const PublishedMessage& m = context.message();
  DeliveryRecord r = notification_record(subscription, context, clock_());
  r.status = "recorded";
  if (subscription.protocol == "sms") {
    for (const auto& [name, a] : m.attributes) {
      if (name.starts_with("AWS.SNS.SMS.") || name.starts_with("AWS.MM.SMS.")) {
        r.attributes[name] = a.value;
      }
    }
  }
  log_->add(std::move(r));
  return {DeliveryStatus::kRecorded, {}, {}, {}};
}

DeliveryResult RecordingDeliverer::deliver_control(const Subscription& subscription, const ControlMessage& message) {
  DeliveryRecord r = control_record(subscription, message, clock_());
  r.status = "recorded";
  log_->add(std::move(r));
  return {DeliveryStatus::kRecorded, {}, {}, {}};
}

void Deliverers::set(const std::string& protocol, std::shared_ptr<Deliverer> deliverer) {
  deliverers_[protocol] = std::move(deliverer);
}

Deliverer* Deliverers::find(std::string_view protocol) const {
  auto it = deliverers_.find(protocol);
  return it != deliverers_.end() ? it->second.get() : nullptr;
}

void Deliverers::count(std::string_view protocol, DeliveryStatus status) {
  std::lock_guard lock(mutex_);
  auto it = stats_.find(protocol);
  if (it == stats_.end()) {
    it = stats_.emplace(std::string(protocol), DeliveryStats{}).first;
  }
  switch (status) {
    case DeliveryStatus::kDelivered:
      ++it->second.delivered;
      break;
    case DeliveryStatus::kRecorded:
      ++it->second.recorded;
      break;
    case DeliveryStatus::kFailed:
      ++it->second.failed;
      break;
  }
}

DeliveryStats Deliverers::stats(std::string_view protocol) const {
  std::lock_guard lock(mutex_);
  auto it = stats_.find(protocol);
  return it != stats_.end() ? it->second : DeliveryStats{};
}

}  // namespace fogbank::sns
