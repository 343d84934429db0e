#include "errors.hpp"

namespace fogbank::sns {

protocol::AwsError invalid_parameter(std::string message) {
  return {"InvalidParameter", 400, std::move(message)};
}

protocol::AwsError parameter_value_invalid(std::string message) {
  return {"ParameterValueInvalid", 400, std::move(message)};
}

protocol::AwsError not_found(std::string message) { return {"NotFound", 404, std::move(message)}; }

protocol::AwsError missing_parameter(std::string_view name) {
  return invalid_parameter("Invalid parameter: " + std::string(name) + " Reason: no value for required parameter");
}

protocol::AwsError authorization_error(std::string_view caller_arn, std::string_view action,
                                       std::string_view resource) {
  std::string a = "SNS:" + std::string(action);
  return {"AuthorizationError", 403,
          "User: " + std::string(caller_arn) + " is not authorized to perform: " + a + " on resource: " +
              std::string(resource) + " because no resource-based policy allows the " + a + " action"};
}

}  // namespace fogbank::sns
