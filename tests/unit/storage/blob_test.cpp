#include "fogbank/storage/blob.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fogbank/storage/keys.hpp"

namespace fogbank::storage {
namespace {

constexpr std::size_t kChunk = 1000;

std::unique_ptr<Store> open_memory() {
  Options options;
  options.in_memory = true;
  Status status;
  auto store = Store::open(options, status);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return store;
}

// Deterministic, position-dependent bytes so that misplaced data is always noticed.
char byte_at(std::uint64_t pos) {
  std::uint64_t x = pos * 0x9E3779B97F4A7C15ULL;
  return static_cast<char>((x >> 29) ^ (pos >> 8));
}

std::string pattern(std::uint64_t begin, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = byte_at(begin + i);
  }
  return s;
}

std::size_t count_keys(const Store& store, Space space, std::string_view prefix) {
  std::size_t n = 0;
  for (auto c = store.scan_prefix(space, prefix); c.valid(); c.next()) {
    ++n;
  }
  return n;
}

/// A small FIFO pool standing in for the platform's Scheduler (storage cannot see it).
class TestPool {
 public:
  explicit TestPool(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { run(); });
    }
  }
  ~TestPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) {
      t.join();
    }
  }
  Executor executor() {
    return [this](std::function<void()> task) {
      {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(task));
        ++posted_;
      }
      ready_.notify_one();
    };
  }
  std::size_t posted() {
    std::lock_guard lock(mutex_);
    return posted_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;
      }
      auto task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  std::size_t posted_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

/// An executor whose tasks run only when the test says so: a pool busy with other work.
struct HeldTasks {
  std::vector<std::function<void()>> tasks;
  Executor executor() {
    return [this](std::function<void()> task) { tasks.push_back(std::move(task)); };
  }
  void run_all() {
    auto now = std::move(tasks);
    tasks.clear();
    for (auto& t : now) {
      t();
    }
  }
};

std::string read_all(const Store& store, const std::string& prefix, std::uint64_t offset,
                     std::uint64_t length, std::size_t chunk, std::size_t buf_size = 333,
                     Executor executor = {}) {
  BlobReader reader(store, Space::kS3Data, prefix, offset, length, chunk, std::move(executor));
  std::string out;
  std::vector<char> buf(buf_size);
  while (true) {
    std::size_t n = reader.read(buf.data(), buf.size());
    if (n == 0) {
      break;
    }
    out.append(buf.data(), n);
  }
  return out;
}

void write_blob(Store& store, const std::string& prefix, std::size_t size, std::size_t chunk,
                std::size_t piece = 777) {
  BlobWriter writer(store, Space::kS3Data, prefix, chunk);
  EXPECT_EQ(writer.chunk_size(), chunk);
  for (std::size_t off = 0; off < size; off += piece) {
    ASSERT_TRUE(writer.append(pattern(off, std::min(piece, size - off))).is_ok());
  }
  EXPECT_EQ(writer.size(), size);
  Batch batch;
  ASSERT_TRUE(writer.finish(batch).is_ok());
  batch.put(Space::kS3Meta, prefix, std::to_string(size));
  ASSERT_TRUE(store.write(batch).is_ok());
}

class BlobSizeTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(BlobSizeTest, RoundTrip) {
  auto store = open_memory();
  std::size_t size = GetParam();
  std::string prefix = KeyBuilder("blob").str("obj").key();
  write_blob(*store, prefix, size, kChunk);
  EXPECT_EQ(count_keys(*store, Space::kS3Data, prefix), (size + kChunk - 1) / kChunk);
  EXPECT_EQ(read_all(*store, prefix, 0, size, kChunk), pattern(0, size));
  // Large read buffers cross chunk boundaries in a single call.
  EXPECT_EQ(read_all(*store, prefix, 0, size, kChunk, 5000), pattern(0, size));
}

INSTANTIATE_TEST_SUITE_P(Sizes, BlobSizeTest,
                         ::testing::Values(0, 1, kChunk - 1, kChunk, kChunk + 1, 5 * kChunk,
                                           5 * kChunk + 17));

