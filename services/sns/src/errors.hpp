#pragma once
// SNS's error vocabulary (codes and statuses from the model's error traits, AWS's wording).

#include <string>
#include <string_view>

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::sns {

/// 400 InvalidParameter with `message` as is ("Invalid parameter: TopicArn").
protocol::AwsError invalid_parameter(std::string message);
/// 400 ParameterValueInvalid (message attributes).
protocol::AwsError parameter_value_invalid(std::string message);
/// 404 NotFound.
protocol::AwsError not_found(std::string message);
/// "Invalid parameter: <name> Reason: no value for required parameter".
protocol::AwsError missing_parameter(std::string_view name);
/// 403 AuthorizationError: "User: <caller> is not authorized to perform: SNS:<action> on resource:
/// <resource> because no resource-based policy allows the SNS:<action> action".
protocol::AwsError authorization_error(std::string_view caller_arn, std::string_view action,
                                       std::string_view resource);

}  // namespace fogbank::sns
