#pragma once
// SQS's errors. Codes are the JSON protocol's (botocore's current model, e.g. QueueDoesNotExist);
// query_code() gives the Query protocol's code for the same error
// (AWS.SimpleQueueService.NonExistentQueue), which is also what the x-amzn-query-error header of
// a JSON answer carries.

#include <string>
#include <string_view>

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::sqs {

using protocol::AwsError;

/// The Query-protocol code of a JSON-protocol error code (identity for shared codes).
std::string query_code(std::string_view json_code);

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
