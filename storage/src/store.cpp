#include "fogbank/storage/store.hpp"

#include "fogbank/storage/keys.hpp"
#include "rocksdb_crc32c.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/status.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace fogbank::storage {

namespace {

// Memory budget: fogbank should idle under ~12 MiB RSS, so every cache and buffer is small and
// shared across the column families rather than sized per family.
constexpr std::size_t kBlockCacheBytes = 8 << 20;
constexpr std::size_t kWriteBufferBytes = 4 << 20;
constexpr std::size_t kDbWriteBufferBytes = 48 << 20;
// Object chunks stay in the memtable until a flush moves them to blob files: a larger buffer
// means fewer flushes under upload load; memtables grow by arena blocks, so idle memory is the same.
constexpr std::size_t kObjectWriteBufferBytes = 16 << 20;
constexpr std::size_t kArenaBlockBytes = 128 << 10;
constexpr std::uint64_t kMaxTotalWalBytes = 64 << 20;
constexpr int kMaxOpenFiles = 256;

constexpr std::array<std::string_view, kSpaceCount> kSpaceNames = {
    "meta", "sts", "s3_meta", "s3_data", "sqs", "sns", "kinesis", "imds"};

constexpr std::string_view kMemEnvPath = "/fogbank-ephemeral";

rocksdb::Slice to_slice(std::string_view s) { return {s.data(), s.size()}; }

std::string_view to_view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

Status from_rocksdb(const rocksdb::Status& s) {
  if (s.ok()) {
    return Status::ok();
  }
  Status::Code code = Status::Code::kOther;
  if (s.IsNotFound()) {
    code = Status::Code::kNotFound;
  } else if (s.IsCorruption()) {
    code = Status::Code::kCorruption;
  } else if (s.IsIOError()) {
    code = Status::Code::kIoError;
  } else if (s.IsInvalidArgument()) {
    code = Status::Code::kInvalidArgument;
  } else if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    code = Status::Code::kBusy;
  }
  return Status::error(code, s.ToString());
}

bool is_lock_error(const rocksdb::Status& s) {
  if (!s.IsIOError()) {
    return false;
  }
  std::string text = s.ToString();
  return text.find("lock") != std::string::npos || text.find("LOCK") != std::string::npos;
}

rocksdb::ColumnFamilyOptions base_cf_options(const std::shared_ptr<rocksdb::TableFactory>& table) {
  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory = table;
  cf.write_buffer_size = kWriteBufferBytes;
  cf.max_write_buffer_number = 2;
  cf.arena_block_size = kArenaBlockBytes;
  cf.level_compaction_dynamic_level_bytes = true;
  return cf;
}

