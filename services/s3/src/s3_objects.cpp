// Object operations: Put/Get/Head/Delete, DeleteObjects, CopyObject, tagging, attributes.

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/uri.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

constexpr std::size_t kMaxKeyBytes = 1024;
constexpr std::uint64_t kInlineBodyLimit = 256 * 1024;  // smaller GETs are answered from one string

/// The checks of a key an object is about to be created under (PutObject, CopyObject).
void check_new_key(const Call& c) {
  check_key_encoding(c.key);
  if (c.key.size() > kMaxKeyBytes) {
    throw AwsError("KeyTooLongError", 400, "Your key is too long")
        .with_field("MaxSizeAllowed", std::to_string(kMaxKeyBytes))
        .with_field("Size", std::to_string(c.key.size()));
  }
}

/// Streams an object range out of storage.
class ObjectProducer final : public protocol::BodyProducer {
 public:
  ObjectProducer(BlobStore& blobs, std::vector<Segment> segments, std::uint64_t offset, std::uint64_t length,
                 std::string key)
      : reader_(blobs, std::move(segments), offset, length, std::move(key)) {}
  std::size_t read(char* buf, std::size_t n) override { return reader_.read(buf, n); }

 private:
  BlobStore::Reader reader_;
};

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

AwsError invalid_range(std::string_view requested, std::uint64_t size) {
  return AwsError("InvalidRange", 416, "The requested range is not satisfiable")
      .with_field("RangeRequested", std::string(requested))
      .with_field("ActualObjectSize", std::to_string(size));
}

/// Parses a Range header as S3 does: one `bytes=` range; anything S3 does not understand is
/// ignored (the whole object is returned), an unsatisfiable range is a 416.
std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size) {
  std::string_view spec = header;
  if (!spec.starts_with("bytes=")) {
    return std::nullopt;
  }
  spec.remove_prefix(6);
  if (spec.find(',') != std::string_view::npos) {
    return std::nullopt;
  }
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return std::nullopt;
  }
  auto number = [](std::string_view t, std::uint64_t& out) {
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return !t.empty() && ec == std::errc() && end == t.data() + t.size();
  };
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  auto first = spec.substr(0, dash);
  auto last = spec.substr(dash + 1);
  if (first.empty()) {
    if (!number(last, b)) {
      return std::nullopt;
    }
    if (b == 0 || size == 0) {
      throw invalid_range(header, size);
    }
    return ByteRange{size - std::min(b, size), size - 1};
  }
  if (!number(first, a)) {
    return std::nullopt;
  }
  if (last.empty()) {
    b = size == 0 ? 0 : size - 1;
  } else if (!number(last, b) || b < a) {
    return std::nullopt;
  }
  if (a >= size) {
    throw invalid_range(header, size);
  }
  return ByteRange{a, std::min(b, size - 1)};
}

/// GET/HEAD preconditions with RFC 7232's precedence, as S3 applies them.
void check_read_conditions(const Call& c, const ObjectRecord& o) {
  std::int64_t modified = o.modified_ms / 1000;
  auto etag_matches = [&](std::string_view list) {
    for (auto item : protocol::split_list(list)) {
      auto etag = unquoted(item);
      if (etag == "*" || etag == o.etag) {
        return true;
      }
    }
    return false;
  };
  auto im = c.header("if-match");
  if (im && !etag_matches(*im)) {
    throw errors::precondition_failed("If-Match");
  }
  if (!im) {
    if (auto ius = c.header("if-unmodified-since")) {
      if (auto t = parse_http_date(*ius); t && modified > *t) {
        throw errors::precondition_failed("If-Unmodified-Since");
      }
    }
  }
  bool not_modified = false;
  if (auto inm = c.header("if-none-match")) {
    not_modified = etag_matches(*inm);
  } else if (auto ims = c.header("if-modified-since")) {
    auto t = parse_http_date(*ims);
    not_modified = t && modified <= *t && *t <= c.ctx.now;
  }
  if (not_modified) {
    AwsError e("NotModified", 304, "Not Modified");
    e.headers.emplace_back("ETag", quote_etag(o.etag));
    e.headers.emplace_back("Last-Modified", http_date(o.modified_ms));
    throw e;
  }
}

