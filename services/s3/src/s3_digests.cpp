// Body digests for uploads: MD5 for ETags and Content-MD5, and S3's flexible checksums, sent as
// a header (x-amz-checksum-crc32: <base64>) or as an aws-chunked trailer (x-amz-trailer names it).

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <thread>

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

/// Hashes the rest of a stream on a thread of its own. MD5 (the ETag) runs at ~800 MB/s on one
/// core and cannot be split, so it is the floor of a large upload; hashing beside the thread that
/// reads the socket and writes RocksDB, instead of on it, lets the two overlap. Bytes are copied
/// into 1 MiB blocks; at most kMaxQueuedBlocks wait, after which push() blocks, so memory stays
/// bounded when the client sends faster than MD5 goes.
class DigestWorker {
 public:
  explicit DigestWorker(std::function<void(std::string_view)> hash)
      : hash_(std::move(hash)), thread_([this] { run(); }) {}

  ~DigestWorker() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_one();
    thread_.join();
  }

  DigestWorker(const DigestWorker&) = delete;
  DigestWorker& operator=(const DigestWorker&) = delete;

  void push(std::string_view data) {
    while (!data.empty()) {
      if (filling_.capacity() < kBlockBytes) {
        filling_.reserve(kBlockBytes);
      }
      const std::size_t n = std::min(data.size(), kBlockBytes - filling_.size());
      filling_.append(data.substr(0, n));
      data.remove_prefix(n);
      if (filling_.size() == kBlockBytes) {
        submit();
      }
    }
  }

  /// Waits until every byte pushed has been hashed.
  void drain() {
    if (!filling_.empty()) {
      submit();
    }
    std::unique_lock lock(mutex_);
    space_ready_.wait(lock, [&] { return queue_.empty() && !hashing_; });
    if (failure_) {
      std::rethrow_exception(failure_);
    }
  }

 private:
  static constexpr std::size_t kBlockBytes = 1 << 20;
  static constexpr std::size_t kMaxQueuedBlocks = 4;

  void submit() {
    std::unique_lock lock(mutex_);
    space_ready_.wait(lock, [&] { return queue_.size() < kMaxQueuedBlocks; });
    queue_.push_back(std::move(filling_));
    if (!spare_.empty()) {
      filling_ = std::move(spare_.back());
      spare_.pop_back();
    } else {
      filling_ = std::string();
    }
    filling_.clear();
    lock.unlock();
    work_ready_.notify_one();
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, and nothing left
      }
      std::string block = std::move(queue_.front());
      queue_.pop_front();
      hashing_ = true;
      lock.unlock();
      try {
        if (!failure_) {
          hash_(block);
        }
      } catch (...) {
        failure_ = std::current_exception();  // read by drain() after hashing_ is cleared
      }
      lock.lock();
      hashing_ = false;
      spare_.push_back(std::move(block));
      space_ready_.notify_one();
    }
  }

  std::function<void(std::string_view)> hash_;
  std::string filling_;  // producer side only
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable space_ready_;
  std::deque<std::string> queue_;
  std::vector<std::string> spare_;  // hashed blocks, reused so a stream allocates a few blocks only
  bool hashing_ = false;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::thread thread_;  // last: started once everything above exists
};

/// The first MiB of a body is hashed on the request's thread: a thread per small upload would
/// cost more than it saves.
constexpr std::uint64_t kHashInlineBytes = 1 << 20;

}  // namespace

struct PayloadDigests::Impl {
  protocol::Md5 md5;
  std::optional<std::string> content_md5;  // raw 16 bytes
  std::optional<Checksum> checksum;
  std::optional<std::string> expected;     // raw digest from a header
  std::string trailer;                     // header name of a trailing checksum
  std::uint64_t md5_inline = 0;
  // Only MD5 moves to the worker: the CRCs are several times faster and keep the request's thread
  // busy while MD5 runs, so the worker's core does nothing but MD5.
  std::unique_ptr<DigestWorker> md5_worker;  // last: stopped before the digest it updates goes
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
    defaulted = true;
  }
  if (algorithm) {
    impl_->checksum.emplace(*algorithm);
  }
}

PayloadDigests::~PayloadDigests() = default;
PayloadDigests::PayloadDigests(PayloadDigests&&) noexcept = default;

void PayloadDigests::update(std::string_view data) {
  Impl& d = *impl_;
  if (d.checksum) {
    d.checksum->update(data);
  }
  if (d.md5_worker) {
    d.md5_worker->push(data);
    return;
  }
  d.md5.update(data);
  d.md5_inline += data.size();
  if (d.md5_inline >= kHashInlineBytes) {
    d.md5_worker = std::make_unique<DigestWorker>([&md5 = d.md5](std::string_view block) { md5.update(block); });
  }
}

void PayloadDigests::verify(const Call& c) {
  if (impl_->md5_worker) {
    impl_->md5_worker->drain();
  }
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