TEST(BlobTest, WholeChunkAppendsAndTinyAppends) {
  auto store = open_memory();
  std::string prefix = "p/";
  write_blob(*store, prefix, 3 * kChunk + 5, kChunk, kChunk);  // whole-chunk pieces
  EXPECT_EQ(read_all(*store, prefix, 0, 3 * kChunk + 5, kChunk), pattern(0, 3 * kChunk + 5));
  std::string prefix2 = "q/";
  write_blob(*store, prefix2, 2 * kChunk + 3, kChunk, 1);  // one byte at a time
  EXPECT_EQ(read_all(*store, prefix2, 0, 2 * kChunk + 3, kChunk), pattern(0, 2 * kChunk + 3));
  std::string prefix3 = "r/";
  write_blob(*store, prefix3, 4 * kChunk + 1, kChunk, 2 * kChunk + 500);  // multi-chunk pieces
  EXPECT_EQ(read_all(*store, prefix3, 0, 4 * kChunk + 1, kChunk), pattern(0, 4 * kChunk + 1));
}

TEST(BlobTest, ChunksAreKeyedByBigEndianIndex) {
  auto store = open_memory();
  write_blob(*store, "k", 2 * kChunk + 1, kChunk);
  std::vector<std::string> keys;
  for (auto c = store->scan_prefix(Space::kS3Data, "k"); c.valid(); c.next()) {
    keys.emplace_back(c.key());
  }
  ASSERT_EQ(keys.size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(keys[i], KeyBuilder().raw("k").u32(i).key());
  }
  EXPECT_EQ(store->get(Space::kS3Data, keys[2])->size(), 1u);
}

TEST(BlobTest, RangeReads) {
  auto store = open_memory();
  const std::size_t size = 7 * kChunk + 123;
  write_blob(*store, "range", size, kChunk);
  struct Case {
    std::uint64_t offset;
    std::uint64_t length;
  };
  for (Case c : std::vector<Case>{{0, 1},
                                  {0, kChunk},
                                  {kChunk - 1, 2},
                                  {kChunk, kChunk},
                                  {kChunk + 1, 3 * kChunk},
                                  {3 * kChunk + 500, 10},
                                  {size - 1, 1},
                                  {size - 124, 124},
                                  {5, 0},
                                  {123, size - 123}}) {
    EXPECT_EQ(read_all(*store, "range", c.offset, c.length, kChunk, 97), pattern(c.offset, c.length))
        << c.offset << "+" << c.length;
  }
}

TEST(BlobTest, ReadPastEndOrMissingChunkThrows) {
  auto store = open_memory();
  write_blob(*store, "short", kChunk + 10, kChunk);
  EXPECT_THROW(read_all(*store, "short", 0, kChunk + 11, kChunk), std::runtime_error);
  EXPECT_THROW(read_all(*store, "short", 0, 3 * kChunk, kChunk), std::runtime_error);
  EXPECT_THROW(read_all(*store, "absent", 0, 10, kChunk), std::runtime_error);
}

TEST(BlobTest, NothingIsBufferedBeyondOneChunk) {
  auto store = open_memory();
  BlobWriter writer(*store, Space::kS3Data, "stream", kChunk);
  ASSERT_TRUE(writer.append(pattern(0, 2 * kChunk + 10)).is_ok());
  // Full chunks are already in the store before finish().
  EXPECT_EQ(count_keys(*store, Space::kS3Data, "stream"), 2u);
  Batch batch;
  ASSERT_TRUE(writer.finish(batch).is_ok());
  EXPECT_EQ(batch.count(), 1u);
  EXPECT_EQ(count_keys(*store, Space::kS3Data, "stream"), 2u);
  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_EQ(count_keys(*store, Space::kS3Data, "stream"), 3u);
  EXPECT_FALSE(writer.append("more").is_ok());
}