void add_object_headers(Response& r, const ObjectRecord& o, const Call& c) {
  static constexpr std::pair<std::string_view, std::string_view> kOverrides[] = {
      {"Content-Type", "response-content-type"},
      {"Content-Language", "response-content-language"},
      {"Expires", "response-expires"},
      {"Cache-Control", "response-cache-control"},
      {"Content-Disposition", "response-content-disposition"},
      {"Content-Encoding", "response-content-encoding"}};
  for (const auto& [name, value] : o.headers) {
    r.headers.set(name, value);
  }
  for (const auto& [header, param] : kOverrides) {
    if (const auto* v = c.param(param)) {
      r.headers.set(std::string(header), *v);
    }
  }
  for (const auto& [name, value] : o.metadata) {
    r.headers.add("x-amz-meta-" + name, value);
  }
  r.headers.set("ETag", quote_etag(o.etag));
  r.headers.set("Last-Modified", http_date(o.modified_ms));
  r.headers.set("Accept-Ranges", "bytes");
  add_encryption_headers(r, o);  // S3 reports every object encrypted (SSE-S3 at least)
  if (o.storage_class != "STANDARD") {
    r.headers.set("x-amz-storage-class", o.storage_class);
  }
  if (!o.tags.empty()) {
    r.headers.set("x-amz-tagging-count", std::to_string(o.tags.size()));
  }
}

std::uint32_t parse_part_number(std::string_view text) {
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > kMaxPartNumber) {
    throw errors::invalid_argument("Part number must be an integer between 1 and 10000, inclusive",
                                   "partNumber", text);
  }
  return n;
}

/// PutObject's body sink: bytes go to a new blob as they arrive; finish() verifies the digests
/// and commits the record (which makes the blob visible) in one batch.
class PutObjectSink final : public protocol::BodySink {
 public:
  PutObjectSink(S3Service& s3, std::shared_ptr<Call> call, ObjectRecord record, const std::string& key)
      : s3_(s3), call_(std::move(call)), record_(std::move(record)), digests_(*call_, {}, true),
        writer_(s3.blobs_.new_writer()) {
    if (!key.empty()) {
      writer_->encrypt_with(key);
    }
  }

  void write(std::string_view data) override {
    digests_.update(data);
    writer_->append(data);
  }

  Response finish() override {
    auto& c = *call_;
    digests_.verify(c);
    record_.etag = digests_.md5_hex;
    record_.size = writer_->size();
    record_.checksum_algorithm = digests_.checksum_algorithm;
    record_.checksum = digests_.checksum;
    record_.checksum_type = digests_.checksum.empty() ? "" : "FULL_OBJECT";
    record_.segments = {Segment{writer_->blob(), writer_->size(), {}, {}}};
    std::optional<S3Service::PendingEvent> event;
    {
      std::lock_guard lock(s3_.locks_.of(c.bucket, c.key));
      auto bucket = s3_.require_bucket(c);
      auto current = s3_.load_object(c.bucket, c.key);
      S3Service::check_write_conditions(c, current);
      storage::Batch batch;
      writer_->finish(batch);
      s3_.commit_object(bucket, c.key, record_, current, batch);
      if (bucket.notifications) {
        event = s3_.object_event(c, bucket, EventKind::kPut, c.key, &record_);
      }
      versioned_ = !bucket.versioning.empty();
      expiration_ = s3_.expiration_header(bucket, c.key, record_);
    }
    s3_.emit(std::move(event));
    Response r(200, "");
    r.headers.set("ETag", quote_etag(record_.etag));
    if (versioned_) {
      r.headers.set("x-amz-version-id", shown_version_id(record_));
    }
    if (expiration_) {
      r.headers.set("x-amz-expiration", *expiration_);
    }
    add_encryption_headers(r, record_);
    if (!record_.checksum.empty()) {
      r.headers.set("x-amz-checksum-" + protocol::ascii_lower(record_.checksum_algorithm), record_.checksum);
      r.headers.set("x-amz-checksum-type", "FULL_OBJECT");
    }
    return r;
  }

