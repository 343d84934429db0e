#include "fogbank/protocol/model.hpp"

#include <gtest/gtest.h>

namespace fogbank::protocol::model {
namespace {

TEST(Model, EveryEmbeddedModelParses) {
  auto ids = embedded_ids();
  EXPECT_GE(ids.size(), 7u);
  for (auto id : ids) {
    const auto& m = get(id);
    EXPECT_FALSE(m.operations.empty()) << id;
    for (const auto& [name, op] : m.operations) {
      EXPECT_EQ(name, op.name);
    }
  }
}

TEST(Model, QueryModelKeepsWireNamesAndOrder) {
  const auto& sqs = get("sqs-query");
  EXPECT_EQ(sqs.protocol, "query");
  EXPECT_EQ(sqs.xml_namespace, "http://queue.amazonaws.com/doc/2012-11-05/");
  const auto* op = sqs.operation("ReceiveMessage");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->result_wrapper, "ReceiveMessageResult");
  const auto* messages = op->output->find("Messages");
  ASSERT_NE(messages, nullptr);
  EXPECT_TRUE(messages->shape->flattened);
  EXPECT_EQ(messages->shape->member.location_name, "Message");
  const Shape& message = *messages->shape->member.shape;
  ASSERT_GE(message.members.size(), 2u);
  EXPECT_EQ(message.members[0].name, "MessageId");  // model order, not alphabetical
  EXPECT_EQ(message.members[1].name, "ReceiptHandle");
  const auto* missing = sqs.error_shape("AWS.SimpleQueueService.NonExistentQueue");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->name, "QueueDoesNotExist");
}

TEST(Model, JsonModelMetadataAndConstraints) {
  const auto& kinesis = get("kinesis");
  EXPECT_EQ(kinesis.protocol, "json");
  EXPECT_EQ(kinesis.json_version, "1.1");
  EXPECT_EQ(kinesis.target_prefix, "Kinesis_20131202");
  const auto* create = kinesis.operation("CreateStream");
  ASSERT_NE(create, nullptr);
  const auto* name = create->input->find("StreamName");
  ASSERT_NE(name, nullptr);
  EXPECT_TRUE(name->required);
  EXPECT_EQ(name->shape->pattern, "[a-zA-Z0-9_.-]+");
  EXPECT_EQ(name->shape->min, 1);
  EXPECT_TRUE(get("sqs").query_compatible);
  EXPECT_FALSE(kinesis.query_compatible);
}

TEST(Model, RestXmlPayloadsAndLocations) {
  const auto& s3 = get("s3");
  const auto* put = s3.operation("PutBucketVersioning");
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->http_method, "PUT");
  EXPECT_EQ(put->input->payload, "VersioningConfiguration");
  const auto* bucket = put->input->find("Bucket");
  ASSERT_NE(bucket, nullptr);
  EXPECT_EQ(bucket->location, "uri");
  EXPECT_THROW((void)get("nope"), std::out_of_range);
}

}  // namespace
}  // namespace fogbank::protocol::model
