#include "http2_session.hpp"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>

#include "fogbank/server/log.hpp"

namespace fogbank::server::h2 {

namespace net = boost::asio;
namespace beast = boost::beast;
using protocol::Response;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::uint32_t kMaxConcurrentStreams = 100;
// The 64 KiB default windows would make an upload wait a round trip per 64 KiB.
constexpr std::int32_t kStreamWindow = 1 << 20;
constexpr std::int32_t kConnectionWindow = 16 << 20;
constexpr std::size_t kReadChunk = 64 * 1024;
// Frames are batched into writes of about this size: one syscall per frame would be 16 KiB each.
constexpr std::size_t kWriteBatch = 128 * 1024;
constexpr std::size_t kProducerChunk = 64 * 1024;
// An event stream's pieces wait here for the client's flow-control window; past this the service
// is not asked for more.
constexpr std::size_t kStreamBuffer = 1 << 20;
const unsigned char kAlpnOffer[] = "\x02h2\x08http/1.1";

int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* /*arg*/) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kAlpnOffer, sizeof kAlpnOffer - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // the client offered neither: plain HTTP/1.1, as before ALPN
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::optional<std::uint64_t> parse_length(std::optional<std::string_view> v) {
  std::uint64_t n = 0;
  if (!v || v->empty() || std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc{}) {
    return std::nullopt;
  }
  return n;
}

// One request/response exchange. Owned by the connection's map until nghttp2 closes the stream;
// a deferred wait holds it too, since it may end after the close.
struct StreamState {
  std::int32_t id = 0;
  Clock::time_point started = Clock::now();
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t header_bytes = 0;
  bool header_overflow = false;
  bool began = false;
  std::string method;
  std::string target;
  bool navigation = false;
  protocol::Exchange ex;
  bool receiving = false;       // the sink takes DATA
  bool request_ended = false;   // the client's END_STREAM arrived
  // The body watch of HTTP/1.1 (read timeout, minimum rate), checked by the connection's watchdog.
  std::uint64_t received = 0;
  std::uint64_t seen = 0;
  std::optional<std::uint64_t> total;
  Clock::time_point last_advance;
  Clock::time_point window_start;
  std::uint64_t window_start_progress = 0;
  bool responded = false;
  int status = 0;
  Response response;
  std::size_t body_offset = 0;
  std::unique_ptr<char[]> stage;  // a producer's piece, handed out a frame at a time
  std::size_t stage_len = 0;
  std::size_t stage_pos = 0;
  std::uint64_t produced = 0;
  bool waiting = false;
  bool abandoned = false;
  std::function<void()> interrupt;
  // A body of unknown length (Response::stream), pumped into `stream_buf` by pump_stream().
  bool streaming = false;
  std::string stream_buf;
  std::size_t stream_pos = 0;
  bool stream_done = false;
  bool data_deferred = false;  // read_body said NGHTTP2_ERR_DEFERRED: resume when bytes arrive
  std::unique_ptr<net::steady_timer> drained;  // the pump waits here while the buffer is full
  Clock::time_point stream_progress;  // when the client last took some of the buffer
};

template <class Stream>
class Connection {
 public:
  Connection(Stream& stream, Context& ctx)
      : stream_(stream),
        ctx_(ctx),
        lowest_(beast::get_lowest_layer(stream)),
        write_wake_(stream.get_executor()),
        watchdog_timer_(stream.get_executor()),
        all_done_(stream.get_executor()) {}

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ~Connection() {
    if (session_ != nullptr) {
      nghttp2_session_del(session_);
    }
  }