rocksdb::ColumnFamilyOptions space_cf_options(Space space,
                                              const std::shared_ptr<rocksdb::TableFactory>& table) {
  rocksdb::ColumnFamilyOptions cf = base_cf_options(table);
  if (space == Space::kS3Data) {
    // Object chunks are large and written once: keeping them in blob files means compaction
    // only rewrites the small key->blob references, not the data.
    cf.write_buffer_size = kObjectWriteBufferBytes;
    cf.max_write_buffer_number = 3;
    cf.enable_blob_files = true;
    // Small objects stay inline in the table files: as blobs, garbage collection re-read them one
    // pread each whenever compaction moved their references.
    cf.min_blob_size = 64 << 10;
    cf.blob_file_size = 64ULL << 20;
    // Blob ids start with their creation time, so new chunk references sort last: small files
    // let compaction merge a flush with the few files its keys overlap, not the whole space.
    cf.target_file_size_base = 4ULL << 20;
    cf.level0_file_num_compaction_trigger = 8;
    // Level-0 files here rarely overlap (time-ordered keys), so many of them cost reads little,
    // and a burst of small uploads should not throttle writes while compaction catches up.
    cf.level0_slowdown_writes_trigger = 40;
    cf.level0_stop_writes_trigger = 56;
    cf.enable_blob_garbage_collection = true;
    // Object bytes are mostly compressed already (images, archives); compressing them again at
    // every flush cost CPU that small PUTs need, for little space.
    cf.compression = rocksdb::kNoCompression;
  } else if (space == Space::kKinesis) {
    // Stream records arrive in bulk (a PutRecords is up to 5 MiB) and stay until retention:
    // compressing them at every flush and again at every compaction took half of an ingest's CPU
    // (record data is often compressed or random already), and 4 MiB memtables flushed many
    // times a second.
    cf.write_buffer_size = kObjectWriteBufferBytes;
    cf.max_write_buffer_number = 4;
    // Record keys interleave the shards, so every flush overlaps every table file: inline, the
    // records were rewritten by compaction again and again. As blobs they are written once and
    // compaction moves only keys; retention trims the oldest records first, so whole blob files
    // fall out of use and no garbage collection has to copy live records.
    cf.enable_blob_files = true;
    cf.min_blob_size = 512;
    cf.blob_file_size = 64ULL << 20;
    cf.target_file_size_base = 32ULL << 20;
    cf.level0_file_num_compaction_trigger = 8;
    cf.level0_slowdown_writes_trigger = 40;
    cf.level0_stop_writes_trigger = 56;
    cf.compression = rocksdb::kNoCompression;
  } else if (space == Space::kSqs) {
    // Messages live briefly: most are deleted soon after they are written, so a larger memtable
    // lets more deletes meet their message before a flush, and compressing what compaction
    // rewrites (signed SNS envelopes compress poorly) cost a quarter of a fan-out's CPU.
    cf.write_buffer_size = kObjectWriteBufferBytes;
    cf.max_write_buffer_number = 3;
    cf.level0_file_num_compaction_trigger = 8;
    cf.level0_slowdown_writes_trigger = 40;
    cf.level0_stop_writes_trigger = 56;
    cf.compression = rocksdb::kNoCompression;
  }
  return cf;
}

}  // namespace

std::string_view space_name(Space space) {
  auto index = static_cast<std::size_t>(space);
  if (index >= kSpaceNames.size()) {
    return "unknown";
  }
  return kSpaceNames[index];
}

struct Batch::Impl {
  enum class Op : std::uint8_t { kPut, kDel, kDelRange };
  struct Entry {
    Op op;
    Space space;
    std::string a;  // key, or range begin
    std::string b;  // value, or range end
  };
  // Column family handles belong to an open Store, which a Batch does not know about, so the
  // operations are recorded here and replayed into a rocksdb::WriteBatch by Store::write.
  std::vector<Entry> entries;
  std::size_t bytes = 0;

  void add(Op op, Space space, std::string a, std::string b) {
    bytes += a.size() + b.size();
    entries.push_back(Entry{op, space, std::move(a), std::move(b)});
  }
};

