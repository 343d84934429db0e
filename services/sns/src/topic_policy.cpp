#include "topic_policy.hpp"

#include <nlohmann/json.hpp>

#include "errors.hpp"
#include "fogbank/protocol/json_limits.hpp"
#include "fogbank/protocol/resource_policy.hpp"

namespace fogbank::sns {

using Ordered = nlohmann::ordered_json;

namespace {

constexpr std::string_view kActions[] = {"GetTopicAttributes", "SetTopicAttributes", "AddPermission",
                                         "RemovePermission",   "DeleteTopic",        "Subscribe",
                                         "ListSubscriptionsByTopic", "Publish",       "Receive"};

Ordered parse_ordered(std::string_view policy) {
  if (policy.empty() || !protocol::json_depth_within(policy, protocol::kMaxClientJsonDepth)) {
    return Ordered();
  }
  auto doc = Ordered::parse(policy, nullptr, false);
  return doc.is_discarded() ? Ordered() : doc;
}

}  // namespace

std::string default_topic_policy(std::string_view topic_arn, std::string_view account) {
  Ordered statement;
  statement["Sid"] = "__default_statement_ID";
  statement["Effect"] = "Allow";
  statement["Principal"] = Ordered{{"AWS", "*"}};
  statement["Action"] = Ordered::array();
  for (std::string_view a : kActions) {
    if (a != "Receive") {
      statement["Action"].push_back("SNS:" + std::string(a));
    }
  }
  statement["Resource"] = std::string(topic_arn);
  statement["Condition"] = Ordered{{"StringEquals", Ordered{{"AWS:SourceOwner", std::string(account)}}}};
  Ordered policy;
  policy["Version"] = "2008-10-17";
  policy["Id"] = "__default_policy_ID";
  policy["Statement"] = Ordered::array({statement});
  return policy.dump();
}

bool valid_topic_policy(std::string_view policy) {
  auto doc = parse_ordered(policy);
  if (!doc.is_object()) {
    return false;
  }
  auto statements = doc.find("Statement");
  if (statements == doc.end()) {
    return false;
  }
  return statements->is_object() || (statements->is_array() && !statements->empty());
}

bool topic_policy_allows(std::string_view policy, std::string_view topic_arn, std::string_view account,
                         std::string_view caller_arn, std::string_view action) {
  return protocol::resource_policy_allows(policy, topic_arn, {std::string(account), std::string(caller_arn)},
                                          "sns:" + std::string(action));
}

bool permission_action_valid(std::string_view action) {
  for (auto a : kActions) {
    if (a == action) {
      return true;
    }
  }
  return false;
}

std::string add_permission(std::string_view policy, std::string_view topic_arn, std::string_view label,
                           const std::vector<std::string>& accounts, const std::vector<std::string>& actions) {
  auto doc = parse_ordered(policy);
  if (!doc.is_object()) {
    doc = Ordered{{"Version", "2008-10-17"}, {"Id", "__default_policy_ID"}, {"Statement", Ordered::array()}};
  }
  if (!doc.contains("Statement") || !doc["Statement"].is_array()) {
    Ordered existing = doc.contains("Statement") ? doc["Statement"] : Ordered();
    doc["Statement"] = existing.is_object() ? Ordered::array({existing}) : Ordered::array();
  }
  for (const auto& s : doc["Statement"]) {
    if (s.is_object() && s.contains("Sid") && s["Sid"] == std::string(label)) {
      throw invalid_parameter("Invalid parameter: Statement already exists");
    }
  }
  Ordered principals = Ordered::array();
  for (const auto& a : accounts) {
    principals.push_back("arn:aws:iam::" + a + ":root");
  }
  Ordered verbs = Ordered::array();
  for (const auto& a : actions) {
    verbs.push_back("SNS:" + a);
  }
  Ordered statement;
  statement["Sid"] = std::string(label);
  statement["Effect"] = "Allow";
  statement["Principal"] = Ordered{{"AWS", principals.size() == 1 ? principals[0] : principals}};
  statement["Action"] = verbs.size() == 1 ? verbs[0] : verbs;
  statement["Resource"] = std::string(topic_arn);
  doc["Statement"].push_back(std::move(statement));
  return doc.dump();
}

bool policy_has_statement(std::string_view policy, std::string_view label) {
  auto doc = parse_ordered(policy);
  if (!doc.is_object() || !doc.contains("Statement")) {
    return false;
  }
  const auto& statements = doc["Statement"];
  auto has = [&](const Ordered& s) { return s.is_object() && s.contains("Sid") && s["Sid"] == std::string(label); };
  if (statements.is_object()) {
    return has(statements);
  }
  if (statements.is_array()) {
    for (const auto& s : statements) {
      if (has(s)) {
        return true;
      }
    }
  }
  return false;
}

std::string remove_permission(std::string_view policy, std::string_view label) {
  auto doc = parse_ordered(policy);
  if (!doc.is_object() || !doc.contains("Statement") || !doc["Statement"].is_array()) {
    return std::string(policy);
  }
  Ordered kept = Ordered::array();
  for (const auto& s : doc["Statement"]) {
    if (!(s.is_object() && s.contains("Sid") && s["Sid"] == std::string(label))) {
      kept.push_back(s);
    }
  }
  doc["Statement"] = std::move(kept);
  return doc.dump();
}

}  // namespace fogbank::sns
