#include "fogbank/protocol/dispatcher.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>


#include "fogbank/protocol/aws_chunked.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/error_render.hpp"
#include "fogbank/protocol/query.hpp"
#include "fogbank/protocol/uri.hpp"
#include "fogbank/protocol/text.hpp"

namespace fogbank::protocol {

namespace {

std::int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_hex_sha256(std::string_view v) {
  if (v.size() != 64) {
    return false;
  }
  for (char c : v) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool is_form(const RequestHead& head) {
  auto ct = head.headers.get("content-type").value_or("");
  return ct.substr(0, 33) == "application/x-www-form-urlencoded";
}

AwsError internal_error_for(WireProtocol protocol) {
  if (protocol == WireProtocol::kRestXml) {
    return AwsError("InternalError", 500, "We encountered an internal error. Please try again.", false);
  }
  return errors::internal_failure();
}

/// The one error boundary: runs `body`; an AwsError becomes the service's error in the request's
/// protocol, anything else a 500 whose cause is logged (never a 400: a bug or a storage failure
/// is not the client's fault).
template <class F>
Response guarded(const DispatcherConfig& cfg, const Service* service, const RequestContext& ctx, F&& body) {
  try {
    return body();
  } catch (const AwsError& e) {
    return render_service_error(service, e, ctx.protocol, ctx.request_id, ctx.head.method);
  } catch (const std::exception& e) {
    if (cfg.on_internal_error) {
      cfg.on_internal_error(ctx.request_id, e.what());
    }
    return render_service_error(service, internal_error_for(ctx.protocol), ctx.protocol, ctx.request_id,
                                ctx.head.method);
  }
}

}  // namespace

void record_outcome(RequestInfo& info, RequestContext& ctx) {
  info.operation = ctx.operation;
  if (ctx.on_complete) {
    info.on_complete = std::move(ctx.on_complete);
  }
}

namespace {

void apply(const Resolution& r, RequestContext& ctx, RequestInfo& info) {
  if (!r.operation.empty()) {
    ctx.operation = r.operation;
    ctx.iam_action = r.iam_action;
    info.operation = r.operation;
    info.iam_action = r.iam_action;
  }
}

/// Verifies the body's SHA-256 against x-amz-content-sha256 as it streams through.
class Sha256CheckSink final : public BodySink {
 public:
  Sha256CheckSink(std::unique_ptr<BodySink> inner, std::string expected)
      : inner_(std::move(inner)), expected_(std::move(expected)) {}
  void write(std::string_view data) override {
    hash_.update(data);
    inner_->write(data);
  }
  Response finish() override {
    auto computed = hex(hash_.finish());
    if (!iequals(computed, expected_)) {
      inner_->abort();
      throw AwsError("XAmzContentSHA256Mismatch", 400,
                     "The provided 'x-amz-content-sha256' header does not match what was computed.")
          .with_field("ClientComputedContentSHA256", expected_)
          .with_field("S3ComputedContentSHA256", computed);
    }
    return inner_->finish();
  }
  void abort() noexcept override { inner_->abort(); }

 private:
  std::unique_ptr<BodySink> inner_;
  Sha256 hash_;
  std::string expected_;
};

}  // namespace

// State shared by both body paths of one request.
struct Dispatcher::Route {
  const Dispatcher* dispatcher;
  std::shared_ptr<RequestInfo> info;
  std::shared_ptr<RequestContext> ctx;
  std::unique_ptr<RequestHead> head;  // owned here; ctx->head refers to it
  sigv4::ParsedAuth auth;
  sigv4::AuthFailure parse_failure = sigv4::AuthFailure::kNone;
  std::string parse_message;
  std::shared_ptr<Service> service;
  std::int64_t real_now = 0;  // for the SigV4 skew window

  /// Runs the interceptor chain for `payload_hash`; throws the service's AwsError on refusal.
  sigv4::Verification intercept(std::string_view payload_hash) {
    Invocation call{*ctx, *service, auth, payload_hash, {}};
    authenticate(call);
    dispatcher->run_interceptors(call);
    return std::move(call.verification);
  }

