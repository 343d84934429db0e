// JSON 1.0/1.1 bodies: decode_json against real input shapes, then encode_json of what was
// decoded must decode again (a handler echoes decoded members back in its output). Byte 0 picks
// the shape; the rest is the body.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;
namespace model = protocol::model;
namespace codec = protocol::codec;

namespace {

struct Target {
  const char* model;
  const char* operation;
};

constexpr Target kTargets[] = {
    {"kinesis", "PutRecords"},    {"sqs", "SendMessage"},     {"sqs", "SendMessageBatch"},
    {"kinesis", "PutRecord"},     {"sqs", "CreateQueue"},     {"sqs", "ReceiveMessage"},
    {"firehose", "PutRecordBatch"}, {"kinesis", "GetShardIterator"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto& target = kTargets[in.byte() % std::size(kTargets)];
  const auto* op = model::get(target.model).operation(target.operation);
  FOGBANK_FUZZ_CHECK(op != nullptr, target.operation);

  codec::Value value;
  if (!fuzz::accepts([&] { value = codec::decode_json(op->input, in.rest()); })) {
    return 0;
  }
  FOGBANK_FUZZ_CHECK(value.is_object(), value.dump());
  const auto encoded = codec::encode_json(op->input, value);
  const bool again = fuzz::accepts([&] { (void)codec::decode_json(op->input, encoded); });
  FOGBANK_FUZZ_CHECK(again, encoded);
  return 0;
}
