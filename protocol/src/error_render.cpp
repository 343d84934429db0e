#include "fogbank/protocol/error_render.hpp"

#include <nlohmann/json.hpp>

#include "fogbank/protocol/dispatcher.hpp"
#include "fogbank/protocol/xml_writer.hpp"

namespace fogbank::protocol {

namespace {

constexpr std::string_view kSignatureMismatchQuery =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";
constexpr std::string_view kSignatureMismatchS3 =
    "The request signature we calculated does not match the signature you provided. Check your "
    "key and signing method.";
constexpr std::string_view kInvalidToken = "The security token included in the request is invalid.";
constexpr std::string_view kExpiredToken = "The security token included in the request is expired";

std::string spaced_hex(std::string_view text) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (!out.empty()) {
      out += ' ';
    }
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

AwsError s3_auth_error(sigv4::AuthFailure failure, const sigv4::Verification* v,
                       std::string_view detail, const RequestHead& head) {
  using F = sigv4::AuthFailure;
  std::string d(detail);
  switch (failure) {
    case F::kMissingAuthentication:
      return AwsError("AccessDenied", 403, "Access Denied");
    case F::kIncompleteSignature:
      if (head.query.find("X-Amz-") != std::string::npos) {
        return AwsError("AuthorizationQueryParametersError", 400, d);
      }
      return AwsError("AuthorizationHeaderMalformed", 400, d);
    case F::kUnsupportedAlgorithm:
      return AwsError("InvalidRequest", 400,
                      "The authorization mechanism you have provided is not supported. Please use "
                      "AWS4-HMAC-SHA256.");
    case F::kInvalidExpires:
      return AwsError("AuthorizationQueryParametersError", 400, d);
    case F::kInvalidDate:
      return AwsError("AccessDenied", 403,
                      d.empty() ? "AWS authentication requires a valid Date or x-amz-date header" : d);
    case F::kUnknownAccessKey:
    case F::kMissingSessionToken:
      return AwsError("InvalidAccessKeyId", 403,
                      "The AWS Access Key Id you provided does not exist in our records.");
    case F::kInvalidSessionToken:
      return AwsError("InvalidToken", 400, "The provided token is malformed or otherwise invalid.");
    case F::kExpiredToken:
      return AwsError("ExpiredToken", 400, "The provided token has expired.");
    case F::kSignatureMismatch: {
      AwsError e("SignatureDoesNotMatch", 403, std::string(kSignatureMismatchS3));
      if (v != nullptr) {
        e.with_field("AWSAccessKeyId", v->credential.access_key);
        e.with_field("StringToSign", v->string_to_sign);
        e.with_field("SignatureProvided", d);
        e.with_field("StringToSignBytes", spaced_hex(v->string_to_sign));
        e.with_field("CanonicalRequest", v->canonical_request);
        e.with_field("CanonicalRequestBytes", spaced_hex(v->canonical_request));
      }
      return e;
    }
    case F::kRequestTimeTooSkewed:
      return AwsError("RequestTimeTooSkewed", 403,
                      "The difference between the request time and the current time is too large.")
          .with_field("MaxAllowedSkewMilliseconds", "900000");
    case F::kPresignExpired:
      return AwsError("AccessDenied", 403, "Request has expired");
    case F::kPresignNotYetValid:
      return AwsError("AccessDenied", 403, "Request is not valid yet");
    case F::kPayloadHashMismatch:
      return AwsError("XAmzContentSHA256Mismatch", 400,
                      "The provided 'x-amz-content-sha256' header does not match what was computed.");
    case F::kNone:
      break;
  }
  return AwsError("AccessDenied", 403, "Access Denied");
}

AwsError query_auth_error(sigv4::AuthFailure failure, std::string_view detail) {
  using F = sigv4::AuthFailure;
  std::string d(detail);
  switch (failure) {
    case F::kMissingAuthentication:
      return AwsError("MissingAuthenticationToken", 403, "Request is missing Authentication Token");
    case F::kIncompleteSignature:
    case F::kUnsupportedAlgorithm:
    case F::kInvalidDate:
    case F::kInvalidExpires:
      return AwsError("IncompleteSignature", 400, d.empty() ? "Incomplete signature" : d);
    case F::kUnknownAccessKey:
    case F::kMissingSessionToken:
    case F::kInvalidSessionToken:
      return AwsError("InvalidClientTokenId", 403, std::string(kInvalidToken));
    case F::kExpiredToken:
      return AwsError("ExpiredToken", 403, std::string(kExpiredToken));
    case F::kRequestTimeTooSkewed:
    case F::kPresignExpired:
    case F::kPresignNotYetValid:
      // AWS words these as signature failures: "Signature expired: ... is now earlier than ...".
      return AwsError("SignatureDoesNotMatch", 403, d.empty() ? "Signature expired" : d);
    case F::kPayloadHashMismatch:
      return AwsError("XAmzContentSHA256Mismatch", 400,
                      "The provided 'x-amz-content-sha256' header does not match what was computed.");
    case F::kSignatureMismatch:
    case F::kNone:
      break;
  }
  return AwsError("SignatureDoesNotMatch", 403, std::string(kSignatureMismatchQuery));
}

AwsError json_auth_error(sigv4::AuthFailure failure, std::string_view detail) {
  using F = sigv4::AuthFailure;
  std::string d(detail);
  switch (failure) {
    case F::kMissingAuthentication:
      return AwsError("MissingAuthenticationTokenException", 400, "Missing Authentication Token");
    case F::kIncompleteSignature:
    case F::kUnsupportedAlgorithm:
    case F::kInvalidDate:
    case F::kInvalidExpires:
      return AwsError("IncompleteSignatureException", 400, d.empty() ? "Incomplete signature" : d);
    case F::kUnknownAccessKey:
    case F::kMissingSessionToken:
    case F::kInvalidSessionToken:
      return AwsError("UnrecognizedClientException", 400, std::string(kInvalidToken));
    case F::kExpiredToken:
      return AwsError("ExpiredTokenException", 400, std::string(kExpiredToken));
    case F::kRequestTimeTooSkewed:
    case F::kPresignExpired:
    case F::kPresignNotYetValid:
      return AwsError("InvalidSignatureException", 400, d.empty() ? "Signature expired" : d);
    case F::kPayloadHashMismatch:
    case F::kSignatureMismatch:
    case F::kNone:
      break;
  }
  return AwsError("InvalidSignatureException", 400, std::string(kSignatureMismatchQuery));
}

}  // namespace

AwsError auth_error(sigv4::AuthFailure failure, WireProtocol protocol,
                    const sigv4::Verification* verification, std::string_view detail,
                    const RequestHead& head) {
  switch (protocol) {
    case WireProtocol::kRestXml:
      return s3_auth_error(failure, verification, detail, head);
    case WireProtocol::kQuery:
      return query_auth_error(failure, detail);
    case WireProtocol::kJson10:
    case WireProtocol::kJson11:
    case WireProtocol::kCbor:
      return json_auth_error(failure, detail);
  }
  return query_auth_error(failure, detail);
}

Response render_error(const AwsError& error, WireProtocol protocol, std::string_view request_id,
                      std::string_view xmlns, std::string_view method,
                      std::string_view query_compatible_code, std::string_view json_type_namespace) {
  Response r;
  r.status = error.status;
  for (const auto& [name, value] : error.headers) {
    r.headers.add(name, value);
  }
  switch (protocol) {
    case WireProtocol::kRestXml: {
      if (method == "HEAD" || error.status == 304) {
        break;  // no body on HEAD or 304: the status code (and headers) are all the client gets.
      }
      XmlWriter xml;
      xml.open("Error").element("Code", error.code).element("Message", error.message);
      for (const auto& [name, value] : error.fields) {
        xml.element(name, value);
      }
      xml.element("RequestId", request_id).element("HostId", request_id);
      r.body = xml.finish();
      r.headers.set("Content-Type", "application/xml");
      break;
    }
    case WireProtocol::kQuery: {
      XmlWriter xml(false);
      xml.open("ErrorResponse", xmlns)
          .open("Error")
          .element("Type", error.sender_fault ? "Sender" : "Receiver")
          .element("Code", error.code)
          .element("Message", error.message);
      for (const auto& [name, value] : error.fields) {
        xml.element(name, value);
      }
      xml.close().element("RequestId", request_id);
      r.body = xml.finish();
      r.headers.set("Content-Type", "text/xml");
      break;
    }
    case WireProtocol::kJson10:
    case WireProtocol::kJson11:
    case WireProtocol::kCbor: {
      std::string type = json_type_namespace.empty() ? error.code
                                                     : std::string(json_type_namespace) + "#" + error.code;
      nlohmann::json body = {{"__type", std::move(type)}};
      if (!error.message.empty()) {
        body["message"] = error.message;  // AWS leaves it out for an unreadable body
      }
      if (protocol == WireProtocol::kCbor) {
        auto bytes = nlohmann::json::to_cbor(body);
        r.body.assign(bytes.begin(), bytes.end());
        r.headers.set("Content-Type", "application/x-amz-cbor-1.1");
      } else {
        r.body = body.dump();
        r.headers.set("Content-Type", protocol == WireProtocol::kJson10 ? "application/x-amz-json-1.0"
                                                                        : "application/x-amz-json-1.1");
      }
      r.headers.set("x-amzn-ErrorType", error.code);
      if (!query_compatible_code.empty()) {
        r.headers.set("x-amzn-query-error", std::string(query_compatible_code) +
                                                (error.sender_fault ? ";Sender" : ";Receiver"));
      }
      break;
    }
  }
  return r;
}

Response render_service_error(const Service* service, const AwsError& error, WireProtocol protocol,
                              std::string_view request_id, std::string_view method) {
  Response r;
  if (service == nullptr) {
    r = render_error(error, WireProtocol::kQuery, request_id);
    protocol = WireProtocol::kQuery;
  } else {
    auto query_code = service->query_compatible_code(error);
    if (protocol == WireProtocol::kQuery) {
      if (!query_code.empty() && query_code != error.code) {
        // An awsQueryCompatible service answering a Query request uses its Query error codes.
        AwsError as_query = error;
        as_query.code = std::move(query_code);
        r = render_error(as_query, protocol, request_id, service->xml_namespace(), method);
      } else {
        r = render_error(error, protocol, request_id, service->xml_namespace(), method);
      }
    } else {
      r = render_error(error, protocol, request_id, service->xml_namespace(), method, query_code,
                       service->json_type_namespace());
    }
  }
  add_request_id_headers(r, protocol, request_id);
  return r;
}

}  // namespace fogbank::protocol
