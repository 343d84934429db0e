#pragma once
// SQS's errors. Codes are the JSON protocol's (botocore's current model, e.g. QueueDoesNotExist);
// the Query protocol's code for the same error (AWS.SimpleQueueService.NonExistentQueue), which is
// also what the x-amzn-query-error header of a JSON answer carries, comes from the error traits
// of the Query model (protocol/models/sqs-query.json) at the error boundary.

#include <string>
#include <string_view>

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::sqs {

using protocol::AwsError;

AwsError queue_does_not_exist();
AwsError invalid_parameter(std::string message);
AwsError missing_parameter(std::string_view name);
/// "Value <v> for parameter <name> is invalid. Reason: <reason>."
AwsError invalid_value(std::string_view name, std::string_view value, std::string_view reason);
AwsError invalid_attribute_name(std::string_view name);
AwsError invalid_attribute_value(std::string_view name, std::string_view reason = {});
AwsError receipt_handle_invalid(std::string_view handle);
AwsError unsupported_operation(std::string message);

}  // namespace fogbank::sqs
