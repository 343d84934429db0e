#pragma once
// DeliveryPolicy attributes: AWS's checks, the EffectiveDeliveryPolicy AWS derives from them, and
// the HTTP/HTTPS retry schedule they define (immediate, pre-backoff, backoff and post-backoff
// phases).

#include <cstdint>
#include <string>

namespace fogbank::sns {

enum class Backoff { kLinear, kArithmetic, kGeometric, kExponential };

/// A healthyRetryPolicy, AWS's defaults unless given.
struct RetryPolicy {
  int min_delay = 20;  ///< seconds
  int max_delay = 20;  ///< seconds
  int num_retries = 3;
  int no_delay_retries = 0;
  int min_delay_retries = 0;
  int max_delay_retries = 0;
  Backoff backoff = Backoff::kLinear;

  /// Seconds to wait after the failed attempt before retry `n` (1 ≤ n ≤ num_retries): none in the
  /// immediate phase, min_delay before each pre-backoff retry, the backoff function from min_delay
  /// (its first retry) to max_delay (its last), then max_delay. AWS adds jitter; fogbank does not,
  /// so tests can move a virtual clock to the exact second.
  [[nodiscard]] std::int64_t delay_seconds(int n) const;
};

/// What an HTTP/HTTPS subscription is delivered with.
struct HttpDeliveryPolicy {
  RetryPolicy retry;
  int max_receives_per_second = 0;  ///< 0: no throttle
  std::string content_type = "text/plain; charset=UTF-8";
};

/// A topic's EffectiveDeliveryPolicy: AWS's defaults with its DeliveryPolicy laid over them.
std::string topic_effective_delivery_policy(const std::string& topic_delivery_policy);
/// An HTTP(S) subscription's EffectiveDeliveryPolicy: the topic's HTTP defaults, then the
/// subscription's own DeliveryPolicy unless the topic sets disableSubscriptionOverrides.
std::string subscription_effective_delivery_policy(const std::string& topic_delivery_policy,
                                                   const std::string& subscription_delivery_policy);
/// The policy an HTTP(S) delivery follows, read from the effective policy.
HttpDeliveryPolicy http_delivery_policy(const std::string& topic_delivery_policy,
                                        const std::string& subscription_delivery_policy);

/// Checks a topic's DeliveryPolicy ({"http": {"defaultHealthyRetryPolicy": ...}}); throws
/// InvalidParameter "<prefix>DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be
/// less than or equal to 100" and the like. `prefix` is "Invalid parameter: Attributes Reason: "
/// (CreateTopic) or "Invalid parameter: " (SetTopicAttributes).
void check_topic_delivery_policy(const std::string& text, const std::string& prefix);
/// The same for a subscription's DeliveryPolicy ({"healthyRetryPolicy": ...}).
void check_subscription_delivery_policy(const std::string& text, const std::string& prefix);

/// Whether `text` is a JSON object (depth-limited).
bool is_json_object(const std::string& text);

}  // namespace fogbank::sns
