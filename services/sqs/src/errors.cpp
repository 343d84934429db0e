#include "errors.hpp"

#include <utility>

namespace fogbank::sqs {

AwsError queue_does_not_exist() {
  return AwsError("QueueDoesNotExist", 400, "The specified queue does not exist.");
}

AwsError invalid_parameter(std::string message) {
  return AwsError("InvalidParameterValue", 400, std::move(message));
}

AwsError missing_parameter(std::string_view name) {
  return AwsError("MissingParameter", 400,
                  "The request must contain the parameter " + std::string(name) + ".");
}

AwsError invalid_value(std::string_view name, std::string_view value, std::string_view reason) {
  return invalid_parameter("Value " + std::string(value) + " for parameter " + std::string(name) +
                           " is invalid. Reason: " + std::string(reason) + ".");
}

AwsError invalid_attribute_name(std::string_view name) {
  return AwsError("InvalidAttributeName", 400, "Unknown Attribute " + std::string(name) + ".");
}

AwsError invalid_attribute_value(std::string_view name, std::string_view reason) {
  std::string message = "Invalid value for the parameter " + std::string(name) + ".";
  if (!reason.empty()) {
    message += " Reason: " + std::string(reason);
  }
  return AwsError("InvalidAttributeValue", 400, std::move(message));
}

AwsError receipt_handle_invalid(std::string_view handle) {
  return AwsError("ReceiptHandleIsInvalid", 400,
                  "The input receipt handle \"" + std::string(handle) + "\" is not a valid receipt handle.");
}

AwsError unsupported_operation(std::string message) {
  return AwsError("UnsupportedOperation", 400, std::move(message));
}

}  // namespace fogbank::sqs
