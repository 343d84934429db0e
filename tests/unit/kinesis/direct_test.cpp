// The chunked record layout (and the one-record values written before it), and the direct JSON
// paths of PutRecords and GetRecords: the same answers, byte for byte, as the generic handler
// encoded by the model's codec; anything unusual left to the generic path.

#include <gtest/gtest.h>

#include "direct.hpp"
#include "engine.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/json_text.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/storage/keys.hpp"
#include "fogbank/storage/store.hpp"
#include "memory_store.hpp"
#include "persistence.hpp"

namespace fogbank::kinesis {
namespace {

constexpr std::int64_t kStart = 1764553200000;

TEST(KinesisChunks, RoundTripInCounterOrder) {
  persist::ChunkWriter w(kStart + 7, true);
  w.add(5, "a", "one");
  w.add(6, "", std::string("\0two", 4));
  w.add(7, std::string(256, 'k'), "");
  EXPECT_THROW(w.add(9, "gap", "x"), std::logic_error);
  const std::string value = w.take();
  persist::ChunkReader r;
  ASSERT_TRUE(r.open(persist::record_key("id", 0, 7), value));
  EXPECT_EQ(r.first_counter(), 5u);
  EXPECT_EQ(r.last_counter(), 7u);
  EXPECT_EQ(r.arrival_ms(), kStart + 7);
  persist::StoredRecord rec;
  std::vector<std::string> seen;
  while (r.next(rec)) {
    EXPECT_TRUE(rec.encrypted);
    seen.push_back(std::to_string(rec.counter) + ":" + std::string(rec.partition_key.substr(0, 3)) + ":" +
                   std::string(rec.data));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"5:a:one", "6::" + std::string("\0two", 4), "7:kkk:"}));
  // Truncated values never read past their end.
  for (std::size_t cut = 0; cut < value.size(); ++cut) {
    persist::ChunkReader t;
    if (t.open(persist::record_key("id", 0, 7), std::string_view(value).substr(0, cut))) {
      while (t.next(rec)) {
      }
    }
  }
  // A count larger than the key's counter allows is not a chunk.
  EXPECT_FALSE(r.open(persist::record_key("id", 0, 2), value));
}

TEST(KinesisChunks, OneRecordValuesOfEarlierVersionsRead) {
  // arrival ms | flags | key length | key | data, under the record's own counter.
  std::string legacy;
  for (int shift = 56; shift >= 0; shift -= 8) {
    legacy.push_back(static_cast<char>((static_cast<std::uint64_t>(kStart) >> shift) & 0xff));
  }
  legacy += std::string("\x01\x00\x02", 3) + "pkdata";
  persist::ChunkReader r;
  ASSERT_TRUE(r.open(persist::record_key("id", 1, 42), legacy));
  persist::StoredRecord rec;
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.counter, 42u);
  EXPECT_EQ(rec.arrival_ms, kStart);
  EXPECT_TRUE(rec.encrypted);
  EXPECT_EQ(rec.partition_key, "pk");
  EXPECT_EQ(rec.data, "data");
  EXPECT_FALSE(r.next(rec));
}

class KinesisDirectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = test::memory_store();
    engine_ = std::make_shared<KinesisEngine>(*store_, clock_, &scheduler_,
                                              KinesisOptions{.retention_sweep_interval_ms = 0});
    engine_->load();
    engine_->create_stream({{"StreamName", "s"}, {"ShardCount", 3}}, caller());
    clock_.advance_ms(500);
  }

  Caller caller() const { return {"111111111111", "us-east-1", clock_.now_ms()}; }

  static const protocol::model::Operation& op(const char* name) {
    return *protocol::model::get("kinesis").operation(name);
  }

  /// The generic path: the codec decodes, the handler runs, the codec encodes.
  std::string generic(Value (KinesisEngine::*handler)(const Value&, const Caller&), const char* name,
                      const std::string& body) {
    Value in = protocol::codec::decode_json(op(name).input, body);
    return protocol::codec::encode_json(op(name).output, ((*engine_).*handler)(in, caller()));
  }

  std::string iterator(const std::string& shard) {
    return engine_->get_shard_iterator(
        {{"StreamName", "s"}, {"ShardId", shard}, {"ShardIteratorType", "TRIM_HORIZON"}}, caller())["ShardIterator"];
  }

  std::string put_body(int records, int offset = 0) {
    std::string body = R"({"StreamName": "s", "Records": [)";
    for (int i = 0; i < records; ++i) {
      std::string data = "record-" + std::to_string(i + offset);
      std::string b64;
      protocol::json_text::append_base64(b64, reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
      body += (i ? "," : "") + std::string(R"({"Data":")") + b64 + R"(","PartitionKey":"key-)" +
              std::to_string(i % 7) + "\"}";
    }
    return body + "]}";
  }

  protocol::VirtualClock clock_{kStart};
  protocol::Scheduler scheduler_{clock_, 1};
  std::unique_ptr<storage::Store> store_;
  std::shared_ptr<KinesisEngine> engine_;
};

