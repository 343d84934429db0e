#include "s3_cors.hpp"

#include <algorithm>

#include "fogbank/protocol/resource_policy.hpp"

namespace fogbank::s3 {

namespace {

using nlohmann::json;
using protocol::AwsError;

constexpr std::size_t kMaxRules = 100;
constexpr std::string_view kMethods[] = {"GET", "PUT", "HEAD", "POST", "DELETE"};

AwsError malformed() {
  return AwsError("MalformedXML", 400,
                  "The XML you provided was not well-formed or did not validate against our published schema");
}

std::vector<std::string> strings_of(const json& rule, const char* member) {
  std::vector<std::string> out;
  auto it = rule.find(member);
  if (it == rule.end()) {
    return out;
  }
  if (!it->is_array()) {
    throw malformed();
  }
  for (const auto& v : *it) {
    if (!v.is_string()) {
      throw malformed();
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

void at_most_one_wildcard(const std::vector<std::string>& values, const char* what) {
  for (const auto& v : values) {
    if (std::count(v.begin(), v.end(), '*') > 1) {
      throw AwsError("InvalidRequest", 400,
                     std::string(what) + " \"" + v + "\" can not have more than one wildcard.");
    }
  }
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    return {};
  }
  return std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    auto item = trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!item.empty()) {
      out.push_back(std::move(item));
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    out += (out.empty() ? "" : ", ") + v;
  }
  return out;
}

bool origin_allowed(const CorsRule& rule, std::string_view origin) {
  return std::any_of(rule.allowed_origins.begin(), rule.allowed_origins.end(),
                     [&](const std::string& o) { return protocol::wildcard_match(o, origin, false); });
}

/// The Access-Control-Allow-Origin value: "*" when the rule admits any origin, else the origin.
std::string allow_origin(const CorsRule& rule, std::string_view origin) {
  const bool any = std::find(rule.allowed_origins.begin(), rule.allowed_origins.end(), "*") != rule.allowed_origins.end();
  return any ? std::string("*") : std::string(origin);
}

void add_rule_headers(const CorsRule& rule, std::string_view origin,
                      std::vector<std::pair<std::string, std::string>>& headers) {
  const std::string allowed = allow_origin(rule, origin);
  headers.emplace_back("Access-Control-Allow-Origin", allowed);
  headers.emplace_back("Access-Control-Allow-Methods", join(rule.allowed_methods));
  if (!rule.expose_headers.empty()) {
    headers.emplace_back("Access-Control-Expose-Headers", join(rule.expose_headers));
  }
  if (rule.max_age_seconds) {
    headers.emplace_back("Access-Control-Max-Age", std::to_string(*rule.max_age_seconds));
  }
  if (allowed != "*") {
    headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }
  headers.emplace_back("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

}  // namespace

CorsConfig cors_from_request(const json& doc) {
  auto rules = doc.find("CORSRules");
  if (rules == doc.end() || !rules->is_array() || rules->empty()) {
    throw malformed();
  }
  if (rules->size() > kMaxRules) {
    throw AwsError("InvalidRequest", 400, "The CORS configuration must not have more than 100 rules.");
  }
  CorsConfig config;
  for (const auto& r : *rules) {
    if (!r.is_object()) {
      throw malformed();
    }
    CorsRule rule;
    if (auto id = r.find("ID"); id != r.end() && id->is_string()) {
      rule.id = id->get<std::string>();
      if (rule.id.size() > 255) {
        throw AwsError("InvalidArgument", 400, "Rule ID must be no more than 255 characters");
      }
    }
    rule.allowed_methods = strings_of(r, "AllowedMethods");
    rule.allowed_origins = strings_of(r, "AllowedOrigins");
    rule.allowed_headers = strings_of(r, "AllowedHeaders");
    rule.expose_headers = strings_of(r, "ExposeHeaders");
    if (rule.allowed_methods.empty() || rule.allowed_origins.empty()) {
      throw malformed();
    }
    for (const auto& m : rule.allowed_methods) {
      if (std::find(std::begin(kMethods), std::end(kMethods), m) == std::end(kMethods)) {
        throw AwsError("InvalidRequest", 400, "Found unsupported HTTP method in CORS config. Unsupported method is " + m);
      }
    }
    at_most_one_wildcard(rule.allowed_origins, "AllowedOrigin");
    at_most_one_wildcard(rule.allowed_headers, "AllowedHeader");
    for (const auto& h : rule.expose_headers) {
      if (h.find('*') != std::string::npos) {
        throw AwsError("InvalidRequest", 400,
                       "ExposeHeader \"" + h + "\" contains wildcard. We currently do not support wildcard for "
                       "ExposeHeader.");
      }
    }
    if (auto age = r.find("MaxAgeSeconds"); age != r.end() && age->is_number_integer()) {
      rule.max_age_seconds = age->get<std::int64_t>();
    }
    config.rules.push_back(std::move(rule));
  }
  return config;
}

json cors_output(const CorsConfig& config) {
  json rules = json::array();
  for (const auto& r : config.rules) {
    json rule = {{"AllowedMethods", r.allowed_methods}, {"AllowedOrigins", r.allowed_origins}};
    if (!r.id.empty()) {
      rule["ID"] = r.id;
    }
    if (!r.allowed_headers.empty()) {
      rule["AllowedHeaders"] = r.allowed_headers;
    }
    if (!r.expose_headers.empty()) {
      rule["ExposeHeaders"] = r.expose_headers;
    }
    if (r.max_age_seconds) {
      rule["MaxAgeSeconds"] = *r.max_age_seconds;
    }
    rules.push_back(std::move(rule));
  }
  return {{"CORSRules", std::move(rules)}};
}

json cors_to_stored(const CorsConfig& config) { return cors_output(config); }

std::optional<CorsConfig> cors_from_stored(const json& stored) {
  try {
    return cors_from_request(stored);
  } catch (const AwsError&) {
    return std::nullopt;
  }
}

const CorsRule* match_cors(const CorsConfig& config, std::string_view origin, std::string_view method,
                           std::string_view request_headers) {
  const auto wanted = split_list(request_headers);
  for (const auto& rule : config.rules) {
    if (!origin_allowed(rule, origin)) {
      continue;
    }
    if (std::find(rule.allowed_methods.begin(), rule.allowed_methods.end(), method) == rule.allowed_methods.end()) {
      continue;
    }
    const bool headers_ok = std::all_of(wanted.begin(), wanted.end(), [&](const std::string& h) {
      return std::any_of(rule.allowed_headers.begin(), rule.allowed_headers.end(),
                         [&](const std::string& allowed) { return protocol::wildcard_match(allowed, h, true); });
    });
    if (headers_ok) {
      return &rule;
    }
  }
  return nullptr;
}

protocol::Response cors_preflight(const CorsConfig* config, const protocol::Headers& request, bool object_level) {
  auto origin = request.get("origin");
  if (!origin) {
    throw AwsError("BadRequest", 400, "Insufficient information. Origin request header needed.");
  }
  auto method = request.get("access-control-request-method");
  if (!method) {
    throw AwsError("BadRequest", 400, "Invalid Access-Control-Request-Method: null");
  }
  const std::string_view resource = object_level ? "OBJECT" : "BUCKET";
  if (config == nullptr) {
    throw AwsError("AccessForbidden", 403, "CORSResponse: CORS is not enabled for this bucket.")
        .with_field("Method", std::string(*method))
        .with_field("ResourceType", std::string(resource));
  }
  const auto requested = request.get("access-control-request-headers").value_or("");
  const CorsRule* rule = match_cors(*config, *origin, *method, requested);
  if (rule == nullptr) {
    // S3's wording, its spelling included.
    throw AwsError("AccessForbidden", 403,
                   "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
                   "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
                   "whitelisted by the resource's CORS spec.")
        .with_field("Method", std::string(*method))
        .with_field("ResourceType", std::string(resource));
  }
  protocol::Response r(200, "");
  std::vector<std::pair<std::string, std::string>> headers;
  add_rule_headers(*rule, *origin, headers);
  if (!requested.empty()) {
    // The requested headers, as the browser listed them (all passed the rule).
    headers.emplace_back("Access-Control-Allow-Headers", join(split_list(requested)));
  }
  for (auto& [name, value] : headers) {
    r.headers.add(std::move(name), std::move(value));
  }
  return r;
}

void add_cors_headers(const CorsConfig& config, std::string_view origin, std::string_view method,
                      std::vector<std::pair<std::string, std::string>>& headers) {
  if (const CorsRule* rule = match_cors(config, origin, method, {})) {
    add_rule_headers(*rule, origin, headers);
  }
}

}  // namespace fogbank::s3