TEST(BlobTest, AbortRemovesChunks) {
  auto store = open_memory();
  write_blob(*store, "keep", 2 * kChunk, kChunk);
  {
    BlobWriter writer(*store, Space::kS3Data, "gone", kChunk);
    ASSERT_TRUE(writer.append(pattern(0, 4 * kChunk + 3)).is_ok());
    EXPECT_EQ(count_keys(*store, Space::kS3Data, "gone"), 4u);
    writer.abort();
    EXPECT_EQ(count_keys(*store, Space::kS3Data, "gone"), 0u);
  }
  {
    // Dropped without finish(): the destructor cleans up too.
    BlobWriter writer(*store, Space::kS3Data, "dropped", kChunk);
    ASSERT_TRUE(writer.append(pattern(0, 3 * kChunk)).is_ok());
  }
  EXPECT_EQ(count_keys(*store, Space::kS3Data, "dropped"), 0u);
  EXPECT_EQ(count_keys(*store, Space::kS3Data, "keep"), 2u);
  EXPECT_EQ(read_all(*store, "keep", 0, 2 * kChunk, kChunk), pattern(0, 2 * kChunk));
}

TEST(BlobTest, DeleteBlobRemovesOnlyThatBlob) {
  auto store = open_memory();
  std::string a = KeyBuilder("o").str("a").key();
  std::string ab = KeyBuilder("o").str("ab").key();
  write_blob(*store, a, 3 * kChunk + 1, kChunk);
  write_blob(*store, ab, 2 * kChunk, kChunk);
  Batch batch;
  delete_blob(batch, Space::kS3Data, a);
  batch.del(Space::kS3Meta, a);
  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_EQ(count_keys(*store, Space::kS3Data, a), 0u);
  EXPECT_EQ(count_keys(*store, Space::kS3Data, ab), 2u);
  EXPECT_EQ(read_all(*store, ab, 0, 2 * kChunk, kChunk), pattern(0, 2 * kChunk));
}

TEST(BlobTest, LargeBlobWithSmallChunks) {
  // 64 MiB through 64 KiB chunks: the writer holds at most one chunk and the reader one chunk
  // plus the caller's buffer.
  auto store = open_memory();
  constexpr std::size_t kSize = 64u << 20;
  constexpr std::size_t kSmallChunk = 64u << 10;
  constexpr std::size_t kPiece = 100000;  // deliberately not a divisor of the chunk size
  {
    BlobWriter writer(*store, Space::kS3Data, "big", kSmallChunk);
    for (std::size_t off = 0; off < kSize; off += kPiece) {
      ASSERT_TRUE(writer.append(pattern(off, std::min(kPiece, kSize - off))).is_ok());
    }
    Batch batch;
    ASSERT_TRUE(writer.finish(batch).is_ok());
    EXPECT_EQ(batch.count(), 0u);  // the size is a multiple of the chunk size
    ASSERT_TRUE(store->write(batch).is_ok());
    EXPECT_EQ(writer.size(), kSize);
  }
  EXPECT_EQ(count_keys(*store, Space::kS3Data, "big"), kSize / kSmallChunk);
  BlobReader reader(*store, Space::kS3Data, "big", 0, kSize, kSmallChunk);
  std::vector<char> buf(50000);
  std::uint64_t pos = 0;
  while (std::size_t n = reader.read(buf.data(), buf.size())) {
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(buf[i], byte_at(pos + i)) << "at " << pos + i;
    }
    pos += n;
  }
  EXPECT_EQ(pos, kSize);
  EXPECT_EQ(read_all(*store, "big", kSize - 70000, 70000, kSmallChunk, 8192), pattern(kSize - 70000, 70000));
}

TEST(BlobTest, ReadAheadOnAPoolReturnsEveryRange) {
  auto store = open_memory();
  const std::size_t size = 37 * kChunk + 11;
  write_blob(*store, "pooled", size, kChunk);
  TestPool pool(3);
  for (auto [offset, length] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
           {0, size}, {kChunk / 2, 3 * kChunk}, {5 * kChunk - 1, 20 * kChunk + 2}, {size - 3 * kChunk, 3 * kChunk}}) {
    EXPECT_EQ(read_all(*store, "pooled", offset, length, kChunk, 97, pool.executor()), pattern(offset, length))
        << offset << "+" << length;
    EXPECT_EQ(read_all(*store, "pooled", offset, length, kChunk, 5 * kChunk, pool.executor()),
              pattern(offset, length));
  }
  EXPECT_GT(pool.posted(), 0u);
}