  void abort() noexcept override { writer_->abort(); }

 private:
  S3Service& s3_;
  std::shared_ptr<Call> call_;
  ObjectRecord record_;
  PayloadDigests digests_;
  std::unique_ptr<BlobStore::Writer> writer_;
  bool versioned_ = false;
  std::optional<std::string> expiration_;
};

}  // namespace

WriteOutcome S3Service::put_as_service(const ServiceObject& object) {
  protocol::RequestHead head;
  head.method = "PUT";
  head.target = "/" + object.bucket + "/" + protocol::uri_encode(object.key, true);
  head.split_target();
  head.headers.set("content-type", object.content_type);
  if (!object.content_encoding.empty()) {
    head.headers.set("content-encoding", object.content_encoding);
  }
  head.headers.set("content-length", std::to_string(object.body.size()));
  RequestContext ctx(head);
  ctx.request_id = protocol::random_upper_alnum(16, protocol::Randomness::kIdentifier);
  ctx.account_id = object.account;
  ctx.region = object.region;
  ctx.caller.account_id = object.account;
  ctx.caller.arn = object.principal;
  ctx.now_ms = clock_.now_ms();
  ctx.now = ctx.now_ms / 1000;
  ctx.clock = &clock_;
  ctx.operation = "PutObject";
  ctx.iam_action = "s3:PutObject";
  ctx.authenticated = true;
  auto call = std::make_shared<Call>(ctx);
  call->bucket = object.bucket;
  call->key = object.key;
  WriteOutcome out;
  try {
    check_new_key(*call);
    auto bucket = require_bucket(*call);
    auto record = object_from_headers(*call);
    auto key = choose_encryption(*call, bucket, record);
    PutObjectSink sink(*this, call, std::move(record), key);
    try {
      sink.write(object.body);
      Response r = sink.finish();
      out.written = true;
      out.etag = unquoted(r.headers.get("etag").value_or(""));
    } catch (...) {
      sink.abort();
      throw;
    }
  } catch (const AwsError& e) {
    out.error_code = e.code;
    out.message = e.message;
  }
  return out;
}

std::unique_ptr<protocol::BodySink> S3Service::put_object(std::shared_ptr<Call> c) {
  check_new_key(*c);
  if (!c->header("content-length") && !c->header("x-amz-decoded-content-length")) {
    throw AwsError("MissingContentLength", 411, "You must provide the Content-Length HTTP header.");
  }
  auto bucket = require_bucket(*c);
  auto record = object_from_headers(*c);
  record.acl = requested_acl(*c, bucket, c->ctx.account_id, true).value_or("");
  apply_default_retention(bucket, record);
  auto key = choose_encryption(*c, bucket, record);
  // Fail fast on a doomed conditional write; it is checked again when the upload commits.
  if (c->header("if-none-match") || c->header("if-match")) {
    check_write_conditions(*c, load_object(c->bucket, c->key));
  }
  return std::make_unique<PutObjectSink>(*this, std::move(c), std::move(record), key);
}

