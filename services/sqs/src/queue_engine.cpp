#include "queue_engine.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "attributes.hpp"
#include "errors.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/json_limits.hpp"
#include "fogbank/storage/keys.hpp"
#include "persistence.hpp"

namespace fogbank::sqs {

namespace {

constexpr std::int64_t kDedupWindowMs = 5 * 60 * 1000;
constexpr std::int64_t kPurgeIntervalMs = 60 * 1000;

bool valid_queue_name(const std::string& name, bool fifo) {
  std::string_view base = name;
  if (fifo) {
    if (!base.ends_with(".fifo")) {
      return false;
    }
    base.remove_suffix(5);
  }
  if (name.empty() || name.size() > 80 || base.empty()) {
    return false;
  }
  return std::all_of(base.begin(), base.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::string sequence_number(std::uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(seq));
  return buf;
}

}  // namespace

QueueEngine::QueueEngine(storage::Store& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

std::optional<QueueId> QueueEngine::parse_arn(const std::string& arn) {
  // arn:aws:sqs:<region>:<account>:<name>
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    auto colon = arn.find(':', start);
    if (colon == std::string::npos) {
      return std::nullopt;
    }
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  parts.push_back(arn.substr(start));
  if (parts[0] != "arn" || parts[2] != "sqs" || parts[4].empty() || parts[5].empty()) {
    return std::nullopt;
  }
  return QueueId{parts[4], parts[5]};
}

// --- loading and persistence helpers ------------------------------------------------------------

void QueueEngine::load() {
  std::lock_guard lock(mutex_);
  load_locked();
}

void QueueEngine::load_locked() {
  queues_.clear();
  std::map<std::string, Queue*> by_uid;
  for (auto c = store_.scan_prefix(storage::Space::kSqs, persist::queue_prefix()); c.valid(); c.next()) {
    auto q = std::make_unique<Queue>();
    if (!persist::decode_queue(c.value(), *q)) {
      continue;
    }
    apply_queue_attributes(*q);
    by_uid[q->uid] = q.get();
    auto key = std::make_pair(q->account, q->name);
    queues_[key] = std::move(q);
  }
  next_seq_ = static_cast<std::uint64_t>(clock_()) * 1000;
  for (auto c = store_.scan_prefix(storage::Space::kSqs, persist::kind_prefix('m')); c.valid(); c.next()) {
    auto key = persist::parse_key(c.key());
    if (!key) {
      continue;
    }
    auto q = by_uid.find(key->uid);
    Message m;
    if (q == by_uid.end() || !persist::decode_message(c.value(), m)) {
      continue;
    }
    m.seq = key->seq;
    next_seq_ = std::max(next_seq_, m.seq + 1);
    q->second->messages.emplace(m.seq, std::move(m));
  }
  for (auto c = store_.scan_prefix(storage::Space::kSqs, persist::kind_prefix('s')); c.valid(); c.next()) {
    auto key = persist::parse_key(c.key());
    if (!key) {
      continue;
    }
    auto q = by_uid.find(key->uid);
    if (q == by_uid.end()) {
      continue;
    }
    auto m = q->second->messages.find(key->seq);
    if (m != q->second->messages.end()) {
      (void)persist::decode_state(c.value(), m->second);
    }
  }
  for (auto c = store_.scan_prefix(storage::Space::kSqs, persist::kind_prefix('d')); c.valid(); c.next()) {
    auto key = persist::parse_key(c.key());
    DedupEntry e;
    if (!key || !persist::decode_dedup(c.value(), e)) {
      continue;
    }
    auto q = by_uid.find(key->uid);
    if (q != by_uid.end()) {
      q->second->dedup[key->dedup] = e;
      q->second->dedup_expiry.emplace_back(e.expires_ms, key->dedup);
    }
  }
  // Rebuild the indexes. A message received before the restart stays in flight until its
  // persisted visibility deadline, so its group stays locked and its receipt handle valid.
  const auto now = clock_();
  for (auto& [k, q] : queues_) {
    std::sort(q->dedup_expiry.begin(), q->dedup_expiry.end());
    for (auto& [seq, m] : q->messages) {
      if (m.visible_at_ms > now) {
        q->hidden.emplace(m.visible_at_ms, seq);
        if (m.receive_count > 0 && !m.receipt_token.empty()) {
          m.in_flight = true;
          ++q->groups_in_flight[m.group_id];
        }
      } else {
        q->ready.insert(seq);
      }
    }
  }
}

void QueueEngine::reset() {
  std::lock_guard lock(mutex_);
  for (auto& [k, q] : queues_) {
    wake(*q);
  }
  queues_.clear();
}

void QueueEngine::persist_queue(const Queue& q) {
  storage::Batch batch;
  batch.put(storage::Space::kSqs, persist::queue_key(q.account, q.name), persist::encode_queue(q));
  commit(batch);
}

void QueueEngine::commit(storage::Batch& batch) {
  if (batch.count() == 0) {
    return;
  }
  auto st = store_.write(batch);
  if (!st.is_ok()) {
    // Operations change the in-memory indexes as they build their batch; the disk is the truth.
    // Rebuilding every index from it leaves memory and disk in agreement, so the failed call
    // changed nothing. Waiters are woken first: their queues' objects are replaced.
    for (auto& [k, q] : queues_) {
      wake(*q);
    }
    load_locked();
    throw AwsError("InternalFailure", 500, "storage failure: " + st.message(), false);
  }
}

Queue* QueueEngine::find(const QueueId& id) {
  auto it = queues_.find({id.account, id.name});
  return it == queues_.end() ? nullptr : it->second.get();
}

Queue& QueueEngine::require(const QueueId& id) {
  Queue* q = find(id);
  if (q == nullptr) {
    throw queue_does_not_exist();
  }
  return *q;
}

Queue* QueueEngine::find_arn(const std::string& arn) {
  auto id = parse_arn(arn);
  return id ? find(*id) : nullptr;
}

// --- indexes ------------------------------------------------------------------------------------

void QueueEngine::make_hidden(Queue& q, Message& m, std::int64_t until_ms, bool in_flight) {
  q.ready.erase(m.seq);
  q.hidden.erase({m.visible_at_ms, m.seq});
  m.visible_at_ms = until_ms;
  q.hidden.emplace(until_ms, m.seq);
  if (in_flight && !m.in_flight) {
    ++q.groups_in_flight[m.group_id];
  }
  m.in_flight = m.in_flight || in_flight;
}

void QueueEngine::make_visible(Queue& q, Message& m) {
  q.hidden.erase({m.visible_at_ms, m.seq});
  q.ready.insert(m.seq);
  if (m.in_flight) {
    if (--q.groups_in_flight[m.group_id] <= 0) {
      q.groups_in_flight.erase(m.group_id);
    }
    m.in_flight = false;
  }
}

void QueueEngine::erase(Queue& q, std::uint64_t seq, storage::Batch& batch) {
  auto it = q.messages.find(seq);
  if (it == q.messages.end()) {
    return;
  }
  Message& m = it->second;
  q.ready.erase(seq);
  q.hidden.erase({m.visible_at_ms, seq});
  if (m.in_flight) {
    if (--q.groups_in_flight[m.group_id] <= 0) {
      q.groups_in_flight.erase(m.group_id);
    }
  }
  batch.del(storage::Space::kSqs, persist::message_key(q.uid, seq));
  batch.del(storage::Space::kSqs, persist::state_key(q.uid, seq));
  q.messages.erase(it);
}

void QueueEngine::insert(Queue& q, Message m) {
  auto seq = m.seq;
  auto visible_at = m.visible_at_ms;
  q.messages.emplace(seq, std::move(m));
  if (visible_at > clock_()) {
    q.hidden.emplace(visible_at, seq);
  } else {
    q.ready.insert(seq);
  }
}

void QueueEngine::refresh(Queue& q, std::int64_t now, storage::Batch& batch) {
  while (!q.hidden.empty() && q.hidden.begin()->first <= now) {
    auto seq = q.hidden.begin()->second;
    make_visible(q, q.messages.at(seq));
  }
  // Retention: messages are kept in send order, so expired ones are at the front.
  const std::int64_t retention_ms = q.retention_seconds * 1000;
  while (!q.ready.empty()) {
    auto seq = *q.ready.begin();
    if (q.messages.at(seq).sent_ms + retention_ms > now) {
      break;
    }
    erase(q, seq, batch);
  }
  while (!q.dedup_expiry.empty() && q.dedup_expiry.front().first <= now) {
    const auto& key = q.dedup_expiry.front().second;
    auto it = q.dedup.find(key);
    if (it != q.dedup.end() && it->second.expires_ms <= now) {
      q.dedup.erase(it);
      batch.del(storage::Space::kSqs, persist::dedup_key(q.uid, key));
    }
    q.dedup_expiry.pop_front();
  }
}

void QueueEngine::wake(Queue& q) {
  for (auto& [id, fn] : q.waiters) {
    fn();
  }
}

// --- queues -------------------------------------------------------------------------------------

void QueueEngine::create_queue(const QueueId& id, const std::string& region,
                               const std::map<std::string, std::string>& attributes,
                               const std::map<std::string, std::string>& tags) {
  auto fifo_attr = attributes.find("FifoQueue");
  const bool fifo = fifo_attr != attributes.end() && (fifo_attr->second == "true" || fifo_attr->second == "True");
  if (!valid_queue_name(id.name, fifo)) {
    if (fifo || id.name.ends_with(".fifo")) {
      throw invalid_parameter(
          "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
          "underscores, must end with .fifo suffix and be 1 to 80 in length.");
    }
    throw invalid_parameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  }
  auto given = validate_queue_attributes(attributes, fifo, true);
  if (tags.size() > 50) {
    throw invalid_parameter("Too many tags added for queue " + id.name + ".");
  }
  std::lock_guard lock(mutex_);
  if (Queue* existing = find(id)) {
    // Idempotent when every given attribute matches; AWS names the first that differs.
    for (const auto& [name, value] : given) {
      auto cur = existing->attributes.find(name);
      std::string current = cur == existing->attributes.end() ? std::string() : cur->second;
      if (current != value) {
        throw AwsError("QueueNameExists", 400,
                       "A queue already exists with the same name and a different value for attribute " + name);
      }
    }
    return;
  }
  auto q = std::make_unique<Queue>();
  q->account = id.account;
  q->name = id.name;
  q->region = region;
  q->uid = protocol::hex(protocol::random_bytes(8));
  q->fifo = fifo;
  q->created_s = clock_() / 1000;
  q->modified_s = q->created_s;
  q->attributes = default_queue_attributes(fifo);
  q->tags = tags;
  for (const auto& [name, value] : given) {
    if (value.empty() && (name == "Policy" || name == "RedrivePolicy" || name == "RedriveAllowPolicy" ||
                          name == "KmsMasterKeyId")) {
      continue;
    }
    q->attributes[name] = value;
  }
  apply_queue_attributes(*q);
  if (!q->dead_letter_arn.empty()) {
    Queue* dlq = find_arn(q->dead_letter_arn);
    // A dead-letter queue must belong to the source queue's account (AWS's rule): another
    // account's queue is reported as missing, so a redrive policy cannot probe for names.
    if (dlq == nullptr || dlq->account != q->account) {
      throw invalid_value("RedrivePolicy", q->attributes["RedrivePolicy"], "Dead letter target does not exist");
    }
  }
  persist_queue(*q);
  queues_[{id.account, id.name}] = std::move(q);
}

void QueueEngine::delete_queue(const QueueId& id) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  storage::Batch batch;
  batch.del(storage::Space::kSqs, persist::queue_key(q.account, q.name));
  for (char kind : {'m', 's', 'd'}) {
    auto prefix = persist::queue_keys_prefix(kind, q.uid);
    batch.del_range(storage::Space::kSqs, prefix, storage::prefix_successor(prefix));
  }
  commit(batch);
  wake(q);  // waiting receivers answer now (the queue is gone)
  queues_.erase({id.account, id.name});
}

QueueSummary QueueEngine::describe(const QueueId& id) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  return {q.region, q.fifo, q.wait_seconds, q.content_based_dedup};
}

std::optional<QueueAccess> QueueEngine::access(const QueueId& id) {
  std::lock_guard lock(mutex_);
  Queue* q = find(id);
  if (q == nullptr) {
    return std::nullopt;
  }
  auto policy = q->attributes.find("Policy");
  return QueueAccess{q->arn(), policy == q->attributes.end() ? std::string() : policy->second};
}

std::vector<std::string> QueueEngine::list_queues(const std::string& account, const std::string& prefix) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (auto it = queues_.lower_bound({account, prefix}); it != queues_.end(); ++it) {
    if (it->first.first != account || it->first.second.rfind(prefix, 0) != 0) {
      break;
    }
    names.push_back(it->first.second);
  }
  return names;
}

