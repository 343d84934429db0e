#include "engine.hpp"

#include <algorithm>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/keys.hpp"
#include "object_names.hpp"

namespace fogbank::firehose {

namespace {

using protocol::AwsError;
using storage::KeyBuilder;
using storage::Space;

constexpr std::size_t kMaxBatchBytes = 4u << 20;
constexpr std::size_t kMaxTags = 50;
constexpr std::size_t kMaxDeliveries = 1000;
constexpr const char* kDestinationId = "destinationId-000000000001";
constexpr std::int64_t kDefaultSizeMb = 5;
constexpr std::int64_t kDefaultIntervalSeconds = 300;

// Keys: firehose / s / account / region / name → the stream (JSON);
//       firehose / b / account / region / name / n (u64) → one buffered record.
std::string stream_key(const StreamKey& k) { return KeyBuilder("firehose").str("s").str(k.account).str(k.region).str(k.name).key(); }
std::string buffer_prefix(const StreamKey& k) {
  return KeyBuilder("firehose").str("b").str(k.account).str(k.region).str(k.name).key();
}
std::string record_key(const StreamKey& k, std::uint64_t n) {
  return KeyBuilder("firehose").str("b").str(k.account).str(k.region).str(k.name).u64(n).key();
}

AwsError invalid_argument(std::string message) { return {"InvalidArgumentException", 400, std::move(message)}; }

AwsError not_found(const std::string& name, const std::string& account) {
  return {"ResourceNotFoundException", 400, "Firehose " + name + " under account " + account + " not found."};
}

StreamKey key_of(const DeliveryStream& s) { return {s.account, s.region, s.name}; }

Value encode(const DeliveryStream& s) {
  Value tags = Value::array();
  for (const auto& [k, v] : s.tags) {
    tags.push_back(Value::array({k, v}));
  }
  return Value{{"account", s.account},         {"region", s.region},       {"name", s.name},
               {"type", s.type},               {"status", s.status},       {"created", s.created_ms},
               {"updated", s.updated_ms},      {"version", s.version},     {"source", s.source},
               {"kind", s.destination_kind},   {"destination", s.destination}, {"tags", tags},
               {"encryption", s.encryption},   {"next", s.next_record},
               {"positions", s.source_positions}};
}

bool decode(std::string_view data, DeliveryStream& s) {
  auto j = Value::parse(data, nullptr, false);
  if (!j.is_object()) {
    return false;
  }
  try {
    s.account = j.at("account").get<std::string>();
    s.region = j.at("region").get<std::string>();
    s.name = j.at("name").get<std::string>();
    s.type = j.at("type").get<std::string>();
    s.status = j.at("status").get<std::string>();
    s.created_ms = j.at("created").get<std::int64_t>();
    s.updated_ms = j.at("updated").get<std::int64_t>();
    s.version = j.at("version").get<int>();
    s.source = j.at("source");
    s.destination_kind = j.at("kind").get<std::string>();
    s.destination = j.at("destination");
    for (const auto& t : j.at("tags")) {
      s.tags.emplace_back(t.at(0).get<std::string>(), t.at(1).get<std::string>());
    }
    s.encryption = j.at("encryption");
    s.next_record = j.at("next").get<std::uint64_t>();
    s.source_positions = j.value("positions", std::map<std::string, std::string>{});
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return true;
}

/// The destination configurations CreateDeliveryStream takes, by the kind their description uses.
constexpr std::pair<const char*, const char*> kDestinations[] = {
    {"ExtendedS3DestinationConfiguration", "ExtendedS3"},
    {"S3DestinationConfiguration", "S3"},
    {"RedshiftDestinationConfiguration", "Redshift"},
    {"ElasticsearchDestinationConfiguration", "Elasticsearch"},
    {"AmazonopensearchserviceDestinationConfiguration", "Amazonopensearchservice"},
    {"AmazonOpenSearchServerlessDestinationConfiguration", "AmazonOpenSearchServerless"},
    {"SplunkDestinationConfiguration", "Splunk"},
    {"HttpEndpointDestinationConfiguration", "HttpEndpoint"},
    {"SnowflakeDestinationConfiguration", "Snowflake"},
    {"IcebergDestinationConfiguration", "Iceberg"},
};

/// An S3 destination as DescribeDeliveryStream shows it: AWS fills in its defaults.
Value s3_description(Value config) {
  if (!config.contains("BufferingHints")) {
    config["BufferingHints"] = Value::object();
  }
  auto& hints = config["BufferingHints"];
  if (!hints.contains("SizeInMBs")) {
    hints["SizeInMBs"] = kDefaultSizeMb;
  }
  if (!hints.contains("IntervalInSeconds")) {
    hints["IntervalInSeconds"] = kDefaultIntervalSeconds;
  }
  if (!config.contains("CompressionFormat")) {
    config["CompressionFormat"] = "UNCOMPRESSED";
  }
  if (!config.contains("EncryptionConfiguration")) {
    config["EncryptionConfiguration"] = Value{{"NoEncryptionConfig", "NoEncryption"}};
  }
  if (!config.contains("CloudWatchLoggingOptions")) {
    config["CloudWatchLoggingOptions"] = Value{{"Enabled", false}};
  }
  return config;
}

void check_s3_destination(const Value& config) {
  const std::string bucket_arn = config.value("BucketARN", "");
  if (!bucket_arn.starts_with("arn:aws:s3:::") || bucket_arn.size() <= 13) {
    throw invalid_argument("BucketARN " + bucket_arn + " is not a valid S3 bucket ARN.");
  }
  if (!valid_prefix(config.value("Prefix", ""), false)) {
    throw invalid_argument("The Prefix \"" + config.value("Prefix", "") + "\" has an invalid expression.");
  }
  if (!valid_prefix(config.value("ErrorOutputPrefix", ""), true)) {
    throw invalid_argument("The ErrorOutputPrefix \"" + config.value("ErrorOutputPrefix", "") +
                           "\" has an invalid expression.");
  }
  const std::string prefix = config.value("Prefix", "");
  if (prefix.find("!{") != std::string::npos && !config.contains("ErrorOutputPrefix")) {
    throw invalid_argument("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.");
  }
}

/// Secrets a description never shows (Redshift's password, Splunk's token, an endpoint's key).
Value without_secrets(Value config) {
  for (const char* secret : {"Password", "HECToken", "PrivateKey", "KeyPassphrase"}) {
    config.erase(secret);
  }
  if (config.contains("EndpointConfiguration") && config["EndpointConfiguration"].is_object()) {
    config["EndpointConfiguration"].erase("AccessKey");
  }
  return config;
}

std::string record_id() { return protocol::hex(protocol::random_bytes(56, protocol::Randomness::kIdentifier)); }

std::string blob_of(const Value& v) {
  if (v.is_binary()) {
    return {v.get_binary().begin(), v.get_binary().end()};
  }
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace

FirehoseEngine::FirehoseEngine(storage::Store& store, protocol::Scheduler& scheduler,
                               std::shared_ptr<s3::ObjectWriter> s3, std::shared_ptr<kinesis::StreamReader> kinesis,
                               FirehoseOptions options)
    : store_(store), scheduler_(scheduler), s3_(std::move(s3)), kinesis_(std::move(kinesis)), options_(options) {}

void FirehoseEngine::load() {
  std::vector<std::pair<StreamKey, std::int64_t>> due;
  std::vector<std::pair<StreamKey, std::string>> transitions;
  {
    std::lock_guard lock(mutex_);
    streams_.clear();
    buffers_.clear();
    for (auto c = store_.scan_prefix(Space::kKinesis, KeyBuilder("firehose").str("s").key()); c.valid(); c.next()) {
      DeliveryStream s;
      if (decode(c.value(), s)) {
        auto key = key_of(s);
        if (s.status == "CREATING" || s.status == "DELETING") {
          transitions.emplace_back(key, s.status);
        }
        streams_.emplace(std::move(key), std::move(s));
      }
    }
    const std::int64_t now = scheduler_.clock().now_ms();
    for (auto& [key, s] : streams_) {
      Buffer b;
      for (auto c = store_.scan_prefix(Space::kKinesis, buffer_prefix(key)); c.valid(); c.next()) {
        b.bytes += c.value().size();
        ++b.records;
      }
      if (b.records > 0) {
        // Arrival times are not kept: what a restart finds waits one more interval at most.
        b.first_ms = now;
        due.emplace_back(key, now + interval_ms(s));
      }
      buffers_[key] = b;
    }
  }
  for (const auto& [key, at] : due) {
    arm(key, at);
  }
  for (const auto& [key, from] : transitions) {
    finish_transition(key, from);
  }
  std::vector<StreamKey> sourced;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, s] : streams_) {
      if (s.type == "KinesisStreamAsSource" && s.status == "ACTIVE") {
        sourced.push_back(key);
      }
    }
  }
  for (const auto& key : sourced) {
    schedule_poll(key, 0);
  }
}

void FirehoseEngine::reset() {
  std::vector<protocol::Scheduler::TimerId> timers;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, b] : buffers_) {
      if (b.timer) {
        timers.push_back(*b.timer);
      }
    }
    streams_.clear();
    buffers_.clear();
    deliveries_.clear();
  }
  for (auto id : timers) {
    scheduler_.cancel(id);
  }
}

