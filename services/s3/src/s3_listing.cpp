// Listings: ListObjects (v1), ListObjectsV2, ListObjectVersions, ListMultipartUploads, ListParts.
//
// Records are keyed so that RocksDB's order is S3's order (UTF-8 bytes), so a listing is one
// bounded scan: start after the marker, roll keys that contain the delimiter into CommonPrefixes
// and seek past each rolled-up prefix instead of reading its keys.

#include <charconv>
#include <functional>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/keys.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

using storage::Space;

std::uint32_t parse_max(const Call& c, std::string_view name, std::uint32_t cap) {
  const std::string* v = c.param(name);
  if (v == nullptr) {
    return cap;
  }
  long long n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 0 || n > INT32_MAX) {
    throw errors::invalid_argument("Provided " + std::string(name) + " not an integer or within integer range",
                                   name, *v);
  }
  return static_cast<std::uint32_t>(std::min<long long>(n, cap));
}

/// encoding-type=url: names are percent-encoded in the response (keys may hold characters XML 1.0 cannot).
struct NameEncoder {
  bool url = false;
  explicit NameEncoder(const Call& c) {
    if (const auto* e = c.param("encoding-type")) {
      if (*e != "url") {
        throw errors::invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", *e);
      }
      url = true;
    }
  }
  [[nodiscard]] std::string operator()(std::string_view name) const {
    return url ? protocol::uri_encode(name, true) : std::string(name);
  }
};

/// One page of a listing that counts keys, versions or uploads and common prefixes alike against
/// its maximum, and remembers where the next page starts.
struct Page {
  explicit Page(std::uint32_t m) : max(m) {}
  std::uint32_t max;
  std::uint32_t count = 0;
  bool truncated = false;
  std::vector<std::string> prefixes;
  std::string next_key;
  std::string next_id;  ///< NextVersionIdMarker / NextUploadIdMarker ("" after a common prefix)

  /// Takes one more entry, or marks the page truncated when it is full.
  bool room() {
    if (count == max) {
      truncated = true;
      return false;
    }
    ++count;
    return true;
  }
  bool add_prefix(const std::string& common) {
    if (!room()) {
      return false;
    }
    prefixes.push_back(common);
    next_key = common;
    next_id.clear();
    return true;
  }
};

struct Listing {
  std::vector<std::pair<std::string, ObjectRecord>> objects;
  std::vector<std::string> prefixes;
  bool truncated = false;
  std::string last;  ///< the last key or common prefix returned (the next marker)
};

/// Walks the keys of one record family (objects or uploads) in S3 order.
class Walker {
 public:
  using PrefixFn = std::function<std::string(std::string_view bucket, std::string_view name_prefix)>;

  Walker(const storage::Store& store, PrefixFn prefix_of, std::string bucket, std::string prefix,
         std::string delimiter)
      : store_(store), prefix_of_(std::move(prefix_of)), bucket_(std::move(bucket)),
        prefix_(std::move(prefix)), delimiter_(std::move(delimiter)) {}

  /// Calls `on_key(name, store_key, value)` for each record after `marker` and `on_prefix(p)`
  /// for each rolled-up common prefix, until one returns false.
  void run(std::string_view marker, bool marker_inclusive,
           const std::function<bool(const std::string&, std::string_view, std::string_view)>& on_key,
           const std::function<bool(const std::string&)>& on_prefix) {
    auto lower = prefix_of_(bucket_, prefix_);
    auto upper = storage::prefix_successor(lower);
    auto cursor = store_.scan(Space::kS3Meta, lower, upper);
    if (!marker.empty() && marker >= std::string_view(prefix_)) {
      if (is_rolled_prefix(marker)) {
        seek_past(cursor, marker);
      } else {
        cursor.seek(prefix_of_(bucket_, marker));  // the marker's own records come first
        if (!marker_inclusive) {
          // Skip every record of the marker name itself (and nothing after it).
          while (cursor.valid() && name_of(cursor.key()) == marker) {
            cursor.next();
          }
        }
      }
    }
    while (cursor.valid()) {
      auto name = name_of(cursor.key());
      if (!delimiter_.empty()) {
        auto at = name.find(delimiter_, prefix_.size());
        if (at != std::string::npos) {
          auto common = name.substr(0, at + delimiter_.size());
          if (!on_prefix(common)) {
            return;
          }
          seek_past(cursor, common);
          continue;
        }
      }
      if (!on_key(name, cursor.key(), cursor.value())) {
        return;
      }
      cursor.next();
    }
  }