std::map<std::string, std::string> QueueEngine::get_attributes(const QueueId& id,
                                                               const std::vector<std::string>& names) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  const auto now = clock_();
  storage::Batch sweep;
  refresh(q, now, sweep);
  commit(sweep);
  std::int64_t in_flight = 0;
  std::int64_t delayed = 0;
  for (const auto& [at, seq] : q.hidden) {
    (q.messages.at(seq).in_flight ? in_flight : delayed) += 1;
  }
  auto value_of = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "QueueArn") {
      return q.arn();
    }
    if (name == "ApproximateNumberOfMessages") {
      return std::to_string(q.ready.size());
    }
    if (name == "ApproximateNumberOfMessagesNotVisible") {
      return std::to_string(in_flight);
    }
    if (name == "ApproximateNumberOfMessagesDelayed") {
      return std::to_string(delayed);
    }
    if (name == "CreatedTimestamp") {
      return std::to_string(q.created_s);
    }
    if (name == "LastModifiedTimestamp") {
      return std::to_string(q.modified_s);
    }
    if (name == "KmsDataKeyReusePeriodSeconds" && q.attributes.count("KmsMasterKeyId") > 0 &&
        q.attributes.count(name) == 0) {
      return std::string("300");
    }
    auto it = q.attributes.find(name);
    if (it == q.attributes.end()) {
      return std::nullopt;
    }
    return it->second;
  };
  const auto& known = all_queue_attribute_names();
  std::map<std::string, std::string> out;
  for (const auto& name : names) {
    if (name == "All") {
      for (const auto& n : known) {
        if (auto v = value_of(n)) {
          out[n] = *v;
        }
      }
      continue;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw invalid_attribute_name(name);
    }
    if (auto v = value_of(name)) {
      out[name] = *v;
    }
  }
  return out;
}