void FirehoseEngine::shutdown() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
}

void FirehoseEngine::persist(storage::Batch& batch, const DeliveryStream& s) {
  batch.put(Space::kKinesis, stream_key(key_of(s)), encode(s).dump());
}

void FirehoseEngine::commit(storage::Batch& batch) {
  if (auto st = store_.write(batch); !st) {
    throw storage::StorageError("firehose: commit failed: " + st.message());
  }
}

DeliveryStream& FirehoseEngine::require(const Caller& c, const Value& in) {
  const std::string name = in.value("DeliveryStreamName", "");
  auto it = streams_.find({c.account, c.region, name});
  if (it == streams_.end()) {
    throw not_found(name, c.account);
  }
  return it->second;
}

std::int64_t FirehoseEngine::interval_ms(const DeliveryStream& s) const {
  const auto& hints = s.destination.contains("BufferingHints") ? s.destination["BufferingHints"] : Value::object();
  return hints.value("IntervalInSeconds", kDefaultIntervalSeconds) * 1000;
}

std::uint64_t FirehoseEngine::size_limit(const DeliveryStream& s) const {
  const auto& hints = s.destination.contains("BufferingHints") ? s.destination["BufferingHints"] : Value::object();
  return static_cast<std::uint64_t>(hints.value("SizeInMBs", kDefaultSizeMb)) << 20;
}

