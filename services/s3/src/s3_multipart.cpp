// Multipart uploads: parts stream into their own blobs as they arrive; completing writes one
// object record that points at the part blobs, so no data is copied.

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/s3/checksum.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

using storage::Space;

std::uint32_t part_number_of(const Call& c) {
  const auto* pn = c.param("partNumber");
  std::uint32_t n = 0;
  if (pn != nullptr) {
    auto [end, ec] = std::from_chars(pn->data(), pn->data() + pn->size(), n);
    if (ec != std::errc() || end != pn->data() + pn->size()) {
      n = 0;
    }
  }
  if (n < 1 || n > kMaxPartNumber) {
    throw errors::invalid_argument("Part number must be an integer between 1 and 10000, inclusive",
                                   "partNumber", pn ? *pn : "");
  }
  return n;
}

// Upload ids sort by creation time, so ListMultipartUploads lists a key's uploads oldest first.
std::string new_upload_id(std::int64_t now_ms) {
  char stamp[17];
  std::snprintf(stamp, sizeof stamp, "%016llx", static_cast<unsigned long long>(now_ms));
  auto id = std::string(stamp) + protocol::base64_encode(protocol::random_bytes(30));
  for (auto& ch : id) {
    if (ch == '+') ch = '-';
    if (ch == '/') ch = '_';
  }
  return id;
}

}  // namespace

Response S3Service::create_multipart_upload(Call& c) {
  auto bucket = require_bucket(c);
  check_key_encoding(c.key);
  if (c.key.size() > 1024) {
    throw AwsError("KeyTooLongError", 400, "Your key is too long");
  }
  UploadRecord u;
  u.bucket = c.bucket;
  u.key = c.key;
  u.initiated_ms = c.now_ms();
  u.upload_id = new_upload_id(u.initiated_ms);
  u.object = object_from_headers(c);
  u.object.acl = requested_acl(c, bucket, c.ctx.account_id, true).value_or("");
  apply_default_retention(bucket, u.object);
  (void)choose_encryption(c, bucket, u.object);  // sealed in the record; SSE-C parts bring their key
  if (auto alg = requested_checksum_algorithm(c)) {
    u.object.checksum_algorithm = *alg;
    auto algorithm = parse_checksum_algorithm(*alg);
    auto type = c.header("x-amz-checksum-type");
    u.object.checksum_type = type ? std::string(*type)
                                  : (*algorithm == ChecksumAlgorithm::kCrc64Nvme ? "FULL_OBJECT" : "COMPOSITE");
    if (u.object.checksum_type != "FULL_OBJECT" && u.object.checksum_type != "COMPOSITE") {
      throw errors::invalid_argument("Value for x-amz-checksum-type header is invalid.",
                                     "x-amz-checksum-type", u.object.checksum_type);
    }
    bool full = u.object.checksum_type == "FULL_OBJECT";
    if ((full && !is_crc(*algorithm)) || (!full && *algorithm == ChecksumAlgorithm::kCrc64Nvme)) {
      throw AwsError("InvalidRequest", 400,
                     "The " + u.object.checksum_type + " checksum type cannot be used with the " +
                         protocol::ascii_lower(u.object.checksum_algorithm) + " checksum algorithm.");
    }
  }
  if (auto st = store_.put(Space::kS3Meta, upload_key(u.bucket, u.key, u.upload_id), encode(u)); !st) {
    throw protocol::errors::internal_failure(st.message());
  }
  protocol::XmlWriter xml;
  xml.open("InitiateMultipartUploadResult", kXmlns)
      .element("Bucket", c.bucket)
      .element("Key", c.key)
      .element("UploadId", u.upload_id);
  auto r = xml_response(xml.finish());
  add_encryption_headers(r, u.object);
  if (!u.object.checksum_algorithm.empty()) {
    r.headers.set("x-amz-checksum-algorithm", u.object.checksum_algorithm);
    r.headers.set("x-amz-checksum-type", u.object.checksum_type);
  }
  return r;
}