void QueueEngine::set_attributes(const QueueId& id, const std::map<std::string, std::string>& attributes) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  auto given = validate_queue_attributes(attributes, q.fifo, false);
  auto redrive = given.find("RedrivePolicy");
  if (redrive != given.end() && !redrive->second.empty()) {
    auto target = protocol::parse_json_limited(redrive->second).value("deadLetterTargetArn", std::string());
    Queue* dlq = find_arn(target);
    if (dlq == nullptr || dlq->account != q.account) {
      throw invalid_value("RedrivePolicy", attributes.at("RedrivePolicy"), "Dead letter target does not exist");
    }
    // The dead-letter queue's RedriveAllowPolicy decides who may use it.
    auto allow = dlq->attributes.find("RedriveAllowPolicy");
    if (allow != dlq->attributes.end() && !allow->second.empty()) {
      auto policy = protocol::parse_json_limited(allow->second);
      if (!policy.is_object()) {
        policy = nlohmann::json::object();
      }
      auto permission = policy.value("redrivePermission", std::string("allowAll"));
      bool allowed = permission == "allowAll";
      if (permission == "byQueue") {
        for (const auto& arn : policy.value("sourceQueueArns", nlohmann::json::array())) {
          allowed = allowed || (arn.is_string() && arn.get<std::string>() == q.arn());
        }
      }
      if (!allowed) {
        throw invalid_value("RedrivePolicy", attributes.at("RedrivePolicy"),
                            "Queue " + target + " does not allow this queue to use it as a dead-letter queue");
      }
    }
  }
  for (const auto& [name, value] : given) {
    if (value.empty() && (name == "Policy" || name == "RedrivePolicy" || name == "RedriveAllowPolicy" ||
                          name == "KmsMasterKeyId")) {
      q.attributes.erase(name);  // an empty value removes these
    } else {
      q.attributes[name] = value;
    }
  }
  q.modified_s = clock_() / 1000;
  apply_queue_attributes(q);
  persist_queue(q);
}

