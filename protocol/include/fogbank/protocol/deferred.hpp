#pragma once
// Blocking work answered from the pool: a handler that would block its I/O thread (a large
// CopyObject's byte copy, a memtable flush before a large commit) returns run_on_pool(...) instead
// of doing the work. The server waits for the placeholder's PendingResponse like for a long poll,
// holding no thread, and sends the work's Response when it is ready.
//
//   return protocol::run_on_pool(scheduler, [call] { return copy(*call); },
//                                [call](const AwsError& e) { return render(*call, e); });
//
// What `work` may touch: it runs while the server waits for it, so request state that lives until
// the response is sent (RequestContext, RequestHead, the request's BodySink) stays valid, and so do
// services and the Store. Handler locals do not: capture by value or shared_ptr. If the server stops
// waiting early (cancel(), or the placeholder is destroyed), work that has not started never runs,
// and work that is running is waited for, so that guarantee holds however the wait ends.

#include <cstdint>
#include <functional>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/http.hpp"

namespace fogbank::protocol {

/// Turns an error thrown by deferred work into the response to send, in the service's protocol and
/// with its request-id headers (a service's own renderer today; the dispatcher's error boundary,
/// render_for_request, once it is public). Called on a pool thread; must not throw.
using ErrorRenderer = std::function<Response(const AwsError&)>;

/// Posts a task to some pool; Scheduler::post, or a test's executor. Must not run it inline.
using PoolExecutor = std::function<void(std::function<void()>)>;

/// How long the server waits for deferred work before asking for the answer regardless: a day, so
/// in practice only shutdown cuts the wait short (poll(true) then produces the real answer).
inline constexpr std::int64_t kDeferredWorkDeadlineMs = 24LL * 60 * 60 * 1000;

/// Runs `work` on `scheduler`'s pool and returns a placeholder Response whose `pending` completes
/// (and calls the server's wake) when it has finished. Its poll() returns the work's Response; an
/// AwsError the work throws becomes `render_error(e)`, any other exception
/// `render_error(errors::internal_failure())`. `render_error` must not be empty.
///
/// The deadline is kDeferredWorkDeadlineMs from scheduler.clock()'s now. poll(true) before the work
/// is done (server shutdown) runs it on the calling thread if no pool thread has taken it yet, or
/// waits for it otherwise: the client gets the real outcome of its request.
[[nodiscard]] Response run_on_pool(Scheduler& scheduler, std::function<Response()> work, ErrorRenderer render_error);

/// The same on any executor, with an explicit deadline (unix ms, in the server's Clock time): tests,
/// and code that has no Scheduler.
[[nodiscard]] Response run_on_pool(const PoolExecutor& post, std::int64_t deadline_ms,
                                   std::function<Response()> work, ErrorRenderer render_error);

}  // namespace fogbank::protocol
