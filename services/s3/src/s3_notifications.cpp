#include "s3_notifications.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/text.hpp"
#include "fogbank/sns/topic_publisher.hpp"
#include "fogbank/sqs/message_sink.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// The Event enum of S3's model (botocore's s3 service-2.json).
constexpr std::string_view kEventNames[] = {
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:ObjectRestore:Delete",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
};

constexpr std::string_view kSnsSubject = "Amazon S3 Notification";
constexpr std::string_view kS3Principal = "s3.amazonaws.com";
// What SQS shows as SenderId for messages S3 sends (a service principal's id, not the bucket
// owner's).
constexpr std::string_view kS3SenderId = "AIDAJHIPRHEMV73VRJEBU";

struct TypeNames {
  std::string_view list;     ///< member of NotificationConfiguration
  std::string_view arn;      ///< member holding the destination
  std::string_view element;  ///< the destination's XML element (errors name it)
  std::string_view service;  ///< the ARN's service
};

TypeNames names_of(DestinationType t) {
  switch (t) {
    case DestinationType::kTopic:
      return {"TopicConfigurations", "TopicArn", "Topic", "sns"};
    case DestinationType::kQueue:
      return {"QueueConfigurations", "QueueArn", "Queue", "sqs"};
    case DestinationType::kLambda:
      break;
  }
  return {"LambdaFunctionConfigurations", "LambdaFunctionArn", "CloudFunction", "lambda"};
}

constexpr DestinationType kTypes[] = {DestinationType::kTopic, DestinationType::kQueue, DestinationType::kLambda};

/// arn:<partition>:<service>:<region>:<account>:<resource>, every part non-empty.
struct ArnParts {
  std::string_view service;
  std::string_view region;
  std::string_view account;
};

