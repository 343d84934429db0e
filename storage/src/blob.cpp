#include "fogbank/storage/blob.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

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

BlobReader::BlobReader(const Store& store, Space space, std::string prefix, std::uint64_t offset,
                       std::uint64_t length, std::size_t chunk_size)
    : store_(store),
      space_(space),
      prefix_(std::move(prefix)),
      pos_(offset),
      end_(length > std::numeric_limits<std::uint64_t>::max() - offset ? std::numeric_limits<std::uint64_t>::max()
                                                                       : offset + length),
      chunk_size_(effective_chunk_size(chunk_size)) {}

std::size_t BlobReader::read(char* buf, std::size_t n) {
  std::size_t copied = 0;
  while (copied < n && pos_ < end_) {
    std::uint64_t index = pos_ / chunk_size_;
    if (index > std::numeric_limits<std::uint32_t>::max()) {
      throw std::runtime_error("blob: offset beyond the last possible chunk");
    }
    if (index != chunk_index_ || chunk_.empty()) {
      Status status;
      std::optional<std::string> chunk =
          store_.get(space_, chunk_key(prefix_, static_cast<std::uint32_t>(index)), status);
      if (!status) {
        throw std::runtime_error("blob: reading chunk " + std::to_string(index) + ": " + status.message());
      }
      if (!chunk) {
        throw std::runtime_error("blob: chunk " + std::to_string(index) + " is missing");
      }
      chunk_ = std::move(*chunk);
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
