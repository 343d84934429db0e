// The engine's state: loading, persistence and the lookups every operation shares.

#include "engine.hpp"

#include <algorithm>

#include "arn.hpp"
#include "errors.hpp"
#include "fogbank/storage/keys.hpp"
#include "persistence.hpp"
#include "topic_policy.hpp"

namespace fogbank::sns {

SnsEngine::SnsEngine(storage::Store& store, Clock clock, std::shared_ptr<sqs::MessageSink> queues,
                     Transport transport)
    : store_(store), clock_(std::move(clock)), queues_(std::move(queues)), log_(std::make_shared<DeliveryLog>()),
      recorder_(std::make_shared<RecordingDeliverer>(log_, clock_)) {
  for (const char* protocol : {"email", "email-json", "sms", "lambda", "firehose", "application"}) {
    deliverers_.set(protocol, recorder_);
  }
  deliverers_.set("sqs", queues_ ? make_sqs_deliverer(queues_) : recorder_);
  if (transport.executor) {
    outbox_ = std::make_shared<Outbox>(store_, std::move(transport.executor), std::move(transport.http), queues_, log_,
                                       transport.limits);
  }
}

SnsEngine::~SnsEngine() = default;

void SnsEngine::load() {
  std::lock_guard lock(mutex_);
  load_locked();
  if (outbox_) {
    // An UnsubscribeConfirmation outlives its subscription; anything else whose subscription is
    // gone (a crash between an Unsubscribe's commit and the outbox's cleanup) is dropped.
    outbox_->load([this](const OutboxEntry& e) {
      return e.type == "UnsubscribeConfirmation" || subscriptions_.count(e.subscription_arn) != 0;
    });
  }
}

void SnsEngine::reset() {
  std::lock_guard lock(mutex_);
  topics_.clear();
  subscriptions_.clear();
  dedup_.clear();
  sms_.clear();
  opted_out_.clear();
  sandbox_.clear();
  next_order_ = 1;
  log_->clear();
  if (outbox_) {
    outbox_->reset();
  }
  if (signer_) {
    persist_signer();
  }
}

void SnsEngine::persist_signer() {
  auto record = nlohmann::json{{"key", signer_->key_pem()}, {"cert", signer_->certificate_pem()}}.dump();
  if (auto st = store_.put(storage::Space::kSns, persist::signer_key(), record); !st) {
    throw storage::StorageError("sns: storing the signing key failed: " + st.message());
  }
}

void SnsEngine::load_locked() {
  topics_.clear();
  subscriptions_.clear();
  dedup_.clear();
  sms_.clear();
  opted_out_.clear();
  sandbox_.clear();
  next_order_ = 1;

  // The key is read once: the service hands out references to it without the lock, and a reload
  // after a failed commit must not replace it under them.
  if (auto record = signer_ ? std::nullopt : store_.get(storage::Space::kSns, persist::signer_key())) {
    auto j = nlohmann::json::parse(*record, nullptr, false);
    if (j.is_object() && j.contains("key") && j.contains("cert") && j["key"].is_string() && j["cert"].is_string()) {
      signer_ = Signer::from_pem(j["key"].get<std::string>(), j["cert"].get<std::string>());
    }
  }
  if (!signer_) {
    signer_ = Signer::generate();
    persist_signer();
  }

  for (auto c = store_.scan_prefix(storage::Space::kSns, persist::kind_prefix('t')); c.valid(); c.next()) {
    Topic t;
    if (persist::decode_topic(c.value(), t)) {
      auto key = TopicKey{t.account, t.region, t.name};
      topics_.emplace(std::move(key), std::move(t));
    }
  }
  std::vector<const Subscription*> ordered;
  for (auto c = store_.scan_prefix(storage::Space::kSns, persist::kind_prefix('s')); c.valid(); c.next()) {
    Subscription s;
    if (!persist::decode_subscription(c.value(), s) || find_topic_arn(s.topic_arn) == nullptr) {
      continue;
    }
    if (auto policy = s.attributes.find("FilterPolicy"); policy != s.attributes.end()) {
      try {
        s.filter = FilterPolicy::compile(policy->second, s.scope(), "");
      } catch (const protocol::AwsError&) {
        s.filter = nullptr;  // accepted when set; a stricter build must not drop the subscription
      }
    }
    next_order_ = std::max(next_order_, s.order + 1);
    auto arn = s.arn;
    subscriptions_.emplace(std::move(arn), std::move(s));
  }
  for (const auto& [arn, s] : subscriptions_) {
    ordered.push_back(&s);
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) { return a->order < b->order; });
  for (const auto* s : ordered) {
    find_topic_arn(s->topic_arn)->subscriptions.push_back(s->arn);
  }
  for (auto c = store_.scan_prefix(storage::Space::kSns, persist::kind_prefix('d')); c.valid(); c.next()) {
    storage::KeyReader r(c.key());
    auto kind = r.str();
    auto topic = r.str();
    auto id = r.str();
    DedupEntry e;
    if (topic && id && persist::decode_dedup(c.value(), e)) {
      dedup_[*topic][*id] = e;
    }
  }
  for (auto c = store_.scan_prefix(storage::Space::kSns, persist::kind_prefix('m')); c.valid(); c.next()) {
    storage::KeyReader r(c.key());
    auto kind = r.str();
    auto account = r.str();
    auto region = r.str();
    auto j = nlohmann::json::parse(c.value(), nullptr, false);
    if (account && region && j.is_object()) {
      try {
        sms_[{*account, *region}] = j.get<std::map<std::string, std::string>>();
      } catch (const nlohmann::json::exception&) {
      }
    }
  }
  for (auto c = store_.scan_prefix(storage::Space::kSns, persist::kind_prefix('o')); c.valid(); c.next()) {
    storage::KeyReader r(c.key());
    auto kind = r.str();
    auto account = r.str();
    auto phone = r.str();
    if (account && phone) {
      opted_out_.emplace(*account, *phone);
    }
  }
  for (auto c = store_.scan_prefix(storage::Space::kSns, persist::kind_prefix('p')); c.valid(); c.next()) {
    storage::KeyReader r(c.key());
    auto kind = r.str();
    auto account = r.str();
    auto region = r.str();
    auto phone = r.str();
    SandboxNumber n;
    if (account && region && phone && persist::decode_sandbox_number(c.value(), n)) {
      sandbox_[SandboxKey{*account, *region, *phone}] = std::move(n);
    }
  }
}

