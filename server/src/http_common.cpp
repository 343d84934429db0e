#include "http_common.hpp"

#include <ctime>

#include "fogbank/server/log.hpp"

namespace fogbank::server {

using protocol::Response;

bool is_navigation(std::string_view dest) {
  return dest == "document" || dest == "iframe" || dest == "frame" || dest == "embed" || dest == "object" ||
         dest == "fencedframe";
}

// Real time, never the virtual clock: SDKs correct their signing clock from Date after a skew
// error, and the skew check is on real time.
std::string http_date() {
  thread_local std::time_t formatted_at = -1;
  thread_local std::string formatted;
  const std::time_t t = std::time(nullptr);
  if (t != formatted_at) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    formatted = buf;
    formatted_at = t;
  }
  return formatted;
}

Response simple(int status, std::string_view code, std::string_view message) {
  return protocol::Dispatcher::generic_error(status, code, message,
                                             protocol::Dispatcher::new_request_id(protocol::WireProtocol::kQuery));
}

Response request_error(const protocol::Exchange& ex, int status, std::string_view code, std::string_view message) {
  protocol::AwsError error(std::string(code), status, std::string(message));
  if (ex.render_error) {
    return ex.render_error(error);
  }
  return simple(status, code, message);
}

Response too_large(const protocol::Exchange& ex) {
  return request_error(ex, 413, "RequestEntityTooLarge", "Your request body is larger than this endpoint accepts.");
}

Response incomplete_body(const protocol::Exchange& ex) {
  return request_error(ex, 400, "IncompleteBody", "The request body terminated unexpectedly");
}

Response request_timeout(const protocol::Exchange& ex) {
  return request_error(ex, 400, "RequestTimeout",
                       "Your socket connection to the server was not read from or written to within the "
                       "timeout period. Idle connections will be closed.");
}

Response finish_body(protocol::BodySink& sink, const protocol::Exchange& ex) {
  try {
    return sink.finish();
  } catch (const std::exception& e) {
    log::error(std::string("request failed: ") + e.what());
    return request_error(ex, 500, "InternalFailure", "The request could not be handled.");
  }
}

PendingCompletion prepare_completion(const protocol::RequestInfo* info, const protocol::Response& r, bool head_only) {
  PendingCompletion out;
  if (info == nullptr || !info->on_complete) {
    return out;
  }
  out.done.status = r.status;
  out.done.headers = &r.headers;
  out.done.content_length = r.stream ? 0 : r.content_length.value_or(r.body.size());
  out.done.bytes_sent = head_only ? 0 : out.done.content_length;
  if (r.status >= 300 && !r.producer && !r.stream) {
    out.error_body = r.body;  // error documents are small
  }
  return out;
}

void report_completion(const protocol::RequestInfo* info, PendingCompletion& pending,
                       std::chrono::steady_clock::time_point started) {
  if (info == nullptr || !info->on_complete) {
    return;
  }
  pending.done.body = pending.error_body;
  pending.done.total_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  try {
    info->on_complete(pending.done);
  } catch (const std::exception& e) {
    log::error(std::string("completion hook failed: ") + e.what());
  }
}

bool is_connection_specific(std::string_view n) {
  return n == "connection" || n == "keep-alive" || n == "transfer-encoding" || n == "upgrade" ||
         n == "proxy-connection" || n == "te";
}

}  // namespace fogbank::server
