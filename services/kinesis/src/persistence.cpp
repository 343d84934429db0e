#include "persistence.hpp"

#include <nlohmann/json.hpp>

#include "fogbank/storage/keys.hpp"
#include "sequence_number.hpp"

namespace fogbank::kinesis {

std::string shard_id_of(std::uint32_t index) {
  std::string out = "shardId-";
  append_zero_padded(out, index, 12);
  return out;
}

std::optional<std::uint32_t> shard_index_of(std::string_view shard_id) {
  // AWS accepts the bare number too ("1" names shardId-000000000001).
  std::string_view digits = shard_id;
  if (digits.starts_with("shardId-")) {
    digits.remove_prefix(8);
  }
  if (digits.empty() || digits.size() > 12) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(v);
}

namespace persist {

using nlohmann::json;
using storage::KeyBuilder;

std::string stream_key(std::string_view account, std::string_view region, std::string_view name) {
  return KeyBuilder("s").str(account).str(region).str(name).key();
}
std::string stream_prefix() { return KeyBuilder("s").key(); }
std::string counter_key(std::string_view stream_id, std::uint32_t shard) {
  return KeyBuilder("n").str(stream_id).u32(shard).key();
}
std::string record_key(std::string_view stream_id, std::uint32_t shard, std::uint64_t counter) {
  return KeyBuilder("r").str(stream_id).u32(shard).u64(counter).key();
}
std::string shard_records_prefix(std::string_view stream_id, std::uint32_t shard) {
  return KeyBuilder("r").str(stream_id).u32(shard).key();
}
std::string stream_records_prefix(std::string_view stream_id) { return KeyBuilder("r").str(stream_id).key(); }
std::string stream_counters_prefix(std::string_view stream_id) { return KeyBuilder("n").str(stream_id).key(); }
std::string account_settings_key(std::string_view account, std::string_view region) {
  return KeyBuilder("a").str(account).str(region).key();
}
std::string iterator_key_key() { return KeyBuilder("k").key(); }

namespace {

json tags_json(const std::map<std::string, std::string>& tags) {
  json t = json::object();
  for (const auto& [k, v] : tags) {
    t[k] = v;
  }
  return t;
}

void read_tags(const json& j, std::map<std::string, std::string>& tags) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      tags[k] = v.get<std::string>();
    }
  }
}

}  // namespace

std::string encode_stream(const Stream& s) {
  json shards = json::array();
  for (const auto& sh : s.shards) {
    json j = {{"i", sh.index},
              {"hs", to_decimal(sh.range.start)},
              {"he", to_decimal(sh.range.end)},
              {"c", sh.created_ms},
              {"x", sh.closed_ms},
              {"ch", sh.children}};
    if (sh.parent) {
      j["p"] = *sh.parent;
    }
    if (sh.adjacent_parent) {
      j["ap"] = *sh.adjacent_parent;
    }
    if (!sh.open()) {
      j["n"] = sh.next_counter;  // frozen at close; open shards keep theirs under 'n/' keys
    }
    shards.push_back(std::move(j));
  }
  json consumers = json::array();
  for (const auto& c : s.consumers) {
    consumers.push_back({{"name", c.name}, {"arn", c.arn}, {"status", c.status}, {"c", c.created_ms},
                         {"tags", tags_json(c.tags)}});
  }
  json policies = json::object();
  for (const auto& [arn, p] : s.policies) {
    policies[arn] = p;
  }
  json j = {{"account", s.account},
            {"region", s.region},
            {"name", s.name},
            {"id", s.id},
            {"created", s.created_ms},
            {"status", s.status},
            {"due", s.transition_due_ms},
            {"mode", s.mode},
            {"retention", s.retention_hours},
            {"encryption", s.encryption},
            {"key", s.key_id},
            {"metrics", s.metrics},
            {"tags", tags_json(s.tags)},
            {"shards", std::move(shards)},
            {"consumers", std::move(consumers)},
            {"policies", std::move(policies)},
            {"warm", s.warm_throughput_mibps},
            {"maxkib", s.max_record_kib}};
  return j.dump();
}