void SnsEngine::commit(storage::Batch& batch) {
  if (batch.count() == 0) {
    return;
  }
  if (auto st = store_.write(batch); !st) {
    // Memory may now be ahead of the store: reread what is durable, then fail the request.
    load_locked();
    throw storage::StorageError("sns: commit failed: " + st.message());
  }
}

void SnsEngine::put_topic(storage::Batch& batch, const Topic& t) {
  batch.put(storage::Space::kSns, persist::topic_key(t.account, t.region, t.name), persist::encode_topic(t));
}

void SnsEngine::put_subscription(storage::Batch& batch, const Subscription& s) {
  batch.put(storage::Space::kSns, persist::subscription_key(s.arn), persist::encode_subscription(s));
}

Topic* SnsEngine::find_topic(const std::string& account, const std::string& region, const std::string& name) {
  auto it = topics_.find(TopicKey{account, region, name});
  return it != topics_.end() ? &it->second : nullptr;
}

Topic* SnsEngine::find_topic_arn(const std::string& arn) {
  auto sub = split_subscription_arn(arn + ":x");  // a topic ARN plus a dummy id splits the same way
  if (!sub) {
    return nullptr;
  }
  return find_topic(sub->topic.account, sub->topic.region, sub->topic.name);
}

Topic& SnsEngine::topic_for(const Caller& c, const std::string& arn, std::string_view param, std::string_view action) {
  auto ref = parse_topic_arn(arn, param, c.region);
  Topic* t = find_topic(ref.account, ref.region, ref.name);
  if (t == nullptr) {
    throw not_found("Topic does not exist");
  }
  if (t->account != c.account &&
      !topic_policy_allows(t->attribute("Policy"), t->arn(), c.account, c.arn, action)) {
    throw authorization_error(c.arn, action, t->arn());
  }
  return *t;
}

Subscription& SnsEngine::subscription_for(const Caller& c, const std::string& arn, std::string_view action) {
  auto it = subscriptions_.find(arn);
  if (it == subscriptions_.end()) {
    throw not_found("Subscription does not exist");
  }
  Subscription& s = it->second;
  if (s.owner != c.account && arn_account(s.topic_arn) != c.account) {
    throw authorization_error(c.arn, action, arn);
  }
  return s;
}

std::set<std::string> SnsEngine::accounts() {
  std::lock_guard lock(mutex_);
  std::set<std::string> out;
  for (const auto& [key, t] : topics_) {
    out.insert(t.account);
  }
  for (const auto& [arn, s] : subscriptions_) {
    out.insert(s.owner);
  }
  for (const auto& [key, settings] : sms_) {
    out.insert(key.first);
  }
  for (const auto& [account, phone] : opted_out_) {
    out.insert(account);
  }
  for (const auto& [key, number] : sandbox_) {
    out.insert(key.account);
  }
  out.erase("");
  return out;
}

std::vector<SnsEngine::PendingSubscription> SnsEngine::pending_subscriptions() {
  std::lock_guard lock(mutex_);
  std::vector<const Subscription*> pending;
  for (const auto& [arn, s] : subscriptions_) {
    if (s.pending) {
      pending.push_back(&s);
    }
  }
  std::sort(pending.begin(), pending.end(), [](const auto* a, const auto* b) { return a->order < b->order; });
  std::vector<PendingSubscription> out;
  for (const auto* s : pending) {
    out.push_back({s->arn, s->topic_arn, s->protocol, s->endpoint, s->owner, s->token});
  }
  return out;
}

std::optional<SnsEngine::TopicInfo> SnsEngine::topic_info(const std::string& arn) {
  std::lock_guard lock(mutex_);
  const Topic* t = find_topic_arn(arn);
  if (t == nullptr || t->arn() != arn) {
    return std::nullopt;
  }
  return TopicInfo{t->fifo, t->account, t->attribute("Policy")};
}

std::string SnsEngine::base_url() {
  std::lock_guard lock(base_url_mutex_);
  return base_url_;
}

void SnsEngine::remember_base_url(const std::string& url) {
  std::lock_guard lock(base_url_mutex_);
  base_url_ = url;
}

void SnsEngine::opt_out(const std::string& account, const std::string& phone) {
  std::lock_guard lock(mutex_);
  storage::Batch batch;
  batch.put(storage::Space::kSns, persist::opt_out_key(account, phone), "");
  commit(batch);
  opted_out_.emplace(account, phone);
}

}  // namespace fogbank::sns
