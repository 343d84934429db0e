// Subscription operations: Subscribe, ConfirmSubscription, Unsubscribe, the listings and
// Get/SetSubscriptionAttributes.

#include <algorithm>
#include <regex>
#include <set>

#include "arn.hpp"
#include "delivery_policy.hpp"
#include "engine.hpp"
#include "errors.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "input.hpp"
#include "json_doc.hpp"
#include "persistence.hpp"

namespace fogbank::sns {

namespace {

constexpr std::size_t kPageSize = 100;
constexpr std::size_t kTokenBytes = 144;  // AWS's tokens are 288 hex digits

const std::set<std::string, std::less<>> kProtocols = {"http", "https",  "email",    "email-json", "sms",
                                                       "sqs",  "lambda", "firehose", "application"};
const std::set<std::string, std::less<>> kSettable = {"DeliveryPolicy",     "FilterPolicy",  "FilterPolicyScope",
                                                      "RawMessageDelivery", "RedrivePolicy", "SubscriptionRoleArn"};
const std::set<std::string, std::less<>> kRawProtocols = {"sqs", "http", "https", "firehose"};

std::vector<std::string> split_colon(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto colon = s.find(':', start);
    parts.push_back(s.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) {
      return parts;
    }
    start = colon + 1;
  }
}

/// arn:aws:<service>:<region>:<account>:<resource...> with non-empty parts.
bool service_arn(const std::string& arn, std::string_view service, std::size_t min_parts = 6) {
  auto parts = split_colon(arn);
  return parts.size() >= min_parts && parts[0] == "arn" && parts[2] == service && !parts[3].empty() &&
         !parts[4].empty() && !parts[5].empty();
}

void check_endpoint(const std::string& protocol, const std::string& endpoint) {
  if (protocol == "http" || protocol == "https") {
    if (!endpoint.starts_with(protocol + "://")) {
      throw invalid_parameter("Invalid parameter: Endpoint must match the specified protocol");
    }
  } else if (protocol == "sms") {
    static const std::regex kPhone(R"(\+?\d+([-./]\d+)*)");
    std::size_t digits = static_cast<std::size_t>(std::count_if(endpoint.begin(), endpoint.end(), ::isdigit));
    if (!std::regex_match(endpoint, kPhone) || digits > 15) {
      throw invalid_parameter("Invalid SMS endpoint: " + endpoint);
    }
  } else if (protocol == "sqs") {
    auto parts = split_colon(endpoint);
    if (parts.size() != 6 || !service_arn(endpoint, "sqs")) {
      throw invalid_parameter("Invalid parameter: SQS endpoint ARN");
    }
  } else if (protocol == "lambda") {
    auto parts = split_colon(endpoint);
    if (!service_arn(endpoint, "lambda", 7) || parts[5] != "function" || parts[6].empty()) {
      throw invalid_parameter("Invalid parameter: Lambda endpoint ARN");
    }
  } else if (protocol == "firehose") {
    if (!service_arn(endpoint, "firehose") || !split_colon(endpoint)[5].starts_with("deliverystream/")) {
      throw invalid_parameter("Invalid parameter: Firehose endpoint ARN");
    }
  } else if (protocol == "application") {
    if (!service_arn(endpoint, "sns") || !split_colon(endpoint)[5].starts_with("endpoint/")) {
      throw invalid_parameter("Invalid parameter: ApplicationEndpoint ARN");
    }
  } else if (protocol == "email" || protocol == "email-json") {
    auto at = endpoint.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= endpoint.size() ||
        endpoint.find('@', at + 1) != std::string::npos) {
      throw invalid_parameter("Invalid parameter: Email address");
    }
  }
}

bool valid_token_format(const std::string& token) {
  return token.size() == 2 * kTokenBytes &&
         std::all_of(token.begin(), token.end(), [](char ch) { return protocol::hex_digit_value(ch) >= 0; });
}

/// A queue in another account than the subscriber's must confirm, as on AWS.
bool needs_confirmation(const std::string& protocol, const std::string& endpoint, const std::string& caller_account) {
  if (protocol == "http" || protocol == "https" || protocol == "email" || protocol == "email-json") {
    return true;
  }
  return protocol == "sqs" && arn_account(endpoint) != caller_account;
}

