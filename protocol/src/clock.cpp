#include "fogbank/protocol/clock.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fogbank::protocol {

namespace {

std::int64_t real_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SystemClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t now_ms() const override { return real_now_ms(); }
};

// The protocol layer has no logger; stderr is where the server's log goes too. Swallowing the
// exception keeps the thread (and with it every other timer or queued task) alive.
void run_guarded(const std::function<void()>& fn, const char* what) noexcept {
  try {
    fn();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fogbank: %s threw: %s\n", what, e.what());
  } catch (...) {
    std::fprintf(stderr, "fogbank: %s threw a non-standard exception\n", what);
  }
}

// Named threads make `top -H` and debugger thread lists readable.
void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

// ---------------------------------------------------------------------------- VirtualClock

struct VirtualClock::State {
  std::atomic<std::int64_t> now{0};
  std::mutex mutex;  // guards everything below
  std::condition_variable idle;
  std::uint64_t next_id = 0;
  // shared_ptr so a notification can call a callback without holding the mutex while another
  // thread unsubscribes it.
  std::map<std::uint64_t, std::shared_ptr<const std::function<void()>>> subscribers;
  // Callbacks being called right now, and by which thread: unsubscribe() waits for those.
  std::vector<std::pair<std::uint64_t, std::thread::id>> calling;

  void notify() {
    std::vector<std::pair<std::uint64_t, std::shared_ptr<const std::function<void()>>>> targets;
    {
      std::lock_guard lock(mutex);
      targets.assign(subscribers.begin(), subscribers.end());
    }
    const auto self = std::this_thread::get_id();
    for (const auto& [id, fn] : targets) {
      {
        std::lock_guard lock(mutex);
        if (!subscribers.contains(id)) {
          continue;  // unsubscribed since the copy: its owner may already be gone
        }
        calling.emplace_back(id, self);
      }
      run_guarded(*fn, "clock subscriber");
      {
        std::lock_guard lock(mutex);
        calling.erase(std::find(calling.begin(), calling.end(), std::pair{id, self}));
      }
      idle.notify_all();
    }
  }
};

VirtualClock::VirtualClock() : VirtualClock(real_now_ms()) {}

VirtualClock::VirtualClock(std::int64_t start_ms) : state_(std::make_unique<State>()) {
  state_->now.store(start_ms);
}

VirtualClock::~VirtualClock() = default;

std::int64_t VirtualClock::now_ms() const { return state_->now.load(std::memory_order_acquire); }

std::uint64_t VirtualClock::subscribe(std::function<void()> on_change) {
  std::lock_guard lock(state_->mutex);
  const std::uint64_t id = ++state_->next_id;
  state_->subscribers.emplace(id, std::make_shared<const std::function<void()>>(std::move(on_change)));
  return id;
}

void VirtualClock::unsubscribe(std::uint64_t id) {
  auto& s = *state_;
  std::unique_lock lock(s.mutex);
  s.subscribers.erase(id);
  // A callback that unsubscribes itself must not wait for its own return.
  const auto self = std::this_thread::get_id();
  s.idle.wait(lock, [&] {
    return std::none_of(s.calling.begin(), s.calling.end(),
                        [&](const auto& c) { return c.first == id && c.second != self; });
  });
}

void VirtualClock::set_ms(std::int64_t unix_ms) {
  state_->now.store(unix_ms, std::memory_order_release);
  state_->notify();
}

void VirtualClock::advance_ms(std::int64_t delta_ms) {
  state_->now.fetch_add(delta_ms, std::memory_order_acq_rel);
  state_->notify();
}

// ---------------------------------------------------------------------------- Scheduler

struct Scheduler::State {
  explicit State(Clock& c) : clock(c) {}

  Clock& clock;
  std::uint64_t subscription = 0;
  bool subscribed = false;

  struct Due {
    std::int64_t at;
    TimerId id;
  };
  // Heap order that puts the earliest (then the first scheduled) entry at the front.
  static bool later(const Due& a, const Due& b) { return a.at != b.at ? a.at > b.at : a.id > b.id; }

  std::mutex mutex;                  // guards the timer state below
  std::condition_variable wake;      // the timer thread sleeps on it
  std::condition_variable progress;  // cancel() and clock movers wait on it
  // Cancelling only erases from `timers`: the heap entry stays until it is popped or compacted
  // away, which keeps cancel() O(1) for the common case (a long poll answered before its deadline).
  std::vector<Due> heap;
  std::unordered_map<TimerId, std::function<void()>> timers;
  TimerId next_id = 0;
  TimerId running = 0;  // the timer whose callback runs right now, 0 if none
  // Bumped by whatever may make a timer due sooner (an earlier timer, a moved virtual clock);
  // `scanned` is the epoch the timer thread last finished a pass for.
  std::uint64_t epoch = 0;
  std::uint64_t scanned = 0;
  bool stopping = false;
  std::thread::id timer_thread_id;
  std::thread timer_thread;

  std::mutex pool_mutex;  // guards the pool state below
  std::condition_variable pool_wake;
  std::deque<std::function<void()>> queue;
  bool pool_stopping = false;
  std::vector<std::thread> workers;