std::optional<ArnParts> split_arn(std::string_view arn) {
  std::string_view parts[5];
  std::string_view rest = arn;
  for (auto& part : parts) {
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    part = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  if (parts[0] != "arn" || rest.empty() ||
      std::any_of(std::begin(parts) + 1, std::end(parts), [](std::string_view p) { return p.empty(); })) {
    return std::nullopt;
  }
  return ArnParts{parts[2], parts[3], parts[4]};
}

AwsError invalid(std::string message, std::string_view name, std::string_view value) {
  return errors::invalid_argument(std::move(message), name, value);
}

/// Two event types one event can be both of: equal, or one is the other's family wildcard.
bool events_overlap(std::string_view a, std::string_view b) {
  if (a == b) {
    return true;
  }
  auto family = [](std::string_view e) { return e.substr(0, e.rfind(':') + 1); };
  return family(a) == family(b) && (a.ends_with(":*") || b.ends_with(":*")) && !family(a).empty() &&
         family(a) != "s3:";
}

bool prefixes_overlap(std::string_view a, std::string_view b) { return a.starts_with(b) || b.starts_with(a); }
bool suffixes_overlap(std::string_view a, std::string_view b) { return a.ends_with(b) || b.ends_with(a); }

void check_overlaps(const std::vector<NotificationRule>& rules) {
  for (std::size_t i = 0; i < rules.size(); ++i) {
    for (std::size_t j = i + 1; j < rules.size(); ++j) {
      const auto& a = rules[i];
      const auto& b = rules[j];
      for (const auto& ea : a.events) {
        for (const auto& eb : b.events) {
          if (!events_overlap(ea, eb)) {
            continue;
          }
          const std::string pair = ea + ", " + eb;
          if (a.prefix() == b.prefix() && a.suffix() == b.suffix()) {
            throw invalid("Configurations overlap. Configurations on the same bucket cannot share a common event type.",
                          "Event", pair);
          }
          if (prefixes_overlap(a.prefix(), b.prefix()) && suffixes_overlap(a.suffix(), b.suffix())) {
            throw invalid("Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if "
                          "the prefixes are overlapping for the same event type.",
                          "Event", pair);
          }
        }
      }
    }
  }
}

NotificationRule parse_rule(DestinationType type, const json& item, std::string_view bucket_region) {
  const auto names = names_of(type);
  if (!item.is_object()) {
    throw errors::malformed_xml();
  }
  NotificationRule rule;
  rule.type = type;
  auto arn = item.find(std::string(names.arn));
  auto events = item.find("Events");
  if (arn == item.end() || !arn->is_string() || events == item.end() || !events->is_array() || events->empty()) {
    throw errors::malformed_xml();
  }
  rule.arn = arn->get<std::string>();
  auto parts = split_arn(rule.arn);
  if (!parts || parts->service != names.service) {
    throw invalid("The ARN could not be parsed", names.element, rule.arn);
  }
  if (parts->region != bucket_region) {
    throw invalid("The notification destination service region is not valid for the bucket location constraint",
                  names.element, rule.arn);
  }
  if (auto id = item.find("Id"); id != item.end() && id->is_string()) {
    rule.id = id->get<std::string>();
  }
  if (rule.id.empty()) {
    rule.id = new_configuration_id();
  }
  for (const auto& e : *events) {
    auto name = e.is_string() ? e.get<std::string>() : std::string();
    if (!valid_event_name(name)) {
      throw invalid("The event is not supported for notifications", "Event", name);
    }
    rule.events.push_back(std::move(name));
  }
  if (auto filter = item.find("Filter"); filter != item.end() && filter->is_object()) {
    rule.has_filter = true;
    const json* list = nullptr;
    if (auto key = filter->find("Key"); key != filter->end() && key->is_object()) {
      if (auto rules = key->find("FilterRules"); rules != key->end() && rules->is_array()) {
        list = &*rules;
      }
    }
    if (list != nullptr) {
      bool prefix = false;
      bool suffix = false;
      for (const auto& r : *list) {
        auto name = r.is_object() && r.contains("Name") && r["Name"].is_string() ? r["Name"].get<std::string>() : "";
        auto value = r.is_object() && r.contains("Value") && r["Value"].is_string() ? r["Value"].get<std::string>() : "";
        auto lower = protocol::ascii_lower(name);
        if (lower != "prefix" && lower != "suffix") {
          throw invalid("filter rule name must be either prefix or suffix", "FilterRule.Name", name);
        }
        bool& seen = lower == "prefix" ? prefix : suffix;
        if (seen) {
          throw invalid("Cannot specify more than one " + lower + " rule in a filter.", "FilterRule.Name", name);
        }
        seen = true;
        rule.filter_rules.emplace_back(lower == "prefix" ? "Prefix" : "Suffix", std::move(value));
      }
    }
  }
  return rule;
}

json rule_value(const NotificationRule& rule) {
  const auto names = names_of(rule.type);
  json out = {{"Id", rule.id}, {std::string(names.arn), rule.arn}, {"Events", rule.events}};
  if (rule.has_filter) {
    json rules = json::array();
    for (const auto& [name, value] : rule.filter_rules) {
      rules.push_back({{"Name", name}, {"Value", value}});
    }
    out["Filter"] = {{"Key", rules.empty() ? json::object() : json{{"FilterRules", std::move(rules)}}}};
  }
  return out;
}

std::string_view type_tag(DestinationType t) {
  switch (t) {
    case DestinationType::kTopic:
      return "topic";
    case DestinationType::kQueue:
      return "queue";
    case DestinationType::kLambda:
      break;
  }
  return "lambda";
}

std::string dump(const ordered_json& j) { return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace); }

}  // namespace

std::string_view NotificationRule::prefix() const {
  for (const auto& [name, value] : filter_rules) {
    if (name == "Prefix") {
      return value;
    }
  }
  return {};
}

std::string_view NotificationRule::suffix() const {
  for (const auto& [name, value] : filter_rules) {
    if (name == "Suffix") {
      return value;
    }
  }
  return {};
}

