#include "s3_lifecycle.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::s3 {

namespace {

using nlohmann::json;
using protocol::AwsError;

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kMaxRules = 1000;

AwsError malformed() {
  return AwsError("MalformedXML", 400,
                  "The XML you provided was not well-formed or did not validate against our published schema");
}

AwsError invalid_argument(std::string message) { return AwsError("InvalidArgument", 400, std::move(message)); }

std::optional<std::int64_t> integer(const json& v, const char* name) {
  auto it = v.find(name);
  if (it == v.end()) {
    return std::nullopt;
  }
  if (!it->is_number_integer()) {
    throw malformed();
  }
  return it->get<std::int64_t>();
}

/// A Date member (the codec's epoch seconds) in milliseconds; S3 takes only midnight UTC.
std::optional<std::int64_t> date_ms(const json& v, const char* action) {
  auto it = v.find("Date");
  if (it == v.end()) {
    return std::nullopt;
  }
  if (!it->is_number()) {
    throw malformed();
  }
  const auto ms = static_cast<std::int64_t>(std::llround(it->get<double>() * 1000.0));
  if (ms % kDayMs != 0) {
    throw invalid_argument(std::string("'Date' must be at midnight GMT"));
  }
  (void)action;
  return ms;
}

std::pair<std::string, std::string> tag_of(const json& t) {
  if (!t.is_object() || !t.contains("Key")) {
    throw malformed();
  }
  return {t.value("Key", std::string()), t.value("Value", std::string())};
}

void read_filter(const json& rule, LifecycleRule& out) {
  auto filter = rule.find("Filter");
  const bool has_prefix = rule.contains("Prefix");
  if (filter == rule.end()) {
    if (!has_prefix) {
      throw malformed();
    }
    out.prefix = rule.value("Prefix", std::string());
    return;
  }
  if (has_prefix) {
    throw malformed();  // the legacy Prefix and a Filter exclude each other
  }
  if (!filter->is_object()) {
    throw malformed();
  }
  int given = 0;
  for (const char* name : {"Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And"}) {
    given += filter->contains(name) ? 1 : 0;
  }
  if (given > 1) {
    throw malformed();  // more than one condition goes in And
  }
  const json* conditions = &*filter;
  if (auto a = filter->find("And"); a != filter->end()) {
    if (!a->is_object()) {
      throw malformed();
    }
    conditions = &*a;
    if (auto tags = a->find("Tags"); tags != a->end() && tags->is_array()) {
      for (const auto& t : *tags) {
        out.tags.push_back(tag_of(t));
      }
    }
  }
  out.prefix = conditions->value("Prefix", std::string());
  if (auto t = filter->find("Tag"); t != filter->end()) {
    out.tags.push_back(tag_of(*t));
  }
  out.size_greater_than = integer(*conditions, "ObjectSizeGreaterThan");
  out.size_less_than = integer(*conditions, "ObjectSizeLessThan");
  if (out.size_greater_than && out.size_less_than && *out.size_greater_than >= *out.size_less_than) {
    throw invalid_argument("ObjectSizeGreaterThan must be less than ObjectSizeLessThan in a Filter.");
  }
}

}  // namespace

