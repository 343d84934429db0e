#pragma once
// Amazon SQS (API version 2012-11-05) over both of its wire protocols: AWS JSON 1.0
// (X-Amz-Target: AmazonSQS.<Op>, awsQueryCompatible error headers) and the legacy Query protocol
// (Action=<Op>, XML), with identical semantics. Queues, messages and their in-flight state live
// in the store's `sqs` column family; an in-memory index per queue is rebuilt from it at start.

#include <cstdint>
#include <functional>
#include <memory>

#include "fogbank/protocol/service.hpp"
#include "fogbank/storage/store.hpp"

namespace fogbank::sqs {

/// Unix time in milliseconds; injectable so unit tests control visibility timeouts and delays.
using Clock = std::function<std::int64_t()>;

/// Creates the SQS service over `store` (which must outlive it) and loads its state.
/// `clock` defaults to the system clock.
std::shared_ptr<protocol::Service> make_sqs_service(storage::Store& store, Clock clock = {});

}  // namespace fogbank::sqs