  net::awaitable<void> run(beast::flat_buffer& buffer) {
    if (!open_session()) {
      co_return;
    }
    lowest_.expires_never();  // timeouts are the watchdog's: a stream's wait is not the connection's
    ctx_.handle.interrupt = [this] { interrupt_all(); };
    idle_since_ = Clock::now();
    auto ex = stream_.get_executor();
    tasks_ += 2;
    net::co_spawn(ex, writer(), on_task_end());
    net::co_spawn(ex, watchdog(), on_task_end());
    bool ok = true;
    if (buffer.size() > 0) {
      ok = receive(static_cast<const std::uint8_t*>(buffer.data().data()), buffer.size());
      buffer.consume(buffer.size());
    }
    std::unique_ptr<std::uint8_t[]> io(new std::uint8_t[kReadChunk]);
    while (ok && !stop_reading_) {
      auto [ec, n] = co_await stream_.async_read_some(net::buffer(io.get(), kReadChunk), use_nothrow);
      if (ec) {
        break;
      }
      ok = receive(io.get(), n);
    }
    closing_ = true;  // from here on the writer stops; the GOAWAY below is the last write
    if (fatal_ && !writing_) {
      co_await send_goaway();
    }
    for (auto& [id, st] : streams_) {
      abandon(*st);
      if (st->responded && !st->method.empty()) {
        // The connection went without closing its streams (a client that drops the session under
        // an event stream): their exchanges still get their access-log line.
        ctx_.log_access(st->method, st->target, st->ex.info.get(), st->status, st->started);
      }
    }
    beast::error_code ec;
    lowest_.socket().cancel(ec);
    write_wake_.cancel();
    watchdog_timer_.cancel();
    while (tasks_ > 0) {
      all_done_.expires_at(Clock::time_point::max());
      co_await all_done_.async_wait(use_nothrow);
    }
    ctx_.handle.interrupt = nullptr;
    streams_.clear();
  }

 private:
  Stream& stream_;
  Context& ctx_;
  beast::tcp_stream& lowest_;
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, std::shared_ptr<StreamState>> streams_;
  net::steady_timer write_wake_;
  net::steady_timer watchdog_timer_;
  net::steady_timer all_done_;
  int tasks_ = 0;
  bool flush_requested_ = false;
  bool writing_ = false;
  Clock::time_point write_started_;
  Clock::time_point idle_since_;
  bool closing_ = false;
  bool stop_reading_ = false;
  bool fatal_ = false;

  static Connection& self(void* user_data) { return *static_cast<Connection*>(user_data); }