void FirehoseEngine::finish_transition(const StreamKey& key, const std::string& from) {
  auto done = [weak = weak_from_this(), key, from] {
    auto self = weak.lock();
    if (!self) {
      return;
    }
    std::lock_guard lock(self->mutex_);
    auto it = self->streams_.find(key);
    if (it == self->streams_.end() || it->second.status != from) {
      return;
    }
    storage::Batch batch;
    if (from == "DELETING") {
      batch.del(Space::kKinesis, stream_key(key));
      for (auto c = self->store_.scan_prefix(Space::kKinesis, buffer_prefix(key)); c.valid(); c.next()) {
        batch.del(Space::kKinesis, c.key());
      }
      self->streams_.erase(it);
      self->buffers_.erase(key);
    } else {
      it->second.status = "ACTIVE";
      self->persist(batch, it->second);
      if (it->second.type == "KinesisStreamAsSource") {
        self->schedule_poll(key, 0);
      }
    }
    (void)self->store_.write(batch);  // a failure leaves the transition to the next start
  };
  if (options_.transition_delay_ms <= 0) {
    done();
  } else {
    scheduler_.after(options_.transition_delay_ms, std::move(done));
  }
}

Value FirehoseEngine::create_delivery_stream(const Value& in, const Caller& c) {
  const std::string name = in.value("DeliveryStreamName", "");
  const std::string type = in.value("DeliveryStreamType", "DirectPut");
  const Value* destination = nullptr;
  std::string kind;
  for (const auto& [member, k] : kDestinations) {
    if (in.contains(member)) {
      if (destination != nullptr) {
        throw invalid_argument("Exactly one destination configuration is supported for a Firehose");
      }
      destination = &in[member];
      kind = k;
    }
  }
  if (destination == nullptr) {
    throw invalid_argument("Exactly one destination configuration is supported for a Firehose");
  }
  if (type == "KinesisStreamAsSource" && !in.contains("KinesisStreamSourceConfiguration")) {
    throw invalid_argument("KinesisSourceStreamConfig is required for KinesisStreamAsSource stream type.");
  }
  if (type != "KinesisStreamAsSource" && in.contains("KinesisStreamSourceConfiguration")) {
    throw invalid_argument("KinesisSourceStreamConfig is only applicable for KinesisStreamAsSource stream type.");
  }
  DeliveryStream s;
  s.account = c.account;
  s.region = c.region;
  s.name = name;
  s.type = type;
  s.status = options_.transition_delay_ms > 0 ? "CREATING" : "ACTIVE";
  s.created_ms = s.updated_ms = c.now_ms;
  s.destination_kind = kind;
  if (kind == "ExtendedS3" || kind == "S3") {
    check_s3_destination(*destination);
    s.destination = s3_description(*destination);
  } else {
    s.destination = without_secrets(*destination);
  }
  if (in.contains("KinesisStreamSourceConfiguration")) {
    s.source = in["KinesisStreamSourceConfiguration"];
    s.source["DeliveryStartTimestamp"] = static_cast<double>(c.now_ms) / 1000.0;
  } else if (in.contains("MSKSourceConfiguration")) {
    s.source = in["MSKSourceConfiguration"];
  }
  if (in.contains("DeliveryStreamEncryptionConfigurationInput")) {
    const auto& e = in["DeliveryStreamEncryptionConfigurationInput"];
    s.encryption = Value{{"KeyType", e.value("KeyType", "AWS_OWNED_CMK")}, {"Status", "ENABLED"}};
    if (e.contains("KeyARN")) {
      s.encryption["KeyARN"] = e["KeyARN"];
    }
  }
  if (in.contains("Tags")) {
    if (in["Tags"].size() > kMaxTags) {
      throw invalid_argument("Firehose " + name + " cannot have more than 50 tags.");
    }
    for (const auto& t : in["Tags"]) {
      s.tags.emplace_back(t.value("Key", ""), t.value("Value", ""));
    }
  }
  const StreamKey key = key_of(s);
  {
    std::lock_guard lock(mutex_);
    if (streams_.count(key) != 0) {
      throw AwsError("ResourceInUseException", 400,
                     "Firehose " + name + " under accountId " + c.account + " already exists");
    }
    storage::Batch batch;
    persist(batch, s);
    commit(batch);
    streams_.emplace(key, s);
    buffers_[key] = Buffer{};
  }
  if (s.status == "CREATING") {
    finish_transition(key, "CREATING");
  } else if (s.type == "KinesisStreamAsSource") {
    schedule_poll(key, 0);
  }
  return Value{{"DeliveryStreamARN", s.arn()}};
}

