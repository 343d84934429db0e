// PutRecord(s), GetShardIterator and GetRecords.

#include <algorithm>
#include <ctime>

#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/storage/keys.hpp"
#include "fogbank/storage/store.hpp"
#include "persistence.hpp"
#include "shard_iterator.hpp"

namespace fogbank::kinesis {

namespace {

using storage::Space;

constexpr std::size_t kMaxPutRecordsBytes = 5 * 1024 * 1024;
constexpr std::size_t kMaxGetRecordsBytes = 10 * 1024 * 1024;

/// The record's bytes, inside `entry` (which outlives their use).
std::string_view data_of(const Value& entry) {
  auto it = entry.find("Data");
  if (it == entry.end()) {
    return {};
  }
  if (it->is_binary()) {
    const auto& b = it->get_binary();
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  return it->is_string() ? std::string_view(it->get_ref<const std::string&>()) : std::string_view();
}

/// AWS (a Java service) words blob lengths through ByteBuffer's toString.
std::string too_large(std::size_t size, std::size_t max, const std::string& path) {
  const auto n = std::to_string(size);
  return "Value 'java.nio.HeapByteBuffer[pos=0 lim=" + n + " cap=" + n + "]' at '" + path +
         "' failed to satisfy constraint: Member must have length less than or equal to " + std::to_string(max);
}

/// java.util.Date#toString in UTC, the form of AWS's iterator-expiry message.
std::string java_date(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}

void write_batch(storage::Store& store, storage::Batch& batch) {
  if (auto st = store.write(batch); !st) {
    throw storage::StorageError("kinesis: " + st.message());
  }
}

}  // namespace

KinesisEngine::PutResult KinesisEngine::put_one(Stream& s, std::string_view partition_key,
                                                const std::string_view* explicit_hash_key, std::string_view data,
                                                std::int64_t now_ms, std::vector<persist::ChunkWriter>& by_shard) {
  HashKey hash = 0;
  if (explicit_hash_key != nullptr) {
    auto parsed = parse_decimal(*explicit_hash_key);
    if (!parsed) {
      throw errors::invalid_argument("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                                     "Specified value was " + std::string(*explicit_hash_key));
    }
    hash = *parsed;
  } else {
    hash = partition_key_hash(partition_key);
  }
  Shard* target = nullptr;
  for (auto& sh : s.shards) {
    if (sh.open() && sh.range.start <= hash && hash <= sh.range.end) {
      target = &sh;
      break;
    }
  }
  if (target == nullptr) {
    throw protocol::errors::internal_failure("No open shard holds hash key " + to_decimal(hash) + ".");
  }
  if (options_.enforce_throughput &&
      !throttle(s.id, target->index).admit_write(data.size() + partition_key.size(), now_ms)) {
    throw errors::throughput_exceeded(shard_id_of(target->index), s.name, s.account);
  }
  const std::uint64_t counter = target->next_counter++;
  by_shard[target->index].add(counter, partition_key, data);
  return {target->index, format_sequence_number({target->created_ms, target->index, counter, now_ms}), {}, {}};
}

namespace {

/// Puts go to ACTIVE and UPDATING streams; others are "not found", as on AWS.
Stream& writable(Stream& s) {
  if (s.status != "ACTIVE" && s.status != "UPDATING") {
    throw errors::not_found(s.name, s.account);
  }
  return s;
}

}  // namespace

std::vector<persist::ChunkWriter> KinesisEngine::chunk_writers(const Stream& s, std::int64_t now_ms) {
  return std::vector<persist::ChunkWriter>(s.shards.size(), persist::ChunkWriter(now_ms, s.encryption == "KMS"));
}

void KinesisEngine::commit_records(const Stream& s, std::vector<persist::ChunkWriter>& by_shard) {
  storage::Batch batch;
  for (std::size_t i = 0; i < by_shard.size() && i < s.shards.size(); ++i) {
    if (by_shard[i].count() == 0) {
      continue;
    }
    const Shard& shard = s.shards[i];
    batch.put_owned(Space::kKinesis, persist::record_key(s.id, shard.index, by_shard[i].last_counter()),
                    by_shard[i].take());
    // One counter write per shard and call, not one per record.
    batch.put(Space::kKinesis, persist::counter_key(s.id, shard.index), persist::encode_counter(shard.next_counter));
  }
  write_batch(store_, batch);
}

Value KinesisEngine::put_record(const Value& in, const Caller& c) {
  const std::string_view data = data_of(in);
  std::lock_guard lock(mu_);
  Stream& s = writable(find_stream(in, c));
  const auto max = static_cast<std::size_t>(s.max_record_kib) * 1024;
  if (data.size() > max) {
    throw errors::validation("1 validation error detected: " + too_large(data.size(), max, "data"));
  }
  const std::string partition_key = string_of(in, "PartitionKey");
  if (auto seq = string_of(in, "SequenceNumberForOrdering"); !seq.empty() && !parse_sequence_number(seq)) {
    throw errors::invalid_argument("ExclusiveMinimumSequenceNumber " + seq + " used in PutRecord on stream " + s.name +
                                   " under account " + s.account + " is invalid.");
  }
  const std::string explicit_key = string_of(in, "ExplicitHashKey");
  const std::string_view explicit_view = explicit_key;
  auto by_shard = chunk_writers(s, c.now_ms);
  PutResult r = put_one(s, partition_key, in.contains("ExplicitHashKey") ? &explicit_view : nullptr, data, c.now_ms,
                        by_shard);
  commit_records(s, by_shard);
  notify_watchers(s.id);
  Value out = {{"ShardId", shard_id_of(r.shard)}, {"SequenceNumber", std::move(r.sequence_number)}};
  if (s.encryption == "KMS") {
    out["EncryptionType"] = "KMS";
  }
  return out;
}

KinesisEngine::PutOutcome KinesisEngine::put_entries(const std::string& stream_name, const std::string& stream_arn,
                                                     const std::vector<PutEntry>& entries, const Caller& c) {
  std::size_t total = 0;
  for (const auto& e : entries) {
    total += e.data.size() + e.partition_key.size();
  }
  std::lock_guard lock(mu_);
  Stream& s = writable(find_stream(stream_name, stream_arn, c));
  const auto max = static_cast<std::size_t>(s.max_record_kib) * 1024;
  std::vector<std::string> violations;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].data.size() > max) {
      violations.push_back(
          too_large(entries[i].data.size(), max, "records." + std::to_string(i + 1) + ".member.data"));
    }
  }
  if (!violations.empty()) {
    std::string msg = std::to_string(violations.size()) + " validation error" + (violations.size() > 1 ? "s" : "") +
                      " detected: ";
    for (std::size_t i = 0; i < violations.size(); ++i) {
      msg += (i > 0 ? "; " : "") + violations[i];
    }
    throw errors::validation(msg);
  }
  if (total > kMaxPutRecordsBytes) {
    throw errors::invalid_argument("Records size exceeds 5 MB limit");
  }
  for (const auto& e : entries) {
    if (e.explicit_hash_key && !parse_decimal(*e.explicit_hash_key)) {
      throw errors::invalid_argument("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                                     "Specified value was " + std::string(*e.explicit_hash_key));
    }
  }
  // All records of one call are committed in one batch: a crash keeps all or none of them.
  auto by_shard = chunk_writers(s, c.now_ms);
  PutOutcome out;
  out.encrypted = s.encryption == "KMS";
  out.records.reserve(entries.size());
  for (const auto& e : entries) {
    try {
      out.records.push_back(put_one(s, e.partition_key, e.explicit_hash_key ? &*e.explicit_hash_key : nullptr, e.data,
                                    c.now_ms, by_shard));
    } catch (const protocol::AwsError& err) {
      if (err.code != "ProvisionedThroughputExceededException") {
        throw;
      }
      // A throttled record fails alone; the others of the call are written (AWS's partial failure).
      ++out.failed;
      out.records.push_back({0, {}, err.code, err.message});
    }
  }
  commit_records(s, by_shard);
  notify_watchers(s.id);
  return out;
}

Value KinesisEngine::put_records(const Value& in, const Caller& c) {
  const Value& entries = in.at("Records");
  std::vector<PutEntry> typed;
  typed.reserve(entries.size());
  for (const auto& e : entries) {
    PutEntry t;
    t.data = data_of(e);
    if (auto pk = e.find("PartitionKey"); pk != e.end() && pk->is_string()) {
      t.partition_key = pk->get_ref<const std::string&>();
    }
    if (auto ek = e.find("ExplicitHashKey"); ek != e.end()) {
      t.explicit_hash_key = ek->is_string() ? std::string_view(ek->get_ref<const std::string&>()) : std::string_view();
    }
    typed.push_back(t);
  }
  PutOutcome outcome = put_entries(string_of(in, "StreamName"), string_of(in, "StreamARN"), typed, c);
  Value results = Value::array();
  for (auto& r : outcome.records) {
    if (r.error_code.empty()) {
      results.push_back({{"ShardId", shard_id_of(r.shard)}, {"SequenceNumber", std::move(r.sequence_number)}});
    } else {
      results.push_back({{"ErrorCode", std::move(r.error_code)}, {"ErrorMessage", std::move(r.error_message)}});
    }
  }
  Value out = {{"FailedRecordCount", outcome.failed}, {"Records", std::move(results)}};
  if (outcome.encrypted) {
    out["EncryptionType"] = "KMS";
  }
  return out;
}

std::uint64_t KinesisEngine::start_counter(const Stream& s, const Shard& shard, const std::string& type,
                                          const std::string& seq_text, std::int64_t at_ms, const char* operation) {
  std::uint64_t position = 1;
  if (type == "LATEST") {
    position = shard.next_counter;
  } else if (type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER") {
    auto seq = parse_sequence_number(seq_text);
    if (!seq || seq->shard_created_ms != shard.created_ms) {
      throw errors::invalid_argument("StartingSequenceNumber " + seq_text + " used in " + operation + " on shard " +
                                     shard_id_of(shard.index) + " in stream " + s.name + " under account " +
                                     s.account + " is invalid.");
    }
    if (seq->shard_index != shard.index) {
      throw errors::invalid_argument("Invalid StartingSequenceNumber. It encodes " + shard_id_of(seq->shard_index) +
                                     ", while it was used in a call to a shard with " + shard_id_of(shard.index));
    }
    position = type == "AT_SEQUENCE_NUMBER" ? std::max<std::uint64_t>(seq->counter, 1) : seq->counter + 1;
  } else if (type == "AT_TIMESTAMP") {
    // The first record that arrived at or after the timestamp: one scan of the shard's range.
    // A chunk's records arrived together, so its arrival time decides for all of them.
    position = shard.next_counter;
    for (auto cur = store_.scan_prefix(Space::kKinesis, persist::shard_records_prefix(s.id, shard.index)); cur.valid();
         cur.next()) {
      persist::ChunkReader chunk;
      if (chunk.open(cur.key(), cur.value()) && chunk.arrival_ms() >= at_ms) {
        position = chunk.first_counter();
        break;
      }
    }
  }
  return position;
}

Value KinesisEngine::get_shard_iterator(const Value& in, const Caller& c) {
  const std::string type = string_of(in, "ShardIteratorType");
  const std::string shard_id = string_of(in, "ShardId");
  const bool has_seq = in.contains("StartingSequenceNumber");
  const std::string seq_text = string_of(in, "StartingSequenceNumber");
  const bool wants_seq = type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER";
  if (wants_seq && !has_seq) {
    throw errors::invalid_argument("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                                   "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
                                   "Request specified " + type + " and no StartingSequenceNumber.");
  }
  if (!wants_seq && has_seq) {
    throw errors::invalid_argument("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                                   "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
                                   "Request specified " + type + " and also a StartingSequenceNumber.");
  }
  if (type == "AT_TIMESTAMP" && !in.contains("Timestamp")) {
    throw errors::invalid_argument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                                   "Current request has no timestamp parameter.");
  }
  std::lock_guard lock(mu_);
  Stream& s = writable(find_stream(in, c));
  auto index = shard_index_of(shard_id);
  if (!index || *index >= s.shards.size() ||
      !s.shards[*index].retained(c.now_ms, static_cast<std::int64_t>(s.retention_hours) * 3'600'000)) {
    throw protocol::AwsError("ResourceNotFoundException", 400,
                             "Shard " + shard_id + " in stream " + s.name + " under account " + s.account +
                                 " does not exist");
  }
  const Shard& shard = s.shards[*index];
  const std::uint64_t position =
      start_counter(s, shard, type, seq_text, in.contains("Timestamp") ? timestamp_ms(in["Timestamp"]) : 0,
                    "GetShardIterator");
  IteratorPosition p{s.account, s.region, s.name, s.created_ms, shard.index, position, c.now_ms};
  return {{"ShardIterator", encode_iterator(p, iterator_key_)}};
}

