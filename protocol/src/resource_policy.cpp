#include "fogbank/protocol/resource_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/json_limits.hpp"

namespace fogbank::protocol {

using nlohmann::json;

namespace {

bool same_char(char a, char b, bool ignore_case) {
  if (!ignore_case) {
    return a == b;
  }
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

/// A string, or a list of strings; anything else yields nothing, so a malformed element matches
/// no caller.
template <class F>
bool any_string(const json& v, F&& matches) {
  if (v.is_string()) {
    return matches(v.get_ref<const std::string&>());
  }
  if (v.is_array()) {
    for (const auto& item : v) {
      if (item.is_string() && matches(item.get_ref<const std::string&>())) {
        return true;
      }
    }
  }
  return false;
}

bool principal_matches(const json& principal, const PolicyCaller& caller) {
  if (principal.is_string()) {
    return principal.get_ref<const std::string&>() == "*";
  }
  if (!principal.is_object()) {
    return false;
  }
  auto aws = principal.find("AWS");
  if (aws == principal.end()) {
    return false;  // Service and Federated principals are never a caller here
  }
  const std::string root = "arn:aws:iam::" + caller.account + ":root";
  return any_string(*aws, [&](const std::string& p) {
    return p == "*" || p == caller.account || p == root || (!caller.arn.empty() && p == caller.arn);
  });
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_char(a[i], b[i], true)) {
      return false;
    }
  }
  return true;
}

std::optional<double> number_of(std::string_view text) {
  if (text.empty() || text.size() > 64) {
    return std::nullopt;
  }
  std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) {
    return std::nullopt;
  }
  return v;
}

/// The policy's values for one key: strings, numbers and booleans as IAM reads them.
std::vector<std::string> condition_values(const json& v) {
  std::vector<std::string> out;
  auto add = [&](const json& item) {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    } else if (item.is_boolean()) {
      out.emplace_back(item.get<bool>() ? "true" : "false");
    } else if (item.is_number()) {
      out.push_back(item.dump());
    }
  };
  if (v.is_array()) {
    for (const auto& item : v) {
      add(item);
    }
  } else {
    add(v);
  }
  return out;
}

/// One "Operator": {"key": values} entry: does the request value satisfy it?
/// An IPv4 or IPv6 address in 16 bytes (IPv4 mapped), or nullopt.
std::optional<std::array<unsigned char, 16>> ip_bytes(std::string_view text) {
  std::array<unsigned char, 16> out{};
  const std::string s(text);
  if (s.find(':') == std::string::npos) {
    unsigned char v4[4];
    if (::inet_pton(AF_INET, s.c_str(), v4) != 1) {
      return std::nullopt;
    }
    out[10] = out[11] = 0xff;
    std::copy(v4, v4 + 4, out.begin() + 12);
    return out;
  }
  if (::inet_pton(AF_INET6, s.c_str(), out.data()) != 1) {
    return std::nullopt;
  }
  return out;
}

/// `address` inside `cidr` ("10.0.0.0/8", "2001:db8::/32", or a bare address).
bool ip_in(std::string_view address, std::string_view cidr) {
  const auto slash = cidr.find('/');
  const bool v4 = cidr.substr(0, slash).find(':') == std::string_view::npos;
  auto net = ip_bytes(cidr.substr(0, slash));
  auto ip = ip_bytes(address);
  if (!net || !ip) {
    return false;
  }
  int bits = v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    auto n = number_of(cidr.substr(slash + 1));
    if (!n || *n < 0 || *n > bits || *n != std::floor(*n)) {
      return false;
    }
    bits = static_cast<int>(*n);
  }
  if (v4) {
    bits += 96;  // the mapped prefix
  }
  for (int i = 0; i < bits; ++i) {
    const int mask = 0x80 >> (i % 8);
    if (((*net)[i / 8] & mask) != ((*ip)[i / 8] & mask)) {
      return false;
    }
  }
  return true;
}

bool value_matches(std::string_view op, std::string_view have, std::string_view want) {
  if (op == "StringEquals") {
    return have == want;
  }
  if (op == "StringEqualsIgnoreCase") {
    return ieq(have, want);
  }
  // IAM's ArnEquals takes wildcards as ArnLike does.
  if (op == "StringLike" || op == "ArnLike" || op == "ArnEquals") {
    return wildcard_match(want, have, false);
  }
  if (op == "IpAddress") {
    return ip_in(have, want);
  }
  if (op == "Bool") {
    return ieq(have, want);
  }
  auto a = number_of(have);
  auto b = number_of(want);
  if (!a || !b) {
    return false;
  }
  if (op == "NumericEquals") {
    return *a == *b;
  }
  if (op == "NumericLessThan") {
    return *a < *b;
  }
  if (op == "NumericLessThanEquals") {
    return *a <= *b;
  }
  if (op == "NumericGreaterThan") {
    return *a > *b;
  }
  if (op == "NumericGreaterThanEquals") {
    return *a >= *b;
  }
  return false;
}

/// The positive form of a negated operator ("StringNotEquals" → "StringEquals"), or "".
std::string_view positive_of(std::string_view op) {
  static constexpr std::pair<std::string_view, std::string_view> kNegated[] = {
      {"StringNotEquals", "StringEquals"}, {"StringNotEqualsIgnoreCase", "StringEqualsIgnoreCase"},
      {"StringNotLike", "StringLike"},     {"ArnNotEquals", "ArnEquals"},
      {"ArnNotLike", "ArnLike"},           {"NumericNotEquals", "NumericEquals"},
      {"NotIpAddress", "IpAddress"}};
  for (const auto& [negated, positive] : kNegated) {
    if (op == negated) {
      return positive;
    }
  }
  return {};
}