namespace {

/// Stores one part: replaces an earlier part with the same number (whose blob is retired).
void commit_part(S3Service& s3, const Call& c, const UploadRecord& upload, PartRecord& part,
                 storage::Batch& batch) {
  std::lock_guard lock(s3.locks_.of(upload.upload_id, std::to_string(part.number)));
  // The upload may have been completed or aborted while the part streamed in.
  if (!s3.store_.get(Space::kS3Meta, upload_key(c.bucket, c.key, upload.upload_id))) {
    throw errors::no_such_upload(upload.upload_id);
  }
  std::vector<std::string> retired;
  auto key = part_key(upload.upload_id, part.number);
  if (auto old = s3.store_.get(Space::kS3Meta, key)) {
    PartRecord prev;
    if (decode(*old, prev) && prev.blob != part.blob) {
      s3.blobs_.retire(batch, prev.blob);
      retired.push_back(prev.blob);
    }
  }
  batch.put(Space::kS3Meta, key, encode(part));
  if (auto st = s3.store_.write(batch); !st) {
    throw protocol::errors::internal_failure(st.message());
  }
  s3.blobs_.collect(retired);
}

class UploadPartSink final : public protocol::BodySink {
 public:
  UploadPartSink(S3Service& s3, std::shared_ptr<Call> call, UploadRecord upload, std::uint32_t number)
      : s3_(s3), call_(std::move(call)), upload_(std::move(upload)), number_(number),
        digests_(*call_, upload_.object.checksum_algorithm, upload_.object.checksum_algorithm.empty()),
        writer_(s3.blobs_.new_writer()) {
    if (auto key = s3.data_key(*call_, upload_.object); !key.empty()) {
      writer_->encrypt_with(key);
    }
  }

  void write(std::string_view data) override {
    digests_.update(data);
    writer_->append(data);
  }

  Response finish() override {
    digests_.verify(*call_);
    PartRecord part;
    part.number = number_;
    part.size = writer_->size();
    part.etag = digests_.md5_hex;
    part.modified_ms = call_->now_ms();
    part.blob = writer_->blob();
    part.checksum = digests_.checksum;
    part.checksum_algorithm = digests_.checksum_algorithm;
    storage::Batch batch;
    writer_->finish(batch);
    commit_part(s3_, *call_, upload_, part, batch);
    Response r(200, "");
    r.headers.set("ETag", quote_etag(part.etag));
    add_encryption_headers(r, upload_.object);
    if (!part.checksum.empty() && !digests_.defaulted) {
      r.headers.set("x-amz-checksum-" + protocol::ascii_lower(digests_.checksum_algorithm), part.checksum);
    }
    return r;
  }

  void abort() noexcept override { writer_->abort(); }

 private:
  S3Service& s3_;
  std::shared_ptr<Call> call_;
  UploadRecord upload_;
  std::uint32_t number_;
  PayloadDigests digests_;
  std::unique_ptr<BlobStore::Writer> writer_;
};

}  // namespace

std::unique_ptr<protocol::BodySink> S3Service::upload_part(std::shared_ptr<Call> c) {
  auto number = part_number_of(*c);
  auto upload = require_upload(*c);
  return std::make_unique<UploadPartSink>(*this, std::move(c), std::move(upload), number);
}

Response S3Service::upload_part_copy(Call& c) {
  auto number = part_number_of(c);
  auto upload = require_upload(c);
  auto src = copy_source(c);
  std::uint64_t offset = 0;
  std::uint64_t length = src.object.size;
  if (auto range = c.header("x-amz-copy-source-range")) {
    std::string_view spec = *range;
    bool ok = spec.starts_with("bytes=");
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    if (ok) {
      spec.remove_prefix(6);
      auto dash = spec.find('-');
      ok = dash != std::string_view::npos;
      if (ok) {
        auto first = spec.substr(0, dash);
        auto last = spec.substr(dash + 1);
        auto r1 = std::from_chars(first.data(), first.data() + first.size(), a);
        auto r2 = std::from_chars(last.data(), last.data() + last.size(), b);
        ok = !first.empty() && !last.empty() && r1.ec == std::errc() && r2.ec == std::errc() &&
             r1.ptr == first.data() + first.size() && r2.ptr == last.data() + last.size() && a <= b;
      }
    }
    if (!ok) {
      throw errors::invalid_argument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                                     "x-amz-copy-source-range", *range);
    }
    if (b >= src.object.size) {
      throw errors::invalid_argument("Range specified is not valid for source object of size: " +
                                         std::to_string(src.object.size),
                                     "x-amz-copy-source-range", *range);
    }
    offset = a;
    length = b - a + 1;
  }
  storage::Batch batch;
  auto copied = copy_bytes(src.object, offset, length, batch, data_key(c, src.object, true), data_key(c, upload.object));
  PartRecord part;
  part.number = number;
  part.size = copied.segment.size;
  part.etag = copied.md5_hex;
  part.modified_ms = c.now_ms();
  part.blob = copied.segment.blob;
  commit_part(*this, c, upload, part, batch);
  protocol::XmlWriter xml;
  xml.open("CopyPartResult", kXmlns)
      .element("ETag", quote_etag(part.etag))
      .element("LastModified", iso8601_ms(part.modified_ms));
  return xml_response(xml.finish());
}

