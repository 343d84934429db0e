#pragma once
// Renders an AwsError the way each wire protocol does.

#include <string_view>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/http.hpp"
#include "fogbank/protocol/service.hpp"
#include "fogbank/protocol/sigv4.hpp"

namespace fogbank::protocol {

/// rest-xml (S3): <Error><Code/><Message/>[fields]<RequestId/><HostId/></Error>, no body for HEAD.
/// query:  <ErrorResponse xmlns><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
/// json:   {"__type": code, "message": msg} + x-amzn-ErrorType (+ x-amzn-query-error when
///         `query_compatible_code` is non-empty, for awsQueryCompatible services like SQS); the
///         __type is "<json_type_namespace>#<code>" when a namespace is given (SQS:
///         "com.amazonaws.sqs#QueueDoesNotExist", as AWS sends it). CBOR: the same map in CBOR.
Response render_error(const AwsError& error, WireProtocol protocol, std::string_view request_id,
                      std::string_view xmlns = {}, std::string_view method = "GET",
                      std::string_view query_compatible_code = {},
                      std::string_view json_type_namespace = {});

/// The one error boundary's rendering: `error` as `service` answers it in `protocol` (Query codes
/// of awsQueryCompatible services, their JSON "__type" namespace, the xmlns), with the request
/// id headers. Used for every error, including those of answers that finish later (long polls).
/// A null service renders the generic Query form.
Response render_service_error(const Service* service, const AwsError& error, WireProtocol protocol,
                              std::string_view request_id, std::string_view method);

/// Maps a SigV4 failure to the error each protocol family returns for it (S3's codes differ
/// from the Query services', which differ from the JSON services').
AwsError auth_error(sigv4::AuthFailure failure, WireProtocol protocol,
                    const sigv4::Verification* verification, std::string_view detail,
                    const RequestHead& head);

}  // namespace fogbank::protocol
