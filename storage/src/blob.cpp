#include "fogbank/storage/blob.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
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

/// Reads chunks [first, last] ahead of the consumer with up to kReaders tasks on the executor, at
/// most kWindow chunks past the one it is waiting for. Several reads in flight is what lets a cold
/// read come close to the disk's throughput; one at a time manages half of it.
///
/// Tasks never sleep on the pool: one claims chunks while any is claimable and returns when the
/// window is full; take() posts new ones as it frees space. Everything they touch is in State,
/// which they co-own, so dropping the reader only sets `stopping` and never waits for them.
class BlobReader::ReadAhead {
 public:
  ReadAhead(const Store& store, Space space, std::string prefix, std::uint32_t first, std::uint32_t last,
            Executor executor)
      : state_(std::make_shared<State>(store, space, std::move(prefix), first, last)),
        executor_(std::move(executor)) {
    std::unique_lock lock(state_->mutex);
    pump(lock);
  }

  ~ReadAhead() {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->fetched.clear();  // the memory goes now, not when the last task returns
  }

  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  /// Chunk `index`; nullopt when it is not the next one in order (the caller then reads directly).
  std::optional<std::string> take(std::uint32_t index) {
    State& s = *state_;
    std::unique_lock lock(s.mutex);
    if (index != s.wanted || index > s.last) {
      return std::nullopt;
    }
    Fetched got;
    for (;;) {
      if (auto it = s.fetched.find(index); it != s.fetched.end()) {
        got = std::move(it->second);
        s.fetched.erase(it);
        break;
      }
      if (s.next <= index) {
        // No task has claimed it: the pool is busy elsewhere and may stay so for long. Reading it
        // here costs one disk read, waiting for the pool could cost anything.
        s.next = std::uint64_t{index} + 1;
        lock.unlock();
        got = fetch(s, index);
        lock.lock();
        break;
      }
      s.arrived.wait(lock);  // a running task is reading it: one disk read at most
    }
    ++s.wanted;
    pump(lock);
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

  struct State {
    State(const Store& st, Space sp, std::string p, std::uint32_t first, std::uint32_t l)
        : store(st), space(sp), prefix(std::move(p)), wanted(first), next(first), last(l) {}

    [[nodiscard]] bool claimable() const { return !stopping && next <= last && next - wanted < kWindow; }

    const Store& store;
    const Space space;
    const std::string prefix;
    std::mutex mutex;
    std::condition_variable arrived;
    std::uint32_t wanted;  // the next chunk the consumer takes
    std::uint64_t next;    // the next chunk nobody has claimed (64-bit: may pass last = UINT32_MAX)
    const std::uint32_t last;
    std::map<std::uint32_t, Fetched> fetched;
    std::size_t tasks = 0;  // posted and not yet returned
    bool stopping = false;
  };

  static Fetched fetch(const State& s, std::uint32_t index) {
    Fetched got;
    try {
      got.data = read_chunk(s.store, s.space, s.prefix, index);
    } catch (const std::exception& e) {
      got.error = e.what();
    }
    return got;
  }

  static void run(const std::shared_ptr<State>& state) {
    State& s = *state;
    std::unique_lock lock(s.mutex);
    while (s.claimable()) {
      const auto index = static_cast<std::uint32_t>(s.next++);
      lock.unlock();
      Fetched got = fetch(s, index);
      lock.lock();
      if (!s.stopping) {
        s.fetched.emplace(index, std::move(got));
        s.arrived.notify_all();
      }
    }
    --s.tasks;
  }

  /// Posts tasks until kReaders are out or nothing is left to claim. Called with the lock held;
  /// posts without it, so an executor that runs tasks inline cannot deadlock.
  void pump(std::unique_lock<std::mutex>& lock) {
    State& s = *state_;
    std::size_t wanted_tasks = 0;
    if (s.claimable()) {
      const std::uint64_t unclaimed = std::min<std::uint64_t>(s.last - s.next + 1, kWindow - (s.next - s.wanted));
      wanted_tasks = std::min<std::size_t>(kReaders - std::min(kReaders, s.tasks), unclaimed);
    }
    s.tasks += wanted_tasks;
    lock.unlock();
    std::size_t posted = 0;
    try {
      for (; posted < wanted_tasks; ++posted) {
        executor_([state = state_] { run(state); });
      }
    } catch (...) {
      // The pool refused (shutting down): fewer tasks, and take() reads what nobody claims.
    }
    lock.lock();
    s.tasks -= wanted_tasks - posted;
  }

  std::shared_ptr<State> state_;
  Executor executor_;
};

BlobReader::BlobReader(const Store& store, Space space, std::string prefix, std::uint64_t offset,
                       std::uint64_t length, std::size_t chunk_size, Executor read_ahead)
    : store_(store),
      space_(space),
      prefix_(std::move(prefix)),
      pos_(offset),
      end_(length > std::numeric_limits<std::uint64_t>::max() - offset ? std::numeric_limits<std::uint64_t>::max()
                                                                       : offset + length),
      chunk_size_(effective_chunk_size(chunk_size)) {
  const std::uint64_t first = pos_ / chunk_size_;
  const std::uint64_t last = end_ > pos_ ? (end_ - 1) / chunk_size_ : first;
  if (read_ahead && end_ != std::numeric_limits<std::uint64_t>::max() && last - first + 1 >= kReadAheadMinChunks &&
      last <= std::numeric_limits<std::uint32_t>::max()) {
    read_ahead_ = std::make_unique<ReadAhead>(store_, space_, prefix_, static_cast<std::uint32_t>(first),
                                              static_cast<std::uint32_t>(last), std::move(read_ahead));
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
