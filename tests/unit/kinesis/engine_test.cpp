// The engine behind the service: lifecycle on a virtual clock, routing, iterators (expiry and
// tampering through GetRecords), resharding lineage, persistence across a reload, retention.

#include <gtest/gtest.h>

#include <set>

#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/storage/store.hpp"
#include "hash_key.hpp"

#include "memory_store.hpp"

namespace fogbank::kinesis {
namespace {

constexpr std::int64_t kStart = 1764553200000;  // 2025-12-01T01:40:00Z

class KinesisEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = test::memory_store();
    engine_ = make_engine();
  }

  std::shared_ptr<KinesisEngine> make_engine(KinesisOptions options = {}) {
    options.retention_sweep_interval_ms = 0;  // tests call sweep_retention() themselves
    auto e = std::make_shared<KinesisEngine>(*store_, clock_, &scheduler_, options);
    e->load();
    return e;
  }

  Caller caller() const { return {"111111111111", "us-east-1", clock_.now_ms()}; }

  Value call(Value (KinesisEngine::*op)(const Value&, const Caller&), Value in) {
    return ((*engine_).*op)(in, caller());
  }

  std::string error_of(Value (KinesisEngine::*op)(const Value&, const Caller&), Value in) {
    try {
      call(op, std::move(in));
    } catch (const protocol::AwsError& e) {
      return e.code + ": " + e.message;
    }
    return "no error";
  }

  void create(const std::string& name, int shards) {
    call(&KinesisEngine::create_stream, {{"StreamName", name}, {"ShardCount", shards}});
    clock_.advance_ms(500);
  }

  std::string iterator(const std::string& stream, const std::string& shard, const std::string& type = "TRIM_HORIZON") {
    return call(&KinesisEngine::get_shard_iterator,
                {{"StreamName", stream}, {"ShardId", shard}, {"ShardIteratorType", type}})["ShardIterator"];
  }

  Value put(const std::string& stream, const std::string& key, const std::string& data) {
    return call(&KinesisEngine::put_record,
                {{"StreamName", stream}, {"PartitionKey", key},
                 {"Data", Value::binary(std::vector<std::uint8_t>(data.begin(), data.end()))}});
  }

  std::vector<std::string> read_all(const std::string& it_in, Value* last = nullptr) {
    std::vector<std::string> out;
    std::string it = it_in;
    for (int i = 0; i < 100 && !it.empty(); ++i) {
      Value r = call(&KinesisEngine::get_records, {{"ShardIterator", it}, {"Limit", 2}});
      for (const auto& rec : r["Records"]) {
        const auto& b = rec["Data"].get_binary();
        out.emplace_back(b.begin(), b.end());
      }
      if (last != nullptr) {
        *last = r;
      }
      if (r["Records"].empty() || !r.contains("NextShardIterator")) {
        break;
      }
      it = r["NextShardIterator"].get<std::string>();
    }
    return out;
  }

  protocol::VirtualClock clock_{kStart};
  protocol::Scheduler scheduler_{clock_, 1};
  std::unique_ptr<storage::Store> store_;
  std::shared_ptr<KinesisEngine> engine_;
};

TEST_F(KinesisEngineTest, LifecycleFollowsTheVirtualClock) {
  call(&KinesisEngine::create_stream, {{"StreamName", "s"}, {"ShardCount", 2}});
  auto status = [&] {
    return call(&KinesisEngine::describe_stream_summary, {{"StreamName", "s"}})["StreamDescriptionSummary"]
                                                                                ["StreamStatus"];
  };
  EXPECT_EQ(status(), "CREATING");
  EXPECT_EQ(error_of(&KinesisEngine::split_shard, {{"StreamName", "s"},
                                                    {"ShardToSplit", "shardId-000000000000"},
                                                    {"NewStartingHashKey", "5"}}),
            "ResourceInUseException: Stream s under account 111111111111 not ACTIVE, instead in state CREATING");
  clock_.advance_ms(499);
  EXPECT_EQ(status(), "CREATING");
  clock_.advance_ms(1);
  EXPECT_EQ(status(), "ACTIVE");
  call(&KinesisEngine::delete_stream, {{"StreamName", "s"}});
  EXPECT_EQ(status(), "DELETING");
  clock_.advance_ms(500);
  EXPECT_EQ(error_of(&KinesisEngine::describe_stream, {{"StreamName", "s"}}),
            "ResourceNotFoundException: Stream s under account 111111111111 not found.");
}

TEST_F(KinesisEngineTest, ShardLimitIsEnforced) {
  engine_ = make_engine(KinesisOptions{.shard_limit = 5});
  create("a", 3);
  EXPECT_EQ(error_of(&KinesisEngine::create_stream, {{"StreamName", "b"}, {"ShardCount", 3}}).substr(0, 97),
            "LimitExceededException: This request would exceed the shard limit for the account 111111111111 in");
  create("b", 2);
}

