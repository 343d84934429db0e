// SNS subscription filter policies (services/sns/src/filter_policy.hpp): compiled with AWS's
// validation, then evaluated against message attributes and a JSON message body. Byte 0, bit 0:
// MessageBody scope (else MessageAttributes). Sections separated by "\n--\n": the policy text,
// the attributes ("Name<TAB>Type<TAB>value" lines), the message body.
#include <cstddef>
#include <cstdint>

#include "filter_policy.hpp"
#include "fogbank/protocol/json_limits.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto scope = (in.byte() & 1) != 0 ? sns::FilterScope::kMessageBody : sns::FilterScope::kMessageAttributes;
  const std::string_view text = in.until("\n--\n");
  std::map<std::string, sns::FilterAttribute> attributes;
  for (auto line : fuzz::split(in.until("\n--\n"), '\n')) {
    auto parts = fuzz::split(line, '\t');
    if (parts.size() >= 3) {
      attributes[std::string(parts[0])] = {std::string(parts[1]), std::string(parts[2])};
    }
  }
  const std::string_view body_text = in.rest();

  std::shared_ptr<const sns::FilterPolicy> policy;
  if (!fuzz::accepts([&] { policy = sns::FilterPolicy::compile(text, scope, "Invalid parameter: "); })) {
    return 0;
  }
  // A policy that compiled compiles again to the same decisions (it is stored as text and
  // compiled again at every start).
  auto again = sns::FilterPolicy::compile(text, scope, "Invalid parameter: ");
  FOGBANK_FUZZ_CHECK((policy == nullptr) == (again == nullptr), text);
  if (policy == nullptr) {
    return 0;
  }
  const bool by_attributes = policy->matches_attributes(attributes);
  FOGBANK_FUZZ_CHECK(by_attributes == again->matches_attributes(attributes), text);
  const nlohmann::json body = protocol::parse_json_limited(body_text);
  const bool by_body = policy->matches_body(body.is_discarded() ? nullptr : &body);
  FOGBANK_FUZZ_CHECK(by_body == again->matches_body(body.is_discarded() ? nullptr : &body), text);
  return 0;
}
