#pragma once
// The one request pipeline between the server and the services. One Dispatcher serves every
// connection; it is immutable after setup and so safe to call from every server thread.
//
// Per request (as Ceph RGW's process_request and Alternator's handle_api_request):
//  1. route: pick the service once (X-Amz-Target, the SigV4 credential scope's service, Action,
//     S3 host/path) and resolve the operation (Service::resolve); the Resolution travels with
//     the request in its RequestContext (operation, IAM action, streaming or buffered);
//  2. parse the SigV4 claims; malformed ones are refused before any body is read;
//  3. run the interceptor chain, in order: authentication → authorization → fault injection →
//     request capture (each a hook later features fill in; see Interceptor);
//  4. hand the body to the service: streamed through the aws-chunked / SHA-256 decorators into
//     its sink, or buffered and passed to handle();
//  5. the one error boundary: an AwsError becomes the service's error in the request's protocol
//     (render_service_error), anything else a logged 500 InternalFailure (InternalError for S3).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/http.hpp"
#include "fogbank/protocol/service.hpp"
#include "fogbank/protocol/sigv4.hpp"

namespace fogbank::protocol {

enum class AuthMode { kEnforce, kOff };

class Clock;

struct DispatcherConfig {
  AuthMode auth = AuthMode::kEnforce;
  std::string default_region = "us-east-1";
  sigv4::Credential default_caller;  ///< who unsigned requests act as when auth is off
  std::uint64_t max_buffered_body = 10ull << 20;
  std::uint64_t max_streamed_body = 5ull << 30;  ///< S3's single-PUT limit
  /// The services' clock (expiry of presigned URLs and temporary credentials, RequestContext::now).
  /// Null: real time.
  const Clock* clock = nullptr;
  /// Real unix seconds, for SigV4's 15-minute skew window (clients sign with their own clocks, so
  /// it never follows a virtual clock). Defaults to the system clock; tests pin it.
  std::function<std::int64_t()> real_time;
  /// Called with (canonical request, string to sign) on every signature mismatch (debug log).
  std::function<void(std::string_view, std::string_view)> on_signature_mismatch;
  /// Called with (request id, cause) for every internal error the boundary turns into a 500.
  std::function<void(std::string_view, std::string_view)> on_internal_error;
};

/// One authenticated call on its way to a handler, as the interceptors see it.
struct Invocation {
  RequestContext& ctx;
  Service& service;
  const sigv4::ParsedAuth& auth;
  std::string_view payload_hash;   ///< what the signature covers (hex SHA-256 or a sentinel)
  sigv4::Verification verification;  ///< filled in by authentication
};

/// A step every operation passes through before its handler. Throwing AwsError refuses the
/// request; it is rendered by the error boundary like a handler's error.
class Interceptor {
 public:
  virtual ~Interceptor() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  virtual void before(Invocation& call) = 0;
};

/// Where an interceptor sits in the chain. Authentication is built in and always first.
enum class InterceptorStage { kAuthorization, kFaultInjection, kCapture };

/// What the access log reports about a request; filled in as the pipeline learns it.
struct RequestInfo {
  std::string request_id;
  std::string service;
  std::string operation;
  std::string iam_action;
  /// The handler's RequestContext::on_complete, handed over when it returned.
  std::function<void(const CompletedRequest&)> on_complete;
};

/// What the handler left in `ctx` for the server: the operation it resolved, its completion hook.
void record_outcome(RequestInfo& info, RequestContext& ctx);

/// The server's view of one request after its head was read.
struct Exchange {
  std::shared_ptr<RequestInfo> info;
  /// When set, answer this without reading the body (the server closes the connection if a
  /// body was announced and not read).
  std::unique_ptr<Response> immediate;
  /// Otherwise push the body here; its finish() produces the response (never throws).
  std::unique_ptr<BodySink> sink;
  std::uint64_t body_limit = 0;  ///< larger bodies are refused (413) by the server
  /// Renders an error the server raises after the head was read (413, a truncated body) the way
  /// this request's service answers it, with the request id the access log prints.
  std::function<Response(const AwsError&)> render_error;
};

class Dispatcher {
 public:
  Dispatcher(DispatcherConfig config, std::shared_ptr<const sigv4::CredentialLookup> keys);
  ~Dispatcher();

  void add(std::shared_ptr<Service> service);
  /// Adds `interceptor` at the end of `stage` (setup only, before serving).
  void add_interceptor(InterceptorStage stage, std::shared_ptr<Interceptor> interceptor);
  /// The chain in order, authentication first (for tests and the admin view).
  [[nodiscard]] std::vector<std::string_view> interceptor_names() const;
  [[nodiscard]] const std::vector<std::shared_ptr<Service>>& services() const { return services_; }
  [[nodiscard]] std::shared_ptr<Service> find(std::string_view name) const;
  [[nodiscard]] const DispatcherConfig& config() const { return config_; }

  /// Starts one request. Never throws: failures become `immediate` error responses.
  [[nodiscard]] Exchange begin(RequestHead head) const;

  /// An error raised below the service layer (413, 431, a body timeout) for a request whose head
  /// was read: rendered in the protocol of the service the head routes to.
  [[nodiscard]] Response error_for(const RequestHead& head, const AwsError& error,
                                   std::string_view request_id) const;

  /// An error for requests that reach no service (unknown route) or fail below the service
  /// layer (bad framing), rendered the generic way.
  [[nodiscard]] static Response generic_error(int status, std::string_view code,
                                              std::string_view message, std::string_view request_id);

  /// New request id in the form the service family uses (S3: 16 upper-case alnum; others: UUID).
  [[nodiscard]] static std::string new_request_id(WireProtocol protocol);

  /// Per-request state shared by the two body paths (defined in dispatcher.cpp).
  struct Route;

 private:
  [[nodiscard]] std::shared_ptr<Service> route(const RequestHead& head, const sigv4::ParsedAuth& auth,
                                               const QueryParams* query, bool& needs_body) const;
  /// Authentication, then the hooks of every stage, in order.
  void run_interceptors(Invocation& call) const;
  DispatcherConfig config_;
  std::shared_ptr<const sigv4::CredentialLookup> keys_;
  std::vector<std::shared_ptr<Service>> services_;
  std::vector<std::pair<InterceptorStage, std::shared_ptr<Interceptor>>> interceptors_;
};

/// Response headers every answer of a protocol family carries (request id and, for S3, x-amz-id-2).
void add_request_id_headers(Response& response, WireProtocol protocol, std::string_view request_id);

}  // namespace fogbank::protocol
