// Resource policies (protocol/resource_policy.hpp), the IAM-style documents of SQS queues, SNS
// topics and Kinesis streams, evaluated for a caller, an action and a resource; and the IAM
// wildcard matcher they use. Sections separated by "\n--\n": the policy text, the resource ARN,
// the caller's account, the caller's ARN, the action, the request's condition keys ("key=value"
// lines). Byte 0 picks case folding for the matcher.
#include <cstddef>
#include <cstdint>

#include "fogbank/protocol/resource_policy.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const bool ignore_case = (in.byte() & 1) != 0;
  const std::string_view policy = in.until("\n--\n");
  const std::string_view resource = in.until("\n--\n");
  protocol::PolicyCaller caller{std::string(in.until("\n--\n")), std::string(in.until("\n--\n"))};
  const std::string_view action = in.until("\n--\n");
  protocol::PolicyContext context;
  for (auto line : fuzz::split(in.rest(), '\n')) {
    const auto eq = line.find('=');
    if (eq != std::string_view::npos) {
      context[std::string(line.substr(0, eq))].emplace_back(line.substr(eq + 1));
    }
  }

  const auto decision = protocol::evaluate_resource_policy(policy, resource, caller, action, context);
  // Evaluation is a pure function of its inputs, and allows exactly when the decision is Allow.
  FOGBANK_FUZZ_CHECK(decision == protocol::evaluate_resource_policy(policy, resource, caller, action, context), policy);
  FOGBANK_FUZZ_CHECK((decision == protocol::PolicyDecision::kAllow) ==
                         protocol::resource_policy_allows(policy, resource, caller, action, context),
                     policy);
  (void)protocol::resource_policy_allows(policy, resource, caller, action);

  // Every text matches itself as a pattern ('*' and '?' match themselves too), and "*" matches all.
  FOGBANK_FUZZ_CHECK(protocol::wildcard_match(action, action, ignore_case), action);
  FOGBANK_FUZZ_CHECK(protocol::wildcard_match("*", resource, ignore_case), resource);
  (void)protocol::wildcard_match(resource, action, ignore_case);
  (void)protocol::wildcard_match(policy.substr(0, 4096), resource, ignore_case);
  return 0;
}
