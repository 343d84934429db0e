#pragma once
// What fogbank did with each delivery it cannot hand to a real destination (SMS, email, Lambda,
// Firehose, mobile push), every HTTP/HTTPS attempt and every refused or failed delivery, with the
// payload as rendered. Bounded: the newest records are kept (by count and by payload bytes), so a
// busy topic cannot grow it without limit. /_fogbank/sns/deliveries lists it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fogbank::sns {

struct DeliveryRecord {
  std::uint64_t id = 0;  ///< assigned by the log, increasing
  std::int64_t time_ms = 0;
  std::string protocol;
  std::string endpoint;
  std::string subscription_arn;  ///< empty for a direct SMS (Publish with PhoneNumber)
  std::string topic_arn;         ///< empty for a direct SMS
  std::string type;              ///< "Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"
  std::string message_id;
  std::string subject;
  std::string body;  ///< the payload as the endpoint receives it
  /// "recorded" (no transport: kept here), "delivered", "retrying", "failed", "dead-lettered",
  /// "refused" (e.g. an opted-out phone number).
  std::string status;
  std::string error;  ///< why it failed or was refused
  int attempt = 0;      ///< HTTP: 1 for the first attempt
  int http_status = 0;  ///< HTTP: the endpoint's answer, 0 for none
  std::int64_t next_attempt_ms = 0;  ///< HTTP "retrying": when the next attempt is due
  std::string dead_letter_queue;     ///< "dead-lettered": the queue's ARN
  std::map<std::string, std::string> attributes;  ///< SMS: AWS.SNS.SMS.* message attributes

  [[nodiscard]] nlohmann::json to_json() const;
};

/// Filters of the admin listing; empty members match everything.
struct DeliveryFilter {
  std::string topic;  ///< a topic ARN, or a topic name
  std::string subscription;
  std::string protocol;
  std::string phone;  ///< SMS deliveries to this number (subscriptions and direct publishes)
  std::string endpoint;
  [[nodiscard]] bool matches(const DeliveryRecord& r) const;
};

class DeliveryLog {
 public:
  static constexpr std::size_t kMaxRecords = 10000;
  static constexpr std::size_t kMaxBytes = 64u << 20;

  explicit DeliveryLog(std::size_t max_records = kMaxRecords, std::size_t max_bytes = kMaxBytes)
      : max_records_(max_records), max_bytes_(max_bytes) {}

  void add(DeliveryRecord record);
  /// Matching records, oldest first.
  [[nodiscard]] std::vector<DeliveryRecord> list(const DeliveryFilter& filter = {}) const;
  void clear();

 private:
  std::size_t max_records_;
  std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::deque<DeliveryRecord> records_;
  std::size_t bytes_ = 0;
  std::uint64_t next_id_ = 1;
};

}  // namespace fogbank::sns
