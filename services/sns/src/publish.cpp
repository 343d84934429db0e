// Publish and PublishBatch: AWS's checks in AWS's order, FIFO sequencing and topic-level
// deduplication, then synchronous delivery to every matching, confirmed subscription.

#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>

#include "arn.hpp"
#include "engine.hpp"
#include "errors.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/json_limits.hpp"
#include "input.hpp"
#include "message_attributes.hpp"
#include "persistence.hpp"

namespace fogbank::sns {

namespace {

constexpr std::int64_t kDedupWindowMs = 5 * 60 * 1000;
constexpr std::size_t kMaxBatchEntries = 10;
constexpr std::size_t kMaxSubjectLength = 100;

/// Subject: printable ASCII, no line breaks, starting with a letter, digit or punctuation, at most
/// 100 characters.
void check_subject(const std::optional<std::string>& subject) {
  if (!subject) {
    return;
  }
  bool ok = !subject->empty() && subject->size() <= kMaxSubjectLength && subject->front() != ' ' &&
            std::all_of(subject->begin(), subject->end(), [](char ch) { return ch >= 0x20 && ch <= 0x7E; });
  if (!ok) {
    throw invalid_parameter("Invalid parameter: Subject");
  }
}

/// E.164, as Publish and the opt-out operations check phone numbers.
bool e164(const std::string& phone) {
  static const std::regex kE164(R"(\+?[1-9]\d{1,14})");
  return std::regex_match(phone, kE164);
}

/// MessageStructure=json: the "default" text and the protocols' own texts.
void apply_structure(PublishedMessage& m, const std::optional<std::string>& structure) {
  if (!structure) {
    return;
  }
  if (*structure != "json") {
    throw invalid_parameter("Invalid parameter: MessageStructure");
  }
  auto doc = protocol::parse_json_limited(m.message);
  if (!doc.is_object()) {
    throw invalid_parameter("Invalid parameter: Message Structure - JSON message body failed to parse");
  }
  auto def = doc.find("default");
  if (def == doc.end() || !def->is_string()) {
    throw invalid_parameter("Invalid parameter: Message Structure - No default entry in JSON message body");
  }
  for (const auto& [protocol, text] : doc.items()) {
    if (protocol != "default" && text.is_string()) {
      m.per_protocol[protocol] = text.get<std::string>();  // non-string members are ignored, as on AWS
    }
  }
  m.message = def->get<std::string>();
}

std::string sequence_number(std::uint64_t n) {
  // AWS's SNS FIFO sequence numbers: 20 digits, 10^19 plus a thousand per message.
  char buf[32];
  std::snprintf(buf, sizeof buf, "1%019llu", static_cast<unsigned long long>((n + 2) * 1000));
  return buf;
}

std::map<std::string, FilterAttribute> filter_attributes(const MessageAttributes& attributes) {
  std::map<std::string, FilterAttribute> out;
  for (const auto& [name, a] : attributes) {
    out[name] = {a.type, a.value};
  }
  return out;
}

}  // namespace

void SnsEngine::sweep_dedup(const std::string& topic_arn, std::int64_t now_ms, storage::Batch& batch) {
  auto it = dedup_.find(topic_arn);
  if (it == dedup_.end()) {
    return;
  }
  for (auto e = it->second.begin(); e != it->second.end();) {
    if (e->second.expires_ms <= now_ms) {
      batch.del(storage::Space::kSns, persist::dedup_key(topic_arn, e->first));
      e = it->second.erase(e);
    } else {
      ++e;
    }
  }
}

Value SnsEngine::dispatch(PublishedMessage m, Topic& topic, const Caller& c, std::vector<OwedDelivery>& owed) {
  storage::Batch batch;
  std::optional<Topic> updated;
  std::optional<DedupEntry> dedup;
  if (topic.fifo) {
    sweep_dedup(m.topic_arn, c.now_ms, batch);
    auto& window = dedup_[m.topic_arn];
    if (auto dup = window.find(m.dedup_id); dup != window.end()) {
      // A duplicate within five minutes is accepted and not delivered again.
      commit(batch);
      return Value{{"MessageId", dup->second.message_id}, {"SequenceNumber", dup->second.sequence_number}};
    }
    updated = topic;
    ++updated->sequence;
    m.sequence_number = sequence_number(updated->sequence);
    dedup = DedupEntry{c.now_ms + kDedupWindowMs, m.message_id, m.sequence_number};
    batch.put(storage::Space::kSns, persist::dedup_key(m.topic_arn, m.dedup_id), persist::encode_dedup(*dedup));
    put_topic(batch, *updated);
  }
  DeliveryContext context(m, *signer_);
  const auto targets = matching(m, topic);
  // HTTP(S) deliveries are written with the publish: acknowledged means on disk.
  std::vector<OutboxEntry> staged;
  for (const Subscription* s : targets) {
    if (!http_protocol(s->protocol) || !outbox_) {
      continue;
    }
    OutboxEntry e = http_entry(*s, "Notification", m.message_id, context.payload(*s));
    e.subject = m.subject.value_or("");
    if (e.raw) {
      for (const auto& [name, a] : m.attributes) {
        e.attributes[name] = {a.type == "String.Array" ? std::string("String") : a.type, a.value};
      }
    }
    if (auto entry = outbox_->stage(batch, std::move(e))) {
      staged.push_back(std::move(*entry));
    }
  }
  commit(batch);
  if (updated) {
    topic = std::move(*updated);
    dedup_[m.topic_arn][m.dedup_id] = *dedup;
  }
  if (outbox_) {
    outbox_->activate(std::move(staged));
  }
  Value out{{"MessageId", m.message_id}};
  if (topic.fifo) {
    out["SequenceNumber"] = m.sequence_number;
  }
  OwedDelivery later{{}, topic.account, {}};
  for (const Subscription* s : targets) {
    if ((http_protocol(s->protocol) && outbox_) || undeliverable(*s, context, topic.account)) {
      continue;
    }
    if (topic.fifo) {
      deliver_to(*s, context);
    } else {
      later.targets.push_back(*s);
    }
  }
  if (!later.targets.empty()) {
    later.message = std::move(m);
    owed.push_back(std::move(later));
  }
  return out;
}

void SnsEngine::deliver_owed(std::vector<OwedDelivery>& owed) {
  for (auto& o : owed) {
    DeliveryContext context(o.message, *signer_);
    for (const Subscription& s : o.targets) {
      deliver_to(s, context);
    }
  }
}

std::vector<const Subscription*> SnsEngine::matching(const PublishedMessage& m, const Topic& topic) {
  std::vector<const Subscription*> out;
  std::map<std::string, FilterAttribute> attributes;
  bool have_attributes = false;
  std::map<std::string, nlohmann::json> bodies;  // protocol text → parsed, for MessageBody filters
  for (const auto& arn : topic.subscriptions) {
    auto it = subscriptions_.find(arn);
    if (it == subscriptions_.end() || it->second.pending) {
      continue;
    }
    const Subscription& s = it->second;
    if (s.filter) {
      bool match = false;
      if (s.scope() == FilterScope::kMessageBody) {
        const std::string& text = m.text_for(s.protocol);
        auto body = bodies.find(text);
        if (body == bodies.end()) {
          body = bodies.emplace(text, protocol::parse_json_limited(text)).first;
        }
        match = s.filter->matches_body(body->second.is_discarded() ? nullptr : &body->second);
      } else {
        if (!have_attributes) {
          attributes = filter_attributes(m.attributes);
          have_attributes = true;
        }
        match = s.filter->matches_attributes(attributes);
      }
      if (!match) {
        continue;
      }
    }
    out.push_back(&s);
  }
  return out;
}

bool SnsEngine::undeliverable(const Subscription& s, DeliveryContext& context, const std::string& sender_account) {
  // A notification that goes nowhere is still recorded, with why.
  auto undelivered = [&](const char* status, const char* error) {
    DeliveryRecord r = notification_record(s, context, clock_());
    r.status = status;
    r.error = error;
    log_->add(std::move(r));
    deliverers_.count(s.protocol, DeliveryStatus::kFailed);
    return true;
  };
  if (s.protocol == "sms" && opted_out_.count({sender_account, s.endpoint}) != 0) {
    return undelivered("refused", "Phone is currently opted out");
  }
  if (http_protocol(s.protocol) && !outbox_) {
    return undelivered("failed", "fogbank has no outbound HTTP transport");  // engine tests run without one
  }
  return false;
}

void SnsEngine::deliver_to(const Subscription& s, DeliveryContext& context) {
  Deliverer* d = deliverers_.find(s.protocol);
  if (d == nullptr) {
    return;
  }
  DeliveryResult result = d->deliver(s, context);
  deliverers_.count(s.protocol, result.status);
  if (result.status == DeliveryStatus::kFailed) {
    record_failure(s, context, result);
  }
}

void SnsEngine::record_failure(const Subscription& s, DeliveryContext& context, const DeliveryResult& result) {
  DeliveryRecord r = notification_record(s, context, clock_());
  r.status = result.dead_letter_queue.empty() ? "failed" : "dead-lettered";
  r.dead_letter_queue = result.dead_letter_queue;
  r.error = result.detail + (result.message.empty() ? "" : ": " + result.message);
  log_->add(std::move(r));
}

Value SnsEngine::publish(const Value& in, const Caller& c) {
  auto message = input::optional_string(in, "Message");
  if (!message) {
    throw missing_parameter("Message");
  }
  auto topic_arn = input::optional_string(in, "TopicArn");
  auto target_arn = input::optional_string(in, "TargetArn");
  auto phone = input::optional_string(in, "PhoneNumber");
  auto subject = input::optional_string(in, "Subject");
  auto group_id = input::optional_string(in, "MessageGroupId");
  auto dedup_id = input::optional_string(in, "MessageDeduplicationId");

  check_subject(subject);
  if (message->empty()) {
    throw invalid_parameter("Invalid parameter: Empty message");
  }
  if (phone && !e164(*phone)) {
    throw invalid_parameter("Invalid parameter: PhoneNumber Reason: " + *phone + " is not valid to publish to");
  }
  PublishedMessage m;
  m.message = *message;
  auto attributes_it = in.find("MessageAttributes");
  if (attributes_it != in.end()) {
    m.attributes = read_message_attributes(*attributes_it, "messageAttributes");
  }
  if (message_size(*message, m.attributes) > kMaxMessageBytes) {
    throw invalid_parameter("Invalid parameter: Message too long");
  }
  const std::string target = topic_arn.value_or(target_arn.value_or(""));
  const bool fifo_name = target.ends_with(".fifo");
  if (fifo_name && !group_id) {
    throw invalid_parameter("Invalid parameter: The MessageGroupId parameter is required for FIFO topics");
  }
  if (!fifo_name && dedup_id && !target.empty()) {
    throw invalid_parameter(
        "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that "
        "is not valid for this topic type");
  }
  apply_structure(m, input::optional_string(in, "MessageStructure"));
  m.subject = subject;
  m.message_id = protocol::random_uuid(protocol::Randomness::kIdentifier);
  m.timestamp_ms = c.now_ms;
  m.base_url = c.base_url;

  if (target.empty()) {
    if (!phone) {
      throw invalid_parameter("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter");
    }
    // A direct SMS: handed to the SMS deliverer like a subscription's.
    Subscription direct;
    direct.protocol = "sms";
    direct.endpoint = *phone;
    DeliveryContext context(m, *signer_);
    {
      std::lock_guard lock(mutex_);
      if (undeliverable(direct, context, c.account)) {
        return Value{{"MessageId", m.message_id}};
      }
    }
    deliver_to(direct, context);
    return Value{{"MessageId", m.message_id}};
  }
  if (topic_arn && (target_arn || phone)) {
    throw invalid_parameter("Invalid parameter: TopicArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be specified");
  }
  if (!topic_arn && target_arn && target_arn->find(":endpoint/") != std::string::npos) {
    throw invalid_parameter("Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified");
  }
  std::unique_lock lock(mutex_);
  Topic& topic = topic_for(c, target, topic_arn ? "TopicArn" : "TargetArn", "Publish");
  if (topic.fifo) {
    if (!dedup_id && topic.attribute("ContentBasedDeduplication") != "true") {
      throw invalid_parameter(
          "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
          "MessageDeduplicationId provided explicitly");
    }
    m.dedup_id = dedup_id ? *dedup_id : protocol::hex(protocol::sha256(*message));
  } else if (dedup_id) {
    throw invalid_parameter(
        "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that "
        "is not valid for this topic type");
  }
  m.topic_arn = topic.arn();
  m.fifo = topic.fifo;
  m.group_id = group_id.value_or("");
  m.signature_version = topic.attribute("SignatureVersion", "1");
  std::vector<OwedDelivery> owed;
  Value out = dispatch(std::move(m), topic, c, owed);
  lock.unlock();
  deliver_owed(owed);
  return out;
}

Value SnsEngine::publish_batch(const Value& in, const Caller& c) {
  const std::string topic_arn = input::required_string(in, "TopicArn");
  auto entries_it = in.find("PublishBatchRequestEntries");
  if (entries_it == in.end() || !entries_it->is_array() || entries_it->empty()) {
    throw protocol::AwsError("EmptyBatchRequest", 400, "The batch request doesn't contain any entries.");
  }
  const Value& entries = *entries_it;
  if (entries.size() > kMaxBatchEntries) {
    throw protocol::AwsError("TooManyEntriesInBatchRequest", 400,
                             "The batch request contains more entries than permissible.");
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    for (const char* member : {"Id", "Message"}) {
      if (!entries[i].contains(member)) {
        std::string field = member == std::string("Id") ? "id" : "message";
        throw protocol::AwsError("ValidationError", 400,
                                 "1 validation error detected: Value null at 'publishBatchRequestEntries." +
                                     std::to_string(i + 1) + ".member." + field +
                                     "' failed to satisfy constraint: Member must not be null");
      }
    }
  }
  std::unique_lock lock(mutex_);
  Topic& topic = topic_for(c, topic_arn, "TopicArn", "Publish");
  std::set<std::string> seen;
  for (const auto& entry : entries) {
    if (!seen.insert(input::optional_string(entry, "Id").value_or("")).second) {
      throw protocol::AwsError("BatchEntryIdsNotDistinct", 400, "Two or more batch entries in the request have the same Id.");
    }
  }
  static const std::regex kId("[A-Za-z0-9_-]+");
  for (const auto& entry : entries) {
    const std::string id = input::optional_string(entry, "Id").value_or("");
    if (id.size() > 80) {
      throw protocol::AwsError("InvalidBatchEntryId", 400, "The Id of a batch entry in the batch request is too long: " + id);
    }
    if (!std::regex_match(id, kId)) {
      throw protocol::AwsError("InvalidBatchEntryId", 400,
                               "The Id of a batch entry in the batch request contains an impermissible character: " + id);
    }
  }

  // Problems with the batch as a whole fail the request; those of one entry fail that entry.
  std::vector<PublishedMessage> messages(entries.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Value& entry = entries[i];
    PublishedMessage& m = messages[i];
    m.message = input::optional_string(entry, "Message").value_or("");
    if (auto a = entry.find("MessageAttributes"); a != entry.end()) {
      m.attributes = read_message_attributes(
          *a, "publishBatchRequestEntries." + std::to_string(i + 1) + ".member.messageAttributes");
    }
    total += message_size(m.message, m.attributes);
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    apply_structure(messages[i], input::optional_string(entries[i], "MessageStructure"));
  }
  if (topic.fifo) {
    for (const auto& entry : entries) {
      if (!entry.contains("MessageGroupId")) {
        throw invalid_parameter("Invalid parameter: The MessageGroupId parameter is required for FIFO topics");
      }
    }
    if (topic.attribute("ContentBasedDeduplication") != "true") {
      for (const auto& entry : entries) {
        if (!entry.contains("MessageDeduplicationId")) {
          throw invalid_parameter(
              "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
              "MessageDeduplicationId provided explicitly");
        }
      }
    }
  } else {
    for (const auto& entry : entries) {
      if (entry.contains("MessageDeduplicationId")) {
        throw invalid_parameter(
            "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
            "that is not valid for this topic type");
      }
    }
  }
  if (total > kMaxMessageBytes) {
    throw protocol::AwsError("BatchRequestTooLong", 400, "The length of all the messages put together is more than the limit.");
  }

  Value successful = Value::array();
  Value failed = Value::array();
  std::vector<OwedDelivery> owed;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Value& entry = entries[i];
    const std::string id = input::optional_string(entry, "Id").value_or("");
    PublishedMessage& m = messages[i];
    try {
      auto subject = input::optional_string(entry, "Subject");
      check_subject(subject);
      if (input::optional_string(entry, "Message").value_or("").empty()) {
        throw invalid_parameter("Invalid parameter: Empty message");
      }
      const std::string raw = input::optional_string(entry, "Message").value_or("");
      m.subject = subject;
      m.message_id = protocol::random_uuid(protocol::Randomness::kIdentifier);
      m.timestamp_ms = c.now_ms;
      m.base_url = c.base_url;
      m.topic_arn = topic.arn();
      m.fifo = topic.fifo;
      m.group_id = input::optional_string(entry, "MessageGroupId").value_or("");
      m.signature_version = topic.attribute("SignatureVersion", "1");
      if (topic.fifo) {
        auto dedup = input::optional_string(entry, "MessageDeduplicationId");
        m.dedup_id = dedup ? *dedup : protocol::hex(protocol::sha256(raw));
      }
      Value result = dispatch(std::move(m), topic, c, owed);
      result["Id"] = id;
      successful.push_back(std::move(result));
    } catch (const protocol::AwsError& e) {
      if (e.status >= 500) {
        throw;
      }
      failed.push_back(Value{{"Id", id}, {"Code", e.code}, {"Message", e.message}, {"SenderFault", e.sender_fault}});
    }
  }
  lock.unlock();
  deliver_owed(owed);
  return Value{{"Successful", std::move(successful)}, {"Failed", std::move(failed)}};
}

}  // namespace fogbank::sns
