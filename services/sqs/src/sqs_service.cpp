#include "fogbank/sqs/sqs_service.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "errors.hpp"
#include "fogbank/protocol/dispatcher.hpp"
#include "fogbank/protocol/error_render.hpp"
#include "fogbank/protocol/query.hpp"
#include "handlers.hpp"
#include "query_codec.hpp"
#include "queue_engine.hpp"

namespace fogbank::sqs {

using nlohmann::json;
using protocol::RequestContext;
using protocol::Response;
using protocol::WireProtocol;

namespace {

constexpr std::string_view kXmlns = "http://queue.amazonaws.com/doc/2012-11-05/";
constexpr std::string_view kTargetPrefix = "AmazonSQS";

std::int64_t system_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_json_request(const protocol::RequestHead& head) { return head.headers.has("x-amz-target"); }

/// Everything needed to answer a call, copied out of the RequestContext so that a long poll can
/// answer after the request pipeline has moved on.
struct Exchange {
  std::string action;
  WireProtocol protocol = WireProtocol::kJson10;
  std::string request_id;
  json input;
  std::string account;
  std::string region;
  std::string base_url;
  std::string path;
  std::string sender_id;
};

Response render_result(const Exchange& ex, const json& out) {
  Response r;
  if (ex.protocol == WireProtocol::kQuery) {
    r = Response(200, json_to_query_xml(ex.action, out, kXmlns, ex.request_id), "text/xml");
  } else {
    r = Response(200, out.dump(), "application/x-amz-json-1.0");
  }
  protocol::add_request_id_headers(r, ex.protocol, ex.request_id);
  return r;
}

Response render_failure(const Exchange& ex, const AwsError& error) {
  // Same rendering as the dispatcher's catch boundary, for answers produced after it (long polls).
  Response r;
  if (ex.protocol == WireProtocol::kQuery) {
    AwsError as_query = error;
    as_query.code = query_code(error.code);
    r = protocol::render_error(as_query, WireProtocol::kQuery, ex.request_id, kXmlns);
  } else {
    r = protocol::render_error(error, ex.protocol, ex.request_id, kXmlns, "POST", query_code(error.code));
  }
  protocol::add_request_id_headers(r, ex.protocol, ex.request_id);
  return r;
}

/// Runs `action`'s handler once for `ex`.
Call run(const Exchange& ex, QueueEngine& engine) {
  Call call{.in = ex.input,
            .engine = engine,
            .account = ex.account,
            .region = ex.region,
            .base_url = ex.base_url,
            .path = ex.path,
            .sender_id = ex.sender_id,
            .out = json::object(),
            .wait_seconds = 0,
            .wait_queue = {}};
  operations().at(ex.action)(call);
  return call;
}

/// A ReceiveMessage long poll: registered as a waiter on its queue, it receives again whenever
/// the queue wakes it (a send, a visibility reset) and at the deadline answers with what there is.
class PendingReceive final : public protocol::PendingResponse {
 public:
  PendingReceive(std::shared_ptr<QueueEngine> engine, Exchange ex, QueueId queue, std::int64_t wait_seconds)
      : engine_(std::move(engine)), ex_(std::move(ex)), queue_(std::move(queue)),
        deadline_(std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds)) {}

  void start(std::function<void()> wake) override { waiter_ = engine_->add_waiter(queue_, std::move(wake)); }

  std::optional<Response> poll(bool at_deadline) override {
    try {
      Call call = run(ex_, *engine_);
      if (call.out.contains("Messages") || at_deadline) {
        return render_result(ex_, call.out);
      }
      return std::nullopt;
    } catch (const AwsError& e) {
      return render_failure(ex_, e);  // e.g. the queue was deleted while we waited
    } catch (const std::exception&) {
      return render_failure(ex_, protocol::errors::internal_failure());
    }
  }

  std::chrono::steady_clock::time_point deadline() const override { return deadline_; }