Value FirehoseEngine::delete_delivery_stream(const Value& in, const Caller& c) {
  StreamKey key;
  std::optional<protocol::Scheduler::TimerId> timer;
  {
    std::lock_guard lock(mutex_);
    DeliveryStream& s = require(c, in);
    key = key_of(s);
    if (s.status == "DELETING") {
      return Value::object();
    }
    s.status = "DELETING";
    storage::Batch batch;
    persist(batch, s);
    commit(batch);
    timer = buffers_[key].timer;
    buffers_[key].timer.reset();
    buffers_[key].armed = false;
  }
  if (timer) {
    scheduler_.cancel(*timer);
  }
  finish_transition(key, "DELETING");
  return Value::object();
}

Value FirehoseEngine::describe_delivery_stream(const Value& in, const Caller& c) {
  std::lock_guard lock(mutex_);
  const DeliveryStream& s = require(c, in);
  Value d{{"DeliveryStreamName", s.name},
          {"DeliveryStreamARN", s.arn()},
          {"DeliveryStreamStatus", s.status},
          {"DeliveryStreamType", s.type},
          {"VersionId", std::to_string(s.version)},
          {"CreateTimestamp", static_cast<double>(s.created_ms) / 1000.0},
          {"HasMoreDestinations", false}};
  if (s.version > 1) {
    d["LastUpdateTimestamp"] = static_cast<double>(s.updated_ms) / 1000.0;
  }
  if (!s.encryption.is_null()) {
    d["DeliveryStreamEncryptionConfiguration"] = s.encryption;
  }
  if (s.type == "KinesisStreamAsSource") {
    d["Source"] = Value{{"KinesisStreamSourceDescription", s.source}};
  } else if (s.type == "MSKAsSource") {
    d["Source"] = Value{{"MSKSourceDescription", s.source}};
  }
  Value destination{{"DestinationId", kDestinationId}};
  if (s.s3()) {
    // AWS describes an S3 destination both ways, whichever configuration created it.
    destination["ExtendedS3DestinationDescription"] = s.destination;
    Value plain = s.destination;
    for (const char* extended : {"ProcessingConfiguration", "S3BackupMode", "S3BackupConfiguration",
                                 "DataFormatConversionConfiguration", "DynamicPartitioningConfiguration",
                                 "FileExtension", "CustomTimeZone"}) {
      plain.erase(extended);
    }
    destination["S3DestinationDescription"] = plain;
  } else {
    destination[s.destination_kind + "DestinationDescription"] = s.destination;
  }
  d["Destinations"] = Value::array({destination});
  return Value{{"DeliveryStreamDescription", std::move(d)}};
}