Value list_entry(const Subscription& s) {
  return Value{{"SubscriptionArn", s.pending ? std::string("PendingConfirmation") : s.arn},
               {"Owner", s.owner},
               {"Protocol", s.protocol},
               {"Endpoint", s.endpoint},
               {"TopicArn", s.topic_arn}};
}

std::optional<std::string> read_marker(const Value& in) {
  auto token = input::optional_string(in, "NextToken");
  if (!token || token->empty()) {
    return std::nullopt;
  }
  auto marker = protocol::base64_decode(*token);
  if (!marker) {
    throw invalid_parameter("Invalid parameter: NextToken");
  }
  return marker;
}

}  // namespace

std::string SnsEngine::check_subscription_attribute(const std::string& name, const std::string& value,
                                                    const Topic& topic, const std::string& protocol,
                                                    const std::string& endpoint, const std::string& prefix) const {
  if (kSettable.count(name) == 0) {
    throw invalid_parameter(prefix + "AttributeName");
  }
  if (name == "RawMessageDelivery") {
    std::string lower = value;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (lower != "true" && lower != "false") {
      throw invalid_parameter(prefix + "RawMessageDelivery: Invalid value [" + value + "]. Must be true or false.");
    }
    if (kRawProtocols.count(protocol) == 0) {
      throw invalid_parameter("Invalid parameter: Delivery protocol [" + protocol +
                              "] does not support raw message delivery.");
    }
    return lower;
  }
  if (name == "FilterPolicyScope") {
    if (value != "MessageAttributes" && value != "MessageBody") {
      throw invalid_parameter(prefix + "FilterPolicyScope: Invalid value [" + value +
                              "]. Please use either MessageBody or MessageAttributes");
    }
  } else if (name == "RedrivePolicy" && !value.empty()) {
    jsondoc::ParseError error;
    auto doc = jsondoc::parse(value, 16, error);
    if (!doc) {
      throw invalid_parameter(prefix + "RedrivePolicy: failed to parse JSON. " + error.message +
                              "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); "
                              "line: " +
                              std::to_string(error.line) + ", column: " + std::to_string(error.column) + "]");
    }
    std::string dlq;
    if (doc->is_object() && doc->contains("deadLetterTargetArn") && (*doc)["deadLetterTargetArn"].is_string()) {
      dlq = (*doc)["deadLetterTargetArn"].get<std::string>();
    }
    if (!service_arn(dlq, "sqs") || split_colon(dlq).size() != 6) {
      throw invalid_parameter(prefix + "RedrivePolicy: deadLetterTargetArn is an invalid arn");
    }
    if (topic.fifo && endpoint.ends_with(".fifo") && !dlq.ends_with(".fifo")) {
      throw invalid_parameter(prefix + "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.");
    }
  } else if (name == "DeliveryPolicy" && !value.empty()) {
    check_subscription_delivery_policy(value, prefix);
  }
  return value;
}

Value SnsEngine::subscription_attributes(const Subscription& s) {
  Value out = Value::object();
  out["ConfirmationWasAuthenticated"] = s.authenticated ? "true" : "false";
  out["Endpoint"] = s.endpoint;
  out["Owner"] = s.owner;
  out["PendingConfirmation"] = s.pending ? "true" : "false";
  out["Protocol"] = s.protocol;
  out["RawMessageDelivery"] = s.raw() ? "true" : "false";
  out["SubscriptionArn"] = s.arn;
  out["SubscriptionPrincipal"] = s.principal;
  out["TopicArn"] = s.topic_arn;
  for (const auto& [k, v] : s.attributes) {
    if (k != "RawMessageDelivery" && k != "FilterPolicyScope" && k != "AuthenticateOnUnsubscribe") {
      out[k] = v;
    }
  }
  // The scope shows only next to a policy, as on AWS.
  if (s.attributes.count("FilterPolicy") != 0) {
    out["FilterPolicyScope"] = s.scope() == FilterScope::kMessageBody ? "MessageBody" : "MessageAttributes";
  }
  if (s.protocol == "http" || s.protocol == "https") {
    const Topic* t = find_topic_arn(s.topic_arn);
    auto it = s.attributes.find("DeliveryPolicy");
    out["EffectiveDeliveryPolicy"] = subscription_effective_delivery_policy(
        t != nullptr ? t->attribute("DeliveryPolicy") : std::string(),
        it != s.attributes.end() ? it->second : std::string());
  }
  return out;
}

