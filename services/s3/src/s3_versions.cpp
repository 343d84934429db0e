// Versioning and Object Lock: version ids, what a write or a delete does to a key's versions in
// an unversioned, Enabled or Suspended bucket, finding a version by id, PutBucketVersioning, and
// the retention and legal hold that keep a version from being deleted.
//
// A key's current version lives at O|bucket|key (listing the latest objects stays one scan); a
// write in a versioned bucket moves the version it replaces to N|bucket|key|~seq, so a key's
// noncurrent versions follow it newest first. The null version (the one unversioned and
// Suspended buckets write) has no id of its own: at most one per key, current or not.

#include <array>
#include <chrono>
#include <cmath>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

using storage::Space;
using json = nlohmann::json;

// The characters of AWS's version ids; 32 of them carry 24 bytes.
constexpr std::string_view kIdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
constexpr std::size_t kIdChars = 32;
constexpr std::int64_t kDayMs = 86'400'000;

int id_digit(char ch) {
  auto at = kIdAlphabet.find(ch);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

AwsError invalid_version_id(std::string_view id) {
  return errors::invalid_argument("Invalid version id specified", "versionId", id);
}

AwsError missing_lock_configuration() {
  return AwsError("InvalidRequest", 400, "Bucket is missing Object Lock Configuration");
}

AwsError locked() {
  return AwsError("AccessDenied", 403, "Access Denied because object protected by object lock.");
}

void write_or_fail(storage::Store& store, storage::Batch& batch) {
  if (auto st = store.write(batch); !st) {
    throw protocol::errors::internal_failure(st.message());
  }
}

/// "2026-12-31T00:00:00Z", with optional fraction and a Z or ±hh:mm offset → epoch ms.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view t) {
  auto num = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > t.size()) {
      return std::nullopt;
    }
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') {
        return std::nullopt;
      }
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), s = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || t.size() < 20 || t[4] != '-' || t[7] != '-' ||
      (t[10] != 'T' && t[10] != 't') || t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*mo)),
                                  std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  std::int64_t ms = 0;
  if (at < t.size() && t[at] == '.') {
    std::size_t digits = 0;
    for (++at; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at, ++digits) {
      if (digits < 3) {
        ms = ms * 10 + (t[at] - '0');
      }
    }
    for (; digits < 3; ++digits) {
      ms *= 10;
    }
  }
  std::int64_t offset_min = 0;
  if (at < t.size() && (t[at] == 'Z' || t[at] == 'z')) {
    ++at;
  } else if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
    auto oh = num(at + 1, 2), om = num(at + 4, 2);
    if (!oh || !om || t[at + 3] != ':') {
      return std::nullopt;
    }
    offset_min = (*oh * 60 + *om) * (t[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != t.size()) {
    return std::nullopt;
  }
  const auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return ((days * 24 + *h) * 60 + *mi - offset_min) * 60'000 + std::int64_t{*s} * 1000 + ms;
}

/// A codec timestamp (epoch seconds) in milliseconds.
std::optional<std::int64_t> codec_time_ms(const json& v) {
  if (!v.is_number()) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::llround(v.get<double>() * 1000.0));
}

/// The retention a DefaultRetention rule (JSON text as stored) gives an object created at `now_ms`.
std::int64_t default_retention_until(const json& rule, std::int64_t now_ms) {
  const auto& r = rule.at("DefaultRetention");
  if (auto d = r.find("Days"); d != r.end()) {
    return now_ms + d->get<std::int64_t>() * kDayMs;
  }
  return now_ms + r.at("Years").get<std::int64_t>() * 365 * kDayMs;
}

}  // namespace

std::string make_version_id(std::uint64_t seq) {
  const std::string noise = protocol::random_bytes(16, protocol::Randomness::kIdentifier);
  std::array<unsigned char, 24> bytes{};
  for (std::size_t i = 0; i < 16; ++i) {
    bytes[8 + i] = static_cast<unsigned char>(noise[i]);
  }
  // The order rides in the id (masked by the noise) so a version is found with one read.
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>((seq >> (56 - 8 * i)) & 0xff) ^ bytes[8 + i];
  }
  std::string id;
  id.reserve(kIdChars);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) {
      id.push_back(kIdAlphabet[(v >> shift) & 63]);
    }
  }
  return id;
}

