#include "engine.hpp"

#include <algorithm>
#include <cmath>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/keys.hpp"
#include "fogbank/storage/store.hpp"
#include "persistence.hpp"

namespace fogbank::kinesis {

using protocol::AwsError;
using storage::Space;

namespace errors {
AwsError not_found(const std::string& stream, const std::string& account) {
  return {"ResourceNotFoundException", 400, "Stream " + stream + " under account " + account + " not found."};
}
AwsError in_use(std::string message) { return {"ResourceInUseException", 400, std::move(message)}; }
AwsError invalid_argument(std::string message) { return {"InvalidArgumentException", 400, std::move(message)}; }
AwsError limit_exceeded(std::string message) { return {"LimitExceededException", 400, std::move(message)}; }
AwsError validation(std::string message) { return {"ValidationException", 400, std::move(message)}; }
AwsError throughput_exceeded(const std::string& shard, const std::string& stream, const std::string& account) {
  return {"ProvisionedThroughputExceededException", 400,
          "Rate exceeded for shard " + shard + " in stream " + stream + " under account " + account + "."};
}
}  // namespace errors

ShardThrottle& KinesisEngine::throttle(const std::string& stream_id, std::uint32_t shard) {
  return throttles_[stream_id + "/" + std::to_string(shard)];
}

std::int64_t timestamp_ms(const Value& v) {
  if (v.is_number()) {
    return static_cast<std::int64_t>(std::llround(v.get<double>() * 1000.0));
  }
  return 0;
}

std::string string_of(const Value& in, const char* name) {
  auto it = in.find(name);
  return it != in.end() && it->is_string() ? it->get<std::string>() : std::string();
}

KinesisEngine::KinesisEngine(storage::Store& store, const protocol::Clock& clock, protocol::Scheduler* scheduler,
                             KinesisOptions options)
    : store_(store), clock_(clock), scheduler_(scheduler), options_(options) {}

void KinesisEngine::load() {
  std::lock_guard lock(mu_);
  streams_.clear();
  account_settings_.clear();
  if (auto key = store_.get(Space::kKinesis, persist::iterator_key_key())) {
    iterator_key_ = *key;
  } else {
    iterator_key_ = protocol::random_bytes(32);
    if (auto st = store_.put(Space::kKinesis, persist::iterator_key_key(), iterator_key_); !st) {
      throw storage::StorageError("kinesis: cannot store the iterator key: " + st.message());
    }
  }
  for (auto cur = store_.scan_prefix(Space::kKinesis, persist::stream_prefix()); cur.valid(); cur.next()) {
    Stream s;
    if (!persist::decode_stream(cur.value(), s)) {
      continue;  // unreadable: skipped rather than refusing to start
    }
    for (auto& shard : s.shards) {
      if (shard.open()) {
        if (auto v = store_.get(Space::kKinesis, persist::counter_key(s.id, shard.index))) {
          shard.next_counter = persist::decode_counter(*v).value_or(1);
        }
      }
    }
    streams_.emplace(std::string(cur.key()), std::move(s));
  }
  for (auto cur = store_.scan_prefix(Space::kKinesis, storage::KeyBuilder("a").key()); cur.valid(); cur.next()) {
    account_settings_[std::string(cur.key())] = std::string(cur.value());
  }
  // Transitions the previous run left pending: due ones complete at once, the rest on their timers.
  std::vector<StreamKey> pending;
  std::vector<std::pair<StreamKey, std::string>> consumers;
  for (const auto& [key, s] : streams_) {
    if (s.status != "ACTIVE") {
      pending.push_back(key);
    }
    for (const auto& cons : s.consumers) {
      if (cons.status != "ACTIVE") {
        consumers.emplace_back(key, cons.name);
      }
    }
  }
  for (const auto& key : pending) {
    settle(key);
  }
  for (const auto& [key, name] : consumers) {
    settle_consumer(key, name);
  }
  schedule_retention(clock_.now_ms() + options_.retention_sweep_interval_ms);
}

void KinesisEngine::reset() {
  {
    std::lock_guard lock(mu_);
    streams_.clear();
    account_settings_.clear();
    subscribed_at_.clear();
    throttles_.clear();
  }
  load();
  // Open subscriptions find their streams gone and end with ResourceNotFoundException.
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(watch_mu_);
    for (const auto& [id, w] : watchers_) {
      wakes.push_back(w.second);
    }
  }
  for (auto& wake : wakes) {
    wake();
  }
}