Value FirehoseEngine::list_delivery_streams(const Value& in, const Caller& c) {
  const std::size_t limit = in.value("Limit", 10);
  const std::string type = in.value("DeliveryStreamType", "");
  const std::string start = in.value("ExclusiveStartDeliveryStreamName", "");
  std::lock_guard lock(mutex_);
  Value names = Value::array();
  bool more = false;
  for (auto it = streams_.upper_bound({c.account, c.region, start}); it != streams_.end(); ++it) {
    if (it->first.account != c.account || it->first.region != c.region) {
      break;
    }
    if (!type.empty() && it->second.type != type) {
      continue;
    }
    if (names.size() == limit) {
      more = true;
      break;
    }
    names.push_back(it->first.name);
  }
  return Value{{"DeliveryStreamNames", std::move(names)}, {"HasMoreDeliveryStreams", more}};
}

Value FirehoseEngine::update_destination(const Value& in, const Caller& c) {
  std::lock_guard lock(mutex_);
  DeliveryStream& s = require(c, in);
  if (in.value("CurrentDeliveryStreamVersionId", "") != std::to_string(s.version)) {
    throw AwsError("ConcurrentModificationException", 400,
                   "Cannot update firehose: " + s.name +
                       " since the current version id: " + std::to_string(s.version) +
                       " and specified version id: " + in.value("CurrentDeliveryStreamVersionId", "") +
                       " do not match");
  }
  if (in.value("DestinationId", "") != kDestinationId) {
    throw invalid_argument("Destination Id " + in.value("DestinationId", "") + " not found");
  }
  const Value* update = nullptr;
  std::string kind;
  for (const auto& [member, k] : kDestinations) {
    std::string name = member;
    name.replace(name.find("Configuration"), std::string("Configuration").size(), "Update");
    if (in.contains(name)) {
      update = &in[name];
      kind = k;
    }
  }
  if (update == nullptr) {
    throw invalid_argument("At least one destination update is required.");
  }
  DeliveryStream next = s;
  if ((kind == "ExtendedS3" || kind == "S3") && next.s3()) {
    Value merged = next.destination;
    merged.merge_patch(*update);
    check_s3_destination(merged);
    next.destination = s3_description(merged);
  } else if (kind == next.destination_kind) {
    next.destination.merge_patch(without_secrets(*update));
  } else {
    // Switching to another destination type replaces the configuration.
    next.destination_kind = kind;
    next.destination = kind == "ExtendedS3" || kind == "S3" ? s3_description(*update) : without_secrets(*update);
    if (next.s3()) {
      check_s3_destination(next.destination);
    }
  }
  ++next.version;
  next.updated_ms = c.now_ms;
  storage::Batch batch;
  persist(batch, next);
  commit(batch);
  s = std::move(next);
  return Value::object();
}

std::vector<std::string> FirehoseEngine::append(DeliveryStream& s, const std::vector<std::string>& records,
                                                std::int64_t now_ms, const std::map<std::string, std::string>* positions) {
  storage::Batch batch;
  const StreamKey key = key_of(s);
  DeliveryStream next = s;
  for (const auto& r : records) {
    batch.put(Space::kKinesis, record_key(key, next.next_record++), r);
  }
  if (positions != nullptr) {
    next.source_positions = *positions;  // read and buffered in one commit: nothing twice, nothing lost
  }
  persist(batch, next);
  commit(batch);
  s = std::move(next);
  Buffer& b = buffers_[key];
  const bool was_empty = b.records == 0;
  for (const auto& r : records) {
    b.bytes += r.size();
    ++b.records;
  }
  if (was_empty) {
    b.first_ms = now_ms;
  }
  std::vector<std::string> ids;
  ids.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    ids.push_back(record_id());
  }
  return ids;
}

