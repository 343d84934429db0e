#pragma once
// Large values stored as a sequence of fixed-size chunks, so they stream in and out of RocksDB
// with bounded memory (S3 object data, multipart parts).
//
// Layout: chunk i of a blob lives at key `<prefix><u32 big-endian i>` in one Space. The blob's
// size and chunk size are metadata the caller keeps (e.g. in the object record) and commits in
// the same Batch as the last chunk, which is what makes the blob visible.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "fogbank/storage/store.hpp"

namespace fogbank::storage {

inline constexpr std::size_t kDefaultChunkSize = 1 << 20;

/// Runs a task on some other thread, later (the service platform's pool: S3 passes
/// Scheduler::post). Storage owns no threads; blocking reads it wants done ahead of time go here.
/// It may be called with none of the caller's locks held and must not run the task inline; it may
/// throw, in which case the task is dropped and the caller does the work itself.
using Executor = std::function<void(std::function<void()>)>;

/// Writes a blob chunk by chunk. Full chunks are written as they fill, without the write-ahead
/// log (not visible to anyone until the caller commits its metadata); finish() flushes them to
/// files and puts the last partial chunk into the commit Batch, so a commit never refers to
/// chunks a crash could lose.
class BlobWriter {
 public:
  BlobWriter(Store& store, Space space, std::string prefix, std::size_t chunk_size = kDefaultChunkSize);
  ~BlobWriter();
  Status append(std::string_view data);
  /// Puts the trailing partial chunk into `batch`; the caller adds its metadata and writes it.
  Status finish(Batch& batch);
  /// Deletes every chunk written so far (failed or abandoned upload).
  void abort() noexcept;
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t chunk_size() const noexcept { return chunk_size_; }

 private:
  Store& store_;
  Space space_;
  std::string prefix_;
  std::size_t chunk_size_;
  std::string pending_;
  std::uint32_t next_chunk_ = 0;
  std::uint64_t size_ = 0;
  bool finished_ = false;
};

/// Reads [offset, offset+length) of a blob sequentially. A range of a few chunks, or any range
/// without an executor, is read one chunk at a time on the caller's thread; a longer one is read
/// ahead on `read_ahead` (several chunks in flight, a bounded number waiting), so the disk reads
/// of the next chunks overlap sending this one. The read-ahead tasks share their state with the
/// reader, never its stack: a reader destroyed mid-way returns at once, and tasks still queued or
/// running finish without touching it (the Store must outlive them).
class BlobReader {
 public:
  BlobReader(const Store& store, Space space, std::string prefix, std::uint64_t offset,
             std::uint64_t length, std::size_t chunk_size = kDefaultChunkSize, Executor read_ahead = {});
  ~BlobReader();
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;
  /// Copies up to n bytes; returns 0 at the end. A missing chunk throws std::runtime_error.
  std::size_t read(char* buf, std::size_t n);

 private:
  class ReadAhead;
  std::string load(std::uint32_t index);

  std::unique_ptr<ReadAhead> read_ahead_;
  const Store& store_;
  Space space_;
  std::string prefix_;
  std::uint64_t pos_;
  std::uint64_t end_;
  std::size_t chunk_size_;
  std::string chunk_;
  std::uint32_t chunk_index_ = UINT32_MAX;
};

/// Deletes every chunk of a blob (one range delete in `batch`).
void delete_blob(Batch& batch, Space space, std::string_view prefix);

}  // namespace fogbank::storage
