// Server access logging: a bucket with PutBucketLogging's LoggingEnabled gets one record per
// request in AWS's server access log format, delivered into the target bucket as objects named
// <TargetPrefix>YYYY-mm-DD-HH-MM-SS-<UniqueString> (or the partitioned form of
// TargetObjectKeyFormat). Records are formed when the server has sent the response (status,
// bytes, time) and wait in memory until the next delivery on the platform's scheduler, or
// POST /_fogbank/s3/access-logs. Like AWS's, delivery is best effort: records still in memory
// when the process stops are not delivered.

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/uri.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

using nlohmann::json;

namespace {

/// A batch this large is written at the next delivery whatever its age; this bounds memory too.
constexpr std::size_t kMaxBufferedBytes = 64u << 20;

std::tm utc(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

/// [06/Feb/2019:00:00:38 +0000]
std::string log_time(std::int64_t ms) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto tm = utc(ms);
  char out[96];
  std::snprintf(out, sizeof out, "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday, kMonths[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return out;
}

/// "2019-02-06-00-00-38" (the object name's time) or, with '/', "2019/02/06" (a partition).
std::string key_time(std::int64_t ms, bool date_path) {
  const auto tm = utc(ms);
  char out[96];
  if (date_path) {
    std::snprintf(out, sizeof out, "%04d/%02d/%02d/", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  } else {
    std::snprintf(out, sizeof out, "%04d-%02d-%02d-%02d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return out;
}

std::string or_dash(std::string_view v) { return v.empty() ? std::string("-") : std::string(v); }

/// An unquoted field taken from the request: a space in it would shift every field after it.
std::string unspaced(std::string_view v) {
  std::string out(v);
  std::replace_if(out.begin(), out.end(), [](char ch) { return ch == ' ' || ch == '\t'; }, '+');
  return out;
}

/// A quoted field ("-" inside the quotes when empty), its own quotes escaped.
std::string log_quoted(std::string_view v) {
  std::string out = "\"";
  if (v.empty()) {
    out += '-';
  }
  for (char ch : v) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
    }
    out += ch;
  }
  out += '"';
  return out;
}

/// The <Code> of an S3 error document.
std::string error_code(std::string_view body) {
  const auto open = body.find("<Code>");
  const auto close = body.find("</Code>");
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return {};
  }
  return std::string(body.substr(open + 6, close - open - 6));
}

}  // namespace

/// What is known of a request when its handler starts; the completion hook adds the rest.
struct AccessLogDraft {
  std::string batch_key;      ///< which AccessLogBatch the record joins
  AccessLogBatch batch;       ///< the batch's fields, when it is the first record
  std::string head;           ///< bucket owner … operation key "request-URI"
  std::string tail;           ///< "referer" "user-agent"
  std::string after_version;  ///< host id … (after the version id)
  std::string request_size;   ///< PutObject's object size, from the request
  bool reads_object = false;  ///< GET/HEAD of an object: the size comes from the response
};

void S3Service::arm_access_log(Call& c, const std::string& log_operation) {
  if (c.bucket.empty()) {
    return;
  }
  // Every request passes here: look at the bucket in place rather than copy its record.
  BucketRecord source_fields;
  {
    std::shared_lock lock(buckets_mu_);
    auto it = buckets_.find(c.bucket);
    if (it == buckets_.end() || it->second.logging.empty()) {
      return;
    }
    source_fields.name = it->second.name;
    source_fields.account = it->second.account;
    source_fields.region = it->second.region;
    source_fields.logging = it->second.logging;
  }
  const BucketRecord* source = &source_fields;
  json config = json::parse(source->logging, nullptr, false);
  if (!config.is_object()) {
    return;
  }
  const auto target = config.value("TargetBucket", std::string());
  auto target_bucket = bucket(target);
  if (!target_bucket) {
    return;  // AWS drops the records of a target that went away
  }
  auto draft = std::make_shared<AccessLogDraft>();
  const auto& ctx = c.ctx;
  const auto& h = ctx.head.headers;
  std::string prefix = config.value("TargetPrefix", std::string());
  std::string partition_source;
  if (auto format = config.find("TargetObjectKeyFormat"); format != config.end() && format->is_object()) {
    if (auto partitioned = format->find("PartitionedPrefix"); partitioned != format->end()) {
      partition_source = partitioned->is_object() ? partitioned->value("PartitionDateSource", std::string()) : "";
      if (partition_source != "EventTime") {
        partition_source = "DeliveryTime";
      }
      prefix += source->account + "/" + source->region + "/" + source->name + "/";
    }
  }
  draft->batch.target_bucket = target;
  draft->batch.account = target_bucket->account;
  draft->batch.region = target_bucket->region;
  draft->batch.prefix = prefix;
  draft->batch.date_partitions = !partition_source.empty();
  draft->batch.event_time = partition_source == "EventTime";
  draft->batch.first_ms = ctx.now_ms;
  draft->batch_key = target + '\n' + prefix + '\n' + source->name;  // one source bucket per log object
  if (draft->batch.event_time) {
    draft->batch_key += '\n' + key_time(ctx.now_ms, true);
  }

  std::string requester = "-";
  if (!ctx.account_id.empty()) {
    const auto& caller = ctx.caller;
    requester = caller.user_id.empty() || caller.user_id == ctx.account_id || caller.arn.empty()
                    ? canonical_user_id(ctx.account_id)
                    : caller.arn;
  }
  std::string remote = ctx.head.remote_address;
  if (remote.starts_with("::ffff:")) {
    remote.erase(0, 7);
  }
  std::string signature = "-";
  std::string auth = "-";
  const auto authorization = h.get("authorization").value_or("");
  if (authorization.starts_with("AWS4-")) {
    signature = "SigV4";
    auth = "AuthHeader";
  } else if (authorization.starts_with("AWS ")) {
    signature = "SigV2";
    auth = "AuthHeader";
  } else if (c.has("X-Amz-Signature")) {
    signature = "SigV4";
    auth = "QueryString";
  } else if (c.has("Signature")) {
    signature = "SigV2";
    auth = "QueryString";
  }
  const auto key = c.key.empty() ? std::string("-") : protocol::uri_encode(c.key, true);
  draft->head = canonical_user_id(source->account) + ' ' + source->name + ' ' + log_time(ctx.now_ms) + ' ' +
                or_dash(remote) + ' ' + requester + ' ' + ctx.request_id + ' ' + log_operation + ' ' + key + ' ' +
                log_quoted(ctx.head.method + " " + ctx.head.target + " HTTP/1.1");
  draft->tail = log_quoted(h.get("referer").value_or("")) + ' ' + log_quoted(h.get("user-agent").value_or(""));
  // The cipher suite and TLS version are "-": the server does not tell services what TLS
  // negotiated. The access point ARN and aclRequired fields follow, "-" as well.
  draft->after_version = protocol::base64_encode(ctx.request_id + ctx.request_id) + ' ' + signature + " - " + auth +
                         ' ' + or_dash(unspaced(h.get("host").value_or(""))) + " - - -";
  if (ctx.head.method == "PUT" && !c.key.empty()) {
    draft->request_size = std::string(h.get("x-amz-decoded-content-length").value_or(h.get("content-length").value_or("")));
  }
  draft->reads_object = (ctx.head.method == "GET" || ctx.head.method == "HEAD") && !c.key.empty();

  c.ctx.on_complete = [buffer = access_logs_, draft](const protocol::CompletedRequest& done) {
    std::string size = draft->request_size;
    std::string version;
    if (done.headers != nullptr) {
      if (draft->reads_object && done.status < 300) {
        size = std::to_string(done.content_length);
        if (auto range = done.headers->get("content-range"); range && range->rfind('/') != std::string_view::npos) {
          size = std::string(range->substr(range->rfind('/') + 1));
        }
      }
      version = std::string(done.headers->get("x-amz-version-id").value_or(""));
    }
    if (done.status >= 300) {
      size.clear();
    }
    const auto code = done.status >= 300 ? error_code(done.body) : std::string();
    std::string line = draft->head + ' ' + std::to_string(done.status) + ' ' + or_dash(code) + ' ' +
                       (done.bytes_sent == 0 ? std::string("-") : std::to_string(done.bytes_sent)) + ' ' +
                       or_dash(size) + ' ' + std::to_string(done.total_ms) + ' ' + std::to_string(done.total_ms) +
                       ' ' + draft->tail + ' ' + or_dash(version) + ' ' + draft->after_version + '\n';
    std::lock_guard lock(buffer->mu);
    if (buffer->bytes + line.size() > kMaxBufferedBytes) {
      return;  // delivery is behind; AWS's logs are best effort too
    }
    buffer->bytes += line.size();
    auto [it, fresh] = buffer->batches.try_emplace(draft->batch_key, draft->batch);
    it->second.lines += line;
  };
}

std::size_t S3Service::deliver_access_logs() {
  std::map<std::string, AccessLogBatch> batches;
  {
    std::lock_guard lock(access_logs_->mu);
    batches.swap(access_logs_->batches);
    access_logs_->bytes = 0;
  }
  const std::int64_t now = clock_.now_ms();
  std::size_t written = 0;
  for (auto& [key, batch] : batches) {
    ServiceObject object;
    object.account = batch.account;
    object.region = batch.region;
    object.principal = "logging.s3.amazonaws.com";
    object.bucket = batch.target_bucket;
    const std::int64_t when = batch.event_time ? batch.first_ms : now;
    object.key = batch.prefix + (batch.date_partitions ? key_time(when, true) : std::string()) + key_time(now, false) +
                 '-' + protocol::random_upper_alnum(16, protocol::Randomness::kIdentifier);
    object.body = std::move(batch.lines);
    object.content_type = "text/plain";
    if (put_as_service(object).written) {
      ++written;
    }
  }
  return written;
}

}  // namespace fogbank::s3