void QueueEngine::edit_policy(const QueueId& id,
                              const std::function<std::string(const std::string&, const std::string&)>& edit) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  auto it = q.attributes.find("Policy");
  auto updated = edit(it == q.attributes.end() ? std::string() : it->second, q.arn());
  if (updated.empty()) {
    q.attributes.erase("Policy");
  } else {
    q.attributes["Policy"] = updated;
  }
  q.modified_s = clock_() / 1000;
  persist_queue(q);
}

std::map<std::string, std::string> QueueEngine::tags(const QueueId& id) {
  std::lock_guard lock(mutex_);
  return require(id).tags;
}

void QueueEngine::tag(const QueueId& id, const std::map<std::string, std::string>& tags) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  auto merged = q.tags;
  for (const auto& [k, v] : tags) {
    merged[k] = v;
  }
  if (merged.size() > 50) {
    throw invalid_parameter("Too many tags added for queue " + q.name + ".");
  }
  q.tags = std::move(merged);
  persist_queue(q);
}

void QueueEngine::untag(const QueueId& id, const std::vector<std::string>& keys) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  for (const auto& k : keys) {
    q.tags.erase(k);
  }
  persist_queue(q);
}

void QueueEngine::purge(const QueueId& id) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  const auto now = clock_();
  if (q.last_purge_ms != 0 && now - q.last_purge_ms < kPurgeIntervalMs) {
    throw AwsError("PurgeQueueInProgress", 403,
                   "Only one PurgeQueue operation on " + q.name + " is allowed every 60 seconds.");
  }
  storage::Batch batch;
  for (char kind : {'m', 's'}) {
    auto prefix = persist::queue_keys_prefix(kind, q.uid);
    batch.del_range(storage::Space::kSqs, prefix, storage::prefix_successor(prefix));
  }
  q.last_purge_ms = now;
  batch.put(storage::Space::kSqs, persist::queue_key(q.account, q.name), persist::encode_queue(q));
  commit(batch);
  q.messages.clear();
  q.ready.clear();
  q.hidden.clear();
  q.groups_in_flight.clear();
}

