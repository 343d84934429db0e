#include "outbox.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "delivery.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/keys.hpp"

namespace fogbank::sns {

namespace {

class SchedulerExecutor final : public DeliveryExecutor {
 public:
  explicit SchedulerExecutor(protocol::Scheduler& scheduler) : scheduler_(scheduler) {}
  [[nodiscard]] std::int64_t now_ms() const override { return scheduler_.clock().now_ms(); }
  TimerId at(std::int64_t due_ms, std::function<void()> fn) override { return scheduler_.at(due_ms, std::move(fn)); }
  void cancel(TimerId id) override { scheduler_.cancel(id); }
  void post(std::function<void()> fn) override { scheduler_.post(std::move(fn)); }

 private:
  protocol::Scheduler& scheduler_;
};

constexpr char kKind = 'q';

enum class Outcome { kDelivered, kRetry, kPermanent };

/// AWS: 2xx-3xx deliver; 4xx are permanent failures (not retried); 100-101, 5xx, timeouts and
/// connection errors are retried.
Outcome classify(int status) {
  if (status >= 200 && status < 400) {
    return Outcome::kDelivered;
  }
  if (status >= 400 && status < 500) {
    return Outcome::kPermanent;
  }
  return Outcome::kRetry;
}

std::string failure_text(const protocol::OutboundResponse& r) {
  if (r.status == 0) {
    return r.error.empty() ? std::string("no response from the endpoint") : r.error;
  }
  return "the endpoint answered HTTP " + std::to_string(r.status);
}

}  // namespace

std::shared_ptr<DeliveryExecutor> scheduler_executor(protocol::Scheduler& scheduler) {
  return std::make_shared<SchedulerExecutor>(scheduler);
}

Outbox::Outbox(storage::Store& store, std::shared_ptr<DeliveryExecutor> executor,
               std::shared_ptr<protocol::HttpClient> http, std::shared_ptr<sqs::MessageSink> queues,
               std::shared_ptr<DeliveryLog> log, OutboxLimits limits)
    : store_(store), executor_(std::move(executor)), http_(std::move(http)), queues_(std::move(queues)),
      log_(std::move(log)), limits_(limits) {}

Outbox::~Outbox() {
  std::vector<DeliveryExecutor::TimerId> timers;
  {
    std::lock_guard lock(mutex_);
    timers = clear_locked();
  }
  for (auto id : timers) {
    executor_->cancel(id);
  }
}

std::string Outbox::key(std::uint64_t id) {
  return storage::KeyBuilder(std::string_view(&kKind, 1)).u64(id).key();
}

std::string Outbox::encode(const OutboxEntry& e) {
  nlohmann::json attributes = nlohmann::json::array();
  for (const auto& [name, a] : e.attributes) {
    attributes.push_back({name, a.data_type, protocol::base64_encode(a.value)});
  }
  const auto& r = e.policy.retry;
  nlohmann::json policy = {{"min", r.min_delay},
                           {"max", r.max_delay},
                           {"retries", r.num_retries},
                           {"no_delay", r.no_delay_retries},
                           {"min_retries", r.min_delay_retries},
                           {"max_retries", r.max_delay_retries},
                           {"backoff", static_cast<int>(r.backoff)},
                           {"rate", e.policy.max_receives_per_second},
                           {"content_type", e.policy.content_type}};
  nlohmann::json j = {{"id", e.id},
                      {"subscription", e.subscription_arn},
                      {"topic", e.topic_arn},
                      {"protocol", e.protocol},
                      {"endpoint", e.endpoint},
                      {"type", e.type},
                      {"message_id", e.message_id},
                      {"subject", e.subject},
                      {"body", protocol::base64_encode(e.body)},  // bytes as published, UTF-8 or not
                      {"raw", e.raw},
                      {"attributes", std::move(attributes)},
                      {"policy", std::move(policy)},
                      {"dlq", e.dead_letter_queue},
                      {"created", e.created_ms},
                      {"due", e.due_ms},
                      {"attempts", e.attempts}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool Outbox::decode(std::string_view data, OutboxEntry& e) {
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (!j.is_object()) {
    return false;
  }
  try {
    e.id = j.at("id").get<std::uint64_t>();
    e.subscription_arn = j.at("subscription").get<std::string>();
    e.topic_arn = j.at("topic").get<std::string>();
    e.protocol = j.at("protocol").get<std::string>();
    e.endpoint = j.at("endpoint").get<std::string>();
    e.type = j.at("type").get<std::string>();
    e.message_id = j.at("message_id").get<std::string>();
    e.subject = j.value("subject", std::string());
    auto body = protocol::base64_decode(j.at("body").get<std::string>());
    if (!body) {
      return false;
    }
    e.body = std::move(*body);
    e.raw = j.value("raw", false);
    for (const auto& a : j.at("attributes")) {
      auto value = protocol::base64_decode(a.at(2).get<std::string>());
      if (!value) {
        return false;
      }
      e.attributes[a.at(0).get<std::string>()] = {a.at(1).get<std::string>(), std::move(*value)};
    }
    const auto& p = j.at("policy");
    auto& r = e.policy.retry;
    r.min_delay = p.at("min").get<int>();
    r.max_delay = p.at("max").get<int>();
    r.num_retries = p.at("retries").get<int>();
    r.no_delay_retries = p.at("no_delay").get<int>();
    r.min_delay_retries = p.at("min_retries").get<int>();
    r.max_delay_retries = p.at("max_retries").get<int>();
    r.backoff = static_cast<Backoff>(std::clamp(p.at("backoff").get<int>(), 0, 3));
    e.policy.max_receives_per_second = p.at("rate").get<int>();
    e.policy.content_type = p.at("content_type").get<std::string>();
    e.dead_letter_queue = j.value("dlq", std::string());
    e.created_ms = j.at("created").get<std::int64_t>();
    e.due_ms = j.at("due").get<std::int64_t>();
    e.attempts = j.at("attempts").get<int>();
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return true;
}

DeliveryRecord Outbox::record_of(const OutboxEntry& e, std::int64_t time_ms) const {
  DeliveryRecord r;
  r.time_ms = time_ms;
  r.protocol = e.protocol;
  r.endpoint = e.endpoint;
  r.subscription_arn = e.subscription_arn;
  r.topic_arn = e.topic_arn;
  r.type = e.type;
  r.message_id = e.message_id;
  r.subject = e.subject;
  r.body = e.body;
  return r;
}

std::optional<OutboxEntry> Outbox::stage(storage::Batch& batch, OutboxEntry entry) {
  {
    std::lock_guard lock(mutex_);
    static const Usage kNone;
    auto found = usage_.find(entry.subscription_arn);
    const Usage& u = found != usage_.end() ? found->second : kNone;
    const std::size_t bytes = entry.bytes();
    if (u.entries + 1 <= limits_.entries_per_subscription && u.bytes + bytes <= limits_.bytes_per_subscription &&
        bytes_ + bytes <= limits_.bytes) {
      entry.id = next_id_++;
      batch.put(storage::Space::kSns, key(entry.id), encode(entry));
      return entry;
    }
  }
  DeliveryRecord r = record_of(entry, executor_->now_ms());
  give_up(std::move(entry), std::move(r), "OutboxFull",
          "too many deliveries are waiting for this subscription's endpoint");
  return std::nullopt;
}

void Outbox::activate(std::vector<OutboxEntry> entries) {
  std::lock_guard lock(mutex_);
  for (auto& e : entries) {
    Usage& u = usage_[e.subscription_arn];
    u.entries += 1;
    u.bytes += e.bytes();
    bytes_ += e.bytes();
    const auto id = e.id;
    Slot& slot = slots_[id];
    slot.entry = std::move(e);
    schedule_locked(slot);
  }
}

void Outbox::schedule_locked(Slot& slot) {
  OutboxEntry& e = slot.entry;
  std::int64_t start = e.due_ms;
  if (e.policy.max_receives_per_second > 0) {
    Usage& u = usage_[e.subscription_arn];
    start = std::max({start, u.next_slot_ms, executor_->now_ms()});
    u.next_slot_ms = start + std::max<std::int64_t>(1, 1000 / e.policy.max_receives_per_second);
  }
  e.due_ms = start;
  std::weak_ptr<Outbox> weak = weak_from_this();
  const auto id = e.id;
  slot.timer = executor_->at(start, [weak, id] {
    if (auto self = weak.lock()) {
      self->attempt(id);
    }
  });
}

void Outbox::attempt(std::uint64_t id) {
  protocol::OutboundRequest request;
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(id);
    if (it == slots_.end()) {
      return;
    }
    it->second.timer = 0;
    const OutboxEntry& e = it->second.entry;
    request.method = "POST";
    request.url = e.endpoint;
    request.timeout = std::chrono::milliseconds(kRequestTimeoutMs);
    request.headers = {{"x-amz-sns-message-type", e.type},
                       {"x-amz-sns-message-id", e.message_id},
                       {"x-amz-sns-topic-arn", e.topic_arn}};
    if (e.type != "SubscriptionConfirmation") {
      request.headers.emplace_back("x-amz-sns-subscription-arn", e.subscription_arn);
    }
    if (e.raw && e.type == "Notification") {
      request.headers.emplace_back("x-amz-sns-rawdelivery", "true");
    }
    // The request policy sets the type of notifications; confirmations are always text.
    request.headers.emplace_back("Content-Type",
                                 e.type == "Notification" ? e.policy.content_type : "text/plain; charset=UTF-8");
    request.headers.emplace_back("User-Agent", "Amazon Simple Notification Service Agent");
    request.body = e.body;
  }
  const std::int64_t started = executor_->now_ms();
  std::weak_ptr<Outbox> weak = weak_from_this();
  if (!http_) {
    executor_->post([weak, id, started] {
      if (auto self = weak.lock()) {
        protocol::OutboundResponse none;
        none.error = "fogbank has no outbound HTTP client";
        self->complete(id, none, started);
      }
    });
    return;
  }
  // The answer arrives on a server thread that must not block: the rest runs on the pool.
  http_->send(std::move(request), [weak, id, started](protocol::OutboundResponse response) {
    if (auto self = weak.lock()) {
      self->executor_->post([weak, id, started, response = std::move(response)] {
        if (auto again = weak.lock()) {
          again->complete(id, response, started);
        }
      });
    }
  });
}

void Outbox::complete(std::uint64_t id, const protocol::OutboundResponse& response, std::int64_t started_ms) {
  std::unique_lock lock(mutex_);
  auto it = slots_.find(id);
  if (it == slots_.end()) {
    return;  // dropped (unsubscribed, reset) while in flight
  }
  Slot& slot = it->second;
  OutboxEntry& e = slot.entry;
  e.attempts += 1;
  ++stats_.attempts;
  DeliveryRecord record = record_of(e, started_ms);
  record.attempt = e.attempts;
  record.http_status = response.status;
  const Outcome outcome = classify(response.status);
  if (outcome == Outcome::kRetry && e.attempts - 1 < e.policy.retry.num_retries) {
    const std::int64_t delay_ms = e.policy.retry.delay_seconds(e.attempts) * 1000;
    e.due_ms = executor_->now_ms() + delay_ms;
    // Under the lock, so that a concurrent drop cannot be undone by this write.
    (void)store_.put(storage::Space::kSns, key(id), encode(e));
    schedule_locked(slot);
    record.status = "retrying";
    record.error = failure_text(response);
    record.next_attempt_ms = e.due_ms;
    log_->add(std::move(record));  // before the retry can complete and record itself
    return;
  }
  OutboxEntry done = take_locked(id);
  if (outcome == Outcome::kDelivered) {
    ++stats_.delivered;
  }
  lock.unlock();
  if (outcome == Outcome::kDelivered) {
    record.status = "delivered";
    log_->add(std::move(record));
  } else {
    const std::string code = response.status == 0 ? std::string("EndpointUnreachable")
                                                   : std::to_string(response.status);
    std::string message = failure_text(response);
    if (outcome == Outcome::kRetry) {
      message += " (retries exhausted after " + std::to_string(done.attempts) + " attempts)";
    }
    give_up(done, std::move(record), code, message);
  }
  (void)store_.del(storage::Space::kSns, key(id));
}

void Outbox::give_up(OutboxEntry entry, DeliveryRecord record, const std::string& code, const std::string& message) {
  record.status = "failed";
  record.error = message;
  if (!entry.dead_letter_queue.empty() && queues_) {
    sqs::ServiceMessage out;
    out.body = entry.body;
    out.attributes = entry.attributes;
    if (send_to_dead_letter_queue(*queues_, entry.dead_letter_queue, std::move(out), code, message)) {
      record.status = "dead-lettered";
      record.dead_letter_queue = entry.dead_letter_queue;
    } else {
      record.error += "; the dead-letter queue " + entry.dead_letter_queue + " refused it";
    }
  }
  {
    std::lock_guard lock(mutex_);
    ++(record.status == "dead-lettered" ? stats_.dead_lettered : stats_.failed);
  }
  log_->add(std::move(record));
}

OutboxEntry Outbox::take_locked(std::uint64_t id) {
  auto node = slots_.extract(id);
  if (node.empty()) {
    return {};
  }
  OutboxEntry e = std::move(node.mapped().entry);
  auto u = usage_.find(e.subscription_arn);
  if (u != usage_.end()) {
    u->second.entries -= std::min(u->second.entries, std::size_t{1});
    u->second.bytes -= std::min(u->second.bytes, e.bytes());
    if (u->second.entries == 0) {
      usage_.erase(u);
    }
  }
  bytes_ -= std::min(bytes_, e.bytes());
  return e;
}

void Outbox::drop_subscription(const std::string& subscription_arn, const std::string& type, bool in_flight) {
  std::vector<DeliveryExecutor::TimerId> timers;
  storage::Batch batch;
  {
    std::lock_guard lock(mutex_);
    std::vector<std::uint64_t> ids;
    for (const auto& [id, slot] : slots_) {
      if (slot.entry.subscription_arn == subscription_arn && (type.empty() || slot.entry.type == type) &&
          (in_flight || slot.timer != 0)) {
        ids.push_back(id);
        if (slot.timer != 0) {
          timers.push_back(slot.timer);
        }
      }
    }
    for (auto id : ids) {
      batch.del(storage::Space::kSns, key(id));
      take_locked(id);
    }
  }
  // Outside the lock: cancel() waits for a running callback, which takes it.
  for (auto t : timers) {
    executor_->cancel(t);
  }
  if (batch.count() > 0) {
    (void)store_.write(batch);
  }
}

void Outbox::load(const std::function<bool(const OutboxEntry&)>& keep) {
  std::vector<OutboxEntry> kept;
  storage::Batch orphans;
  std::uint64_t max_id = 0;
  const std::string prefix = storage::KeyBuilder(std::string_view(&kKind, 1)).key();
  for (auto c = store_.scan_prefix(storage::Space::kSns, prefix); c.valid(); c.next()) {
    OutboxEntry e;
    if (!decode(c.value(), e) || !keep(e)) {
      orphans.del(storage::Space::kSns, c.key());
      continue;
    }
    max_id = std::max(max_id, e.id);
    kept.push_back(std::move(e));
  }
  if (orphans.count() > 0) {
    (void)store_.write(orphans);
  }
  {
    std::lock_guard lock(mutex_);
    next_id_ = std::max(next_id_, max_id + 1);
  }
  activate(std::move(kept));
}

std::vector<DeliveryExecutor::TimerId> Outbox::clear_locked() {
  std::vector<DeliveryExecutor::TimerId> timers;
  for (const auto& [id, slot] : slots_) {
    if (slot.timer != 0) {
      timers.push_back(slot.timer);
    }
  }
  slots_.clear();
  usage_.clear();
  bytes_ = 0;
  stats_ = {};
  return timers;
}

void Outbox::reset() {
  std::vector<DeliveryExecutor::TimerId> timers;
  {
    std::lock_guard lock(mutex_);
    timers = clear_locked();
  }
  for (auto t : timers) {
    executor_->cancel(t);
  }
}

Outbox::Stats Outbox::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::size_t Outbox::size() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

std::vector<OutboxEntry> Outbox::pending(const std::string& subscription_arn) const {
  std::lock_guard lock(mutex_);
  std::vector<OutboxEntry> out;
  for (const auto& [id, slot] : slots_) {
    if (subscription_arn.empty() || slot.entry.subscription_arn == subscription_arn) {
      out.push_back(slot.entry);
    }
  }
  return out;
}

}  // namespace fogbank::sns
