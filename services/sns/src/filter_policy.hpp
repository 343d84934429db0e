#pragma once
// Subscription filter policies: compiled once when set (Subscribe / SetSubscriptionAttributes),
// with AWS's validation messages, then evaluated per published message.
//
// Supported, for both scopes (MessageAttributes: flat keys; MessageBody: nested keys over a JSON
// object payload): exact strings and numbers, true/false/null (body), prefix, suffix,
// equals-ignore-case, anything-but (value, list, {"prefix"}), numeric (=, <, <=, >, >= and
// ranges), exists, cidr (IPv4 and IPv6), and "$or". Bounds as AWS: at most 5 keys, at most 150
// value combinations, the policy text at most 256 KiB, nesting depth-limited.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fogbank::sns {

enum class FilterScope { kMessageAttributes, kMessageBody };

/// One message attribute as filtering sees it.
struct FilterAttribute {
  std::string type;   ///< "String", "Number", "Binary", "String.Array", or a custom "String.x"
  std::string value;  ///< the string value (Binary: raw bytes, never matched)
};

struct FilterRule;

/// A compiled policy. Immutable; shared between threads.
class FilterPolicy {
 public:
  /// Compiles `text`. Throws AwsError InvalidParameter with AWS's message on an invalid policy;
  /// `prefix` is what AWS puts before "FilterPolicy: ..." ("Invalid parameter: Attributes Reason: "
  /// from Subscribe, "Invalid parameter: " from SetSubscriptionAttributes). Returns nullptr for a
  /// policy that filters nothing ("" or "{}").
  static std::shared_ptr<const FilterPolicy> compile(std::string_view text, FilterScope scope,
                                                     std::string_view prefix);

  [[nodiscard]] bool matches_attributes(const std::map<std::string, FilterAttribute>& attributes) const;
  /// `body` is the message parsed as JSON (nullopt or not an object: matches nothing).
  [[nodiscard]] bool matches_body(const nlohmann::json* body) const;

  struct Condition;
  ~FilterPolicy();
  FilterPolicy();

 private:
  friend struct PolicyCompiler;
  std::vector<std::vector<Condition>> alternatives_;  // OR of ANDs ("$or" expanded)
};

/// The largest policy text AWS accepts (256 KiB).
inline constexpr std::size_t kMaxFilterPolicyBytes = 256 * 1024;

}  // namespace fogbank::sns