Batch::Batch() : impl_(std::make_unique<Impl>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

void Batch::put(Space space, std::string_view key, std::string_view value) {
  if (!impl_) {
    impl_ = std::make_unique<Impl>();
  }
  impl_->add(Impl::Op::kPut, space, std::string(key), std::string(value));
}

void Batch::put_owned(Space space, std::string&& key, std::string&& value) {
  if (!impl_) {
    impl_ = std::make_unique<Impl>();
  }
  impl_->add(Impl::Op::kPut, space, std::move(key), std::move(value));
}

void Batch::del(Space space, std::string_view key) {
  if (!impl_) {
    impl_ = std::make_unique<Impl>();
  }
  impl_->add(Impl::Op::kDel, space, std::string(key), {});
}

void Batch::del_range(Space space, std::string_view begin, std::string_view end) {
  if (!impl_) {
    impl_ = std::make_unique<Impl>();
  }
  impl_->add(Impl::Op::kDelRange, space, std::string(begin), std::string(end));
}

std::size_t Batch::count() const { return impl_ ? impl_->entries.size() : 0; }

std::size_t Batch::byte_size() const { return impl_ ? impl_->bytes : 0; }

struct Cursor::Impl {
  // The iterator keeps pointers to these Slices, which point into these strings; Impl lives on
  // the heap so moving a Cursor never invalidates them.
  std::string lower;
  std::string upper;
  rocksdb::Slice lower_slice;
  rocksdb::Slice upper_slice;
  std::unique_ptr<rocksdb::Iterator> it;
};

Cursor::Cursor() = default;
Cursor::~Cursor() = default;
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;

bool Cursor::valid() const { return impl_ && impl_->it && impl_->it->Valid(); }

std::string_view Cursor::key() const { return to_view(impl_->it->key()); }

std::string_view Cursor::value() const { return to_view(impl_->it->value()); }

void Cursor::next() {
  if (valid()) {
    impl_->it->Next();
  }
}

void Cursor::seek(std::string_view target) {
  if (!impl_ || !impl_->it) {
    return;
  }
  if (target < std::string_view(impl_->lower)) {
    impl_->it->Seek(impl_->lower_slice);
  } else {
    impl_->it->Seek(to_slice(target));
  }
}

Status Cursor::status() const {
  if (!impl_ || !impl_->it) {
    return Status::ok();
  }
  return from_rocksdb(impl_->it->status());
}

struct Store::Impl {
  Options options;
  // Declared before `db` so it is destroyed after it: the DB's files live inside this Env.
  std::unique_ptr<rocksdb::Env> mem_env;
  std::shared_ptr<rocksdb::Cache> block_cache;
  std::unique_ptr<rocksdb::DB> db;
  std::array<rocksdb::ColumnFamilyHandle*, kSpaceCount> spaces{};
  // Every handle we opened (spaces, "default", any family a newer version created), so that
  // all of them can be destroyed before Close.
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles;
  rocksdb::WriteOptions write_options;

  rocksdb::ColumnFamilyHandle* cf(Space space) const {
    return spaces[static_cast<std::size_t>(space)];
  }

  Status delete_everything(const std::vector<Space>& targets);
};

Store::Store() : impl_(std::make_unique<Impl>()) {}

std::unique_ptr<Store> Store::open(const Options& options, Status& status) {
  if (options.path.empty() && !options.in_memory) {
    status = Status::error(Status::Code::kInvalidArgument, "storage: no database path given");
    return nullptr;
  }
  if (!rocksdb_crc32c_ok()) {
    status = Status::error(Status::Code::kOther, "storage: RocksDB's CRC32C gives wrong values");
    return nullptr;
  }
  std::unique_ptr<Store> store(new Store());
  Impl& impl = *store->impl_;
  impl.options = options;
  // A MemEnv only accepts absolute paths, and each one is a private file system, so ephemeral
  // stores all use one fixed path whatever options.path says.
  std::string path = options.in_memory ? std::string(kMemEnvPath) : options.path;

  impl.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = impl.block_cache;
  // Index and filter blocks are charged to the shared cache so their memory stays bounded too.
  table_options.cache_index_and_filter_blocks = true;
  table_options.pin_l0_filter_and_index_blocks_in_cache = true;
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  std::shared_ptr<rocksdb::TableFactory> table(rocksdb::NewBlockBasedTableFactory(table_options));

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.db_write_buffer_size = kDbWriteBufferBytes;
  db_options.max_total_wal_size = kMaxTotalWalBytes;
  db_options.max_open_files = kMaxOpenFiles;
  db_options.max_background_jobs = 2;
  // Two flushes at a time: a flush spends much of its time waiting for the fsync that ends its
  // blob file, and with one flush thread a steady Kinesis or S3 ingest filled every memtable and
  // stopped writes until that fsync returned.
  db_options.max_background_flushes = 2;
  db_options.max_background_compactions = 1;
  // Concurrent writers (one per I/O thread) overlap the WAL append of one group with the
  // memtable insert of the previous one.
  db_options.enable_pipelined_write = true;
  db_options.keep_log_file_num = 2;
  db_options.max_log_file_size = 1 << 20;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.stats_dump_period_sec = 0;
  db_options.stats_persist_period_sec = 0;
  if (options.in_memory) {
    impl.mem_env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    db_options.env = impl.mem_env.get();
  } else {
    // Flushes and compactions write through the page cache, handing it to the disk a megabyte
    // at a time as they go, so the fsync that ends each new file finds little left to write.
    // O_DIRECT writes (tried before) ran a 1 GiB upload at 48 MB/s on a virtual disk where
    // these run at 364 MB/s: each direct write waited for the device.
    db_options.bytes_per_sync = 1 << 20;
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, base_cf_options(table));
  for (int i = 0; i < kSpaceCount; ++i) {
    auto space = static_cast<Space>(i);
    descriptors.emplace_back(std::string(space_name(space)), space_cf_options(space, table));
  }
  // RocksDB refuses to open a database without naming every family it has; one created by a
  // newer fogbank may have more, so open those too (with default tuning).
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, path, &existing).ok()) {
    for (const std::string& name : existing) {
      bool known = false;
      for (const auto& d : descriptors) {
        known = known || d.name == name;
      }
      if (!known) {
        descriptors.emplace_back(name, base_cf_options(table));
      }
    }
  }

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, descriptors, &impl.all_handles, &raw);
  if (!s.ok()) {
    if (is_lock_error(s)) {
      status = Status::error(Status::Code::kBusy,
                             "database " + path +
                                 " is locked: another fogbank process is probably using it (" +
                                 s.ToString() + ")");
    } else {
      status = Status::error(from_rocksdb(s).code(),
                             "cannot open database " + path + ": " + s.ToString());
    }
    impl.all_handles.clear();
    return nullptr;
  }
  impl.db.reset(raw);
  // Handles come back in descriptor order: [default, spaces..., extras...].
  for (int i = 0; i < kSpaceCount; ++i) {
    impl.spaces[static_cast<std::size_t>(i)] = impl.all_handles[static_cast<std::size_t>(i) + 1];
  }
  // MemEnv files cannot be synced (RocksDB reports NotSupported), and there is nothing to make
  // durable anyway.
  impl.write_options.sync = options.sync && !options.in_memory;
  status = Status::ok();
  return store;
}

