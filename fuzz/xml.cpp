// REST-XML request documents: parse_xml (the DOM reader) and decode_xml against the payload
// shapes of S3 operations, then encode_xml of the decoded value must decode again. Byte 0 picks
// the operation; the rest is the document.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/protocol/xml_reader.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;
namespace model = protocol::model;
namespace codec = protocol::codec;

namespace {

constexpr const char* kOperations[] = {"CompleteMultipartUpload", "DeleteObjects",
                                       "PutBucketLifecycleConfiguration", "PutBucketAcl",
                                       "PutObjectTagging", "CreateBucket"};

/// The member an S3 operation's body is (as services/s3 finds it: the input's payload).
const model::Member& payload_of(const char* operation) {
  const auto* op = model::get("s3").operation(operation);
  FOGBANK_FUZZ_CHECK(op != nullptr && op->input != nullptr, operation);
  const auto* member = op->input->find(op->input->payload);
  FOGBANK_FUZZ_CHECK(member != nullptr && member->shape != nullptr, operation);
  return *member;
}

std::size_t count_nodes(const protocol::XmlNode& node) {
  std::size_t n = 1;
  for (const auto& c : node.children) {
    n += count_nodes(c);
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto& payload = payload_of(kOperations[in.byte() % std::size(kOperations)]);
  const auto text = in.rest();

  std::string error;
  if (auto root = protocol::parse_xml(text, error)) {
    (void)count_nodes(*root);
    (void)root->child_text("Part");
    (void)root->all("Object");
  }
  codec::Value value;
  if (!fuzz::accepts([&] { value = codec::decode_xml(*payload.shape, text); })) {
    return 0;
  }
  const auto encoded = codec::encode_xml(*payload.shape, value, payload.wire_name(),
                                         "http://s3.amazonaws.com/doc/2006-03-01/");
  const bool again = fuzz::accepts([&] { (void)codec::decode_xml(*payload.shape, encoded); });
  FOGBANK_FUZZ_CHECK(again, encoded);
  return 0;
}
