#include "delivery_log.hpp"

#include "envelope.hpp"

namespace fogbank::sns {

namespace {

std::size_t weight(const DeliveryRecord& r) { return r.body.size() + r.error.size() + 256; }

}  // namespace

nlohmann::json DeliveryRecord::to_json() const {
  nlohmann::json j = {{"id", id},
                      {"timestamp", format_timestamp_ms(time_ms)},
                      {"protocol", protocol},
                      {"endpoint", endpoint},
                      {"type", type},
                      {"messageId", message_id},
                      {"message", body},
                      {"status", status}};
  if (!topic_arn.empty()) {
    j["topicArn"] = topic_arn;
  }
  if (!subscription_arn.empty()) {
    j["subscriptionArn"] = subscription_arn;
  }
  if (protocol == "sms") {
    j["phoneNumber"] = endpoint;
  }
  if (!subject.empty()) {
    j["subject"] = subject;
  }
  if (!error.empty()) {
    j["error"] = error;
  }
  if (attempt > 0) {
    j["attempt"] = attempt;
    j["httpStatus"] = http_status;
  }
  if (next_attempt_ms > 0) {
    j["nextAttemptAt"] = format_timestamp_ms(next_attempt_ms);
  }
  if (!dead_letter_queue.empty()) {
    j["deadLetterQueue"] = dead_letter_queue;
  }
  if (!attributes.empty()) {
    j["attributes"] = attributes;
  }
  return j;
}

bool DeliveryFilter::matches(const DeliveryRecord& r) const {
  if (!topic.empty() && r.topic_arn != topic && !r.topic_arn.ends_with(":" + topic)) {
    return false;
  }
  if (!subscription.empty() && r.subscription_arn != subscription) {
    return false;
  }
  if (!protocol.empty() && r.protocol != protocol) {
    return false;
  }
  if (!phone.empty() && (r.protocol != "sms" || r.endpoint != phone)) {
    return false;
  }
  return endpoint.empty() || r.endpoint == endpoint;
}

void DeliveryLog::add(DeliveryRecord record) {
  std::lock_guard lock(mutex_);
  record.id = next_id_++;
  bytes_ += weight(record);
  records_.push_back(std::move(record));
  while (!records_.empty() && (records_.size() > max_records_ || bytes_ > max_bytes_)) {
    bytes_ -= weight(records_.front());
    records_.pop_front();
  }
}

std::vector<DeliveryRecord> DeliveryLog::list(const DeliveryFilter& filter) const {
  std::lock_guard lock(mutex_);
  std::vector<DeliveryRecord> out;
  for (const auto& r : records_) {
    if (filter.matches(r)) {
      out.push_back(r);
    }
  }
  return out;
}

void DeliveryLog::clear() {
  std::lock_guard lock(mutex_);
  records_.clear();
  bytes_ = 0;
}

}  // namespace fogbank::sns
