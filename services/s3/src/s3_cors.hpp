#pragma once
// Bucket CORS (PutBucketCors / GetBucketCors / DeleteBucketCors): the rules, validated as S3
// validates them, and their evaluation for preflight OPTIONS requests and for the Access-Control-*
// headers of actual cross-origin requests. Internal to fogbank_svc_s3.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/http.hpp"

namespace fogbank::s3 {

struct CorsRule {
  std::string id;
  std::vector<std::string> allowed_methods;
  std::vector<std::string> allowed_origins;  ///< each with at most one '*'
  std::vector<std::string> allowed_headers;  ///< each with at most one '*', matched ignoring case
  std::vector<std::string> expose_headers;
  std::optional<std::int64_t> max_age_seconds;
};

struct CorsConfig {
  std::vector<CorsRule> rules;
};

/// The decoded CORSConfiguration of a PutBucketCors body (the codec's value). Throws S3's
/// MalformedXML / InvalidRequest errors for what S3 refuses.
CorsConfig cors_from_request(const nlohmann::json& doc);
/// GetBucketCors's output value.
nlohmann::json cors_output(const CorsConfig& config);
/// The form kept in the bucket record, and back (nullopt: not a stored configuration).
nlohmann::json cors_to_stored(const CorsConfig& config);
std::optional<CorsConfig> cors_from_stored(const nlohmann::json& stored);

/// The first rule that lets `origin` use `method` with `request_headers` (a comma-separated
/// Access-Control-Request-Headers value, possibly empty), as S3 evaluates them, or null.
const CorsRule* match_cors(const CorsConfig& config, std::string_view origin, std::string_view method,
                           std::string_view request_headers);

/// The answer to a preflight OPTIONS request for a bucket whose configuration is `config` (null:
/// none): 200 with the Access-Control-* headers, or the AwsError S3 answers (BadRequest without
/// Origin or Access-Control-Request-Method, 403 AccessForbidden when no rule matches).
protocol::Response cors_preflight(const CorsConfig* config, const protocol::Headers& request, bool object_level);

/// Adds the Access-Control-* headers of an actual request from `origin` with `method` when a
/// rule lets it through (nothing otherwise). `headers` is a Response's or an AwsError's.
void add_cors_headers(const CorsConfig& config, std::string_view origin, std::string_view method,
                      std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace fogbank::s3