  void authenticate(Invocation& call) {
    const auto& cfg = dispatcher->config_;
    const auto protocol = ctx->protocol;
    auto fail = [&](sigv4::AuthFailure f, const sigv4::Verification* v, std::string_view detail) {
      throw auth_error(f, protocol, v, detail, *head);
    };
    auto& v = call.verification;
    if (auth.kind == sigv4::AuthKind::kNone) {
      if (cfg.auth == AuthMode::kEnforce) {
        if (!service->accepts_anonymous(*head)) {
          fail(parse_failure, nullptr, parse_message);
        }
        ctx->caller = {};  // the service authenticates the request itself
      } else {
        ctx->caller = cfg.default_caller;
      }
    } else {
      auto style = protocol == WireProtocol::kRestXml ? sigv4::PathStyle::kS3 : sigv4::PathStyle::kDoubleEncode;
      v = sigv4::verify(*head, auth, *dispatcher->keys_, call.payload_hash, style, real_now, ctx->now);
      if (v.ok()) {
        ctx->caller = v.credential;
        ctx->authenticated = true;
      } else if (cfg.auth == AuthMode::kEnforce) {
        if (v.failure == sigv4::AuthFailure::kSignatureMismatch && cfg.on_signature_mismatch) {
          cfg.on_signature_mismatch(v.canonical_request, v.string_to_sign);
        }
        fail(v.failure, &v, v.failure == sigv4::AuthFailure::kSignatureMismatch ? auth.signature : v.message);
      } else {
        // Auth off: the access key still picks the account. A 12-digit key is taken as the
        // account id itself, so tests can isolate accounts without configuring keys.
        if (auto known = dispatcher->keys_->find(auth.access_key)) {
          ctx->caller = *known;
        } else {
          ctx->caller = cfg.default_caller;
          ctx->caller.access_key = auth.access_key;
          if (auth.access_key.size() == 12 &&
              auth.access_key.find_first_not_of("0123456789") == std::string::npos) {
            ctx->caller.account_id = auth.access_key;
            ctx->caller.arn = "arn:aws:iam::" + auth.access_key + ":root";
            ctx->caller.user_id = auth.access_key;
          }
        }
      }
    }
    ctx->account_id = ctx->caller.account_id;
    if (!auth.region.empty()) {
      ctx->region = auth.region;
    }
  }
};

namespace {

/// Buffered requests: collect the body (the server enforces the size limit), then route (by
/// Action for form posts), run the interceptors with the body's hash and call the handler.
class BufferedSink final : public BodySink {
 public:
  /// `expected` is the body size the request announced (the server refuses one above the limit
  /// before reading it): reserving it spares a large body its copies through a growing buffer.
  BufferedSink(std::shared_ptr<Dispatcher::Route> route, std::size_t expected) : route_(std::move(route)) {
    body_.reserve(expected);
  }
  void write(std::string_view data) override { body_.append(data); }
  Response finish() override;

 private:
  std::shared_ptr<Dispatcher::Route> route_;
  std::string body_;
};

/// Streaming requests: wraps the service's sink so errors become responses, never exceptions.
class GuardedSink final : public BodySink {
 public:
  GuardedSink(std::shared_ptr<Dispatcher::Route> route, std::unique_ptr<BodySink> inner)
      : route_(std::move(route)), inner_(std::move(inner)) {}
  ~GuardedSink() override {
    if (inner_ && !done_) {
      inner_->abort();
    }
  }
  void write(std::string_view data) override {
    if (error_) {
      return;
    }
    try {
      inner_->write(data);
    } catch (const AwsError& e) {
      error_ = std::make_unique<AwsError>(e);
    } catch (const std::exception& e) {
      const auto& cfg = route_->dispatcher->config();
      if (cfg.on_internal_error) {
        cfg.on_internal_error(route_->ctx->request_id, e.what());
      }
      error_ = std::make_unique<AwsError>(internal_error_for(route_->ctx->protocol));
    }
  }
  bool failed() const noexcept override { return error_ != nullptr; }
  Response finish() override {
    done_ = true;
    auto& ctx = *route_->ctx;
    if (error_) {
      inner_->abort();
      auto r = render_service_error(route_->service.get(), *error_, ctx.protocol, ctx.request_id, ctx.head.method);
      r.close_connection = true;  // the rest of the body was not read
      return r;
    }
    auto r = guarded(route_->dispatcher->config(), route_->service.get(), ctx, [&] { return inner_->finish(); });
    record_outcome(*route_->info, ctx);
    add_request_id_headers(r, ctx.protocol, ctx.request_id);
    return r;
  }
  void abort() noexcept override {
    done_ = true;
    inner_->abort();
  }