std::vector<QueueId> QueueEngine::dead_letter_sources(const QueueId& id) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  const auto arn = q.arn();
  std::vector<QueueId> out;
  for (const auto& [key, source] : queues_) {
    if (source->dead_letter_arn == arn) {
      out.push_back({source->account, source->name});
    }
  }
  return out;
}

// --- messages -----------------------------------------------------------------------------------

std::string QueueEngine::receipt_handle(const Queue& q, const Message& m) const {
  return protocol::base64_encode(q.uid + ":" + std::to_string(m.seq) + ":" + m.receipt_token);
}

Message* QueueEngine::resolve_handle(Queue& q, const std::string& handle, bool& stale) {
  stale = false;
  auto raw = protocol::base64_decode(handle);
  if (!raw) {
    throw receipt_handle_invalid(handle);
  }
  auto first = raw->find(':');
  auto second = first == std::string::npos ? std::string::npos : raw->find(':', first + 1);
  if (second == std::string::npos) {
    throw receipt_handle_invalid(handle);
  }
  std::uint64_t seq = 0;
  try {
    seq = std::stoull(raw->substr(first + 1, second - first - 1));
  } catch (const std::exception&) {
    throw receipt_handle_invalid(handle);
  }
  if (raw->substr(0, first) != q.uid) {
    throw receipt_handle_invalid(handle);
  }
  auto it = q.messages.find(seq);
  if (it == q.messages.end()) {
    return nullptr;
  }
  stale = it->second.receipt_token != raw->substr(second + 1);
  return &it->second;
}