std::optional<std::uint64_t> version_seq(std::string_view id) {
  if (id.size() != kIdChars) {
    return std::nullopt;
  }
  std::array<unsigned char, 24> bytes{};
  for (std::size_t i = 0, o = 0; i < kIdChars; i += 4, o += 3) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int d = id_digit(id[i + k]);
      if (d < 0) {
        return std::nullopt;
      }
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    bytes[o] = static_cast<unsigned char>(v >> 16);
    bytes[o + 1] = static_cast<unsigned char>(v >> 8);
    bytes[o + 2] = static_cast<unsigned char>(v);
  }
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    seq = (seq << 8) | static_cast<unsigned char>(bytes[i] ^ bytes[8 + i]);
  }
  return seq;
}

std::string shown_version_id(const ObjectRecord& o) { return o.version_id.empty() ? "null" : o.version_id; }

void add_version_headers(Response& r, const BucketRecord& b, const ObjectRecord& o) {
  if (!b.versioning.empty() || !o.version_id.empty()) {
    r.headers.set("x-amz-version-id", shown_version_id(o));
  }
}

std::uint64_t S3Service::next_seq(const std::optional<ObjectRecord>& current) {
  std::uint64_t floor = static_cast<std::uint64_t>(std::max<std::int64_t>(clock_.now_ms(), 0)) * 1000;
  if (current) {
    floor = std::max(floor, current->seq + 1);
  }
  auto last = last_seq_.load();
  std::uint64_t next = 0;
  do {
    next = std::max(floor, last + 1);
  } while (!last_seq_.compare_exchange_weak(last, next));
  return next;
}

std::optional<S3Service::Version> S3Service::null_noncurrent(std::string_view bucket, std::string_view key) {
  for (auto cur = store_.scan_prefix(Space::kS3Meta, noncurrent_prefix(bucket, key)); cur.valid(); cur.next()) {
    ObjectRecord r;
    if (decode(cur.value(), r) && r.version_id.empty()) {
      return Version{std::move(r), std::string(cur.key()), false};
    }
  }
  return std::nullopt;
}

std::optional<S3Service::Version> S3Service::find_version(std::string_view bucket, std::string_view key,
                                                          std::string_view version_id) {
  const bool null_version = version_id == "null";
  std::optional<std::uint64_t> seq;
  if (!null_version) {
    seq = version_seq(version_id);
    if (!seq) {
      throw invalid_version_id(version_id);
    }
  }
  auto current = load_object(bucket, key);
  if (!current) {
    return std::nullopt;  // no O record: the key has no versions at all
  }
  if (null_version ? current->version_id.empty() : current->version_id == version_id) {
    return Version{std::move(*current), object_key(bucket, key), true};
  }
  if (null_version) {
    return null_noncurrent(bucket, key);
  }
  auto store_key = noncurrent_key(bucket, key, *seq);
  auto raw = store_.get(Space::kS3Meta, store_key);
  ObjectRecord r;
  if (!raw || !decode(*raw, r) || r.version_id != version_id) {
    return std::nullopt;
  }
  return Version{std::move(r), std::move(store_key), false};
}

