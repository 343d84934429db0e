// Body digests for uploads: MD5 for ETags and Content-MD5, and S3's flexible checksums, sent as
// a header (x-amz-checksum-crc32: <base64>) or as an aws-chunked trailer (x-amz-trailer names it).

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

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

/// Hashes the rest of a stream on the platform's pool. MD5 (the ETag) runs at ~800 MB/s on one
/// core and cannot be split, so it is the floor of a large upload; hashing beside the thread that
/// reads the socket and writes RocksDB, instead of on it, lets the two overlap. Bytes are copied
/// into 1 MiB blocks and queued; one drain task at a time (posted when blocks arrive and none is
/// out) hashes them in order and returns when the queue is empty, so no pool thread sleeps here.
///
/// Back-pressure: at most kMaxQueuedBlocks wait, so memory stays bounded when the client sends
/// faster than MD5 goes. A full queue makes push() wait, on the request's I/O thread. That wait
/// cannot go: BodySink::write() is synchronous, so not returning is the only way to slow the
/// socket down, and MD5 is sequential, so the I/O thread cannot hash later blocks itself. It is
/// bounded, though: push() only waits while a task is hashing, which frees a block within one
/// block's MD5 (~1.3 ms alone; up to 7 ms measured with both cores busy); if the task has not
/// started (the pool is busy elsewhere), push() hashes the oldest block itself instead of waiting
/// for the pool. Measured on 1 GiB PUTs over loopback on 2 cores (fogbank-load s3-put-large): the
/// request thread waited before 640-840 of the 1023 blocks, 0.6-1.0 s of a 1.4-2.2 s upload in
/// all, and hashed 0-13 blocks itself. That is the upload running at MD5's pace, as intended; what
/// it costs is other connections of the same I/O thread stalling a few ms at a time. Freeing the
/// thread needs an asynchronous BodySink (write() asking the server to pause reading).
///
/// The blocks, the MD5 state and the queue live in State, which the task co-owns: dropping the
/// worker (an abandoned upload) clears the queue and never waits for the task.
class DigestWorker {
 public:
  DigestWorker(protocol::Scheduler& pool, protocol::Md5 md5)
      : state_(std::make_shared<State>(std::move(md5))), pool_(pool) {}

  ~DigestWorker() {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->queue.clear();
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

  /// The MD5 of everything pushed. Hashes what no task has started on here; waits only for a task
  /// that is hashing right now.
  protocol::Md5Digest finish() {
    if (!filling_.empty()) {
      submit();
    }
    State& s = *state_;
    std::unique_lock lock(s.mutex);
    s.changed.wait(lock, [&] { return !s.running; });
    if (!s.queue.empty()) {
      s.running = true;
      while (!s.queue.empty()) {
        hash_front(s, lock);
      }
      s.running = false;
    }
    if (s.failure) {
      std::rethrow_exception(s.failure);
    }
    return s.md5.finish();
  }

 private:
  static constexpr std::size_t kBlockBytes = 1 << 20;
  static constexpr std::size_t kMaxQueuedBlocks = 4;

  struct State {
    explicit State(protocol::Md5 m) : md5(std::move(m)) {}
    std::mutex mutex;
    std::condition_variable changed;  // a block was hashed, or the hasher stopped
    std::deque<std::string> queue;
    std::vector<std::string> spare;  // hashed blocks, reused so a stream allocates a few blocks only
    protocol::Md5 md5;               // used by the one hasher only (whoever set `running`)
    std::exception_ptr failure;      // likewise
    bool running = false;            // someone is hashing: the drain task, or finish()/push()
    bool posted = false;             // a drain task is queued on the pool and has not started
    bool stopping = false;
  };

  /// Hashes the oldest block. The caller holds the lock and has set `running`; the lock is
  /// released while hashing.
  static void hash_front(State& s, std::unique_lock<std::mutex>& lock) {
    std::string block = std::move(s.queue.front());
    s.queue.pop_front();
    lock.unlock();
    try {
      if (!s.failure) {
        s.md5.update(block);
      }
    } catch (...) {
      s.failure = std::current_exception();  // read by finish() once `running` is clear
    }
    block.clear();
    lock.lock();
    s.spare.push_back(std::move(block));
    s.changed.notify_all();
  }

  static void drain(const std::shared_ptr<State>& state) {
    State& s = *state;
    std::unique_lock lock(s.mutex);
    s.posted = false;
    if (s.running) {
      return;  // push() or finish() is hashing; whoever stops hashing re-posts if blocks are left
    }
    s.running = true;
    while (!s.stopping && !s.queue.empty()) {
      hash_front(s, lock);
    }
    s.running = false;
    s.changed.notify_all();
  }

  /// Whether a drain task must be posted (then marked posted). Called with the lock held.
  static bool needs_task(State& s) {
    if (s.running || s.posted || s.stopping || s.queue.empty()) {
      return false;
    }
    s.posted = true;
    return true;
  }

  void post_drain() {
    try {
      pool_.post([state = state_] { drain(state); });
    } catch (...) {
      // The pool refused (shutting down): the blocks stay queued, and push() and finish() hash
      // them themselves since no task is running.
      std::lock_guard lock(state_->mutex);
      state_->posted = false;
    }
  }

  void submit() {
    State& s = *state_;
    std::unique_lock lock(s.mutex);
    while (s.queue.size() >= kMaxQueuedBlocks) {
      if (s.running) {
        s.changed.wait(lock);  // a block is being hashed: free within ~1.3 ms
        continue;
      }
      // The drain task has not started (the pool is busy with other work, maybe for long):
      // hash the oldest block here, as the request thread did before there was a worker.
      s.running = true;
      hash_front(s, lock);
      s.running = false;
      s.changed.notify_all();
    }
    s.queue.push_back(std::move(filling_));
    if (!s.spare.empty()) {
      filling_ = std::move(s.spare.back());
      s.spare.pop_back();
    } else {
      filling_ = std::string();
    }
    filling_.clear();
    const bool post = needs_task(s);
    lock.unlock();
    if (post) {
      post_drain();
    }
  }

  std::shared_ptr<State> state_;
  protocol::Scheduler& pool_;
  std::string filling_;  // producer side only
};

/// The first MiB of a body is hashed on the request's thread: a pool hop per small upload would
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
  protocol::Scheduler* pool = nullptr;  // where MD5 moves after the first MiB; null: it stays here
  // Only MD5 moves to the worker: the CRCs are several times faster and keep the request's thread
  // busy while MD5 runs, so the worker's core does nothing but MD5. It owns `md5` once it exists.
  std::unique_ptr<DigestWorker> md5_worker;
};

PayloadDigests::PayloadDigests(const Call& c, std::string_view upload_algorithm, bool default_crc64)
    : impl_(std::make_unique<Impl>()) {
  impl_->pool = c.scheduler;
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
  if (d.md5_inline >= kHashInlineBytes && d.pool != nullptr) {
    d.md5_worker = std::make_unique<DigestWorker>(*d.pool, std::move(d.md5));
  }
}

void PayloadDigests::verify(const Call& c) {
  auto digest = impl_->md5_worker ? impl_->md5_worker->finish() : impl_->md5.finish();
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

std::optional<std::string> requested_checksum_algorithm(const Call& c) {
  auto header = c.header("x-amz-checksum-algorithm");
  if (!header) {
    return std::nullopt;
  }
  auto a = parse_checksum_algorithm(*header);
  if (!a) {
    throw unsupported_algorithm();
  }
  return std::string(checksum_name(*a));
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