bool NotificationRule::listens_to(std::string_view event) const {
  return std::any_of(events.begin(), events.end(), [&](const std::string& e) {
    if (e == event) {
      return true;
    }
    // "s3:ObjectCreated:*" covers "s3:ObjectCreated:Put".
    return e.ends_with(":*") && event.size() > e.size() - 1 &&
           event.starts_with(std::string_view(e).substr(0, e.size() - 1));
  });
}

bool NotificationRule::matches_key(std::string_view key) const {
  return key.starts_with(prefix()) && key.ends_with(suffix());
}

bool valid_event_name(std::string_view name) {
  return std::find(std::begin(kEventNames), std::end(kEventNames), name) != std::end(kEventNames);
}

NotificationConfig parse_notification_config(const json& document, std::string_view bucket_region) {
  NotificationConfig config;
  if (!document.is_object()) {
    throw errors::malformed_xml();
  }
  for (auto type : kTypes) {
    auto list = document.find(std::string(names_of(type).list));
    if (list == document.end()) {
      continue;
    }
    if (!list->is_array()) {
      throw errors::malformed_xml();
    }
    for (const auto& item : *list) {
      config.rules.push_back(parse_rule(type, item, bucket_region));
    }
  }
  config.event_bridge = document.contains("EventBridgeConfiguration");
  check_overlaps(config.rules);
  return config;
}

json notification_config_value(const NotificationConfig& config) {
  json out = json::object();
  for (const auto& rule : config.rules) {
    out[std::string(names_of(rule.type).list)].push_back(rule_value(rule));
  }
  if (config.event_bridge) {
    out["EventBridgeConfiguration"] = json::object();
  }
  return out;
}

json to_stored(const NotificationConfig& config) {
  json rules = json::array();
  for (const auto& r : config.rules) {
    json filter = json::array();
    for (const auto& [name, value] : r.filter_rules) {
      filter.push_back(json::array({name, value}));
    }
    json j = {{"t", type_tag(r.type)}, {"id", r.id}, {"arn", r.arn}, {"events", r.events}};
    if (r.has_filter) {
      j["filter"] = std::move(filter);
    }
    rules.push_back(std::move(j));
  }
  return json{{"rules", std::move(rules)}, {"eventbridge", config.event_bridge}};
}

