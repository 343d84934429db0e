#include "fogbank/protocol/deferred.hpp"

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace fogbank::protocol {

namespace {

/// One piece of deferred work, shared by the pool task and the placeholder the server holds, so
/// either may go first.
class Job {
 public:
  enum class Phase { kQueued, kRunning, kDone, kDropped };

  Job(std::function<Response()> work, ErrorRenderer render_error)
      : work_(std::move(work)), render_error_(std::move(render_error)) {}

  /// Runs the work unless someone already has (or it was dropped); false if it did not run here.
  /// Both the pool task and poll(true) call this, so exactly one of them runs it.
  bool claim_and_run() {
    std::function<Response()> work;
    {
      std::lock_guard lock(mutex_);
      if (phase_ != Phase::kQueued) {
        return false;
      }
      phase_ = Phase::kRunning;
      work = std::move(work_);
    }
    Response response = produce(work);
    // The work's captures go before the server hears about it: what they hold is released by
    // the time the response is sent.
    work = nullptr;
    {
      std::lock_guard lock(mutex_);
      result_ = std::move(response);
      phase_ = Phase::kDone;
      // Under the lock: cancel() clears wake_ under it too, so wake never runs after cancel()
      // returned (the server may be gone then). A wake only posts to the session's strand.
      if (wake_) {
        wake_();
      }
    }
    finished_.notify_all();
    return true;
  }

  void start(std::function<void()> wake) {
    std::lock_guard lock(mutex_);
    wake_ = std::move(wake);
    if (phase_ == Phase::kDone) {
      wake_();  // finished before the server started waiting; its first poll sees it anyway
    }
  }

  std::optional<Response> poll(bool at_deadline) {
    std::unique_lock lock(mutex_);
    if (phase_ != Phase::kDone && !at_deadline) {
      return std::nullopt;
    }
    if (phase_ == Phase::kQueued) {
      // Shutdown (or a clock moved a day ahead): no pool thread has taken the work, and one may
      // never do so now. Running it here gives the client the real outcome.
      lock.unlock();
      claim_and_run();
      lock.lock();
    }
    finished_.wait(lock, [&] { return phase_ == Phase::kDone || phase_ == Phase::kDropped; });
    if (!result_) {
      // Polled after the answer was taken, or after cancel(): the server's contract rules both
      // out, but poll(true) must still answer something.
      return render_safely(errors::internal_failure("The deferred response was already delivered."));
    }
    std::optional<Response> out = std::move(result_);
    result_.reset();
    return out;
  }

  void cancel() noexcept {
    std::function<Response()> dropped;  // destroyed after the lock is released (declared before it)
    std::unique_lock lock(mutex_);
    wake_ = nullptr;
    if (phase_ == Phase::kQueued) {
      // The request's state may go as soon as this returns: the task must not start on it.
      phase_ = Phase::kDropped;
      dropped = std::move(work_);
      return;
    }
    // Running: what it reads must outlive it, so wait (this is only reached when the server stops
    // waiting without a final poll, which it does not do today).
    finished_.wait(lock, [&] { return phase_ != Phase::kRunning; });
  }

 private:
  Response produce(const std::function<Response()>& work) noexcept {
    try {
      return work();
    } catch (const AwsError& e) {
      return render_safely(e);
    } catch (...) {
      return render_safely(errors::internal_failure());
    }
  }

  Response render_safely(const AwsError& error) noexcept {
    try {
      return render_error_(error);
    } catch (...) {
      // A renderer that throws must not leave the server waiting a day for an answer.
      Response r;
      r.status = 500;
      return r;
    }
  }

  std::mutex mutex_;
  std::condition_variable finished_;
  Phase phase_ = Phase::kQueued;
  std::function<Response()> work_;
  const ErrorRenderer render_error_;
  std::optional<Response> result_;
  std::function<void()> wake_;
};

class PooledResponse final : public PendingResponse {
 public:
  PooledResponse(std::shared_ptr<Job> job, std::int64_t deadline_ms) : job_(std::move(job)), deadline_ms_(deadline_ms) {}
  ~PooledResponse() override { job_->cancel(); }
  PooledResponse(const PooledResponse&) = delete;
  PooledResponse& operator=(const PooledResponse&) = delete;

  void start(std::function<void()> wake) override { job_->start(std::move(wake)); }
  [[nodiscard]] std::optional<Response> poll(bool at_deadline) override { return job_->poll(at_deadline); }
  void cancel() noexcept override { job_->cancel(); }
  [[nodiscard]] std::int64_t deadline_ms() const override { return deadline_ms_; }

 private:
  std::shared_ptr<Job> job_;
  std::int64_t deadline_ms_;
};

}  // namespace

Response run_on_pool(const PoolExecutor& post, std::int64_t deadline_ms, std::function<Response()> work,
                     ErrorRenderer render_error) {
  auto job = std::make_shared<Job>(std::move(work), std::move(render_error));
  Response placeholder;
  placeholder.pending = std::make_shared<PooledResponse>(job, deadline_ms);
  try {
    post([job] { job->claim_and_run(); });
  } catch (...) {
    // The pool refused the task (stopping): blocking this thread once beats never answering.
    job->claim_and_run();
  }
  return placeholder;
}

Response run_on_pool(Scheduler& scheduler, std::function<Response()> work, ErrorRenderer render_error) {
  return run_on_pool([&scheduler](std::function<void()> task) { scheduler.post(std::move(task)); },
                     scheduler.clock().now_ms() + kDeferredWorkDeadlineMs, std::move(work),
                     std::move(render_error));
}

}  // namespace fogbank::protocol