std::optional<std::string> KinesisEngine::read_iterator(const std::string& token, const std::string& stream_arn,
                                                        std::size_t limit, const Caller& c, const RecordVisitor& visit,
                                                        ShardPage& page) {
  auto p = decode_iterator(token, iterator_key_);
  if (!p || p->account != c.account || p->region != c.region) {
    throw errors::invalid_argument("Invalid ShardIterator.");
  }
  if (c.now_ms - p->issued_ms > kIteratorLifetimeMs) {
    throw protocol::AwsError("ExpiredIteratorException", 400,
                             "Iterator expired. The iterator was created at time " + java_date(p->issued_ms) +
                                 " while right now it is " + java_date(c.now_ms) +
                                 " which is further in the future than the tolerated delay of " +
                                 std::to_string(kIteratorLifetimeMs) + " milliseconds.");
  }
  page = read_shard(*p, p->next_counter, limit, kMaxGetRecordsBytes, c.now_ms,
                    stream_arn.empty() ? nullptr : &stream_arn, true, visit);
  // A closed shard read to its end has no next iterator: the reader moves on to its children.
  if (page.closed_end) {
    return std::nullopt;
  }
  IteratorPosition np = *p;
  np.next_counter = page.next;
  np.issued_ms = c.now_ms;
  return encode_iterator(np, iterator_key_);
}

