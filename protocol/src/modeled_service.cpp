#include "fogbank/protocol/modeled_service.hpp"

#include <mutex>
#include <stdexcept>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/dispatcher.hpp"
#include "fogbank/protocol/error_render.hpp"
#include "fogbank/protocol/event_stream.hpp"
#include "fogbank/protocol/query.hpp"

namespace fogbank::protocol {

namespace {

WireProtocol protocol_of(const model::ServiceModel& m) {
  if (m.protocol == "query") {
    return WireProtocol::kQuery;
  }
  if (m.protocol == "json") {
    return m.json_version == "1.1" ? WireProtocol::kJson11 : WireProtocol::kJson10;
  }
  if (m.protocol == "rest-xml") {
    return WireProtocol::kRestXml;
  }
  throw std::invalid_argument("model " + m.id + ": protocol " + m.protocol + " has no codec");
}

std::string_view content_type_of(WireProtocol p) {
  switch (p) {
    case WireProtocol::kJson10:
      return "application/x-amz-json-1.0";
    case WireProtocol::kJson11:
      return "application/x-amz-json-1.1";
    case WireProtocol::kCbor:
      return "application/x-amz-cbor-1.1";
    default:
      return "text/xml";
  }
}

/// Waits for a handler's DeferredOutput and answers in the request's protocol, through the same
/// error rendering as the dispatcher's boundary.
class DeferredResponse final : public PendingResponse {
 public:
  DeferredResponse(std::shared_ptr<DeferredOutput> output, std::function<Response(const codec::Value&)> encode,
                   const Service& service, WireProtocol protocol, std::string request_id, std::string method)
      : output_(std::move(output)), encode_(std::move(encode)), service_(service), protocol_(protocol),
        request_id_(std::move(request_id)), method_(std::move(method)) {}

  void start(std::function<void()> wake) override { output_->start(std::move(wake)); }
  std::optional<Response> poll(bool at_deadline) override {
    try {
      auto value = output_->poll(at_deadline);
      if (!value) {
        return std::nullopt;
      }
      auto r = encode_(*value);
      add_request_id_headers(r, protocol_, request_id_);
      return r;
    } catch (const AwsError& e) {
      return render_service_error(&service_, e, protocol_, request_id_, method_);
    } catch (const std::exception&) {
      return render_service_error(&service_, errors::internal_failure(), protocol_, request_id_, method_);
    }
  }
  std::int64_t deadline_ms() const override { return output_->deadline_ms(); }
  void cancel() noexcept override { output_->cancel(); }

 private:
  std::shared_ptr<DeferredOutput> output_;
  std::function<Response(const codec::Value&)> encode_;
  const Service& service_;
  WireProtocol protocol_;
  std::string request_id_;
  std::string method_;
};

/// A piece that is ready at once (the initial-response message).
class ReadyPiece final : public PendingResponse {
 public:
  explicit ReadyPiece(std::string bytes) : bytes_(std::move(bytes)) {}
  void start(std::function<void()> /*wake*/) override {}
  std::optional<Response> poll(bool /*at_deadline*/) override { return Response(200, std::move(bytes_)); }
  std::int64_t deadline_ms() const override { return 0; }
  void cancel() noexcept override {}

 private:
  std::string bytes_;
};

/// An EventSource served as a ResponseStream: each piece is the events one poll produced, framed.
/// The source is started once and keeps one wake for its whole life, which forwards to the wait
/// of the piece in progress (the server gives each piece its own).
class EventStreamBody final : public ResponseStream, public std::enable_shared_from_this<EventStreamBody> {
 public:
  using EncodeEvent = std::function<std::string(const EventSource::Event&)>;
  using EncodeError = std::function<std::string(const AwsError&)>;

  EventStreamBody(std::shared_ptr<EventSource> source, std::string initial, EncodeEvent encode_event,
                  EncodeError encode_error)
      : source_(std::move(source)), initial_(std::move(initial)), encode_event_(std::move(encode_event)),
        encode_error_(std::move(encode_error)), wake_(std::make_shared<WakeSlot>()) {}