 private:
  bool is_rolled_prefix(std::string_view marker) const {
    if (delimiter_.empty() || !marker.ends_with(delimiter_) || marker.size() <= prefix_.size()) {
      return false;
    }
    return marker.find(delimiter_, prefix_.size()) == marker.size() - delimiter_.size();
  }
  void seek_past(storage::Cursor& cursor, std::string_view name_prefix) {
    auto next = storage::prefix_successor(prefix_of_(bucket_, name_prefix));
    if (next.empty()) {
      while (cursor.valid()) cursor.next();
      return;
    }
    cursor.seek(next);
  }
  static std::string name_of(std::string_view store_key) {
    return object_name_of(store_key).value_or(std::string());
  }

  const storage::Store& store_;
  PrefixFn prefix_of_;
  std::string bucket_;
  std::string prefix_;
  std::string delimiter_;
};

Listing list_keys(const storage::Store& store, const std::string& bucket, const std::string& prefix,
                  const std::string& delimiter, std::string_view marker, std::uint32_t max) {
  Listing out;
  if (max == 0) {
    return out;
  }
  std::uint32_t count = 0;
  Walker walker(store, [](std::string_view b, std::string_view p) { return object_prefix(b, p); },
                bucket, prefix, delimiter);
  walker.run(
      marker, false,
      [&](const std::string& name, std::string_view, std::string_view value) {
        if (count == max) {
          out.truncated = true;
          return false;
        }
        ObjectRecord r;
        // A key whose current version is a delete marker is not listed.
        if (decode(value, r) && !r.delete_marker) {
          out.objects.emplace_back(name, std::move(r));
          out.last = name;
          ++count;
        }
        return true;
      },
      [&](const std::string& common) {
        if (count == max) {
          out.truncated = true;
          return false;
        }
        out.prefixes.push_back(common);
        out.last = common;
        ++count;
        return true;
      });
  return out;
}

void write_contents(protocol::XmlWriter& xml, const NameEncoder& enc, const std::string& name,
                    const ObjectRecord& o, bool owner) {
  xml.open("Contents")
      .element("Key", enc(name))
      .element("LastModified", iso8601_ms(o.modified_ms))
      .element("ETag", quote_etag(o.etag));
  if (!o.checksum_algorithm.empty()) {
    xml.element("ChecksumAlgorithm", o.checksum_algorithm);
    xml.element("ChecksumType", o.checksum_type);
  }
  xml.element("Size", std::to_string(o.size));
  if (owner) {
    write_owner(xml, o.owner);
  }
  xml.element("StorageClass", o.storage_class).close();
}

void write_prefixes(protocol::XmlWriter& xml, const NameEncoder& enc, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    xml.open("CommonPrefixes").element("Prefix", enc(p)).close();
  }
}

std::string param_or(const Call& c, std::string_view name) {
  const auto* v = c.param(name);
  return v ? *v : std::string();
}

}  // namespace

Response S3Service::list_objects(Call& c) {
  require_bucket(c);
  NameEncoder enc(c);
  auto prefix = param_or(c, "prefix");
  auto delimiter = param_or(c, "delimiter");
  auto marker = param_or(c, "marker");
  auto max = parse_max(c, "max-keys", 1000);
  auto listing = list_keys(store_, c.bucket, prefix, delimiter, marker, max);
  protocol::XmlWriter xml;
  xml.open("ListBucketResult", kXmlns)
      .element("Name", c.bucket)
      .element("Prefix", enc(prefix))
      .element("Marker", enc(marker))
      .element("MaxKeys", c.param("max-keys") ? *c.param("max-keys") : "1000");
  if (!delimiter.empty()) {
    xml.element("Delimiter", enc(delimiter));
  }
  xml.element("IsTruncated", listing.truncated ? "true" : "false");
  if (listing.truncated && !delimiter.empty()) {
    xml.element("NextMarker", enc(listing.last));
  }
  if (enc.url) {
    xml.element("EncodingType", "url");
  }
  for (const auto& [name, o] : listing.objects) {
    write_contents(xml, enc, name, o, true);
  }
  write_prefixes(xml, enc, listing.prefixes);
  return xml_response(xml.finish());
}

