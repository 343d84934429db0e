#include "fogbank/firehose/firehose_service.hpp"

#include "engine.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/modeled_service.hpp"
#include "fogbank/protocol/uri.hpp"

namespace fogbank::firehose {

namespace {

using Op = Value (FirehoseEngine::*)(const Value&, const Caller&);

protocol::ModeledServiceSpec spec(const std::shared_ptr<FirehoseEngine>& engine) {
  protocol::ModeledServiceSpec s;
  s.name = "firehose";
  s.model = "firehose";
  s.validation.code = "ValidationException";
  const std::pair<const char*, Op> table[] = {
      {"CreateDeliveryStream", &FirehoseEngine::create_delivery_stream},
      {"DeleteDeliveryStream", &FirehoseEngine::delete_delivery_stream},
      {"DescribeDeliveryStream", &FirehoseEngine::describe_delivery_stream},
      {"ListDeliveryStreams", &FirehoseEngine::list_delivery_streams},
      {"UpdateDestination", &FirehoseEngine::update_destination},
      {"PutRecord", &FirehoseEngine::put_record},
      {"PutRecordBatch", &FirehoseEngine::put_record_batch},
      {"TagDeliveryStream", &FirehoseEngine::tag_delivery_stream},
      {"UntagDeliveryStream", &FirehoseEngine::untag_delivery_stream},
      {"ListTagsForDeliveryStream", &FirehoseEngine::list_tags_for_delivery_stream},
      {"StartDeliveryStreamEncryption", &FirehoseEngine::start_delivery_stream_encryption},
      {"StopDeliveryStreamEncryption", &FirehoseEngine::stop_delivery_stream_encryption},
  };
  for (const auto& [name, op] : table) {
    s.operations.emplace(name, [engine, op = op](Value in, protocol::Call& call) -> Value {
      const Caller c{call.ctx.account_id, call.ctx.region, call.ctx.now_ms};
      return ((*engine).*op)(in, c);
    });
  }
  return s;
}

protocol::Response json_response(int status, const nlohmann::json& body) {
  return protocol::Response(status, body.dump(), "application/json");
}

class FirehoseService final : public protocol::ModeledService {
 public:
  explicit FirehoseService(std::shared_ptr<FirehoseEngine> engine)
      : ModeledService(spec(engine)), engine_(std::move(engine)) {}
  ~FirehoseService() override { engine_->shutdown(); }

  /// GET /_fogbank/firehose/deliveries[?stream=NAME|ARN]: what each delivery wrote (or, for a
  /// destination fogbank cannot reach, the records it would have sent); DELETE forgets them.
  [[nodiscard]] std::optional<protocol::Response> admin(const protocol::RequestHead& head,
                                                        std::string_view) override {
    if (head.path != "/_fogbank/firehose/deliveries") {
      return json_response(404, {{"error", "no such firehose endpoint"}});
    }
    if (head.method == "DELETE") {
      engine_->clear_deliveries();
      return json_response(200, nlohmann::json::object());
    }
    if (head.method != "GET") {
      auto r = json_response(405, {{"error", "use GET or DELETE"}});
      r.headers.set("Allow", "GET, DELETE");
      return r;
    }
    std::string stream;
    if (auto params = protocol::parse_query_string(head.query)) {
      if (const std::string* s = protocol::find_param(*params, "stream")) {
        stream = *s;
      }
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : engine_->deliveries(stream)) {
      nlohmann::json j = {{"timestamp", d.time_ms}, {"deliveryStreamArn", d.stream_arn},
                          {"destination", d.destination}, {"records", d.records},
                          {"bytes", d.bytes},         {"status", d.status}};
      if (!d.bucket.empty()) {
        j["bucket"] = d.bucket;
        j["key"] = d.key;
      }
      if (!d.error.empty()) {
        j["error"] = d.error;
      }
      if (d.status == "recorded") {
        j["data"] = protocol::base64_encode(d.data);
      }
      list.push_back(std::move(j));
    }
    return json_response(200, {{"deliveries", std::move(list)}});
  }

  void reset() override { engine_->reset(); }

 private:
  std::shared_ptr<FirehoseEngine> engine_;
};

}  // namespace

std::shared_ptr<protocol::Service> make_firehose_service(const protocol::Platform& platform,
                                                         std::shared_ptr<s3::ObjectWriter> s3,
                                                         std::shared_ptr<kinesis::StreamReader> kinesis,
                                                         FirehoseOptions options) {
  auto engine = std::make_shared<FirehoseEngine>(platform.store, platform.scheduler, std::move(s3),
                                                 std::move(kinesis), options);
  engine->load();
  return std::make_shared<FirehoseService>(std::move(engine));
}

}  // namespace fogbank::firehose
