#pragma once
// Resource policies (an SQS queue's or SNS topic's Policy attribute) as far as fogbank evaluates
// them: one implementation for every service that has them.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fogbank::protocol {

/// The caller a policy is evaluated for.
struct PolicyCaller {
  std::string account;  ///< 12 digits
  std::string arn;      ///< arn:aws:iam::<account>:user/... or assumed-role/...; may be empty
};

/// IAM compares condition key names ignoring case.
struct ConditionKeyLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

/// The request's condition keys and their values ("s3:x-amz-server-side-encryption" → {"AES256"}).
/// A key that is not here is absent from the request.
using PolicyContext = std::map<std::string, std::vector<std::string>, ConditionKeyLess>;

enum class PolicyDecision {
  kNone,   ///< no statement applies (implicit deny)
  kAllow,  ///< an Allow applies and no Deny does
  kDeny,   ///< an explicit Deny applies
};

/// What `policy` says about `caller` doing `action` ("sqs:SendMessage") on `resource_arn` in a
/// request with `context`. An explicit Deny wins over any Allow.
///
/// Evaluated: Effect, Principal ("*", {"AWS": "*" | account id | arn:aws:iam::<id>:root | the
/// caller's ARN, or a list of them}), Action (wildcards, case-insensitive as IAM's action names
/// are), Resource (ARN wildcards; absent means the resource) and Condition with IAM's rules: every
/// operator block and key must hold; String*, Arn*, Numeric*, Bool, IpAddress/NotIpAddress and
/// Null operators, with the IfExists suffix; a key absent from `context` fails a matching operator
/// and satisfies a negated one (StringNotEquals, ...), as IAM documents. aws:PrincipalAccount and
/// aws:PrincipalArn come from `caller` when `context` lacks them. Unknown operators and
/// ForAnyValue/ForAllValues make a condition false. A statement
/// with NotPrincipal, NotAction or NotResource is skipped. A policy that is not JSON (or nests
/// deeper than client JSON may) says nothing.
[[nodiscard]] PolicyDecision evaluate_resource_policy(std::string_view policy, std::string_view resource_arn,
                                                      const PolicyCaller& caller, std::string_view action,
                                                      const PolicyContext& context = {});
/// evaluate_resource_policy(...) == kAllow.
[[nodiscard]] bool resource_policy_allows(std::string_view policy, std::string_view resource_arn,
                                          const PolicyCaller& caller, std::string_view action,
                                          const PolicyContext& context = {});

/// `*` and `?` wildcards as in IAM's ARN and action matching; iterative, never recursive.
[[nodiscard]] bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case);

}  // namespace fogbank::protocol