void FirehoseEngine::arm(const StreamKey& key, std::int64_t due_ms) {
  std::uint64_t mine = 0;
  {
    std::lock_guard lock(mutex_);
    Buffer& b = buffers_[key];
    b.armed = true;
    b.timer.reset();
    mine = ++b.arm_count;
  }
  // The timer may fire before at() returns (a due time already past): the count tells the
  // callback and the bookkeeping below which arming they belong to.
  auto id = scheduler_.at(due_ms, [weak = weak_from_this(), key, mine] {
    auto self = weak.lock();
    if (!self) {
      return;
    }
    {
      std::lock_guard lock(self->mutex_);
      Buffer& b = self->buffers_[key];
      if (self->stopped_ || b.arm_count != mine || !b.armed) {
        return;
      }
      b.armed = false;
      b.timer.reset();
    }
    self->scheduler_.post([weak, key] {
      if (auto again = weak.lock()) {
        again->flush(key);
      }
    });
  });
  std::lock_guard lock(mutex_);
  Buffer& b = buffers_[key];
  if (b.armed && b.arm_count == mine) {
    b.timer = id;
  }
}

Value FirehoseEngine::put_record(const Value& in, const Caller& c) {
  Value batch_in = in;
  batch_in["Records"] = Value::array({in.contains("Record") ? in["Record"] : Value::object()});
  Value out = put_record_batch(batch_in, c);
  return Value{{"RecordId", out["RequestResponses"][0]["RecordId"]}, {"Encrypted", out["Encrypted"]}};
}

Value FirehoseEngine::put_record_batch(const Value& in, const Caller& c) {
  std::vector<std::string> records;
  std::size_t total = 0;
  for (const auto& r : in.value("Records", Value::array())) {
    records.push_back(r.contains("Data") ? blob_of(r["Data"]) : std::string());
    total += records.back().size();
  }
  if (total > kMaxBatchBytes) {
    throw invalid_argument("Records size exceeds 4 MB limit");
  }
  StreamKey key;
  Next next;
  std::vector<std::string> ids;
  bool encrypted = false;
  {
    std::lock_guard lock(mutex_);
    DeliveryStream& s = require(c, in);
    if (s.type == "KinesisStreamAsSource") {
      throw invalid_argument("This operation is not permitted on KinesisStreamAsSource type DeliveryStream.");
    }
    if (s.status == "DELETING") {
      throw not_found(s.name, c.account);
    }
    key = key_of(s);
    ids = append(s, records, c.now_ms);
    encrypted = !s.encryption.is_null() && s.encryption.value("Status", "") == "ENABLED";
    next = after_append(key, s);
  }
  start(key, next);
  Value responses = Value::array();
  for (auto& id : ids) {
    responses.push_back(Value{{"RecordId", std::move(id)}});
  }
  return Value{{"FailedPutCount", 0}, {"Encrypted", encrypted}, {"RequestResponses", std::move(responses)}};
}

FirehoseEngine::Next FirehoseEngine::after_append(const StreamKey& key, const DeliveryStream& s) {
  Buffer& b = buffers_[key];
  Next next;
  if (b.bytes >= size_limit(s) && !b.flushing) {
    next.flush_now = true;
  } else if (!b.armed && !b.flushing && b.records > 0) {
    next.arm_at = b.first_ms + interval_ms(s);
  }
  return next;
}

void FirehoseEngine::start(const StreamKey& key, const Next& next) {
  if (next.flush_now) {
    scheduler_.post([weak = weak_from_this(), key] {
      if (auto self = weak.lock()) {
        self->flush(key);
      }
    });
  } else if (next.arm_at) {
    arm(key, *next.arm_at);
  }
}

void FirehoseEngine::schedule_poll(const StreamKey& key, std::int64_t delay_ms) {
  if (!kinesis_) {
    return;
  }
  scheduler_.after(delay_ms, [weak = weak_from_this(), key] {
    if (auto self = weak.lock()) {
      self->scheduler_.post([weak, key] {
        if (auto again = weak.lock()) {
          again->poll_source(key);
        }
      });
    }
  });
}

