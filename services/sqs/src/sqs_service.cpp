#include "fogbank/sqs/sqs_service.hpp"

#include <nlohmann/json.hpp>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/modeled_service.hpp"
#include "handlers.hpp"
#include "message_sink_impl.hpp"
#include "queue_engine.hpp"

namespace fogbank::sqs {

using nlohmann::json;
using protocol::codec::Value;

namespace {

/// What a handler call needs about its caller, copied out of the RequestContext so that a long
/// poll can run the call again after the request pipeline has moved on.
struct Caller {
  std::string account;
  std::string region;
  std::string base_url;
  std::string path;
  std::string sender_id;
  std::string arn;

  explicit Caller(const protocol::RequestContext& ctx)
      : account(ctx.account_id), region(ctx.region), path(ctx.head.path),
        sender_id(ctx.caller.user_id.empty() ? ctx.account_id : ctx.caller.user_id), arn(ctx.caller.arn) {
    auto host = ctx.head.headers.get("host").value_or("localhost");
    base_url = std::string(ctx.head.tls ? "https://" : "http://") + std::string(host);
  }
};

Call run(Handler handler, const Value& in, const Caller& caller, QueueEngine& engine) {
  Call call{.in = in,
            .engine = engine,
            .account = caller.account,
            .region = caller.region,
            .base_url = caller.base_url,
            .path = caller.path,
            .sender_id = caller.sender_id,
            .caller_arn = caller.arn,
            .out = json::object(),
            .wait_seconds = 0,
            .wait_queue = {}};
  handler(call);
  return call;
}

/// A ReceiveMessage long poll: registered as a waiter on its queue, it receives again whenever
/// the queue wakes it (a send, a visibility reset) or the clock moves (a virtual clock's advance
/// can make delayed messages visible), and at the deadline answers with what there is.
class ReceiveWait final : public protocol::DeferredOutput {
 public:
  ReceiveWait(std::shared_ptr<QueueEngine> engine, const protocol::Clock& clock, Value in, Caller caller,
              QueueId queue, std::int64_t deadline_ms)
      : engine_(std::move(engine)), clock_(clock), in_(std::move(in)), caller_(std::move(caller)),
        queue_(std::move(queue)), deadline_ms_(deadline_ms) {}

  void start(std::function<void()> wake) override {
    waiter_ = engine_->add_waiter(queue_, wake);
    clock_subscription_ = const_cast<protocol::Clock&>(clock_).subscribe(std::move(wake));
  }

  std::optional<Value> poll(bool at_deadline) override {
    Call call = run(operations().at("ReceiveMessage"), in_, caller_, *engine_);
    if (call.out.contains("Messages") || at_deadline) {
      return std::move(call.out);
    }
    return std::nullopt;
  }

  std::int64_t deadline_ms() const override { return deadline_ms_; }

  void cancel() noexcept override {
    if (waiter_ != 0) {
      engine_->remove_waiter(queue_, waiter_);
      waiter_ = 0;
    }
    if (clock_subscription_ != 0) {
      const_cast<protocol::Clock&>(clock_).unsubscribe(clock_subscription_);
      clock_subscription_ = 0;
    }
  }

 private:
  std::shared_ptr<QueueEngine> engine_;
  const protocol::Clock& clock_;
  Value in_;
  Caller caller_;
  QueueId queue_;
  std::int64_t deadline_ms_;
  std::uint64_t waiter_ = 0;
  std::uint64_t clock_subscription_ = 0;
};

protocol::ModeledServiceSpec spec(const std::shared_ptr<QueueEngine>& engine, const protocol::Clock& clock) {
  protocol::ModeledServiceSpec s;
  s.name = "sqs";
  s.model = "sqs";
  s.query_model = "sqs-query";
  s.json_type_namespace = "com.amazonaws.sqs";
  // SQS words its own parameter errors (InvalidParameterValue, MissingParameter); the handlers
  // check them, as AWS does, with SQS's messages.
  s.validate = false;
  for (const auto& [name, handler] : operations()) {
    s.operations.emplace(name, [engine, &clock, handler = handler](Value in, protocol::Call& pc) -> Value {
      Caller caller(pc.ctx);
      Call call = run(handler, in, caller, *engine);
      if (call.wait_seconds > 0 && !call.out.contains("Messages")) {
        // Nothing to receive yet: answer later (the server waits without holding a thread).
        pc.defer(std::make_shared<ReceiveWait>(engine, clock, std::move(in), std::move(caller), call.wait_queue,
                                               clock.now_ms() + call.wait_seconds * 1000));
      }
      return std::move(call.out);
    });
  }
  return s;
}

class SqsService final : public protocol::ModeledService {
 public:
  SqsService(std::shared_ptr<QueueEngine> engine, const protocol::Clock& clock)
      : ModeledService(spec(engine, clock)), engine_(std::move(engine)) {}

  void reset() override { engine_->reset(); }

 private:
  std::shared_ptr<QueueEngine> engine_;
};

Sqs make(storage::Store& store, const protocol::Clock& clock) {
  auto engine = std::make_shared<QueueEngine>(store, [&clock] { return clock.now_ms(); });
  engine->load();
  auto sink = make_message_sink(engine);
  return {std::make_shared<SqsService>(std::move(engine), clock), std::move(sink)};
}

}  // namespace

Sqs make_sqs(const protocol::Platform& platform) { return make(platform.store, platform.clock); }

Sqs make_sqs(storage::Store& store, const protocol::Clock& clock) { return make(store, clock); }

std::shared_ptr<protocol::Service> make_sqs_service(const protocol::Platform& platform) {
  return make(platform.store, platform.clock).service;
}

std::shared_ptr<protocol::Service> make_sqs_service(storage::Store& store, const protocol::Clock& clock) {
  return make(store, clock).service;
}

}  // namespace fogbank::sqs