  void timer_loop() {
    name_this_thread("fogbank-timer");
    std::unique_lock lock(mutex);
    timer_thread_id = std::this_thread::get_id();
    while (!stopping) {
      const std::uint64_t seen = epoch;
      const std::int64_t now = clock.now_ms();
      while (!stopping && !heap.empty() && heap.front().at <= now) {
        const TimerId id = heap.front().id;
        std::pop_heap(heap.begin(), heap.end(), later);
        heap.pop_back();
        auto it = timers.find(id);
        if (it == timers.end()) {
          continue;  // cancelled
        }
        std::function<void()> fn = std::move(it->second);
        timers.erase(it);
        running = id;
        lock.unlock();
        run_guarded(fn, "timer");
        fn = nullptr;  // its captures may cancel or schedule timers: not under the lock
        lock.lock();
        running = 0;
        progress.notify_all();
      }
      scanned = seen;
      progress.notify_all();
      auto changed = [&] { return stopping || epoch != seen; };
      if (changed()) {
        continue;
      }
      if (heap.empty() || clock.is_virtual()) {
        wake.wait(lock, changed);  // a virtual clock's timers fall due only when it is moved
      } else {
        // An absolute system-clock deadline: a wall-clock step is then honoured by the wait
        // itself (CLOCK_REALTIME) instead of sleeping a stale duration.
        // Clamped to a day: system_clock counts nanoseconds, and a far-future timer (or one
        // already due) must neither overflow it nor pass a negative duration.
        const auto in = std::chrono::milliseconds(
            std::clamp<std::int64_t>(heap.front().at - clock.now_ms(), 0, 86'400'000));
        wake.wait_until(lock, std::chrono::system_clock::now() + in, changed);
      }
    }
  }

  // Called by the virtual clock after every move, on the mover's thread: returns once every timer
  // due at the new time has run, so "advance, then look" needs no polling.
  void on_clock_moved() {
    std::unique_lock lock(mutex);
    if (stopping) {
      return;
    }
    const std::uint64_t target = ++epoch;
    wake.notify_one();
    if (std::this_thread::get_id() == timer_thread_id) {
      return;  // a timer callback moved the clock: the current pass rescans after it returns
    }
    progress.wait(lock, [&] { return stopping || scanned >= target; });
  }

  void compact_if_sparse() {
    if (heap.size() > 64 && heap.size() > 2 * timers.size()) {
      std::erase_if(heap, [&](const Due& d) { return !timers.contains(d.id); });
      std::make_heap(heap.begin(), heap.end(), later);
    }
  }

  void work_loop() {
    name_this_thread("fogbank-pool");
    std::unique_lock lock(pool_mutex);
    for (;;) {
      pool_wake.wait(lock, [&] { return pool_stopping || !queue.empty(); });
      if (queue.empty()) {
        return;  // stopping, and everything queued has run
      }
      std::function<void()> work = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      run_guarded(work, "pooled work");
      work = nullptr;
      lock.lock();
    }
  }

  void stop() noexcept {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    progress.notify_all();
    if (timer_thread.joinable()) {
      timer_thread.join();
    }
    // After the timer thread: a timer's last post() still finds the pool running.
    {
      std::lock_guard lock(pool_mutex);
      pool_stopping = true;
    }
    pool_wake.notify_all();
    for (auto& w : workers) {
      if (w.joinable()) {
        w.join();
      }
    }
  }
};

Scheduler::Scheduler(Clock& clock, std::size_t pool_threads) : state_(std::make_unique<State>(clock)) {
  auto& s = *state_;
  try {
    s.timer_thread = std::thread([&s] { s.timer_loop(); });
    for (std::size_t i = 0; i < std::max<std::size_t>(1, pool_threads); ++i) {
      s.workers.emplace_back([&s] { s.work_loop(); });
    }
  } catch (...) {
    s.stop();  // joinable threads must not be destroyed
    throw;
  }
  if (clock.is_virtual()) {
    s.subscription = clock.subscribe([&s] { s.on_clock_moved(); });
    s.subscribed = true;
  }
}

Scheduler::~Scheduler() {
  auto& s = *state_;
  if (s.subscribed) {
    s.clock.unsubscribe(s.subscription);
  }
  s.stop();
  std::unordered_map<TimerId, std::function<void()>> dropped;
  {
    std::lock_guard lock(s.mutex);
    dropped.swap(s.timers);
    s.heap.clear();
  }
}

Clock& Scheduler::clock() const { return state_->clock; }

Scheduler::TimerId Scheduler::at(std::int64_t due_ms, std::function<void()> fn) {
  auto& s = *state_;
  std::unique_lock lock(s.mutex);
  const TimerId id = ++s.next_id;
  s.timers.emplace(id, std::move(fn));
  s.heap.push_back({due_ms, id});
  std::push_heap(s.heap.begin(), s.heap.end(), State::later);
  if (s.heap.front().id == id) {
    // Only a new earliest timer changes how long the timer thread should sleep.
    ++s.epoch;
    lock.unlock();
    s.wake.notify_one();
  }
  return id;
}

bool Scheduler::cancel(TimerId id) {
  auto& s = *state_;
  std::function<void()> dropped;  // destroyed after the lock is released (declared before it)
  std::unique_lock lock(s.mutex);
  if (auto it = s.timers.find(id); it != s.timers.end()) {
    dropped = std::move(it->second);
    s.timers.erase(it);
    s.compact_if_sparse();
    return true;
  }
  if (s.running == id && std::this_thread::get_id() != s.timer_thread_id) {
    s.progress.wait(lock, [&] { return s.running != id; });
  }
  return false;
}

void Scheduler::post(std::function<void()> work) {
  auto& s = *state_;
  {
    std::lock_guard lock(s.pool_mutex);
    s.queue.push_back(std::move(work));
  }
  s.pool_wake.notify_one();
}

}  // namespace fogbank::protocol
