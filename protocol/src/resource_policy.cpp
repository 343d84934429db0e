#include "fogbank/protocol/resource_policy.hpp"

#include <cctype>

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

bool statement_applies(const json& s, std::string_view resource_arn, const PolicyCaller& caller,
                       std::string_view action) {
  if (!s.is_object() || s.contains("Condition") || s.contains("NotPrincipal") || s.contains("NotAction") ||
      s.contains("NotResource")) {
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

bool resource_policy_allows(std::string_view policy, std::string_view resource_arn, const PolicyCaller& caller,
                            std::string_view action) {
  if (policy.empty()) {
    return false;
  }
  auto doc = parse_json_limited(policy);
  if (!doc.is_object()) {
    return false;
  }
  auto statements = doc.find("Statement");
  if (statements == doc.end()) {
    return false;
  }
  json single;
  const json* list = &*statements;
  if (statements->is_object()) {
    single = json::array({*statements});
    list = &single;
  }
  if (!list->is_array()) {
    return false;
  }
  bool allowed = false;
  for (const auto& s : *list) {
    if (!statement_applies(s, resource_arn, caller, action)) {
      continue;
    }
    auto effect = s.value("Effect", std::string());
    if (effect == "Deny") {
      return false;
    }
    allowed = allowed || effect == "Allow";
  }
  return allowed;
}

}  // namespace fogbank::protocol
