// codec::validate on decoded values, over every operation of the JSON and Query models (their
// patterns, enums and ranges differ). Byte 0 picks the model, byte 1 the operation, byte 2 the
// style switches; the rest is a JSON body (JSON models) or a form body (Query models).
#include <cstddef>
#include <cstdint>
#include <iterator>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/protocol/query.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;
namespace model = protocol::model;
namespace codec = protocol::codec;

namespace {

constexpr const char* kModels[] = {"sqs", "kinesis", "firehose", "sqs-query", "sts", "sns"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto& service = model::get(kModels[in.byte() % std::size(kModels)]);
  const auto pick = in.byte() % service.operations.size();
  const auto& op = std::next(service.operations.begin(), static_cast<std::ptrdiff_t>(pick))->second;
  const auto switches = in.byte();
  codec::ValidationStyle style;
  style.check_patterns = (switches & 1) == 0;
  style.check_enums = (switches & 2) == 0;

  codec::Value value;
  const bool decoded = fuzz::accepts([&] {
    if (service.protocol == "query") {
      value = codec::decode_query(op.input, protocol::query::collect_params({}, in.rest()));
    } else {
      value = codec::decode_json(op.input, in.rest());
    }
  });
  if (!decoded) {
    return 0;
  }
  fuzz::accepts([&] { codec::validate(op.input, value, style); });
  return 0;
}
