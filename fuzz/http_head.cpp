// The request head as the server reads it: Beast's request_parser<empty_body> with the server's
// limits (64 KiB header section, no body limit while reading the head), the copy into a
// protocol::RequestHead, split_target and host_name; then the body through the parser the
// server uses for chunked bodies. Byte 0 seeds the sizes of the reads the bytes arrive in.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "fogbank/protocol/http.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;
namespace http = boost::beast::http;

namespace {

// server/src/http_server.hpp: Options::header_limit_bytes.
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

/// Reads as async_read_header does: append what "arrived", put() what is buffered, keep the
/// unconsumed rest. Returns false on a parse error (the server answers 400 or 431 and closes).
template <class Parser>
bool feed(Parser& parser, std::string& buffered, std::string_view& wire, std::uint8_t seed,
          bool (*done)(const Parser&)) {
  for (std::size_t k = 0; !done(parser);) {
    boost::system::error_code ec;
    auto used = parser.put(boost::asio::buffer(buffered.data(), buffered.size()), ec);
    buffered.erase(0, used);
    if (ec == http::error::need_more) {
      ec = {};
    } else if (ec == http::error::need_buffer) {
      return true;  // the body piece is full: the server hands it on and reads again
    }
    if (ec) {
      return false;
    }
    if (used == 0) {
      if (wire.empty()) {
        parser.put_eof(ec);
        return !ec && done(parser);
      }
      std::size_t n = seed == 0 ? wire.size() : 1 + (seed + k++ * 37) % 509;
      n = std::min(n, wire.size());
      buffered.append(wire.substr(0, n));
      wire.remove_prefix(n);
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto seed = in.byte();
  std::string_view wire = in.rest();
  std::string buffered;

  http::request_parser<http::empty_body> head_parser;
  head_parser.header_limit(kHeaderLimit);
  head_parser.body_limit(boost::none);
  using HeadParser = http::request_parser<http::empty_body>;
  if (!feed<HeadParser>(head_parser, buffered, wire, seed,
                        [](const HeadParser& p) { return p.is_header_done(); })) {
    return 0;
  }

  auto& req = head_parser.get();
  protocol::RequestHead head;
  head.method = std::string(req.method_string());
  head.target = std::string(req.target());
  for (const auto& f : req) {
    head.headers.add(std::string(f.name_string()), std::string(f.value()));
  }
  head.split_target();
  FOGBANK_FUZZ_CHECK(!head.path.empty() && head.path.front() == '/', head.target);
  FOGBANK_FUZZ_CHECK(head.path.size() + head.query.size() <= head.target.size() + 1, head.target);
  auto host = head.host_name();
  FOGBANK_FUZZ_CHECK(host.size() <= head.headers.get("host").value_or("").size(), head.target);
  (void)req.keep_alive();
  (void)head_parser.content_length();

  // The server's body path for chunked (and other non-Content-Length) bodies.
  http::request_parser<http::buffer_body> body_parser(std::move(head_parser));
  body_parser.body_limit(1 << 20);
  char piece[4096];
  using BodyParser = http::request_parser<http::buffer_body>;
  for (int rounds = 0; rounds < 1024 && !body_parser.is_done(); ++rounds) {
    body_parser.get().body().data = piece;
    body_parser.get().body().size = sizeof piece;
    const bool ok = feed<BodyParser>(body_parser, buffered, wire, seed, [](const BodyParser& p) {
      return p.is_done() || p.get().body().size == 0;
    });
    if (!ok) {
      break;
    }
    if (!body_parser.is_done() && wire.empty() && buffered.empty()) {
      break;
    }
  }
  return 0;
}