// --- lookups --------------------------------------------------------------------------------------

Stream& KinesisEngine::find_stream_named(const std::string& name, const std::string& account,
                                         const std::string& region) {
  auto it = streams_.find(persist::stream_key(account, region, name));
  if (it == streams_.end()) {
    throw errors::not_found(name, account);
  }
  return it->second;
}

Stream* KinesisEngine::find_stream_by_arn(std::string_view arn, const Caller& c) {
  // arn:aws:kinesis:<region>:<account>:stream/<name>[/consumer/...]
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    auto colon = arn.find(':', start);
    if (colon == std::string_view::npos) {
      return nullptr;
    }
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  std::string_view resource = arn.substr(start);
  if (parts[0] != "arn" || parts[2] != "kinesis" || !resource.starts_with("stream/")) {
    return nullptr;
  }
  resource.remove_prefix(7);
  std::string name(resource.substr(0, resource.find('/')));
  std::string account(parts[4]);
  // Another account's streams are invisible: the same answer as a stream that does not exist.
  if (account != c.account) {
    throw errors::not_found(name, account);
  }
  return &find_stream_named(name, account, std::string(parts[3]));
}

Stream& KinesisEngine::find_stream(const Value& in, const Caller& c) {
  return find_stream(string_of(in, "StreamName"), string_of(in, "StreamARN"), c);
}

Stream& KinesisEngine::find_stream(const std::string& name, const std::string& arn, const Caller& c) {
  if (!arn.empty()) {
    Stream* s = find_stream_by_arn(arn, c);
    if (s == nullptr) {
      throw errors::invalid_argument("Invalid StreamARN " + arn + ".");
    }
    if (!name.empty() && name != s->name) {
      throw errors::invalid_argument("StreamARN " + arn + " and StreamName " + name + " do not name the same stream.");
    }
    return *s;
  }
  if (name.empty()) {
    throw errors::validation("Either StreamName or StreamARN should be provided.");
  }
  return find_stream_named(name, c.account, c.region);
}

Stream& KinesisEngine::active_stream(const Value& in, const Caller& c) {
  Stream& s = find_stream(in, c);
  if (s.status != "ACTIVE") {
    throw errors::in_use("Stream " + s.name + " under account " + s.account + " not ACTIVE, instead in state " +
                         s.status);
  }
  return s;
}

Shard& KinesisEngine::find_shard(Stream& s, std::string_view shard_id, const char* operation) {
  auto index = shard_index_of(shard_id);
  if (!index || *index >= s.shards.size()) {
    throw AwsError("ResourceNotFoundException", 400,
                   std::string(operation) + ": Could not find shard " + std::string(shard_id) + " in stream " +
                       s.name + " under account " + s.account + ".");
  }
  return s.shards[*index];
}

int KinesisEngine::open_shards_in(const std::string& account, const std::string& region) const {
  int n = 0;
  for (const auto& [key, s] : streams_) {
    if (s.account == account && s.region == region && s.status != "DELETING") {
      n += s.open_shard_count();
    }
  }
  return n;
}

void KinesisEngine::check_shard_limit(const Caller& c, int additional) const {
  const int current = open_shards_in(c.account, c.region);
  if (current + additional > options_.shard_limit) {
    throw errors::limit_exceeded(
        "This request would exceed the shard limit for the account " + c.account + " in " + c.region +
        ". Current shard count for the account: " + std::to_string(current) +
        ". Limit: " + std::to_string(options_.shard_limit) +
        ". Number of additional shards that would have resulted from this request: " + std::to_string(additional) +
        ". Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html#ksa_limits) "
        "for current limits and how to request higher limits.");
  }
}

KinesisEngine::StreamKey KinesisEngine::key_of(const Stream& s) {
  return persist::stream_key(s.account, s.region, s.name);
}

// --- write-through --------------------------------------------------------------------------------

void KinesisEngine::save(const Stream& s, storage::Batch& batch) {
  batch.put(Space::kKinesis, persist::stream_key(s.account, s.region, s.name), persist::encode_stream(s));
}

void KinesisEngine::save(const Stream& s) {
  storage::Batch batch;
  save(s, batch);
  if (auto st = store_.write(batch); !st) {
    throw storage::StorageError("kinesis: " + st.message());
  }
}

