// ListShards and resharding (SplitShard, MergeShards, UpdateShardCount). Resharding closes the
// parents and opens the children at once (so records never go to a closed shard) and keeps the
// stream UPDATING for the lifecycle delay, as AWS does while it reshards.

#include <algorithm>

#include <nlohmann/json.hpp>

#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "persistence.hpp"

namespace fogbank::kinesis {

namespace {

constexpr std::int64_t kNextTokenLifetimeMs = 300'000;

std::int64_t int_of(const Value& in, const char* name, std::int64_t fallback) {
  auto it = in.find(name);
  return it != in.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

struct ListShardsToken {
  std::string stream;
  std::int64_t created_ms = 0;
  std::uint32_t after = 0;
  std::int64_t issued_ms = 0;
  Value filter;
};

std::string encode_token(const ListShardsToken& t) {
  nlohmann::json j = {{"s", t.stream}, {"c", t.created_ms}, {"a", t.after}, {"t", t.issued_ms}, {"f", t.filter}};
  return protocol::base64_encode(j.dump());
}

std::optional<ListShardsToken> decode_token(const std::string& token) {
  auto raw = protocol::base64_decode(token);
  if (!raw) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  if (!j.is_object()) {
    return std::nullopt;
  }
  try {
    return ListShardsToken{j.at("s").get<std::string>(), j.at("c").get<std::int64_t>(),
                           j.at("a").get<std::uint32_t>(), j.at("t").get<std::int64_t>(), j.value("f", Value())};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

/// Whether `shard` was open at `t` (a shard with no parent counts as open since the stream began).
bool open_at(const Shard& shard, std::int64_t t) {
  return (shard.created_ms <= t || !shard.parent) && (shard.open() || shard.closed_ms > t);
}

}  // namespace

Value KinesisEngine::list_shards(const Value& in, const Caller& c) {
  const std::string token = string_of(in, "NextToken");
  const bool named = in.contains("StreamName") || in.contains("StreamARN");
  if (!token.empty() && named) {
    throw errors::invalid_argument("NextToken and StreamName cannot be provided together.");
  }
  if (token.empty() && !named) {
    throw errors::invalid_argument("Either NextToken or StreamName should be provided.");
  }
  if (!token.empty() && in.contains("ExclusiveStartShardId")) {
    throw errors::invalid_argument("NextToken and ExclusiveStartShardId cannot be provided together.");
  }
  const auto limit = static_cast<std::size_t>(int_of(in, "MaxResults", 1000));
  std::lock_guard lock(mu_);
  Stream* stream = nullptr;
  std::uint32_t first = 0;
  Value filter = in.value("ShardFilter", Value());
  if (!token.empty()) {
    auto t = decode_token(token);
    if (!t) {
      throw errors::invalid_argument("Invalid NextToken.");
    }
    if (c.now_ms - t->issued_ms > kNextTokenLifetimeMs) {
      throw protocol::AwsError("ExpiredNextTokenException", 400, "The requested NextToken has expired.");
    }
    stream = &find_stream_named(t->stream, c.account, c.region);
    if (stream->created_ms != t->created_ms) {
      throw errors::invalid_argument("Invalid NextToken.");
    }
    first = t->after + 1;
    filter = t->filter;
  } else {
    stream = &find_stream(in, c);
    if (auto start = string_of(in, "ExclusiveStartShardId"); !start.empty()) {
      auto index = shard_index_of(start);
      first = index ? *index + 1 : static_cast<std::uint32_t>(stream->shards.size());
    }
  }
  Stream& s = *stream;
  const std::int64_t horizon = c.now_ms - static_cast<std::int64_t>(s.retention_hours) * 3'600'000;
  std::string type = filter.is_object() ? string_of(filter, "Type") : std::string();
  std::int64_t at = 0;
  if (type == "AT_TIMESTAMP" || type == "FROM_TIMESTAMP") {
    if (!filter.contains("Timestamp")) {
      throw errors::invalid_argument("Timestamp must be provided with ShardFilter type " + type + ".");
    }
    at = timestamp_ms(filter["Timestamp"]);
  }
  if (type == "AFTER_SHARD_ID") {
    auto index = shard_index_of(string_of(filter, "ShardId"));
    if (!index) {
      throw errors::invalid_argument("ShardId must be provided with ShardFilter type AFTER_SHARD_ID.");
    }
    first = std::max(first, *index + 1);
  }
  auto wanted = [&](const Shard& sh) {
    if (!sh.retained(c.now_ms, c.now_ms - horizon)) {
      return false;
    }
    if (type == "AT_LATEST") {
      return sh.open();
    }
    if (type == "AT_TRIM_HORIZON") {
      return open_at(sh, horizon);
    }
    if (type == "AT_TIMESTAMP") {
      return open_at(sh, at);
    }
    if (type == "FROM_TIMESTAMP") {
      return sh.open() || sh.closed_ms > at;
    }
    return true;  // FROM_TRIM_HORIZON, AFTER_SHARD_ID and no filter: every shard still retained
  };
  Value shards = Value::array();
  std::uint32_t last = 0;
  bool more = false;
  for (std::uint32_t i = first; i < s.shards.size(); ++i) {
    if (!wanted(s.shards[i])) {
      continue;
    }
    if (shards.size() >= limit) {
      more = true;
      break;
    }
    shards.push_back(shard_value(s.shards[i]));
    last = i;
  }
  Value out = {{"Shards", std::move(shards)}};
  if (more) {
    out["NextToken"] = encode_token({s.name, s.created_ms, last, c.now_ms, filter});
  }
  return out;
}

Value KinesisEngine::split_shard(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  Shard& parent = find_shard(s, string_of(in, "ShardToSplit"), "SplitShard");
  const std::string key_text = string_of(in, "NewStartingHashKey");
  auto new_start = parse_decimal(key_text);
  if (!new_start) {
    throw errors::invalid_argument("NewStartingHashKey " + key_text + " is not a valid hash key.");
  }
  if (!parent.open()) {
    throw errors::in_use("Shard " + shard_id_of(parent.index) + " in stream " + s.name + " under account " +
                         s.account + " has already been merged or split, and thus is not eligible for merging or "
                         "splitting.");
  }
  if (*new_start <= parent.range.start || *new_start > parent.range.end) {
    throw errors::invalid_argument("NewStartingHashKey " + key_text + " used in SplitShard() on shard " +
                                   shard_id_of(parent.index) + " in stream " + s.name + " under account " +
                                   s.account + " is not both greater than one plus the shard's StartingHashKey " +
                                   to_decimal(parent.range.start) + " and less than the shard's EndingHashKey " +
                                   to_decimal(parent.range.end) + ".");
  }
  check_shard_limit(c, 1);
  const std::uint32_t parent_index = parent.index;
  const HashRange range = parent.range;
  close_shard(s.shards[parent_index], c.now_ms);
  add_shard(s, {range.start, *new_start - 1}, c.now_ms, parent_index, std::nullopt);
  add_shard(s, {*new_start, range.end}, c.now_ms, parent_index, std::nullopt);
  begin_transition(s, "UPDATING", c.now_ms);
  save(s);
  notify_watchers(s.id);  // subscribers of the closed shards reach their ends
  settle(key_of(s));
  return Value::object();
}

Value KinesisEngine::merge_shards(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  Shard& a = find_shard(s, string_of(in, "ShardToMerge"), "MergeShards");
  Shard& b = find_shard(s, string_of(in, "AdjacentShardToMerge"), "MergeShards");
  for (const Shard* sh : {&a, &b}) {
    if (!sh->open()) {
      throw errors::in_use("Shard " + shard_id_of(sh->index) + " in stream " + s.name + " under account " +
                           s.account + " has already been merged or split, and thus is not eligible for merging or "
                           "splitting.");
    }
  }
  const bool adjacent = (a.range.end != kMaxHashKey && a.range.end + 1 == b.range.start) ||
                        (b.range.end != kMaxHashKey && b.range.end + 1 == a.range.start);
  if (!adjacent) {
    throw errors::invalid_argument("Shards " + shard_id_of(a.index) + " and " + shard_id_of(b.index) + " in stream " +
                                   s.name + " under account " + s.account +
                                   " are not an adjacent pair of shards eligible for merging");
  }
  const std::uint32_t ai = a.index;
  const std::uint32_t bi = b.index;
  const HashRange merged{std::min(a.range.start, b.range.start), std::max(a.range.end, b.range.end)};
  close_shard(s.shards[ai], c.now_ms);
  close_shard(s.shards[bi], c.now_ms);
  add_shard(s, merged, c.now_ms, ai, bi);
  begin_transition(s, "UPDATING", c.now_ms);
  save(s);
  notify_watchers(s.id);  // subscribers of the closed shards reach their ends
  settle(key_of(s));
  return Value::object();
}

Value KinesisEngine::update_shard_count(const Value& in, const Caller& c) {
  const auto target = int_of(in, "TargetShardCount", 0);
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  const int current = s.open_shard_count();
  if (target > 2 * static_cast<std::int64_t>(current)) {
    throw errors::limit_exceeded("UpdateShardCount cannot scale up over double your current open shard count. Current "
                                 "open shard count: " + std::to_string(current) +
                                 " Target shard count: " + std::to_string(target));
  }
  if (target * 2 < current) {
    throw errors::limit_exceeded("UpdateShardCount cannot scale down below half your current open shard count. "
                                 "Current open shard count: " + std::to_string(current) +
                                 " Target shard count: " + std::to_string(target));
  }
  if (target > current) {
    check_shard_limit(c, static_cast<int>(target) - current);
  }
  Value out = {{"StreamName", s.name}, {"CurrentShardCount", current}, {"TargetShardCount", target},
               {"StreamARN", s.arn()}};
  if (target == current) {
    return out;
  }
  // Close every open shard and open `target` evenly spread ones. Each new shard's parents are the
  // old shards its range overlaps (the first two in the shard's lineage fields; all of them in
  // GetRecords' ChildShards), so a consumer that waits for every parent reads each record once.
  std::vector<std::uint32_t> old;
  for (const auto& sh : s.shards) {
    if (sh.open()) {
      old.push_back(sh.index);
    }
  }
  std::sort(old.begin(), old.end(), [&](auto x, auto y) { return s.shards[x].range.start < s.shards[y].range.start; });
  for (auto i : old) {
    close_shard(s.shards[i], c.now_ms);
  }
  for (const auto& range : split_evenly(static_cast<int>(target))) {
    std::vector<std::uint32_t> parents;
    for (auto i : old) {
      const auto& r = s.shards[i].range;
      if (r.start <= range.end && range.start <= r.end) {
        parents.push_back(i);
      }
    }
    std::optional<std::uint32_t> parent = parents.empty() ? std::nullopt : std::optional(parents[0]);
    std::optional<std::uint32_t> adjacent = parents.size() > 1 ? std::optional(parents[1]) : std::nullopt;
    Shard& child = add_shard(s, range, c.now_ms, parent, adjacent);
    const std::uint32_t child_index = child.index;
    for (std::size_t p = 2; p < parents.size(); ++p) {
      s.shards[parents[p]].children.push_back(child_index);
    }
  }
  begin_transition(s, "UPDATING", c.now_ms);
  save(s);
  notify_watchers(s.id);  // subscribers of the closed shards reach their ends
  settle(key_of(s));
  return out;
}

}  // namespace fogbank::kinesis
