#include "fogbank/storage/blob.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <map>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fogbank/storage/keys.hpp"

namespace fogbank::storage {

namespace {

std::string chunk_key(std::string_view prefix, std::uint32_t index) {
  return KeyBuilder().raw(prefix).u32(index).key();
}

// Covers exactly the 4-byte chunk indexes under `prefix` (plus anything longer that extends
// them, which a blob prefix must not have: it owns its key range).
std::string chunk_range_end(std::string_view prefix) {
  std::string end = chunk_key(prefix, std::numeric_limits<std::uint32_t>::max());
  end.push_back('\0');
  return end;
}

std::size_t effective_chunk_size(std::size_t chunk_size) {
  return chunk_size == 0 ? kDefaultChunkSize : chunk_size;
}

}  // namespace

BlobWriter::BlobWriter(Store& store, Space space, std::string prefix, std::size_t chunk_size)
    : store_(store),
      space_(space),
      prefix_(std::move(prefix)),
      chunk_size_(effective_chunk_size(chunk_size)) {}

BlobWriter::~BlobWriter() {
  // A writer dropped before finish() left chunks nobody will ever reference.
  if (!finished_ && next_chunk_ > 0) {
    abort();
  }
}

Status BlobWriter::append(std::string_view data) {
  if (finished_) {
    return Status::error(Status::Code::kInvalidArgument, "blob: append after finish");
  }
  while (!data.empty()) {
    if (next_chunk_ == std::numeric_limits<std::uint32_t>::max()) {
      return Status::error(Status::Code::kInvalidArgument, "blob: too many chunks");
    }
    std::string_view full;
    std::size_t taken = 0;
    if (pending_.empty() && data.size() >= chunk_size_) {
      // Whole chunks straight from the caller's buffer: no copy into pending_.
      full = data.substr(0, chunk_size_);
      taken = chunk_size_;
    } else {
      taken = std::min(chunk_size_ - pending_.size(), data.size());
      pending_.append(data.substr(0, taken));
      if (pending_.size() == chunk_size_) {
        full = pending_;
      }
    }
    if (!full.empty()) {
      // Full chunks skip the log; finish() flushes them before the caller's commit.
      Status s = store_.put_unlogged(space_, chunk_key(prefix_, next_chunk_), full);
      if (!s) {
        return s;
      }
      ++next_chunk_;
      pending_.clear();
    }
    data.remove_prefix(taken);
    size_ += taken;
  }
  return Status::ok();
}

Status BlobWriter::finish(Batch& batch) {
  if (finished_) {
    return Status::error(Status::Code::kInvalidArgument, "blob: finish called twice");
  }
  if (next_chunk_ > 0) {
    if (Status s = store_.flush_space(space_); !s) {
      return s;
    }
  }
  if (!pending_.empty()) {
    batch.put(space_, chunk_key(prefix_, next_chunk_), pending_);
    pending_.clear();
    pending_.shrink_to_fit();
  }
  finished_ = true;
  return Status::ok();
}

void BlobWriter::abort() noexcept {
  try {
    Batch batch;
    batch.del_range(space_, chunk_key(prefix_, 0), chunk_range_end(prefix_));
    (void)store_.write(batch);
  } catch (...) {
    // abort() runs on failure paths and in the destructor; the orphaned chunks are only wasted
    // space, never visible, so there is nothing better to do than leave them.
  }
  pending_.clear();
  next_chunk_ = 0;
  finished_ = true;
}

namespace {

std::string read_chunk(const Store& store, Space space, std::string_view prefix, std::uint32_t index) {
  Status status;
  std::optional<std::string> chunk = store.get(space, chunk_key(prefix, index), status);
  if (!status) {
    throw std::runtime_error("blob: reading chunk " + std::to_string(index) + ": " + status.message());
  }
  if (!chunk) {
    throw std::runtime_error("blob: chunk " + std::to_string(index) + " is missing");
  }
  return std::move(*chunk);
}

/// Ranges spanning more chunks than this are read ahead.
constexpr std::uint64_t kReadAheadMinChunks = 3;

}  // namespace

/// Reads chunks [first, last] ahead of the consumer on kReaders threads, at most kWindow chunks
/// past the one it is waiting for. Several reads in flight is what lets a cold read come close to
/// the disk's throughput; one at a time manages half of it.
class BlobReader::ReadAhead {
 public:
  ReadAhead(const Store& store, Space space, std::string prefix, std::uint32_t first, std::uint32_t last)
      : store_(store), space_(space), prefix_(std::move(prefix)), wanted_(first), next_(first), last_(last) {
    const std::size_t readers = std::min<std::size_t>(kReaders, std::size_t{last} - first + 1);
    for (std::size_t i = 0; i < readers; ++i) {
      readers_.emplace_back([this] { run(); });
    }
  }

