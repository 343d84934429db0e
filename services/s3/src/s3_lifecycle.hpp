#pragma once
// Bucket lifecycle rules (Put/Get/DeleteBucketLifecycleConfiguration): validated as S3 validates
// them, and the decisions of the worker that applies them (S3Service::sweep_lifecycle) at AWS's
// midnight-UTC rounding. Internal to fogbank_svc_s3.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace fogbank::s3 {

struct LifecycleRule {
  std::string id;
  bool enabled = false;
  std::string prefix;
  std::vector<std::pair<std::string, std::string>> tags;  ///< every one must be on the object
  std::optional<std::int64_t> size_greater_than;
  std::optional<std::int64_t> size_less_than;
  std::optional<std::int64_t> expiration_days;
  std::optional<std::int64_t> expiration_date_ms;  ///< midnight UTC
  struct Transition {
    std::optional<std::int64_t> days;
    std::optional<std::int64_t> date_ms;
    std::string storage_class;
  };
  std::vector<Transition> transitions;
  std::optional<std::int64_t> abort_incomplete_days;
  /// Versioned buckets: a delete marker with no versions left behind it goes.
  bool expired_object_delete_marker = false;
  /// Noncurrent versions expire this many days after they became noncurrent, except the
  /// `newer_noncurrent_versions` newest ones; their transitions count days the same way.
  std::optional<std::int64_t> noncurrent_days;
  std::optional<std::int64_t> newer_noncurrent_versions;
  std::vector<Transition> noncurrent_transitions;
};

struct LifecycleConfig {
  std::vector<LifecycleRule> rules;
};

/// The rules of a decoded LifecycleConfiguration (the codec's value); throws S3's MalformedXML,
/// InvalidArgument and InvalidRequest errors with its messages.
LifecycleConfig lifecycle_from_request(const nlohmann::json& doc);

/// Whether `rule`'s filter selects an object.
bool lifecycle_selects(const LifecycleRule& rule, std::string_view key, std::uint64_t size,
                       const std::vector<std::pair<std::string, std::string>>& tags);

/// When an action of `days` days applies to something created at `created_ms`: the creation time
/// plus the days, rounded up to the next midnight UTC (AWS's rule).
std::int64_t lifecycle_due_ms(std::int64_t created_ms, std::int64_t days);

/// The next midnight UTC strictly after `now_ms`.
std::int64_t next_midnight_ms(std::int64_t now_ms);

}  // namespace fogbank::s3