Response S3Service::list_objects_v2(Call& c) {
  require_bucket(c);
  if (param_or(c, "list-type") != "2") {
    throw errors::invalid_argument("Invalid List Type specified in Request", "list-type", param_or(c, "list-type"));
  }
  NameEncoder enc(c);
  auto prefix = param_or(c, "prefix");
  auto delimiter = param_or(c, "delimiter");
  auto start_after = param_or(c, "start-after");
  auto max = parse_max(c, "max-keys", 1000);
  std::string marker = start_after;
  const std::string* token = c.param("continuation-token");
  if (token != nullptr) {
    auto decoded = protocol::base64_decode(*token);
    if (!decoded || decoded->empty() || decoded->front() != 'k') {
      throw errors::invalid_argument("The continuation token provided is incorrect",
                                     "continuation-token", *token);
    }
    marker = decoded->substr(1);
  }
  auto listing = list_keys(store_, c.bucket, prefix, delimiter, marker, max);
  bool fetch_owner = param_or(c, "fetch-owner") == "true";
  protocol::XmlWriter xml;
  xml.open("ListBucketResult", kXmlns).element("Name", c.bucket).element("Prefix", enc(prefix));
  if (!delimiter.empty()) {
    xml.element("Delimiter", enc(delimiter));
  }
  xml.element("MaxKeys", c.param("max-keys") ? *c.param("max-keys") : "1000");
  if (enc.url) {
    xml.element("EncodingType", "url");
  }
  xml.element("KeyCount", std::to_string(listing.objects.size() + listing.prefixes.size()))
      .element("IsTruncated", listing.truncated ? "true" : "false");
  if (token != nullptr) {
    xml.element("ContinuationToken", *token);
  }
  if (listing.truncated) {
    xml.element("NextContinuationToken", protocol::base64_encode("k" + listing.last));
  }
  if (c.param("start-after")) {
    xml.element("StartAfter", enc(start_after));
  }
  for (const auto& [name, o] : listing.objects) {
    write_contents(xml, enc, name, o, fetch_owner);
  }
  write_prefixes(xml, enc, listing.prefixes);
  return xml_response(xml.finish());
}

