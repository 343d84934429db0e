#pragma once
// SNS's domain records: topics and subscriptions as the engine keeps them in memory (and, as
// JSON, in the store's `sns` column family; see persistence.cpp).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "filter_policy.hpp"

namespace fogbank::sns {

/// One SNS message attribute as published.
struct MessageAttribute {
  std::string type;   ///< "String", "Number", "Binary", "String.Array" or a custom "String.x"
  std::string value;  ///< the string, or the raw bytes of a Binary
  [[nodiscard]] bool binary() const { return type == "Binary" || type.starts_with("Binary."); }
};
using MessageAttributes = std::map<std::string, MessageAttribute>;

struct Subscription {
  std::string arn;
  std::string topic_arn;
  std::string protocol;
  std::string endpoint;
  std::string owner;      ///< account that subscribed (may differ from the topic's)
  std::string principal;  ///< SubscriptionPrincipal: the ARN of who subscribed
  bool pending = false;
  bool authenticated = false;  ///< ConfirmationWasAuthenticated
  std::string token;           ///< confirmation token (kept after confirming: confirming twice succeeds)
  /// Settable attributes as given: RawMessageDelivery, FilterPolicy, FilterPolicyScope,
  /// RedrivePolicy, DeliveryPolicy, SubscriptionRoleArn.
  std::map<std::string, std::string> attributes;
  std::uint64_t order = 0;  ///< creation order (listing order)
  std::shared_ptr<const FilterPolicy> filter;  ///< compiled FilterPolicy, null: every message

  [[nodiscard]] bool raw() const {
    auto it = attributes.find("RawMessageDelivery");
    return it != attributes.end() && it->second == "true";
  }
  [[nodiscard]] FilterScope scope() const {
    auto it = attributes.find("FilterPolicyScope");
    return it != attributes.end() && it->second == "MessageBody" ? FilterScope::kMessageBody
                                                                 : FilterScope::kMessageAttributes;
  }
};

struct Topic {
  std::string account;
  std::string region;
  std::string name;
  bool fifo = false;
  /// Stored attributes as set (DisplayName, Policy, DeliveryPolicy, SignatureVersion, ...); the
  /// computed ones (Owner, TopicArn, counters, EffectiveDeliveryPolicy) are not kept here.
  std::map<std::string, std::string> attributes;
  std::map<std::string, std::string> tags;
  std::string data_protection_policy;
  std::uint64_t sequence = 0;  ///< FIFO messages published so far (SequenceNumber source)
  std::uint64_t deleted = 0;   ///< SubscriptionsDeleted
  std::vector<std::string> subscriptions;  ///< ARNs, creation order

  [[nodiscard]] std::string arn() const { return "arn:aws:sns:" + region + ":" + account + ":" + name; }
  [[nodiscard]] std::string attribute(const std::string& name, std::string fallback = {}) const {
    auto it = attributes.find(name);
    return it != attributes.end() ? it->second : fallback;
  }
};

/// A FIFO topic's record of a recent deduplication id (five minutes, as AWS).
struct DedupEntry {
  std::int64_t expires_ms = 0;
  std::string message_id;
  std::string sequence_number;
};

/// A destination number in the account's SMS sandbox (per region, as AWS keeps them).
struct SandboxKey {
  std::string account;
  std::string region;
  std::string phone;
  auto operator<=>(const SandboxKey&) const = default;
};
struct SandboxNumber {
  bool verified = false;
  std::string one_time_password;  ///< the code last sent; empty once verified
};

}  // namespace fogbank::sns
