#pragma once
// Cross-account access to queues. fogbank has no IAM: a queue's own account may do anything with
// it, and another account only what the queue's resource policy (its Policy attribute, which
// AddPermission writes) grants that account.

#include <string>
#include <string_view>

#include "fogbank/protocol/resource_policy.hpp"

namespace fogbank::sqs {

/// The caller a policy is evaluated for.
using Principal = protocol::PolicyCaller;

/// Whether `policy` (a queue's Policy attribute) lets `caller` do `action` ("SendMessage") on the
/// queue `queue_arn` (see protocol::resource_policy_allows for what is evaluated).
[[nodiscard]] inline bool policy_allows(std::string_view policy, std::string_view queue_arn, const Principal& caller,
                                        std::string_view action) {
  return protocol::resource_policy_allows(policy, queue_arn, caller, "sqs:" + std::string(action));
}

using protocol::wildcard_match;

}  // namespace fogbank::sqs
