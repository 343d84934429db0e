#include "fogbank/storage/store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "fogbank/storage/keys.hpp"

namespace fogbank::storage {
namespace {

using namespace std::string_literals;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "fogbank-storage-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string db() const { return (path_ / "db").string(); }

 private:
  std::filesystem::path path_;
};

std::unique_ptr<Store> open_memory() {
  Options options;
  options.in_memory = true;
  Status status;
  auto store = Store::open(options, status);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return store;
}

std::unique_ptr<Store> open_disk(const std::string& path, bool sync = false) {
  Options options;
  options.path = path;
  options.sync = sync;
  Status status;
  auto store = Store::open(options, status);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return store;
}

std::vector<std::string> keys_of(Cursor cursor) {
  std::vector<std::string> out;
  for (; cursor.valid(); cursor.next()) {
    out.emplace_back(cursor.key());
  }
  EXPECT_TRUE(cursor.status().is_ok());
  return out;
}

TEST(StoreTest, SpaceNames) {
  EXPECT_EQ(space_name(Space::kMeta), "meta");
  EXPECT_EQ(space_name(Space::kSts), "sts");
  EXPECT_EQ(space_name(Space::kS3Meta), "s3_meta");
  EXPECT_EQ(space_name(Space::kS3Data), "s3_data");
  EXPECT_EQ(space_name(Space::kSqs), "sqs");
  EXPECT_EQ(space_name(Space::kSns), "sns");
  EXPECT_EQ(space_name(Space::kKinesis), "kinesis");
  EXPECT_EQ(space_name(Space::kImds), "imds");
}

TEST(StoreTest, PutGetDel) {
  auto store = open_memory();
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->put(Space::kMeta, "k", "v").is_ok());
  Status status = Status::error(Status::Code::kOther, "stale");
  auto v = store->get(Space::kMeta, "k", status);
  EXPECT_TRUE(status.is_ok());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, "v");

  EXPECT_TRUE(store->put(Space::kMeta, "k", "v2").is_ok());
  EXPECT_EQ(store->get(Space::kMeta, "k"), "v2");

  EXPECT_TRUE(store->del(Space::kMeta, "k").is_ok());
  status = Status::error(Status::Code::kOther, "stale");
  EXPECT_FALSE(store->get(Space::kMeta, "k", status).has_value());
  EXPECT_TRUE(status.is_ok());  // not-found is a value, not an error
  EXPECT_TRUE(store->del(Space::kMeta, "never-existed").is_ok());
}

TEST(StoreTest, BinaryKeysAndValues) {
  auto store = open_memory();
  std::string key = "\0a\0\xff"s;
  std::string value = "\0\0\x01\xfe"s;
  ASSERT_TRUE(store->put(Space::kSqs, key, value).is_ok());
  EXPECT_EQ(store->get(Space::kSqs, key), value);
  EXPECT_FALSE(store->get(Space::kSqs, "\0a"s).has_value());
  ASSERT_TRUE(store->put(Space::kSqs, "", "empty-key").is_ok());
  EXPECT_EQ(store->get(Space::kSqs, ""), "empty-key");
}

TEST(StoreTest, SpacesAreIsolated) {
  auto store = open_memory();
  for (int i = 0; i < kSpaceCount; ++i) {
    auto space = static_cast<Space>(i);
    ASSERT_TRUE(store->put(space, "shared", std::string(space_name(space))).is_ok());
  }
  for (int i = 0; i < kSpaceCount; ++i) {
    auto space = static_cast<Space>(i);
    EXPECT_EQ(store->get(space, "shared"), std::string(space_name(space)));
    EXPECT_EQ(keys_of(store->scan(space, "")), std::vector<std::string>{"shared"});
  }
  ASSERT_TRUE(store->del(Space::kSns, "shared").is_ok());
  EXPECT_FALSE(store->get(Space::kSns, "shared").has_value());
  EXPECT_TRUE(store->get(Space::kSqs, "shared").has_value());
}

