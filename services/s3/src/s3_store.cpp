#include "s3_store.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/keys.hpp"

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

json object_to_json(const ObjectRecord& r) {
  json segs = json::array();
  for (const auto& s : r.segments) {
    segs.push_back(json::array({s.blob, s.size, s.etag, s.checksum}));
  }
  return json{{"n", r.size},          {"e", r.etag},         {"m", r.modified_ms},
              {"o", r.owner},         {"h", pairs_to_json(r.headers)},
              {"u", pairs_to_json(r.metadata)},              {"c", r.storage_class},
              {"t", pairs_to_json(r.tags)},                  {"ka", r.checksum_algorithm},
              {"kv", r.checksum},     {"kt", r.checksum_type}, {"s", segs},
              {"p", r.parts_count}};
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

std::string encode(const BucketRecord& r) {
  json j{{"name", r.name}, {"account", r.account}, {"region", r.region}, {"created", r.created_ms}};
  if (r.tags) {
    j["tags"] = pairs_to_json(*r.tags);
  }
  return j.dump();
}

std::string encode(const ObjectRecord& r) { return object_to_json(r).dump(); }

std::string encode(const UploadRecord& r) {
  return json{{"b", r.bucket}, {"k", r.key}, {"id", r.upload_id}, {"i", r.initiated_ms},
              {"o", object_to_json(r.object)}}
      .dump();
}

std::string encode(const PartRecord& r) {
  return json{{"n", r.number}, {"s", r.size}, {"e", r.etag}, {"m", r.modified_ms},
              {"b", r.blob},   {"k", r.checksum}, {"a", r.checksum_algorithm}}
      .dump();
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

void BlobStore::Writer::append(std::string_view data) {
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

std::unique_ptr<BlobStore::Writer> BlobStore::new_writer() {
  // Time first, then randomness: new chunks sort after older ones, so each flush's keys land at
  // the end of the data space and compaction merges them with the newest file only, instead of
  // rewriting every chunk reference (random ids made every flush overlap the whole space).
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string id;
  for (int shift = 56; shift >= 0; shift -= 8) {
    id.push_back(static_cast<char>((static_cast<std::uint64_t>(micros) >> shift) & 0xFF));
  }
  id += protocol::random_bytes(4);
  return std::make_unique<Writer>(*this, protocol::hex(id));
}

BlobStore::Reader::Reader(BlobStore& owner, std::vector<Segment> segments, std::uint64_t offset,
                          std::uint64_t length)
    : owner_(owner), segments_(std::move(segments)), skip_(offset), left_(length) {
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
      current_ = std::make_unique<storage::BlobReader>(owner_.store_, Space::kS3Data,
                                                       data_prefix(s.blob), skip_, len);
      skip_ = 0;
    }
    auto got = current_->read(buf, static_cast<std::size_t>(std::min<std::uint64_t>(n, left_)));
    if (got > 0) {
      left_ -= got;
      return got;
    }
    current_.reset();
    ++index_;
  }
  return 0;
}

void BlobStore::retire(storage::Batch& batch, std::string_view blob) {
  batch.put(Space::kS3Meta, garbage_key(blob), "");
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