Value record_value(const persist::StoredRecord& r, const std::string& sequence_number) {
  Value rec = {{"SequenceNumber", sequence_number},
               {"ApproximateArrivalTimestamp", to_timestamp(r.arrival_ms)},
               {"Data", Value::binary(std::vector<std::uint8_t>(r.data.begin(), r.data.end()))},
               {"PartitionKey", std::string(r.partition_key)}};
  if (r.encrypted) {
    rec["EncryptionType"] = "KMS";
  }
  return rec;
}

Value KinesisEngine::get_records(const Value& in, const Caller& c) {
  Value records = Value::array();
  ShardPage page;
  auto next = read_iterator(string_of(in, "ShardIterator"), string_of(in, "StreamARN"),
                            static_cast<std::size_t>(in.value("Limit", 10000)), c,
                            [&](const persist::StoredRecord& r, const std::string& seq) {
                              records.push_back(record_value(r, seq));
                            },
                            page);
  Value out = {{"Records", std::move(records)}, {"MillisBehindLatest", page.behind_ms}};
  if (next) {
    out["NextShardIterator"] = std::move(*next);
  } else {
    out["ChildShards"] = std::move(page.child_shards);
  }
  return out;
}

KinesisEngine::ShardPage KinesisEngine::read_shard(const IteratorPosition& at, std::uint64_t from, std::size_t limit,
                                                   std::size_t max_bytes, std::int64_t now_ms,
                                                   const std::string* stream_arn, bool metered,
                                                   const RecordVisitor& visit) {
  std::string stream_id;
  std::int64_t retention_cutoff = 0;
  Shard shard;
  ShardPage page;
  {
    std::lock_guard lock(mu_);
    auto it = streams_.find(persist::stream_key(at.account, at.region, at.stream));
    if (it == streams_.end() || it->second.created_ms != at.stream_created_ms ||
        at.shard_index >= it->second.shards.size()) {
      throw protocol::AwsError("ResourceNotFoundException", 400,
                               "Shard " + shard_id_of(at.shard_index) + " in stream " + at.stream + " under account " +
                                   at.account + " does not exist");
    }
    const Stream& s = it->second;
    if (stream_arn != nullptr && *stream_arn != s.arn()) {
      throw errors::invalid_argument("The StreamARN " + *stream_arn + " does not match the stream of the ShardIterator.");
    }
    stream_id = s.id;
    metered = metered && options_.enforce_throughput;
    if (metered && !throttle(s.id, at.shard_index).admit_read(now_ms)) {
      throw errors::throughput_exceeded(shard_id_of(at.shard_index), s.name, s.account);
    }
    retention_cutoff = now_ms - static_cast<std::int64_t>(s.retention_hours) * 3'600'000;
    shard = s.shards[at.shard_index];
    page.child_shards = Value::array();
    for (auto child : shard.children) {
      Value parents = Value::array();
      for (const auto& other : s.shards) {
        if (std::find(other.children.begin(), other.children.end(), child) != other.children.end()) {
          parents.push_back(shard_id_of(other.index));
        }
      }
      const Shard& ch = s.shards[child];
      page.child_shards.push_back({{"ShardId", shard_id_of(child)},
                                   {"ParentShards", std::move(parents)},
                                   {"HashKeyRange", {{"StartingHashKey", to_decimal(ch.range.start)},
                                                     {"EndingHashKey", to_decimal(ch.range.end)}}}});
    }
  }
  // Records are immutable once written, so the scan runs without the engine's lock.
  page.next = from;
  std::size_t bytes = 0;
  SequenceFormatter sequence(shard.created_ms, shard.index);
  SequenceNumber last;  // of the last record visited
  const auto prefix = persist::shard_records_prefix(stream_id, at.shard_index);
  // Chunks are keyed by their last counter: the seek lands on the chunk that holds `from`.
  auto cur = store_.scan(Space::kKinesis, persist::record_key(stream_id, at.shard_index, from),
                         storage::prefix_successor(prefix));
  bool full = false;
  for (; cur.valid() && !full; cur.next()) {
    persist::ChunkReader chunk;
    if (!chunk.open(cur.key(), cur.value())) {
      if (auto last = persist::record_counter(cur.key())) {
        page.next = std::max(page.next, *last + 1);
      }
      continue;
    }
    if (chunk.arrival_ms() < retention_cutoff) {
      // Past retention, not yet trimmed: invisible, as on AWS.
      page.next = std::max(page.next, chunk.last_counter() + 1);
      continue;
    }
    persist::StoredRecord r;
    while (chunk.next(r)) {
      if (r.counter < page.next) {
        continue;
      }
      if (page.count >= limit || (page.count > 0 && bytes + r.data.size() > max_bytes)) {
        page.behind_ms = std::max<std::int64_t>(0, now_ms - r.arrival_ms);
        full = true;
        break;
      }
      bytes += r.data.size() + r.partition_key.size();
      visit(r, sequence.format(r.counter, r.arrival_ms));
      last = {shard.created_ms, shard.index, r.counter, r.arrival_ms};
      ++page.count;
      page.next = r.counter + 1;
    }
    if (!full) {
      page.next = std::max(page.next, chunk.last_counter() + 1);  // also past an unreadable tail
    }
  }
  if (page.count > 0) {
    page.last_sequence = format_sequence_number(last);
  }
  if (metered && bytes > 0) {
    std::lock_guard lock(mu_);
    throttle(stream_id, at.shard_index).read_bytes.charge(static_cast<double>(bytes));
  }
  page.closed_end = !shard.open() && page.next >= shard.next_counter;
  page.position = format_sequence_number({shard.created_ms, shard.index, page.next - 1, now_ms});
  return page;
}