bool known_operator(std::string_view op) {
  static constexpr std::string_view kKnown[] = {
      "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool", "IpAddress", "NumericEquals",
      "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals"};
  for (auto k : kKnown) {
    if (op == k) {
      return true;
    }
  }
  return false;
}

bool block_holds(std::string op, const json& keys, const PolicyContext& context) {
  if (!keys.is_object()) {
    return false;
  }
  const bool if_exists = op.size() > 8 && op.ends_with("IfExists");
  if (if_exists) {
    op.resize(op.size() - 8);
  }
  for (const auto& [key, want_json] : keys.items()) {
    const auto wants = condition_values(want_json);
    auto have = context.find(key);
    const bool present = have != context.end() && !have->second.empty();
    if (op == "Null") {
      // "true": the key must be absent; "false": present.
      if (wants.size() != 1 || (ieq(wants[0], "true") ? present : !present)) {
        return false;
      }
      continue;
    }
    const std::string_view positive = positive_of(op);
    const std::string_view test = positive.empty() ? std::string_view(op) : positive;
    if (!known_operator(test)) {
      return false;
    }
    if (!present) {
      // IAM: a missing key fails a matching operator and satisfies a negated one.
      if (if_exists || !positive.empty()) {
        continue;
      }
      return false;
    }
    bool any = false;
    for (const auto& h : have->second) {
      for (const auto& w : wants) {
        any = any || value_matches(test, h, w);
      }
    }
    if (positive.empty() ? !any : any) {
      return false;
    }
  }
  return true;
}

bool conditions_hold(const json& condition, const PolicyContext& context) {
  if (!condition.is_object()) {
    return false;
  }
  for (const auto& [op, keys] : condition.items()) {
    if (!block_holds(op, keys, context)) {
      return false;
    }
  }
  return true;
}

bool statement_applies(const json& s, std::string_view resource_arn, const PolicyCaller& caller,
                       std::string_view action, const PolicyContext& context) {
  if (!s.is_object() || s.contains("NotPrincipal") || s.contains("NotAction") || s.contains("NotResource")) {
    return false;
  }
  if (auto condition = s.find("Condition"); condition != s.end() && !conditions_hold(*condition, context)) {
    return false;
  }
  auto principal = s.find("Principal");
  if (principal == s.end() || !principal_matches(*principal, caller)) {
    return false;
  }
  auto actions = s.find("Action");
  if (actions == s.end() ||
      !any_string(*actions, [&](const std::string& a) { return wildcard_match(a, action, true); })) {
    return false;
  }
  auto resource = s.find("Resource");
  return resource == s.end() ||
         any_string(*resource, [&](const std::string& r) { return wildcard_match(r, resource_arn, false); });
}

}  // namespace

bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  // One backtrack point (the last '*'): linear in practice.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t resume = 0;
  while (t < text.size()) {
    // A '*' in the pattern is always the wildcard, even where the text holds a '*' too.
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || same_char(pattern[p], text[t], ignore_case))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

bool ConditionKeyLess::operator()(std::string_view a, std::string_view b) const noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const int x = std::tolower(static_cast<unsigned char>(a[i]));
    const int y = std::tolower(static_cast<unsigned char>(b[i]));
    if (x != y) {
      return x < y;
    }
  }
  return a.size() < b.size();
}

bool resource_policy_allows(std::string_view policy, std::string_view resource_arn, const PolicyCaller& caller,
                            std::string_view action, const PolicyContext& context) {
  return evaluate_resource_policy(policy, resource_arn, caller, action, context) == PolicyDecision::kAllow;
}

PolicyDecision evaluate_resource_policy(std::string_view policy, std::string_view resource_arn,
                                        const PolicyCaller& caller, std::string_view action,
                                        const PolicyContext& context) {
  if (policy.empty()) {
    return PolicyDecision::kNone;
  }
  auto doc = parse_json_limited(policy);
  if (!doc.is_object()) {
    return PolicyDecision::kNone;
  }
  auto statements = doc.find("Statement");
  if (statements == doc.end()) {
    return PolicyDecision::kNone;
  }
  json single;
  const json* list = &*statements;
  if (statements->is_object()) {
    single = json::array({*statements});
    list = &single;
  }
  if (!list->is_array()) {
    return PolicyDecision::kNone;
  }
  // The principal's global keys are in every request's context.
  const PolicyContext* effective = &context;
  PolicyContext with_principal;
  if (!context.contains("aws:PrincipalAccount") || (!caller.arn.empty() && !context.contains("aws:PrincipalArn"))) {
    with_principal = context;
    with_principal.try_emplace("aws:PrincipalAccount", std::vector<std::string>{caller.account});
    if (!caller.arn.empty()) {
      with_principal.try_emplace("aws:PrincipalArn", std::vector<std::string>{caller.arn});
    }
    effective = &with_principal;
  }
  bool allowed = false;
  for (const auto& s : *list) {
    if (!statement_applies(s, resource_arn, caller, action, *effective)) {
      continue;
    }
    auto effect = s.find("Effect");
    if (effect == s.end() || !effect->is_string()) {
      continue;
    }
    if (*effect == "Deny") {
      return PolicyDecision::kDeny;
    }
    allowed = allowed || *effect == "Allow";
  }
  return allowed ? PolicyDecision::kAllow : PolicyDecision::kNone;
}

}  // namespace fogbank::protocol
