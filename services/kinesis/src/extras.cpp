// Tags, enhanced fan-out consumers, resource policies, limits and account settings.

#include <algorithm>

#include <nlohmann/json.hpp>

#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/store.hpp"
#include "persistence.hpp"

namespace fogbank::kinesis {

namespace {

constexpr std::size_t kMaxTagsPerStream = 50;

std::int64_t int_of(const Value& in, const char* name, std::int64_t fallback) {
  auto it = in.find(name);
  return it != in.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

Value tag_list(const std::map<std::string, std::string>& tags) {
  Value list = Value::array();
  for (const auto& [k, v] : tags) {
    list.push_back({{"Key", k}, {"Value", v}});
  }
  return list;
}

Value consumer_value(const Consumer& c) {
  return {{"ConsumerName", c.name},
          {"ConsumerARN", c.arn},
          {"ConsumerStatus", c.status},
          {"ConsumerCreationTimestamp", to_timestamp(c.created_ms)}};
}

}  // namespace

// --- stream tags ----------------------------------------------------------------------------------

Value KinesisEngine::add_tags_to_stream(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = find_stream(in, c);
  auto tags = s.tags;
  for (const auto& [k, v] : in.at("Tags").items()) {
    tags[k] = v.get<std::string>();
  }
  if (tags.size() > kMaxTagsPerStream) {
    throw errors::invalid_argument("Failed to add tags to stream " + s.name + " under account " + s.account +
                                   " because a given stream cannot have more than 50 tags.");
  }
  s.tags = std::move(tags);
  save(s);
  return Value::object();
}

Value KinesisEngine::remove_tags_from_stream(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = find_stream(in, c);
  for (const auto& k : in.at("TagKeys")) {
    s.tags.erase(k.get<std::string>());
  }
  save(s);
  return Value::object();
}

Value KinesisEngine::list_tags_for_stream(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream& s = find_stream(in, c);
  const std::string after = string_of(in, "ExclusiveStartTagKey");
  const auto limit = static_cast<std::size_t>(int_of(in, "Limit", 50));
  Value tags = Value::array();
  bool more = false;
  for (auto it = after.empty() ? s.tags.begin() : s.tags.upper_bound(after); it != s.tags.end(); ++it) {
    if (tags.size() >= limit) {
      more = true;
      break;
    }
    tags.push_back({{"Key", it->first}, {"Value", it->second}});
  }
  return {{"Tags", std::move(tags)}, {"HasMoreTags", more}};
}

// --- resource tags (streams and consumers by ARN) -------------------------------------------------

namespace {

/// The consumer part of a consumer ARN ("…:stream/s/consumer/name:123"), empty for a stream ARN.
std::string consumer_name_of(std::string_view arn) {
  auto pos = arn.find("/consumer/");
  if (pos == std::string_view::npos) {
    return {};
  }
  auto rest = arn.substr(pos + 10);
  return std::string(rest.substr(0, rest.find(':')));
}

}  // namespace

KinesisEngine::ResourceRef KinesisEngine::find_resource(const Value& in, const Caller& c) {
  ResourceRef ref;
  ref.arn = string_of(in, "ResourceARN");
  ref.stream = find_stream_by_arn(ref.arn, c);
  if (ref.stream == nullptr) {
    throw errors::invalid_argument("Invalid ResourceARN " + ref.arn + ".");
  }
  ref.tags = &ref.stream->tags;
  if (auto name = consumer_name_of(ref.arn); !name.empty()) {
    auto& consumers = ref.stream->consumers;
    auto it = std::find_if(consumers.begin(), consumers.end(), [&](const Consumer& k) { return k.arn == ref.arn; });
    if (it == consumers.end()) {
      throw protocol::AwsError("ResourceNotFoundException", 400,
                               "Consumer " + name + " under stream " + ref.stream->name + " under account " +
                                   ref.stream->account + " not found.");
    }
    ref.tags = &it->tags;
  }
  return ref;
}

Value KinesisEngine::tag_resource(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  auto ref = find_resource(in, c);
  Stream& s = *ref.stream;
  auto& tags = *ref.tags;
  auto updated = tags;
  for (const auto& [k, v] : in.at("Tags").items()) {
    updated[k] = v.get<std::string>();
  }
  if (updated.size() > kMaxTagsPerStream) {
    throw errors::invalid_argument("Failed to add tags to resource " + ref.arn +
                                   " because a given resource cannot have more than 50 tags.");
  }
  tags = std::move(updated);
  save(s);
  return Value::object();
}

Value KinesisEngine::untag_resource(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  auto ref = find_resource(in, c);
  Stream& s = *ref.stream;
  auto& tags = *ref.tags;
  for (const auto& k : in.at("TagKeys")) {
    tags.erase(k.get<std::string>());
  }
  save(s);
  return Value::object();
}

Value KinesisEngine::list_tags_for_resource(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  return {{"Tags", tag_list(*find_resource(in, c).tags)}};
}

// --- resource policies ----------------------------------------------------------------------------

Value KinesisEngine::put_resource_policy(const Value& in, const Caller& c) {
  const std::string policy = string_of(in, "Policy");
  auto doc = nlohmann::json::parse(policy, nullptr, false);
  if (!doc.is_object()) {
    throw errors::invalid_argument("Invalid policy document: it is not a JSON object.");
  }
  std::lock_guard lock(mu_);
  auto ref = find_resource(in, c);
  Stream& s = *ref.stream;
  s.policies[ref.arn] = policy;
  save(s);
  return Value::object();
}

Value KinesisEngine::get_resource_policy(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  auto ref = find_resource(in, c);
  Stream& s = *ref.stream;
  auto it = s.policies.find(ref.arn);
  return {{"Policy", it != s.policies.end() ? it->second : std::string("{}")}};
}

Value KinesisEngine::delete_resource_policy(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  auto ref = find_resource(in, c);
  Stream& s = *ref.stream;
  if (s.policies.erase(ref.arn) == 0) {
    throw protocol::AwsError("ResourceNotFoundException", 400, "No resource policy found for resource " + ref.arn + ".");
  }
  save(s);
  return Value::object();
}

// --- consumers ------------------------------------------------------------------------------------

Value KinesisEngine::register_consumer(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream* sp = find_stream_by_arn(string_of(in, "StreamARN"), c);
  if (sp == nullptr) {
    throw errors::invalid_argument("Invalid StreamARN " + string_of(in, "StreamARN") + ".");
  }
  Stream& s = *sp;
  if (s.status != "ACTIVE" && s.status != "UPDATING") {
    throw errors::in_use("Stream " + s.name + " under account " + s.account + " not ACTIVE, instead in state " +
                         s.status);
  }
  const std::string name = string_of(in, "ConsumerName");
  for (const auto& cons : s.consumers) {
    if (cons.name == name) {
      throw errors::in_use("Consumer " + name + " under stream " + s.name + " already exists for account " +
                           s.account + ".");
    }
  }
  if (s.consumers.size() >= static_cast<std::size_t>(options_.consumer_limit)) {
    throw errors::limit_exceeded("Stream " + s.name + " under account " + s.account + " has reached the limit of " +
                                 std::to_string(options_.consumer_limit) + " registered consumers.");
  }
  Consumer cons;
  cons.name = name;
  cons.created_ms = c.now_ms;
  cons.arn = s.arn() + "/consumer/" + name + ":" + std::to_string(c.now_ms / 1000);
  cons.status = "CREATING";
  if (auto it = in.find("Tags"); it != in.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      cons.tags[k] = v.get<std::string>();
    }
  }
  Value out = {{"Consumer", consumer_value(cons)}};
  s.consumers.push_back(std::move(cons));
  save(s);
  settle_consumer(key_of(s), name);
  return out;
}

namespace {

struct ConsumerRef {
  Stream* stream;
  Consumer* consumer;
};

/// The consumer named by its ARN, or else by its name, in `s`.
ConsumerRef find_consumer_in(Stream& s, const std::string& by_arn, const std::string& by_name) {
  for (auto& cons : s.consumers) {
    if ((!by_arn.empty() && cons.arn == by_arn) || (by_arn.empty() && cons.name == by_name)) {
      return {&s, &cons};
    }
  }
  const std::string shown = by_arn.empty() ? by_name : consumer_name_of(by_arn);
  throw protocol::AwsError("ResourceNotFoundException", 400,
                           "Consumer " + shown + " under stream " + s.name + " under account " + s.account +
                               " not found.");
}

}  // namespace

std::pair<Stream*, Consumer*> KinesisEngine::named_consumer(const Value& in, const Caller& c) {
  const std::string consumer_arn = string_of(in, "ConsumerARN");
  const std::string stream_arn = string_of(in, "StreamARN");
  const std::string name = string_of(in, "ConsumerName");
  if (consumer_arn.empty() && (stream_arn.empty() || name.empty())) {
    throw errors::invalid_argument("Either ConsumerARN or both ConsumerName and StreamARN must be provided.");
  }
  Stream* s = find_stream_by_arn(consumer_arn.empty() ? stream_arn : consumer_arn, c);
  if (s == nullptr) {
    throw errors::invalid_argument("Invalid ARN " + (consumer_arn.empty() ? stream_arn : consumer_arn) + ".");
  }
  auto ref = find_consumer_in(*s, consumer_arn, name);
  return {ref.stream, ref.consumer};
}

Value KinesisEngine::describe_consumer(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  auto [s, consumer] = named_consumer(in, c);
  Value d = consumer_value(*consumer);
  d["StreamARN"] = s->arn();
  return {{"ConsumerDescription", std::move(d)}};
}

Value KinesisEngine::list_consumers(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  Stream* s = find_stream_by_arn(string_of(in, "StreamARN"), c);
  if (s == nullptr) {
    throw errors::invalid_argument("Invalid StreamARN " + string_of(in, "StreamARN") + ".");
  }
  std::size_t first = 0;
  if (auto token = string_of(in, "NextToken"); !token.empty()) {
    auto raw = protocol::base64_decode(token);
    if (!raw || raw->empty() || raw->find_first_not_of("0123456789") != std::string::npos) {
      throw errors::invalid_argument("Invalid NextToken.");
    }
    first = std::stoul(*raw);
  }
  const auto limit = static_cast<std::size_t>(int_of(in, "MaxResults", 100));
  Value consumers = Value::array();
  std::size_t i = first;
  for (; i < s->consumers.size() && consumers.size() < limit; ++i) {
    consumers.push_back(consumer_value(s->consumers[i]));
  }
  Value out = {{"Consumers", std::move(consumers)}};
  if (i < s->consumers.size()) {
    out["NextToken"] = protocol::base64_encode(std::to_string(i));
  }
  return out;
}

Value KinesisEngine::deregister_consumer(const Value& in, const Caller& c) {
  std::lock_guard lock(mu_);
  auto [s, consumer] = named_consumer(in, c);
  consumer->status = "DELETING";
  const std::string consumer_name = consumer->name;
  save(*s);
  settle_consumer(key_of(*s), consumer_name);
  return Value::object();
}

// --- limits and account settings ------------------------------------------------------------------

Value KinesisEngine::describe_limits(const Value&, const Caller& c) {
  std::lock_guard lock(mu_);
  int on_demand = 0;
  for (const auto& [k, s] : streams_) {
    on_demand += s.account == c.account && s.region == c.region && s.mode == "ON_DEMAND" ? 1 : 0;
  }
  return {{"ShardLimit", options_.shard_limit},
          {"OpenShardCount", open_shards_in(c.account, c.region)},
          {"OnDemandStreamCount", on_demand},
          {"OnDemandStreamCountLimit", options_.on_demand_stream_limit}};
}

Value KinesisEngine::describe_account_settings(const Value&, const Caller& c) {
  std::lock_guard lock(mu_);
  auto it = account_settings_.find(persist::account_settings_key(c.account, c.region));
  Value commitment = {{"Status", "DISABLED"}};
  if (it != account_settings_.end()) {
    auto j = nlohmann::json::parse(it->second, nullptr, false);
    if (j.is_object()) {
      commitment = j;
    }
  }
  return {{"MinimumThroughputBillingCommitment", commitment}};
}

Value KinesisEngine::update_account_settings(const Value& in, const Caller& c) {
  const std::string status = string_of(in.at("MinimumThroughputBillingCommitment"), "Status");
  Value commitment = {{"Status", status}};
  if (status == "ENABLED") {
    commitment["StartedAt"] = to_timestamp(c.now_ms);
    // AWS's commitment lasts at least a day before it can be ended.
    commitment["EarliestAllowedEndAt"] = to_timestamp(c.now_ms + 86'400'000);
  } else {
    commitment["EndedAt"] = to_timestamp(c.now_ms);
  }
  std::lock_guard lock(mu_);
  const auto key = persist::account_settings_key(c.account, c.region);
  const std::string encoded = commitment.dump();
  if (auto st = store_.put(storage::Space::kKinesis, key, encoded); !st) {
    throw storage::StorageError("kinesis: " + st.message());
  }
  account_settings_[key] = encoded;
  return {{"MinimumThroughputBillingCommitment", commitment}};
}

}  // namespace fogbank::kinesis