ControlMessage SnsEngine::control_message(const Subscription& s, const std::string& type, const Caller& c) {
  const Topic* t = find_topic_arn(s.topic_arn);
  return make_control_message(*signer_, type, s.topic_arn, s.arn, s.token, c.base_url, c.now_ms,
                              t != nullptr ? t->attribute("SignatureVersion", "1") : std::string("1"));
}

OutboxEntry SnsEngine::http_entry(const Subscription& s, std::string type, std::string message_id, std::string body) {
  const Topic* t = find_topic_arn(s.topic_arn);
  auto policy = s.attributes.find("DeliveryPolicy");
  OutboxEntry e;
  e.subscription_arn = s.arn;
  e.topic_arn = s.topic_arn;
  e.protocol = s.protocol;
  e.endpoint = s.endpoint;
  e.type = std::move(type);
  e.message_id = std::move(message_id);
  e.body = std::move(body);
  e.raw = e.type == "Notification" && s.raw();
  e.policy = http_delivery_policy(t != nullptr ? t->attribute("DeliveryPolicy") : std::string(),
                                  policy != s.attributes.end() ? policy->second : std::string());
  e.dead_letter_queue = dead_letter_target(s);
  e.created_ms = clock_();
  e.due_ms = e.created_ms;
  return e;
}

void SnsEngine::stage_control(storage::Batch& batch, std::vector<OutboxEntry>& staged, const Subscription& s,
                              const ControlMessage& message) {
  if (!http_protocol(s.protocol) || !outbox_) {
    return;
  }
  if (auto e = outbox_->stage(batch, http_entry(s, message.type, message.message_id, control_envelope(message)))) {
    staged.push_back(std::move(*e));
  }
}

void SnsEngine::deliver_control(const Subscription& s, const ControlMessage& message) {
  if (http_protocol(s.protocol)) {
    if (!outbox_) {
      DeliveryRecord r = control_record(s, message, clock_());
      r.status = "failed";
      r.error = "fogbank has no outbound HTTP transport";
      log_->add(std::move(r));
    }
    return;  // staged in the outbox otherwise
  }
  if (Deliverer* d = deliverers_.find(s.protocol)) {
    deliverers_.count(s.protocol, d->deliver_control(s, message).status);
  }
}