Store::~Store() {
  if (!impl_ || !impl_->db) {
    return;
  }
  if (impl_->options.in_memory) {
    // Nothing would survive the MemEnv anyway; flushing would only burn time.
    (void)impl_->db->FlushWAL(false);
  } else {
    // Flushing memtables makes the next start skip WAL replay.
    (void)flush();
  }
  for (rocksdb::ColumnFamilyHandle* handle : impl_->all_handles) {
    (void)impl_->db->DestroyColumnFamilyHandle(handle);
  }
  impl_->all_handles.clear();
  impl_->spaces = {};
  (void)impl_->db->Close();
  impl_->db.reset();
}

Status Store::put(Space space, std::string_view key, std::string_view value) {
  return from_rocksdb(
      impl_->db->Put(impl_->write_options, impl_->cf(space), to_slice(key), to_slice(value)));
}

Status Store::put_unlogged(Space space, std::string_view key, std::string_view value) {
  rocksdb::WriteOptions options = impl_->write_options;
  options.disableWAL = true;
  options.sync = false;
  return from_rocksdb(impl_->db->Put(options, impl_->cf(space), to_slice(key), to_slice(value)));
}

Status Store::flush_space(Space space) {
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  flush_options.allow_write_stall = true;
  return from_rocksdb(impl_->db->Flush(flush_options, impl_->cf(space)));
}

std::optional<std::string> Store::get(Space space, std::string_view key, Status& status) const {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(space), to_slice(key), &value);
  if (s.IsNotFound()) {
    status = Status::ok();
    return std::nullopt;
  }
  status = from_rocksdb(s);
  if (!status) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> Store::get(Space space, std::string_view key) const {
  Status status;
  auto value = get(space, key, status);
  if (!status) {
    // A read that failed is not a missing key: callers would answer NoSuchKey (or refuse a valid
    // credential). The request pipeline turns this into a logged 500.
    throw StorageError("storage read failed: " + status.message());
  }
  return value;
}

Status Store::del(Space space, std::string_view key) {
  return from_rocksdb(impl_->db->Delete(impl_->write_options, impl_->cf(space), to_slice(key)));
}

