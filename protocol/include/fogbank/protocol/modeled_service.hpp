#pragma once
// A service whose wire format comes entirely from its AWS model: the pipeline resolves the
// operation, the protocol's codec decodes and validates the input, the handler turns the input
// value into the output value (or throws AwsError), and the codec encodes the result. Adding an
// operation is one line in the service's table and one handler.
//
//   ModeledServiceSpec spec;
//   spec.name = "sqs"; spec.model = "sqs"; spec.query_model = "sqs-query";
//   spec.operations = {{"SendMessage", send_message}, ...};
//
// Operations the model has and the table lacks answer NotImplemented.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/protocol/service.hpp"

namespace fogbank::protocol {

/// An answer that is not ready yet (a long poll). The handler hands one to Call::defer() and
/// returns; the pipeline then waits without holding a thread (see PendingResponse) and encodes
/// the value poll() finally returns in the request's protocol, or renders the AwsError it throws.
class DeferredOutput {
 public:
  virtual ~DeferredOutput() = default;
  /// Registers `wake` (callable from any thread until cancel() returns).
  virtual void start(std::function<void()> wake) = 0;
  /// The output, or nullopt to keep waiting; must return a value when `at_deadline`.
  [[nodiscard]] virtual std::optional<codec::Value> poll(bool at_deadline) = 0;
  /// Clock time (Clock::now_ms) at which poll(true) is due.
  [[nodiscard]] virtual std::int64_t deadline_ms() const = 0;
  virtual void cancel() noexcept = 0;
};

/// The events of an operation whose output is an event stream (Kinesis SubscribeToShard). The
/// handler returns the initial response (the output's other members) and hands a source to
/// Call::stream(); the pipeline sends the `initial-response` message at once, then each event as
/// the source produces it, framed as AWS's event stream and encoded in the request's protocol.
///
/// Lifecycle: start(wake) once before the first poll; poll after each wake and whenever the clock
/// reaches deadline_ms(); cancel() once at the end (the source finished, the client left or the
/// server stops). Never called concurrently with each other; `wake` may be called from any thread
/// until cancel() returns.
class EventSource {
 public:
  struct Event {
    std::string type;  ///< a member of the event stream: "SubscribeToShardEvent", or an exception's name
    codec::Value value;
  };
  virtual ~EventSource() = default;
  virtual void start(std::function<void()> wake) = 0;
  /// The events ready now, possibly none; sets `finished` when these are the last. `at_deadline`:
  /// the clock reached deadline_ms(). An AwsError thrown here ends the stream with an exception
  /// message of that code.
  [[nodiscard]] virtual std::vector<Event> poll(bool at_deadline, bool& finished) = 0;
  /// Clock time (Clock::now_ms) of the next poll(true); read again after every poll.
  [[nodiscard]] virtual std::int64_t deadline_ms() const = 0;
  virtual void cancel() noexcept = 0;
};

/// What a handler knows about its call besides the input value.
struct Call {
  RequestContext& ctx;
  const model::Operation& operation;
  /// Set by a handler that answers later (the returned value is then ignored).
  std::shared_ptr<DeferredOutput> deferred;
  /// Set by a handler whose output is an event stream (the returned value is the initial response).
  std::shared_ptr<EventSource> events;

  void defer(std::shared_ptr<DeferredOutput> output) { deferred = std::move(output); }
  void stream(std::shared_ptr<EventSource> source) { events = std::move(source); }
};

/// The handler convention of every modeled service.
using Handler = std::function<codec::Value(codec::Value input, Call& call)>;
using OperationTable = std::map<std::string, Handler, std::less<>>;

/// A hot operation's direct path for JSON requests: it reads the body and writes the answer
/// itself, skipping the generic value (Kinesis PutRecords/GetRecords, whose bodies are mostly
/// blobs). It returns nullopt for any request it does not fully understand, and the request then
/// takes the generic path: every error keeps the codec's and the validator's exact wording, and
/// the answer it does write must be byte-for-byte the one the codec would (its tests compare).
using DirectHandler = std::function<std::optional<std::string>(std::string_view body, Call& call)>;

struct ModeledServiceSpec {
  std::string name;         ///< signing and routing name ("sqs")
  std::string model;        ///< embedded model id ("sqs")
  std::string query_model;  ///< a legacy Query model this service also answers ("sqs-query"), or empty
  /// "__type" namespace of JSON errors ("com.amazonaws.sqs"), empty for plain codes.
  std::string json_type_namespace;
  bool validate = true;     ///< check the model's constraints before the handler runs
  codec::ValidationStyle validation;
  OperationTable operations;
  /// Direct JSON paths of some operations of `operations` (see DirectHandler).
  std::map<std::string, DirectHandler, std::less<>> json_direct;
};

class ModeledService : public Service {
 public:
  explicit ModeledService(ModeledServiceSpec spec);

  [[nodiscard]] std::string_view name() const override { return spec_.name; }
  [[nodiscard]] WireProtocol protocol() const override { return primary_protocol_; }
  [[nodiscard]] WireProtocol protocol_for(const RequestHead& head) const override;
  [[nodiscard]] std::string_view xml_namespace() const override;
  [[nodiscard]] std::string_view json_target_prefix() const override { return model_.target_prefix; }
  [[nodiscard]] bool has_action(std::string_view action) const override;
  [[nodiscard]] std::string query_compatible_code(const AwsError& error) const override;
  [[nodiscard]] std::string_view json_type_namespace() const override { return spec_.json_type_namespace; }
  [[nodiscard]] Resolution resolve(const RequestHead& head, const QueryParams* params) const override;
  [[nodiscard]] Response handle(RequestContext& ctx, std::string body) override;

  [[nodiscard]] const model::ServiceModel& model() const { return model_; }
  [[nodiscard]] const OperationTable& operations() const { return spec_.operations; }

 private:
  /// The model whose shapes decode and encode `protocol` (the Query model for Query requests).
  [[nodiscard]] const model::Operation& operation_for(std::string_view name, WireProtocol protocol) const;
  [[nodiscard]] Response encode(const model::Operation& op, WireProtocol protocol, const codec::Value& output,
                                std::string_view request_id) const;
  /// The 200 response of an event-stream operation: `initial` first, then the source's events.
  [[nodiscard]] Response event_stream(const model::Operation& op, WireProtocol protocol, const codec::Value& initial,
                                      std::shared_ptr<EventSource> source, std::string_view request_id) const;

  ModeledServiceSpec spec_;
  const model::ServiceModel& model_;
  const model::ServiceModel* query_model_ = nullptr;
  WireProtocol primary_protocol_;
};

}  // namespace fogbank::protocol