Response S3Service::list_object_versions(Call& c) {
  require_bucket(c);
  NameEncoder enc(c);
  auto prefix = param_or(c, "prefix");
  auto delimiter = param_or(c, "delimiter");
  auto key_marker = param_or(c, "key-marker");
  auto version_marker = param_or(c, "version-id-marker");
  auto max = parse_max(c, "max-keys", 1000);
  // Where listing resumes inside the marker key: after the version-id-marker, i.e. at the
  // versions older than it (a key's versions come newest first).
  std::optional<std::uint64_t> resume_below;
  if (!version_marker.empty()) {
    if (key_marker.empty()) {
      throw errors::invalid_argument("A version-id marker cannot be specified without a key marker.",
                                     "version-id-marker", version_marker);
    }
    if (version_marker == "null") {
      auto v = find_version(c.bucket, key_marker, "null");
      resume_below = v ? v->record.seq : 0;
    } else if (auto seq = version_seq(version_marker)) {
      resume_below = *seq;
    } else {
      throw errors::invalid_argument("Invalid version id specified", "version-id-marker", version_marker);
    }
  }
  struct Entry {
    std::string key;
    ObjectRecord object;
    bool latest = false;
  };
  std::vector<Entry> entries;
  Page page(max);
  if (max > 0) {
    Walker walker(store_, [](std::string_view b, std::string_view p) { return object_prefix(b, p); }, c.bucket,
                  prefix, delimiter);
    walker.run(
        key_marker, resume_below.has_value(),
        [&](const std::string& name, std::string_view, std::string_view value) {
          const bool resuming = resume_below && name == key_marker;
          auto add = [&](ObjectRecord&& o, bool latest) {
            if (resuming && o.seq >= *resume_below) {
              return true;  // listed on an earlier page
            }
            if (!page.room()) {
              return false;
            }
            page.next_key = name;
            page.next_id = shown_version_id(o);
            entries.push_back(Entry{name, std::move(o), latest});
            return true;
          };
          ObjectRecord current;
          if (decode(value, current) && !add(std::move(current), true)) {
            return false;
          }
          for (auto n = store_.scan_prefix(Space::kS3Meta, noncurrent_prefix(c.bucket, name)); n.valid(); n.next()) {
            ObjectRecord o;
            if (decode(n.value(), o) && !add(std::move(o), false)) {
              return false;
            }
          }
          return true;
        },
        [&](const std::string& common) { return page.add_prefix(common); });
  }
  protocol::XmlWriter xml;
  xml.open("ListVersionsResult", kXmlns)
      .element("Name", c.bucket)
      .element("Prefix", enc(prefix))
      .element("KeyMarker", enc(key_marker))
      .element("VersionIdMarker", version_marker);
  if (page.truncated) {
    xml.element("NextKeyMarker", enc(page.next_key));
    if (!page.next_id.empty()) {
      xml.element("NextVersionIdMarker", page.next_id);
    }
  }
  xml.element("MaxKeys", c.param("max-keys") ? *c.param("max-keys") : "1000");
  if (!delimiter.empty()) {
    xml.element("Delimiter", enc(delimiter));
  }
  if (enc.url) {
    xml.element("EncodingType", "url");
  }
  xml.element("IsTruncated", page.truncated ? "true" : "false");
  for (const auto& [name, o, latest] : entries) {
    if (o.delete_marker) {
      xml.open("DeleteMarker");
      write_owner(xml, o.owner);
      xml.element("Key", enc(name))
          .element("VersionId", shown_version_id(o))
          .element("IsLatest", latest ? "true" : "false")
          .element("LastModified", iso8601_ms(o.modified_ms))
          .close();
      continue;
    }
    xml.open("Version")
        .element("Key", enc(name))
        .element("VersionId", shown_version_id(o))
        .element("IsLatest", latest ? "true" : "false")
        .element("LastModified", iso8601_ms(o.modified_ms))
        .element("ETag", quote_etag(o.etag))
        .element("Size", std::to_string(o.size));
    if (!o.checksum_algorithm.empty()) {
      xml.element("ChecksumAlgorithm", o.checksum_algorithm);
      xml.element("ChecksumType", o.checksum_type);
    }
    xml.element("StorageClass", o.storage_class);
    write_owner(xml, o.owner);
    xml.close();
  }
  write_prefixes(xml, enc, page.prefixes);
  return xml_response(xml.finish());
}