  bool open_session() {
    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) {
      return false;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Connection::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &Connection::on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Connection::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Connection::on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &Connection::on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Connection::on_stream_close);
    const int rv = nghttp2_session_server_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
      session_ = nullptr;
      return false;
    }
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kStreamWindow)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, ctx_.options.header_limit_bytes},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
    return true;
  }

  // Feeds bytes to nghttp2; false when the connection must end now.
  bool receive(const std::uint8_t* data, std::size_t n) {
    const auto rv = nghttp2_session_mem_recv(session_, data, n);
    if (rv < 0) {
      log::debug(std::string("HTTP/2 connection from ") + ctx_.remote + " failed: " + nghttp2_strerror(static_cast<int>(rv)));
      if (nghttp2_is_fatal(static_cast<int>(rv)) != 0) {
        fatal_ = true;
        return false;
      }
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    }
    signal_write();
    update_idle();
    return true;
  }

  // After a fatal error (a bad preface on an ALPN h2 connection) nghttp2 queues nothing itself;
  // the peer still learns why the connection ends.
  net::awaitable<void> send_goaway() {
    if (nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR) != 0) {
      co_return;
    }
    std::string out;
    for (;;) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) {
        break;
      }
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (!out.empty()) {
      lowest_.expires_after(std::chrono::seconds(2));
      co_await net::async_write(stream_, net::buffer(out), use_nothrow);
      lowest_.expires_never();
    }
  }

  void signal_write() {
    flush_requested_ = true;
    write_wake_.cancel();
  }

  void update_idle() { ctx_.handle.idle = streams_.empty() && !writing_ && nghttp2_session_want_write(session_) == 0; }

  // A task that threw skipped its own task_done(); the connection must still see it end.
  auto on_task_end() {
    return [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::error(std::string("HTTP/2 connection task failed: ") + ex.what());
        }
        task_done();
      }
    };
  }

  void task_done() {
    if (--tasks_ == 0) {
      all_done_.cancel();
    }
  }

  // Stops reading: the read loop ends and the connection with it.
  void end_connection() {
    stop_reading_ = true;
    beast::error_code ec;
    lowest_.socket().cancel(ec);
  }

  net::awaitable<void> writer() {
    std::string out;
    out.reserve(kWriteBatch + 16 * 1024);
    while (!closing_) {
      flush_requested_ = false;
      out.clear();
      while (out.size() < kWriteBatch) {
        const std::uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) {
          log::debug(std::string("HTTP/2 send failed: ") + nghttp2_strerror(static_cast<int>(n)));
          end_connection();
          break;
        }
        if (n == 0) {
          break;
        }
        out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      }
      if (out.empty()) {
        if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
          end_connection();  // GOAWAY sent and every stream done
          break;
        }
        update_idle();
        if (!flush_requested_) {
          write_wake_.expires_at(Clock::time_point::max());
          co_await write_wake_.async_wait(use_nothrow);
        }
        continue;
      }
      writing_ = true;
      write_started_ = Clock::now();
      auto [ec, n] = co_await net::async_write(stream_, net::buffer(out), use_nothrow);
      writing_ = false;
      if (ec) {
        end_connection();
        break;
      }
      update_idle();
    }
    task_done();
  }

  // One timer per connection instead of one per read: idle connections, stalled and too slow
  // request bodies (the rules of HTTP/1.1's BodyWatch, per stream) and a peer that stops reading.
  net::awaitable<void> watchdog() {
    const auto& o = ctx_.options;
    auto tick = std::min(o.idle_timeout, o.read_timeout);
    if (o.min_body_rate > 0) {
      tick = std::min(tick, o.min_body_rate_window);
    }
    tick = std::max(tick, std::chrono::seconds(1));
    while (!closing_) {
      watchdog_timer_.expires_after(tick);
      co_await watchdog_timer_.async_wait(use_nothrow);
      if (closing_) {
        break;
      }
      check_timeouts();
    }
    task_done();
  }

  void check_timeouts() {
    const auto& o = ctx_.options;
    const auto now = Clock::now();
    if (writing_ && now - write_started_ >= o.read_timeout) {
      end_connection();  // the peer stopped reading
      return;
    }
    if (streams_.empty() && !writing_ && now - idle_since_ >= o.idle_timeout) {
      nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
      signal_write();
      return;
    }
    std::vector<std::shared_ptr<StreamState>> stalled;
    std::vector<std::shared_ptr<StreamState>> slow;
    for (auto& [id, st] : streams_) {
      // A streamed response whose client stopped opening its window for a whole read timeout
      // loses its stream, as a stalled write loses an HTTP/1.1 connection.
      if (st->streaming && !st->stream_done && st->stream_buf.size() > st->stream_pos &&
          now - st->stream_progress >= o.read_timeout) {
        stalled.push_back(st);
        continue;
      }
      if (!st->receiving) {
        continue;
      }
      if (st->received != st->seen) {
        st->seen = st->received;
        st->last_advance = now;
      } else if (now - st->last_advance >= o.read_timeout) {
        stalled.push_back(st);
        continue;
      }
      if (o.min_body_rate > 0 && now - st->window_start >= o.min_body_rate_window) {
        const double seconds = std::chrono::duration<double>(now - st->window_start).count();
        auto wanted = static_cast<std::uint64_t>(static_cast<double>(o.min_body_rate) * seconds);
        if (st->total && *st->total >= st->window_start_progress) {
          wanted = std::min(wanted, *st->total - st->window_start_progress);
        }
        if (st->received - st->window_start_progress < wanted) {
          slow.push_back(st);
          continue;
        }
        st->window_start = now;
        st->window_start_progress = st->received;
      }
    }
    // HTTP/1.1 drops the connection of a stalled body; here only its stream goes.
    for (auto& st : stalled) {
      stop_body(*st);
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
    }
    for (auto& st : slow) {
      log::warn("request body from " + ctx_.remote + " slower than " + std::to_string(o.min_body_rate) +
                " bytes/s over " + std::to_string(o.min_body_rate_window.count()) + " s: cut off");
      stop_body(*st);
      respond(*st, request_timeout(st->ex));
    }
    if (!stalled.empty() || !slow.empty()) {
      signal_write();
    }
  }

  void stop_body(StreamState& st) {
    if (st.receiving) {
      st.receiving = false;
      st.ex.sink->abort();
    }
  }

  void abandon(StreamState& st) {
    stop_body(st);
    if (st.streaming) {
      st.abandoned = true;
      if (st.drained) {
        st.drained->cancel();
      }
    }
    if (st.waiting) {
      st.abandoned = true;
      if (st.interrupt) {
        auto wake = st.interrupt;
        wake();
      }
    }
  }

  void interrupt_all() {
    for (auto& [id, st] : streams_) {
      if (st->drained) {
        st->drained->cancel();  // a pump waiting for the client's window re-checks `stopping`
      }
      if (st->interrupt) {
        auto wake = st->interrupt;
        wake();
      }
    }
  }

  StreamState* find(std::int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }

  // ------------------------------------------------------------------ requests

  void start(StreamState& st, bool end_stream) {
    st.began = true;
    st.request_ended = end_stream;
    if (ctx_.stopping) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (st.header_overflow) {
      respond(st, simple(431, "RequestHeaderSectionTooLarge",
                         "Your request header section exceeds the maximum allowed size."));
      return;
    }
    auto head = request_head(st.fields, ctx_.tls, ctx_.remote);
    st.fields = {};
    if (!head) {
      respond(st, simple(400, "BadRequest", "The request has no :method or :path."));
      return;
    }
    st.method = head->method;
    st.target = head->target;
    st.navigation = is_navigation(head->headers.get("sec-fetch-dest").value_or(""));
    const bool expect_continue = protocol::iequals(head->headers.get("expect").value_or(""), "100-continue");
    const auto content_length = parse_length(head->headers.get("content-length"));
    st.started = Clock::now();
    try {
      st.ex = ctx_.handler.begin(std::move(*head));
    } catch (const std::exception& e) {
      // Handlers promise not to throw; if one does, this stream fails, not the connection.
      log::error(std::string("request failed before its body: ") + e.what());
      st.ex = protocol::Exchange{};
      st.ex.immediate = std::make_unique<Response>(simple(500, "InternalFailure", "The request could not be handled."));
    }
    if (st.ex.immediate) {
      Response r = std::move(*st.ex.immediate);
      st.ex.immediate.reset();
      deliver(st, std::move(r));  // an announced body is discarded by resetting the stream
      return;
    }
    if (content_length && *content_length > st.ex.body_limit) {
      st.ex.sink->abort();
      respond(st, too_large(st.ex));
      return;
    }
    if (end_stream) {
      finish(st);
      return;
    }
    st.receiving = true;
    st.total = content_length;
    st.last_advance = st.window_start = Clock::now();
    if (expect_continue) {
      const nghttp2_nv cont[] = {{const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(":status")),
                                  const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>("100")), 7, 3,
                                  NGHTTP2_NV_FLAG_NONE}};
      nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, st.id, nullptr, cont, 1, nullptr);
    }
  }

  void body_data(StreamState& st, std::string_view data) {
    st.received += data.size();
    if (st.received > st.ex.body_limit) {
      stop_body(st);
      respond(st, too_large(st.ex));
      return;
    }
    try {
      st.ex.sink->write(data);
    } catch (const protocol::AwsError& e) {
      stop_body(st);
      respond(st, st.ex.render_error ? st.ex.render_error(e) : simple(e.status, e.code, e.message));
      return;
    } catch (const std::exception& e) {
      log::error(std::string("request failed: ") + e.what());
      stop_body(st);
      respond(st, request_error(st.ex, 500, "InternalFailure", "The request could not be handled."));
      return;
    }
    if (st.ex.sink->failed()) {
      st.receiving = false;
      finish(st);  // the sink's error; the rest of the body is discarded
    }
  }

  void end_body(StreamState& st) {
    st.request_ended = true;
    if (st.receiving) {
      st.receiving = false;
      finish(st);
    }
  }

  void finish(StreamState& st) { deliver(st, finish_body(*st.ex.sink, st.ex)); }

  void deliver(StreamState& st, Response r) {
    if (!r.pending) {
      respond(st, std::move(r));
      return;
    }
    auto it = streams_.find(st.id);
    if (it == streams_.end()) {
      return;
    }
    st.waiting = true;
    ++tasks_;
    net::co_spawn(stream_.get_executor(), wait_then_respond(it->second, std::move(r.pending)), on_task_end());
  }

  // Per stream, so a long poll on one stream leaves the others flowing.
  net::awaitable<void> wait_then_respond(std::shared_ptr<StreamState> st,
                                         std::shared_ptr<protocol::PendingResponse> pending) {
    try {
      Response r = co_await ctx_.wait_deferred(std::move(pending), st->interrupt, &st->abandoned);
      st->waiting = false;
      if (!st->abandoned && !closing_) {
        respond(*st, std::move(r));
        signal_write();
      }
    } catch (const std::exception& e) {
      log::error(std::string("deferred response failed: ") + e.what());
    }
    st->waiting = false;
    task_done();
  }

  // ------------------------------------------------------------------ responses

  void respond(StreamState& st, Response r) {
    if (st.responded || closing_) {
      return;
    }
    st.responded = true;
    st.status = r.status;
    if (st.navigation && !r.headers.get("content-security-policy")) {
      // As for HTTP/1.1: a page served from fogbank must not run with fogbank's origin.
      r.headers.set("Content-Security-Policy", kNavigationSandbox);
    }
    std::vector<std::pair<std::string, std::string>> fields;
    fields.reserve(r.headers.items().size() + 4);
    fields.emplace_back(":status", std::to_string(r.status));
    bool has_date = false;
    bool has_server = false;
    for (const auto& [name, value] : r.headers.items()) {
      std::string n = lower(name);
      if (is_connection_specific(n) || n == "content-length") {
        continue;
      }
      has_date = has_date || n == "date";
      has_server = has_server || n == "server";
      fields.emplace_back(std::move(n), value);
    }
    if (!has_date) {
      fields.emplace_back("date", http_date());
    }
    if (!has_server) {
      fields.emplace_back("server", "fogbank");
    }
    const bool bodiless_status = r.status == 204 || r.status == 304;
    const bool streamed = r.stream && st.method != "HEAD";
    if (!bodiless_status && !streamed) {
      const std::uint64_t length = r.content_length.value_or(r.producer ? 0 : r.body.size());
      fields.emplace_back("content-length", std::to_string(length));
    }
    std::vector<nghttp2_nv> nv;
    nv.reserve(fields.size());
    for (auto& [n, v] : fields) {
      nv.push_back({reinterpret_cast<std::uint8_t*>(n.data()), reinterpret_cast<std::uint8_t*>(v.data()), n.size(),
                    v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    const bool has_body = st.method != "HEAD" && !bodiless_status && (streamed || r.producer || !r.body.empty());
    std::shared_ptr<protocol::ResponseStream> body_stream = streamed ? std::move(r.stream) : nullptr;
    st.streaming = streamed;
    st.response = std::move(r);
    nghttp2_data_provider provider{};
    provider.source.ptr = &st;
    provider.read_callback = &Connection::read_body;
    const int rv = nghttp2_submit_response(session_, st.id, nv.data(), nv.size(), has_body ? &provider : nullptr);
    if (rv != 0) {
      log::debug(std::string("HTTP/2 response not submitted: ") + nghttp2_strerror(rv));
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (body_stream) {
      auto it = streams_.find(st.id);
      if (it == streams_.end()) {
        return;
      }
      st.drained = std::make_unique<net::steady_timer>(stream_.get_executor());
      ++tasks_;
      net::co_spawn(stream_.get_executor(), pump_stream(it->second, std::move(body_stream)), on_task_end());
    }
  }

  // Moves an event stream's pieces into the stream's buffer as the service produces them; the
  // buffer goes out as DATA frames as the client's window allows, and the stream ends (END_STREAM)
  // when the service is done or the server stops.
  net::awaitable<void> pump_stream(std::shared_ptr<StreamState> st, std::shared_ptr<protocol::ResponseStream> body) {
    try {
      while (!st->abandoned && !closing_ && !ctx_.stopping) {
        while (st->stream_buf.size() - st->stream_pos > kStreamBuffer && !st->abandoned && !closing_ &&
               !ctx_.stopping) {
          st->drained->expires_at(Clock::time_point::max());
          co_await st->drained->async_wait(use_nothrow);
        }
        if (st->abandoned || closing_) {
          break;
        }
        auto piece = body->next();
        if (!piece) {
          break;
        }
        st->waiting = true;
        Response bytes = co_await ctx_.wait_deferred(std::move(piece), st->interrupt, &st->abandoned);
        st->waiting = false;
        if (st->abandoned || closing_) {
          break;
        }
        if (!bytes.body.empty()) {
          if (st->stream_buf.size() == st->stream_pos) {
            st->stream_progress = Clock::now();  // the client owes nothing before this piece
          }
          st->stream_buf.append(bytes.body);
          resume_data(*st);
        }
      }
    } catch (const std::exception& e) {
      log::error(std::string("HTTP/2 response stream failed: ") + e.what());
    }
    st->waiting = false;
    body.reset();  // the service's subscription ends here, not when the stream state goes
    st->stream_done = true;
    if (!st->abandoned && !closing_) {
      resume_data(*st);
    }
    task_done();
  }

  void resume_data(StreamState& st) {
    if (st.data_deferred) {
      st.data_deferred = false;
      nghttp2_session_resume_data(session_, st.id);
    }
    signal_write();
  }

  static ssize_t read_body(nghttp2_session* /*session*/, std::int32_t /*stream_id*/, std::uint8_t* buf,
                           std::size_t length, std::uint32_t* data_flags, nghttp2_data_source* source,
                           void* /*user_data*/) {
    auto& st = *static_cast<StreamState*>(source->ptr);
    Response& r = st.response;
    if (st.streaming) {
      const std::size_t available = st.stream_buf.size() - st.stream_pos;
      if (available == 0) {
        if (st.stream_done) {
          *data_flags |= NGHTTP2_DATA_FLAG_EOF;
          return 0;
        }
        st.data_deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
      const std::size_t n = std::min(length, available);
      std::memcpy(buf, st.stream_buf.data() + st.stream_pos, n);
      st.stream_pos += n;
      st.stream_progress = Clock::now();
      if (st.stream_pos == st.stream_buf.size() || st.stream_pos >= kStreamBuffer / 4) {
        // Sent bytes go, so a client that keeps up but never quite drains does not grow the buffer.
        st.stream_buf.erase(0, st.stream_pos);
        st.stream_pos = 0;
        if (st.drained && st.stream_buf.size() <= kStreamBuffer) {
          st.drained->cancel();
        }
      }
      return static_cast<ssize_t>(n);
    }
    if (!r.producer) {
      const std::size_t n = std::min(length, r.body.size() - st.body_offset);
      std::memcpy(buf, r.body.data() + st.body_offset, n);
      st.body_offset += n;
      if (st.body_offset == r.body.size()) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      }
      return static_cast<ssize_t>(n);
    }
    if (st.stage_pos == st.stage_len) {
      if (!st.stage) {
        st.stage.reset(new char[kProducerChunk]);
      }
      std::size_t n = 0;
      try {
        n = r.producer->read(st.stage.get(), kProducerChunk);
      } catch (const std::exception& e) {
        log::error(std::string("response body failed mid-stream: ") + e.what());
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // the stream is reset: a short body never looks whole
      }
      if (n == 0) {
        if (st.produced != r.content_length.value_or(0)) {
          return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
      }
      st.stage_len = n;
      st.stage_pos = 0;
      st.produced += n;
    }
    const std::size_t n = std::min(length, st.stage_len - st.stage_pos);
    std::memcpy(buf, st.stage.get() + st.stage_pos, n);
    st.stage_pos += n;
    return static_cast<ssize_t>(n);
  }

  // ------------------------------------------------------------------ nghttp2 callbacks
  // They run inside mem_recv/mem_send on the connection's thread and must not throw into C.

  static int on_begin_headers(nghttp2_session* /*session*/, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;
    }
    try {
      auto st = std::make_shared<StreamState>();
      st->id = frame->hd.stream_id;
      self(user_data).streams_[st->id] = std::move(st);
    } catch (const std::exception&) {
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int on_header(nghttp2_session* /*session*/, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t /*flags*/,
                       void* user_data) {
    auto& c = self(user_data);
    StreamState* st = frame->hd.type == NGHTTP2_HEADERS ? c.find(frame->hd.stream_id) : nullptr;
    if (st == nullptr || st->began || st->header_overflow) {
      return 0;  // trailers and oversized heads are not kept
    }
    // RFC 9113's accounting of SETTINGS_MAX_HEADER_LIST_SIZE: 32 bytes per field on top.
    st->header_bytes += namelen + valuelen + 32;
    if (st->header_bytes > c.ctx_.options.header_limit_bytes) {
      st->header_overflow = true;
      st->fields = {};
      return 0;
    }
    try {
      st->fields.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                              std::string(reinterpret_cast<const char*>(value), valuelen));
    } catch (const std::exception&) {
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* /*session*/, const nghttp2_frame* frame, void* user_data) {
    auto& c = self(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
      return 0;
    }
    StreamState* st = c.find(frame->hd.stream_id);
    if (st == nullptr) {
      return 0;
    }
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    try {
      if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        c.start(*st, end_stream);
      } else if (end_stream) {
        c.end_body(*st);
      }
    } catch (const std::exception& e) {
      log::error(std::string("HTTP/2 request failed: ") + e.what());
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* /*session*/, std::uint8_t /*flags*/, std::int32_t stream_id,
                           const std::uint8_t* data, std::size_t len, void* user_data) {
    auto& c = self(user_data);
    StreamState* st = c.find(stream_id);
    if (st == nullptr || !st->receiving) {
      return 0;  // a body after an early answer is dropped
    }
    try {
      c.body_data(*st, std::string_view(reinterpret_cast<const char*>(data), len));
    } catch (const std::exception& e) {
      log::error(std::string("HTTP/2 request failed: ") + e.what());
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
      return 0;
    }
    StreamState* st = self(user_data).find(frame->hd.stream_id);
    if (st != nullptr && !st->request_ended) {
      // Answered before the request body ended (an error, a refused upload): RFC 9113 8.1 lets
      // the client stop sending with NO_ERROR; the connection, unlike HTTP/1.1's, stays usable.
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }

  static int on_stream_close(nghttp2_session* /*session*/, std::int32_t stream_id, std::uint32_t /*error_code*/,
                             void* user_data) {
    auto& c = self(user_data);
    auto it = c.streams_.find(stream_id);
    if (it == c.streams_.end()) {
      return 0;
    }
    std::shared_ptr<StreamState> st = std::move(it->second);
    c.streams_.erase(it);
    c.abandon(*st);
    if (st->responded && !st->method.empty()) {
      try {
        c.ctx_.log_access(st->method, st->target, st->ex.info.get(), st->status, st->started);
      } catch (const std::exception&) {
      }
      auto completion = prepare_completion(st->ex.info.get(), st->response, st->method == "HEAD");
      if (st->method != "HEAD") {
        completion.done.bytes_sent = st->response.producer ? st->produced : st->body_offset;
      }
      report_completion(st->ex.info.get(), completion, st->started);
    }
    if (c.streams_.empty()) {
      c.idle_since_ = Clock::now();
    }
    return 0;
  }
};

template <class Stream>
net::awaitable<void> serve_on(Stream& stream, beast::flat_buffer& buffer, Context& ctx) {
  Connection<Stream> connection(stream, ctx);
  co_await connection.run(buffer);
}

}  // namespace

Preface match_preface(std::string_view first_bytes) noexcept {
  const std::size_t n = std::min(first_bytes.size(), kClientPreface.size());
  if (first_bytes.substr(0, n) != kClientPreface.substr(0, n)) {
    return Preface::kNo;
  }
  return n == kClientPreface.size() ? Preface::kYes : Preface::kPartial;
}

void offer_alpn(SSL_CTX* ctx) { SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr); }

bool alpn_chose_h2(SSL* ssl) {
  const unsigned char* chosen = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &chosen, &len);
  return len == 2 && std::memcmp(chosen, "h2", 2) == 0;
}

std::optional<protocol::RequestHead> request_head(const std::vector<std::pair<std::string, std::string>>& fields,
                                                  bool tls, const std::string& remote) {
  protocol::RequestHead head;
  std::string authority;
  bool has_host = false;
  for (const auto& [name, value] : fields) {
    if (!name.empty() && name.front() == ':') {
      if (name == ":method") {
        head.method = value;
      } else if (name == ":path") {
        head.target = value;
      } else if (name == ":authority") {
        authority = value;
        // Kept as a field: SDKs speaking HTTP/2 (the JavaScript SDK v3's NodeHttp2Handler) sign
        // ":authority" instead of "host", and SigV4's canonical request needs its value.
        head.headers.add(name, value);
      }
      continue;  // :scheme says nothing the connection does not
    }
    has_host = has_host || protocol::iequals(name, "host");
    head.headers.add(name, value);
  }
  if (head.method.empty() || head.target.empty()) {
    return std::nullopt;
  }
  if (!has_host && !authority.empty()) {
    // SigV4 signs "host"; an HTTP/2 client carries it as :authority.
    head.headers.add("host", authority);
  }
  head.tls = tls;
  head.remote_address = remote;
  head.split_target();
  return head;
}

net::awaitable<void> serve(beast::tcp_stream& stream, beast::flat_buffer& buffer, Context ctx) {
  co_await serve_on(stream, buffer, ctx);
}

net::awaitable<void> serve(beast::ssl_stream<beast::tcp_stream>& stream, beast::flat_buffer& buffer, Context ctx) {
  co_await serve_on(stream, buffer, ctx);
}

}  // namespace fogbank::server::h2