SendResult QueueEngine::send(const QueueId& id, SendRequest request) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  const auto now = clock_();
  const auto size = message_size(request.body, request.attributes);
  if (static_cast<std::int64_t>(size) > q.maximum_message_size) {
    throw invalid_parameter("One or more parameters are invalid. Reason: Message must be shorter than " +
                            std::to_string(q.maximum_message_size) + " bytes.");
  }
  SendResult result;
  result.md5_body = protocol::hex(protocol::md5(request.body));
  result.md5_attributes = md5_of_attributes(request.attributes);
  result.md5_system_attributes = md5_of_attributes(request.system_attributes);
  storage::Batch batch;
  refresh(q, now, batch);
  std::string dedup_key;
  if (q.fifo) {
    if (request.group_id.empty()) {
      throw missing_parameter("MessageGroupId");
    }
    if (request.delay_seconds) {
      throw invalid_value("DelaySeconds", std::to_string(*request.delay_seconds),
                          "The request include parameter that is not valid for this queue type");
    }
    if (request.dedup_id.empty()) {
      if (!q.content_based_dedup) {
        throw invalid_parameter(
            "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
            "provided explicitly");
      }
      request.dedup_id = protocol::hex(protocol::sha256(request.body));
    }
    dedup_key = q.dedup_per_group ? request.group_id + '\n' + request.dedup_id : request.dedup_id;
    auto dup = q.dedup.find(dedup_key);
    if (dup != q.dedup.end() && dup->second.expires_ms > now) {
      // Within the 5-minute window: accepted, not enqueued again, same MessageId.
      commit(batch);
      result.message_id = dup->second.message_id;
      result.sequence_number = sequence_number(dup->second.seq);
      return result;
    }
  } else if (!request.dedup_id.empty()) {
    throw invalid_value("MessageDeduplicationId", request.dedup_id,
                        "The request include parameter that is not valid for this queue type");
  }
  Message m;
  m.seq = next_seq_++;
  m.id = protocol::random_uuid(protocol::Randomness::kIdentifier);
  m.body = std::move(request.body);
  m.attributes = std::move(request.attributes);
  m.system_attributes = std::move(request.system_attributes);
  m.md5_body = result.md5_body;
  m.md5_attributes = result.md5_attributes;
  m.md5_system_attributes = result.md5_system_attributes;
  m.sender_id = std::move(request.sender_id);
  m.sent_ms = now;
  m.group_id = std::move(request.group_id);
  m.dedup_id = std::move(request.dedup_id);
  m.visible_at_ms = now + 1000 * request.delay_seconds.value_or(q.delay_seconds);
  batch.put(storage::Space::kSqs, persist::message_key(q.uid, m.seq), persist::encode_message(m));
  if (q.fifo) {
    DedupEntry e{now + kDedupWindowMs, m.id, m.seq};
    batch.put(storage::Space::kSqs, persist::dedup_key(q.uid, dedup_key), persist::encode_dedup(e));
    q.dedup[dedup_key] = e;
    q.dedup_expiry.emplace_back(e.expires_ms, dedup_key);
    result.sequence_number = sequence_number(m.seq);
  }
  commit(batch);
  result.message_id = m.id;
  const bool visible = m.visible_at_ms <= now;
  insert(q, std::move(m));
  if (visible) {
    wake(q);
  }
  return result;
}

void QueueEngine::move_message(Queue& from, std::uint64_t seq, Queue& to, bool reset_receives,
                               storage::Batch& batch) {
  Message m = from.messages.at(seq);
  erase(from, seq, batch);
  m.seq = next_seq_++;
  m.in_flight = false;
  m.receipt_token.clear();
  m.visible_at_ms = clock_();
  if (reset_receives) {
    m.receive_count = 0;
    m.first_receive_ms = 0;
    m.dead_letter_source_arn.clear();
  } else {
    m.dead_letter_source_arn = from.arn();
  }
  batch.put(storage::Space::kSqs, persist::message_key(to.uid, m.seq), persist::encode_message(m));
  insert(to, std::move(m));
  wake(to);
}

