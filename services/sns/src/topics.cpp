// Topic operations: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes, permissions,
// tags and data protection policies.

#include <algorithm>
#include <regex>
#include <set>

#include "arn.hpp"
#include "delivery_policy.hpp"
#include "engine.hpp"
#include "errors.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/json_limits.hpp"
#include "fogbank/storage/keys.hpp"
#include "input.hpp"
#include "persistence.hpp"
#include "topic_policy.hpp"

namespace fogbank::sns {

namespace {

using Ordered = nlohmann::ordered_json;

constexpr std::size_t kPageSize = 100;
constexpr std::size_t kMaxTags = 50;

const std::set<std::string, std::less<>> kTopicAttributes = {
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "SignatureVersion",
    "TracingConfig",
    "KmsMasterKeyId",
    "FifoTopic",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
    "ApplicationSuccessFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate",
    "ApplicationFailureFeedbackRoleArn",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "HTTPFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
    "LambdaFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
    "SQSFailureFeedbackRoleArn",
    "FirehoseSuccessFeedbackRoleArn",
    "FirehoseSuccessFeedbackSampleRate",
    "FirehoseFailureFeedbackRoleArn",
};

Ordered parse_ordered(const std::string& text) {
  if (text.empty() || !protocol::json_depth_within(text, protocol::kMaxClientJsonDepth)) {
    return Ordered();
  }
  auto doc = Ordered::parse(text, nullptr, false);
  return doc.is_discarded() ? Ordered() : doc;
}

bool json_object(const std::string& text) { return parse_ordered(text).is_object(); }

bool valid_topic_name(const std::string& name, bool fifo) {
  static const std::regex kStandard("[A-Za-z0-9_-]{1,256}");
  static const std::regex kFifo("[A-Za-z0-9_-]{1,251}\\.fifo");
  return std::regex_match(name, fifo ? kFifo : kStandard);
}

/// "1 validation error detected: ..." as the model's constraints word it.
[[noreturn]] void tag_validation(const std::string& value, const std::string& where, const std::string& constraint) {
  throw protocol::AwsError("ValidationError", 400,
                           "1 validation error detected: Value '" + value + "' at '" + where +
                               "' failed to satisfy constraint: " + constraint);
}

std::map<std::string, std::string> read_tags(const Value& in) {
  std::map<std::string, std::string> tags;
  auto it = in.find("Tags");
  if (it == in.end() || !it->is_array()) {
    return tags;
  }
  std::size_t index = 0;
  for (const auto& tag : *it) {
    ++index;
    auto key = input::optional_string(tag, "Key");
    auto value = input::optional_string(tag, "Value");
    const std::string at = "tags." + std::to_string(index) + ".member";
    if (!key) {
      throw protocol::AwsError("ValidationError", 400,
                               "1 validation error detected: Value null at '" + at +
                                   ".key' failed to satisfy constraint: Member must not be null");
    }
    if (!value) {
      throw protocol::AwsError("ValidationError", 400,
                               "1 validation error detected: Value null at '" + at +
                                   ".value' failed to satisfy constraint: Member must not be null");
    }
    if (key->empty()) {
      tag_validation(*key, at + ".key", "Member must have length greater than or equal to 1");
    }
    if (key->size() > 128) {
      tag_validation(*key, at + ".key", "Member must have length less than or equal to 128");
    }
    if (value->size() > 256) {
      tag_validation(*value, at + ".value", "Member must have length less than or equal to 256");
    }
    if (!tags.emplace(*key, *value).second) {
      throw invalid_parameter("Invalid parameter: Duplicated keys are not allowed.");
    }
  }
  return tags;
}

std::string page_token(const std::string& marker) { return protocol::base64_encode(marker); }

std::optional<std::string> read_page_token(const Value& in, const char* name) {
  auto token = input::optional_string(in, name);
  if (!token || token->empty()) {
    return std::nullopt;
  }
  auto marker = protocol::base64_decode(*token);
  if (!marker) {
    throw invalid_parameter("Invalid parameter: " + std::string(name));
  }
  return marker;
}

}  // namespace

void SnsEngine::check_topic_attribute(bool fifo, const std::string& name, const std::string& value,
                                      bool creating) const {
  const std::string prefix = creating ? "Invalid parameter: Attributes Reason: " : "Invalid parameter: ";
  if (kTopicAttributes.count(name) == 0) {
    throw invalid_parameter(creating ? prefix + "Invalid attribute name: " + name : "Invalid parameter: AttributeName");
  }
  auto invalid = [&](const std::string& what) { return invalid_parameter(prefix + what); };
  if (name == "FifoTopic") {
    if (!creating) {
      throw invalid_parameter("Invalid parameter: AttributeName");
    }
    if (value != "true" && value != "false") {
      throw invalid("FifoTopic");
    }
  } else if (name == "Policy") {
    if (!valid_topic_policy(value)) {
      throw invalid_parameter("Invalid parameter: Policy Error: null");
    }
  } else if (name == "DeliveryPolicy") {
    if (!value.empty()) {
      check_topic_delivery_policy(value, prefix);
    }
  } else if (name == "SignatureVersion") {
    if (value != "1" && value != "2") {
      throw invalid("SignatureVersion");
    }
  } else if (name == "TracingConfig") {
    if (value != "PassThrough" && value != "Active") {
      throw invalid("TracingConfig");
    }
  } else if (name == "ContentBasedDeduplication") {
    if (!fifo || (value != "true" && value != "false")) {
      throw invalid("ContentBasedDeduplication");
    }
  } else if (name == "FifoThroughputScope") {
    if (!fifo || (value != "Topic" && value != "MessageGroup")) {
      throw invalid("FifoThroughputScope");
    }
  } else if (name == "ArchivePolicy") {
    if (!fifo) {
      throw invalid("ArchivePolicy");
    }
    if (!value.empty() && value != "{}") {
      auto doc = parse_ordered(value);
      if (!doc.is_object() || !doc.contains("MessageRetentionPeriod")) {
        throw invalid("ArchivePolicy");
      }
      const auto& period = doc["MessageRetentionPeriod"];
      std::int64_t days = 0;
      if (period.is_number_integer()) {
        days = period.get<std::int64_t>();
      } else if (period.is_string()) {
        try {
          days = std::stoll(period.get<std::string>());
        } catch (const std::exception&) {
          days = 0;
        }
      }
      if (days < 1 || days > 365) {
        throw invalid("ArchivePolicy");
      }
    }
  } else if (name == "DisplayName") {
    if (value.size() > 100) {
      throw invalid("DisplayName");
    }
  }
}

Value SnsEngine::topic_attributes(const Topic& t) const {
  Value out = Value::object();
  for (const auto& [k, v] : t.attributes) {
    out[k] = v;
  }
  std::size_t confirmed = 0;
  std::size_t pending = 0;
  for (const auto& arn : t.subscriptions) {
    auto it = subscriptions_.find(arn);
    if (it != subscriptions_.end()) {
      (it->second.pending ? pending : confirmed)++;
    }
  }
  out["Owner"] = t.account;
  out["TopicArn"] = t.arn();
  out["SubscriptionsConfirmed"] = std::to_string(confirmed);
  out["SubscriptionsPending"] = std::to_string(pending);
  out["SubscriptionsDeleted"] = std::to_string(t.deleted);
  out["EffectiveDeliveryPolicy"] = topic_effective_delivery_policy(t.attribute("DeliveryPolicy"));
  return out;
}

Value SnsEngine::create_topic(const Value& in, const Caller& c) {
  const std::string name = input::required_string(in, "Name");
  auto attributes = input::string_map(in, "Attributes");
  auto tags = read_tags(in);
  bool fifo = false;
  if (auto it = attributes.find("FifoTopic"); it != attributes.end()) {
    if (it->second != "true" && it->second != "false") {
      throw invalid_parameter("Invalid parameter: Attributes Reason: FifoTopic");
    }
    fifo = it->second == "true";
  }
  if (!valid_topic_name(name, fifo)) {
    throw invalid_parameter("Invalid parameter: Topic Name");
  }
  if (tags.size() > kMaxTags) {
    throw protocol::AwsError("TagLimitExceeded", 400, "Could not complete request: tag quota of per resource exceeded");
  }
  std::lock_guard lock(mutex_);
  if (Topic* existing = find_topic(c.account, c.region, name)) {
    // Creating again is idempotent only with nothing that contradicts the topic.
    for (const auto& [k, v] : attributes) {
      bool differs = false;
      if (k == "FifoTopic") {
        differs = (v == "true") != existing->fifo;
      } else {
        auto it = existing->attributes.find(k);
        differs = it == existing->attributes.end() || it->second != v;
      }
      if (differs) {
        throw invalid_parameter("Invalid parameter: Attributes Reason: Topic already exists with different attributes");
      }
    }
    for (const auto& [k, v] : tags) {
      auto it = existing->tags.find(k);
      if (it == existing->tags.end() || it->second != v) {
        throw invalid_parameter("Invalid parameter: Tags Reason: Topic already exists with different tags");
      }
    }
    return Value{{"TopicArn", existing->arn()}};
  }
  for (const auto& [k, v] : attributes) {
    check_topic_attribute(fifo, k, v, true);
  }
  Topic t;
  t.account = c.account;
  t.region = c.region;
  t.name = name;
  t.fifo = fifo;
  t.attributes["DisplayName"] = "";
  t.attributes["Policy"] = default_topic_policy(t.arn(), c.account);
  if (fifo) {
    t.attributes["FifoTopic"] = "true";
    t.attributes["ContentBasedDeduplication"] = "false";
  }
  for (const auto& [k, v] : attributes) {
    if (k != "FifoTopic" && !(v.empty() && (k == "DeliveryPolicy" || k == "ArchivePolicy"))) {
      t.attributes[k] = v;
    }
  }
  t.tags = std::move(tags);
  if (auto dpp = input::optional_string(in, "DataProtectionPolicy")) {
    t.data_protection_policy = *dpp;
  }
  storage::Batch batch;
  put_topic(batch, t);
  commit(batch);
  std::string arn = t.arn();
  topics_.emplace(TopicKey{t.account, t.region, t.name}, std::move(t));
  return Value{{"TopicArn", arn}};
}

Value SnsEngine::delete_topic(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "TopicArn");
  auto ref = parse_topic_arn(arn, "TopicArn", c.region);
  std::lock_guard lock(mutex_);
  Topic* t = find_topic(ref.account, ref.region, ref.name);
  if (t == nullptr) {
    return Value::object();  // deleting is idempotent
  }
  if (t->account != c.account && !topic_policy_allows(t->attribute("Policy"), arn, c.account, c.arn, "DeleteTopic")) {
    throw authorization_error(c.arn, "DeleteTopic", arn);
  }
  storage::Batch batch;
  for (const auto& sub : t->subscriptions) {
    batch.del(storage::Space::kSns, persist::subscription_key(sub));
  }
  auto prefix = persist::dedup_prefix(arn);
  batch.del_range(storage::Space::kSns, prefix, storage::prefix_successor(prefix));
  batch.del(storage::Space::kSns, persist::topic_key(t->account, t->region, t->name));
  commit(batch);
  for (const auto& sub : t->subscriptions) {
    subscriptions_.erase(sub);
    if (outbox_) {
      outbox_->drop_subscription(sub);
    }
  }
  dedup_.erase(arn);
  topics_.erase(TopicKey{ref.account, ref.region, ref.name});
  return Value::object();
}