  void cancel() noexcept override {
    if (waiter_ != 0) {
      engine_->remove_waiter(queue_, waiter_);
      waiter_ = 0;
    }
  }

 private:
  std::shared_ptr<QueueEngine> engine_;
  Exchange ex_;
  QueueId queue_;
  std::chrono::steady_clock::time_point deadline_;
  std::uint64_t waiter_ = 0;
};

class SqsService final : public protocol::Service {
 public:
  SqsService(storage::Store& store, Clock clock)
      : engine_(std::make_shared<QueueEngine>(store, clock ? std::move(clock) : Clock(system_ms))) {
    engine_->load();
  }

  std::string_view name() const override { return "sqs"; }
  WireProtocol protocol() const override { return WireProtocol::kJson10; }
  WireProtocol protocol_for(const protocol::RequestHead& head) const override {
    return is_json_request(head) ? WireProtocol::kJson10 : WireProtocol::kQuery;
  }
  std::string_view xml_namespace() const override { return kXmlns; }
  std::string_view json_target_prefix() const override { return kTargetPrefix; }
  bool has_action(std::string_view action) const override { return operations().count(action) > 0; }
  std::string query_compatible_code(const AwsError& error) const override { return query_code(error.code); }
  void reset() override { engine_->reset(); }

  Response handle(RequestContext& ctx, std::string body) override {
    Exchange ex;
    ex.request_id = ctx.request_id;
    if (is_json_request(ctx.head)) {
      auto target = *ctx.head.headers.get("x-amz-target");
      auto dot = target.find('.');
      if (dot == std::string_view::npos || target.substr(0, dot) != kTargetPrefix) {
        throw AwsError("UnknownOperationException", 400, "Unknown operation " + std::string(target));
      }
      ex.action = std::string(target.substr(dot + 1));
      ex.protocol = WireProtocol::kJson10;
      ex.input = body.empty() ? json::object() : json::parse(body);
      if (!ex.input.is_object()) {
        throw AwsError("SerializationException", 400, "Start of structure or map found where not expected.");
      }
    } else {
      ex.protocol = WireProtocol::kQuery;
      auto params = protocol::query::collect_params(ctx.head.query, body);
      const std::string* action = protocol::find_param(params, "Action");
      if (action == nullptr) {
        throw AwsError("MissingAction", 400, "Missing Action");
      }
      ex.action = *action;
      if (operations().count(ex.action) == 0) {
        throw AwsError("InvalidAction", 400,
                       "The action " + ex.action + " is not valid for this endpoint.");
      }
      ex.input = query_to_json(ex.action, params);
    }
    ctx.operation = ex.action;
    if (operations().count(ex.action) == 0) {
      throw AwsError("UnknownOperationException", 400, "Unknown operation " + ex.action);
    }
    ex.account = ctx.account_id;
    ex.region = ctx.region;
    auto host = ctx.head.headers.get("host").value_or("localhost");
    ex.base_url = std::string(ctx.head.tls ? "https://" : "http://") + std::string(host);
    ex.path = ctx.head.path;
    ex.sender_id = ctx.caller.user_id.empty() ? ctx.account_id : ctx.caller.user_id;

    Call call = run(ex, *engine_);
    if (ex.action == "ReceiveMessage" && !call.out.contains("Messages") && call.wait_seconds > 0) {
      // Nothing to receive yet: answer later (the server waits without holding a thread).
      Response placeholder;
      placeholder.pending = std::make_shared<PendingReceive>(engine_, std::move(ex), call.wait_queue, call.wait_seconds);
      return placeholder;
    }
    return render_result(ex, call.out);
  }

 private:
  std::shared_ptr<QueueEngine> engine_;
};

}  // namespace

std::shared_ptr<protocol::Service> make_sqs_service(storage::Store& store, Clock clock) {
  return std::make_shared<SqsService>(store, std::move(clock));
}

}  // namespace fogbank::sqs
