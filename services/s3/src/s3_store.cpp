#include "s3_store.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/keys.hpp"
#include "s3_cors.hpp"
#include "s3_notifications.hpp"

namespace fogbank::s3 {

using nlohmann::json;
using storage::KeyBuilder;
using storage::Space;

namespace {

json pairs_to_json(const NameValues& v) {
  json a = json::array();
  for (const auto& [n, val] : v) {
    a.push_back(json::array({n, val}));
  }
  return a;
}

NameValues pairs_from_json(const json& a) {
  NameValues v;
  for (const auto& p : a) {
    v.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
  }
  return v;
}

/// The versioning and lock fields, only where set: records of unversioned buckets keep the
/// bytes they always had.
void add_version_fields(json& j, const ObjectRecord& r) {
  if (!r.acl.empty()) {
    j["ac"] = r.acl;
  }
  if (r.delete_marker) {
    j["d"] = true;
  }
  if (!r.legal_hold.empty()) {
    j["lh"] = r.legal_hold;
  }
  if (!r.lock_mode.empty()) {
    j["lm"] = r.lock_mode;
    j["lu"] = r.lock_until_ms;
  }
  if (r.seq != 0) {
    j["q"] = r.seq;
  }
  if (!r.version_id.empty()) {
    j["v"] = r.version_id;
  }
  if (!r.customer_key_md5.empty()) {
    j["ck"] = r.customer_key_md5;
  }
  if (!r.wrapped_key.empty()) {
    j["wk"] = r.wrapped_key;
  }
}

json object_to_json(const ObjectRecord& r) {
  json segs = json::array();
  for (const auto& s : r.segments) {
    segs.push_back(json::array({s.blob, s.size, s.etag, s.checksum}));
  }
  json j{{"n", r.size},      {"e", r.etag},         {"m", r.modified_ms},
          {"o", r.owner},     {"h", pairs_to_json(r.headers)},
          {"u", pairs_to_json(r.metadata)},          {"c", r.storage_class},
          {"t", pairs_to_json(r.tags)},              {"ka", r.checksum_algorithm},
          {"kv", r.checksum}, {"kt", r.checksum_type}, {"s", segs},
          {"p", r.parts_count}};
  add_version_fields(j, r);
  return j;
}

void object_from_json(const json& j, ObjectRecord& r) {
  r.size = j.at("n").get<std::uint64_t>();
  r.etag = j.at("e").get<std::string>();
  r.modified_ms = j.at("m").get<std::int64_t>();
  r.owner = j.at("o").get<std::string>();
  r.headers = pairs_from_json(j.at("h"));
  r.metadata = pairs_from_json(j.at("u"));
  r.storage_class = j.at("c").get<std::string>();
  r.tags = pairs_from_json(j.at("t"));
  r.checksum_algorithm = j.at("ka").get<std::string>();
  r.checksum = j.at("kv").get<std::string>();
  r.checksum_type = j.at("kt").get<std::string>();
  r.segments.clear();
  for (const auto& s : j.at("s")) {
    r.segments.push_back(Segment{s.at(0).get<std::string>(), s.at(1).get<std::uint64_t>(),
                                 s.at(2).get<std::string>(), s.at(3).get<std::string>()});
  }
  r.parts_count = j.at("p").get<std::uint32_t>();
  r.delete_marker = j.value("d", false);
  r.legal_hold = j.value("lh", std::string());
  r.lock_mode = j.value("lm", std::string());
  r.lock_until_ms = j.value("lu", std::int64_t{0});
  r.seq = j.value("q", std::uint64_t{0});
  r.version_id = j.value("v", std::string());
  r.customer_key_md5 = j.value("ck", std::string());
  r.wrapped_key = j.value("wk", std::string());
  r.acl = j.value("ac", std::string());
}

/// Appends `s` as a JSON string; false (and nothing usable) if it has a non-ASCII byte, which
/// the caller leaves to nlohmann's encoder and its UTF-8 rules.
bool append_ascii_json(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      return false;
    }
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      // The short forms nlohmann writes, so both encoders give the same bytes.
      static constexpr std::string_view kShort = "btn?fr";  // \b \t \n \f \r; \v (0x0B) has no short form
      if (c >= 0x08 && c <= 0x0D && c != 0x0B) {
        out.push_back('\\');
        out.push_back(kShort[c - 0x08]);
        continue;
      }
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return true;
}

bool append_pairs(std::string& out, const NameValues& v) {
  out.push_back('[');
  for (std::size_t i = 0; i < v.size(); ++i) {
    out += i == 0 ? "[" : ",[";
    if (!append_ascii_json(out, v[i].first)) {
      return false;
    }
    out.push_back(',');
    if (!append_ascii_json(out, v[i].second)) {
      return false;
    }
    out.push_back(']');
  }
  out.push_back(']');
  return true;
}

/// object_to_json(r).dump() without building the json tree: every PutObject encodes one record,
/// and the tree's allocations were 7% of a small PUT. Records with non-ASCII text take the
/// general path. Both produce the same document (decode() reads either).
std::optional<std::string> encode_ascii_object(const ObjectRecord& r) {
  std::string out;
  out.reserve(512);
  const auto field = [&](std::string_view name) {
    out += out.size() <= 1 ? "\"" : ",\"";
    out += name;
    out += "\":";
  };
  const auto text = [&](std::string_view name, std::string_view value) {
    field(name);
    return append_ascii_json(out, value);
  };
  const auto number = [&](std::string_view name, auto value) {
    field(name);
    out += std::to_string(value);
  };
  out.push_back('{');
  bool ok = true;
  if (!r.acl.empty()) {
    ok = text("ac", r.acl);
  }
  ok = ok && text("c", r.storage_class);
  if (!r.customer_key_md5.empty()) {
    ok = ok && text("ck", r.customer_key_md5);
  }
  if (r.delete_marker) {
    field("d");
    out += "true";
  }
  ok = ok && text("e", r.etag);
  field("h");
  ok = ok && append_pairs(out, r.headers) && text("ka", r.checksum_algorithm) && text("kt", r.checksum_type) &&
       text("kv", r.checksum);
  if (!r.legal_hold.empty()) {
    ok = ok && text("lh", r.legal_hold);
  }
  if (!r.lock_mode.empty()) {
    ok = ok && text("lm", r.lock_mode);
    number("lu", r.lock_until_ms);
  }
  number("m", r.modified_ms);
  number("n", r.size);
  ok = ok && text("o", r.owner);
  number("p", r.parts_count);
  if (r.seq != 0) {
    number("q", r.seq);
  }
  field("s");
  out.push_back('[');
  for (std::size_t i = 0; ok && i < r.segments.size(); ++i) {
    const Segment& seg = r.segments[i];
    out += i == 0 ? "[" : ",[";
    ok = append_ascii_json(out, seg.blob);
    out.push_back(',');
    out += std::to_string(seg.size);
    out.push_back(',');
    ok = ok && append_ascii_json(out, seg.etag);
    out.push_back(',');
    ok = ok && append_ascii_json(out, seg.checksum);
    out.push_back(']');
  }
  out.push_back(']');
  field("t");
  ok = ok && append_pairs(out, r.tags);
  field("u");
  ok = ok && append_pairs(out, r.metadata);
  if (!r.version_id.empty()) {
    ok = ok && text("v", r.version_id);
  }
  if (!r.wrapped_key.empty()) {
    ok = ok && text("wk", r.wrapped_key);
  }
  out.push_back('}');
  if (!ok) {
    return std::nullopt;
  }
  return out;
}

template <class F>
bool decode_with(std::string_view data, F&& fill) {
  try {
    fill(json::parse(data));
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

}  // namespace

namespace {

/// Records hold client text (metadata and header values) that HTTP lets be any bytes, while JSON
/// text must be UTF-8: bytes that are not are stored as U+FFFD instead of failing the write.
std::string dump_record(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string encode(const BucketRecord& r) {
  json j{{"name", r.name}, {"account", r.account}, {"region", r.region}, {"created", r.created_ms}};
  if (r.tags) {
    j["tags"] = pairs_to_json(*r.tags);
  }
  if (r.notifications) {
    j["notification"] = to_stored(*r.notifications);
  }
  if (r.cors) {
    j["cors"] = cors_to_stored(*r.cors);
  }
  if (!r.settings.empty()) {
    j["settings"] = r.settings;
  }
  for (const auto& [name, text] : {std::pair{"policy", &r.policy}, std::pair{"encryption", &r.encryption},
                                   std::pair{"logging", &r.logging}, std::pair{"lifecycle", &r.lifecycle},
                                   std::pair{"website", &r.website}, std::pair{"versioning", &r.versioning},
                                   std::pair{"mfa_delete", &r.mfa_delete}, std::pair{"object_lock", &r.object_lock},
                                   std::pair{"lock_rule", &r.lock_rule}}) {
    if (!text->empty()) {
      j[name] = *text;
    }
  }
  return dump_record(j);
}

std::string encode(const ObjectRecord& r) {
  if (auto fast = encode_ascii_object(r)) {
    return std::move(*fast);
  }
  return dump_record(object_to_json(r));
}

std::string encode(const UploadRecord& r) {
  return dump_record(json{{"b", r.bucket}, {"k", r.key}, {"id", r.upload_id}, {"i", r.initiated_ms},
                          {"o", object_to_json(r.object)}});
}

std::string encode(const PartRecord& r) {
  return dump_record(json{{"n", r.number}, {"s", r.size}, {"e", r.etag}, {"m", r.modified_ms},
                          {"b", r.blob}, {"k", r.checksum}, {"a", r.checksum_algorithm}});
}

bool decode(std::string_view data, BucketRecord& r) {
  return decode_with(data, [&](const json& j) {
    r.name = j.at("name").get<std::string>();
    r.account = j.at("account").get<std::string>();
    r.region = j.at("region").get<std::string>();
    r.created_ms = j.at("created").get<std::int64_t>();
    r.tags.reset();
    if (j.contains("tags")) {
      r.tags = pairs_from_json(j.at("tags"));
    }
    r.notifications.reset();
    if (auto n = j.find("notification"); n != j.end()) {
      auto config = from_stored(*n);
      if (!config) {
        throw json::other_error::create(501, "corrupt notification configuration", nullptr);
      }
      r.notifications = std::make_shared<const NotificationConfig>(std::move(*config));
    }
    r.policy = j.value("policy", std::string());
    r.encryption = j.value("encryption", std::string());
    r.logging = j.value("logging", std::string());
    r.lifecycle = j.value("lifecycle", std::string());
    r.website = j.value("website", std::string());
    r.versioning = j.value("versioning", std::string());
    r.mfa_delete = j.value("mfa_delete", std::string());
    r.object_lock = j.value("object_lock", std::string());
    r.lock_rule = j.value("lock_rule", std::string());
    r.settings.clear();
    if (auto s = j.find("settings"); s != j.end() && s->is_object()) {
      r.settings = s->get<std::map<std::string, std::string>>();
    }
    r.cors.reset();
    if (auto c = j.find("cors"); c != j.end()) {
      auto config = cors_from_stored(*c);
      if (!config) {
        throw json::other_error::create(501, "corrupt CORS configuration", nullptr);
      }
      r.cors = std::make_shared<const CorsConfig>(std::move(*config));
    }
  });
}

bool decode(std::string_view data, ObjectRecord& r) {
  return decode_with(data, [&](const json& j) { object_from_json(j, r); });
}

bool decode(std::string_view data, UploadRecord& r) {
  return decode_with(data, [&](const json& j) {
    r.bucket = j.at("b").get<std::string>();
    r.key = j.at("k").get<std::string>();
    r.upload_id = j.at("id").get<std::string>();
    r.initiated_ms = j.at("i").get<std::int64_t>();
    object_from_json(j.at("o"), r.object);
  });
}

bool decode(std::string_view data, PartRecord& r) {
  return decode_with(data, [&](const json& j) {
    r.number = j.at("n").get<std::uint32_t>();
    r.size = j.at("s").get<std::uint64_t>();
    r.etag = j.at("e").get<std::string>();
    r.modified_ms = j.at("m").get<std::int64_t>();
    r.blob = j.at("b").get<std::string>();
    r.checksum = j.at("k").get<std::string>();
    r.checksum_algorithm = j.value("a", "");
  });
}

namespace {
// A string part without its terminator: a prefix of every longer string part.
std::string open_part(std::string_view s) {
  std::string k = KeyBuilder().str(s).key();
  k.resize(k.size() - 2);
  return k;
}
}  // namespace

std::string bucket_key(std::string_view bucket) { return KeyBuilder("B").str(bucket).key(); }
std::string object_key(std::string_view bucket, std::string_view key) {
  return KeyBuilder("O").str(bucket).str(key).key();
}
std::string object_prefix(std::string_view bucket, std::string_view name_prefix) {
  return KeyBuilder("O").str(bucket).key() + open_part(name_prefix);
}
std::optional<std::string> object_name_of(std::string_view store_key) {
  storage::KeyReader r(store_key);
  if (!r.str() || !r.str()) {
    return std::nullopt;
  }
  return r.str();
}
std::string noncurrent_key(std::string_view bucket, std::string_view key, std::uint64_t seq) {
  return KeyBuilder("N").str(bucket).str(key).u64(~seq).key();
}
std::string noncurrent_prefix(std::string_view bucket, std::string_view key) {
  return KeyBuilder("N").str(bucket).str(key).key();
}
std::string completed_upload_key(std::string_view bucket, std::string_view upload_id) {
  return KeyBuilder("X").str(bucket).str(upload_id).key();
}
std::string completed_upload_prefix(std::string_view bucket) { return KeyBuilder("X").str(bucket).key(); }
std::string upload_key(std::string_view bucket, std::string_view key, std::string_view upload_id) {
  return KeyBuilder("U").str(bucket).str(key).str(upload_id).key();
}
std::string upload_prefix(std::string_view bucket, std::string_view name_prefix) {
  return KeyBuilder("U").str(bucket).key() + open_part(name_prefix);
}
std::string part_key(std::string_view upload_id, std::uint32_t number) {
  return KeyBuilder("P").str(upload_id).u32(number).key();
}
std::string part_prefix(std::string_view upload_id) { return KeyBuilder("P").str(upload_id).key(); }

// ---- blobs

std::string BlobStore::data_prefix(std::string_view blob) { return KeyBuilder("D").str(blob).key(); }

namespace {
std::string writing_key(std::string_view blob) { return KeyBuilder("W").str(blob).key(); }
std::string garbage_key(std::string_view blob) { return KeyBuilder("G").str(blob).key(); }
}  // namespace

void BlobStore::sweep() {
  std::vector<std::string> blobs;
  for (std::string_view tag : {"W", "G"}) {
    for (auto c = store_.scan_prefix(Space::kS3Meta, KeyBuilder(tag).key()); c.valid(); c.next()) {
      storage::KeyReader r(c.key());
      r.str();
      if (auto blob = r.str()) {
        blobs.push_back(*blob);
      }
    }
  }
  for (const auto& b : blobs) {
    destroy(b);
  }
}

BlobStore::Writer::Writer(BlobStore& owner, std::string blob)
    : owner_(owner), blob_(std::move(blob)),
      writer_(owner.store_, Space::kS3Data, data_prefix(blob_)) {}

BlobStore::Writer::~Writer() {
  if (!done_) {
    abort();
  }
}

void BlobStore::Writer::encrypt_with(std::string_view key) {
  cipher_ = std::make_unique<protocol::AesCtr>(key, blob_iv(blob_), writer_.size());
}

void BlobStore::Writer::append(std::string_view data) {
  if (cipher_) {
    scratch_.assign(data);
    cipher_->apply(scratch_.data(), scratch_.size());
    data = scratch_;
  }
  if (!marked_ && writer_.size() + data.size() >= writer_.chunk_size()) {
    // The first full chunk is about to hit the disk: record it so a crash cannot orphan it.
    if (auto st = owner_.store_.put(Space::kS3Meta, writing_key(blob_), ""); !st) {
      throw std::runtime_error(st.message());
    }
    marked_ = true;
  }
  if (auto st = writer_.append(data); !st) {
    throw std::runtime_error(st.message());
  }
}

void BlobStore::Writer::finish(storage::Batch& batch) {
  if (auto st = writer_.finish(batch); !st) {
    throw std::runtime_error(st.message());
  }
  if (marked_) {
    batch.del(Space::kS3Meta, writing_key(blob_));
  }
  done_ = true;
}

void BlobStore::Writer::abort() noexcept {
  done_ = true;
  writer_.abort();
  if (marked_) {
    (void)owner_.store_.del(Space::kS3Meta, writing_key(blob_));
  }
}

std::uint64_t BlobStore::next_id_micros() {
  // Strictly increasing within a process, so ids keep their order under a virtual clock that
  // stands still or is set back, and when many blobs start within one millisecond.
  const auto now = static_cast<std::uint64_t>(std::max<std::int64_t>(clock_.now_ms(), 0)) * 1000;
  std::uint64_t last = last_id_micros_.load(std::memory_order_relaxed);
  std::uint64_t next = 0;
  do {
    next = std::max(now, last + 1);
  } while (!last_id_micros_.compare_exchange_weak(last, next, std::memory_order_relaxed));
  return next;
}

std::unique_ptr<BlobStore::Writer> BlobStore::new_writer() {
  // Time first, then randomness: new chunks sort after older ones, so each flush's keys land at
  // the end of the data space and compaction merges them with the newest file only, instead of
  // rewriting every chunk reference (random ids made every flush overlap the whole space).
  const std::uint64_t micros = next_id_micros();
  std::string id;
  for (int shift = 56; shift >= 0; shift -= 8) {
    id.push_back(static_cast<char>((micros >> shift) & 0xFF));
  }
  id += protocol::random_bytes(4, protocol::Randomness::kIdentifier);
  return std::make_unique<Writer>(*this, protocol::hex(id));
}

BlobStore::Reader::Reader(BlobStore& owner, std::vector<Segment> segments, std::uint64_t offset,
                          std::uint64_t length, std::string key)
    : owner_(owner), segments_(std::move(segments)), skip_(offset), left_(length), key_(std::move(key)) {
  for (const auto& s : segments_) {
    owner_.lease(s.blob);
  }
}

BlobStore::Reader::~Reader() {
  current_.reset();
  for (const auto& s : segments_) {
    owner_.release(s.blob);
  }
}

std::size_t BlobStore::Reader::read(char* buf, std::size_t n) {
  while (left_ > 0) {
    if (!current_) {
      while (index_ < segments_.size() && skip_ >= segments_[index_].size) {
        skip_ -= segments_[index_].size;
        ++index_;
      }
      if (index_ >= segments_.size()) {
        throw std::runtime_error("object data shorter than its record");
      }
      const auto& s = segments_[index_];
      auto len = std::min<std::uint64_t>(s.size - skip_, left_);
      current_ = std::make_unique<storage::BlobReader>(owner_.store_, Space::kS3Data, data_prefix(s.blob),
                                                       skip_, len, storage::kDefaultChunkSize, owner_.read_ahead_);
      if (!key_.empty()) {
        cipher_ = std::make_unique<protocol::AesCtr>(key_, blob_iv(s.blob), skip_);
      }
      skip_ = 0;
    }
    auto got = current_->read(buf, static_cast<std::size_t>(std::min<std::uint64_t>(n, left_)));
    if (got > 0) {
      if (cipher_) {
        cipher_->apply(buf, got);
      }
      left_ -= got;
      return got;
    }
    current_.reset();
    ++index_;
  }
  return 0;
}

std::string BlobStore::blob_iv(std::string_view blob) {
  const auto digest = protocol::sha256("fogbank-s3-blob-iv:" + std::string(blob));
  return std::string(reinterpret_cast<const char*>(digest.data()), 16);
}

void BlobStore::retire(storage::Batch& batch, std::string_view blob) {
  batch.put(Space::kS3Meta, garbage_key(blob), "");
}

void BlobStore::retire(storage::Batch& batch, const std::vector<Segment>& segments,
                       std::vector<std::string>& retired) {
  for (const auto& s : segments) {
    retire(batch, s.blob);
    retired.push_back(s.blob);
  }
}

void BlobStore::retire(storage::Batch& batch, const std::vector<Segment>& segments) {
  for (const auto& s : segments) {
    retire(batch, s.blob);
  }
}

void BlobStore::collect(const std::vector<Segment>& segments) {
  std::vector<std::string> blobs;
  for (const auto& s : segments) {
    blobs.push_back(s.blob);
  }
  collect(blobs);
}

void BlobStore::collect(const std::vector<std::string>& blobs) {
  for (const auto& b : blobs) {
    {
      std::lock_guard lock(mu_);
      if (readers_.contains(b)) {
        doomed_[b] = true;  // the last reader deletes it
        continue;
      }
    }
    destroy(b);
  }
}

void BlobStore::lease(const std::string& blob) {
  std::lock_guard lock(mu_);
  ++readers_[blob];
}

void BlobStore::release(const std::string& blob) {
  bool destroy_now = false;
  {
    std::lock_guard lock(mu_);
    auto it = readers_.find(blob);
    if (it != readers_.end() && --it->second == 0) {
      readers_.erase(it);
      destroy_now = doomed_.erase(blob) > 0;
    }
  }
  if (destroy_now) {
    destroy(blob);
  }
}

void BlobStore::destroy(const std::string& blob) {
  storage::Batch batch;
  storage::delete_blob(batch, Space::kS3Data, data_prefix(blob));
  batch.del(Space::kS3Meta, writing_key(blob));
  batch.del(Space::kS3Meta, garbage_key(blob));
  (void)store_.write(batch);
}

}  // namespace fogbank::s3