Value SnsEngine::list_topics(const Value& in, const Caller& c) {
  auto marker = read_page_token(in, "NextToken");
  std::lock_guard lock(mutex_);
  Value topics = Value::array();
  auto it = topics_.lower_bound(TopicKey{c.account, c.region, ""});
  if (marker) {
    auto ref = split_subscription_arn(*marker + ":x");
    if (!ref || ref->topic.account != c.account || ref->topic.region != c.region) {
      throw invalid_parameter("Invalid parameter: NextToken");
    }
    it = topics_.lower_bound(TopicKey{c.account, c.region, ref->topic.name});
  }
  Value out = Value::object();
  for (; it != topics_.end() && std::get<0>(it->first) == c.account && std::get<1>(it->first) == c.region; ++it) {
    if (topics.size() == kPageSize) {
      out["NextToken"] = page_token(it->second.arn());
      break;
    }
    topics.push_back(Value{{"TopicArn", it->second.arn()}});
  }
  out["Topics"] = std::move(topics);
  return out;
}

Value SnsEngine::get_topic_attributes(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "TopicArn");
  std::lock_guard lock(mutex_);
  Topic& t = topic_for(c, arn, "TopicArn", "GetTopicAttributes");
  return Value{{"Attributes", topic_attributes(t)}};
}