  ~ReadAhead() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    claimable_.notify_all();
    for (auto& t : readers_) {
      t.join();
    }
  }

  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  /// Chunk `index`; nullopt when it is not the next one in order (the caller then reads directly).
  std::optional<std::string> take(std::uint32_t index) {
    std::unique_lock lock(mutex_);
    if (index != wanted_ || index > last_) {
      return std::nullopt;
    }
    arrived_.wait(lock, [&] { return fetched_.contains(index); });
    Fetched got = std::move(fetched_.at(index));
    fetched_.erase(index);
    ++wanted_;
    lock.unlock();
    claimable_.notify_all();
    if (got.error) {
      throw std::runtime_error(*got.error);
    }
    return std::move(got.data);
  }

 private:
  static constexpr std::size_t kReaders = 4;
  static constexpr std::uint32_t kWindow = 8;

  struct Fetched {
    std::string data;
    std::optional<std::string> error;
  };

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      claimable_.wait(lock, [&] { return stopping_ || next_ > last_ || next_ - wanted_ < kWindow; });
      if (stopping_ || next_ > last_) {
        return;
      }
      const std::uint32_t index = next_++;
      lock.unlock();
      Fetched got;
      try {
        got.data = read_chunk(store_, space_, prefix_, index);
      } catch (const std::exception& e) {
        got.error = e.what();
      }
      lock.lock();
      fetched_.emplace(index, std::move(got));
      arrived_.notify_all();
      if (index == last_) {
        return;
      }
    }
  }

  const Store& store_;
  Space space_;
  std::string prefix_;
  std::uint32_t wanted_;  // the next chunk the consumer takes
  std::uint64_t next_;    // the next chunk a reader claims (64-bit: may pass last_ = UINT32_MAX)
  std::uint32_t last_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::condition_variable claimable_;
  std::map<std::uint32_t, Fetched> fetched_;
  bool stopping_ = false;
  std::vector<std::thread> readers_;  // last: started once everything above exists
};

BlobReader::BlobReader(const Store& store, Space space, std::string prefix, std::uint64_t offset,
                       std::uint64_t length, std::size_t chunk_size)
    : store_(store),
      space_(space),
      prefix_(std::move(prefix)),
      pos_(offset),
      end_(length > std::numeric_limits<std::uint64_t>::max() - offset ? std::numeric_limits<std::uint64_t>::max()
                                                                       : offset + length),
      chunk_size_(effective_chunk_size(chunk_size)) {
  const std::uint64_t first = pos_ / chunk_size_;
  const std::uint64_t last = end_ > pos_ ? (end_ - 1) / chunk_size_ : first;
  if (end_ != std::numeric_limits<std::uint64_t>::max() && last - first + 1 >= kReadAheadMinChunks &&
      last <= std::numeric_limits<std::uint32_t>::max()) {
    read_ahead_ = std::make_unique<ReadAhead>(store_, space_, prefix_, static_cast<std::uint32_t>(first),
                                              static_cast<std::uint32_t>(last));
  }
}

BlobReader::~BlobReader() = default;

std::string BlobReader::load(std::uint32_t index) {
  if (read_ahead_) {
    if (auto chunk = read_ahead_->take(index)) {
      return std::move(*chunk);
    }
    read_ahead_.reset();
  }
  return read_chunk(store_, space_, prefix_, index);
}

std::size_t BlobReader::read(char* buf, std::size_t n) {
  std::size_t copied = 0;
  while (copied < n && pos_ < end_) {
    std::uint64_t index = pos_ / chunk_size_;
    if (index > std::numeric_limits<std::uint32_t>::max()) {
      throw std::runtime_error("blob: offset beyond the last possible chunk");
    }
    if (index != chunk_index_ || chunk_.empty()) {
      chunk_ = load(static_cast<std::uint32_t>(index));
      chunk_index_ = static_cast<std::uint32_t>(index);
    }
    auto within = static_cast<std::size_t>(pos_ % chunk_size_);
    if (within >= chunk_.size()) {
      throw std::runtime_error("blob: chunk " + std::to_string(index) + " is shorter than expected");
    }
    std::size_t take = std::min<std::uint64_t>({chunk_.size() - within, end_ - pos_, n - copied});
    std::memcpy(buf + copied, chunk_.data() + within, take);
    copied += take;
    pos_ += take;
  }
  return copied;
}

void delete_blob(Batch& batch, Space space, std::string_view prefix) {
  batch.del_range(space, chunk_key(prefix, 0), chunk_range_end(prefix));
}

}  // namespace fogbank::storage