void FirehoseEngine::poll_source(const StreamKey& key) {
  constexpr std::size_t kReadLimit = 10000;
  std::string source_arn;
  std::map<std::string, std::string> positions;
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(key);
    if (stopped_ || it == streams_.end() || it->second.status != "ACTIVE") {
      return;  // deleted: polling ends here
    }
    source_arn = it->second.source.value("KinesisStreamARN", "");
    positions = it->second.source_positions;
  }
  kinesis::SourceBatch batch = kinesis_->read(source_arn, positions, kReadLimit);
  Next next;
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(key);
    if (stopped_ || it == streams_.end() || it->second.status != "ACTIVE") {
      return;
    }
    if (!batch.records.empty()) {
      std::vector<std::string> data;
      data.reserve(batch.records.size());
      for (auto& r : batch.records) {
        data.push_back(std::move(r.data));
      }
      try {
        append(it->second, data, scheduler_.clock().now_ms(), &batch.positions);
        next = after_append(key, it->second);
      } catch (const std::exception&) {
        // Not committed: the same records are read again at the next poll.
      }
    }
  }
  start(key, next);
  schedule_poll(key, batch.records.size() == kReadLimit ? 0 : options_.source_poll_interval_ms);
}

void FirehoseEngine::flush(const StreamKey& key) {
  DeliveryStream s;
  std::vector<std::string> keys;
  std::string data;
  std::int64_t first_ms = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(key);
    if (stopped_ || it == streams_.end() || it->second.status == "DELETING") {
      return;
    }
    Buffer& b = buffers_[key];
    if (b.flushing || b.records == 0) {
      return;
    }
    b.flushing = true;
    s = it->second;
    first_ms = b.first_ms;
    // One object holds at most SizeInMBs (rounded up to whole records), as AWS cuts them.
    const std::uint64_t limit = size_limit(s);
    for (auto c = store_.scan_prefix(Space::kKinesis, buffer_prefix(key)); c.valid() && data.size() < limit; c.next()) {
      keys.emplace_back(c.key());
      data.append(c.value());
    }
  }
  Delivery d;
  d.time_ms = scheduler_.clock().now_ms();
  d.stream_arn = s.arn();
  d.destination = s.destination_kind;
  d.records = keys.size();
  d.bytes = data.size();
  bool done = false;
  if (s.s3() && s3_) {
    const std::string format = s.destination.value("CompressionFormat", "UNCOMPRESSED");
    const std::string id = protocol::random_uuid(protocol::Randomness::kIdentifier);
    const std::string name = object_name(s.name, s.version, first_ms, id, format, s.destination.value("FileExtension", ""));
    s3::ServiceObject object;
    object.account = s.account;
    object.region = s.region;
    object.principal = s.destination.value("RoleARN", "");
    object.bucket = s.destination.value("BucketARN", "").substr(std::string("arn:aws:s3:::").size());
    object.key = evaluate_prefix(s.destination.value("Prefix", ""), first_ms).value_or("") + name;
    try {
      object.body = compress(format, data, name);
      auto outcome = s3_->put(object);
      done = outcome.written;
      d.status = outcome.written ? "delivered" : "failed";
      d.error = outcome.written ? "" : outcome.error_code + ": " + outcome.message;
    } catch (const std::exception& e) {
      d.status = "failed";
      d.error = e.what();
    }
    d.bucket = object.bucket;
    d.key = object.key;
  } else {
    d.status = "recorded";
    d.data = data;
    done = true;
  }
  bool more = false;
  std::int64_t due = 0;
  {
    std::lock_guard lock(mutex_);
    Buffer& b = buffers_[key];
    b.flushing = false;
    if (done) {
      storage::Batch batch;
      for (const auto& k : keys) {
        batch.del(Space::kKinesis, k);
      }
      if (auto st = store_.write(batch); st) {
        b.records -= std::min<std::uint64_t>(b.records, keys.size());
        b.bytes -= std::min<std::uint64_t>(b.bytes, data.size());
      }
    }
    auto it = streams_.find(key);
    if (b.records > 0 && it != streams_.end() && !stopped_) {
      // What is left (records that arrived meanwhile, or a failed delivery) waits its interval;
      // a buffer still over the size limit goes at once.
      more = true;
      const std::int64_t now = scheduler_.clock().now_ms();
      b.first_ms = done ? now : b.first_ms;
      due = b.bytes >= size_limit(it->second) && done ? now : now + interval_ms(it->second);
    }
  }
  record(std::move(d));
  if (more) {
    arm(key, due);
  }
}

void FirehoseEngine::record(Delivery d) {
  std::lock_guard lock(mutex_);
  deliveries_.push_back(std::move(d));
  while (deliveries_.size() > kMaxDeliveries) {
    deliveries_.pop_front();
  }
}