S3Service::Version S3Service::require_version(const Call& c, const BucketRecord& /*checked by the caller*/) {
  const std::string* id = c.param("versionId");
  if (id == nullptr) {
    auto o = load_object(c.bucket, c.key);
    if (!o) {
      throw errors::no_such_key(c.key);
    }
    if (o->delete_marker) {
      auto e = errors::no_such_key(c.key);
      e.headers.emplace_back("x-amz-delete-marker", "true");
      e.headers.emplace_back("x-amz-version-id", shown_version_id(*o));
      throw e;
    }
    return Version{std::move(*o), object_key(c.bucket, c.key), true};
  }
  if (id->empty()) {
    throw errors::invalid_argument("Version id cannot be the empty string", "versionId", *id);
  }
  auto v = find_version(c.bucket, c.key, *id);
  if (!v) {
    throw AwsError("NoSuchVersion", 404, "The specified version does not exist.")
        .with_field("Key", c.key)
        .with_field("VersionId", *id);
  }
  if (v->record.delete_marker) {
    AwsError e("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
    e.with_field("Method", c.ctx.head.method).with_field("ResourceType", "DeleteMarker");
    e.headers.emplace_back("x-amz-delete-marker", "true");
    e.headers.emplace_back("x-amz-version-id", shown_version_id(v->record));
    e.headers.emplace_back("Last-Modified", http_date(v->record.modified_ms));
    throw e;
  }
  return std::move(*v);
}

void S3Service::stamp_version(const BucketRecord& b, ObjectRecord& record, const std::optional<ObjectRecord>& previous) {
  record.seq = b.versioning.empty() ? 0 : next_seq(previous);
  record.version_id = b.versioning == "Enabled" ? make_version_id(record.seq) : std::string();
  apply_default_retention(b, record);
}

void S3Service::commit_object(const BucketRecord& b, std::string_view key, ObjectRecord& record,
                              const std::optional<ObjectRecord>& previous, storage::Batch& batch,
                              std::vector<std::string> retired) {
  if (record.seq == 0) {
    stamp_version(b, record, previous);
  }
  if (previous) {
    // The version being replaced is kept unless it is the null version and this write makes a
    // new null version (unversioned and Suspended buckets).
    if (previous->version_id.empty() && record.version_id.empty()) {
      for (const auto& s : previous->segments) {
        bool reused = std::any_of(record.segments.begin(), record.segments.end(),
                                  [&](const Segment& n) { return n.blob == s.blob; });
        if (!reused) {
          blobs_.retire(batch, s.blob);
          retired.push_back(s.blob);
        }
      }
    } else {
      batch.put(Space::kS3Meta, noncurrent_key(b.name, key, previous->seq), encode(*previous));
    }
  }
  if (b.versioning == "Suspended" && (!previous || !previous->version_id.empty())) {
    // Only one null version per key: a noncurrent one goes when a new one is written.
    if (auto old_null = null_noncurrent(b.name, key)) {
      batch.del(Space::kS3Meta, old_null->store_key);
      blobs_.retire(batch, old_null->record.segments, retired);
    }
  }
  batch.put(Space::kS3Meta, object_key(b.name, key), encode(record));
  write_or_fail(store_, batch);
  blobs_.collect(retired);
}

S3Service::Removal S3Service::remove_object(const Call& c, const BucketRecord& b, std::string_view key,
                                            const std::string* version_id) {
  Removal out;
  std::vector<std::string> retired;
  storage::Batch batch;
  auto current = load_object(b.name, key);
  if (version_id == nullptr) {
    if (b.versioning.empty()) {
      if (!current) {
        return out;
      }
      batch.del(Space::kS3Meta, object_key(b.name, key));
      blobs_.retire(batch, current->segments, retired);
      write_or_fail(store_, batch);
      blobs_.collect(retired);
      out.removed = true;
      return out;
    }
    // A versioned bucket keeps the data: a delete marker becomes the current version.
    ObjectRecord marker;
    marker.delete_marker = true;
    marker.owner = c.ctx.account_id;
    marker.modified_ms = c.now_ms();
    commit_object(b, key, marker, current, batch);
    out.delete_marker = true;
    out.version_id = shown_version_id(marker);
    out.created_marker = true;
    out.removed = true;
    return out;
  }
  if (version_id->empty()) {
    throw errors::invalid_argument("Version id cannot be the empty string", "versionId", *version_id);
  }
  out.version_id = *version_id;
  auto v = find_version(b.name, key, *version_id);
  if (!v) {
    return out;  // deleting a version that does not exist succeeds
  }
  check_deletable(c, v->record);
  out.delete_marker = v->record.delete_marker;
  out.removed = true;
  batch.del(Space::kS3Meta, v->store_key);
  blobs_.retire(batch, v->record.segments, retired);
  if (v->current) {
    // The newest noncurrent version (if any) becomes current.
    auto cur = store_.scan_prefix(Space::kS3Meta, noncurrent_prefix(b.name, key));
    if (cur.valid()) {
      batch.put(Space::kS3Meta, object_key(b.name, key), std::string(cur.value()));
      batch.del(Space::kS3Meta, cur.key());
    }
  }
  write_or_fail(store_, batch);
  blobs_.collect(retired);
  return out;
}

void S3Service::check_deletable(const Call& c, const ObjectRecord& o) const {
  if (o.legal_hold == "ON") {
    throw locked();
  }
  if (o.lock_mode.empty() || o.lock_until_ms <= c.now_ms()) {
    return;
  }
  if (o.lock_mode == "GOVERNANCE" && bypasses_governance(c)) {
    return;
  }
  throw locked();
}

bool S3Service::bypasses_governance(const Call& c) {
  auto h = c.header("x-amz-bypass-governance-retention");
  return h && protocol::iequals(*h, "true");
}

// ---- PutBucketVersioning / GetBucketVersioning

Response S3Service::put_bucket_versioning(Call& c) {
  auto doc = decode_body_xml("PutBucketVersioning", c.body);
  std::optional<std::string> status;
  std::optional<std::string> mfa;
  if (auto s = doc.find("Status"); s != doc.end()) {
    status = s->get<std::string>();
    if (*status != "Enabled" && *status != "Suspended") {
      throw errors::malformed_xml();
    }
  }
  if (auto m = doc.find("MFADelete"); m != doc.end()) {
    mfa = m->get<std::string>();
    if (*mfa != "Enabled" && *mfa != "Disabled") {
      throw errors::malformed_xml();
    }
  }
  return update_bucket(c, 200, [&](BucketRecord& b) {
    if (status == "Suspended" && !b.object_lock.empty()) {
      throw AwsError("InvalidBucketState", 409,
                     "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.");
    }
    if (status) {
      b.versioning = *status;
    }
    if (mfa) {
      b.mfa_delete = *mfa;
    }
  });
}

Response S3Service::get_bucket_versioning(Call& c) {
  auto b = require_bucket(c);
  json v = json::object();
  if (!b.versioning.empty()) {
    v["Status"] = b.versioning;
  }
  if (!b.mfa_delete.empty()) {
    v["MFADelete"] = b.mfa_delete;
  }
  return xml_response(encode_output_xml("GetBucketVersioning", v, "VersioningConfiguration"));
}

// ---- Object Lock

void S3Service::apply_default_retention(const BucketRecord& b, ObjectRecord& record) {
  if ((!record.lock_mode.empty() || !record.legal_hold.empty()) && b.object_lock.empty()) {
    throw missing_lock_configuration();
  }
  if (record.delete_marker || !record.lock_mode.empty() || b.lock_rule.empty()) {
    return;
  }
  const auto rule = json::parse(b.lock_rule);
  record.lock_mode = rule.at("DefaultRetention").at("Mode").get<std::string>();
  record.lock_until_ms = default_retention_until(rule, record.modified_ms);
}

void S3Service::read_lock_headers(const Call& c, ObjectRecord& record) {
  auto mode = c.header("x-amz-object-lock-mode");
  auto until = c.header("x-amz-object-lock-retain-until-date");
  if (mode || until) {
    if (!mode || !until) {
      throw errors::invalid_argument(
          "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied");
    }
    if (*mode != "GOVERNANCE" && *mode != "COMPLIANCE") {
      throw errors::invalid_argument("Unknown wormMode directive.", "x-amz-object-lock-mode", *mode);
    }
    auto ms = parse_iso8601_ms(*until);
    if (!ms) {
      throw errors::invalid_argument("The retain until date must be provided in ISO 8601 format",
                                     "x-amz-object-lock-retain-until-date", *until);
    }
    if (*ms <= c.now_ms()) {
      throw errors::invalid_argument("The retain until date must be in the future!");
    }
    record.lock_mode = std::string(*mode);
    record.lock_until_ms = *ms;
  }
  if (auto hold = c.header("x-amz-object-lock-legal-hold")) {
    if (*hold != "ON" && *hold != "OFF") {
      throw errors::invalid_argument("Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold",
                                     *hold);
    }
    record.legal_hold = std::string(*hold);
  }
}

void add_lock_headers(Response& r, const ObjectRecord& o) {
  if (!o.lock_mode.empty()) {
    r.headers.set("x-amz-object-lock-mode", o.lock_mode);
    r.headers.set("x-amz-object-lock-retain-until-date", iso8601_ms(o.lock_until_ms));
  }
  if (!o.legal_hold.empty()) {
    r.headers.set("x-amz-object-lock-legal-hold", o.legal_hold);
  }
}

Response S3Service::put_object_lock_configuration(Call& c) {
  auto doc = decode_body_xml("PutObjectLockConfiguration", c.body);
  if (doc.value("ObjectLockEnabled", std::string()) != "Enabled") {
    throw errors::malformed_xml();
  }
  std::string rule_text;
  if (auto rule = doc.find("Rule"); rule != doc.end()) {
    auto dr = rule->find("DefaultRetention");
    if (dr == rule->end()) {
      throw errors::malformed_xml();
    }
    const auto mode = dr->value("Mode", std::string());
    const bool days = dr->contains("Days");
    const bool years = dr->contains("Years");
    if ((mode != "GOVERNANCE" && mode != "COMPLIANCE") || days == years) {
      throw errors::malformed_xml();
    }
    const auto n = dr->at(days ? "Days" : "Years").get<std::int64_t>();
    if (n <= 0) {
      throw errors::invalid_argument("Default retention period must be a positive integer value.",
                                     days ? "Days" : "Years", std::to_string(n));
    }
    rule_text = json{{"DefaultRetention", {{"Mode", mode}, {days ? "Days" : "Years", n}}}}.dump();
  }
  return update_bucket(c, 200, [&](BucketRecord& b) {
    if (b.versioning != "Enabled") {
      throw AwsError("InvalidBucketState", 409,
                     "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
    }
    b.object_lock = "Enabled";
    b.lock_rule = rule_text;
  });
}

Response S3Service::get_object_lock_configuration(Call& c) {
  auto b = require_bucket(c);
  if (b.object_lock.empty()) {
    throw AwsError("ObjectLockConfigurationNotFoundError", 404,
                   "Object Lock configuration does not exist for this bucket")
        .with_field("BucketName", c.bucket);
  }
  json config{{"ObjectLockEnabled", "Enabled"}};
  if (!b.lock_rule.empty()) {
    config["Rule"] = json::parse(b.lock_rule);
  }
  return xml_response(encode_output_xml("GetObjectLockConfiguration", config));
}

S3Service::Version S3Service::lock_target(const Call& c, BucketRecord& b) {
  b = require_bucket(c);
  if (b.object_lock.empty()) {
    throw missing_lock_configuration();
  }
  return require_version(c, b);
}

Response S3Service::update_version(Call& c, const std::function<void(const BucketRecord&, ObjectRecord&)>& change) {
  BucketRecord b;
  std::lock_guard lock(locks_.of(c.bucket, c.key));
  auto v = lock_target(c, b);
  change(b, v.record);
  if (auto st = store_.put(Space::kS3Meta, v.store_key, encode(v.record)); !st) {
    throw protocol::errors::internal_failure(st.message());
  }
  Response r(200, "");
  add_version_headers(r, b, v.record);
  return r;
}

Response S3Service::put_object_retention(Call& c) {
  auto doc = decode_body_xml("PutObjectRetention", c.body);
  std::string mode = doc.value("Mode", std::string());
  std::optional<std::int64_t> until;
  if (auto u = doc.find("RetainUntilDate"); u != doc.end()) {
    until = codec_time_ms(*u);
  }
  if (!mode.empty() && mode != "GOVERNANCE" && mode != "COMPLIANCE") {
    throw errors::malformed_xml();
  }
  if (mode.empty() != !until.has_value()) {
    throw errors::malformed_xml();
  }
  if (until && *until <= c.now_ms()) {
    throw errors::invalid_argument("The retain until date must be in the future!");
  }
  return update_version(c, [&](const BucketRecord&, ObjectRecord& o) {
    const bool active = !o.lock_mode.empty() && o.lock_until_ms > c.now_ms();
    if (active) {
      // Lengthening is always allowed; anything else weakens the lock.
      const bool weakens = mode.empty() || *until < o.lock_until_ms || (o.lock_mode == "COMPLIANCE" && mode != "COMPLIANCE");
      if (weakens && (o.lock_mode == "COMPLIANCE" || !bypasses_governance(c))) {
        throw locked();
      }
    }
    o.lock_mode = mode;
    o.lock_until_ms = until.value_or(0);
  });
}

Response S3Service::get_object_retention(Call& c) {
  BucketRecord b;
  auto v = lock_target(c, b);
  if (v.record.lock_mode.empty()) {
    throw AwsError("NoSuchObjectLockConfiguration", 404, "The specified object does not have a ObjectLock configuration");
  }
  json retention{{"Mode", v.record.lock_mode}, {"RetainUntilDate", static_cast<double>(v.record.lock_until_ms) / 1000.0}};
  return xml_response(encode_output_xml("GetObjectRetention", retention));
}

Response S3Service::put_object_legal_hold(Call& c) {
  auto doc = decode_body_xml("PutObjectLegalHold", c.body);
  auto status = doc.value("Status", std::string());
  if (status != "ON" && status != "OFF") {
    throw errors::malformed_xml();
  }
  return update_version(c, [&](const BucketRecord&, ObjectRecord& o) {
    o.legal_hold = status;
  });
}

Response S3Service::get_object_legal_hold(Call& c) {
  BucketRecord b;
  auto v = lock_target(c, b);
  if (v.record.legal_hold.empty()) {
    throw AwsError("NoSuchObjectLockConfiguration", 404, "The specified object does not have a ObjectLock configuration");
  }
  return xml_response(encode_output_xml("GetObjectLegalHold", json{{"Status", v.record.legal_hold}}));
}

}  // namespace fogbank::s3