std::vector<Received> QueueEngine::receive(const QueueId& id, const ReceiveRequest& request) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  const auto now = clock_();
  storage::Batch batch;
  refresh(q, now, batch);
  const std::int64_t timeout = request.visibility_timeout.value_or(q.visibility_timeout);
  Queue* dlq = q.dead_letter_arn.empty() ? nullptr : find_arn(q.dead_letter_arn);
  std::vector<Received> out;
  std::set<std::string> groups_taken;  // FIFO: groups this call took from stay open to it
  // Walk `ready` in send order. The iterator moves on before the current message leaves `ready`
  // (received or moved to the DLQ), so erasing it is safe, and no copy of the set is needed.
  for (auto it = q.ready.begin(); it != q.ready.end() && static_cast<std::int64_t>(out.size()) < request.max_messages;) {
    const auto seq = *it++;
    Message& m = q.messages.at(seq);
    if (q.fifo && groups_taken.count(m.group_id) == 0 && q.groups_in_flight.count(m.group_id) > 0) {
      continue;  // the group is locked while one of its messages is in flight
    }
    if (dlq != nullptr && dlq != &q && q.max_receive_count > 0 &&
        m.receive_count >= static_cast<std::uint32_t>(q.max_receive_count)) {
      // ReceiveCount would exceed maxReceiveCount: the message goes to the dead-letter queue.
      move_message(q, seq, *dlq, false, batch);
      continue;
    }
    if (q.fifo) {
      groups_taken.insert(m.group_id);
    }
    ++m.receive_count;
    if (m.first_receive_ms == 0) {
      m.first_receive_ms = now;
    }
    m.receipt_token = protocol::hex(protocol::random_bytes(12));
    make_hidden(q, m, now + timeout * 1000, true);
    batch.put(storage::Space::kSqs, persist::state_key(q.uid, seq), persist::encode_state(m));
    out.push_back({m, receipt_handle(q, m), q.fifo});
  }
  commit(batch);
  return out;
}

void QueueEngine::delete_message(const QueueId& id, const std::string& handle) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  bool stale = false;
  Message* m = resolve_handle(q, handle, stale);
  // AWS: an already deleted message, or a handle from an older receive of a message received
  // again since, is a success that deletes nothing (DeleteMessage API reference).
  if (m == nullptr || stale) {
    return;
  }
  storage::Batch batch;
  erase(q, m->seq, batch);
  commit(batch);
}

void QueueEngine::change_visibility(const QueueId& id, const std::string& handle, std::int64_t timeout) {
  std::lock_guard lock(mutex_);
  Queue& q = require(id);
  bool stale = false;
  Message* m = resolve_handle(q, handle, stale);
  const auto now = clock_();
  if (m == nullptr || stale) {
    throw invalid_value("ReceiptHandle", handle,
                        "Message does not exist or is not available for visibility timeout change");
  }
  if (!m->in_flight || m->visible_at_ms <= now) {
    throw AwsError("MessageNotInflight", 400, "Message does not exist or is not available for visibility timeout change.");
  }
  if (timeout == 0) {
    make_visible(q, *m);
    m->visible_at_ms = now;
  } else {
    make_hidden(q, *m, now + timeout * 1000, true);
  }
  storage::Batch batch;
  batch.put(storage::Space::kSqs, persist::state_key(q.uid, m->seq), persist::encode_state(*m));
  commit(batch);
  if (timeout == 0) {
    wake(q);
  }
}

// --- long polling -------------------------------------------------------------------------------

std::uint64_t QueueEngine::add_waiter(const QueueId& id, std::function<void()> wake_fn) {
  std::lock_guard lock(mutex_);
  Queue* q = find(id);
  if (q == nullptr) {
    return 0;
  }
  auto waiter = next_waiter_++;
  q->waiters.emplace(waiter, std::move(wake_fn));
  return waiter;
}

void QueueEngine::remove_waiter(const QueueId& id, std::uint64_t waiter) {
  std::lock_guard lock(mutex_);
  if (Queue* q = find(id)) {
    q->waiters.erase(waiter);
  }
}