Value SnsEngine::subscribe(const Value& in, const Caller& c) {
  const std::string topic_arn = input::required_string(in, "TopicArn");
  const std::string protocol = input::required_string(in, "Protocol");
  const bool return_arn = input::boolean(in, "ReturnSubscriptionArn");
  auto given = input::string_map(in, "Attributes");
  std::lock_guard lock(mutex_);
  Topic& topic = topic_for(c, topic_arn, "TopicArn", "Subscribe");
  auto endpoint_in = input::optional_string(in, "Endpoint");
  if (kProtocols.count(protocol) == 0) {
    throw invalid_parameter("Invalid parameter: Amazon SNS does not support this protocol string: " + protocol);
  }
  if (!endpoint_in || endpoint_in->empty()) {
    throw missing_parameter("Endpoint");
  }
  const std::string endpoint = *endpoint_in;
  if (topic.fifo && protocol != "sqs") {
    throw invalid_parameter("Invalid parameter: Invalid protocol type: " + protocol);
  }
  check_endpoint(protocol, endpoint);
  if (protocol == "sqs" && endpoint.ends_with(".fifo") && !topic.fifo) {
    throw invalid_parameter(
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS "
        "topics");
  }
  const std::string prefix = "Invalid parameter: Attributes Reason: ";
  std::map<std::string, std::string> attributes;
  for (const auto& [k, v] : given) {
    attributes[k] = check_subscription_attribute(k, v, topic, protocol, endpoint, prefix);
  }
  std::shared_ptr<const FilterPolicy> filter;
  if (auto it = attributes.find("FilterPolicy"); it != attributes.end()) {
    auto scope_it = attributes.find("FilterPolicyScope");
    auto scope = scope_it != attributes.end() && scope_it->second == "MessageBody" ? FilterScope::kMessageBody
                                                                                  : FilterScope::kMessageAttributes;
    filter = FilterPolicy::compile(it->second, scope, prefix);
  }

  // Subscribing an endpoint again is idempotent unless the attributes contradict it.
  for (const auto& arn : topic.subscriptions) {
    auto sit = subscriptions_.find(arn);
    if (sit == subscriptions_.end() || sit->second.protocol != protocol || sit->second.endpoint != endpoint) {
      continue;
    }
    const Subscription& existing = sit->second;
    for (const auto& [k, v] : attributes) {
      if (v.empty()) {
        continue;
      }
      auto have = existing.attributes.find(k);
      std::string current = have != existing.attributes.end() ? have->second
                            : k == "RawMessageDelivery"     ? std::string("false")
                            : k == "FilterPolicyScope"      ? std::string("MessageAttributes")
                                                            : std::string();
      if (current != v) {
        throw invalid_parameter("Invalid parameter: Attributes Reason: Subscription already exists with different attributes");
      }
    }
    if (existing.pending) {
      // Subscribing again sends the confirmation again (the same token).
      auto message = control_message(existing, "SubscriptionConfirmation", c);
      storage::Batch batch;
      std::vector<OutboxEntry> staged;
      stage_control(batch, staged, existing, message);
      if (!staged.empty()) {
        outbox_->drop_subscription(existing.arn, "SubscriptionConfirmation");
      }
      commit(batch);
      if (outbox_) {
        outbox_->activate(std::move(staged));
      }
      deliver_control(existing, message);
    }
    return Value{{"SubscriptionArn", existing.pending && !return_arn ? "pending confirmation" : existing.arn}};
  }

  Subscription s;
  s.arn = topic.arn() + ":" + protocol::random_uuid(protocol::Randomness::kIdentifier);
  s.topic_arn = topic.arn();
  s.protocol = protocol;
  s.endpoint = endpoint;
  s.owner = c.account;
  s.principal = c.arn;
  s.pending = needs_confirmation(protocol, endpoint, c.account);
  s.authenticated = !s.pending;
  s.token = protocol::hex(protocol::random_bytes(kTokenBytes));
  for (auto& [k, v] : attributes) {
    if (!v.empty() || k == "RawMessageDelivery") {
      s.attributes[k] = v;
    }
  }
  s.filter = std::move(filter);
  s.order = next_order_++;
  storage::Batch batch;
  put_subscription(batch, s);
  std::optional<ControlMessage> confirmation;
  std::vector<OutboxEntry> staged;
  if (s.pending) {
    confirmation = control_message(s, "SubscriptionConfirmation", c);
    stage_control(batch, staged, s, *confirmation);
  }
  commit(batch);
  topic.subscriptions.push_back(s.arn);
  auto [it, inserted] = subscriptions_.emplace(s.arn, std::move(s));
  const Subscription& created = it->second;
  if (confirmation) {
    if (outbox_) {
      outbox_->activate(std::move(staged));
    }
    deliver_control(created, *confirmation);
  }
  return Value{{"SubscriptionArn", created.pending && !return_arn ? "pending confirmation" : created.arn}};
}

