#include "arn.hpp"

#include <vector>

#include "errors.hpp"

namespace fogbank::sns {

namespace {

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto colon = s.find(':', start);
    if (colon == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, colon - start));
    start = colon + 1;
  }
}

}  // namespace

std::size_t arn_elements(std::string_view arn) { return split(arn).size(); }

TopicRef parse_topic_arn(std::string_view arn, std::string_view param, std::string_view region) {
  auto parts = split(arn);
  if (parts.size() < 6) {
    throw invalid_parameter("Invalid parameter: " + std::string(param) +
                            " Reason: An ARN must have at least 6 elements, not " + std::to_string(parts.size()));
  }
  if (parts[0] != "arn" || parts[2] != "sns" || parts[3] != region || parts[4].empty()) {
    throw invalid_parameter("Invalid parameter: " + std::string(param));
  }
  // Anything after the account is the name: a name with ':' (a subscription ARN) names no topic.
  std::string_view rest = arn.substr(parts[0].size() + parts[1].size() + parts[2].size() + parts[3].size() +
                                     parts[4].size() + 5);
  return TopicRef{std::string(parts[3]), std::string(parts[4]), std::string(rest)};
}

std::optional<SubscriptionRef> split_subscription_arn(std::string_view arn) {
  auto parts = split(arn);
  if (parts.size() != 7 || parts[0] != "arn" || parts[2] != "sns" || parts[3].empty() || parts[4].empty() ||
      parts[5].empty() || parts[6].empty()) {
    return std::nullopt;
  }
  return SubscriptionRef{{std::string(parts[3]), std::string(parts[4]), std::string(parts[5])}, std::string(parts[6])};
}

std::string arn_account(std::string_view arn) {
  auto parts = split(arn);
  return parts.size() >= 5 ? std::string(parts[4]) : std::string();
}

}  // namespace fogbank::sns