  ~EventStreamBody() override { stop(); }

  std::shared_ptr<PendingResponse> next() override {
    if (!sent_initial_) {
      sent_initial_ = true;
      return std::make_shared<ReadyPiece>(std::move(initial_));
    }
    if (finished_) {
      stop();
      return nullptr;
    }
    return std::make_shared<Piece>(shared_from_this());
  }

 private:
  struct WakeSlot {
    std::mutex mu;
    std::function<void()> fn;
    void call() {
      std::function<void()> f;
      {
        std::lock_guard lock(mu);
        f = fn;
      }
      if (f) {
        f();
      }
    }
    void set(std::function<void()> f) {
      std::lock_guard lock(mu);
      fn = std::move(f);
    }
  };

  class Piece final : public PendingResponse {
   public:
    explicit Piece(std::shared_ptr<EventStreamBody> body) : body_(std::move(body)) {}
    void start(std::function<void()> wake) override {
      body_->wake_->set(std::move(wake));
      if (!body_->started_) {
        body_->started_ = true;
        body_->source_->start([slot = body_->wake_] { slot->call(); });
      }
    }
    std::optional<Response> poll(bool at_deadline) override { return body_->poll(at_deadline); }
    std::int64_t deadline_ms() const override { return body_->source_->deadline_ms(); }
    void cancel() noexcept override { body_->wake_->set(nullptr); }

   private:
    std::shared_ptr<EventStreamBody> body_;
  };

  std::optional<Response> poll(bool at_deadline) {
    std::string bytes;
    try {
      bool finished = false;
      for (const auto& event : source_->poll(at_deadline, finished)) {
        bytes += encode_event_(event);
      }
      finished_ = finished;
    } catch (const AwsError& e) {
      bytes += encode_error_(e);
      finished_ = true;
    } catch (const std::exception&) {
      bytes += encode_error_(errors::internal_failure());
      finished_ = true;
    }
    if (bytes.empty() && !finished_ && !at_deadline) {
      return std::nullopt;
    }
    return Response(200, std::move(bytes));
  }

  void stop() noexcept {
    if (started_ && !cancelled_) {
      cancelled_ = true;
      source_->cancel();
    }
  }