namespace {

Response read_object(S3Service& s3, Call& c, bool with_body) {
  auto bucket = s3.require_bucket(c);
  auto version = s3.require_version(c, bucket);
  const auto& o = version.record;
  auto key = s3.data_key(c, o);
  check_read_conditions(c, o);
  Response r(200, "");
  add_object_headers(r, o, c);
  if (auto expiration = version.current ? s3.expiration_header(bucket, c.key, o) : std::nullopt) {
    r.headers.set("x-amz-expiration", *expiration);
  }
  add_version_headers(r, bucket, o);
  add_lock_headers(r, o);
  std::uint64_t offset = 0;
  std::uint64_t length = o.size;
  auto range_header = c.header("range");
  if (const auto* pn = c.param("partNumber")) {
    if (range_header) {
      throw AwsError("InvalidRequest", 400, "Cannot specify both Range header and partNumber query parameter");
    }
    auto n = parse_part_number(*pn);
    std::uint32_t parts = o.parts_count == 0 ? 1 : o.parts_count;
    if (n > parts) {
      throw AwsError("InvalidPartNumber", 416, "The requested partnumber is not satisfiable")
          .with_field("PartNumberRequested", std::to_string(n))
          .with_field("ActualPartCount", std::to_string(parts));
    }
    if (o.parts_count > 0) {
      for (std::uint32_t i = 0; i + 1 < n; ++i) {
        offset += o.segments[i].size;
      }
      length = o.segments[n - 1].size;
      r.headers.set("x-amz-mp-parts-count", std::to_string(o.parts_count));
    }
    r.status = 206;
    r.headers.set("Content-Range", "bytes " + std::to_string(offset) + "-" +
                                       std::to_string(offset + length - (length > 0 ? 1 : 0)) + "/" +
                                       std::to_string(o.size));
  } else if (range_header) {
    if (auto range = parse_range(*range_header, o.size)) {
      offset = range->first;
      length = range->last - range->first + 1;
      r.status = 206;
      r.headers.set("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                         std::to_string(range->last) + "/" + std::to_string(o.size));
    }
  }
  bool whole = offset == 0 && length == o.size;
  if (c.header("x-amz-checksum-mode") && protocol::iequals(*c.header("x-amz-checksum-mode"), "ENABLED") &&
      !o.checksum.empty() && whole) {
    r.headers.set("x-amz-checksum-" + protocol::ascii_lower(o.checksum_algorithm), o.checksum);
    r.headers.set("x-amz-checksum-type", o.checksum_type);
  }
  if (!with_body) {
    r.content_length = length;
    return r;
  }
  if (length <= kInlineBodyLimit) {
    BlobStore::Reader reader(s3.blobs_, o.segments, offset, length, key);
    r.body.resize(length);
    std::size_t got = 0;
    while (got < length) {
      auto n = reader.read(r.body.data() + got, length - got);
      if (n == 0) {
        throw protocol::errors::internal_failure("object data shorter than its record");
      }
      got += n;
    }
  } else {
    r.producer = std::make_unique<ObjectProducer>(s3.blobs_, o.segments, offset, length, std::move(key));
    r.content_length = length;
  }
  return r;
}

}  // namespace

Response S3Service::get_object(Call& c) { return read_object(*this, c, true); }

Response S3Service::head_object(Call& c) { return read_object(*this, c, false); }

void S3Service::check_delete_condition(std::string_view bucket, std::string_view key, const std::string* version_id,
                                       std::string_view if_match) {
  std::optional<ObjectRecord> o;
  if (version_id == nullptr) {
    o = load_object(bucket, key);
  } else if (auto v = find_version(bucket, key, *version_id)) {
    o = std::move(v->record);
  }
  if (!o || o->delete_marker) {
    throw errors::no_such_key(key);
  }
  if (unquoted(if_match) != o->etag && unquoted(if_match) != "*") {
    throw errors::precondition_failed("If-Match");
  }
}

Response S3Service::delete_object(Call& c) {
  auto bucket = require_bucket(c);
  std::optional<PendingEvent> event;
  Removal removal;
  {
    std::lock_guard lock(locks_.of(c.bucket, c.key));
    if (auto im = c.header("if-match")) {
      check_delete_condition(c.bucket, c.key, c.param("versionId"), *im);
    }
    removal = remove_object(c, bucket, c.key, c.param("versionId"));
    // S3 reports the delete whether or not the key existed (the request succeeded either way).
    if (bucket.notifications) {
      event = object_event(c, bucket, removal.created_marker ? EventKind::kDeleteMarker : EventKind::kDelete,
                           c.key, nullptr, removal.version_id);
    }
  }
  emit(std::move(event));
  Response r(204, "");
  if (!removal.version_id.empty()) {
    r.headers.set("x-amz-version-id", removal.version_id);
  }
  if (removal.delete_marker) {
    r.headers.set("x-amz-delete-marker", "true");
  }
  return r;
}

Response S3Service::delete_objects(Call& c) {
  auto bucket = require_bucket(c);
  PayloadDigests digests(c);
  digests.update(c.body);
  digests.verify(c);
  auto request = decode_body_xml("DeleteObjects", c.body);
  auto objects = request.find("Objects");
  // S3 takes 1 to 1000 keys per request.
  if (objects == request.end() || objects->empty() || objects->size() > 1000) {
    throw errors::malformed_xml();
  }
  bool quiet = request.value("Quiet", false);
  // The whole request is checked before anything is deleted.
  struct Wanted {
    std::string key;
    std::optional<std::string> version;
    std::optional<std::string> etag;  ///< a conditional delete: only while the ETag matches
  };
  std::vector<Wanted> wanted;
  wanted.reserve(objects->size());
  auto optional_text = [](const protocol::codec::Value& obj, const char* name) -> std::optional<std::string> {
    auto v = obj.find(name);
    return v == obj.end() ? std::nullopt : std::optional<std::string>(v->get<std::string>());
  };
  for (const auto& obj : *objects) {
    auto k = obj.find("Key");
    if (k == obj.end()) {
      throw errors::malformed_xml();
    }
    wanted.push_back(Wanted{k->get<std::string>(), optional_text(obj, "VersionId"), optional_text(obj, "ETag")});
  }
  protocol::XmlWriter xml;
  xml.open("DeleteResult", kXmlns);
  for (const auto& [key, version, etag] : wanted) {
    if (key.empty() || key.size() > kMaxKeyBytes) {
      xml.open("Error").element("Key", key).element("Code", "InvalidArgument")
          .element("Message", "Invalid key").close();
      continue;
    }
    if (policy_denies(c, bucket, "s3:DeleteObject", key)) {
      xml.open("Error").element("Key", key).element("Code", "AccessDenied").element("Message", "Access Denied").close();
      continue;
    }
    std::optional<PendingEvent> event;
    Removal removal;
    try {
      std::lock_guard lock(locks_.of(c.bucket, key));
      if (etag) {
        check_delete_condition(c.bucket, key, version ? &*version : nullptr, *etag);
      }
      removal = remove_object(c, bucket, key, version ? &*version : nullptr);
      if (bucket.notifications) {
        event = object_event(c, bucket, removal.created_marker ? EventKind::kDeleteMarker : EventKind::kDelete,
                             key, nullptr, removal.version_id);
      }
    } catch (const AwsError& e) {
      xml.open("Error").element("Key", key);
      if (version) {
        xml.element("VersionId", *version);
      }
      xml.element("Code", e.code).element("Message", e.message).close();
      continue;
    }
    emit(std::move(event));
    if (!quiet) {
      xml.open("Deleted").element("Key", key);
      if (version) {
        xml.element("VersionId", *version);
      }
      if (removal.delete_marker) {
        xml.element("DeleteMarker", "true").element("DeleteMarkerVersionId", removal.version_id);
      }
      xml.close();
    }
  }
  return xml_response(xml.finish());
}

Response S3Service::copy_object(Call& c) {
  check_new_key(c);
  auto bucket = require_bucket(c);
  auto src = copy_source(c);
  std::string directive(c.header("x-amz-metadata-directive").value_or("COPY"));
  std::string tag_directive(c.header("x-amz-tagging-directive").value_or("COPY"));
  if (directive != "COPY" && directive != "REPLACE") {
    throw errors::invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", directive);
  }
  if (tag_directive != "COPY" && tag_directive != "REPLACE") {
    throw errors::invalid_argument("Unknown tagging directive.", "x-amz-tagging-directive", tag_directive);
  }
  bool same = src.bucket == c.bucket && src.key == c.key;
  // Copying an older version onto its key is how a version is restored: that is a change.
  const bool restores_version = same && c.header("x-amz-copy-source")->find("?versionId=") != std::string_view::npos &&
                                [&] {
                                  auto now_current = load_object(c.bucket, c.key);
                                  return !now_current || now_current->seq != src.object.seq;
                                }();
  if (same && !restores_version && directive == "COPY" && !c.header("x-amz-storage-class") &&
      !c.header("x-amz-website-redirect-location") && !c.header("x-amz-server-side-encryption") &&
      !c.header("x-amz-server-side-encryption-customer-algorithm")) {
    throw AwsError("InvalidRequest", 400,
                   "This copy request is illegal because it is trying to copy an object to itself "
                   "without changing the object's metadata, storage class, website redirect "
                   "location or encryption attributes.");
  }
  ObjectRecord fresh = object_from_headers(c);
  ObjectRecord record = src.object;
  record.owner = c.ctx.account_id;
  record.modified_ms = c.now_ms();
  if (directive == "REPLACE") {
    record.headers = fresh.headers;
    record.metadata = fresh.metadata;
  }
  record.storage_class = c.header("x-amz-storage-class") ? fresh.storage_class : "STANDARD";
  if (tag_directive == "REPLACE") {
    record.tags = fresh.tags;
  }
  record.version_id.clear();
  record.seq = 0;  // a new version: commit_object stamps it
  record.acl = requested_acl(c, bucket, c.ctx.account_id, true).value_or("");  // never the source's
  // The copy is encrypted as this request (or the bucket's default) says, not as the source was.
  const auto source_key = data_key(c, src.object, true);
  std::erase_if(record.headers, [](const auto& h) { return h.first.starts_with("x-amz-server-side-encryption"); });
  for (const auto& h : fresh.headers) {
    if (h.first.starts_with("x-amz-server-side-encryption")) {
      record.headers.push_back(h);
    }
  }
  const auto dest_key = choose_encryption(c, bucket, record);
  record.lock_mode.clear();
  record.lock_until_ms = 0;
  record.legal_hold.clear();
  read_lock_headers(c, record);
  // x-amz-checksum-algorithm picks the copy's checksum, computed over the copied bytes; without
  // it the source's algorithm carries over (recomputed over the whole object when the source's
  // was per part), and a source without one gets CRC-64/NVME, as every new object does.
  auto checksum_algorithm = requested_checksum_algorithm(c).value_or(
      record.checksum_algorithm.empty() ? std::string("CRC64NVME") : record.checksum_algorithm);
  const bool recompute_checksum = checksum_algorithm != record.checksum_algorithm ||
                                  record.checksum.empty() || record.checksum_type == "COMPOSITE";
  std::unique_lock lock(locks_.of(c.bucket, c.key));
  auto current = load_object(c.bucket, c.key);
  check_write_conditions(c, current);
  storage::Batch batch;
  // Blobs are shared only where the old record goes away in the same write: a copy onto the
  // current null version of the same key. Every other copy gets bytes of its own, so deleting
  // one version never takes another's data.
  if (same && bucket.versioning.empty() && current && src.object.seq == current->seq &&
      src.object.version_id == current->version_id && source_key.empty() && dest_key.empty() &&
      !recompute_checksum) {
    // Same bytes: the new record keeps the blobs (commit_object sees them reused).
  } else {
    auto copied = copy_bytes(src.object, 0, src.object.size, batch, source_key, dest_key,
                             recompute_checksum ? checksum_algorithm : std::string());
    record.segments = {Segment{copied.segment.blob, copied.segment.size, {}, {}}};
    record.etag = copied.md5_hex;  // a copy is a single-part object, whatever the source was
    record.parts_count = 0;
    if (recompute_checksum) {
      record.checksum_algorithm = checksum_algorithm;
      record.checksum = copied.checksum;
      record.checksum_type = "FULL_OBJECT";
    }
  }
  commit_object(bucket, c.key, record, current, batch);
  std::optional<PendingEvent> event;
  if (bucket.notifications) {
    event = object_event(c, bucket, EventKind::kCopy, c.key, &record);
  }
  lock.unlock();
  emit(std::move(event));
  protocol::XmlWriter xml;
  xml.open("CopyObjectResult", kXmlns)
      .element("ETag", quote_etag(record.etag))
      .element("LastModified", iso8601_ms(record.modified_ms));
  write_checksum_elements(xml, record.checksum_algorithm, record.checksum);
  auto r = xml_response(xml.finish());
  add_encryption_headers(r, record);
  add_version_headers(r, bucket, record);
  if (!src.version_id.empty()) {
    r.headers.set("x-amz-copy-source-version-id", src.version_id);
  }
  return r;
}

Response S3Service::change_version(Call& c, int status, EventKind kind,
                                   const std::function<void(const BucketRecord&, ObjectRecord&)>& change) {
  auto bucket = require_bucket(c);
  std::optional<PendingEvent> event;
  Response r(status, "");
  {
    std::lock_guard lock(locks_.of(c.bucket, c.key));
    auto v = require_version(c, bucket);
    change(bucket, v.record);
    if (auto st = store_.put(storage::Space::kS3Meta, v.store_key, encode(v.record)); !st) {
      throw protocol::errors::internal_failure(st.message());
    }
    if (bucket.notifications) {
      event = object_event(c, bucket, kind, c.key, &v.record);
    }
    add_version_headers(r, bucket, v.record);
  }
  emit(std::move(event));
  return r;
}

Response S3Service::put_object_tagging(Call& c) {
  auto tags = parse_tagging_xml(c.body, 10);
  return change_version(c, 200, EventKind::kTaggingPut,
                        [&](const BucketRecord&, ObjectRecord& o) { o.tags = std::move(tags); });
}

Response S3Service::get_object_tagging(Call& c) {
  auto bucket = require_bucket(c);
  auto v = require_version(c, bucket);
  auto r = tagging_response("GetObjectTagging", v.record.tags);
  add_version_headers(r, bucket, v.record);
  return r;
}

Response S3Service::delete_object_tagging(Call& c) {
  return change_version(c, 204, EventKind::kTaggingDelete, [](const BucketRecord&, ObjectRecord& o) { o.tags.clear(); });
}

Response S3Service::get_object_attributes(Call& c) {
  auto bucket = require_bucket(c);
  auto o = require_version(c, bucket).record;
  auto wanted = c.header("x-amz-object-attributes");
  if (!wanted || wanted->empty()) {
    throw AwsError("InvalidRequest", 400, "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty");
  }
  auto requested = protocol::split_list(*wanted);
  auto want = [&](std::string_view name) {
    return std::find(requested.begin(), requested.end(), name) != requested.end();
  };
  protocol::XmlWriter xml;
  xml.open("GetObjectAttributesResponse", kXmlns);
  if (want("ETag")) {
    xml.element("ETag", o.etag);
  }
  if (want("Checksum") && !o.checksum.empty()) {
    xml.open("Checksum");
    write_checksum_elements(xml, o.checksum_algorithm, o.checksum);
    xml.element("ChecksumType", o.checksum_type);
    xml.close();
  }
  if (want("ObjectParts") && o.parts_count > 0) {
    std::uint32_t max_parts = 1000;
    std::uint32_t marker = 0;
    if (auto m = c.header("x-amz-max-parts")) {
      std::from_chars(m->data(), m->data() + m->size(), max_parts);
    }
    if (auto m = c.header("x-amz-part-number-marker")) {
      std::from_chars(m->data(), m->data() + m->size(), marker);
    }
    xml.open("ObjectParts").element("PartsCount", std::to_string(o.parts_count))
        .element("PartNumberMarker", std::to_string(marker));
    std::uint32_t shown = 0;
    std::uint32_t last = marker;
    bool truncated = false;
    for (std::uint32_t i = marker; i < o.segments.size(); ++i) {
      if (shown == max_parts) {
        truncated = true;
        break;
      }
      xml.open("Part").element("PartNumber", std::to_string(i + 1))
          .element("Size", std::to_string(o.segments[i].size));
      write_checksum_elements(xml, o.checksum_algorithm, o.segments[i].checksum);
      xml.close();
      last = i + 1;
      ++shown;
    }
    xml.element("NextPartNumberMarker", std::to_string(last))
        .element("MaxParts", std::to_string(max_parts))
        .element("IsTruncated", truncated ? "true" : "false")
        .close();
  }
  if (want("StorageClass")) {
    xml.element("StorageClass", o.storage_class);
  }
  if (want("ObjectSize")) {
    xml.element("ObjectSize", std::to_string(o.size));
  }
  auto r = xml_response(xml.finish());
  r.headers.set("Last-Modified", http_date(o.modified_ms));
  add_version_headers(r, bucket, o);
  return r;
}

}  // namespace fogbank::s3
