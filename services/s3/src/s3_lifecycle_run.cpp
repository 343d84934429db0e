// Lifecycle configuration handlers and the pass that applies the rules (see s3_lifecycle.hpp).

#include "fogbank/protocol/dispatcher.hpp"
#include "fogbank/storage/keys.hpp"
#include "s3_internal.hpp"
#include "s3_lifecycle.hpp"

namespace fogbank::s3 {

namespace {

using storage::Space;

/// Objects and uploads one pass changes at most; the rest waits for the next pass.
constexpr std::size_t kPassBudget = 10'000;

}  // namespace

Response S3Service::put_bucket_lifecycle(Call& c) {
  require_bucket(c);
  auto doc = decode_body_xml("PutBucketLifecycleConfiguration", c.body);
  (void)lifecycle_from_request(doc);  // validation
  std::lock_guard lock(bucket_config_mu_);
  auto b = require_bucket(c);
  b.lifecycle = doc.dump();
  put_bucket_record(b);
  Response r(200, "");
  r.headers.add("x-amz-transition-default-minimum-object-size", "all_storage_classes_128K");
  return r;
}

Response S3Service::get_bucket_lifecycle(Call& c) {
  auto b = require_bucket(c);
  if (b.lifecycle.empty()) {
    throw AwsError("NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist")
        .with_field("BucketName", c.bucket);
  }
  auto r = xml_response(encode_output_xml("GetBucketLifecycleConfiguration", nlohmann::json::parse(b.lifecycle),
                                          "LifecycleConfiguration"));
  r.headers.add("x-amz-transition-default-minimum-object-size", "all_storage_classes_128K");
  return r;
}

Response S3Service::delete_bucket_lifecycle(Call& c) {
  return update_bucket(c, 204, [&](BucketRecord& b) { b.lifecycle.clear(); });
}

std::optional<Response> S3Service::admin(const protocol::RequestHead& head, std::string_view /*body*/) {
  if (head.path != "/_fogbank/s3/lifecycle" && head.path != "/_fogbank/s3/access-logs") {
    return Response(404, R"({"error":"no such s3 endpoint"})", "application/json");
  }
  if (head.method != "POST") {
    Response r(405, R"({"error":"use POST"})", "application/json");
    r.headers.set("Allow", "POST");
    return r;
  }
  if (head.path == "/_fogbank/s3/access-logs") {
    std::lock_guard lock(access_log_timer_->mu);
    return Response(200, nlohmann::json{{"delivered", deliver_access_logs()}}.dump(), "application/json");
  }
  std::lock_guard lock(lifecycle_timer_->mu);  // one pass at a time, the worker's included
  return Response(200, nlohmann::json{{"changed", sweep_lifecycle()}}.dump(), "application/json");
}

std::size_t S3Service::sweep_lifecycle() {
  const std::int64_t now = clock_.now_ms();
  std::vector<std::pair<BucketRecord, LifecycleConfig>> work;
  {
    std::shared_lock lock(buckets_mu_);
    for (const auto& [name, b] : buckets_) {
      if (b.lifecycle.empty()) {
        continue;
      }
      try {
        work.emplace_back(b, lifecycle_from_request(nlohmann::json::parse(b.lifecycle)));
      } catch (const std::exception&) {
        // A stored configuration passed validation when it was put; nothing to apply otherwise.
      }
    }
  }
  std::size_t changed = 0;
  std::vector<PendingEvent> events;
  for (const auto& [bucket, config] : work) {
    for (const auto& rule : config.rules) {
      if (!rule.enabled) {
        continue;
      }
      const bool object_actions = rule.expiration_days || rule.expiration_date_ms || !rule.transitions.empty() ||
                                  rule.expired_object_delete_marker || rule.noncurrent_days ||
                                  !rule.noncurrent_transitions.empty();
      for (auto cur = store_.scan_prefix(Space::kS3Meta, object_prefix(bucket.name, rule.prefix));
           object_actions && cur.valid() && changed < kPassBudget; cur.next()) {
        if (auto key = object_name_of(cur.key())) {
          changed += apply_lifecycle(bucket, rule, *key, now, events);
        }
        for (auto& e : events) {
          emit(std::move(e));
        }
        events.clear();
      }
      if (!rule.abort_incomplete_days) {
        continue;
      }
      for (auto cur = store_.scan_prefix(Space::kS3Meta, upload_prefix(bucket.name, rule.prefix));
           cur.valid() && changed < kPassBudget; cur.next()) {
        UploadRecord u;
        if (!decode(cur.value(), u) || !u.key.starts_with(rule.prefix) ||
            lifecycle_due_ms(u.initiated_ms, *rule.abort_incomplete_days) > now) {
          continue;
        }
        discard_upload(bucket.name, u.key, u.upload_id);
        ++changed;
      }
    }
  }
  return changed;
}

std::optional<std::string> S3Service::expiration_header(const BucketRecord& b, std::string_view key,
                                                        const ObjectRecord& o) const {
  if (b.lifecycle.empty() || o.delete_marker) {
    return std::nullopt;
  }
  LifecycleConfig config;
  try {
    config = lifecycle_from_request(nlohmann::json::parse(b.lifecycle));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::optional<std::pair<std::int64_t, std::string>> soonest;
  for (const auto& rule : config.rules) {
    if (!rule.enabled || !lifecycle_selects(rule, key, o.size, o.tags)) {
      continue;
    }
    std::optional<std::int64_t> due;
    if (rule.expiration_days) {
      due = lifecycle_due_ms(o.modified_ms, *rule.expiration_days);
    } else if (rule.expiration_date_ms) {
      due = *rule.expiration_date_ms;
    }
    if (due && (!soonest || *due < soonest->first)) {
      soonest = std::pair{*due, rule.id};
    }
  }
  if (!soonest) {
    return std::nullopt;
  }
  return "expiry-date=\"" + http_date(soonest->first) + "\", rule-id=\"" + soonest->second + "\"";
}

namespace {

/// The storage class the due transitions give something `days` count from `since_ms`.
std::string due_class(const std::vector<LifecycleRule::Transition>& transitions, std::int64_t since_ms,
                      std::int64_t now) {
  std::string storage_class;
  for (const auto& t : transitions) {
    if ((t.days && lifecycle_due_ms(since_ms, *t.days) <= now) || (t.date_ms && *t.date_ms <= now)) {
      storage_class = t.storage_class;
    }
  }
  return storage_class;
}

bool lock_expired(const ObjectRecord& o, std::int64_t now) {
  return o.legal_hold != "ON" && (o.lock_mode.empty() || o.lock_until_ms <= now);
}

}  // namespace

std::size_t S3Service::apply_lifecycle(const BucketRecord& b, const LifecycleRule& rule, const std::string& key,
                                       std::int64_t now, std::vector<PendingEvent>& events) {
  std::lock_guard lock(locks_.of(b.name, key));
  auto current = load_object(b.name, key);
  if (!current) {
    return 0;
  }
  // Deletions run as the bucket owner's requests would, at the pass's time.
  protocol::RequestHead head;
  head.method = "DELETE";
  RequestContext ctx(head);
  ctx.account_id = b.account;
  ctx.now_ms = now;
  ctx.now = now / 1000;
  ctx.request_id = protocol::Dispatcher::new_request_id(protocol::WireProtocol::kRestXml);
  Call call(ctx);
  const auto expired_event = [&](EventKind kind, const ObjectRecord* object, const std::string& version_id) {
    if (b.notifications) {
      if (auto e = object_event(call, b, kind, key, object, version_id)) {
        events.push_back(std::move(*e));
      }
    }
  };
  call.bucket = b.name;
  call.key = key;
  std::size_t changed = 0;

  // Noncurrent versions, newest first: each became noncurrent when the next newer one was made.
  if (!b.versioning.empty() && (rule.noncurrent_days || !rule.noncurrent_transitions.empty())) {
    storage::Batch batch;
    std::vector<std::string> retired;
    std::int64_t successor_ms = current->modified_ms;
    std::int64_t newer = 0;
    for (auto n = store_.scan_prefix(Space::kS3Meta, noncurrent_prefix(b.name, key)); n.valid(); n.next()) {
      ObjectRecord v;
      if (!decode(n.value(), v)) {
        continue;
      }
      const std::int64_t since = std::exchange(successor_ms, v.modified_ms);
      const bool kept = rule.newer_noncurrent_versions && newer++ < *rule.newer_noncurrent_versions;
      if (kept || !lifecycle_selects(rule, key, v.size, v.tags)) {
        continue;
      }
      if (rule.noncurrent_days && lifecycle_due_ms(since, *rule.noncurrent_days) <= now && lock_expired(v, now)) {
        batch.del(Space::kS3Meta, n.key());
        blobs_.retire(batch, v.segments, retired);
        expired_event(EventKind::kLifecycleDelete, nullptr, shown_version_id(v));
        ++changed;
        continue;
      }
      auto storage_class = due_class(rule.noncurrent_transitions, since, now);
      if (!v.delete_marker && !storage_class.empty() && storage_class != v.storage_class) {
        v.storage_class = storage_class;
        batch.put(Space::kS3Meta, n.key(), encode(v));
        ++changed;
      }
    }
    if (auto st = store_.write(batch); !st) {
      throw protocol::errors::internal_failure(st.message());
    }
    blobs_.collect(retired);
  }

  if (current->delete_marker) {
    // A delete marker with nothing behind it is removed ("expired object delete marker").
    const bool cleanup =
        rule.expired_object_delete_marker ||
        (rule.expiration_days && lifecycle_due_ms(current->modified_ms, *rule.expiration_days) <= now);
    if (cleanup && key.starts_with(rule.prefix) &&
        !store_.scan_prefix(Space::kS3Meta, noncurrent_prefix(b.name, key)).valid()) {
      const std::string id = shown_version_id(*current);
      remove_object(call, b, key, &id);
      expired_event(EventKind::kLifecycleDelete, nullptr, id);
      ++changed;
    }
    return changed;
  }
  if (!lifecycle_selects(rule, key, current->size, current->tags)) {
    return changed;
  }
  const bool expired = (rule.expiration_days && lifecycle_due_ms(current->modified_ms, *rule.expiration_days) <= now) ||
                       (rule.expiration_date_ms && *rule.expiration_date_ms <= now);
  if (expired) {
    // Unversioned: the object goes; versioned: a delete marker goes on top (remove_object).
    auto removal = remove_object(call, b, key, nullptr);
    expired_event(removal.created_marker ? EventKind::kLifecycleDeleteMarker : EventKind::kLifecycleDelete, nullptr,
                  removal.version_id);
    return changed + 1;
  }
  auto storage_class = due_class(rule.transitions, current->modified_ms, now);
  if (!storage_class.empty() && storage_class != current->storage_class) {
    current->storage_class = storage_class;
    if (auto st = store_.put(Space::kS3Meta, object_key(b.name, key), encode(*current)); !st) {
      throw protocol::errors::internal_failure(st.message());
    }
    ++changed;
  }
  return changed;
}

}  // namespace fogbank::s3
