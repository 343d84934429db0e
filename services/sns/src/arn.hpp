#pragma once
// SNS ARNs: arn:aws:sns:<region>:<account>:<topic>[:<subscription id>], and the checks AWS
// applies to them, with its messages.

#include <optional>
#include <string>
#include <string_view>

namespace fogbank::sns {

struct TopicRef {
  std::string region;
  std::string account;
  std::string name;
  [[nodiscard]] std::string arn() const { return "arn:aws:sns:" + region + ":" + account + ":" + name; }
};

struct SubscriptionRef {
  TopicRef topic;
  std::string id;  ///< the UUID after the topic name
  [[nodiscard]] std::string arn() const { return topic.arn() + ":" + id; }
};

/// Number of ':'-separated elements, as AWS counts them in "An ARN must have at least 6 elements".
std::size_t arn_elements(std::string_view arn);

/// Parses a topic ARN given as parameter `param` ("TopicArn", "TargetArn", "ResourceArn").
/// Throws InvalidParameter "Invalid parameter: <param> Reason: An ARN must have at least 6
/// elements, not N" for short ARNs and "Invalid parameter: <param>" for one that is not an SNS
/// ARN or names another region than `region` (SNS never reaches across regions).
TopicRef parse_topic_arn(std::string_view arn, std::string_view param, std::string_view region);

/// Splits arn:aws:sns:<region>:<account>:<topic>:<id> without any region check; nullopt when it
/// does not have exactly that shape.
std::optional<SubscriptionRef> split_subscription_arn(std::string_view arn);

/// The account of any ARN (its fifth element); empty when there is none.
std::string arn_account(std::string_view arn);

}  // namespace fogbank::sns