TEST(StoreTest, BatchIsAppliedAtomically) {
  auto store = open_memory();
  ASSERT_TRUE(store->put(Space::kS3Meta, "old", "x").is_ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store->put(Space::kS3Data, "r" + std::to_string(i), "x").is_ok());
  }
  Batch batch;
  EXPECT_EQ(batch.count(), 0u);
  batch.put(Space::kS3Meta, "a", "1");
  batch.put(Space::kS3Data, "b", "22");
  batch.del(Space::kS3Meta, "old");
  batch.del_range(Space::kS3Data, "r1", "r4");
  EXPECT_EQ(batch.count(), 4u);
  EXPECT_GE(batch.byte_size(), 2u + 3u + 3u + 4u);

  // Nothing is visible before write.
  EXPECT_FALSE(store->get(Space::kS3Meta, "a").has_value());
  EXPECT_TRUE(store->get(Space::kS3Meta, "old").has_value());

  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_EQ(store->get(Space::kS3Meta, "a"), "1");
  EXPECT_EQ(store->get(Space::kS3Data, "b"), "22");
  EXPECT_FALSE(store->get(Space::kS3Meta, "old").has_value());
  EXPECT_EQ(keys_of(store->scan(Space::kS3Data, "r")),
            (std::vector<std::string>{"r0", "r4"}));
}

TEST(StoreTest, BatchIsAllOrNothingForReaders) {
  // A cursor reads one implicit snapshot, so racing two-key batches must never show it a half.
  auto store = open_memory();
  ASSERT_TRUE(store->put(Space::kMeta, "x", "0").is_ok());
  ASSERT_TRUE(store->put(Space::kMeta, "y", "0").is_ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 1; i <= 2000; ++i) {
      Batch batch;
      std::string v = std::to_string(i);
      batch.put(Space::kMeta, "x", v);
      batch.put(Space::kMeta, "y", v);
      EXPECT_TRUE(store->write(batch).is_ok());
    }
    stop = true;
  });
  int torn = 0;
  while (!stop) {
    auto c = store->scan(Space::kMeta, "x");
    std::string x(c.value());
    c.next();
    if (!c.valid() || x != c.value()) {
      ++torn;
    }
  }
  writer.join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(store->get(Space::kMeta, "x"), "2000");
}

TEST(StoreTest, MovedBatchKeepsOperations) {
  auto store = open_memory();
  Batch a;
  a.put(Space::kMeta, "k", "v");
  Batch b = std::move(a);
  EXPECT_EQ(b.count(), 1u);
  ASSERT_TRUE(store->write(b).is_ok());
  EXPECT_EQ(store->get(Space::kMeta, "k"), "v");
  Batch empty;
  EXPECT_TRUE(store->write(empty).is_ok());
}

TEST(StoreTest, OwnedPutsApplyInOrderWithTheOthers) {
  auto store = open_memory();
  Batch batch;
  batch.put(Space::kMeta, "a", "1");
  batch.put_owned(Space::kMeta, std::string("b"), std::string(1000, 'x'));
  batch.del(Space::kMeta, "a");  // after the put of "a": "a" ends up deleted
  batch.put_owned(Space::kMeta, std::string("c"), std::string("3"));
  EXPECT_EQ(batch.count(), 4u);
  EXPECT_EQ(batch.byte_size(), 1u + 1 + 1 + 1000 + 1 + 1 + 1);
  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_FALSE(store->get(Space::kMeta, "a").has_value());
  EXPECT_EQ(store->get(Space::kMeta, "b"), std::string(1000, 'x'));
  EXPECT_EQ(store->get(Space::kMeta, "c"), "3");
}

TEST(StoreTest, EmptyOrInvertedDelRangeDeletesNothing) {
  auto store = open_memory();
  ASSERT_TRUE(store->put(Space::kMeta, "m", "v").is_ok());
  Batch batch;
  batch.del_range(Space::kMeta, "z", "a");
  batch.del_range(Space::kMeta, "m", "m");
  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_TRUE(store->get(Space::kMeta, "m").has_value());
}

class CursorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_memory();
    for (const auto& k : {"a"s, "b"s, "ba"s, "bb"s, "b\xff"s, "b\xff\xff"s, "c"s, "\0"s, "\xff"s}) {
      ASSERT_TRUE(store_->put(Space::kKinesis, k, "v:" + k).is_ok());
    }
    ASSERT_TRUE(store_->put(Space::kImds, "b-other-space", "x").is_ok());
  }
  std::unique_ptr<Store> store_;
};

TEST_F(CursorTest, FullScanIsOrdered) {
  EXPECT_EQ(keys_of(store_->scan(Space::kKinesis, "")),
            (std::vector<std::string>{"\0"s, "a", "b", "ba", "bb", "b\xff"s, "b\xff\xff"s, "c", "\xff"s}));
}

