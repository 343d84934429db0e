#include "fogbank/kinesis/kinesis_service.hpp"

#include "direct.hpp"
#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/modeled_service.hpp"

namespace fogbank::kinesis {

namespace {

using Op = Value (KinesisEngine::*)(const Value&, const Caller&);

protocol::ModeledServiceSpec spec(const std::shared_ptr<KinesisEngine>& engine) {
  protocol::ModeledServiceSpec s;
  s.name = "kinesis";
  s.model = "kinesis";
  // Kinesis checks the model's constraints and answers "1 validation error detected: ..." as a
  // ValidationException; the handlers add what AWS checks beyond the model (InvalidArgument).
  s.validate = true;
  s.validation.code = "ValidationException";
  const std::pair<const char*, Op> table[] = {
      {"CreateStream", &KinesisEngine::create_stream},
      {"DeleteStream", &KinesisEngine::delete_stream},
      {"DescribeStream", &KinesisEngine::describe_stream},
      {"DescribeStreamSummary", &KinesisEngine::describe_stream_summary},
      {"ListStreams", &KinesisEngine::list_streams},
      {"ListShards", &KinesisEngine::list_shards},
      {"PutRecord", &KinesisEngine::put_record},
      {"PutRecords", &KinesisEngine::put_records},
      {"GetShardIterator", &KinesisEngine::get_shard_iterator},
      {"GetRecords", &KinesisEngine::get_records},
      {"SplitShard", &KinesisEngine::split_shard},
      {"MergeShards", &KinesisEngine::merge_shards},
      {"UpdateShardCount", &KinesisEngine::update_shard_count},
      {"UpdateStreamMode", &KinesisEngine::update_stream_mode},
      {"IncreaseStreamRetentionPeriod", &KinesisEngine::increase_retention},
      {"DecreaseStreamRetentionPeriod", &KinesisEngine::decrease_retention},
      {"StartStreamEncryption", &KinesisEngine::start_encryption},
      {"StopStreamEncryption", &KinesisEngine::stop_encryption},
      {"EnableEnhancedMonitoring", &KinesisEngine::enable_monitoring},
      {"DisableEnhancedMonitoring", &KinesisEngine::disable_monitoring},
      {"UpdateStreamWarmThroughput", &KinesisEngine::update_warm_throughput},
      {"UpdateMaxRecordSize", &KinesisEngine::update_max_record_size},
      {"AddTagsToStream", &KinesisEngine::add_tags_to_stream},
      {"RemoveTagsFromStream", &KinesisEngine::remove_tags_from_stream},
      {"ListTagsForStream", &KinesisEngine::list_tags_for_stream},
      {"TagResource", &KinesisEngine::tag_resource},
      {"UntagResource", &KinesisEngine::untag_resource},
      {"ListTagsForResource", &KinesisEngine::list_tags_for_resource},
      {"RegisterStreamConsumer", &KinesisEngine::register_consumer},
      {"DescribeStreamConsumer", &KinesisEngine::describe_consumer},
      {"ListStreamConsumers", &KinesisEngine::list_consumers},
      {"DeregisterStreamConsumer", &KinesisEngine::deregister_consumer},
      {"PutResourcePolicy", &KinesisEngine::put_resource_policy},
      {"GetResourcePolicy", &KinesisEngine::get_resource_policy},
      {"DeleteResourcePolicy", &KinesisEngine::delete_resource_policy},
      {"DescribeLimits", &KinesisEngine::describe_limits},
      {"DescribeAccountSettings", &KinesisEngine::describe_account_settings},
      {"UpdateAccountSettings", &KinesisEngine::update_account_settings},
  };
  for (const auto& [name, op] : table) {
    s.operations.emplace(name, [engine, op = op](Value in, protocol::Call& call) -> Value {
      const Caller caller{call.ctx.account_id, call.ctx.region, call.ctx.now_ms};
      return ((*engine).*op)(in, caller);
    });
  }
  // The hot data-plane calls also read and write JSON directly (see direct.hpp).
  s.json_direct.emplace("PutRecords", [engine](std::string_view body, protocol::Call& call) {
    return put_records_json(*engine, body, Caller{call.ctx.account_id, call.ctx.region, call.ctx.now_ms});
  });
  s.json_direct.emplace("GetRecords", [engine](std::string_view body, protocol::Call& call) {
    return get_records_json(*engine, body, Caller{call.ctx.account_id, call.ctx.region, call.ctx.now_ms},
                            call.operation.output);
  });
  // Enhanced fan-out: the answer is an event stream of the shard's records.
  s.operations.emplace("SubscribeToShard", [engine](Value in, protocol::Call& call) -> Value {
    const Caller caller{call.ctx.account_id, call.ctx.region, call.ctx.now_ms};
    call.stream(engine->subscribe_to_shard(in, caller));
    return Value::object();
  });
  return s;
}

class KinesisService final : public protocol::ModeledService {
 public:
  explicit KinesisService(std::shared_ptr<KinesisEngine> engine)
      : ModeledService(spec(engine)), engine_(std::move(engine)) {}

  void reset() override { engine_->reset(); }

 private:
  std::shared_ptr<KinesisEngine> engine_;
};

}  // namespace

namespace {

class EngineReader final : public StreamReader {
 public:
  explicit EngineReader(std::shared_ptr<KinesisEngine> engine) : engine_(std::move(engine)) {}
  SourceBatch read(std::string_view stream_arn, const std::map<std::string, std::string>& positions,
                   std::size_t limit) override {
    return engine_->read_source(stream_arn, positions, limit);
  }

 private:
  std::shared_ptr<KinesisEngine> engine_;
};

}  // namespace

KinesisParts make_kinesis(const protocol::Platform& platform, KinesisOptions options) {
  auto engine = std::make_shared<KinesisEngine>(platform.store, platform.clock, &platform.scheduler, options);
  engine->load();
  return {std::make_shared<KinesisService>(engine), std::make_shared<EngineReader>(engine)};
}

std::shared_ptr<protocol::Service> make_kinesis_service(const protocol::Platform& platform, KinesisOptions options) {
  return make_kinesis(platform, options).service;
}

}  // namespace fogbank::kinesis
