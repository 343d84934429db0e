#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::protocol::errors {

AwsError internal_failure(std::string message) {
  return AwsError("InternalFailure", 500, std::move(message), false);
}
AwsError not_implemented(std::string message) {
  return AwsError("NotImplemented", 501, std::move(message));
}
AwsError invalid_parameter_value(std::string message) {
  return AwsError("InvalidParameterValue", 400, std::move(message));
}
AwsError missing_parameter(std::string message) {
  return AwsError("MissingParameter", 400, std::move(message));
}
AwsError validation_error(std::string message) {
  return AwsError("ValidationError", 400, std::move(message));
}

}  // namespace fogbank::protocol::errors
