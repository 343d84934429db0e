#include "persistence.hpp"

#include <stdexcept>

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

namespace {

constexpr std::uint8_t kEncrypted = 1;
constexpr std::uint8_t kChunk = 0x80;  // absent from values written one record per key

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

std::uint64_t get_be(std::string_view in, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | static_cast<std::uint8_t>(in[static_cast<std::size_t>(i)]);
  }
  return v;
}

constexpr std::size_t kHeader = 8 + 1 + 4;  // arrival ms | flags | record count

/// Moves a field prefixed by its length (`width` bytes, big-endian) from the front of `rest`
/// into `out`; false when `rest` is too short for it.
bool take_field(std::string_view& rest, int width, std::string_view& out) {
  const auto w = static_cast<std::size_t>(width);
  if (rest.size() < w) {
    return false;
  }
  const std::size_t length = get_be(rest, width);
  if (rest.size() - w < length) {
    return false;
  }
  out = rest.substr(w, length);
  rest.remove_prefix(w + length);
  return true;
}

}  // namespace

std::string encode_counter(std::uint64_t counter) {
  std::string out;
  put_be(out, counter, 8);
  return out;
}

std::optional<std::uint64_t> decode_counter(std::string_view data) {
  if (data.size() != 8) {
    return std::nullopt;
  }
  return get_be(data, 8);
}

// Chunk value: arrival ms (u64) | flags (u8: bit 0 = KMS-encrypted, bit 7 = chunk) | record count
// (u32) | per record: partition key length (u16) | partition key | data length (u32) | data.
// Binary because record data is arbitrary bytes. The older one-record value has no count and no
// data length: arrival ms | flags | key length (u16) | key | data to the end.
ChunkWriter::ChunkWriter(std::int64_t arrival_ms, bool encrypted) {
  put_be(bytes_, static_cast<std::uint64_t>(arrival_ms), 8);
  bytes_.push_back(static_cast<char>(kChunk | (encrypted ? kEncrypted : 0)));
  put_be(bytes_, 0, 4);
}

void ChunkWriter::add(std::uint64_t counter, std::string_view partition_key, std::string_view data) {
  if (count_ > 0 && counter != last_ + 1) {
    throw std::logic_error("kinesis: a chunk's counters must be consecutive");
  }
  bytes_.reserve(bytes_.size() + 6 + partition_key.size() + data.size());
  put_be(bytes_, partition_key.size(), 2);
  bytes_ += partition_key;
  put_be(bytes_, data.size(), 4);
  bytes_ += data;
  last_ = counter;
  ++count_;
}

std::string ChunkWriter::take() {
  for (int i = 0; i < 4; ++i) {
    bytes_[9 + static_cast<std::size_t>(i)] = static_cast<char>((count_ >> ((3 - i) * 8)) & 0xff);
  }
  return std::move(bytes_);
}

std::optional<std::uint64_t> record_counter(std::string_view key) {
  if (key.size() < 8) {
    return std::nullopt;
  }
  return decode_counter(key.substr(key.size() - 8));
}

bool ChunkReader::open(std::string_view key, std::string_view value) {
  auto last = record_counter(key);
  if (!last || value.size() < 9) {
    return false;
  }
  last_ = *last;
  arrival_ms_ = static_cast<std::int64_t>(get_be(value, 8));
  const auto flags = static_cast<std::uint8_t>(value[8]);
  encrypted_ = (flags & kEncrypted) != 0;
  single_ = (flags & kChunk) == 0;
  read_ = 0;
  if (single_) {
    count_ = 1;
    rest_ = value.substr(9);
  } else {
    if (value.size() < kHeader) {
      return false;
    }
    count_ = get_be(value.substr(9), 4);
    rest_ = value.substr(kHeader);
  }
  return count_ >= 1 && count_ <= last_;
}

bool ChunkReader::next(StoredRecord& r) {
  if (read_ >= count_ || !take_field(rest_, 2, r.partition_key)) {
    return false;
  }
  if (single_) {
    r.data = rest_;
    rest_ = {};
  } else if (!take_field(rest_, 4, r.data)) {
    return false;
  }
  r.counter = first_counter() + read_;
  r.arrival_ms = arrival_ms_;
  r.encrypted = encrypted_;
  ++read_;
  return true;
}

}  // namespace persist
}  // namespace fogbank::kinesis