std::vector<Delivery> FirehoseEngine::deliveries(const std::string& stream) {
  std::lock_guard lock(mutex_);
  std::vector<Delivery> out;
  for (const auto& d : deliveries_) {
    if (stream.empty() || d.stream_arn == stream || d.stream_arn.ends_with("/" + stream)) {
      out.push_back(d);
    }
  }
  return out;
}

void FirehoseEngine::clear_deliveries() {
  std::lock_guard lock(mutex_);
  deliveries_.clear();
}

Value FirehoseEngine::tag_delivery_stream(const Value& in, const Caller& c) {
  std::lock_guard lock(mutex_);
  DeliveryStream& s = require(c, in);
  DeliveryStream next = s;
  for (const auto& t : in.value("Tags", Value::array())) {
    const std::string k = t.value("Key", "");
    auto it = std::find_if(next.tags.begin(), next.tags.end(), [&](const auto& p) { return p.first == k; });
    if (it != next.tags.end()) {
      it->second = t.value("Value", "");
    } else {
      next.tags.emplace_back(k, t.value("Value", ""));
    }
  }
  if (next.tags.size() > kMaxTags) {
    throw AwsError("LimitExceededException", 400, "Firehose " + s.name + " cannot have more than 50 tags.");
  }
  storage::Batch batch;
  persist(batch, next);
  commit(batch);
  s = std::move(next);
  return Value::object();
}

Value FirehoseEngine::untag_delivery_stream(const Value& in, const Caller& c) {
  std::lock_guard lock(mutex_);
  DeliveryStream& s = require(c, in);
  DeliveryStream next = s;
  for (const auto& k : in.value("TagKeys", Value::array())) {
    std::erase_if(next.tags, [&](const auto& p) { return p.first == k.get<std::string>(); });
  }
  storage::Batch batch;
  persist(batch, next);
  commit(batch);
  s = std::move(next);
  return Value::object();
}

Value FirehoseEngine::list_tags_for_delivery_stream(const Value& in, const Caller& c) {
  const std::size_t limit = in.value("Limit", 50);
  const std::string start = in.value("ExclusiveStartTagKey", "");
  std::lock_guard lock(mutex_);
  const DeliveryStream& s = require(c, in);
  Value tags = Value::array();
  bool more = false;
  bool started = start.empty();
  for (const auto& [k, v] : s.tags) {
    if (!started) {
      started = k == start;
      continue;
    }
    if (tags.size() == limit) {
      more = true;
      break;
    }
    tags.push_back(Value{{"Key", k}, {"Value", v}});
  }
  return Value{{"Tags", std::move(tags)}, {"HasMoreTags", more}};
}

Value FirehoseEngine::start_delivery_stream_encryption(const Value& in, const Caller& c) {
  std::lock_guard lock(mutex_);
  DeliveryStream& s = require(c, in);
  const Value e = in.value("DeliveryStreamEncryptionConfigurationInput", Value::object());
  const std::string type = e.value("KeyType", "AWS_OWNED_CMK");
  if (type == "CUSTOMER_MANAGED_CMK" && !e.contains("KeyARN")) {
    throw invalid_argument("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.");
  }
  if (type == "AWS_OWNED_CMK" && e.contains("KeyARN")) {
    throw invalid_argument("KeyARN must not be specified when KeyType is AWS_OWNED_CMK.");
  }
  DeliveryStream next = s;
  next.encryption = Value{{"KeyType", type}, {"Status", "ENABLED"}};
  if (e.contains("KeyARN")) {
    next.encryption["KeyARN"] = e["KeyARN"];
  }
  storage::Batch batch;
  persist(batch, next);
  commit(batch);
  s = std::move(next);
  return Value::object();
}

Value FirehoseEngine::stop_delivery_stream_encryption(const Value& in, const Caller& c) {
  std::lock_guard lock(mutex_);
  DeliveryStream& s = require(c, in);
  DeliveryStream next = s;
  next.encryption = Value{{"Status", "DISABLED"}};
  if (!s.encryption.is_null() && s.encryption.contains("KeyType")) {
    next.encryption["KeyType"] = s.encryption["KeyType"];
  }
  storage::Batch batch;
  persist(batch, next);
  commit(batch);
  s = std::move(next);
  return Value::object();
}

}  // namespace fogbank::firehose
