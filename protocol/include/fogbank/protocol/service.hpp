#pragma once
// What a service (S3, SQS, STS, ...) implements, and what it receives per request.
//
// The protocol layer routes a request to one Service, authenticates it and then calls either
// handle() with the whole body (most operations: bodies are small and capped) or begin_stream()
// for services whose bodies stream (S3 object data). Services never see sockets or Beast.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <optional>

#include "fogbank/protocol/http.hpp"
#include "fogbank/protocol/sigv4.hpp"
#include "fogbank/protocol/uri.hpp"

namespace fogbank::protocol {

struct AwsError;

class Clock;

/// kCbor: the JSON protocols' shapes as CBOR (application/x-amz-cbor-1.1), Kinesis' Java default.
enum class WireProtocol { kRestXml, kQuery, kJson10, kJson11, kCbor };

/// What the pipeline learns about a request once, before any handler runs, and carries with it.
struct Resolution {
  std::string operation;    ///< model operation name ("SendMessage"); empty: not known yet
  std::string iam_action;   ///< "sqs:SendMessage", for authorization and the access log
  bool streams_body = false;
};

/// How a request ended, as the server saw it once the response was sent (S3's server access log).
struct CompletedRequest {
  int status = 0;
  std::uint64_t bytes_sent = 0;       ///< response body bytes
  std::uint64_t content_length = 0;   ///< the response's Content-Length (HEAD: what GET would send)
  std::int64_t total_ms = 0;          ///< from the request's head to the response's last byte
  const Headers* headers = nullptr;   ///< the response's
  std::string_view body;              ///< the response body when it was not streamed (error documents)
};

/// Everything a handler knows about the request besides its body.
struct RequestContext {
  explicit RequestContext(const RequestHead& request_head) : head(request_head) {}

  const RequestHead& head;
  std::string request_id;
  std::string account_id;      ///< whose resources this request touches
  std::string region;          ///< from the credential scope, else the server default
  sigv4::Credential caller;    ///< the authenticated caller (defaults when auth is off)
  std::int64_t now = 0;        ///< unix seconds of the service clock
  std::int64_t now_ms = 0;     ///< the same in milliseconds
  const Clock* clock = nullptr;  ///< the one clock (never null inside a handler)
  WireProtocol protocol = WireProtocol::kRestXml;  ///< what this request speaks
  std::string operation;       ///< resolved operation (set once; S3 sets it in its handler)
  std::string iam_action;      ///< "s3:PutObject"
  /// Query protocol: the parameters (query string + form body), parsed once by the pipeline.
  std::optional<QueryParams> params;
  bool authenticated = false;  ///< a signature was verified
  Headers trailers;            ///< aws-chunked trailers, set before a streaming sink's finish()
  /// Set by a handler that wants to hear how its request ended (S3 logging a bucket's requests);
  /// the server calls it after the response was sent, on its I/O thread.
  std::function<void(const CompletedRequest&)> on_complete;
};

class Service {
 public:
  virtual ~Service() = default;
  /// SigV4 signing name and routing name ("s3", "sts", "sqs", ...).
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual WireProtocol protocol() const = 0;
  /// The protocol this particular request speaks, for services that accept two (SQS: JSON with
  /// X-Amz-Target, or the legacy Query form). Errors, auth failures included, are rendered in it.
  [[nodiscard]] virtual WireProtocol protocol_for([[maybe_unused]] const RequestHead& head) const {
    return protocol();
  }
  /// XML namespace of Query responses and errors.
  [[nodiscard]] virtual std::string_view xml_namespace() const { return {}; }
  /// X-Amz-Target prefix for the JSON protocols ("AmazonSQS"); empty when none.
  [[nodiscard]] virtual std::string_view json_target_prefix() const { return {}; }
  /// Query protocol: whether `action` is one of this service's operations.
  [[nodiscard]] virtual bool has_action(std::string_view action) const { return false; }
  /// awsQueryCompatible JSON services (SQS): the Query-protocol error code to send in the
  /// x-amzn-query-error header for `error`; empty for services without that trait.
  [[nodiscard]] virtual std::string query_compatible_code([[maybe_unused]] const AwsError& error) const {
    return {};
  }
  /// JSON protocols: the namespace AWS puts before the error code in "__type"
  /// ("com.amazonaws.sqs" → "com.amazonaws.sqs#QueueDoesNotExist"); empty for plain codes.
  [[nodiscard]] virtual std::string_view json_type_namespace() const { return {}; }
  /// Whether this unsigned request may reach the service, which then authenticates it itself
  /// (S3 browser POST uploads carry a policy signature inside the form).
  [[nodiscard]] virtual bool accepts_anonymous([[maybe_unused]] const RequestHead& head) const {
    return false;
  }
  /// Whether this request, which carries no other routing hint (no X-Amz-Target, credential
  /// scope or Action), is this service's rather than the REST-XML catch-all's (S3). SNS claims
  /// the unsigned GET of its signing certificate (/SimpleNotificationService-<id>.pem).
  [[nodiscard]] virtual bool claims_unrouted([[maybe_unused]] const RequestHead& head) const { return false; }
  /// Whether this request's body should stream into begin_stream() instead of being buffered.
  [[nodiscard]] virtual bool streams_body(const RequestHead& head) const { return false; }
  /// Resolves the request's operation from its head and, for Query requests, its parameters
  /// (null until the form body was read). Called once per request by the pipeline; an empty
  /// operation means the service resolves it inside handle() (S3's REST routing table).
  [[nodiscard]] virtual Resolution resolve(const RequestHead& head, const QueryParams* params) const {
    Resolution r;
    r.streams_body = streams_body(head);
    return r;
  }

  /// Handles a request whose body has been read completely. Returns the response or throws
  /// AwsError (rendered in this service's protocol by the caller).
  [[nodiscard]] virtual Response handle(RequestContext& ctx, std::string body) = 0;
  /// Streaming requests: returns the sink the decoded body is pushed into.
  [[nodiscard]] virtual std::unique_ptr<BodySink> begin_stream(std::shared_ptr<RequestContext> ctx);

  /// fogbank's own endpoints of this service, under /_fogbank/<name>/ (SNS's recorded
  /// deliveries): the answer, or nullopt when `head.path` is not one of them (404). The server
  /// has applied the admin API's host and cross-site rules already; the service checks methods.
  [[nodiscard]] virtual std::optional<Response> admin([[maybe_unused]] const RequestHead& head,
                                                      [[maybe_unused]] std::string_view body) {
    return std::nullopt;
  }

  /// Short health line for /_fogbank/health ("running").
  [[nodiscard]] virtual std::string state() const { return "running"; }
  /// Drops in-memory state after the store has been wiped (/_fogbank/reset).
  virtual void reset() {}
};

}  // namespace fogbank::protocol