Status Store::write(Batch& batch) {
  if (!batch.impl_ || batch.impl_->entries.empty()) {
    return Status::ok();
  }
  rocksdb::WriteBatch wb(batch.impl_->bytes + 32 * batch.impl_->entries.size());
  rocksdb::Status s;
  for (const Batch::Impl::Entry& e : batch.impl_->entries) {
    rocksdb::ColumnFamilyHandle* cf = impl_->cf(e.space);
    switch (e.op) {
      case Batch::Impl::Op::kPut:
        s = wb.Put(cf, to_slice(e.a), to_slice(e.b));
        break;
      case Batch::Impl::Op::kDel:
        s = wb.Delete(cf, to_slice(e.a));
        break;
      case Batch::Impl::Op::kDelRange:
        // RocksDB rejects begin > end; an empty or inverted range simply deletes nothing.
        if (e.a < e.b) {
          s = wb.DeleteRange(cf, to_slice(e.a), to_slice(e.b));
        }
        break;
    }
    if (!s.ok()) {
      return from_rocksdb(s);
    }
  }
  return from_rocksdb(impl_->db->Write(impl_->write_options, &wb));
}

Cursor Store::scan(Space space, std::string_view lower, std::string_view upper) const {
  Cursor cursor;
  cursor.impl_ = std::make_unique<Cursor::Impl>();
  Cursor::Impl& c = *cursor.impl_;
  c.lower.assign(lower);
  c.upper.assign(upper);
  c.lower_slice = to_slice(c.lower);
  c.upper_slice = to_slice(c.upper);
  rocksdb::ReadOptions read_options;
  read_options.iterate_lower_bound = &c.lower_slice;
  if (!c.upper.empty()) {
    read_options.iterate_upper_bound = &c.upper_slice;
  }
  c.it.reset(impl_->db->NewIterator(read_options, impl_->cf(space)));
  c.it->Seek(c.lower_slice);
  return cursor;
}

Cursor Store::scan_prefix(Space space, std::string_view prefix) const {
  // An empty successor (prefix of only 0xFF bytes, or no prefix) means "to the end of the space",
  // which is exactly scan()'s reading of an empty upper bound.
  return scan(space, prefix, prefix_successor(prefix));
}

Status Store::Impl::delete_everything(const std::vector<Space>& targets) {
  // Keys are arbitrary bytes, so there is no fixed "largest key": find each space's current last
  // key and range-delete ["", last + "\0"). Keys written concurrently above that point survive,
  // which is why callers quiesce writers first (the admin reset does).
  rocksdb::WriteBatch wb;
  std::vector<rocksdb::ColumnFamilyHandle*> touched;
  for (Space space : targets) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf(space)));
    it->SeekToLast();
    if (!it->status().ok()) {
      return from_rocksdb(it->status());
    }
    if (!it->Valid()) {
      continue;
    }
    std::string end = it->key().ToString();
    end.push_back('\0');
    rocksdb::Status s = wb.DeleteRange(cf(space), rocksdb::Slice(), end);
    if (!s.ok()) {
      return from_rocksdb(s);
    }
    touched.push_back(cf(space));
  }
  if (touched.empty()) {
    return Status::ok();
  }
  rocksdb::Status s = db->Write(write_options, &wb);
  if (!s.ok()) {
    return from_rocksdb(s);
  }
  // Compacting the emptied spaces reclaims disk (and obsolete blob files) now rather than
  // whenever background compaction gets to it, and drops the range tombstones from reads.
  for (rocksdb::ColumnFamilyHandle* handle : touched) {
    s = db->CompactRange(rocksdb::CompactRangeOptions(), handle, nullptr, nullptr);
    if (!s.ok()) {
      return from_rocksdb(s);
    }
  }
  return Status::ok();
}

Status Store::wipe(Space space) { return impl_->delete_everything({space}); }

Status Store::wipe_all() {
  std::vector<Space> all;
  for (int i = 0; i < kSpaceCount; ++i) {
    all.push_back(static_cast<Space>(i));
  }
  return impl_->delete_everything(all);
}

Status Store::flush() {
  rocksdb::Status s = impl_->db->FlushWAL(/*sync=*/!impl_->options.in_memory);
  if (!s.ok()) {
    return from_rocksdb(s);
  }
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles(impl_->spaces.begin(), impl_->spaces.end());
  return from_rocksdb(impl_->db->Flush(flush_options, handles));
}

const Options& Store::options() const { return impl_->options; }

}  // namespace fogbank::storage
