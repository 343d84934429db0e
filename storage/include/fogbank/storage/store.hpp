#pragma once
// fogbank's storage layer: one RocksDB database, one column family per keyspace.
//
// Services never include <rocksdb/*>: they see this small API of string keys/values, a Status,
// atomic Batches and bounded Cursors. Multi-key changes go through one Batch so that a crash
// leaves either all of a change or none of it. RocksDB's WAL is always on, so anything
// acknowledged survives kill -9; Options::sync additionally fsyncs every write.
//
// Thread-safety: Store is safe to use from many threads at once (RocksDB's guarantee). Batch and
// Cursor are single-threaded values.

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fogbank::storage {

/// Outcome of a storage call. "Not found" is a value (see Store::get), not a Status.
class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kNotFound, kCorruption, kIoError, kInvalidArgument, kBusy, kOther };
  Status() = default;
  static Status ok() { return {}; }
  static Status error(Code code, std::string message) { return Status(code, std::move(message)); }
  [[nodiscard]] bool is_ok() const noexcept { return code_ == Code::kOk; }
  [[nodiscard]] Code code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  explicit operator bool() const noexcept { return is_ok(); }

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

/// The keyspaces (RocksDB column families). Order is fixed: it is the on-disk CF list.
enum class Space : std::uint8_t { kMeta, kSts, kS3Meta, kS3Data, kSqs, kSns, kKinesis, kImds };
inline constexpr int kSpaceCount = 8;
/// Column family name ("meta", "sts", "s3_meta", ...).
std::string_view space_name(Space space);

struct Options {
  std::string path;      ///< database directory (created if missing)
  bool sync = false;     ///< fsync the WAL on every write (power-loss durability)
  bool in_memory = false;///< RocksDB MemEnv: nothing touches the disk (tests, --ephemeral)
};

/// A set of changes applied atomically by Store::write. Move-only.
class Batch {
 public:
  Batch();
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;
  void put(Space space, std::string_view key, std::string_view value);
  /// The same, taking over strings the caller built for this batch (no copy of a large value).
  void put_owned(Space space, std::string&& key, std::string&& value);
  void del(Space space, std::string_view key);
  /// Deletes every key in [begin, end).
  void del_range(Space space, std::string_view begin, std::string_view end);
  [[nodiscard]] std::size_t count() const;
  [[nodiscard]] std::size_t byte_size() const;

 private:
  friend class Store;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A forward iterator over [lower, upper) of one Space, on a consistent snapshot. Move-only.
/// Do not keep one alive across an asynchronous wait: it pins memtables and files.
class Cursor {
 public:
  Cursor();
  ~Cursor();
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  [[nodiscard]] bool valid() const;
  [[nodiscard]] std::string_view key() const;    ///< valid until the next move
  [[nodiscard]] std::string_view value() const;  ///< valid until the next move
  void next();
  /// Repositions at the first key >= target (still bounded).
  void seek(std::string_view target);
  [[nodiscard]] Status status() const;

 private:
  friend class Store;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A storage failure where the caller has no Status to report it through.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  /// Opens (creating if needed) the database at options.path with every Space.
  static std::unique_ptr<Store> open(const Options& options, Status& status);
  ~Store();  ///< flushes and closes
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Status put(Space space, std::string_view key, std::string_view value);
  /// A put that skips the write-ahead log: the value is durable only after flush_space(space).
  /// For bulk data that a later logged write makes visible (blob chunks), so it is written once
  /// to a blob file instead of twice (log + file).
  Status put_unlogged(Space space, std::string_view key, std::string_view value);
  /// Flushes one Space's memtables to files and waits (makes put_unlogged() data durable).
  Status flush_space(Space space);
  /// nullopt when the key does not exist; `status` reports real errors.
  std::optional<std::string> get(Space space, std::string_view key, Status& status) const;
  /// Convenience: nullopt on not-found; throws StorageError on a real error, so that a storage
  /// failure can never be mistaken for a missing resource.
  std::optional<std::string> get(Space space, std::string_view key) const;
  Status del(Space space, std::string_view key);
  Status write(Batch& batch);

  /// Keys in [lower, upper); an empty `upper` means "to the end of the space".
  [[nodiscard]] Cursor scan(Space space, std::string_view lower, std::string_view upper = {}) const;
  /// Keys starting with `prefix`.
  [[nodiscard]] Cursor scan_prefix(Space space, std::string_view prefix) const;

  /// Deletes every key of one Space / of every Space (the admin reset endpoint).
  Status wipe(Space space);
  Status wipe_all();
  /// Flushes memtables and syncs the WAL (graceful shutdown).
  Status flush();

  [[nodiscard]] const Options& options() const;

 private:
  Store();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fogbank::storage
