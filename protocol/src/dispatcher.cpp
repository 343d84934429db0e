#include "fogbank/protocol/dispatcher.hpp"

#include <charconv>
#include <chrono>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_chunked.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/error_render.hpp"
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

/// The error a service's protocol gives for a request that failed before or inside a handler.
Response render_for(const Service* service, const AwsError& error, const RequestContext& ctx) {
  if (service == nullptr) {
    return Dispatcher::generic_error(error.status, error.code, error.message, ctx.request_id);
  }
  const auto protocol = service->protocol_for(ctx.head);
  auto query_code = service->query_compatible_code(error);
  if (protocol == WireProtocol::kQuery && !query_code.empty() && query_code != error.code) {
    // An awsQueryCompatible service answering a Query request uses its Query error codes.
    AwsError as_query = error;
    as_query.code = std::move(query_code);
    return render_error(as_query, protocol, ctx.request_id, service->xml_namespace(), ctx.head.method);
  }
  return render_error(error, protocol, ctx.request_id, service->xml_namespace(), ctx.head.method,
                      protocol == WireProtocol::kQuery ? std::string_view{} : std::string_view(query_code));
}

/// Runs `body` and turns every exception into the service's error response.
template <class F>
Response guarded(const Service* service, const RequestContext& ctx, F&& body) {
  try {
    return body();
  } catch (const AwsError& e) {
    return render_for(service, e, ctx);
  } catch (const nlohmann::json::exception& e) {
    const auto protocol = service != nullptr ? service->protocol_for(ctx.head) : WireProtocol::kQuery;
    bool json = protocol == WireProtocol::kJson10 || protocol == WireProtocol::kJson11;
    return render_for(service,
                      json ? AwsError("SerializationException", 400, "Start of structure or map found where not expected.")
                           : errors::validation_error(e.what()),
                      ctx);
  } catch (const std::exception& e) {
    return render_for(service, errors::internal_failure(), ctx);
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

  // Authenticates ctx against `payload_hash`; throws the service's AwsError on failure.
  sigv4::Verification authenticate(std::string_view payload_hash) {
    const auto& cfg = dispatcher->config_;
    const auto protocol = service->protocol_for(*head);
    auto fail = [&](sigv4::AuthFailure f, const sigv4::Verification* v, std::string_view detail) {
      throw auth_error(f, protocol, v, detail, *head);
    };
    sigv4::Verification v;
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
      auto style = service->name() == "s3" ? sigv4::PathStyle::kS3 : sigv4::PathStyle::kDoubleEncode;
      v = sigv4::verify(*head, auth, *dispatcher->keys_, payload_hash, style, ctx->now);
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
    return v;
  }
};

namespace {

/// Buffered requests: collect the body (the server enforces the size limit), then route (by
/// Action for form posts), verify with the body's hash and call the handler.
class BufferedSink final : public BodySink {
 public:
  explicit BufferedSink(std::shared_ptr<Dispatcher::Route> route) : route_(std::move(route)) {}
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
    } catch (const std::exception&) {
      error_ = std::make_unique<AwsError>(errors::internal_failure());
    }
  }
  bool failed() const noexcept override { return error_ != nullptr; }
  Response finish() override {
    done_ = true;
    auto& ctx = *route_->ctx;
    if (error_) {
      inner_->abort();
      auto r = render_for(route_->service.get(), *error_, ctx);
      add_request_id_headers(r, route_->service->protocol(), ctx.request_id);
      r.close_connection = true;  // the rest of the body was not read
      return r;
    }
    auto r = guarded(route_->service.get(), ctx, [&] { return inner_->finish(); });
    route_->info->operation = ctx.operation;
    add_request_id_headers(r, route_->service->protocol(), ctx.request_id);
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

Response BufferedSink::finish() {
  auto& route = *route_;
  auto& ctx = *route.ctx;
  const Dispatcher& d = *route.dispatcher;
  if (!route.service) {
    // Query-protocol POSTs carry their Action in the form body.
    auto params = parse_query_string(body_);
    const std::string* action = params ? find_param(*params, "Action") : nullptr;
    if (action != nullptr) {
      for (const auto& s : d.services()) {
        if (s->has_action(*action)) {
          route.service = s;
          break;
        }
      }
    }
    if (!route.service) {
      return Dispatcher::generic_error(400, "InvalidAction",
                                       "Could not find a service for this request.", ctx.request_id);
    }
  }
  route.info->service = std::string(route.service->name());
  Service& service = *route.service;
  auto response = guarded(&service, ctx, [&] {
    auto computed = hex(sha256(body_));
    auto header = route.head->headers.get("x-amz-content-sha256");
    std::string payload_hash = computed;
    if (header) {
      if (is_hex_sha256(*header) && !iequals(*header, computed)) {
        throw auth_error(sigv4::AuthFailure::kPayloadHashMismatch, service.protocol_for(ctx.head), nullptr, {},
                         *route.head);
      }
      payload_hash = std::string(*header);  // S3 signs the header value, UNSIGNED-PAYLOAD included
    } else if (route.auth.kind == sigv4::AuthKind::kPresigned && service.name() == "s3") {
      payload_hash = std::string(sigv4::kUnsignedPayload);  // S3 presigned URLs never sign a body
    }
    route.authenticate(payload_hash);
    return service.handle(ctx, std::move(body_));
  });
  route.info->operation = ctx.operation;
  add_request_id_headers(response, service.protocol_for(ctx.head), ctx.request_id);
  return response;
}

}  // namespace

Dispatcher::Dispatcher(DispatcherConfig config, std::shared_ptr<const sigv4::CredentialLookup> keys)
    : config_(std::move(config)), keys_(std::move(keys)) {
  if (!config_.clock) {
    config_.clock = system_now;
  }
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::add(std::shared_ptr<Service> service) { services_.push_back(std::move(service)); }

std::shared_ptr<Service> Dispatcher::find(std::string_view name) const {
  for (const auto& s : services_) {
    if (s->name() == name) {
      return s;
    }
  }
  return nullptr;
}

std::shared_ptr<Service> Dispatcher::route(const RequestHead& head, const sigv4::ParsedAuth& auth,
                                           bool& needs_body) const {
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
    // A request signed for a service fogbank does not serve must not fall through to S3.
    return find(auth.service);
  }
  if (auto params = parse_query_string(head.query)) {
    if (const std::string* action = find_param(*params, "Action")) {
      for (const auto& s : services_) {
        if (s->has_action(*action)) {
          return s;
        }
      }
    }
  }
  if (head.method == "POST" && is_form(head)) {
    needs_body = true;
    return nullptr;
  }
  return find("s3");  // REST-XML catch-all: path-style and virtual-hosted buckets
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
  ctx.now = config_.clock();
  ctx.region = config_.default_region;

  route->auth = sigv4::parse(*route->head, route->parse_failure, route->parse_message);
  bool needs_body = false;
  route->service = this->route(*route->head, route->auth, needs_body);
  auto protocol = route->service ? route->service->protocol_for(*route->head) : WireProtocol::kQuery;
  ctx.request_id = new_request_id(protocol);
  ex.info->request_id = ctx.request_id;

  if (!route->service && !needs_body) {
    std::string what = route->auth.service.empty() ? std::string("this request")
                                                   : "the service '" + route->auth.service + "'";
    ex.immediate = std::make_unique<Response>(generic_error(
        501, "NotImplemented", "fogbank does not implement " + what + " yet.", ctx.request_id));
    return ex;
  }
  if (route->service) {
    ex.info->service = std::string(route->service->name());
  }
  // A malformed signature is refused before any body is read.
  if (route->auth.kind == sigv4::AuthKind::kNone &&
      route->parse_failure != sigv4::AuthFailure::kMissingAuthentication && route->service) {
    auto err = auth_error(route->parse_failure, protocol, nullptr, route->parse_message, *route->head);
    ex.immediate = std::make_unique<Response>(render_for(route->service.get(), err, ctx));
    add_request_id_headers(*ex.immediate, protocol, ctx.request_id);
    return ex;
  }

  if (route->service && route->service->streams_body(*route->head)) {
    Service& service = *route->service;
    auto started = guarded(&service, ctx, [&]() -> Response {
      auto declared = route->head->headers.get("x-amz-content-sha256");
      std::string payload_hash = declared ? std::string(*declared)
                                          : std::string(sigv4::kUnsignedPayload);
      if (!declared && route->auth.kind == sigv4::AuthKind::kHeader) {
        throw AwsError("InvalidRequest", 400,
                       "Missing required header for this request: x-amz-content-sha256");
      }
      auto verification = route->authenticate(payload_hash);
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
      add_request_id_headers(started, protocol, ctx.request_id);
      ex.info->operation = ctx.operation;
      ex.immediate = std::make_unique<Response>(std::move(started));
      return ex;
    }
    ex.body_limit = config_.max_streamed_body + (1 << 20);  // aws-chunked framing overhead
    return ex;
  }

  ex.sink = std::make_unique<BufferedSink>(route);
  ex.body_limit = config_.max_buffered_body;
  return ex;
}

Response Dispatcher::generic_error(int status, std::string_view code, std::string_view message,
                                   std::string_view request_id) {
  Response r = render_error(AwsError(std::string(code), status, std::string(message)),
                            WireProtocol::kQuery, request_id);
  add_request_id_headers(r, WireProtocol::kQuery, request_id);
  return r;
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