// --- lifecycle ------------------------------------------------------------------------------------

void KinesisEngine::begin_transition(Stream& s, const std::string& status, std::int64_t now_ms) {
  s.status = status;
  s.transition_due_ms = now_ms + options_.lifecycle_delay_ms;
}

void KinesisEngine::schedule_transition(const StreamKey& key, std::int64_t due_ms) {
  if (scheduler_ == nullptr) {
    return;  // completed by the caller (see complete_now)
  }
  std::weak_ptr<KinesisEngine> weak = weak_from_this();
  scheduler_->at(due_ms, [weak, key] {
    if (auto self = weak.lock()) {
      self->complete_transition(key);
    }
  });
}

void KinesisEngine::settle(const StreamKey& key) {
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    return;
  }
  if (scheduler_ == nullptr || it->second.transition_due_ms <= clock_.now_ms()) {
    complete_locked(key);
  } else {
    schedule_transition(key, it->second.transition_due_ms);
  }
}

void KinesisEngine::complete_transition(const StreamKey& key) {
  std::lock_guard lock(mu_);
  complete_locked(key);
}

void KinesisEngine::complete_locked(const StreamKey& key) {
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    return;
  }
  Stream& s = it->second;
  if (s.status == "ACTIVE" || (scheduler_ != nullptr && clock_.now_ms() < s.transition_due_ms)) {
    // A newer transition moved the due time (its own timer completes it), or the clock went back.
    if (s.status != "ACTIVE" && scheduler_ != nullptr) {
      schedule_transition(key, s.transition_due_ms);
    }
    return;
  }
  if (s.status == "DELETING") {
    erase_stream(key);
    return;
  }
  s.status = "ACTIVE";
  s.transition_due_ms = 0;
  save(s);
}

void KinesisEngine::erase_stream(const StreamKey& key) {
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    return;
  }
  const std::string id = it->second.id;
  notify_watchers(id);
  storage::Batch batch;
  batch.del(Space::kKinesis, key);
  const auto records = persist::stream_records_prefix(id);
  batch.del_range(Space::kKinesis, records, storage::prefix_successor(records));
  const auto counters = persist::stream_counters_prefix(id);
  batch.del_range(Space::kKinesis, counters, storage::prefix_successor(counters));
  if (auto st = store_.write(batch); !st) {
    throw storage::StorageError("kinesis: " + st.message());
  }
  streams_.erase(it);
}

void KinesisEngine::schedule_consumer(const StreamKey& key, const std::string& consumer, std::int64_t due_ms) {
  if (scheduler_ == nullptr) {
    return;
  }
  std::weak_ptr<KinesisEngine> weak = weak_from_this();
  scheduler_->at(due_ms, [weak, key, consumer] {
    if (auto self = weak.lock()) {
      self->complete_consumer(key, consumer);
    }
  });
}

void KinesisEngine::settle_consumer(const StreamKey& key, const std::string& consumer) {
  if (scheduler_ == nullptr || options_.lifecycle_delay_ms <= 0) {
    complete_consumer_locked(key, consumer);
  } else {
    schedule_consumer(key, consumer, clock_.now_ms() + options_.lifecycle_delay_ms);
  }
}

void KinesisEngine::complete_consumer(const StreamKey& key, const std::string& consumer) {
  std::lock_guard lock(mu_);
  complete_consumer_locked(key, consumer);
}

void KinesisEngine::complete_consumer_locked(const StreamKey& key, const std::string& consumer) {
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    return;
  }
  auto& consumers = it->second.consumers;
  for (auto c = consumers.begin(); c != consumers.end(); ++c) {
    if (c->name != consumer) {
      continue;
    }
    if (c->status == "CREATING") {
      c->status = "ACTIVE";
    } else if (c->status == "DELETING") {
      it->second.policies.erase(c->arn);
      consumers.erase(c);
    }
    save(it->second);
    return;
  }
}

// --- shards ---------------------------------------------------------------------------------------

Shard& KinesisEngine::add_shard(Stream& s, HashRange range, std::int64_t now_ms, std::optional<std::uint32_t> parent,
                                std::optional<std::uint32_t> adjacent) {
  Shard shard;
  shard.index = static_cast<std::uint32_t>(s.shards.size());
  shard.range = range;
  shard.created_ms = now_ms;
  shard.parent = parent;
  shard.adjacent_parent = adjacent;
  s.shards.push_back(shard);
  if (parent) {
    s.shards[*parent].children.push_back(shard.index);
  }
  if (adjacent) {
    s.shards[*adjacent].children.push_back(shard.index);
  }
  return s.shards.back();
}

