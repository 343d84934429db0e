#pragma once
// Resource policies (an SQS queue's or SNS topic's Policy attribute) as far as fogbank evaluates
// them: one implementation for every service that has them.

#include <string>
#include <string_view>

namespace fogbank::protocol {

/// The caller a policy is evaluated for.
struct PolicyCaller {
  std::string account;  ///< 12 digits
  std::string arn;      ///< arn:aws:iam::<account>:user/... or assumed-role/...; may be empty
};

/// Whether `policy` lets `caller` do `action` ("sqs:SendMessage") on `resource_arn`. An explicit
/// Deny wins over any Allow.
///
/// Evaluated: Effect, Principal ("*", {"AWS": "*" | account id | arn:aws:iam::<id>:root | the
/// caller's ARN, or a list of them}), Action (wildcards, case-insensitive as IAM's action names
/// are) and Resource (ARN wildcards; absent means the resource). A statement with a Condition,
/// NotPrincipal, NotAction or NotResource is skipped: their context keys (aws:SourceArn, ...) do
/// not exist here, and guessing would grant what AWS would not. A policy that is not JSON (or
/// nests deeper than client JSON may) grants nothing.
[[nodiscard]] bool resource_policy_allows(std::string_view policy, std::string_view resource_arn,
                                          const PolicyCaller& caller, std::string_view action);

/// `*` and `?` wildcards as in IAM's ARN and action matching; iterative, never recursive.
[[nodiscard]] bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case);

}  // namespace fogbank::protocol
