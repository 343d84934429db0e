// CBOR bodies (application/x-amz-cbor-1.1): decode_cbor against Kinesis input shapes, then the
// encoded form of the decoded value must decode again. Byte 0 picks the shape.
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

constexpr const char* kOperations[] = {"PutRecords", "PutRecord", "GetRecords", "GetShardIterator",
                                       "CreateStream"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const char* name = kOperations[in.byte() % std::size(kOperations)];
  const auto* op = model::get("kinesis").operation(name);
  FOGBANK_FUZZ_CHECK(op != nullptr, name);

  codec::Value value;
  if (!fuzz::accepts([&] { value = codec::decode_cbor(op->input, in.rest()); })) {
    return 0;
  }
  FOGBANK_FUZZ_CHECK(value.is_object(), value.dump());
  const auto encoded = codec::encode_cbor(op->input, value);
  const bool again = fuzz::accepts([&] { (void)codec::decode_cbor(op->input, encoded); });
  FOGBANK_FUZZ_CHECK(again, value.dump());
  return 0;
}