bool decode_stream(std::string_view data, Stream& s) {
  auto j = json::parse(data, nullptr, false);
  if (!j.is_object()) {
    return false;
  }
  try {
    s.account = j.at("account").get<std::string>();
    s.region = j.at("region").get<std::string>();
    s.name = j.at("name").get<std::string>();
    s.id = j.at("id").get<std::string>();
    s.created_ms = j.at("created").get<std::int64_t>();
    s.status = j.at("status").get<std::string>();
    s.transition_due_ms = j.value("due", std::int64_t{0});
    s.mode = j.value("mode", std::string("PROVISIONED"));
    s.retention_hours = j.value("retention", 24);
    s.encryption = j.value("encryption", std::string("NONE"));
    s.key_id = j.value("key", std::string());
    s.metrics = j.value("metrics", std::vector<std::string>{});
    read_tags(j.value("tags", json::object()), s.tags);
    s.warm_throughput_mibps = j.value("warm", std::int64_t{0});
    s.max_record_kib = j.value("maxkib", std::int64_t{1024});
    for (const auto& sj : j.at("shards")) {
      Shard sh;
      sh.index = sj.at("i").get<std::uint32_t>();
      sh.range.start = parse_decimal(sj.at("hs").get<std::string>()).value_or(0);
      sh.range.end = parse_decimal(sj.at("he").get<std::string>()).value_or(0);
      sh.created_ms = sj.at("c").get<std::int64_t>();
      sh.closed_ms = sj.value("x", std::int64_t{0});
      sh.children = sj.value("ch", std::vector<std::uint32_t>{});
      if (sj.contains("p")) {
        sh.parent = sj["p"].get<std::uint32_t>();
      }
      if (sj.contains("ap")) {
        sh.adjacent_parent = sj["ap"].get<std::uint32_t>();
      }
      sh.next_counter = sj.value("n", std::uint64_t{1});
      s.shards.push_back(std::move(sh));
    }
    for (const auto& cj : j.value("consumers", json::array())) {
      Consumer c;
      c.name = cj.at("name").get<std::string>();
      c.arn = cj.at("arn").get<std::string>();
      c.status = cj.at("status").get<std::string>();
      c.created_ms = cj.at("c").get<std::int64_t>();
      read_tags(cj.value("tags", json::object()), c.tags);
      s.consumers.push_back(std::move(c));
    }
    const json policies = j.value("policies", json::object());
    for (const auto& [arn, p] : policies.items()) {
      s.policies[arn] = p.get<std::string>();
    }
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

std::string encode_counter(std::uint64_t counter) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((counter >> shift) & 0xff));
  }
  return out;
}

std::optional<std::uint64_t> decode_counter(std::string_view data) {
  if (data.size() != 8) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (char c : data) {
    v = (v << 8) | static_cast<std::uint8_t>(c);
  }
  return v;
}

// Record value: arrival ms (u64) | flags (1 byte: bit 0 = KMS-encrypted) | partition key length
// (u16) | partition key | data. Binary because record data is arbitrary bytes.
std::string encode_record(std::int64_t arrival_ms, bool encrypted, std::string_view partition_key,
                          std::string_view data) {
  std::string out = encode_counter(static_cast<std::uint64_t>(arrival_ms));
  out.reserve(11 + partition_key.size() + data.size());
  out.push_back(static_cast<char>(encrypted ? 1 : 0));
  out.push_back(static_cast<char>((partition_key.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(partition_key.size() & 0xff));
  out += partition_key;
  out += data;
  return out;
}

std::optional<std::uint64_t> record_counter(std::string_view key) {
  if (key.size() < 8) {
    return std::nullopt;
  }
  return decode_counter(key.substr(key.size() - 8));
}

bool decode_record(std::string_view key, std::string_view data, StoredRecord& r) {
  auto counter = record_counter(key);
  if (!counter || data.size() < 11) {
    return false;
  }
  r.counter = *counter;
  r.arrival_ms = static_cast<std::int64_t>(*decode_counter(data.substr(0, 8)));
  r.encrypted = (static_cast<std::uint8_t>(data[8]) & 1) != 0;
  const std::size_t pk_len = (static_cast<std::size_t>(static_cast<std::uint8_t>(data[9])) << 8) |
                             static_cast<std::uint8_t>(data[10]);
  if (data.size() < 11 + pk_len) {
    return false;
  }
  r.partition_key = data.substr(11, pk_len);
  r.data = data.substr(11 + pk_len);
  return true;
}

}  // namespace persist
}  // namespace fogbank::kinesis