Response S3Service::complete_multipart_upload(Call& c) {
  auto bucket = require_bucket(c);
  if (const std::string* id = c.param("uploadId")) {
    // S3 answers a repeated CompleteMultipartUpload of a completed upload with the same result.
    UploadRecord done;
    auto raw = store_.get(Space::kS3Meta, completed_upload_key(c.bucket, *id));
    if (raw && decode(*raw, done) && done.key == c.key) {
      return completion_response(c, bucket, done.object);
    }
  }
  auto upload = require_upload(c);
  auto request = decode_body_xml("CompleteMultipartUpload", c.body);
  auto parts = request.find("Parts");
  if (parts == request.end() || parts->empty()) {
    throw errors::malformed_xml();
  }
  const auto& listed = *parts;
  std::unique_lock lock(locks_.of(c.bucket, c.key));
  // Every stored part, to know which ones the object leaves out.
  std::map<std::uint32_t, PartRecord> stored;
  for (auto cur = store_.scan_prefix(Space::kS3Meta, part_prefix(upload.upload_id)); cur.valid(); cur.next()) {
    PartRecord p;
    if (decode(cur.value(), p)) {
      stored.emplace(p.number, std::move(p));
    }
  }
  ObjectRecord record = upload.object;
  record.modified_ms = c.now_ms();
  record.segments.clear();
  std::string md5s;
  std::vector<std::string> part_algorithms;
  std::uint32_t previous = 0;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const auto& listed_part = listed[i];
    auto number_value = listed_part.find("PartNumber");
    // The codec has checked the type (an int32); a part number is never negative.
    if (number_value == listed_part.end() || number_value->get<std::int64_t>() < 0) {
      throw errors::malformed_xml();
    }
    auto number = static_cast<std::uint32_t>(number_value->get<std::int64_t>());
    auto etag_value = listed_part.find("ETag");
    auto etag = unquoted(etag_value == listed_part.end() ? "" : etag_value->get<std::string>());
    if (number <= previous) {
      throw AwsError("InvalidPartOrder", 400,
                     "The list of parts was not in ascending order. Parts must be ordered by part number.")
          .with_field("UploadId", upload.upload_id);
    }
    previous = number;
    auto it = stored.find(number);
    if (it == stored.end() || it->second.etag != etag) {
      throw AwsError("InvalidPart", 400,
                     "One or more of the specified parts could not be found.  The part may not have "
                     "been uploaded, or the specified entity tag may not match the part's entity tag.")
          .with_field("UploadId", upload.upload_id)
          .with_field("PartNumber", std::to_string(number))
          .with_field("ETag", etag);
    }
    const auto& part = it->second;
    if (!record.checksum_algorithm.empty()) {
      std::optional<std::string> sent;
      if (auto it = listed_part.find("Checksum" + record.checksum_algorithm); it != listed_part.end()) {
        sent = it->get<std::string>();
      }
      if (!sent && record.checksum_type == "COMPOSITE") {
        throw AwsError("InvalidRequest", 400,
                       "The upload was created using a " + protocol::ascii_lower(record.checksum_algorithm) +
                           " checksum. The complete request must include the checksum for each "
                           "part. It was missing for part " + std::to_string(number) + " in the request.");
      }
      if (sent && *sent != part.checksum) {
        throw AwsError("InvalidPart", 400,
                       "One or more of the specified parts could not be found.  The part may not "
                       "have been uploaded, or the specified entity tag may not match the part's "
                       "entity tag.")
            .with_field("UploadId", upload.upload_id)
            .with_field("PartNumber", std::to_string(number))
            .with_field("ETag", etag);
      }
    }
    if (i + 1 < listed.size() && part.size < kMinPartSize) {
      throw AwsError("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size")
          .with_field("ProposedSize", std::to_string(part.size))
          .with_field("MinSizeAllowed", std::to_string(kMinPartSize))
          .with_field("PartNumber", std::to_string(number))
          .with_field("ETag", etag);
    }
    auto raw = protocol::unhex(part.etag);
    md5s += raw.value_or("");
    record.segments.push_back(Segment{part.blob, part.size, part.etag, part.checksum});
    part_algorithms.push_back(part.checksum_algorithm);
    record.size += part.size;
  }
  record.parts_count = static_cast<std::uint32_t>(record.segments.size());
  record.etag = protocol::hex(protocol::md5(md5s)) + "-" + std::to_string(record.parts_count);
  if (record.checksum_algorithm.empty() &&
      std::all_of(part_algorithms.begin(), part_algorithms.end(),
                  [](const std::string& a) { return a == "CRC64NVME"; })) {
    // No algorithm asked for: S3's default, a full-object CRC-64/NVME from the parts' CRCs.
    record.checksum_algorithm = "CRC64NVME";
    record.checksum_type = "FULL_OBJECT";
  }
  finish_multipart_checksum(c, record);
  auto current = load_object(c.bucket, c.key);
  check_write_conditions(c, current);

  storage::Batch batch;
  std::vector<std::string> retired;
  for (const auto& [number, part] : stored) {
    bool used = std::any_of(record.segments.begin(), record.segments.end(),
                            [&](const Segment& s) { return s.blob == part.blob; });
    if (!used) {
      blobs_.retire(batch, part.blob);
      retired.push_back(part.blob);
    }
    batch.del(Space::kS3Meta, part_key(upload.upload_id, number));
  }
  batch.del(Space::kS3Meta, upload_key(c.bucket, c.key, upload.upload_id));
  // What the upload became, for a retry of this request (an SDK's, after a lost response).
  UploadRecord done = upload;
  done.object = record;
  done.object.segments.clear();
  std::erase_if(done.object.headers, [](const auto& h) { return !h.first.starts_with("x-amz-server-side-encryption"); });
  done.object.metadata.clear();
  done.object.tags.clear();
  stamp_version(bucket, record, current);
  done.object.version_id = record.version_id;
  batch.put(Space::kS3Meta, completed_upload_key(c.bucket, upload.upload_id), encode(done));
  commit_object(bucket, c.key, record, current, batch, std::move(retired));
  std::optional<PendingEvent> event;
  if (bucket.notifications) {
    event = object_event(c, bucket, EventKind::kCompleteMultipartUpload, c.key, &record);
  }
  lock.unlock();
  emit(std::move(event));
  return completion_response(c, bucket, record);
}

