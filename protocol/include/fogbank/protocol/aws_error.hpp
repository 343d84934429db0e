#pragma once
// The single error value of fogbank: what AWS would answer, independent of the wire protocol.
// Each protocol renders it its own way (see error_render.hpp).

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace fogbank::protocol {

/// An AWS error: code, HTTP status and message, plus service-specific extras. Thrown by deep
/// decoding and validation code and caught once, in the request pipeline.
struct AwsError : std::exception {
  std::string code;          ///< e.g. "SignatureDoesNotMatch"
  int status = 400;          ///< HTTP status
  std::string message;
  bool sender_fault = true;  ///< <Type>Sender</Type> vs Receiver in Query errors
  /// Extra elements in the error body, in order (S3: {"BucketName","b1"}, {"StringToSign",...}).
  std::vector<std::pair<std::string, std::string>> fields;
  /// Extra response headers (e.g. x-amz-bucket-region).
  std::vector<std::pair<std::string, std::string>> headers;

  AwsError() = default;
  AwsError(std::string code_, int status_, std::string message_, bool sender_fault_ = true)
      : code(std::move(code_)), status(status_), message(std::move(message_)),
        sender_fault(sender_fault_) {}

  AwsError& with_field(std::string name, std::string value) & {
    fields.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  AwsError&& with_field(std::string name, std::string value) && {
    fields.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
  }

  [[nodiscard]] const char* what() const noexcept override { return message.c_str(); }
};

/// Common errors shared by every service.
namespace errors {
AwsError internal_failure(std::string message = "We encountered an internal error. Please try again.");
AwsError not_implemented(std::string message);
AwsError invalid_parameter_value(std::string message);
AwsError missing_parameter(std::string message);
AwsError validation_error(std::string message);
}  // namespace errors

}  // namespace fogbank::protocol