TEST_F(CursorTest, BoundsAreHalfOpen) {
  EXPECT_EQ(keys_of(store_->scan(Space::kKinesis, "b", "bb")), (std::vector<std::string>{"b", "ba"}));
  EXPECT_EQ(keys_of(store_->scan(Space::kKinesis, "bz", "c")),
            (std::vector<std::string>{"b\xff"s, "b\xff\xff"s}));
  EXPECT_TRUE(keys_of(store_->scan(Space::kKinesis, "d", "e")).empty());
  EXPECT_EQ(keys_of(store_->scan(Space::kKinesis, "c")), (std::vector<std::string>{"c", "\xff"s}));
}

TEST_F(CursorTest, Values) {
  auto c = store_->scan(Space::kKinesis, "ba", "bb");
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(c.key(), "ba");
  EXPECT_EQ(c.value(), "v:ba");
  c.next();
  EXPECT_FALSE(c.valid());
  c.next();  // harmless past the end
  EXPECT_FALSE(c.valid());
}

TEST_F(CursorTest, Prefix) {
  EXPECT_EQ(keys_of(store_->scan_prefix(Space::kKinesis, "b")),
            (std::vector<std::string>{"b", "ba", "bb", "b\xff"s, "b\xff\xff"s}));
  EXPECT_EQ(keys_of(store_->scan_prefix(Space::kKinesis, "b\xff"s)),
            (std::vector<std::string>{"b\xff"s, "b\xff\xff"s}));
  // All-0xFF prefix has no successor: runs to the end of the space.
  EXPECT_EQ(keys_of(store_->scan_prefix(Space::kKinesis, "\xff"s)), (std::vector<std::string>{"\xff"s}));
  EXPECT_EQ(keys_of(store_->scan_prefix(Space::kKinesis, "")).size(), 9u);
  EXPECT_TRUE(keys_of(store_->scan_prefix(Space::kKinesis, "zz")).empty());
}

TEST_F(CursorTest, SeekStaysWithinBounds) {
  auto c = store_->scan(Space::kKinesis, "b", "c");
  c.seek("bb");
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(c.key(), "bb");
  c.seek("a");  // below the lower bound: clamps to it
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(c.key(), "b");
  c.seek("c");  // at the upper bound: nothing
  EXPECT_FALSE(c.valid());
  c.seek("bc");
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(c.key(), "b\xff"s);
  EXPECT_TRUE(c.status().is_ok());
}

TEST_F(CursorTest, SnapshotConsistent) {
  auto c = store_->scan(Space::kKinesis, "");
  ASSERT_TRUE(store_->put(Space::kKinesis, "aa", "new").is_ok());
  ASSERT_TRUE(store_->del(Space::kKinesis, "c").is_ok());
  std::vector<std::string> seen;
  for (; c.valid(); c.next()) {
    seen.emplace_back(c.key());
  }
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_EQ(std::find(seen.begin(), seen.end(), "aa"), seen.end());
}

TEST_F(CursorTest, MoveAndDefault) {
  Cursor empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_TRUE(empty.status().is_ok());
  empty.next();
  empty.seek("x");
  EXPECT_FALSE(empty.valid());

  auto c = store_->scan(Space::kKinesis, "b", "bb");
  c.next();
  Cursor moved = std::move(c);
  ASSERT_TRUE(moved.valid());
  EXPECT_EQ(moved.key(), "ba");
  moved.next();
  EXPECT_FALSE(moved.valid());
  moved = store_->scan(Space::kKinesis, "c", "d");
  ASSERT_TRUE(moved.valid());
  EXPECT_EQ(moved.key(), "c");
}

TEST(StoreTest, WipeOneSpace) {
  auto store = open_memory();
  for (const auto& k : {""s, "a"s, "\0"s, "\xff\xff\xff"s, "m"s}) {
    ASSERT_TRUE(store->put(Space::kSqs, k, "v").is_ok());
    ASSERT_TRUE(store->put(Space::kSns, k, "v").is_ok());
  }
  ASSERT_TRUE(store->wipe(Space::kSqs).is_ok());
  EXPECT_TRUE(keys_of(store->scan(Space::kSqs, "")).empty());
  EXPECT_EQ(keys_of(store->scan(Space::kSns, "")).size(), 5u);
  // Writable again after a wipe, and wiping an empty space is fine.
  ASSERT_TRUE(store->put(Space::kSqs, "after", "v").is_ok());
  EXPECT_EQ(store->get(Space::kSqs, "after"), "v");
  ASSERT_TRUE(store->wipe(Space::kImds).is_ok());
}