TEST(BlobTest, ReadAheadPostsAFewTasksNotOnePerChunk) {
  // Tasks keep claiming chunks while the window has room, so a long read posts about one task
  // per window's worth of chunks, not one per chunk; and never more than four are out at once.
  auto store = open_memory();
  write_blob(*store, "count", 64 * kChunk, kChunk);
  HeldTasks held;
  BlobReader reader(*store, Space::kS3Data, "count", 0, 64 * kChunk, kChunk, held.executor());
  EXPECT_EQ(held.tasks.size(), 4u);
  held.run_all();  // they fill the window (8 chunks) and return
  std::vector<char> buf(kChunk);
  ASSERT_EQ(reader.read(buf.data(), buf.size()), kChunk);
  EXPECT_LE(held.tasks.size(), 4u);
  std::string got(buf.data(), kChunk);
  while (std::size_t n = reader.read(buf.data(), buf.size())) {
    got.append(buf.data(), n);
    held.run_all();
  }
  EXPECT_EQ(got, pattern(0, 64 * kChunk));
}

TEST(BlobTest, ReadAheadDoesNotWaitForABusyPool) {
  // The pool never gets to the read-ahead tasks while the reader runs: every chunk is read on the
  // caller's thread instead of waiting. The tasks run after the reader is gone and do nothing.
  auto store = open_memory();
  write_blob(*store, "busy", 12 * kChunk + 5, kChunk);
  HeldTasks held;
  EXPECT_EQ(read_all(*store, "busy", 0, 12 * kChunk + 5, kChunk, 333, held.executor()), pattern(0, 12 * kChunk + 5));
  EXPECT_FALSE(held.tasks.empty());
  held.run_all();
  EXPECT_TRUE(held.tasks.empty());
}

TEST(BlobTest, ReadAheadTasksOutliveADroppedReader) {
  // A client that hangs up after the first bytes: the reader goes while its tasks are still
  // queued or reading. They own what they touch, so they finish safely and post nothing more.
  auto store = open_memory();
  write_blob(*store, "ahead", 40 * kChunk, kChunk);
  HeldTasks held;
  {
    BlobReader reader(*store, Space::kS3Data, "ahead", 0, 40 * kChunk, kChunk, held.executor());
    std::vector<char> buf(10);
    ASSERT_EQ(reader.read(buf.data(), buf.size()), buf.size());
    EXPECT_EQ(std::string(buf.data(), buf.size()), pattern(0, buf.size()));
  }
  held.run_all();
  EXPECT_TRUE(held.tasks.empty());
  TestPool pool(4);
  for (int round = 0; round < 20; ++round) {
    BlobReader reader(*store, Space::kS3Data, "ahead", 0, 40 * kChunk, kChunk, pool.executor());
    std::vector<char> buf(10);
    ASSERT_EQ(reader.read(buf.data(), buf.size()), buf.size());
    EXPECT_EQ(std::string(buf.data(), buf.size()), pattern(0, buf.size()));
  }
}

TEST(BlobTest, ReadAheadSurvivesAnExecutorThatRefuses) {
  auto store = open_memory();
  write_blob(*store, "refused", 9 * kChunk, kChunk);
  Executor refuses = [](std::function<void()>) { throw std::runtime_error("pool stopped"); };
  EXPECT_EQ(read_all(*store, "refused", 0, 9 * kChunk, kChunk, 333, refuses), pattern(0, 9 * kChunk));
}

TEST(BlobTest, ReadAheadReportsAMissingChunkWhenItIsReached) {
  auto store = open_memory();
  write_blob(*store, "holed", 10 * kChunk, kChunk);
  ASSERT_TRUE(store->del(Space::kS3Data, KeyBuilder().raw("holed").u32(6).key()).is_ok());
  TestPool pool(2);
  BlobReader reader(*store, Space::kS3Data, "holed", 0, 10 * kChunk, kChunk, pool.executor());
  std::string got;
  std::vector<char> buf(kChunk);
  for (int i = 0; i < 6; ++i) {
    const std::size_t n = reader.read(buf.data(), buf.size());
    got.append(buf.data(), n);
  }
  EXPECT_EQ(got, pattern(0, 6 * kChunk));  // everything before the hole arrives intact
  EXPECT_THROW(reader.read(buf.data(), buf.size()), std::runtime_error);
}

}  // namespace
}  // namespace fogbank::storage
