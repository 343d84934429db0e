#pragma once
// The MessageSink over the queue engine (internal to the SQS library).

#include <memory>

#include "fogbank/sqs/message_sink.hpp"

namespace fogbank::sqs {

class QueueEngine;

std::shared_ptr<MessageSink> make_message_sink(std::shared_ptr<QueueEngine> engine);

}  // namespace fogbank::sqs