std::optional<NotificationConfig> from_stored(const json& j) {
  try {
    NotificationConfig config;
    for (const auto& r : j.at("rules")) {
      NotificationRule rule;
      auto tag = r.at("t").get<std::string>();
      auto type = std::find_if(std::begin(kTypes), std::end(kTypes), [&](auto t) { return type_tag(t) == tag; });
      if (type == std::end(kTypes)) {
        return std::nullopt;
      }
      rule.type = *type;
      rule.id = r.at("id").get<std::string>();
      rule.arn = r.at("arn").get<std::string>();
      rule.events = r.at("events").get<std::vector<std::string>>();
      if (auto f = r.find("filter"); f != r.end()) {
        rule.has_filter = true;
        for (const auto& p : *f) {
          rule.filter_rules.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
        }
      }
      config.rules.push_back(std::move(rule));
    }
    config.event_bridge = j.value("eventbridge", false);
    return config;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string new_configuration_id() {
  return protocol::base64_encode(protocol::random_uuid(protocol::Randomness::kIdentifier));
}

std::string event_key(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
        c == '_' || c == '*' || c == '/') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string customer_principal_id(std::string_view account) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  auto digest = protocol::sha256("fogbank-customer-id:" + std::string(account));
  std::string out = "A";
  for (std::size_t i = 0; i < 13; ++i) {
    out.push_back(kAlphabet[digest[i] % 36]);
  }
  return out;
}

std::string_view event_type(EventKind kind) {
  switch (kind) {
    case EventKind::kPut:
      return "s3:ObjectCreated:Put";
    case EventKind::kPost:
      return "s3:ObjectCreated:Post";
    case EventKind::kCopy:
      return "s3:ObjectCreated:Copy";
    case EventKind::kCompleteMultipartUpload:
      return "s3:ObjectCreated:CompleteMultipartUpload";
    case EventKind::kDelete:
      return "s3:ObjectRemoved:Delete";
    case EventKind::kDeleteMarker:
      return "s3:ObjectRemoved:DeleteMarkerCreated";
    case EventKind::kTaggingPut:
      return "s3:ObjectTagging:Put";
    case EventKind::kAclPut:
      return "s3:ObjectAcl:Put";
    case EventKind::kLifecycleDelete:
      return "s3:LifecycleExpiration:Delete";
    case EventKind::kLifecycleDeleteMarker:
      return "s3:LifecycleExpiration:DeleteMarkerCreated";
    case EventKind::kTaggingDelete:
      break;
  }
  return "s3:ObjectTagging:Delete";
}

bool changes_object_in_place(EventKind kind) {
  return kind == EventKind::kTaggingPut || kind == EventKind::kTaggingDelete || kind == EventKind::kAclPut;
}

bool by_s3(EventKind kind) {
  return kind == EventKind::kLifecycleDelete || kind == EventKind::kLifecycleDeleteMarker;
}

std::string event_message(const ObjectEvent& e, std::string_view configuration_id) {
  const bool tagging = changes_object_in_place(e.kind);
  const bool removed = e.kind == EventKind::kDelete || e.kind == EventKind::kDeleteMarker || by_s3(e.kind);
  ordered_json object;
  object["key"] = event_key(e.key);
  if (!tagging && !removed) {
    object["size"] = e.size;
  }
  if (!removed) {
    object["eTag"] = e.etag;
  }
  if (!e.version_id.empty()) {
    object["versionId"] = e.version_id;
  }
  if (!tagging) {
    object["sequencer"] = e.sequencer;
  }
  ordered_json bucket;
  bucket["name"] = e.bucket;
  bucket["ownerIdentity"] = ordered_json{{"principalId", customer_principal_id(e.bucket_owner)}};
  bucket["arn"] = "arn:aws:s3:::" + e.bucket;
  ordered_json s3;
  s3["s3SchemaVersion"] = "1.0";
  s3["configurationId"] = configuration_id;
  s3["bucket"] = std::move(bucket);
  s3["object"] = std::move(object);
  ordered_json record;
  // Tagging (and ACL) events are version 2.3 of the structure, as S3 sends them.
  record["eventVersion"] = tagging ? "2.3" : "2.1";
  record["eventSource"] = "aws:s3";
  record["awsRegion"] = e.region;
  record["eventTime"] = iso8601_ms(e.time_ms);
  record["eventName"] = event_type(e.kind).substr(3);
  record["userIdentity"] = ordered_json{{"principalId", e.principal_id}};
  record["requestParameters"] = ordered_json{{"sourceIPAddress", e.source_ip}};
  ordered_json response;
  response["x-amz-request-id"] = e.request_id;
  response["x-amz-id-2"] = e.host_id;
  record["responseElements"] = std::move(response);
  record["s3"] = std::move(s3);
  ordered_json message;
  message["Records"] = ordered_json::array({std::move(record)});
  return dump(message);
}

std::string test_event_message(std::string_view bucket, std::string_view request_id, std::string_view host_id,
                               std::int64_t time_ms) {
  ordered_json j;
  j["Service"] = "Amazon S3";
  j["Event"] = "s3:TestEvent";
  j["Time"] = iso8601_ms(time_ms);
  j["Bucket"] = bucket;
  j["RequestId"] = request_id;
  j["HostId"] = host_id;
  return dump(j);
}

std::string Sequencer::next(std::int64_t now_ms) {
  const std::uint64_t from_clock = static_cast<std::uint64_t>(std::max<std::int64_t>(now_ms, 0)) * 1000000U;
  auto last = last_.load(std::memory_order_relaxed);
  std::uint64_t next = 0;
  do {
    next = std::max<std::uint64_t>(last + 1, from_clock);
  } while (!last_.compare_exchange_weak(last, next, std::memory_order_relaxed));
  char buf[24];
  std::snprintf(buf, sizeof buf, "%018llX", static_cast<unsigned long long>(next));
  return buf;
}

void NotificationDelivery::validate_destinations(const NotificationConfig& config) const {
  std::vector<std::pair<std::string, std::string>> failures;
  std::set<std::string, std::less<>> seen;
  for (const auto& rule : config.rules) {
    if (!seen.insert(rule.arn).second) {
      continue;
    }
    switch (rule.type) {
      case DestinationType::kQueue: {
        auto facts = queues_ ? queues_->queue(rule.arn) : std::nullopt;
        if (!facts) {
          failures.emplace_back(rule.arn, "The destination queue does not exist");
        } else if (facts->fifo) {
          // S3 cannot send to FIFO queues: its test message (no MessageGroupId) is refused.
          failures.emplace_back(rule.arn, "Permissions on the destination queue do not allow S3 to publish "
                                          "notifications from this bucket");
        }
        break;
      }
      case DestinationType::kTopic: {
        auto facts = topics_ ? topics_->topic(rule.arn) : std::nullopt;
        if (!facts) {
          failures.emplace_back(rule.arn, "The destination topic does not exist");
        } else if (facts->fifo) {
          failures.emplace_back(rule.arn, "Permissions on the destination topic do not allow S3 to publish "
                                          "notifications from this bucket");
        }
        break;
      }
      case DestinationType::kLambda:
        // No Lambda here: S3's answer for a function it cannot invoke.
        failures.emplace_back(rule.arn + ", null", "Not authorized to invoke function [" + rule.arn + "]");
        break;
    }
  }
  if (failures.empty()) {
    return;
  }
  AwsError e("InvalidArgument", 400, "Unable to validate the following destination configurations");
  for (std::size_t i = 0; i < failures.size(); ++i) {
    e.with_field("ArgumentName" + std::to_string(i + 1), failures[i].first);
    e.with_field("ArgumentValue" + std::to_string(i + 1), failures[i].second);
  }
  throw e;
}

void NotificationDelivery::send(const NotificationRule& rule, const std::string& message, std::string_view bucket,
                                std::string_view bucket_owner) const {
  if (rule.type == DestinationType::kQueue && queues_) {
    sqs::ServiceMessage m;
    m.body = message;
    m.sender_id = std::string(kS3SenderId);
    queues_->send(rule.arn, m);  // a queue deleted since is skipped, as on AWS
  } else if (rule.type == DestinationType::kTopic && topics_) {
    sns::ServicePublish p;
    p.topic_arn = rule.arn;
    p.subject = std::string(kSnsSubject);
    p.message = message;
    p.source_service = std::string(kS3Principal);
    p.source_arn = "arn:aws:s3:::" + std::string(bucket);
    p.source_account = std::string(bucket_owner);
    topics_->publish(p);
  }
}

void NotificationDelivery::send_test_events(const NotificationConfig& config, std::string_view bucket,
                                            std::string_view bucket_owner, std::string_view request_id,
                                            std::string_view host_id, std::int64_t time_ms) const {
  std::set<std::string, std::less<>> sent;
  const auto message = test_event_message(bucket, request_id, host_id, time_ms);
  for (const auto& rule : config.rules) {
    if (rule.type != DestinationType::kLambda && sent.insert(rule.arn).second) {
      send(rule, message, bucket, bucket_owner);
    }
  }
}

bool NotificationDelivery::wants(const NotificationConfig& config, EventKind kind, std::string_view key) {
  const auto type = event_type(kind);
  return std::any_of(config.rules.begin(), config.rules.end(), [&](const NotificationRule& r) {
    return r.type != DestinationType::kLambda && r.listens_to(type) && r.matches_key(key);
  });
}

void NotificationDelivery::deliver(const NotificationConfig& config, const ObjectEvent& event) const {
  const auto type = event_type(event.kind);
  for (const auto& rule : config.rules) {
    if (rule.type == DestinationType::kLambda || !rule.listens_to(type) || !rule.matches_key(event.key)) {
      continue;
    }
    send(rule, event_message(event, rule.id), event.bucket, event.bucket_owner);
  }
}

}  // namespace fogbank::s3
