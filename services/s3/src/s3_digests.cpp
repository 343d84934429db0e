// Body digests for uploads: MD5 for ETags and Content-MD5, and S3's flexible checksums, sent as
// a header (x-amz-checksum-crc32: <base64>) or as an aws-chunked trailer (x-amz-trailer names it).

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/s3/checksum.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

AwsError unsupported_algorithm() {
  return AwsError("InvalidRequest", 400,
                  "Checksum algorithm provided is unsupported. Please try again with any of the "
                  "valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
}

}  // namespace

struct PayloadDigests::Impl {
  protocol::Md5 md5;
  std::optional<std::string> content_md5;  // raw 16 bytes
  std::optional<Checksum> checksum;
  std::optional<std::string> expected;     // raw digest from a header
  std::string trailer;                     // header name of a trailing checksum
};

PayloadDigests::PayloadDigests(const Call& c, std::string_view upload_algorithm, bool default_crc64)
    : impl_(std::make_unique<Impl>()) {
  if (auto cm = c.header("content-md5")) {
    auto raw = protocol::base64_decode(*cm);
    if (!raw || raw->size() != 16) {
      throw AwsError("InvalidDigest", 400, "The Content-MD5 you specified was not valid.")
          .with_field("Content-MD5", std::string(*cm));
    }
    impl_->content_md5 = std::move(*raw);
  }
  std::optional<ChecksumAlgorithm> algorithm;
  for (auto a : kAllChecksumAlgorithms) {
    auto value = c.header(checksum_header(a));
    if (!value) {
      continue;
    }
    if (algorithm) {
      throw AwsError("InvalidRequest", 400,
                     "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
    }
    algorithm = a;
    impl_->expected = decode_checksum_value(a, *value);
    if (!impl_->expected) {
      throw AwsError("InvalidRequest", 400,
                     "Value for " + std::string(checksum_header(a)) + " header is invalid.");
    }
  }
  if (!algorithm) {
    if (auto trailer = c.header("x-amz-trailer")) {
      auto name = protocol::ascii_lower(*trailer);
      if (name.starts_with("x-amz-checksum-")) {
        algorithm = parse_checksum_algorithm(std::string_view(name).substr(15));
        if (!algorithm) {
          throw unsupported_algorithm();
        }
        impl_->trailer = name;
      }
    }
  }
  if (!algorithm) {
    if (auto sdk = c.header("x-amz-sdk-checksum-algorithm")) {
      algorithm = parse_checksum_algorithm(*sdk);
      if (!algorithm) {
        throw unsupported_algorithm();
      }
    }
  }
  if (!upload_algorithm.empty()) {
    auto wanted = parse_checksum_algorithm(upload_algorithm);
    if (algorithm && wanted && *algorithm != *wanted) {
      throw AwsError("InvalidRequest", 400,
                     "Checksum Type mismatch occurred, expected checksum Type: " +
                         protocol::ascii_lower(upload_algorithm) + ", actual checksum Type: " +
                         protocol::ascii_lower(checksum_name(*algorithm)));
    }
    algorithm = wanted;
  }
  if (!algorithm && default_crc64) {
    algorithm = ChecksumAlgorithm::kCrc64Nvme;
  }
  if (algorithm) {
    impl_->checksum.emplace(*algorithm);
  }
}

PayloadDigests::~PayloadDigests() = default;
PayloadDigests::PayloadDigests(PayloadDigests&&) noexcept = default;

void PayloadDigests::update(std::string_view data) {
  impl_->md5.update(data);
  if (impl_->checksum) {
    impl_->checksum->update(data);
  }
}

void PayloadDigests::verify(const Call& c) {
  auto digest = impl_->md5.finish();
  std::string raw(reinterpret_cast<const char*>(digest.data()), digest.size());
  if (impl_->content_md5 && *impl_->content_md5 != raw) {
    throw AwsError("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
        .with_field("ExpectedDigest", protocol::hex(*impl_->content_md5))
        .with_field("CalculatedDigest", protocol::base64_encode(raw));
  }
  md5_hex = protocol::hex(raw);
  if (!impl_->checksum) {
    return;
  }
  auto a = impl_->checksum->algorithm();
  if (!impl_->trailer.empty()) {
    auto value = c.ctx.trailers.get(impl_->trailer);
    if (!value) {
      throw AwsError("InvalidRequest", 400,
                     "The x-amz-trailer header named " + impl_->trailer +
                         " but the request did not end with that trailer.");
    }
    impl_->expected = decode_checksum_value(a, *value);
    if (!impl_->expected) {
      throw AwsError("InvalidRequest", 400, "Value for " + impl_->trailer + " trailing header is invalid.");
    }
  }
  auto computed = impl_->checksum->digest();
  if (impl_->expected && *impl_->expected != computed) {
    throw AwsError("BadDigest", 400,
                   "The " + std::string(checksum_name(a)) +
                       " you specified did not match the calculated checksum.");
  }
  checksum_algorithm = std::string(checksum_name(a));
  checksum = protocol::base64_encode(computed);
}

void finish_multipart_checksum(const Call& c, ObjectRecord& record) {
  auto a = parse_checksum_algorithm(record.checksum_algorithm);
  if (!a) {
    record.checksum.clear();
    record.checksum_algorithm.clear();
    record.checksum_type.clear();
    return;
  }
  std::vector<std::string> raws;
  for (const auto& s : record.segments) {
    auto raw = decode_checksum_value(*a, s.checksum);
    if (!raw) {
      // A part stored without this checksum (uploaded before the algorithm was known).
      throw AwsError("InvalidRequest", 400,
                     "The upload was created using a " + protocol::ascii_lower(checksum_name(*a)) +
                         " checksum. The complete request must include the checksum for each part.");
    }
    raws.push_back(std::move(*raw));
  }
  if (record.checksum_type == "FULL_OBJECT") {
    std::string crc = raws.front();
    for (std::size_t i = 1; i < raws.size(); ++i) {
      crc = combine_crc(*a, crc, raws[i], record.segments[i].size);
    }
    record.checksum = protocol::base64_encode(crc);
    if (auto sent = c.header(checksum_header(*a)); sent && *sent != record.checksum) {
      throw AwsError("BadDigest", 400,
                     "The " + std::string(checksum_name(*a)) +
                         " you specified did not match the calculated checksum.");
    }
  } else {
    record.checksum = composite_checksum(*a, raws);
  }
}

}  // namespace fogbank::s3