Response S3Service::list_multipart_uploads(Call& c) {
  require_bucket(c);
  NameEncoder enc(c);
  auto prefix = param_or(c, "prefix");
  auto delimiter = param_or(c, "delimiter");
  auto key_marker = param_or(c, "key-marker");
  auto id_marker = param_or(c, "upload-id-marker");
  auto max = parse_max(c, "max-uploads", 1000);
  std::vector<UploadRecord> uploads;
  Page page(max);
  if (max > 0) {
    Walker walker(store_, [](std::string_view b, std::string_view p) { return upload_prefix(b, p); },
                  c.bucket, prefix, delimiter);
    // With an upload-id-marker, the marker key's later uploads are still listed.
    walker.run(
        key_marker, !id_marker.empty(),
        [&](const std::string& name, std::string_view, std::string_view value) {
          UploadRecord u;
          if (!decode(value, u)) {
            return true;
          }
          if (!id_marker.empty() && name == key_marker && u.upload_id <= id_marker) {
            return true;
          }
          if (!page.room()) {
            return false;
          }
          page.next_key = name;
          page.next_id = u.upload_id;
          uploads.push_back(std::move(u));
          return true;
        },
        [&](const std::string& common) { return page.add_prefix(common); });
  }
  protocol::XmlWriter xml;
  xml.open("ListMultipartUploadsResult", kXmlns)
      .element("Bucket", c.bucket)
      .element("KeyMarker", enc(key_marker))
      .element("UploadIdMarker", id_marker);
  if (page.truncated) {
    xml.element("NextKeyMarker", enc(page.next_key)).element("NextUploadIdMarker", page.next_id);
  }
  if (!delimiter.empty()) {
    xml.element("Delimiter", enc(delimiter));
  }
  xml.element("Prefix", enc(prefix)).element("MaxUploads", std::to_string(max));
  if (enc.url) {
    xml.element("EncodingType", "url");
  }
  xml.element("IsTruncated", page.truncated ? "true" : "false");
  for (const auto& u : uploads) {
    xml.open("Upload").element("Key", enc(u.key)).element("UploadId", u.upload_id);
    write_owner(xml, u.object.owner, "Initiator");
    write_owner(xml, u.object.owner);
    xml.element("StorageClass", u.object.storage_class)
        .element("Initiated", iso8601_ms(u.initiated_ms));
    if (!u.object.checksum_algorithm.empty()) {
      xml.element("ChecksumAlgorithm", u.object.checksum_algorithm)
          .element("ChecksumType", u.object.checksum_type);
    }
    xml.close();
  }
  write_prefixes(xml, enc, page.prefixes);
  return xml_response(xml.finish());
}

Response S3Service::list_parts(Call& c) {
  auto upload = require_upload(c);
  auto max = parse_max(c, "max-parts", 1000);
  std::uint32_t marker = 0;
  if (const auto* m = c.param("part-number-marker")) {
    auto [end, ec] = std::from_chars(m->data(), m->data() + m->size(), marker);
    if (ec != std::errc() || end != m->data() + m->size()) {
      throw errors::invalid_argument("Provided part-number-marker not an integer or within integer range",
                                     "part-number-marker", *m);
    }
  }
  protocol::XmlWriter xml;
  xml.open("ListPartsResult", kXmlns)
      .element("Bucket", c.bucket)
      .element("Key", c.key)
      .element("UploadId", upload.upload_id);
  write_owner(xml, upload.object.owner, "Initiator");
  write_owner(xml, upload.object.owner);
  xml.element("StorageClass", upload.object.storage_class)
      .element("PartNumberMarker", std::to_string(marker));
  std::vector<PartRecord> parts;
  bool truncated = false;
  auto prefix = part_prefix(upload.upload_id);
  auto cursor = store_.scan(Space::kS3Meta, part_key(upload.upload_id, marker + 1),
                            storage::prefix_successor(prefix));
  for (; cursor.valid(); cursor.next()) {
    if (parts.size() == max) {
      truncated = true;
      break;
    }
    PartRecord p;
    if (decode(cursor.value(), p)) {
      parts.push_back(std::move(p));
    }
  }
  if (!parts.empty()) {
    xml.element("NextPartNumberMarker", std::to_string(parts.back().number));
  }
  xml.element("MaxParts", std::to_string(max)).element("IsTruncated", truncated ? "true" : "false");
  if (!upload.object.checksum_algorithm.empty()) {
    xml.element("ChecksumAlgorithm", upload.object.checksum_algorithm)
        .element("ChecksumType", upload.object.checksum_type);
  }
  for (const auto& p : parts) {
    xml.open("Part")
        .element("PartNumber", std::to_string(p.number))
        .element("LastModified", iso8601_ms(p.modified_ms))
        .element("ETag", quote_etag(p.etag))
        .element("Size", std::to_string(p.size));
    write_checksum_elements(xml, upload.object.checksum_algorithm, p.checksum);
    xml.close();
  }
  return xml_response(xml.finish());
}

}  // namespace fogbank::s3