Value SnsEngine::confirm_subscription(const Value& in, const Caller& c) {
  const std::string topic_arn = input::required_string(in, "TopicArn");
  const std::string token = input::required_string(in, "Token");
  auto parts = split_colon(topic_arn);
  // SubscribeURLs work unsigned, from any region's endpoint: the region and account come from the ARN.
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[3].empty() || parts[4].empty() ||
      (!c.anonymous && parts[3] != c.region)) {
    throw invalid_parameter("Invalid parameter: Topic");
  }
  if (!valid_token_format(token)) {
    throw invalid_parameter("Invalid token");
  }
  std::lock_guard lock(mutex_);
  Topic* topic = find_topic(parts[4], parts[3], parts[5]);
  Subscription* found = nullptr;
  if (topic != nullptr) {
    for (const auto& arn : topic->subscriptions) {
      auto it = subscriptions_.find(arn);
      if (it != subscriptions_.end() && it->second.token == token) {
        found = &it->second;
        break;
      }
    }
  }
  if (found == nullptr) {
    throw invalid_parameter("Invalid parameter: Token");
  }
  if (found->pending) {
    Subscription updated = *found;
    updated.pending = false;
    updated.authenticated = !c.anonymous;
    if (input::optional_string(in, "AuthenticateOnUnsubscribe").value_or("") == "true") {
      updated.attributes["AuthenticateOnUnsubscribe"] = "true";
    }
    storage::Batch batch;
    put_subscription(batch, updated);
    commit(batch);
    *found = std::move(updated);
    if (outbox_) {
      // Retries of the confirmation stop; the attempt that brought the token finishes.
      outbox_->drop_subscription(found->arn, "SubscriptionConfirmation", false);
    }
  }
  return Value{{"SubscriptionArn", found->arn}};
}

Value SnsEngine::unsubscribe(const Value& in, const Caller& c) {
  auto arn = input::optional_string(in, "SubscriptionArn");
  if (!arn) {
    throw invalid_parameter("Invalid parameter: SubscriptionArn Reason: no value for required parameter");
  }
  const std::size_t elements = arn_elements(*arn);
  if (elements < 6) {
    throw invalid_parameter("Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not " +
                            std::to_string(elements));
  }
  if (!split_subscription_arn(*arn)) {
    throw invalid_parameter("Invalid parameter: SubscriptionId");
  }
  std::lock_guard lock(mutex_);
  auto it = subscriptions_.find(*arn);
  if (it == subscriptions_.end()) {
    return Value::object();  // unsubscribing is idempotent
  }
  Subscription& s = it->second;
  if (c.anonymous) {
    // The UnsubscribeURL is its own capability, unless the subscriber asked for signed unsubscribes.
    if (s.attributes.count("AuthenticateOnUnsubscribe") != 0) {
      throw authorization_error("anonymous", "Unsubscribe", s.arn);
    }
  } else if (s.owner != c.account && arn_account(s.topic_arn) != c.account) {
    throw authorization_error(c.arn, "Unsubscribe", s.arn);
  }
  const Subscription gone = s;
  storage::Batch batch;
  batch.del(storage::Space::kSns, persist::subscription_key(gone.arn));
  Topic* t = find_topic_arn(gone.topic_arn);
  std::optional<Topic> updated;
  if (t != nullptr) {
    updated = *t;
    updated->subscriptions.erase(std::remove(updated->subscriptions.begin(), updated->subscriptions.end(), gone.arn),
                                 updated->subscriptions.end());
    ++updated->deleted;
    put_topic(batch, *updated);
  }
  const bool confirms = http_protocol(gone.protocol) || gone.protocol == "email" || gone.protocol == "email-json";
  std::optional<ControlMessage> confirmation;
  std::vector<OutboxEntry> staged;
  if (confirms) {
    confirmation = control_message(gone, "UnsubscribeConfirmation", c);
    stage_control(batch, staged, gone, *confirmation);
  }
  commit(batch);
  if (t != nullptr) {
    *t = std::move(*updated);
  }
  subscriptions_.erase(gone.arn);
  if (outbox_) {
    // What was still waiting for this endpoint is not sent any more; the confirmation is.
    outbox_->drop_subscription(gone.arn);
    outbox_->activate(std::move(staged));
  }
  if (confirmation) {
    deliver_control(gone, *confirmation);
  }
  return Value::object();
}

