// Lifecycle configuration handlers and the pass that applies the rules (see s3_lifecycle.hpp).

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
  if (head.path != "/_fogbank/s3/lifecycle") {
    return Response(404, R"({"error":"no such s3 endpoint"})", "application/json");
  }
  if (head.method != "POST") {
    Response r(405, R"({"error":"use POST"})", "application/json");
    r.headers.set("Allow", "POST");
    return r;
  }
  std::lock_guard lock(lifecycle_timer_->mu);  // one pass at a time, the worker's included
  return Response(200, nlohmann::json{{"changed", sweep_lifecycle()}}.dump(), "application/json");
}

std::size_t S3Service::sweep_lifecycle() {
  const std::int64_t now = clock_.now_ms();
  std::vector<std::pair<std::string, LifecycleConfig>> work;
  {
    std::shared_lock lock(buckets_mu_);
    for (const auto& [name, b] : buckets_) {
      if (b.lifecycle.empty()) {
        continue;
      }
      try {
        work.emplace_back(name, lifecycle_from_request(nlohmann::json::parse(b.lifecycle)));
      } catch (const std::exception&) {
        // A stored configuration passed validation when it was put; nothing to apply otherwise.
      }
    }
  }
  std::size_t changed = 0;
  for (const auto& [bucket, config] : work) {
    for (const auto& rule : config.rules) {
      if (!rule.enabled) {
        continue;
      }
      const bool object_actions = rule.expiration_days || rule.expiration_date_ms || !rule.transitions.empty();
      for (auto cur = store_.scan_prefix(Space::kS3Meta, object_prefix(bucket, rule.prefix));
           object_actions && cur.valid() && changed < kPassBudget; cur.next()) {
        auto key = object_name_of(cur.key());
        ObjectRecord o;
        if (!key || !decode(cur.value(), o) || !lifecycle_selects(rule, *key, o.size, o.tags)) {
          continue;
        }
        const bool expired = (rule.expiration_days && lifecycle_due_ms(o.modified_ms, *rule.expiration_days) <= now) ||
                             (rule.expiration_date_ms && *rule.expiration_date_ms <= now);
        std::string storage_class;
        for (const auto& t : rule.transitions) {
          if ((t.days && lifecycle_due_ms(o.modified_ms, *t.days) <= now) || (t.date_ms && *t.date_ms <= now)) {
            storage_class = t.storage_class;
          }
        }
        if (!expired && (storage_class.empty() || storage_class == o.storage_class)) {
          continue;
        }
        std::lock_guard lock(locks_.of(bucket, *key));
        auto current = load_object(bucket, *key);
        if (!current || current->etag != o.etag || current->modified_ms != o.modified_ms) {
          continue;  // replaced since the scan: judged again at the next pass
        }
        storage::Batch batch;
        if (expired) {
          batch.del(Space::kS3Meta, object_key(bucket, *key));
          blobs_.retire(batch, current->segments);
        } else {
          current->storage_class = storage_class;
          batch.put(Space::kS3Meta, object_key(bucket, *key), encode(*current));
        }
        if (auto st = store_.write(batch); !st) {
          throw protocol::errors::internal_failure(st.message());
        }
        if (expired) {
          blobs_.collect(current->segments);
        }
        ++changed;
      }
      if (!rule.abort_incomplete_days) {
        continue;
      }
      for (auto cur = store_.scan_prefix(Space::kS3Meta, upload_prefix(bucket, rule.prefix));
           cur.valid() && changed < kPassBudget; cur.next()) {
        UploadRecord u;
        if (!decode(cur.value(), u) || !u.key.starts_with(rule.prefix) ||
            lifecycle_due_ms(u.initiated_ms, *rule.abort_incomplete_days) > now) {
          continue;
        }
        discard_upload(bucket, u.key, u.upload_id);
        ++changed;
      }
    }
  }
  return changed;
}

}  // namespace fogbank::s3
