#include "delivery_policy.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>

#include "errors.hpp"
#include "fogbank/protocol/json_limits.hpp"

namespace fogbank::sns {

namespace {

using Ordered = nlohmann::ordered_json;

constexpr int kMaxRetries = 100;
constexpr int kMaxDelaySeconds = 3600;

Ordered parse(const std::string& text) {
  if (text.empty() || !protocol::json_depth_within(text, protocol::kMaxClientJsonDepth)) {
    return Ordered();
  }
  auto doc = Ordered::parse(text, nullptr, false);
  return doc.is_discarded() ? Ordered() : doc;
}

void merge_into(Ordered& base, const Ordered& overrides) {
  for (const auto& [k, v] : overrides.items()) {
    if (v.is_object() && base.contains(k) && base[k].is_object()) {
      merge_into(base[k], v);
    } else {
      base[k] = v;
    }
  }
}

Ordered topic_effective(const std::string& topic_policy) {
  Ordered retry;
  retry["minDelayTarget"] = 20;
  retry["maxDelayTarget"] = 20;
  retry["numRetries"] = 3;
  retry["numMaxDelayRetries"] = 0;
  retry["numNoDelayRetries"] = 0;
  retry["numMinDelayRetries"] = 0;
  retry["backoffFunction"] = "linear";
  Ordered http;
  http["defaultHealthyRetryPolicy"] = retry;
  http["disableSubscriptionOverrides"] = false;
  http["defaultRequestPolicy"] = Ordered{{"headerContentType", "text/plain; charset=UTF-8"}};
  Ordered effective = Ordered{{"http", http}};
  if (auto given = parse(topic_policy); given.is_object()) {
    merge_into(effective, given);
  }
  return effective;
}

Ordered subscription_effective(const std::string& topic_policy, const std::string& subscription_policy) {
  Ordered topic = topic_effective(topic_policy);
  const Ordered& http = topic["http"];
  Ordered effective;
  effective["healthyRetryPolicy"] = http.contains("defaultHealthyRetryPolicy") ? http["defaultHealthyRetryPolicy"] : Ordered();
  effective["sicklyRetryPolicy"] = nullptr;
  effective["throttlePolicy"] = http.contains("defaultThrottlePolicy") ? http["defaultThrottlePolicy"] : Ordered();
  effective["requestPolicy"] = http.contains("defaultRequestPolicy") ? http["defaultRequestPolicy"] : Ordered();
  effective["guaranteed"] = false;
  const bool overrides_disabled = http.contains("disableSubscriptionOverrides") &&
                                  http["disableSubscriptionOverrides"].is_boolean() &&
                                  http["disableSubscriptionOverrides"].get<bool>();
  if (auto given = parse(subscription_policy); given.is_object() && !overrides_disabled) {
    merge_into(effective, given);
  }
  return effective;
}

/// An integer member: JSON integers, or strings of digits (CloudFormation passes those).
std::optional<long long> integer(const Ordered& doc, const char* name) {
  auto it = doc.find(name);
  if (it == doc.end()) {
    return std::nullopt;
  }
  if (it->is_number_integer()) {
    return it->get<long long>();
  }
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (std::floor(d) == d && std::abs(d) < 1e15) {
      return static_cast<long long>(d);
    }
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    std::size_t used = 0;
    try {
      long long v = std::stoll(s, &used);
      if (used == s.size()) {
        return v;
      }
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

std::optional<Backoff> backoff_named(const std::string& name) {
  if (name == "linear") {
    return Backoff::kLinear;
  }
  if (name == "arithmetic") {
    return Backoff::kArithmetic;
  }
  if (name == "geometric") {
    return Backoff::kGeometric;
  }
  if (name == "exponential") {
    return Backoff::kExponential;
  }
  return std::nullopt;
}

class Checker {
 public:
  explicit Checker(std::string prefix) : prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw invalid_parameter(prefix_ + "DeliveryPolicy: " + path + what);
  }

  void retry(const Ordered& doc, const std::string& path) const {
    if (!doc.is_object()) {
      fail(path, " must be a JSON object");
    }
    for (const char* required : {"minDelayTarget", "maxDelayTarget", "numRetries"}) {
      if (!doc.contains(required)) {
        fail(path + "." + required, " must be specified");
      }
    }
    long long values[6] = {};
    const char* names[6] = {"minDelayTarget",    "maxDelayTarget",     "numRetries",
                            "numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries"};
    for (int i = 0; i < 6; ++i) {
      if (doc.contains(names[i])) {
        auto v = integer(doc, names[i]);
        if (!v) {
          fail(path + "." + names[i], " must be an integer");
        }
        values[i] = *v;
      }
    }
    const auto [min, max, retries, no_delay, min_retries, max_retries] =
        std::tuple(values[0], values[1], values[2], values[3], values[4], values[5]);
    if (min < 1) {
      fail(path + ".minDelayTarget", " must be greater than or equal to 1");
    }
    if (max > kMaxDelaySeconds) {
      fail(path + ".maxDelayTarget", " must be less than or equal to " + std::to_string(kMaxDelaySeconds));
    }
    if (min > max) {
      fail(path + ".maxDelayTarget", " must be greater than or equal to minDelayTarget");
    }
    if (retries < 0) {
      fail(path + ".numRetries", " must be greater than or equal to 0");
    }
    if (retries > kMaxRetries) {
      fail(path + ".numRetries", " must be less than or equal to " + std::to_string(kMaxRetries));
    }
    for (int i = 3; i < 6; ++i) {
      if (values[i] < 0) {
        fail(path + "." + names[i], " must be greater than or equal to 0");
      }
    }
    if (no_delay + min_retries + max_retries > retries) {
      fail(path + ".numRetries",
           " must be greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries");
    }
    if (auto it = doc.find("backoffFunction"); it != doc.end()) {
      if (!it->is_string() || !backoff_named(it->get<std::string>())) {
        fail(path + ".backoffFunction", " must be one of: linear, arithmetic, geometric, exponential");
      }
    }
  }

  void throttle(const Ordered& doc, const std::string& path) const {
    if (!doc.is_object()) {
      fail(path, " must be a JSON object");
    }
    if (doc.contains("maxReceivesPerSecond")) {
      auto v = integer(doc, "maxReceivesPerSecond");
      if (!v) {
        fail(path + ".maxReceivesPerSecond", " must be an integer");
      }
      if (*v < 1) {
        fail(path + ".maxReceivesPerSecond", " must be greater than or equal to 1");
      }
    }
  }

  void request(const Ordered& doc, const std::string& path) const {
    if (!doc.is_object()) {
      fail(path, " must be a JSON object");
    }
    auto it = doc.find("headerContentType");
    if (it == doc.end()) {
      return;
    }
    static const char* const kTypes[] = {"text/plain",
                                         "application/json",
                                         "text/css",
                                         "text/csv",
                                         "text/html",
                                         "text/xml",
                                         "application/atom+xml",
                                         "application/octet-stream",
                                         "application/soap+xml",
                                         "application/x-www-form-urlencoded",
                                         "application/xhtml+xml",
                                         "application/xml"};
    std::string media = it->is_string() ? it->get<std::string>() : std::string();
    media = media.substr(0, media.find(';'));
    while (!media.empty() && media.back() == ' ') {
      media.pop_back();
    }
    for (const char* type : kTypes) {
      if (media == type) {
        return;
      }
    }
    fail(path + ".headerContentType", " is not a supported content type");
  }

  void not_object(const std::string& text) const {
    if (!parse(text).is_object()) {
      throw invalid_parameter(prefix_ + "DeliveryPolicy");
    }
  }

 private:
  std::string prefix_;
};

}  // namespace

std::int64_t RetryPolicy::delay_seconds(int n) const {
  if (n <= no_delay_retries) {
    return 0;
  }
  n -= no_delay_retries;
  if (n <= min_delay_retries) {
    return min_delay;
  }
  n -= min_delay_retries;
  const int k = num_retries - no_delay_retries - min_delay_retries - max_delay_retries;
  if (n > k) {
    return max_delay;
  }
  if (k == 1) {
    return min_delay;
  }
  const double lo = min_delay;
  const double hi = max_delay;
  const double t = static_cast<double>(n - 1) / static_cast<double>(k - 1);
  double d = lo;
  switch (backoff) {
    case Backoff::kLinear:
      d = lo + (hi - lo) * t;
      break;
    case Backoff::kArithmetic:
      d = lo + (hi - lo) * t * t;
      break;
    case Backoff::kGeometric:
      d = lo * std::pow(hi / lo, t);
      break;
    case Backoff::kExponential:
      d = lo + (hi - lo) * (std::exp2(n - 1) - 1) / (std::exp2(k - 1) - 1);
      break;
  }
  return static_cast<std::int64_t>(std::llround(d));
}

bool is_json_object(const std::string& text) { return parse(text).is_object(); }

std::string topic_effective_delivery_policy(const std::string& topic_delivery_policy) {
  return topic_effective(topic_delivery_policy).dump();
}

std::string subscription_effective_delivery_policy(const std::string& topic_delivery_policy,
                                                   const std::string& subscription_delivery_policy) {
  return subscription_effective(topic_delivery_policy, subscription_delivery_policy).dump();
}

HttpDeliveryPolicy http_delivery_policy(const std::string& topic_delivery_policy,
                                        const std::string& subscription_delivery_policy) {
  Ordered effective = subscription_effective(topic_delivery_policy, subscription_delivery_policy);
  HttpDeliveryPolicy out;
  const Ordered& retry = effective["healthyRetryPolicy"];
  if (retry.is_object()) {
    auto read = [&](const char* name, int& field) {
      if (auto v = integer(retry, name)) {
        field = static_cast<int>(std::clamp<long long>(*v, 0, kMaxDelaySeconds));
      }
    };
    read("minDelayTarget", out.retry.min_delay);
    read("maxDelayTarget", out.retry.max_delay);
    read("numRetries", out.retry.num_retries);
    read("numNoDelayRetries", out.retry.no_delay_retries);
    read("numMinDelayRetries", out.retry.min_delay_retries);
    read("numMaxDelayRetries", out.retry.max_delay_retries);
    out.retry.num_retries = std::min(out.retry.num_retries, kMaxRetries);
    if (auto it = retry.find("backoffFunction"); it != retry.end() && it->is_string()) {
      out.retry.backoff = backoff_named(it->get<std::string>()).value_or(Backoff::kLinear);
    }
  }
  const Ordered& throttle = effective["throttlePolicy"];
  if (throttle.is_object()) {
    if (auto v = integer(throttle, "maxReceivesPerSecond"); v && *v > 0) {
      out.max_receives_per_second = static_cast<int>(std::min<long long>(*v, 1'000'000));
    }
  }
  const Ordered& request = effective["requestPolicy"];
  if (request.is_object()) {
    if (auto it = request.find("headerContentType"); it != request.end() && it->is_string()) {
      out.content_type = it->get<std::string>();
    }
  }
  return out;
}

void check_topic_delivery_policy(const std::string& text, const std::string& prefix) {
  Checker check(prefix);
  check.not_object(text);
  Ordered doc = parse(text);
  auto http = doc.find("http");
  if (http == doc.end()) {
    return;
  }
  if (!http->is_object()) {
    check.fail("http", " must be a JSON object");
  }
  if (auto it = http->find("defaultHealthyRetryPolicy"); it != http->end() && !it->is_null()) {
    check.retry(*it, "http.defaultHealthyRetryPolicy");
  }
  if (auto it = http->find("defaultThrottlePolicy"); it != http->end() && !it->is_null()) {
    check.throttle(*it, "http.defaultThrottlePolicy");
  }
  if (auto it = http->find("defaultRequestPolicy"); it != http->end() && !it->is_null()) {
    check.request(*it, "http.defaultRequestPolicy");
  }
  if (auto it = http->find("disableSubscriptionOverrides"); it != http->end() && !it->is_boolean()) {
    check.fail("http.disableSubscriptionOverrides", " must be a boolean");
  }
}

void check_subscription_delivery_policy(const std::string& text, const std::string& prefix) {
  Checker check(prefix);
  check.not_object(text);
  Ordered doc = parse(text);
  if (auto it = doc.find("healthyRetryPolicy"); it != doc.end() && !it->is_null()) {
    check.retry(*it, "healthyRetryPolicy");
  }
  if (auto it = doc.find("sicklyRetryPolicy"); it != doc.end() && !it->is_null()) {
    check.retry(*it, "sicklyRetryPolicy");
  }
  if (auto it = doc.find("throttlePolicy"); it != doc.end() && !it->is_null()) {
    check.throttle(*it, "throttlePolicy");
  }
  if (auto it = doc.find("requestPolicy"); it != doc.end() && !it->is_null()) {
    check.request(*it, "requestPolicy");
  }
}

}  // namespace fogbank::sns