Response S3Service::completion_response(const Call& c, const BucketRecord& bucket, const ObjectRecord& record) {
  auto host = std::string(c.ctx.head.headers.get("host").value_or("localhost"));
  protocol::XmlWriter xml;
  xml.open("CompleteMultipartUploadResult", kXmlns)
      .element("Location", std::string(c.ctx.head.tls ? "https://" : "http://") + host + "/" +
                               c.bucket + "/" + protocol::uri_encode(c.key, true))
      .element("Bucket", c.bucket)
      .element("Key", c.key)
      .element("ETag", quote_etag(record.etag));
  write_checksum_elements(xml, record.checksum_algorithm, record.checksum);
  if (!record.checksum.empty()) {
    xml.element("ChecksumType", record.checksum_type);
  }
  auto r = xml_response(xml.finish());
  add_encryption_headers(r, record);
  add_version_headers(r, bucket, record);
  return r;
}

Response S3Service::abort_multipart_upload(Call& c) {
  auto upload = require_upload(c);
  discard_upload(c.bucket, c.key, upload.upload_id);
  return Response(204, "");
}

void S3Service::discard_upload(std::string_view bucket, std::string_view key, std::string_view upload_id) {
  storage::Batch batch;
  std::vector<std::string> retired;
  for (auto cur = store_.scan_prefix(Space::kS3Meta, part_prefix(upload_id)); cur.valid(); cur.next()) {
    PartRecord p;
    if (decode(cur.value(), p)) {
      blobs_.retire(batch, p.blob);
      retired.push_back(p.blob);
    }
    batch.del(Space::kS3Meta, cur.key());
  }
  batch.del(Space::kS3Meta, upload_key(bucket, key, upload_id));
  if (auto st = store_.write(batch); !st) {
    throw protocol::errors::internal_failure(st.message());
  }
  blobs_.collect(retired);
}

}  // namespace fogbank::s3