TEST(StoreTest, WipeAll) {
  auto store = open_memory();
  for (int i = 0; i < kSpaceCount; ++i) {
    auto space = static_cast<Space>(i);
    for (int k = 0; k < 50; ++k) {
      ASSERT_TRUE(store->put(space, "k" + std::to_string(k), std::string(5000, 'x')).is_ok());
    }
  }
  auto flushed = store->flush();
  ASSERT_TRUE(flushed.is_ok()) << flushed.message();
  ASSERT_TRUE(store->wipe_all().is_ok());
  for (int i = 0; i < kSpaceCount; ++i) {
    EXPECT_TRUE(keys_of(store->scan(static_cast<Space>(i), "")).empty()) << i;
  }
}

TEST(StoreTest, InMemoryStoresAreIndependent) {
  auto a = open_memory();
  auto b = open_memory();
  ASSERT_TRUE(a->put(Space::kMeta, "k", "a").is_ok());
  EXPECT_FALSE(b->get(Space::kMeta, "k").has_value());
  EXPECT_TRUE(a->options().in_memory);
}

TEST(StoreTest, InMemoryIgnoresSyncAndFlushes) {
  Options options;
  options.in_memory = true;
  options.sync = true;
  Status status;
  auto store = Store::open(options, status);
  ASSERT_TRUE(store) << status.message();
  ASSERT_TRUE(store->put(Space::kMeta, "k", "v").is_ok());
  auto flushed = store->flush();
  EXPECT_TRUE(flushed.is_ok()) << flushed.message();
  EXPECT_EQ(store->get(Space::kMeta, "k"), "v");
}

TEST(StoreTest, PersistsAcrossReopen) {
  TempDir dir;
  {
    auto store = open_disk(dir.db());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put(Space::kMeta, "flushed", "1").is_ok());
    ASSERT_TRUE(store->flush().is_ok());
    ASSERT_TRUE(store->put(Space::kS3Data, "wal-only", std::string(10000, 'd')).is_ok());
    Batch batch;
    batch.put(Space::kSqs, "q", "msg");
    ASSERT_TRUE(store->write(batch).is_ok());
    EXPECT_EQ(store->options().path, dir.db());
  }
  {
    auto store = open_disk(dir.db());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->get(Space::kMeta, "flushed"), "1");
    EXPECT_EQ(store->get(Space::kS3Data, "wal-only"), std::string(10000, 'd'));
    EXPECT_EQ(store->get(Space::kSqs, "q"), "msg");
    ASSERT_TRUE(store->wipe(Space::kS3Data).is_ok());
  }
  {
    auto store = open_disk(dir.db(), /*sync=*/true);
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->get(Space::kS3Data, "wal-only").has_value());
    EXPECT_EQ(store->get(Space::kMeta, "flushed"), "1");
    ASSERT_TRUE(store->put(Space::kMeta, "synced", "yes").is_ok());
  }
  auto store = open_disk(dir.db());
  EXPECT_EQ(store->get(Space::kMeta, "synced"), "yes");
}

TEST(StoreTest, SecondOpenOfSameDirectoryIsBusy) {
  TempDir dir;
  auto first = open_disk(dir.db());
  ASSERT_TRUE(first);
  Options options;
  options.path = dir.db();
  Status status;
  auto second = Store::open(options, status);
  EXPECT_FALSE(second);
  EXPECT_FALSE(status.is_ok());
  EXPECT_EQ(status.code(), Status::Code::kBusy) << status.message();
  EXPECT_NE(status.message().find("locked"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(dir.db()), std::string::npos) << status.message();
}

TEST(StoreTest, UnopenablePathReportsError) {
  Options options;
  options.path = "/proc/fogbank-cannot-create-this/db";
  Status status;
  auto store = Store::open(options, status);
  EXPECT_FALSE(store);
  EXPECT_FALSE(status.is_ok());
  EXPECT_FALSE(status.message().empty());

  Options empty;
  auto none = Store::open(empty, status);
  EXPECT_FALSE(none);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
}

TEST(StoreTest, ConcurrentWriters) {
  auto store = open_memory();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        auto key = KeyBuilder("t").u32(static_cast<std::uint32_t>(t)).u32(static_cast<std::uint32_t>(i)).key();
        ASSERT_TRUE(store->put(Space::kMeta, key, "v").is_ok());
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(keys_of(store->scan_prefix(Space::kMeta, KeyBuilder("t").key())).size(), 2000u);
}

}  // namespace
}  // namespace fogbank::storage