TEST_F(KinesisDirectTest, PutRecordsAnswersAsTheCodecDoes) {
  const std::string body = put_body(20);
  auto direct = put_records_json(*engine_, body, caller());
  ASSERT_TRUE(direct);
  clock_.advance_ms(1);
  const std::string expected = generic(&KinesisEngine::put_records, "PutRecords", body);
  // Same shape; the sequence numbers differ only by counter and arrival time.
  Value a = Value::parse(*direct);
  Value b = Value::parse(expected);
  ASSERT_EQ(a["Records"].size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(a["Records"][i]["ShardId"], b["Records"][i]["ShardId"]);
  }
  // Byte-for-byte once the numbers agree: rewrite the generic answer's sequence numbers.
  std::string rewritten = expected;
  for (std::size_t i = 0; i < 20; ++i) {
    const auto from = b["Records"][i]["SequenceNumber"].get<std::string>();
    rewritten.replace(rewritten.find(from), from.size(), a["Records"][i]["SequenceNumber"].get<std::string>());
  }
  EXPECT_EQ(*direct, rewritten);
}

TEST_F(KinesisDirectTest, GetRecordsAnswersAsTheCodecDoes) {
  ASSERT_TRUE(put_records_json(*engine_, put_body(40), caller()));
  clock_.advance_ms(1234);
  engine_->start_encryption({{"StreamName", "s"}, {"EncryptionType", "KMS"}, {"KeyId", "alias/aws/kinesis"}},
                            caller());
  clock_.advance_ms(500);
  ASSERT_TRUE(put_records_json(*engine_, put_body(10, 40), caller()));
  for (const char* shard : {"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"}) {
    const std::string it = iterator(shard);
    for (int limit : {1, 3, 10000}) {
      const std::string body = R"({"ShardIterator":")" + it + R"(","Limit":)" + std::to_string(limit) + "}";
      auto direct = get_records_json(*engine_, body, caller(), op("GetRecords").output);
      ASSERT_TRUE(direct);
      // Iterators carry their issue time; the clock stands still, so both answers match exactly.
      EXPECT_EQ(*direct, generic(&KinesisEngine::get_records, "GetRecords", body)) << shard << " limit " << limit;
    }
  }
}

TEST_F(KinesisDirectTest, ClosedShardEndAnswersWithChildShards) {
  ASSERT_TRUE(put_records_json(*engine_, put_body(5), caller()));
  engine_->split_shard({{"StreamName", "s"},
                        {"ShardToSplit", "shardId-000000000000"},
                        {"NewStartingHashKey", "1000"}},
                       caller());
  clock_.advance_ms(500);
  const std::string body = R"({"ShardIterator":")" + iterator("shardId-000000000000") + R"("})";
  auto direct = get_records_json(*engine_, body, caller(), op("GetRecords").output);
  ASSERT_TRUE(direct);
  EXPECT_NE(direct->find("\"ChildShards\""), std::string::npos);
  EXPECT_EQ(*direct, generic(&KinesisEngine::get_records, "GetRecords", body));
}

TEST_F(KinesisDirectTest, UnusualRequestsTakeTheGenericPath) {
  const std::string it = iterator("shardId-000000000000");
  for (const std::string& body : std::vector<std::string>{
           R"({"StreamName":"s","Records":[]})",                                        // below the model's min
           R"({"StreamARN":"arn:aws:kinesis:us-east-1:111111111111:stream/s","Records":[{"Data":"AA==","PartitionKey":"k"}]})",
           R"({"StreamName":"s","Records":[{"Data":"AA=","PartitionKey":"k"}]})",      // not base64
           R"({"StreamName":"s","Records":[{"Data":"AB==","PartitionKey":"k"}]})",      // pad bits set
           R"({"StreamName":"s","Records":[{"Data":"AA==","PartitionKey":"\u006b"}]})", // an escape
           R"({"StreamName":"s","Records":[{"Data":"AA==","PartitionKey":""}]})",       // too short
           R"({"StreamName":"s","Records":[{"Data":"AA==","PartitionKey":"ké"}]})",     // not ASCII
           R"({"StreamName":"s","Records":[{"Data":"AA==","PartitionKey":"k","ExplicitHashKey":"1"}]})",
           R"({"StreamName":"s","Records":[{"Data":"AA==","Data":"AA==","PartitionKey":"k"}]})",
           R"({"StreamName":"s s","Records":[{"Data":"AA==","PartitionKey":"k"}]})",    // pattern
           R"({"StreamName":"s","Records":[{"Data":"AA==","PartitionKey":"k"}]} x)",    // trailing bytes
           R"({"StreamName":"s","Records":[{"Data":"AA==","PartitionKey":"k"},]})",     // stray comma
           R"({"StreamName":null,"Records":[{"Data":"AA==","PartitionKey":"k"}]})",
           R"({"Records":[{"Data":"AA==","PartitionKey":"k"}]})",
       }) {
    EXPECT_FALSE(put_records_json(*engine_, body, caller())) << body;
  }
  for (const std::string& body : std::vector<std::string>{
           R"({"ShardIterator":")" + it + R"(","Limit":0})",
           R"({"ShardIterator":")" + it + R"(","Limit":10001})",
           R"({"ShardIterator":")" + it + R"(","Limit":1.0})",
           R"({"ShardIterator":")" + it + R"(","Limit":"5"})",
           R"({"ShardIterator":")" + it + R"(","StreamARN":"arn:aws:kinesis:us-east-1:111111111111:stream/s"})",
           std::string(R"({"ShardIterator":"")") + "}",
           R"({"ShardIterator":")" + it + "\xC3\xA9" + R"("})",  // not ASCII
           std::string(R"({"Limit":5})"),
       }) {
    EXPECT_FALSE(get_records_json(*engine_, body, caller(), op("GetRecords").output)) << body;
  }
}

}  // namespace
}  // namespace fogbank::kinesis
