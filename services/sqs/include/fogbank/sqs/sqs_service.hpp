#pragma once
// Amazon SQS (API version 2012-11-05) over both of its wire protocols: AWS JSON 1.0
// (X-Amz-Target: AmazonSQS.<Op>, awsQueryCompatible error headers) and the legacy Query protocol
// (Action=<Op>, XML), with identical semantics: the platform's codecs read and write both from
// the models (protocol/models/sqs.json and sqs-query.json), and one set of handlers serves them.
// Queues, messages and their in-flight state live in the store's `sqs` column family; an
// in-memory index per queue is rebuilt from it at start.

#include <memory>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/platform.hpp"
#include "fogbank/protocol/service.hpp"
#include "fogbank/sqs/message_sink.hpp"

namespace fogbank::storage {
class Store;
}

namespace fogbank::sqs {

/// Creates the SQS service over the platform's store and clock and loads its state.
std::shared_ptr<protocol::Service> make_sqs_service(const protocol::Platform& platform);
/// The service and the sink other services (SNS, S3 notifications) send to its queues through.
struct Sqs {
  std::shared_ptr<protocol::Service> service;
  std::shared_ptr<MessageSink> sink;
};
Sqs make_sqs(const protocol::Platform& platform);
/// The same over `store` and `clock` (both must outlive it), for tests.
std::shared_ptr<protocol::Service> make_sqs_service(storage::Store& store, const protocol::Clock& clock);
Sqs make_sqs(storage::Store& store, const protocol::Clock& clock);

}  // namespace fogbank::sqs