void KinesisEngine::close_shard(Shard& shard, std::int64_t now_ms) {
  // From here on the shard takes no records: its next_counter is final, EndingSequenceNumber is
  // built from it, and the stream record carries it (open shards keep theirs under 'n/' keys).
  shard.closed_ms = now_ms;
}

Value KinesisEngine::shard_value(const Shard& shard) const {
  Value v = {{"ShardId", shard_id_of(shard.index)},
             {"HashKeyRange", {{"StartingHashKey", to_decimal(shard.range.start)},
                               {"EndingHashKey", to_decimal(shard.range.end)}}}};
  if (shard.parent) {
    v["ParentShardId"] = shard_id_of(*shard.parent);
  }
  if (shard.adjacent_parent) {
    v["AdjacentParentShardId"] = shard_id_of(*shard.adjacent_parent);
  }
  Value seq = {{"StartingSequenceNumber", format_sequence_number(shard.starting_sequence())}};
  if (!shard.open()) {
    seq["EndingSequenceNumber"] = format_sequence_number(shard.ending_sequence());
  }
  v["SequenceNumberRange"] = std::move(seq);
  return v;
}

Value KinesisEngine::summary_value(const Stream& s) const {
  return {{"StreamName", s.name},
          {"StreamARN", s.arn()},
          {"StreamStatus", s.status},
          {"StreamModeDetails", {{"StreamMode", s.mode}}},
          {"StreamCreationTimestamp", to_timestamp(s.created_ms)}};
}

// --- retention ------------------------------------------------------------------------------------

void KinesisEngine::schedule_retention(std::int64_t due_ms) {
  if (scheduler_ == nullptr || options_.retention_sweep_interval_ms <= 0) {
    return;
  }
  std::weak_ptr<KinesisEngine> weak = weak_from_this();
  scheduler_->at(due_ms, [weak] {
    auto self = weak.lock();
    if (!self) {
      return;
    }
    std::size_t deleted = 0;
    try {
      deleted = self->sweep_retention();
    } catch (const std::exception&) {
      deleted = 0;  // a storage hiccup: the next pass tries again
    }
    // A full batch means more is due: continue soon, in another bounded pass.
    const bool more = deleted >= static_cast<std::size_t>(self->options_.retention_sweep_batch);
    self->schedule_retention(self->clock_.now_ms() + (more ? 1 : self->options_.retention_sweep_interval_ms));
  });
}

std::size_t KinesisEngine::sweep_retention() {
  struct Work {
    std::string id;
    std::vector<std::uint32_t> shards;
    std::int64_t cutoff_ms;
  };
  std::vector<Work> work;
  const std::int64_t now = clock_.now_ms();
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, s] : streams_) {
      Work w{s.id, {}, now - static_cast<std::int64_t>(s.retention_hours) * 3'600'000};
      for (const auto& sh : s.shards) {
        w.shards.push_back(sh.index);
      }
      work.push_back(std::move(w));
    }
  }
  // Records are immutable and a shard's are in arrival order, so each shard is trimmed from its
  // start until the first record still within retention. Only the store is touched here.
  const auto budget = static_cast<std::size_t>(std::max(1, options_.retention_sweep_batch));
  std::size_t deleted = 0;
  storage::Batch batch;
  for (const auto& w : work) {
    for (auto shard : w.shards) {
      if (deleted >= budget) {
        break;
      }
      for (auto cur = store_.scan_prefix(Space::kKinesis, persist::shard_records_prefix(w.id, shard));
           cur.valid() && deleted < budget; cur.next()) {
        persist::ChunkReader chunk;
        if (chunk.open(cur.key(), cur.value()) && chunk.arrival_ms() >= w.cutoff_ms) {
          break;
        }
        batch.del(Space::kKinesis, cur.key());
        ++deleted;
      }
    }
  }
  if (batch.count() > 0) {
    if (auto st = store_.write(batch); !st) {
      throw storage::StorageError("kinesis: " + st.message());
    }
  }
  return deleted;
}

}  // namespace fogbank::kinesis