SourceBatch KinesisEngine::read_source(std::string_view stream_arn, const std::map<std::string, std::string>& positions,
                                       std::size_t limit) {
  SourceBatch out;
  out.positions = positions;
  struct Range {
    std::uint32_t shard = 0;
    std::int64_t shard_created_ms = 0;
    std::uint64_t from = 1;  // first counter to read
  };
  std::string stream_id;
  std::int64_t retention_cutoff = 0;
  std::vector<Range> ranges;
  {
    std::lock_guard lock(mu_);
    // The reader acts for the stream's own account (AWS checks the delivery role's access).
    std::string_view account = stream_arn;
    for (int field = 0; field < 4; ++field) {
      const auto colon = account.find(':');
      account = colon == std::string_view::npos ? std::string_view() : account.substr(colon + 1);
    }
    account = account.substr(0, account.find(':'));
    Stream* s = nullptr;
    try {
      s = find_stream_by_arn(stream_arn, Caller{std::string(account), "", clock_.now_ms()});
    } catch (const protocol::AwsError&) {
      return out;
    }
    if (s == nullptr || s->status == "DELETING" || s->status == "CREATING") {
      return out;
    }
    out.found = true;
    stream_id = s->id;
    retention_cutoff = clock_.now_ms() - static_cast<std::int64_t>(s->retention_hours) * 3'600'000;
    // A shard is read once its parents are read to their end, so every partition key's records
    // come out in order across a reshard.
    auto finished = [&](std::uint32_t index) {
      const Shard& sh = s->shards[index];
      if (sh.open()) {
        return false;
      }
      auto it = positions.find(shard_id_of(index));
      const std::uint64_t done = it == positions.end() ? 0 : parse_sequence_number(it->second).value_or(SequenceNumber{}).counter;
      return done + 1 >= sh.next_counter;
    };
    for (const Shard& sh : s->shards) {
      if ((sh.parent && !finished(*sh.parent)) || (sh.adjacent_parent && !finished(*sh.adjacent_parent))) {
        continue;
      }
      Range r{sh.index, sh.created_ms, 1};
      if (auto it = positions.find(shard_id_of(sh.index)); it != positions.end()) {
        if (auto seq = parse_sequence_number(it->second)) {
          r.from = seq->counter + 1;
        }
      }
      if (r.from < sh.next_counter) {
        ranges.push_back(r);
      }
    }
  }
  // Records are immutable once written: the scans run without the lock.
  for (const Range& r : ranges) {
    const auto prefix = persist::shard_records_prefix(stream_id, r.shard);
    for (auto cur = store_.scan(Space::kKinesis, persist::record_key(stream_id, r.shard, r.from),
                                storage::prefix_successor(prefix));
         cur.valid() && out.records.size() < limit; cur.next()) {
      persist::ChunkReader chunk;
      if (!chunk.open(cur.key(), cur.value())) {
        continue;
      }
      persist::StoredRecord rec;
      while (out.records.size() < limit && chunk.next(rec)) {
        if (rec.counter < r.from) {
          continue;
        }
        const std::string seq = format_sequence_number({r.shard_created_ms, r.shard, rec.counter, rec.arrival_ms});
        out.positions[shard_id_of(r.shard)] = seq;
        if (rec.arrival_ms < retention_cutoff) {
          continue;
        }
        out.records.push_back({shard_id_of(r.shard), seq, std::string(rec.partition_key), std::string(rec.data),
                               rec.arrival_ms});
      }
    }
  }
  return out;
}

}  // namespace fogbank::kinesis