TEST_F(KinesisEngineTest, RoutesByMd5AndExplicitHashKey) {
  create("s", 4);
  const HashKey quarter = static_cast<HashKey>(1) << 126;
  for (std::string key : {"a", "b", "sensor-7", "x"}) {
    const auto expected = static_cast<int>(partition_key_hash(key) / quarter);
    EXPECT_EQ(put("s", key, "d")["ShardId"], shard_id_of(static_cast<std::uint32_t>(expected))) << key;
  }
  Value r = call(&KinesisEngine::put_record,
                 {{"StreamName", "s"}, {"PartitionKey", "a"}, {"ExplicitHashKey", to_decimal(quarter * 3)},
                  {"Data", Value::binary(std::vector<std::uint8_t>{})}});
  EXPECT_EQ(r["ShardId"], "shardId-000000000003");
}

TEST_F(KinesisEngineTest, IteratorsExpireAndRejectTampering) {
  create("s", 1);
  put("s", "k", "one");
  const auto it = iterator("s", "shardId-000000000000");
  std::string forged = it;
  forged[10] = forged[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(error_of(&KinesisEngine::get_records, {{"ShardIterator", forged}}),
            "InvalidArgumentException: Invalid ShardIterator.");
  clock_.advance_ms(300'001);
  EXPECT_EQ(error_of(&KinesisEngine::get_records, {{"ShardIterator", it}}),
            "ExpiredIteratorException: Iterator expired. The iterator was created at time Mon Dec 01 01:40:00 UTC 2025 "
            "while right now it is Mon Dec 01 01:45:00 UTC 2025 which is further in the future than the tolerated "
            "delay of 300000 milliseconds.");
}

TEST_F(KinesisEngineTest, SequenceNumbersPositionIterators) {
  create("s", 1);
  std::vector<std::string> seqs;
  for (int i = 0; i < 5; ++i) {
    seqs.push_back(put("s", "k", std::to_string(i))["SequenceNumber"]);
    clock_.advance_ms(10);
  }
  auto at = call(&KinesisEngine::get_shard_iterator,
                 {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"}, {"ShardIteratorType", "AT_SEQUENCE_NUMBER"},
                  {"StartingSequenceNumber", seqs[2]}})["ShardIterator"];
  EXPECT_EQ(read_all(at), (std::vector<std::string>{"2", "3", "4"}));
  auto after = call(&KinesisEngine::get_shard_iterator,
                    {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"},
                     {"ShardIteratorType", "AFTER_SEQUENCE_NUMBER"}, {"StartingSequenceNumber", seqs[2]}})["ShardIterator"];
  EXPECT_EQ(read_all(after), (std::vector<std::string>{"3", "4"}));
  // The shard's StartingSequenceNumber works with AT_SEQUENCE_NUMBER.
  const auto start = call(&KinesisEngine::describe_stream, {{"StreamName", "s"}})
      ["StreamDescription"]["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"].get<std::string>();
  auto from_start = call(&KinesisEngine::get_shard_iterator,
                         {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"},
                          {"ShardIteratorType", "AT_SEQUENCE_NUMBER"}, {"StartingSequenceNumber", start}})["ShardIterator"];
  EXPECT_EQ(read_all(from_start).size(), 5u);
  EXPECT_EQ(error_of(&KinesisEngine::get_shard_iterator,
                     {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"},
                      {"ShardIteratorType", "AT_SEQUENCE_NUMBER"}, {"StartingSequenceNumber", "12345"}}),
            "InvalidArgumentException: StartingSequenceNumber 12345 used in GetShardIterator on shard "
            "shardId-000000000000 in stream s under account 111111111111 is invalid.");
}

TEST_F(KinesisEngineTest, SplitAndMergeKeepLineage) {
  create("s", 1);
  put("s", "k", "before-split");
  const HashKey half = static_cast<HashKey>(1) << 127;
  call(&KinesisEngine::split_shard, {{"StreamName", "s"}, {"ShardToSplit", "shardId-000000000000"},
                                     {"NewStartingHashKey", to_decimal(half)}});
  clock_.advance_ms(500);
  auto shards = call(&KinesisEngine::list_shards, {{"StreamName", "s"}})["Shards"];
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_TRUE(shards[0]["SequenceNumberRange"].contains("EndingSequenceNumber"));
  EXPECT_EQ(shards[1]["ParentShardId"], "shardId-000000000000");
  EXPECT_EQ(shards[1]["HashKeyRange"]["EndingHashKey"], to_decimal(half - 1));
  EXPECT_EQ(shards[2]["HashKeyRange"]["StartingHashKey"], to_decimal(half));
  // Children's sequence numbers sort after the parent's.
  EXPECT_LT(shards[0]["SequenceNumberRange"]["EndingSequenceNumber"].get<std::string>(),
            shards[1]["SequenceNumberRange"]["StartingSequenceNumber"].get<std::string>());

  Value last;
  EXPECT_EQ(read_all(iterator("s", "shardId-000000000000"), &last), (std::vector<std::string>{"before-split"}));
  // At a closed shard's end: ChildShards and no NextShardIterator.
  last = call(&KinesisEngine::get_records, {{"ShardIterator", iterator("s", "shardId-000000000000", "LATEST")}});
  EXPECT_FALSE(last.contains("NextShardIterator"));
  ASSERT_EQ(last["ChildShards"].size(), 2u);
  EXPECT_EQ(last["ChildShards"][0]["ParentShards"], Value::array({"shardId-000000000000"}));

  call(&KinesisEngine::merge_shards, {{"StreamName", "s"}, {"ShardToMerge", "shardId-000000000001"},
                                      {"AdjacentShardToMerge", "shardId-000000000002"}});
  clock_.advance_ms(500);
  shards = call(&KinesisEngine::list_shards, {{"StreamName", "s"}, {"ShardFilter", {{"Type", "AT_LATEST"}}}})["Shards"];
  ASSERT_EQ(shards.size(), 1u);
  EXPECT_EQ(shards[0]["ShardId"], "shardId-000000000003");
  EXPECT_EQ(shards[0]["ParentShardId"], "shardId-000000000001");
  EXPECT_EQ(shards[0]["AdjacentParentShardId"], "shardId-000000000002");
  EXPECT_EQ(shards[0]["HashKeyRange"]["StartingHashKey"], "0");
  EXPECT_EQ(shards[0]["HashKeyRange"]["EndingHashKey"], to_decimal(kMaxHashKey));
  EXPECT_EQ(error_of(&KinesisEngine::merge_shards, {{"StreamName", "s"}, {"ShardToMerge", "shardId-000000000001"},
                                                     {"AdjacentShardToMerge", "shardId-000000000002"}})
                .substr(0, 31),
            "ResourceInUseException: Shard s");
}

TEST_F(KinesisEngineTest, StatePersistsAcrossAReload) {
  create("s", 2);
  put("s", "a", "one");
  put("s", "a", "two");
  const auto it = iterator("s", put("s", "a", "three")["ShardId"]);
  call(&KinesisEngine::add_tags_to_stream, {{"StreamName", "s"}, {"Tags", {{"team", "data"}}}});
  engine_ = make_engine();  // a restart: only the store remains
  EXPECT_EQ(read_all(it), (std::vector<std::string>{"one", "two", "three"}));
  const auto shard = put("s", "a", "four")["ShardId"].get<std::string>();
  EXPECT_EQ(read_all(iterator("s", shard)), (std::vector<std::string>{"one", "two", "three", "four"}));
  EXPECT_EQ(call(&KinesisEngine::list_tags_for_stream, {{"StreamName", "s"}})["Tags"][0]["Value"], "data");
  // A stream still CREATING at the restart becomes ACTIVE on its timer.
  call(&KinesisEngine::create_stream, {{"StreamName", "t"}, {"ShardCount", 1}});
  engine_ = make_engine();
  clock_.advance_ms(500);
  EXPECT_EQ(call(&KinesisEngine::describe_stream, {{"StreamName", "t"}})["StreamDescription"]["StreamStatus"],
            "ACTIVE");
}

TEST_F(KinesisEngineTest, RetentionTrimsOldRecordsInBoundedPasses) {
  engine_ = make_engine(KinesisOptions{.retention_sweep_batch = 2});
  create("s", 1);
  for (int i = 0; i < 3; ++i) {
    put("s", "k", "old" + std::to_string(i));
  }
  clock_.advance_ms(23 * 3'600'000);
  put("s", "k", "new");
  clock_.advance_ms(3'600'000 + 1);
  // The old records are past 24 hours: invisible at once, deleted by the sweep in passes of 2.
  EXPECT_EQ(read_all(iterator("s", "shardId-000000000000")), (std::vector<std::string>{"new"}));
  EXPECT_EQ(engine_->sweep_retention(), 2u);
  EXPECT_EQ(engine_->sweep_retention(), 1u);
  EXPECT_EQ(engine_->sweep_retention(), 0u);
  EXPECT_EQ(read_all(iterator("s", "shardId-000000000000")), (std::vector<std::string>{"new"}));
}

TEST_F(KinesisEngineTest, AccountsAreIsolated) {
  create("s", 1);
  Caller other{"222222222222", "us-east-1", clock_.now_ms()};
  EXPECT_TRUE(engine_->list_streams(Value::object(), other)["StreamNames"].empty());
  EXPECT_THROW(engine_->describe_stream({{"StreamName", "s"}}, other), protocol::AwsError);
  EXPECT_THROW(engine_->describe_stream({{"StreamARN", "arn:aws:kinesis:us-east-1:111111111111:stream/s"}}, other),
               protocol::AwsError);
  const auto it = iterator("s", "shardId-000000000000");
  EXPECT_THROW(engine_->get_records({{"ShardIterator", it}}, other), protocol::AwsError);
}

}  // namespace
}  // namespace fogbank::kinesis
