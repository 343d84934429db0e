#include "http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <functional>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fogbank/server/log.hpp"
#include "http2_session.hpp"
#include "http_common.hpp"

namespace fogbank::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using protocol::Response;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t kIoChunk = 256 * 1024;
constexpr std::size_t kHeadReadBytes = 16 * 1024;

// The wait state of one deferred response. Shared with the service's wake callback and the
// deadline timer, which may outlive the wait (a late wake finds `done` and does nothing) and run
// on any thread.
struct DeferredWait {
  explicit DeferredWait(const net::any_io_executor& strand) : timer(strand) {}
  // Never expires by itself: the deadline is on the Clock (a Scheduler timer), which a virtual
  // clock moves at will, so only a wake (the service's, the deadline's or shutdown's) ends a wait.
  net::steady_timer timer;
  // Set by every wake before it posts the timer cancel: a wake that lands while the session is
  // busy polling (no wait to cancel yet) is seen on the next loop instead of being lost.
  std::atomic<bool> woken{false};
  // Set by the deadline timer: if the clock was set back before the session polled, the deadline
  // is armed again.
  std::atomic<bool> deadline_fired{false};
  bool done = false;  // strand only
};

// Read timeout and minimum rate of a request body without a timer per read: Beast's stream
// timeouts re-arm a timer (a timerfd syscall) on every read, which cost as much as the reads
// themselves on large uploads. Instead one timer per body ticks and closes the connection if no
// byte arrived for read_timeout, or if the body averaged less than min_rate over a window: a
// client trickling a byte now and then never stalls, yet would hold its connection forever.
struct BodyWatch {
  explicit BodyWatch(const net::any_io_executor& ex) : timer(ex) {}
  net::steady_timer timer;
  std::uint64_t progress = 0;  // body bytes received so far
  std::uint64_t seen = 0;      // progress when it last moved, as seen by a tick
  std::optional<std::uint64_t> total;  // the body's length, when it is known
  std::chrono::steady_clock::time_point last_advance;
  std::chrono::steady_clock::time_point window_start;
  std::uint64_t window_start_progress = 0;
  bool done = false;
  bool too_slow = false;  // cut off by the rate check: the client gets RequestTimeout
};

struct BodyLimits {
  std::chrono::seconds read_timeout;
  std::uint64_t min_rate;  // bytes/s, 0 = off
  std::chrono::seconds window;
};

void arm_watch(const std::shared_ptr<BodyWatch>& watch, beast::tcp_stream& lowest, BodyLimits limits,
               std::chrono::seconds tick) {
  watch->timer.expires_after(tick);
  watch->timer.async_wait([watch, &lowest, limits, tick](beast::error_code ec) {
    if (ec || watch->done) {
      return;  // the body ended first; `lowest` may be gone, so it is not touched
    }
    const auto now = std::chrono::steady_clock::now();
    if (watch->progress != watch->seen) {
      watch->seen = watch->progress;
      watch->last_advance = now;
    } else if (now - watch->last_advance >= limits.read_timeout) {
      lowest.cancel();  // stalled for a whole read_timeout: the pending read fails
      return;
    }
    if (limits.min_rate > 0 && now - watch->window_start >= limits.window) {
      const double seconds = std::chrono::duration<double>(now - watch->window_start).count();
      auto wanted = static_cast<std::uint64_t>(static_cast<double>(limits.min_rate) * seconds);
      if (watch->total) {
        // The tail of a body may be shorter than a window's worth: it must merely arrive in time.
        wanted = std::min(wanted, *watch->total - watch->window_start_progress);
      }
      if (watch->progress - watch->window_start_progress < wanted) {
        watch->too_slow = true;
        lowest.cancel();
        return;
      }
      watch->window_start = now;
      watch->window_start_progress = watch->progress;
    }
    arm_watch(watch, lowest, limits, tick);
  });
}