Value SnsEngine::set_topic_attributes(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "TopicArn");
  const std::string name = input::required_string(in, "AttributeName");
  const std::string value = input::optional_string(in, "AttributeValue").value_or("");
  std::lock_guard lock(mutex_);
  Topic& t = topic_for(c, arn, "TopicArn", "SetTopicAttributes");
  check_topic_attribute(t.fifo, name, value, false);
  const bool removable = name == "DeliveryPolicy" || name == "ArchivePolicy" || name == "KmsMasterKeyId";
  Topic updated = t;
  if (removable && (value.empty() || (name == "ArchivePolicy" && value == "{}"))) {
    updated.attributes.erase(name);
  } else {
    updated.attributes[name] = value;
  }
  storage::Batch batch;
  put_topic(batch, updated);
  commit(batch);
  t = std::move(updated);
  return Value::object();
}

Value SnsEngine::add_permission(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "TopicArn");
  const std::string label = input::required_string(in, "Label");
  auto accounts = input::string_list(in, "AWSAccountId");
  auto actions = input::string_list(in, "ActionName");
  if (accounts.empty()) {
    throw missing_parameter("AWSAccountId");
  }
  if (actions.empty()) {
    throw missing_parameter("ActionName");
  }
  std::lock_guard lock(mutex_);
  Topic& t = topic_for(c, arn, "TopicArn", "AddPermission");
  // A taken label is reported before a bad action, as AWS does.
  if (policy_has_statement(t.attribute("Policy"), label)) {
    throw invalid_parameter("Invalid parameter: Statement already exists");
  }
  for (const auto& a : actions) {
    if (!permission_action_valid(a)) {
      throw invalid_parameter("Invalid parameter: Policy statement action out of service scope!");
    }
  }
  std::string policy = sns::add_permission(t.attribute("Policy"), t.arn(), label, accounts, actions);
  Topic updated = t;
  updated.attributes["Policy"] = std::move(policy);
  storage::Batch batch;
  put_topic(batch, updated);
  commit(batch);
  t = std::move(updated);
  return Value::object();
}