Value SnsEngine::list_subscriptions(const Value& in, const Caller& c) {
  auto marker = read_marker(in);
  std::lock_guard lock(mutex_);
  std::vector<const Subscription*> mine;
  for (const auto& [arn, s] : subscriptions_) {
    auto ref = split_subscription_arn(arn);
    if (s.owner == c.account && ref && ref->topic.region == c.region) {
      mine.push_back(&s);
    }
  }
  std::sort(mine.begin(), mine.end(), [](const auto* a, const auto* b) { return a->order < b->order; });
  std::size_t start = 0;
  if (marker) {
    auto pos = std::find_if(mine.begin(), mine.end(), [&](const auto* s) { return s->arn == *marker; });
    if (pos == mine.end()) {
      throw invalid_parameter("Invalid parameter: NextToken");
    }
    start = static_cast<std::size_t>(pos - mine.begin());
  }
  Value out = Value::object();
  Value list = Value::array();
  for (std::size_t i = start; i < mine.size(); ++i) {
    if (list.size() == kPageSize) {
      out["NextToken"] = protocol::base64_encode(mine[i]->arn);
      break;
    }
    list.push_back(list_entry(*mine[i]));
  }
  out["Subscriptions"] = std::move(list);
  return out;
}

Value SnsEngine::list_subscriptions_by_topic(const Value& in, const Caller& c) {
  const std::string topic_arn = input::required_string(in, "TopicArn");
  auto marker = read_marker(in);
  std::lock_guard lock(mutex_);
  Topic& topic = topic_for(c, topic_arn, "TopicArn", "ListSubscriptionsByTopic");
  std::size_t start = 0;
  if (marker) {
    auto pos = std::find(topic.subscriptions.begin(), topic.subscriptions.end(), *marker);
    if (pos == topic.subscriptions.end()) {
      throw invalid_parameter("Invalid parameter: NextToken");
    }
    start = static_cast<std::size_t>(pos - topic.subscriptions.begin());
  }
  Value out = Value::object();
  Value list = Value::array();
  for (std::size_t i = start; i < topic.subscriptions.size(); ++i) {
    if (list.size() == kPageSize) {
      out["NextToken"] = protocol::base64_encode(topic.subscriptions[i]);
      break;
    }
    auto it = subscriptions_.find(topic.subscriptions[i]);
    if (it != subscriptions_.end()) {
      list.push_back(list_entry(it->second));
    }
  }
  out["Subscriptions"] = std::move(list);
  return out;
}

Value SnsEngine::get_subscription_attributes(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "SubscriptionArn");
  std::lock_guard lock(mutex_);
  Subscription& s = subscription_for(c, arn, "GetSubscriptionAttributes");
  return Value{{"Attributes", subscription_attributes(s)}};
}

Value SnsEngine::set_subscription_attributes(const Value& in, const Caller& c) {
  const std::string arn = input::required_string(in, "SubscriptionArn");
  const std::string name = input::required_string(in, "AttributeName");
  const std::string value = input::optional_string(in, "AttributeValue").value_or("");
  std::lock_guard lock(mutex_);
  Subscription& s = subscription_for(c, arn, "SetSubscriptionAttributes");
  Topic* topic = find_topic_arn(s.topic_arn);
  if (topic == nullptr) {
    throw not_found("Subscription does not exist");
  }
  const std::string prefix = "Invalid parameter: ";
  Subscription updated = s;
  std::string stored = check_subscription_attribute(name, value, *topic, s.protocol, s.endpoint, prefix);
  if (stored.empty() && name != "RawMessageDelivery") {
    updated.attributes.erase(name);
  } else {
    updated.attributes[name] = stored;
  }
  // A policy is compiled for the scope it will run in: setting either one recompiles it.
  if (name == "FilterPolicy" || name == "FilterPolicyScope") {
    auto policy = updated.attributes.find("FilterPolicy");
    updated.filter = policy == updated.attributes.end() ? nullptr
                                                        : FilterPolicy::compile(policy->second, updated.scope(), prefix);
  }
  storage::Batch batch;
  put_subscription(batch, updated);
  commit(batch);
  s = std::move(updated);
  return Value::object();
}

}  // namespace fogbank::sns
