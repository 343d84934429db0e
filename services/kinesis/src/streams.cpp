// Stream lifecycle, description, listing and stream-wide settings.

#include <algorithm>

#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "persistence.hpp"

namespace fogbank::kinesis {

namespace {

constexpr int kOnDemandInitialShards = 4;
constexpr int kMinRetentionHours = 24;
constexpr int kMaxRetentionHours = 8760;
const std::vector<std::string> kAllMetrics = {"IncomingBytes",      "IncomingRecords",
                                              "OutgoingBytes",      "OutgoingRecords",
                                              "WriteProvisionedThroughputExceeded",
                                              "ReadProvisionedThroughputExceeded",
                                              "IteratorAgeMilliseconds"};

/// StreamId: 20 lower-case alphanumerics, a dash and three more (the model's pattern).
std::string new_stream_id() {
  const std::string raw = protocol::hex(protocol::random_bytes(12, protocol::Randomness::kIdentifier));
  return raw.substr(0, 20) + "-" + raw.substr(20, 3);
}

std::int64_t int_of(const Value& in, const char* name, std::int64_t fallback) {
  auto it = in.find(name);
  return it != in.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

Value monitoring_value(const Stream& s) {
  return Value::array({{{"ShardLevelMetrics", s.metrics}}});
}

}  // namespace

Value KinesisEngine::create_stream(const Value& in, const Caller& c) {
  const std::string name = string_of(in, "StreamName");
  std::string mode = "PROVISIONED";
  if (auto it = in.find("StreamModeDetails"); it != in.end() && it->is_object()) {
    mode = string_of(*it, "StreamMode");
  }
  const bool has_count = in.contains("ShardCount") && in["ShardCount"].is_number_integer();
  if (mode == "PROVISIONED" && !has_count) {
    throw errors::invalid_argument("ShardCount must be specified for a stream in PROVISIONED mode.");
  }
  const int shards = mode == "ON_DEMAND" ? kOnDemandInitialShards : static_cast<int>(int_of(in, "ShardCount", 1));
  if (shards > 100000) {
    throw errors::validation("1 validation error detected: Value '" + std::to_string(shards) +
                             "' at 'shardCount' failed to satisfy constraint: Member must have value less than or "
                             "equal to 100000");
  }
  std::lock_guard lock(mu_);
  const auto key = persist::stream_key(c.account, c.region, name);
  if (streams_.contains(key)) {
    throw errors::in_use("Stream " + name + " under account " + c.account + " already exists.");
  }
  if (mode == "ON_DEMAND") {
    int on_demand = 0;
    for (const auto& [k, s] : streams_) {
      on_demand += s.account == c.account && s.region == c.region && s.mode == "ON_DEMAND" ? 1 : 0;
    }
    if (on_demand >= options_.on_demand_stream_limit) {
      throw errors::limit_exceeded("This request would exceed the on-demand stream limit for the account " +
                                   c.account + " in " + c.region + ". Limit: " +
                                   std::to_string(options_.on_demand_stream_limit) + ".");
    }
  }
  check_transition_limit(c);
  check_shard_limit(c, shards);
  Stream s;
  s.account = c.account;
  s.region = c.region;
  s.name = name;
  s.id = new_stream_id();
  s.created_ms = c.now_ms;
  s.mode = mode;
  if (auto it = in.find("Tags"); it != in.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      s.tags[k] = v.get<std::string>();
    }
  }
  if (auto warm = int_of(in, "WarmThroughputMiBps", 0); warm > 0) {
    s.warm_throughput_mibps = warm;
  }
  s.max_record_kib = int_of(in, "MaxRecordSizeInKiB", 1024);
  for (const auto& range : split_evenly(shards)) {
    add_shard(s, range, c.now_ms, std::nullopt, std::nullopt);
  }
  begin_transition(s, "CREATING", c.now_ms);
  save(s);
  streams_.emplace(key, std::move(s));
  settle(key);
  return Value::object();
}

void KinesisEngine::check_transition_limit(const Caller& c) const {
  int in_transition = 0;
  for (const auto& [key, s] : streams_) {
    in_transition +=
        s.account == c.account && s.region == c.region && (s.status == "CREATING" || s.status == "DELETING") ? 1 : 0;
  }
  if (in_transition >= kMaxStreamsInTransition) {
    // AWS's wording, its grammar included.
    throw errors::limit_exceeded("This request would have exceed the limit on the number of streams that can "
                                 "simultaneously be in CREATING or DELETING for the account " + c.account +
                                 ". Limit: " + std::to_string(kMaxStreamsInTransition) + ".");
  }
}

Value KinesisEngine::delete_stream(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = find_stream(in, c);
  if (s.status == "CREATING" || s.status == "DELETING") {
    throw errors::in_use("Stream " + s.name + " under account " + s.account + " not ACTIVE, instead in state " +
                         s.status);
  }
  const bool enforce = in.value("EnforceConsumerDeletion", false);
  if (!s.consumers.empty() && !enforce) {
    throw errors::in_use("Stream " + s.name + " under account " + s.account +
                         " has registered consumers. Deregister them first, or set EnforceConsumerDeletion.");
  }
  check_transition_limit(c);
  begin_transition(s, "DELETING", c.now_ms);
  save(s);
  settle(key_of(s));
  return Value::object();
}

Value KinesisEngine::describe_stream(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = find_stream(in, c);
  const auto limit = static_cast<std::size_t>(int_of(in, "Limit", 100));
  std::size_t first = 0;
  if (auto start = string_of(in, "ExclusiveStartShardId"); !start.empty()) {
    auto index = shard_index_of(start);
    first = index ? std::min<std::size_t>(*index + 1, s.shards.size()) : s.shards.size();
  }
  const std::int64_t retention_ms = static_cast<std::int64_t>(s.retention_hours) * 3'600'000;
  Value shards = Value::array();
  std::size_t i = first;
  for (; i < s.shards.size() && shards.size() < limit; ++i) {
    if (s.shards[i].retained(c.now_ms, retention_ms)) {
      shards.push_back(shard_value(s.shards[i]));
    }
  }
  while (i < s.shards.size() && !s.shards[i].retained(c.now_ms, retention_ms)) {
    ++i;  // HasMoreShards counts listed shards only
  }
  Value d = {{"StreamName", s.name},
             {"StreamARN", s.arn()},
             {"StreamStatus", s.status},
             {"StreamModeDetails", {{"StreamMode", s.mode}}},
             {"Shards", std::move(shards)},
             {"HasMoreShards", i < s.shards.size()},
             {"RetentionPeriodHours", s.retention_hours},
             {"StreamCreationTimestamp", to_timestamp(s.created_ms)},
             {"EnhancedMonitoring", monitoring_value(s)},
             {"EncryptionType", s.encryption}};
  if (!s.key_id.empty()) {
    d["KeyId"] = s.key_id;
  }
  return {{"StreamDescription", std::move(d)}};
}

Value KinesisEngine::describe_stream_summary(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = find_stream(in, c);
  int consumers = 0;
  for (const auto& cons : s.consumers) {
    consumers += cons.status != "DELETING" ? 1 : 0;
  }
  Value d = {{"StreamName", s.name},
             {"StreamARN", s.arn()},
             {"StreamId", s.id},
             {"StreamStatus", s.status},
             {"StreamModeDetails", {{"StreamMode", s.mode}}},
             {"RetentionPeriodHours", s.retention_hours},
             {"StreamCreationTimestamp", to_timestamp(s.created_ms)},
             {"EnhancedMonitoring", monitoring_value(s)},
             {"EncryptionType", s.encryption},
             {"OpenShardCount", s.open_shard_count()},
             {"ConsumerCount", consumers},
             {"MaxRecordSizeInKiB", s.max_record_kib}};
  if (!s.key_id.empty()) {
    d["KeyId"] = s.key_id;
  }
  if (s.mode == "ON_DEMAND" || s.warm_throughput_mibps > 0) {
    d["WarmThroughput"] = {{"TargetMiBps", s.warm_throughput_mibps}, {"CurrentMiBps", s.warm_throughput_mibps}};
  }
  return {{"StreamDescriptionSummary", std::move(d)}};
}

Value KinesisEngine::list_streams(const Value& in, const Caller& c) {
  std::string after = string_of(in, "ExclusiveStartStreamName");
  if (auto token = string_of(in, "NextToken"); !token.empty()) {
    // Our NextToken is the base64 of the last name listed (opaque to clients).
    auto decoded = protocol::base64_decode(token);
    if (!decoded || decoded->empty()) {
      throw errors::invalid_argument("Invalid NextToken.");
    }
    after = *decoded;
  }
  const auto limit = static_cast<std::size_t>(int_of(in, "Limit", 100));
  std::lock_guard lock(mu_);
  Value names = Value::array();
  Value summaries = Value::array();
  bool more = false;
  // streams_ is ordered by (account, region, name): this account's streams are one run of it.
  for (auto it = streams_.lower_bound(persist::stream_key(c.account, c.region, after)); it != streams_.end(); ++it) {
    const Stream& s = it->second;
    if (s.account != c.account || s.region != c.region) {
      break;
    }
    if (s.name <= after && !after.empty()) {
      continue;
    }
    if (names.size() >= limit) {
      more = true;
      break;
    }
    names.push_back(s.name);
    summaries.push_back(summary_value(s));
  }
  Value out = {{"StreamNames", names}, {"HasMoreStreams", more}, {"StreamSummaries", std::move(summaries)}};
  if (more && !names.empty()) {
    out["NextToken"] = protocol::base64_encode(names.back().get<std::string>());
  }
  return out;
}

Value KinesisEngine::update_stream_mode(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  const std::string mode = string_of(in.value("StreamModeDetails", Value::object()), "StreamMode");
  if (mode == s.mode) {
    throw errors::invalid_argument("Stream " + s.name + " under account " + s.account + " is already in " + mode +
                                   " mode.");
  }
  s.mode = mode;
  if (auto warm = int_of(in, "WarmThroughputMiBps", 0); warm > 0) {
    s.warm_throughput_mibps = warm;
  }
  begin_transition(s, "UPDATING", c.now_ms);
  save(s);
  settle(key_of(s));
  return Value::object();
}

Value KinesisEngine::increase_retention(const Value& in, const Caller& c) {
  return change_retention(in, c, true);
}

Value KinesisEngine::decrease_retention(const Value& in, const Caller& c) {
  return change_retention(in, c, false);
}

Value KinesisEngine::change_retention(const Value& in, const Caller& c, bool increase) {
  const auto hours = int_of(in, "RetentionPeriodHours", 0);
  std::lock_guard lock(mu_);
  Stream& s = find_stream(in, c);
  if (hours < kMinRetentionHours) {
    throw errors::invalid_argument("Minimum allowed retention period is " + std::to_string(kMinRetentionHours) +
                                   " hours. Requested retention period (" + std::to_string(hours) +
                                   " hours) is too short.");
  }
  if (hours > kMaxRetentionHours) {
    throw errors::invalid_argument("Maximum allowed retention period is " + std::to_string(kMaxRetentionHours) +
                                   " hours. Requested retention period (" + std::to_string(hours) +
                                   " hours) is too long.");
  }
  if (increase ? hours < s.retention_hours : hours > s.retention_hours) {
    throw errors::invalid_argument("Requested retention period (" + std::to_string(hours) + " hours) for stream " +
                                   s.name + " can not be " + (increase ? "shorter" : "longer") +
                                   " than existing retention period (" + std::to_string(s.retention_hours) +
                                   " hours). Use " + (increase ? "Decrease" : "Increase") + "RetentionPeriod API.");
  }
  if (s.status != "ACTIVE") {
    throw errors::in_use("Stream " + s.name + " under account " + s.account + " not ACTIVE, instead in state " +
                         s.status);
  }
  s.retention_hours = static_cast<int>(hours);
  save(s);
  return Value::object();
}

Value KinesisEngine::start_encryption(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  const std::string type = string_of(in, "EncryptionType");
  if (type != "KMS") {
    throw errors::invalid_argument("Invalid EncryptionType " + type + ". The only supported type is KMS.");
  }
  s.encryption = "KMS";
  s.key_id = string_of(in, "KeyId");
  begin_transition(s, "UPDATING", c.now_ms);
  save(s);
  settle(key_of(s));
  return Value::object();
}

Value KinesisEngine::stop_encryption(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  s.encryption = "NONE";
  s.key_id.clear();
  begin_transition(s, "UPDATING", c.now_ms);
  save(s);
  settle(key_of(s));
  return Value::object();
}

namespace {

std::vector<std::string> requested_metrics(const Value& in) {
  std::vector<std::string> out;
  for (const auto& m : in.value("ShardLevelMetrics", Value::array())) {
    const auto name = m.get<std::string>();
    if (name == "ALL") {
      return kAllMetrics;
    }
    out.push_back(name);
  }
  return out;
}

Value monitoring_output(const Stream& s, const std::vector<std::string>& before) {
  return {{"StreamName", s.name},
          {"StreamARN", s.arn()},
          {"CurrentShardLevelMetrics", before},
          {"DesiredShardLevelMetrics", s.metrics}};
}

}  // namespace

Value KinesisEngine::enable_monitoring(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  const auto before = s.metrics;
  for (const auto& m : requested_metrics(in)) {
    if (std::find(s.metrics.begin(), s.metrics.end(), m) == s.metrics.end()) {
      s.metrics.push_back(m);
    }
  }
  // Kept in AWS's order of the metric names, whatever order they were enabled in.
  std::vector<std::string> ordered;
  for (const auto& m : kAllMetrics) {
    if (std::find(s.metrics.begin(), s.metrics.end(), m) != s.metrics.end()) {
      ordered.push_back(m);
    }
  }
  s.metrics = std::move(ordered);
  save(s);
  return monitoring_output(s, before);
}

Value KinesisEngine::disable_monitoring(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  const auto before = s.metrics;
  for (const auto& m : requested_metrics(in)) {
    s.metrics.erase(std::remove(s.metrics.begin(), s.metrics.end(), m), s.metrics.end());
  }
  save(s);
  return monitoring_output(s, before);
}

Value KinesisEngine::update_warm_throughput(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  if (s.mode != "ON_DEMAND") {
    throw errors::invalid_argument("Warm throughput can only be set on a stream in ON_DEMAND mode.");
  }
  s.warm_throughput_mibps = int_of(in, "WarmThroughputMiBps", 0);
  save(s);
  return {{"StreamARN", s.arn()},
          {"StreamName", s.name},
          {"WarmThroughput", {{"TargetMiBps", s.warm_throughput_mibps}, {"CurrentMiBps", s.warm_throughput_mibps}}}};
}

Value KinesisEngine::update_max_record_size(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = active_stream(in, c);
  s.max_record_kib = int_of(in, "MaxRecordSizeInKiB", 1024);
  save(s);
  return Value::object();
}

}  // namespace fogbank::kinesis