Value SnsEngine::remove_permission(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "TopicArn");
  const std::string label = input::required_string(in, "Label");
  std::lock_guard lock(mutex_);
  Topic& t = topic_for(c, arn, "TopicArn", "RemovePermission");
  Topic updated = t;
  updated.attributes["Policy"] = sns::remove_permission(t.attribute("Policy"), label);
  storage::Batch batch;
  put_topic(batch, updated);
  commit(batch);
  t = std::move(updated);
  return Value::object();
}

namespace {

/// Tag operations name their resource ResourceArn and answer ResourceNotFound.
TopicRef tag_resource_ref(const std::string& arn, const std::string& region) {
  return parse_topic_arn(arn, "ResourceArn", region);
}

}  // namespace

Topic& SnsEngine::tagged_topic(const Caller& c, const std::string& arn, std::string_view action) {
  auto ref = tag_resource_ref(arn, c.region);
  Topic* t = find_topic(ref.account, ref.region, ref.name);
  if (t == nullptr) {
    throw protocol::AwsError("ResourceNotFound", 404, "Resource does not exist");
  }
  if (t->account != c.account) {
    throw authorization_error(c.arn, action, arn);
  }
  return *t;
}

Value SnsEngine::tag_resource(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "ResourceArn");
  auto tags = read_tags(in);
  std::lock_guard lock(mutex_);
  Topic& t = tagged_topic(c, arn, "TagResource");
  Topic updated = t;
  for (auto& [k, v] : tags) {
    updated.tags[k] = v;
  }
  if (updated.tags.size() > kMaxTags) {
    throw protocol::AwsError("TagLimitExceeded", 400, "Could not complete request: tag quota of per resource exceeded");
  }
  storage::Batch batch;
  put_topic(batch, updated);
  commit(batch);
  t = std::move(updated);
  return Value::object();
}

Value SnsEngine::untag_resource(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "ResourceArn");
  auto keys = input::string_list(in, "TagKeys");
  std::lock_guard lock(mutex_);
  Topic& t = tagged_topic(c, arn, "UntagResource");
  Topic updated = t;
  for (const auto& k : keys) {
    updated.tags.erase(k);
  }
  storage::Batch batch;
  put_topic(batch, updated);
  commit(batch);
  t = std::move(updated);
  return Value::object();
}

Value SnsEngine::list_tags_for_resource(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "ResourceArn");
  std::lock_guard lock(mutex_);
  Topic& t = tagged_topic(c, arn, "ListTagsForResource");
  Value tags = Value::array();
  for (const auto& [k, v] : t.tags) {
    tags.push_back(Value{{"Key", k}, {"Value", v}});
  }
  return Value{{"Tags", std::move(tags)}};
}

Value SnsEngine::get_data_protection_policy(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "ResourceArn");
  std::lock_guard lock(mutex_);
  Topic& t = topic_for(c, arn, "ResourceArn", "GetDataProtectionPolicy");
  Value out = Value::object();
  if (!t.data_protection_policy.empty()) {
    out["DataProtectionPolicy"] = t.data_protection_policy;
  }
  return out;
}

Value SnsEngine::put_data_protection_policy(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "ResourceArn");
  const std::string policy = input::required_string(in, "DataProtectionPolicy");
  if (!policy.empty() && !json_object(policy)) {
    throw invalid_parameter("Invalid parameter: DataProtectionPolicy");
  }
  std::lock_guard lock(mutex_);
  Topic& t = topic_for(c, arn, "ResourceArn", "PutDataProtectionPolicy");
  Topic updated = t;
  updated.data_protection_policy = policy;
  storage::Batch batch;
  put_topic(batch, updated);
  commit(batch);
  t = std::move(updated);
  return Value::object();
}

}  // namespace fogbank::sns
