#pragma once
// Cross-account access to queues. fogbank has no IAM: a queue's own account may do anything with
// it, and another account only what the queue's resource policy (its Policy attribute, which
// AddPermission writes) grants that account.

#include <string>
#include <string_view>

namespace fogbank::sqs {

/// The caller a policy is evaluated for.
struct Principal {
  std::string account;  ///< 12 digits
  std::string arn;      ///< arn:aws:iam::<account>:user/... or assumed-role/...; may be empty
};

/// Whether `policy` (a queue's Policy attribute) lets `caller` do `action` ("SendMessage") on the
/// queue `queue_arn`. An explicit Deny wins over any Allow.
///
/// Evaluated: Effect, Principal ("*", {"AWS": "*" | account id | arn:aws:iam::<id>:root |
/// the caller's ARN, or a list of them}), Action ("sqs:SendMessage", "SQS:*", "*", wildcards,
/// case-insensitive as IAM's action names are) and Resource (ARN wildcards; absent means the
/// queue). A statement with a Condition, NotPrincipal, NotAction or NotResource is skipped: their
/// context keys (aws:SourceArn, ...) do not exist here, and guessing would grant what AWS would
/// not. A policy that is not JSON grants nothing.
[[nodiscard]] bool policy_allows(std::string_view policy, std::string_view queue_arn, const Principal& caller,
                                 std::string_view action);

/// `*` and `?` wildcards as in IAM's ARN and action matching.
[[nodiscard]] bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case);

}  // namespace fogbank::sqs