void watch_body(const std::shared_ptr<BodyWatch>& watch, beast::tcp_stream& lowest, BodyLimits limits) {
  watch->last_advance = watch->window_start = std::chrono::steady_clock::now();
  const auto tick = limits.min_rate > 0 ? std::min(limits.read_timeout, limits.window) : limits.read_timeout;
  arm_watch(watch, lowest, limits, std::max(tick, std::chrono::seconds(1)));
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  // One io_context per I/O thread, each run by exactly one thread: a connection lives on one
  // context, so its handlers never hop threads (no strand, no cross-thread wake-ups per read).
  // contexts[0] also owns the acceptors, the signal set and shutdown.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::atomic<unsigned> next_context{0};
  net::io_context& ioc;
  std::optional<ssl::context> ssl_ctx;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::mutex sessions_mutex;
  std::list<std::shared_ptr<SessionHandle>> sessions;
  std::atomic<bool> stopping{false};
  std::atomic<int> active{0};
  std::optional<net::signal_set> signals;

  static std::vector<std::unique_ptr<net::io_context>> make_contexts(unsigned n) {
    std::vector<std::unique_ptr<net::io_context>> v;
    for (unsigned i = 0; i < std::max(1u, n); ++i) {
      v.push_back(std::make_unique<net::io_context>(1));
    }
    return v;
  }

  explicit Impl(ServerOptions o)
      : options(std::move(o)), contexts(make_contexts(options.io_threads)), ioc(*contexts.front()) {
    if (options.scheduler == nullptr) {
      throw std::invalid_argument("HttpServer needs a Scheduler (ServerOptions::scheduler)");
    }
    for (auto& c : contexts) {
      keep_running.push_back(net::make_work_guard(*c));
    }
    if (options.tls) {
      ssl_ctx.emplace(ssl::context::tls_server);
      ssl_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      ssl_ctx->use_certificate_chain_file(options.tls->cert_chain);
      ssl_ctx->use_private_key_file(options.tls->key, ssl::context::pem);
      h2::offer_alpn(ssl_ctx->native_handle());
    }
  }

  ~Impl() {
    // Sessions still open after stop()'s deadline are destroyed with their io_context, and their
    // clean-up touches `sessions`: the contexts go first, while everything else is still there.
    keep_running.clear();
    signals.reset();
    acceptors.clear();
    contexts.clear();
  }

  static bool out_of_descriptors(const beast::error_code& ec) {
    if (ec.category() != boost::system::system_category()) {
      return false;
    }
    const int v = ec.value();
    return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
  }

  net::awaitable<void> accept_loop(tcp::acceptor& acceptor, RequestHandler& handler, bool tls) {
    net::steady_timer backoff(co_await net::this_coro::executor);
    bool starved = false;  // logged once per episode, not once per retry
    std::uint64_t refused = 0;
    for (;;) {
      // Round-robin over the contexts; a one-thread context is an implicit strand.
      net::any_io_executor strand = contexts[next_context++ % contexts.size()]->get_executor();
      auto [ec, sock] = co_await acceptor.async_accept(strand, use_nothrow);
      if (ec) {
        if (ec == net::error::operation_aborted || stopping) {
          co_return;
        }
        if (out_of_descriptors(ec)) {
          // The connection stays in the backlog, so accepting again at once fails again at once:
          // a core spins and nothing else (health included) gets served. A pause lets closing
          // connections give their descriptors back.
          if (!starved) {
            log::warn("cannot accept connections: " + ec.message() + " (raise the open files limit, " +
                      "or lower --max-connections); retrying every 100 ms");
            starved = true;
          }
          backoff.expires_after(std::chrono::milliseconds(100));
          co_await backoff.async_wait(use_nothrow);
        }
        continue;  // ECONNABORTED and friends concern that one connection only
      }
      starved = false;
      if (options.max_connections != 0 && active.load() >= static_cast<int>(options.max_connections)) {
        // Closed as accepted rather than left in the backlog: the client learns at once, and
        // the backlog cannot fill up with connections nobody will serve.
        beast::error_code cec;
        sock.close(cec);
        if (refused++ % 1000 == 0) {
          log::warn("--max-connections " + std::to_string(options.max_connections) +
                    " reached: closing new connections (" + std::to_string(refused) + " so far)");
        }
        continue;
      }
      ++active;  // here, not in the session: a burst of accepts must see each other
      net::co_spawn(strand, connection(std::move(sock), handler, tls), [](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            log::error(std::string("connection failed: ") + ex.what());
          }
        }
      });
    }
  }

  net::awaitable<void> connection(tcp::socket sock, RequestHandler& handler, bool tls_allowed) {
    auto handle = std::make_shared<SessionHandle>();
    handle->strand = sock.get_executor();
    {
      std::lock_guard lock(sessions_mutex);
      sessions.push_back(handle);
    }
    // Runs however the coroutine ends, an exception included: a session left counted as active
    // made every later shutdown wait its full 5 s.
    struct Unregister {
      Impl& self;
      std::shared_ptr<SessionHandle> handle;
      ~Unregister() {
        handle->alive = false;
        handle->socket = nullptr;
        {
          std::lock_guard lock(self.sessions_mutex);
          self.sessions.remove(handle);
        }
        --self.active;
      }
    } unregister{*this, handle};
    std::string remote;
    boost::system::error_code rec;
    auto ep = sock.remote_endpoint(rec);
    if (!rec) {
      remote = ep.address().to_string();
    }
    beast::tcp_stream stream(std::move(sock));
    handle->socket = &stream.socket();
    beast::flat_buffer buffer;
    // Beast reads as much as the buffer has room for, starting from 512 bytes: room for a whole
    // signed head plus a small body makes a 4 KiB PUT one recv instead of two or three.
    buffer.reserve(kHeadReadBytes);
    if (!stopping) {
      bool is_tls = false;
      if (tls_allowed && ssl_ctx) {
        stream.expires_after(options.idle_timeout);
        auto [ec, detected] = co_await beast::async_detect_ssl(stream, buffer, use_nothrow);
        is_tls = !ec && detected;
        if (ec) {
          goto done;
        }
      }
      if (is_tls) {
        beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *ssl_ctx);
        handle->socket = &beast::get_lowest_layer(tls).socket();
        beast::get_lowest_layer(tls).expires_after(options.idle_timeout);
        auto [ec, used] = co_await tls.async_handshake(ssl::stream_base::server, buffer.data(), use_nothrow);
        if (!ec) {
          buffer.consume(used);
          if (h2::alpn_chose_h2(tls.native_handle())) {
            co_await h2::serve(tls, buffer, http2_context(handler, *handle, true, remote));
          } else {
            co_await session(tls, buffer, handler, *handle, true, remote);
          }
          beast::get_lowest_layer(tls).expires_after(std::chrono::seconds(2));
          co_await tls.async_shutdown(use_nothrow);
        }
        handle->socket = nullptr;
      } else {
        const auto http2 = co_await sniff_preface(stream, buffer);
        if (http2 && *http2) {
          co_await h2::serve(stream, buffer, http2_context(handler, *handle, false, remote));
        } else if (http2) {
          co_await session(stream, buffer, handler, *handle, false, remote);
        }
        beast::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      }
    }
  done:;
  }

  // True for the HTTP/2 client preface (h2c with prior knowledge), nullopt if the connection ended
  // first. Reads on only while the bytes so far could still be the preface, so an HTTP/1.1
  // request costs no extra read.
  net::awaitable<std::optional<bool>> sniff_preface(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    for (;;) {
      auto seen = std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size());
      switch (h2::match_preface(seen)) {
        case h2::Preface::kYes:
          co_return true;
        case h2::Preface::kNo:
          co_return false;
        case h2::Preface::kPartial:
          break;
      }
      stream.expires_after(options.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kHeadReadBytes), use_nothrow);
      if (ec) {
        co_return std::nullopt;
      }
      buffer.commit(n);
    }
  }

  h2::Context http2_context(RequestHandler& handler, SessionHandle& handle, bool tls, const std::string& remote) {
    return h2::Context{
        handler,
        options,
        stopping,
        handle,
        tls,
        remote,
        [this](std::shared_ptr<protocol::PendingResponse> pending, std::function<void()>& interrupt,
               const bool* abandoned) { return wait_deferred(std::move(pending), interrupt, abandoned); },
        [this, remote](const std::string& method, const std::string& target, const protocol::RequestInfo* info,
                       int status, std::chrono::steady_clock::time_point started) {
          log_access(method, target, info, status, started, remote, true);
        }};
  }

  template <class Stream>
  net::awaitable<void> session(Stream& stream, beast::flat_buffer& buffer, RequestHandler& handler,
                               SessionHandle& handle, bool tls, const std::string& remote) {
    std::unique_ptr<char[]> io(new char[kIoChunk]);
    auto& lowest = beast::get_lowest_layer(stream);
    for (;;) {
      handle.idle = true;
      if (stopping) {
        co_return;
      }
      http::request_parser<http::empty_body> head_parser;
      head_parser.header_limit(options.header_limit_bytes);
      head_parser.body_limit(boost::none);
      lowest.expires_after(options.idle_timeout);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, head_parser, use_nothrow);
      handle.idle = false;
      if (ec) {
        if (ec == http::error::header_limit) {
          co_await write_simple(stream, 431, "RequestHeaderSectionTooLarge",
                                "Your request header section exceeds the maximum allowed size.");
        } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
                   ec != net::error::operation_aborted && ec != net::error::connection_reset &&
                   ec != net::error::eof && ec != ssl::error::stream_truncated) {
          co_await write_simple(stream, 400, "BadRequest", "The request could not be parsed: " + ec.message());
        }
        co_return;
      }
      auto started = std::chrono::steady_clock::now();
      auto& req = head_parser.get();
      protocol::RequestHead head;
      head.method = std::string(req.method_string());
      head.target = std::string(req.target());
      for (const auto& f : req) {
        head.headers.add(std::string(f.name_string()), std::string(f.value()));
      }
      head.tls = tls;
      head.remote_address = remote;
      head.split_target();
      std::string method = head.method;
      std::string target = head.target;
      const bool keep_alive = req.keep_alive();
      const bool has_body = req.has_content_length() ? head_parser.content_length().value_or(0) > 0
                                                     : req.chunked();
      const bool expect_continue = beast::iequals(req[http::field::expect], "100-continue");
      const bool navigation = is_navigation(req["sec-fetch-dest"]);

      protocol::Exchange ex;
      try {
        ex = handler.begin(std::move(head));
      } catch (const std::exception& e) {
        // Handlers promise not to throw; if one does, this request fails, not the connection.
        log::error(std::string("request failed before its body: ") + e.what());
        ex = protocol::Exchange{};
        ex.immediate = std::make_unique<Response>(simple(500, "InternalFailure", "The request could not be handled."));
      }
      Response response;
      bool close = !keep_alive;
      if (ex.immediate) {
        response = std::move(*ex.immediate);
        if (has_body) {
          close = true;  // the announced body was not read
        }
      } else if (head_parser.content_length() && *head_parser.content_length() > ex.body_limit) {
        ex.sink->abort();
        response = too_large(ex);
        close = true;
      } else {
        // Also for an empty body: botocore, when the final answer comes instead of the 100 it waits
        // for, leaves its connection unusable and its next request waits out its read timeout.
        // S3 sends the 100 either way.
        if (expect_continue && req.version() >= 11) {
          http::response<http::empty_body> cont{http::status::continue_, req.version()};
          lowest.expires_after(options.read_timeout);
          auto [wec, wn] = co_await http::async_write(stream, cont, use_nothrow);
          if (wec) {
            ex.sink->abort();
            co_return;
          }
        }
        bool failed = false;
        if (head_parser.content_length() && !req.chunked()) {
          // Content-Length bodies (nearly all uploads) are read straight into the I/O buffer in
          // pieces of up to kIoChunk: fewer, larger reads than through the parser, no timer per read.
          std::uint64_t remaining = *head_parser.content_length();
          auto buffered = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), remaining));
          if (buffered > 0) {
            ex.sink->write(std::string_view(static_cast<const char*>(buffer.data().data()), buffered));
            buffer.consume(buffered);
            remaining -= buffered;
          }
          auto watch = std::make_shared<BodyWatch>(lowest.get_executor());
          lowest.expires_never();
          if (remaining > 0) {
            watch->total = remaining;
            watch_body(watch, lowest, body_limits());
          }
          while (remaining > 0 && !ex.sink->failed()) {
            auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, kIoChunk));
            auto [rec, got] = co_await stream.async_read_some(net::buffer(io.get(), want), use_nothrow);
            watch->progress += got;
            if (got > 0) {
              ex.sink->write(std::string_view(io.get(), got));
              remaining -= got;
            }
            if (rec && remaining > 0) {
              watch->done = true;
              watch->timer.cancel();
              ex.sink->abort();
              if (rec == net::error::eof) {
                response = incomplete_body(ex);
                close = true;
                failed = true;
                break;
              }
              if (watch->too_slow) {
                response = too_slow(ex, remote);
                close = true;
                failed = true;
                break;
              }
              co_return;  // connection error or stall: nobody to answer
            }
          }
          watch->done = true;
          watch->timer.cancel();
        } else {
          http::request_parser<http::buffer_body> body_parser(std::move(head_parser));
          body_parser.body_limit(ex.body_limit);
          // read_some, not read: a read returns only once the piece is full, so a trickled body
          // would show the watch no progress.
          auto watch = std::make_shared<BodyWatch>(lowest.get_executor());
          lowest.expires_never();
          watch_body(watch, lowest, body_limits());
          struct EndWatch {
            std::shared_ptr<BodyWatch> w;
            ~EndWatch() {
              w->done = true;
              w->timer.cancel();
            }
          } end_watch{watch};
          while (!body_parser.is_done()) {
            body_parser.get().body().data = io.get();
            body_parser.get().body().size = kIoChunk;
            auto [rec, rn] = co_await http::async_read_some(stream, buffer, body_parser, use_nothrow);
            if (rec == http::error::need_buffer) {
              rec = {};
            }
            std::size_t got = kIoChunk - body_parser.get().body().size;
            watch->progress += got;
            if (got > 0 && !rec) {
              ex.sink->write(std::string_view(io.get(), got));
              if (ex.sink->failed()) {
                break;
              }
            }
            if (rec) {
              ex.sink->abort();
              failed = true;
              if (rec == http::error::body_limit) {
                response = too_large(ex);
                close = true;
                break;
              }
              if (rec == http::error::partial_message || rec == http::error::bad_chunk ||
                  rec == http::error::bad_chunk_extension) {
                response = incomplete_body(ex);
                close = true;
                break;
              }
              if (watch->too_slow) {
                response = too_slow(ex, remote);
                close = true;
                break;
              }
              co_return;  // connection error or timeout: nobody to answer
            }
          }
        }
        if (!failed) {
          response = finish_body(*ex.sink, ex);
          if (response.pending) {
            response = co_await wait_deferred(std::move(response.pending), handle.interrupt, nullptr);
          }
        }
        if (response.close_connection) {
          close = true;
        }
      }
      if (stopping) {
        close = true;
      }
      if (navigation && !response.headers.get("content-security-policy")) {
        // A page opened from fogbank (an uploaded HTML object) would share fogbank's origin and
        // could drive its admin API; sandboxed, it runs with an opaque origin ("null") instead.
        response.headers.set("Content-Security-Policy", kNavigationSandbox);
      }
      auto completion = prepare_completion(ex.info.get(), response, method == "HEAD");
      bool written = response.stream && method != "HEAD"
                         ? co_await write_stream(stream, response, req.version(), !close, handle.interrupt)
                         : co_await write_response(stream, response, method, req.version(), !close, io.get());
      log_access(method, target, ex.info.get(), response.status, started, remote);
      if (written) {
        report_completion(ex.info.get(), completion, started);
      }
      if (!written || close) {
        co_return;
      }
    }
  }

  // Waits for a deferred response (SQS long polling, pooled work) without holding a thread: the
  // session sleeps on a steady_timer on its strand that only a wake cancels. Wakes come from the
  // service (any thread), from a Scheduler timer at deadline_ms() on the server's Clock (so moving
  // a virtual clock past the deadline answers at once), and from shutdown, whose final poll
  // answers at once (an empty receive).
  net::awaitable<Response> wait_deferred(std::shared_ptr<protocol::PendingResponse> pending,
                                         std::function<void()>& interrupt, const bool* abandoned) {
    auto strand = co_await net::this_coro::executor;
    auto wait = std::make_shared<DeferredWait>(strand);
    std::weak_ptr<DeferredWait> weak = wait;
    auto wake = [weak, strand] {
      if (auto w = weak.lock()) {
        w->woken.store(true, std::memory_order_release);
        net::post(strand, [weak] {
          if (auto w2 = weak.lock(); w2 && !w2->done) {
            w2->timer.cancel();
          }
        });
      }
    };
    protocol::Scheduler& scheduler = *options.scheduler;
    const protocol::Clock& clock = scheduler.clock();
    pending->start(wake);
    interrupt = wake;
    std::optional<Response> result;
    protocol::Scheduler::TimerId deadline_timer = 0;
    try {
      const std::int64_t deadline_ms = pending->deadline_ms();
      auto arm_deadline = [&] {
        deadline_timer = scheduler.at(deadline_ms, [weak, wake] {
          if (auto w = weak.lock()) {
            w->deadline_fired.store(true, std::memory_order_release);
          }
          wake();
        });
      };
      arm_deadline();
      for (;;) {
        if (abandoned != nullptr && *abandoned) {
          break;  // nobody to answer: a final poll could take messages nobody receives
        }
        const bool at_deadline = stopping || clock.now_ms() >= deadline_ms;
        wait->woken.store(false, std::memory_order_relaxed);
        result = pending->poll(at_deadline);
        if (result || at_deadline) {
          break;
        }
        if (wait->deadline_fired.exchange(false, std::memory_order_acq_rel)) {
          arm_deadline();  // fired, yet not at the deadline: a virtual clock was set back
        }
        if (!wait->woken.load(std::memory_order_acquire)) {
          wait->timer.expires_at(net::steady_timer::time_point::max());
          co_await wait->timer.async_wait(use_nothrow);
        }
      }
    } catch (const std::exception& e) {
      log::error(std::string("deferred response failed: ") + e.what());
    }
    wait->done = true;
    interrupt = nullptr;
    if (deadline_timer != 0) {
      scheduler.cancel(deadline_timer);
    }
    pending->cancel();
    if (!result) {
      result = simple(500, "InternalFailure", "The deferred response could not be produced.");
    }
    co_return std::move(*result);
  }

  Response too_slow(const protocol::Exchange& ex, const std::string& remote) const {
    log::warn("request body from " + remote + " slower than " + std::to_string(options.min_body_rate) +
              " bytes/s over " + std::to_string(options.min_body_rate_window.count()) + " s: cut off");
    return request_timeout(ex);
  }
  [[nodiscard]] BodyLimits body_limits() const {
    return {options.read_timeout, options.min_body_rate, options.min_body_rate_window};
  }

  template <class Stream>
  net::awaitable<void> write_simple(Stream& stream, int status, std::string_view code, std::string_view message) {
    Response r = simple(status, code, message);
    co_await write_response(stream, r, "GET", 11, false, nullptr);
  }

  template <class Message>
  void fill_headers(Message& msg, Response& r, bool keep_alive) {
    bool has_date = false;
    bool has_server = false;
    for (const auto& [name, value] : r.headers.items()) {
      msg.insert(name, value);
      has_date = has_date || beast::iequals(name, "date");
      has_server = has_server || beast::iequals(name, "server");
    }
    if (!has_date) {
      msg.set(http::field::date, http_date());
    }
    if (!has_server) {
      msg.set(http::field::server, "fogbank");
    }
    msg.keep_alive(keep_alive);
  }

  template <class Stream>
  net::awaitable<bool> write_response(Stream& stream, Response& r, std::string_view method,
                                      unsigned version, bool keep_alive, char* io) {
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(options.read_timeout);
    const bool head_only = method == "HEAD";
    if (!r.producer) {
      http::response<http::string_body> msg{static_cast<http::status>(r.status), version};
      fill_headers(msg, r, keep_alive);
      std::uint64_t length = r.content_length.value_or(r.body.size());
      if (!head_only && r.status != 204 && r.status != 304) {
        msg.body() = std::move(r.body);
        msg.content_length(length);
      } else if (r.status != 204 && r.status != 304) {
        msg.content_length(length);
      }
      http::response_serializer<http::string_body> sr{msg};
      if (head_only) {
        auto [ec, n] = co_await http::async_write_header(stream, sr, use_nothrow);
        co_return !ec;
      }
      auto [ec, n] = co_await http::async_write(stream, sr, use_nothrow);
      co_return !ec;
    }
    http::response<http::buffer_body> msg{static_cast<http::status>(r.status), version};
    fill_headers(msg, r, keep_alive);
    msg.content_length(r.content_length.value_or(0));
    http::response_serializer<http::buffer_body> sr{msg};
    auto [hec, hn] = co_await http::async_write_header(stream, sr, use_nothrow);
    if (hec || head_only) {
      co_return !hec;
    }
    std::uint64_t sent = 0;
    for (;;) {
      std::size_t n = 0;
      try {
        n = r.producer->read(io, kIoChunk);
      } catch (const std::exception& e) {
        log::error(std::string("response body failed mid-stream: ") + e.what());
        co_return false;  // the client sees a short body and a closed connection
      }
      if (n == 0) {
        msg.body().data = nullptr;
        msg.body().size = 0;
        msg.body().more = false;
      } else {
        msg.body().data = io;
        msg.body().size = n;
        msg.body().more = true;
        sent += n;
      }
      lowest.expires_after(options.read_timeout);
      auto [ec, wn] = co_await http::async_write(stream, sr, use_nothrow);
      if (ec == http::error::need_buffer) {
        continue;
      }
      if (ec) {
        co_return false;
      }
      if (sr.is_done()) {
        co_return sent == r.content_length.value_or(0);
      }
    }
  }

  // A body of unknown length (an event stream): the head at once, then each piece as the service
  // produces it, in chunked transfer coding. HTTP/1.0 has no chunks: its body ends with the
  // connection. Returns false when the connection must close.
  template <class Stream>
  net::awaitable<bool> write_stream(Stream& stream, Response& r, unsigned version, bool keep_alive,
                                    std::function<void()>& interrupt) {
    auto& lowest = beast::get_lowest_layer(stream);
    const bool chunked = version >= 11;
    http::response<http::empty_body> msg{static_cast<http::status>(r.status), version};
    fill_headers(msg, r, keep_alive && chunked);
    if (chunked) {
      msg.chunked(true);
    }
    http::response_serializer<http::empty_body> sr{msg};
    lowest.expires_after(options.read_timeout);
    auto [hec, hn] = co_await http::async_write_header(stream, sr, use_nothrow);
    if (hec) {
      co_return false;
    }
    const std::shared_ptr<protocol::ResponseStream> body = std::move(r.stream);
    bool abandoned = false;
    while (!stopping) {
      auto piece = body->next();
      if (!piece) {
        break;
      }
      Response bytes = co_await wait_deferred(std::move(piece), interrupt, &abandoned);
      if (bytes.body.empty()) {
        continue;
      }
      lowest.expires_after(options.read_timeout);
      boost::system::error_code ec;
      if (chunked) {
        std::tie(ec, std::ignore) =
            co_await net::async_write(stream, http::make_chunk(net::buffer(bytes.body)), use_nothrow);
      } else {
        std::tie(ec, std::ignore) = co_await net::async_write(stream, net::buffer(bytes.body), use_nothrow);
      }
      if (ec) {
        co_return false;
      }
    }
    if (!chunked) {
      co_return false;
    }
    lowest.expires_after(options.read_timeout);
    auto [ec, n] = co_await net::async_write(stream, http::make_chunk_last(), use_nothrow);
    co_return !ec && !stopping;
  }

  void log_access(const std::string& method, const std::string& target, const protocol::RequestInfo* info,
                  int status, std::chrono::steady_clock::time_point started, const std::string& remote,
                  bool http2 = false) {
    if (options.access_log == nullptr || !options.access_log->load(std::memory_order_relaxed) ||
        !log::enabled(log::Level::kInfo)) {
      return;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    std::string line = method + " " + (target.size() > 200 ? target.substr(0, 200) + "..." : target);
    if (http2) {
      line += " HTTP/2";
    }
    line += " service=" + (info && !info->service.empty() ? info->service : std::string("-"));
    line += " op=" + (info && !info->operation.empty() ? info->operation : std::string("-"));
    line += " status=" + std::to_string(status);
    line += " latency_ms=" + std::to_string(us / 1000) + "." + std::to_string((us % 1000) / 100);
    line += " id=" + (info ? info->request_id : std::string("-"));
    line += " remote=" + remote;
    log::info(line);
  }

  void begin_stop() {
    if (stopping.exchange(true)) {
      return;
    }
    net::post(ioc, [this] {
      for (auto& a : acceptors) {
        beast::error_code ec;
        a->close(ec);
      }
      if (signals) {
        beast::error_code ec;
        signals->cancel(ec);
      }
      close_idle_sessions();
      auto timer = std::make_shared<net::steady_timer>(ioc);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      wait_for_sessions(timer, deadline);
    });
  }

  void close_idle_sessions() {
    std::lock_guard lock(sessions_mutex);
    for (auto& h : sessions) {
      net::post(h->strand, [h] {
        if (h->interrupt) {
          h->interrupt();  // a long poll answers now (empty) and the session then closes
        }
        if (h->alive && h->idle && h->socket != nullptr) {
          beast::error_code ec;
          h->socket->cancel(ec);
          h->socket->close(ec);
        }
      });
    }
  }

  void wait_for_sessions(std::shared_ptr<net::steady_timer> timer, std::chrono::steady_clock::time_point deadline) {
    if (active == 0 || std::chrono::steady_clock::now() >= deadline) {
      keep_running.clear();
      for (auto& c : contexts) {
        c->stop();
      }
      return;
    }
    close_idle_sessions();
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([this, timer, deadline](beast::error_code) { wait_for_sessions(timer, deadline); });
  }
};

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() = default;