LifecycleConfig lifecycle_from_request(const json& doc) {
  auto rules = doc.find("Rules");
  if (rules == doc.end() || !rules->is_array() || rules->empty()) {
    throw malformed();
  }
  if (rules->size() > kMaxRules) {
    throw invalid_argument("Lifecycle configuration must not have more than 1000 rules.");
  }
  LifecycleConfig config;
  std::set<std::string> ids;
  for (const auto& r : *rules) {
    if (!r.is_object()) {
      throw malformed();
    }
    LifecycleRule rule;
    rule.id = r.value("ID", std::string());
    if (rule.id.size() > 255) {
      throw invalid_argument("ID length should not exceed allowed limit of 255");
    }
    if (!rule.id.empty() && !ids.insert(rule.id).second) {
      throw invalid_argument("Rule ID must be unique. Found same ID for more than one rule");
    }
    const auto status = r.value("Status", std::string());
    if (status != "Enabled" && status != "Disabled") {
      throw malformed();
    }
    rule.enabled = status == "Enabled";
    read_filter(r, rule);
    bool any_action = false;
    if (auto e = r.find("Expiration"); e != r.end()) {
      any_action = true;
      if (!e->is_object()) {
        throw malformed();
      }
      rule.expiration_days = integer(*e, "Days");
      rule.expiration_date_ms = date_ms(*e, "Expiration");
      const int kinds = (rule.expiration_days ? 1 : 0) + (rule.expiration_date_ms ? 1 : 0) +
                        (e->contains("ExpiredObjectDeleteMarker") ? 1 : 0);
      if (kinds != 1) {
        throw malformed();
      }
      rule.expired_object_delete_marker = e->value("ExpiredObjectDeleteMarker", false);
      if (rule.expiration_days && *rule.expiration_days <= 0) {
        throw invalid_argument("'Days' for Expiration action must be a positive integer");
      }
    }
    if (auto ts = r.find("Transitions"); ts != r.end() && ts->is_array()) {
      for (const auto& t : *ts) {
        any_action = true;
        LifecycleRule::Transition tr;
        tr.days = integer(t, "Days");
        tr.date_ms = date_ms(t, "Transition");
        tr.storage_class = t.value("StorageClass", std::string());
        if ((tr.days.has_value() == tr.date_ms.has_value()) || tr.storage_class.empty()) {
          throw malformed();
        }
        if (tr.days && *tr.days < 0) {
          throw invalid_argument("'Days' in Transition action must be nonnegative");
        }
        rule.transitions.push_back(std::move(tr));
      }
    }
    if (auto a = r.find("AbortIncompleteMultipartUpload"); a != r.end()) {
      any_action = true;
      rule.abort_incomplete_days = integer(*a, "DaysAfterInitiation");
      if (!rule.abort_incomplete_days || *rule.abort_incomplete_days <= 0) {
        throw invalid_argument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
                               "integer");
      }
      if (!rule.tags.empty()) {
        throw invalid_argument("AbortIncompleteMultipartUpload cannot be specified with Tags.");
      }
    }
    if (auto ne = r.find("NoncurrentVersionExpiration"); ne != r.end()) {
      any_action = true;
      rule.noncurrent_days = integer(*ne, "NoncurrentDays");
      if (!rule.noncurrent_days || *rule.noncurrent_days <= 0) {
        throw invalid_argument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
      }
      rule.newer_noncurrent_versions = integer(*ne, "NewerNoncurrentVersions");
      if (rule.newer_noncurrent_versions && *rule.newer_noncurrent_versions <= 0) {
        throw invalid_argument("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive "
                               "integer");
      }
    }
    if (auto ts = r.find("NoncurrentVersionTransitions"); ts != r.end() && ts->is_array()) {
      for (const auto& t : *ts) {
        any_action = true;
        LifecycleRule::Transition tr;
        tr.days = integer(t, "NoncurrentDays");
        tr.storage_class = t.value("StorageClass", std::string());
        if (!tr.days || tr.storage_class.empty()) {
          throw malformed();
        }
        if (*tr.days < 0) {
          throw invalid_argument("'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative");
        }
        rule.noncurrent_transitions.push_back(std::move(tr));
      }
    }
    if (!any_action) {
      throw invalid_argument("At least one action needs to be specified in a rule");
    }
    config.rules.push_back(std::move(rule));
  }
  return config;
}

bool lifecycle_selects(const LifecycleRule& rule, std::string_view key, std::uint64_t size,
                       const std::vector<std::pair<std::string, std::string>>& tags) {
  if (!key.starts_with(rule.prefix)) {
    return false;
  }
  if (rule.size_greater_than && !(static_cast<std::int64_t>(size) > *rule.size_greater_than)) {
    return false;
  }
  if (rule.size_less_than && !(static_cast<std::int64_t>(size) < *rule.size_less_than)) {
    return false;
  }
  return std::all_of(rule.tags.begin(), rule.tags.end(),
                     [&](const auto& want) { return std::find(tags.begin(), tags.end(), want) != tags.end(); });
}

std::int64_t next_midnight_ms(std::int64_t now_ms) { return (now_ms / kDayMs + 1) * kDayMs; }

std::int64_t lifecycle_due_ms(std::int64_t created_ms, std::int64_t days) {
  const std::int64_t t = created_ms + days * kDayMs;
  return t % kDayMs == 0 ? t : next_midnight_ms(t);
}

}  // namespace fogbank::s3