 private:
  std::shared_ptr<Dispatcher::Route> route_;
  std::unique_ptr<BodySink> inner_;
  std::unique_ptr<AwsError> error_;
  bool done_ = false;
};

/// Among services that all answer `action`, the one whose Query namespace names the request's
/// Version (SNS and SQS share AddPermission/RemovePermission; unsigned requests carry no scope).
std::shared_ptr<Service> by_action(const std::vector<std::shared_ptr<Service>>& services, const QueryParams& params) {
  const std::string* action = find_param(params, "Action");
  if (action == nullptr) {
    return nullptr;
  }
  const std::string* version = find_param(params, "Version");
  std::shared_ptr<Service> first;
  for (const auto& s : services) {
    if (!s->has_action(*action)) {
      continue;
    }
    if (version == nullptr || version->empty() || s->xml_namespace().find(*version) != std::string_view::npos) {
      return s;
    }
    if (!first) {
      first = s;
    }
  }
  return first;
}

Response BufferedSink::finish() {
  auto& route = *route_;
  auto& ctx = *route.ctx;
  const Dispatcher& d = *route.dispatcher;
  if (!route.service || (ctx.protocol == WireProtocol::kQuery && !ctx.params)) {
    // Query-protocol POSTs carry their Action (and every parameter) in the form body: parse it
    // once here; the service decodes from ctx.params.
    try {
      ctx.params = query::collect_params(route.head->query, body_);
    } catch (const AwsError& e) {
      auto r = render_service_error(route.service.get(), e, ctx.protocol, ctx.request_id, ctx.head.method);
      return r;
    }
    if (!route.service) {
      route.service = by_action(d.services(), *ctx.params);
      if (!route.service) {
        return Dispatcher::generic_error(400, "InvalidAction", "Could not find a service for this request.",
                                         ctx.request_id);
      }
      ctx.protocol = route.service->protocol_for(ctx.head);
    }
  }
  route.info->service = std::string(route.service->name());
  Service& service = *route.service;
  if (ctx.operation.empty()) {
    apply(service.resolve(ctx.head, ctx.params ? &*ctx.params : nullptr), ctx, *route.info);
  }
  auto response = guarded(d.config(), &service, ctx, [&] {
    auto computed = hex(sha256(body_));
    auto header = route.head->headers.get("x-amz-content-sha256");
    std::string payload_hash = computed;
    if (header) {
      if (is_hex_sha256(*header) && !iequals(*header, computed)) {
        throw auth_error(sigv4::AuthFailure::kPayloadHashMismatch, ctx.protocol, nullptr, {}, *route.head);
      }
      payload_hash = std::string(*header);  // S3 signs the header value, UNSIGNED-PAYLOAD included
    } else if (route.auth.kind == sigv4::AuthKind::kPresigned && ctx.protocol == WireProtocol::kRestXml) {
      payload_hash = std::string(sigv4::kUnsignedPayload);  // S3 presigned URLs never sign a body
    }
    route.intercept(payload_hash);
    return service.handle(ctx, std::move(body_));
  });
  record_outcome(*route.info, ctx);
  add_request_id_headers(response, ctx.protocol, ctx.request_id);
  return response;
}

}  // namespace

Dispatcher::Dispatcher(DispatcherConfig config, std::shared_ptr<const sigv4::CredentialLookup> keys)
    : config_(std::move(config)), keys_(std::move(keys)) {
  if (!config_.real_time) {
    config_.real_time = system_now;
  }
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::add(std::shared_ptr<Service> service) { services_.push_back(std::move(service)); }

void Dispatcher::add_interceptor(InterceptorStage stage, std::shared_ptr<Interceptor> interceptor) {
  auto at = std::find_if(interceptors_.begin(), interceptors_.end(),
                         [stage](const auto& entry) { return entry.first > stage; });
  interceptors_.emplace(at, stage, std::move(interceptor));
}

std::vector<std::string_view> Dispatcher::interceptor_names() const {
  std::vector<std::string_view> names{"authentication"};
  for (const auto& [stage, interceptor] : interceptors_) {
    names.push_back(interceptor->name());
  }
  return names;
}

void Dispatcher::run_interceptors(Invocation& call) const {
  for (const auto& [stage, interceptor] : interceptors_) {
    interceptor->before(call);
  }
}

std::shared_ptr<Service> Dispatcher::find(std::string_view name) const {
  for (const auto& s : services_) {
    if (s->name() == name) {
      return s;
    }
  }
  return nullptr;
}

std::shared_ptr<Service> Dispatcher::route(const RequestHead& head, const sigv4::ParsedAuth& auth,
                                           const QueryParams* query, bool& needs_body) const {
  needs_body = false;
  if (auto target = head.headers.get("x-amz-target")) {
    auto prefix = target->substr(0, target->find('.'));
    for (const auto& s : services_) {
      if (!s->json_target_prefix().empty() && s->json_target_prefix() == prefix) {
        return s;
      }
    }
  }
  if (!auth.service.empty()) {
    // The credential scope names the service: a Query Action never reaches another service that
    // happens to share its name, and a request signed for a service fogbank does not serve must
    // not fall through to S3.
    return find(auth.service);
  }
  if (query != nullptr) {
    if (auto s = by_action(services_, *query)) {
      return s;
    }
  }
  if (head.method == "POST" && is_form(head)) {
    needs_body = true;
    return nullptr;
  }
  for (const auto& s : services_) {
    if (s->claims_unrouted(head)) {
      return s;
    }
  }
  // REST-XML catch-all (S3): path-style and virtual-hosted buckets carry no other hint.
  for (const auto& s : services_) {
    if (s->protocol() == WireProtocol::kRestXml) {
      return s;
    }
  }
  return nullptr;
}

Exchange Dispatcher::begin(RequestHead head_in) const {
  Exchange ex;
  ex.info = std::make_shared<RequestInfo>();
  auto route = std::make_shared<Route>();
  route->dispatcher = this;
  route->info = ex.info;
  route->head = std::make_unique<RequestHead>(std::move(head_in));
  route->ctx = std::make_shared<RequestContext>(*route->head);
  auto& ctx = *route->ctx;
  route->real_now = config_.real_time();
  ctx.clock = config_.clock != nullptr ? config_.clock : &system_clock();
  ctx.now_ms = config_.clock != nullptr ? config_.clock->now_ms() : route->real_now * 1000;
  ctx.now = ctx.now_ms / 1000;
  ctx.region = config_.default_region;

  route->auth = sigv4::parse(*route->head, route->parse_failure, route->parse_message);
  std::optional<QueryParams> query;
  if (!route->head->query.empty()) {
    query = parse_query_string(route->head->query);
  }
  bool needs_body = false;
  route->service = this->route(*route->head, route->auth, query ? &*query : nullptr, needs_body);
  ctx.protocol = route->service ? route->service->protocol_for(*route->head) : WireProtocol::kQuery;
  ctx.request_id = new_request_id(ctx.protocol);
  ex.info->request_id = ctx.request_id;
  // Holds the route (already shared with the sink), so arming it costs no copies per request.
  ex.render_error = [route](const AwsError& error) {
    const auto& c = *route->ctx;
    return render_service_error(route->service.get(), error, c.protocol, c.request_id, c.head.method);
  };

  if (!route->service && !needs_body) {
    std::string what = route->auth.service.empty() ? std::string("this request")
                                                   : "the service '" + route->auth.service + "'";
    ex.immediate = std::make_unique<Response>(generic_error(
        501, "NotImplemented", "fogbank does not implement " + what + " yet.", ctx.request_id));
    return ex;
  }
  Resolution resolution;
  if (route->service) {
    ex.info->service = std::string(route->service->name());
    // Query GETs carry every parameter in the URL; Query POSTs are resolved once the form body
    // was read (BufferedSink).
    if (ctx.protocol == WireProtocol::kQuery && query && !(route->head->method == "POST" && is_form(*route->head))) {
      ctx.params = std::move(query);
    }
    try {
      resolution = route->service->resolve(*route->head, ctx.params ? &*ctx.params : nullptr);
    } catch (const std::exception&) {
      resolution = {};  // the handler resolves again and reports it through the error boundary
    }
    apply(resolution, ctx, *ex.info);
  }
  // A malformed signature is refused before any body is read.
  if (route->auth.kind == sigv4::AuthKind::kNone &&
      route->parse_failure != sigv4::AuthFailure::kMissingAuthentication && route->service) {
    auto err = auth_error(route->parse_failure, ctx.protocol, nullptr, route->parse_message, *route->head);
    ex.immediate = std::make_unique<Response>(
        render_service_error(route->service.get(), err, ctx.protocol, ctx.request_id, ctx.head.method));
    return ex;
  }

  if (route->service && resolution.streams_body) {
    Service& service = *route->service;
    auto started = guarded(config_, &service, ctx, [&]() -> Response {
      auto declared = route->head->headers.get("x-amz-content-sha256");
      std::string payload_hash = declared ? std::string(*declared)
                                          : std::string(sigv4::kUnsignedPayload);
      if (!declared && route->auth.kind == sigv4::AuthKind::kHeader) {
        throw AwsError("InvalidRequest", 400,
                       "Missing required header for this request: x-amz-content-sha256");
      }
      auto verification = route->intercept(payload_hash);
      std::unique_ptr<BodySink> sink = service.begin_stream(route->ctx);
      if (is_hex_sha256(payload_hash)) {
        sink = std::make_unique<Sha256CheckSink>(std::move(sink), payload_hash);
      } else if (auto mode = aws_chunked_mode(payload_hash)) {
        AwsChunkedParams p;
        p.mode = *mode;
        p.signing_key = verification.signing_key;
        p.amz_date = route->auth.amz_date;
        p.scope = route->auth.scope();
        p.seed_signature = route->auth.signature;
        if (auto dl = route->head->headers.get("x-amz-decoded-content-length")) {
          std::uint64_t n = 0;
          auto [end, ec] = std::from_chars(dl->data(), dl->data() + dl->size(), n);
          if (ec != std::errc() || end != dl->data() + dl->size()) {
            throw AwsError("InvalidArgument", 400, "x-amz-decoded-content-length must be a number");
          }
          p.decoded_length = n;
        }
        if (auto tr = route->head->headers.get("x-amz-trailer")) {
          for (auto name : split_list(*tr)) {
            p.expected_trailers.push_back(ascii_lower(name));
          }
        }
        sink = std::make_unique<AwsChunkedDecoder>(
            std::move(sink), std::move(p),
            [ctx = route->ctx.get()](const Headers& trailers) { ctx->trailers = trailers; });
      }
      ex.sink = std::make_unique<GuardedSink>(route, std::move(sink));
      return Response{};
    });
    if (!ex.sink) {
      add_request_id_headers(started, ctx.protocol, ctx.request_id);
      record_outcome(*ex.info, ctx);
      ex.immediate = std::make_unique<Response>(std::move(started));
      return ex;
    }
    ex.body_limit = config_.max_streamed_body + (1 << 20);  // aws-chunked framing overhead
    return ex;
  }

  ex.body_limit = config_.max_buffered_body;
  std::uint64_t announced = 0;
  if (auto length = route->head->headers.get("content-length")) {
    const auto [end, ec] = std::from_chars(length->data(), length->data() + length->size(), announced);
    if (ec != std::errc() || end != length->data() + length->size()) {
      announced = 0;
    }
  }
  ex.sink = std::make_unique<BufferedSink>(route, static_cast<std::size_t>(std::min(announced, ex.body_limit)));
  return ex;
}

Response Dispatcher::error_for(const RequestHead& head, const AwsError& error, std::string_view request_id) const {
  sigv4::AuthFailure failure = sigv4::AuthFailure::kNone;
  std::string message;
  auto auth = sigv4::parse(head, failure, message);
  std::optional<QueryParams> query;
  if (!head.query.empty()) {
    query = parse_query_string(head.query);
  }
  bool needs_body = false;
  auto service = route(head, auth, query ? &*query : nullptr, needs_body);
  auto protocol = service ? service->protocol_for(head) : WireProtocol::kQuery;
  return render_service_error(service.get(), error, protocol, request_id, head.method);
}

Response Dispatcher::generic_error(int status, std::string_view code, std::string_view message,
                                   std::string_view request_id) {
  return render_service_error(nullptr, AwsError(std::string(code), status, std::string(message)),
                              WireProtocol::kQuery, request_id, "POST");
}

std::string Dispatcher::new_request_id(WireProtocol protocol) {
  return protocol == WireProtocol::kRestXml ? random_upper_alnum(16, Randomness::kIdentifier)
                                            : random_uuid(Randomness::kIdentifier);
}

void add_request_id_headers(Response& response, WireProtocol protocol, std::string_view request_id) {
  if (protocol == WireProtocol::kRestXml) {
    response.headers.set("x-amz-request-id", std::string(request_id));
    response.headers.set("x-amz-id-2", base64_encode(std::string(request_id) + std::string(request_id)));
  } else {
    response.headers.set("x-amzn-RequestId", std::string(request_id));
  }
}

}  // namespace fogbank::protocol
