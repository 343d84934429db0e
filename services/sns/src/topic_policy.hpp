#pragma once
// Topic access policies: AWS's default policy, the statements AddPermission writes, and the
// evaluation that lets another account use a topic. fogbank has no IAM: a topic's own account may
// do anything with it; another account only what the topic's Policy grants it.

#include <string>
#include <string_view>
#include <vector>

namespace fogbank::sns {

/// The Policy every new topic gets (compact JSON, AWS's key order).
std::string default_topic_policy(std::string_view topic_arn, std::string_view account);

/// Whether `policy` is acceptable as a topic Policy (JSON object, depth-limited, with a Statement).
[[nodiscard]] bool valid_topic_policy(std::string_view policy);

/// Whether `policy` grants the caller (account, optional principal ARN) SNS:`action` on the topic.
/// Evaluated: Effect, Principal ("*", {"AWS": ...} with account ids, root ARNs or the caller's ARN),
/// Action (wildcards, case-insensitive), Resource (wildcards; absent: the topic). Statements with a
/// Condition or Not* keys grant nothing (their context does not exist here); a Deny wins.
[[nodiscard]] bool topic_policy_allows(std::string_view policy, std::string_view topic_arn, std::string_view account,
                                       std::string_view caller_arn, std::string_view action);

/// The SNS actions AddPermission accepts.
[[nodiscard]] bool permission_action_valid(std::string_view action);

/// Policy with a statement added (AddPermission); throws InvalidParameter "Invalid parameter:
/// Statement already exists" when `label` is taken.
std::string add_permission(std::string_view policy, std::string_view topic_arn, std::string_view label,
                           const std::vector<std::string>& accounts, const std::vector<std::string>& actions);
/// Whether `policy` has a statement whose Sid is `label`.
[[nodiscard]] bool policy_has_statement(std::string_view policy, std::string_view label);
/// Policy without the statement `label` (RemovePermission; an unknown label changes nothing).
std::string remove_permission(std::string_view policy, std::string_view label);

}  // namespace fogbank::sns