  std::shared_ptr<EventSource> source_;
  std::string initial_;
  EncodeEvent encode_event_;
  EncodeError encode_error_;
  std::shared_ptr<WakeSlot> wake_;
  bool sent_initial_ = false;
  bool started_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

}  // namespace

ModeledService::ModeledService(ModeledServiceSpec spec)
    : spec_(std::move(spec)), model_(model::get(spec_.model)), primary_protocol_(protocol_of(model_)) {
  if (!spec_.query_model.empty()) {
    query_model_ = &model::get(spec_.query_model);
  } else if (model_.protocol == "query") {
    query_model_ = &model_;
  }
  for (const auto& [name, handler] : spec_.operations) {
    if (model_.operation(name) == nullptr) {
      throw std::invalid_argument("service " + spec_.name + ": operation " + name + " is not in its model");
    }
  }
  for (const auto& [name, direct] : spec_.json_direct) {
    if (!spec_.operations.contains(name)) {
      throw std::invalid_argument("service " + spec_.name + ": direct path " + name + " has no handler");
    }
  }
}

WireProtocol ModeledService::protocol_for(const RequestHead& head) const {
  if (primary_protocol_ == WireProtocol::kQuery) {
    return WireProtocol::kQuery;
  }
  auto ct = head.headers.get("content-type").value_or("");
  if (ct.starts_with("application/x-amz-cbor-1.1")) {
    return WireProtocol::kCbor;
  }
  if (query_model_ != nullptr && !head.headers.has("x-amz-target")) {
    return WireProtocol::kQuery;  // the legacy form of an awsQueryCompatible service
  }
  return primary_protocol_;
}

std::string_view ModeledService::xml_namespace() const {
  return query_model_ != nullptr ? std::string_view(query_model_->xml_namespace)
                                 : std::string_view(model_.xml_namespace);
}

bool ModeledService::has_action(std::string_view action) const {
  return query_model_ != nullptr && model_.operation(action) != nullptr;
}

std::string ModeledService::query_compatible_code(const AwsError& error) const {
  // The Query code of a modeled error is the "error" trait of its shape in the Query model
  // (QueueDoesNotExist → AWS.SimpleQueueService.NonExistentQueue).
  if (query_model_ == nullptr || (query_model_ != &model_ && !model_.query_compatible)) {
    return {};
  }
  const auto* shape = query_model_->shape(error.code);
  if (shape != nullptr && shape->exception && shape->error && !shape->error->code.empty()) {
    return shape->error->code;
  }
  return query_model_ == &model_ ? std::string() : error.code;
}

Resolution ModeledService::resolve(const RequestHead& head, const QueryParams* params) const {
  Resolution r;
  if (auto target = head.headers.get("x-amz-target")) {
    auto dot = target->find('.');
    if (dot != std::string_view::npos && target->substr(0, dot) == model_.target_prefix) {
      r.operation = std::string(target->substr(dot + 1));
    }
  } else if (params != nullptr) {
    if (const std::string* action = find_param(*params, "Action")) {
      r.operation = *action;
    }
  }
  if (!r.operation.empty()) {
    r.iam_action = model_.signing_name + ":" + r.operation;
  }
  return r;
}

const model::Operation& ModeledService::operation_for(std::string_view name, WireProtocol protocol) const {
  if (protocol == WireProtocol::kQuery && query_model_ != nullptr) {
    if (const auto* op = query_model_->operation(name)) {
      return *op;
    }
  }
  // Operations newer than the legacy Query model fall back to the current shapes, whose wire
  // names are their member names.
  return *model_.operation(name);
}

Response ModeledService::encode(const model::Operation& op, WireProtocol protocol, const codec::Value& output,
                                std::string_view request_id) const {
  switch (protocol) {
    case WireProtocol::kQuery: {
      const auto& m = query_model_ != nullptr && query_model_->operation(op.name) == &op ? *query_model_ : model_;
      return Response(200, codec::encode_query_response(m, op, output, request_id), "text/xml");
    }
    case WireProtocol::kCbor:
      return Response(200, codec::encode_cbor(op.output, output), std::string(content_type_of(protocol)));
    case WireProtocol::kJson10:
    case WireProtocol::kJson11:
      return Response(200, codec::encode_json(op.output, output), std::string(content_type_of(protocol)));
    case WireProtocol::kRestXml:
      break;
  }
  throw std::logic_error("REST-XML operations are not served by ModeledService");
}

Response ModeledService::event_stream(const model::Operation& op, WireProtocol protocol, const codec::Value& initial,
                                      std::shared_ptr<EventSource> source, std::string_view request_id) const {
  if (protocol != WireProtocol::kJson10 && protocol != WireProtocol::kJson11 && protocol != WireProtocol::kCbor) {
    throw std::logic_error("event streams are served over JSON and CBOR only");
  }
  const bool cbor = protocol == WireProtocol::kCbor;
  // Event payloads are documents of the protocol's format: plain JSON, or CBOR.
  const std::string payload_type = cbor ? "application/cbor" : "application/json";
  const model::Shape* stream_shape = nullptr;
  if (op.output != nullptr) {
    for (const auto& m : op.output->members) {
      if (m.shape != nullptr && m.shape->event_stream) {
        stream_shape = m.shape;
      }
    }
  }
  if (stream_shape == nullptr) {
    throw std::logic_error("operation " + op.name + " has no event stream output");
  }
  auto encode_doc = [cbor](const model::Shape* shape, const codec::Value& v) {
    return cbor ? codec::encode_cbor(shape, v) : codec::encode_json(shape, v);
  };
  std::string initial_bytes =
      eventstream::event("initial-response", payload_type, encode_doc(op.output, initial));
  auto encode_event = [stream_shape, payload_type, encode_doc](const EventSource::Event& e) {
    const model::Member* member = stream_shape->find(e.type);
    if (member == nullptr) {
      throw std::logic_error("event " + e.type + " is not in its event stream");
    }
    if (member->shape != nullptr && member->shape->exception) {
      return eventstream::exception(e.type, payload_type, encode_doc(member->shape, e.value));
    }
    return eventstream::event(e.type, payload_type, encode_doc(member->shape, e.value));
  };
  auto encode_error = [stream_shape, payload_type, encode_doc, cbor](const AwsError& e) {
    // A modeled exception of the stream keeps its name; anything else is the stream's internal failure.
    const model::Member* member = stream_shape->find(e.code);
    if (member == nullptr) {
      member = stream_shape->find("InternalFailureException");
    }
    const codec::Value body = {{"message", e.message}};
    if (member == nullptr || member->shape == nullptr) {
      return eventstream::exception("InternalFailureException", payload_type, cbor ? std::string("\xA0", 1) : "{}");
    }
    return eventstream::exception(member->name, payload_type, encode_doc(member->shape, body));
  };
  Response r(200, {}, "application/vnd.amazon.eventstream");
  r.stream = std::make_shared<EventStreamBody>(std::move(source), std::move(initial_bytes), std::move(encode_event),
                                               std::move(encode_error));
  add_request_id_headers(r, protocol, request_id);
  return r;
}

Response ModeledService::handle(RequestContext& ctx, std::string body) {
  const WireProtocol protocol = protocol_for(ctx.head);
  if (protocol == WireProtocol::kQuery && !ctx.params) {
    ctx.params = query::collect_params(ctx.head.query, body);
  }
  if (ctx.operation.empty()) {
    ctx.operation = resolve(ctx.head, ctx.params ? &*ctx.params : nullptr).operation;
  }
  const std::string& name = ctx.operation;
  if (name.empty() || model_.operation(name) == nullptr) {
    if (protocol == WireProtocol::kQuery) {
      if (name.empty()) {
        throw AwsError("MissingAction", 400, "Missing Action");
      }
      throw AwsError("InvalidAction", 400, "The action " + name + " is not valid for this endpoint.");
    }
    auto target = ctx.head.headers.get("x-amz-target").value_or("");
    throw AwsError("UnknownOperationException", 400, "Unknown operation " + std::string(target));
  }
  auto handler = spec_.operations.find(name);
  if (handler == spec_.operations.end()) {
    throw errors::not_implemented("fogbank does not implement " + model_.service_id + " " + name + " yet.");
  }
  const model::Operation& op = operation_for(name, protocol);
  if (protocol == WireProtocol::kJson10 || protocol == WireProtocol::kJson11) {
    if (auto direct = spec_.json_direct.find(name); direct != spec_.json_direct.end()) {
      Call call{ctx, op, nullptr, nullptr};
      if (auto out = direct->second(body, call)) {
        return Response(200, std::move(*out), std::string(content_type_of(protocol)));
      }
    }
  }

  codec::Value input;
  switch (protocol) {
    case WireProtocol::kQuery:
      input = codec::decode_query(op.input, *ctx.params);
      break;
    case WireProtocol::kCbor:
      input = codec::decode_cbor(op.input, body);
      break;
    default:
      input = codec::decode_json(op.input, body);
      break;
  }
  if (spec_.validate) {
    // Constraints live in the current model (the legacy Query model of SQS carries few).
    codec::validate(model_.operation(name)->input, input, spec_.validation);
  }

  Call call{ctx, op, nullptr, nullptr};
  codec::Value output = handler->second(std::move(input), call);
  if (call.events) {
    return event_stream(op, protocol, output, std::move(call.events), ctx.request_id);
  }
  if (call.deferred) {
    Response placeholder;
    placeholder.pending = std::make_shared<DeferredResponse>(
        std::move(call.deferred),
        [this, &op, protocol, rid = ctx.request_id](const codec::Value& out) { return encode(op, protocol, out, rid); },
        *this, protocol, ctx.request_id, ctx.head.method);
    return placeholder;
  }
  return encode(op, protocol, output, ctx.request_id);
}

}  // namespace fogbank::protocol
