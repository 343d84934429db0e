#include "outbound_http.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <mutex>
#include <optional>
#include <thread>

#include "fogbank/server/log.hpp"

namespace fogbank::server {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using protocol::OutboundRequest;
using protocol::OutboundResponse;

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t kBodyKept = 64 * 1024;

struct Target {
  bool tls = false;
  std::string host;  ///< without IPv6 brackets
  std::string port;
  std::string host_header;
  std::string path;  ///< path and query, "/" at least
};

std::optional<Target> parse_url(std::string_view url) {
  Target t;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    t.tls = true;
  } else {
    return std::nullopt;
  }
  const auto slash = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  t.path = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // user:password@ is not sent
  }
  t.host_header = std::string(authority);
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    t.host = std::string(authority.substr(1, close - 1));
    if (authority.size() > close + 1) {
      if (authority[close + 1] != ':') {
        return std::nullopt;
      }
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.find(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
  }
  if (t.host.empty() || port.find_first_not_of("0123456789") != std::string_view::npos || port.size() > 5) {
    return std::nullopt;
  }
  t.port = port.empty() ? (t.tls ? "443" : "80") : std::string(port);
  return t;
}

OutboundResponse failure(std::string why) {
  OutboundResponse r;
  r.error = std::move(why);
  return r;
}

template <class Stream>
net::awaitable<OutboundResponse> exchange(Stream& stream, const OutboundRequest& request, const Target& target) {
  http::request<http::string_body> req{http::string_to_verb(request.method), target.path, 11};
  if (req.method() == http::verb::unknown) {
    req.method_string(request.method);
  }
  req.set(http::field::host, target.host_header);
  for (const auto& [name, value] : request.headers) {
    req.set(name, value);
  }
  req.body() = request.body;
  req.prepare_payload();
  req.keep_alive(false);
  auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow);
  if (wec) {
    co_return failure("sending the request failed: " + wec.message());
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_nothrow);
  if (rec && !parser.is_header_done()) {
    co_return failure("no HTTP response: " + rec.message());
  }
  OutboundResponse r;
  r.status = static_cast<int>(parser.get().result_int());
  r.body = std::move(parser.get().body());
  if (r.body.size() > kBodyKept) {
    r.body.resize(kBodyKept);
  }
  co_return r;
}

}  // namespace

struct OutboundHttp::Impl {
  explicit Impl(const OutboundOptions& options)
      : tls_(ssl::context::tls_client), work_(net::make_work_guard(io_)) {
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
    if (options.verify_tls) {
      boost::system::error_code ec;
      tls_.set_default_verify_paths(ec);
      if (!options.extra_ca.empty()) {
        tls_.load_verify_file(options.extra_ca, ec);
      }
      tls_.set_verify_mode(ssl::verify_peer);
    } else {
      tls_.set_verify_mode(ssl::verify_none);
    }
    verify_ = options.verify_tls;
    thread_ = std::thread([this] { io_.run(); });
  }

  void shutdown() {
    std::call_once(stopped_, [this] {
      work_.reset();
      io_.stop();
      if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();  // released from one of its own callbacks: it ends after this one
      } else {
        thread_.join();
      }
    });
  }

  void send(OutboundRequest request, std::function<void(OutboundResponse)> done) {
    net::co_spawn(io_, run(std::move(request)),
                  [done = std::move(done)](std::exception_ptr error, OutboundResponse response) {
                    if (error) {
                      response = failure("internal error");
                    }
                    done(std::move(response));
                  });
  }

  net::awaitable<OutboundResponse> run(OutboundRequest request) {
    auto target = parse_url(request.url);
    if (!target) {
      co_return failure("not an http:// or https:// URL");
    }
    auto executor = co_await net::this_coro::executor;
    tcp::resolver resolver(executor);
    beast::tcp_stream tcp_stream(executor);
    // Resolution is not covered by the stream's timeout: a timer of its own cancels it (and is
    // done before the stream can move into a TLS stream).
    net::steady_timer deadline(executor, request.timeout);
    deadline.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) {
        resolver.cancel();
        tcp_stream.cancel();
      }
    });
    tcp_stream.expires_after(request.timeout);
    auto [rec, endpoints] = co_await resolver.async_resolve(target->host, target->port, use_nothrow);
    if (rec) {
      co_return failure("cannot resolve " + target->host + ": " + rec.message());
    }
    auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, use_nothrow);
    deadline.cancel();
    if (cec) {
      co_return failure("cannot connect to " + target->host_header + ": " + cec.message());
    }
    OutboundResponse response;
    if (!target->tls) {
      response = co_await exchange(tcp_stream, request, *target);
    } else {
      beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(tcp_stream), tls_);
      if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), target->host.c_str())) {
        co_return failure("cannot set the TLS server name");
      }
      if (verify_) {
        tls_stream.set_verify_callback(ssl::host_name_verification(target->host));
      }
      auto [hec] = co_await tls_stream.async_handshake(ssl::stream_base::client, use_nothrow);
      if (hec) {
        co_return failure("TLS handshake with " + target->host_header + " failed: " + hec.message());
      }
      response = co_await exchange(tls_stream, request, *target);
    }
    co_return response;
  }

  net::io_context io_;
  ssl::context tls_;
  bool verify_ = true;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::thread thread_;
  std::once_flag stopped_;
};

OutboundHttp::OutboundHttp(const OutboundOptions& options) : impl_(std::make_unique<Impl>(options)) {}

OutboundHttp::~OutboundHttp() { impl_->shutdown(); }

void OutboundHttp::send(OutboundRequest request, std::function<void(OutboundResponse)> done) {
  impl_->send(std::move(request), std::move(done));
}

void OutboundHttp::shutdown() { impl_->shutdown(); }

}  // namespace fogbank::server
