// Query protocol: collect_params (URL query + form body) and decode_query against real input
// shapes. Byte 0 picks the shape; the URL query string runs to the first '\n', the form body
// is the rest.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/protocol/query.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;
namespace model = protocol::model;

namespace {

struct Target {
  const char* model;
  const char* operation;
};

constexpr Target kTargets[] = {
    {"sqs-query", "SendMessageBatch"}, {"sts", "AssumeRole"},           {"sns", "Publish"},
    {"sqs-query", "SendMessage"},      {"sqs-query", "CreateQueue"},    {"sns", "PublishBatch"},
    {"sqs-query", "SetQueueAttributes"}, {"sts", "AssumeRoleWithWebIdentity"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto& target = kTargets[in.byte() % std::size(kTargets)];
  const auto& service = model::get(target.model);
  const auto* op = service.operation(target.operation);
  FOGBANK_FUZZ_CHECK(op != nullptr, target.operation);
  const auto raw_query = in.until("\n");
  const auto form = in.rest();

  protocol::QueryParams params;
  if (!fuzz::accepts([&] { params = protocol::query::collect_params(raw_query, form); })) {
    return 0;
  }
  fuzz::accepts([&] {
    auto value = protocol::codec::decode_query(op->input, params);
    FOGBANK_FUZZ_CHECK(value.is_object(), value.dump());
    // What a handler answers is encoded with the same model; it must not trip over the input.
    (void)value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  });
  return 0;
}
