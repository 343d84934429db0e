#pragma once
// Beast-free HTTP message types shared by the server, the protocol layer and the services.
//
// The server parses the wire with Beast and hands the protocol layer a RequestHead (the
// request line and headers, no body). Bodies travel separately: the request body is pushed
// into a BodySink, and a response body is either a string or pulled from a BodyProducer, so
// multi-GiB payloads never have to sit in memory.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fogbank::protocol {

/// ASCII case-insensitive equality, as HTTP header names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// An ordered list of header fields. Names keep the case they were given; lookups ignore case.
/// Not thread-safe; a value type.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  /// Appends a field (repeated names are allowed, as on the wire).
  void add(std::string name, std::string value);
  /// Replaces every field of this name by one field.
  void set(std::string name, std::string value);
  /// The first field of this name, if any.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  [[nodiscard]] bool has(std::string_view name) const { return get(name).has_value(); }
  void remove(std::string_view name);
  [[nodiscard]] const std::vector<Field>& items() const noexcept { return items_; }
  [[nodiscard]] bool empty() const noexcept { return items_.empty(); }

 private:
  std::vector<Field> items_;
};

/// The request line and headers of one HTTP request, exactly as received.
struct RequestHead {
  std::string method;  ///< "GET", "PUT", ...
  std::string target;  ///< raw request-target: "/bucket/a%20b?uploads"
  std::string path;    ///< raw path of target (still percent-encoded), always starts with '/'
  std::string query;   ///< raw query string of target without the '?', possibly empty
  Headers headers;
  bool tls = false;            ///< arrived over HTTPS
  std::string remote_address;  ///< peer IP, for logs

  /// Splits `target` into `path` and `query`.
  void split_target();
  /// The Host header without a port ("localhost" for "localhost:4566").
  [[nodiscard]] std::string_view host_name() const;
};

/// Pulls a response body in pieces (e.g. an S3 object read chunk by chunk from storage).
/// Called from one thread at a time; may throw AwsError before the first byte only.
class BodyProducer {
 public:
  virtual ~BodyProducer() = default;
  /// Copies up to `n` bytes into `buf`; returns 0 at the end of the body.
  virtual std::size_t read(char* buf, std::size_t n) = 0;
};

class PendingResponse;
class ResponseStream;

/// A complete response. The server adds Date, Server, Content-Length and the connection headers.
struct Response {
  int status = 200;
  Headers headers;
  std::string body;                         ///< used when `producer` is null
  std::unique_ptr<BodyProducer> producer;   ///< streamed body (then `content_length` is required)
  std::optional<std::uint64_t> content_length;  ///< overrides body.size(), e.g. for HEAD
  bool close_connection = false;            ///< e.g. after an unread request body
  /// When set, the rest of this Response is a placeholder: the server waits for `pending` and
  /// sends what its poll() returns instead (see PendingResponse).
  std::shared_ptr<PendingResponse> pending;
  /// When set, the body is `stream`'s pieces as they come (`body`, `producer` and
  /// `content_length` are ignored): chunked on HTTP/1.1, DATA frames on HTTP/2.
  std::shared_ptr<ResponseStream> stream;

  Response() = default;
  Response(int status_code, std::string body_text, std::string content_type = {});
};

/// A response that is not ready yet (SQS long polling, work on the pool): the handler returns a
/// placeholder Response whose `pending` is set, and the server waits asynchronously, without
/// holding a thread, until the service wakes it or the deadline passes.
///
/// The deadline is in the server's Clock time (protocol::Clock::now_ms()), not real time: the
/// server arms a Scheduler timer for it, so moving a virtual clock past it answers the wait at once.
///
/// Lifecycle, driven by the server on the connection's strand:
///  1. start(wake) once: the service registers `wake`, which it may call from any thread, any
///     number of times, until cancel() returns ("something changed, ask me again");
///  2. after each wake, and once the clock reaches deadline_ms(), poll(at_deadline), where
///     at_deadline = clock.now_ms() >= deadline_ms() (or the server is shutting down): the final
///     Response, or nullopt to keep waiting. poll(true) must return a response (an empty result,
///     typically);
///  3. cancel() once, always, after the final poll or when the connection or the server goes away;
///     the service unregisters `wake` there.
/// start/poll/cancel are never called concurrently with each other.
class PendingResponse {
 public:
  virtual ~PendingResponse() = default;
  virtual void start(std::function<void()> wake) = 0;
  [[nodiscard]] virtual std::optional<Response> poll(bool at_deadline) = 0;
  /// Unix milliseconds on the server's Clock; read once, after start().
  [[nodiscard]] virtual std::int64_t deadline_ms() const = 0;
  virtual void cancel() noexcept = 0;
};

/// A response body of unknown length that grows while the exchange lasts (an event stream such as
/// Kinesis SubscribeToShard's). The server sends the status and headers at once, then asks for
/// pieces one at a time: next() returns the wait for the next piece, which follows PendingResponse's
/// lifecycle (start, poll until a Response, cancel); that Response's body is the piece's bytes (an
/// empty body sends nothing). next() returning null ends the body. The server stops asking when
/// the client goes away or the server shuts down; destroying the stream releases what it holds.
/// next() is never called concurrently with a piece's wait.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  [[nodiscard]] virtual std::shared_ptr<PendingResponse> next() = 0;
};

/// Receives a request body as it streams in. The server calls write() for each piece of the
/// decoded HTTP body (transfer-encoding already removed), then finish() once, or abort() if the
/// connection failed. write() and finish() may throw AwsError; after a throw only abort() follows.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void write(std::string_view data) = 0;
  [[nodiscard]] virtual Response finish() = 0;
  virtual void abort() noexcept {}
  /// True once the sink has given up (e.g. a bad chunk signature): the server stops reading the
  /// body, calls finish() for the error response and closes the connection.
  [[nodiscard]] virtual bool failed() const noexcept { return false; }
};

}  // namespace fogbank::protocol