// --- message move tasks -------------------------------------------------------------------------

std::string QueueEngine::start_move_task(const std::string& source_arn, const std::string& destination_arn,
                                         std::int64_t max_per_second) {
  std::lock_guard lock(mutex_);
  Queue* source = find_arn(source_arn);
  if (source == nullptr) {
    throw AwsError("ResourceNotFoundException", 400,
                   "The resource that you specified for the SourceArn parameter doesn't exist.");
  }
  bool is_dlq = std::any_of(queues_.begin(), queues_.end(),
                            [&](const auto& kv) { return kv.second->dead_letter_arn == source_arn; });
  if (!is_dlq) {
    throw invalid_parameter("Source queue must be configured as a Dead Letter Queue.");
  }
  Queue* destination = nullptr;
  if (!destination_arn.empty()) {
    destination = find_arn(destination_arn);
    if (destination == nullptr) {
      throw AwsError("ResourceNotFoundException", 400,
                     "The resource that you specified for the DestinationArn parameter doesn't exist.");
    }
  }
  for (const auto& t : source->move_tasks) {
    if (t.status == "RUNNING") {
      throw invalid_parameter("There is already a task running. Only one active task is allowed for a source queue arn at a given time.");
    }
  }
  const auto now = clock_();
  storage::Batch batch;
  refresh(*source, now, batch);
  MoveTask task;
  task.handle = protocol::base64_encode(nlohmann::json{{"taskId", protocol::random_uuid()}, {"sourceArn", source_arn}}.dump());
  task.source_arn = source_arn;
  task.destination_arn = destination_arn;
  task.max_per_second = max_per_second;
  task.started_ms = now;
  std::vector<std::uint64_t> available(source->ready.begin(), source->ready.end());
  task.to_move = static_cast<std::int64_t>(available.size());
  for (auto seq : available) {
    const auto& m = source->messages.at(seq);
    Queue* to = destination != nullptr ? destination : find_arn(m.dead_letter_source_arn);
    if (to == nullptr || to == source) {
      task.failure_reason = "The original source queue of a message does not exist.";
      continue;
    }
    move_message(*source, seq, *to, true, batch);
    ++task.moved;
  }
  task.status = task.moved == task.to_move ? "COMPLETED" : "FAILED";
  source->move_tasks.insert(source->move_tasks.begin(), task);
  if (source->move_tasks.size() > 10) {
    source->move_tasks.resize(10);
  }
  batch.put(storage::Space::kSqs, persist::queue_key(source->account, source->name), persist::encode_queue(*source));
  commit(batch);
  return task.handle;
}

std::vector<MoveTask> QueueEngine::list_move_tasks(const std::string& source_arn, std::size_t max) {
  std::lock_guard lock(mutex_);
  Queue* source = find_arn(source_arn);
  if (source == nullptr) {
    throw AwsError("ResourceNotFoundException", 400,
                   "The resource that you specified for the SourceArn parameter doesn't exist.");
  }
  std::vector<MoveTask> out(source->move_tasks.begin(),
                            source->move_tasks.begin() + static_cast<std::ptrdiff_t>(std::min(max, source->move_tasks.size())));
  return out;
}

std::int64_t QueueEngine::cancel_move_task(const std::string& handle, const std::string& account) {
  std::lock_guard lock(mutex_);
  for (auto& [key, q] : queues_) {
    if (q->account != account) {
      continue;  // another account's task is not found, as on AWS
    }
    for (auto& t : q->move_tasks) {
      if (t.handle != handle) {
        continue;
      }
      if (t.status != "RUNNING") {
        // Tasks run to completion inside StartMessageMoveTask, so only a finished one is found.
        throw AwsError("FailedPrecondition", 400, "Only active tasks can be cancelled.");
      }
      t.status = "CANCELLED";
      persist_queue(*q);
      return t.moved;
    }
  }
  throw AwsError("ResourceNotFoundException", 400, "Task does not exist.");
}

}  // namespace fogbank::sqs