std::uint16_t HttpServer::listen(const std::string& host, std::uint16_t port, RequestHandler& handler, bool tls) {
  beast::error_code ec;
  auto address = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on '" + host + "': not an IP address");
  }
  auto acceptor = std::make_unique<tcp::acceptor>(impl_->ioc);
  tcp::endpoint ep(address, port);
  acceptor->open(ep.protocol(), ec);
  if (!ec) {
    acceptor->set_option(net::socket_base::reuse_address(true), ec);
    acceptor->bind(ep, ec);
  }
  if (!ec) {
    acceptor->listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  auto bound = acceptor->local_endpoint().port();
  net::co_spawn(impl_->ioc, impl_->accept_loop(*acceptor, handler, tls), net::detached);
  impl_->acceptors.push_back(std::move(acceptor));
  return bound;
}

void HttpServer::install_signal_handlers() {
  impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](beast::error_code ec, int sig) {
    if (!ec) {
      log::info("signal " + std::to_string(sig) + " received, shutting down");
      impl_->begin_stop();
    }
  });
}

void HttpServer::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->contexts.size(); ++i) {
    threads.emplace_back([this, i] { impl_->contexts[i]->run(); });
  }
  impl_->ioc.run();
  for (auto& t : threads) {
    t.join();
  }
}

void HttpServer::stop() { impl_->begin_stop(); }

}  // namespace fogbank::server
