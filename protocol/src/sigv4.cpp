#include "fogbank/protocol/sigv4.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

#include "fogbank/protocol/uri.hpp"
#include "fogbank/protocol/text.hpp"
#include "timestamps.hpp"

namespace fogbank::protocol::sigv4 {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::int64_t kSkewSeconds = 15 * 60;
constexpr std::int64_t kMaxPresignExpires = 604800;

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}


std::optional<unsigned> digits(std::string_view s) {
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

std::optional<std::int64_t> to_unix(std::int64_t year, unsigned month, unsigned day, unsigned hour,
                                    unsigned minute, unsigned second) {
  if (year < 0 || year > 9999 || month > 12 || day > 31 || hour > 99 || minute > 99 || second > 99) {
    return std::nullopt;  // four-digit fields only; epoch_seconds checks the calendar
  }
  return timestamps::epoch_seconds(static_cast<int>(year), static_cast<int>(month), static_cast<int>(day),
                       static_cast<int>(hour), static_cast<int>(minute), static_cast<int>(second), true);
}

// RFC 1123 ("Sun, 06 Nov 1994 08:49:37 GMT"), the only Date format SigV4 clients send.
std::optional<std::int64_t> parse_http_date(std::string_view s) {
  s = trim(s);
  auto comma = s.find(',');
  if (comma != std::string_view::npos) {
    s = trim(s.substr(comma + 1));
  }
  if (s.size() != 24 || s[2] != ' ' || s[6] != ' ' || s[11] != ' ' || s[14] != ':' || s[17] != ':' ||
      s.substr(20) != " GMT") {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (s.substr(3, 3) == kMonths[i]) {
      month = i + 1;
    }
  }
  auto day = digits(s.substr(0, 2));
  auto year = digits(s.substr(7, 4));
  auto hour = digits(s.substr(12, 2));
  auto minute = digits(s.substr(15, 2));
  auto second = digits(s.substr(18, 2));
  if (month == 0 || !day || !year || !hour || !minute || !second) {
    return std::nullopt;
  }
  return to_unix(*year, month, *day, *hour, *minute, *second);
}

std::vector<std::string> split_signed_headers(std::string_view list) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    auto semi = list.find(';', pos);
    auto item = trim(list.substr(pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos));
    if (!item.empty()) {
      out.push_back(ascii_lower(item));
    }
    if (semi == std::string_view::npos) {
      break;
    }
    pos = semi + 1;
  }
  return out;
}

// Splits "AK/20150830/us-east-1/iam/aws4_request" into the auth's fields. Access key ids never
// contain '/', but we split from the right so a malformed one still yields a clear message.
bool parse_credential(std::string_view credential, ParsedAuth& auth, std::string& message) {
  std::array<std::string_view, 4> tail{};
  std::string_view rest = credential;
  for (int i = 3; i >= 0; --i) {
    auto slash = rest.rfind('/');
    if (slash == std::string_view::npos) {
      message = "Credential should have at least 5 slash-separated parts, not 1 part: '" +
                std::string(credential) + "'";
      return false;
    }
    tail[static_cast<std::size_t>(i)] = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (tail[3] != kTerminator) {
    message = "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
              std::string(tail[3]) + "'.";
    return false;
  }
  if (tail[0].size() != 8 || !digits(tail[0])) {
    message = "Credential should be scoped to a valid date, not '" + std::string(tail[0]) + "'.";
    return false;
  }
  if (rest.empty() || tail[1].empty() || tail[2].empty()) {
    message = "Credential should be scoped to a valid region and service: '" + std::string(credential) +
              "'.";
    return false;
  }
  auth.access_key = std::string(rest);
  auth.date = std::string(tail[0]);
  auth.region = std::string(tail[1]);
  auth.service = std::string(tail[2]);
  return true;
}

/// HTTP/2 clients may sign `:authority` (the JavaScript SDK v3 does) where HTTP/1.1 ones sign
/// `host`; either binds the signature to the endpoint. HTTP/1.1 cannot carry a `:` header name.
bool has_host(const std::vector<std::string>& signed_headers) {
  return std::any_of(signed_headers.begin(), signed_headers.end(),
                     [](const std::string& h) { return h == "host" || h == ":authority"; });
}

ParsedAuth parse_header(const RequestHead& request, std::string_view header, AuthFailure& failure,
                        std::string& message) {
  ParsedAuth auth;
  std::string_view value = trim(header);
  auto space = value.find_first_of(" \t");
  std::string_view algorithm = value.substr(0, space);
  std::string_view params = space == std::string_view::npos ? std::string_view() : value.substr(space + 1);

  if (algorithm != kAlgorithm) {
    failure = AuthFailure::kUnsupportedAlgorithm;
    message = algorithm == "AWS"
                  ? "The authorization mechanism you have provided is not supported. Please use "
                    "AWS4-HMAC-SHA256."
                  : "Unsupported AWS 'algorithm': '" + std::string(algorithm) + "'";
    return {};
  }

  // Components are separated by ',' with optional whitespace; AWS also accepts bare spaces.
  std::optional<std::string_view> credential;
  std::optional<std::string_view> signed_headers;
  std::optional<std::string_view> signature;
  std::size_t pos = 0;
  while (pos < params.size()) {
    auto end = params.find_first_of(", \t", pos);
    auto item = params.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (!item.empty()) {
      auto eq = item.find('=');
      std::string_view key = item.substr(0, eq);
      std::string_view val = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      if (eq == std::string_view::npos) {
        failure = AuthFailure::kIncompleteSignature;
        message = "Authorization header requires each component to be of the form key=value. Authorization=" +
                  std::string(value);
        return {};
      }
      if (key == "Credential") {
        credential = val;
      } else if (key == "SignedHeaders") {
        signed_headers = val;
      } else if (key == "Signature") {
        signature = val;
      }
    }
    if (end == std::string_view::npos) {
      break;
    }
    pos = end + 1;
  }

  std::string missing;
  if (!credential) {
    missing += "Authorization header requires 'Credential' parameter. ";
  }
  if (!signed_headers) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (!signature) {
    missing += "Authorization header requires 'Signature' parameter. ";
  }
  if (!missing.empty()) {
    failure = AuthFailure::kIncompleteSignature;
    message = missing + "Authorization=" + std::string(value);
    return {};
  }
  if (!parse_credential(*credential, auth, message)) {
    failure = AuthFailure::kIncompleteSignature;
    return {};
  }
  auth.signed_headers = split_signed_headers(*signed_headers);
  if (!has_host(auth.signed_headers)) {
    failure = AuthFailure::kIncompleteSignature;
    message = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";
    return {};
  }
  auth.signature = std::string(*signature);

  if (auto amz_date = request.headers.get("x-amz-date")) {
    if (!parse_amz_date(trim(*amz_date))) {
      failure = AuthFailure::kInvalidDate;
      message = "Date must be in ISO-8601 'basic format'. Got '" + std::string(*amz_date) +
                "'. See http://en.wikipedia.org/wiki/ISO_8601";
      return {};
    }
    auth.amz_date = std::string(trim(*amz_date));
  } else if (auto date = request.headers.get("date")) {
    auto t = parse_http_date(*date);
    if (!t) {
      failure = AuthFailure::kInvalidDate;
      message = "Date header is not a valid RFC 1123 date: '" + std::string(*date) + "'";
      return {};
    }
    auth.amz_date = format_amz_date(*t);
  } else {
    failure = AuthFailure::kInvalidDate;
    message = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
              "Authorization=" +
              std::string(value);
    return {};
  }
  if (auto token = request.headers.get("x-amz-security-token")) {
    auth.session_token = std::string(trim(*token));
  }
  auth.kind = AuthKind::kHeader;
  failure = AuthFailure::kNone;
  message.clear();
  return auth;
}

ParsedAuth parse_presigned(const QueryParams& params, AuthFailure& failure, std::string& message) {
  ParsedAuth auth;
  const std::string* algorithm = find_param(params, "X-Amz-Algorithm");
  if (*algorithm != kAlgorithm) {
    failure = AuthFailure::kUnsupportedAlgorithm;
    message = "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"";
    return {};
  }
  const std::string* credential = find_param(params, "X-Amz-Credential");
  const std::string* date = find_param(params, "X-Amz-Date");
  const std::string* expires = find_param(params, "X-Amz-Expires");
  const std::string* signed_headers = find_param(params, "X-Amz-SignedHeaders");
  const std::string* signature = find_param(params, "X-Amz-Signature");
  if (credential == nullptr || date == nullptr || expires == nullptr || signed_headers == nullptr ||
      signature == nullptr) {
    failure = AuthFailure::kIncompleteSignature;
    message = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
              "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
    return {};
  }
  if (!parse_credential(*credential, auth, message)) {
    failure = AuthFailure::kIncompleteSignature;
    return {};
  }
  if (!parse_amz_date(*date)) {
    failure = AuthFailure::kInvalidDate;
    message = "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"";
    return {};
  }
  std::int64_t expires_value = 0;
  auto [ptr, ec] = std::from_chars(expires->data(), expires->data() + expires->size(), expires_value);
  if (ec != std::errc() || ptr != expires->data() + expires->size() || expires->empty()) {
    failure = AuthFailure::kInvalidExpires;
    message = "X-Amz-Expires should be a number";
    return {};
  }
  if (expires_value < 1) {
    failure = AuthFailure::kInvalidExpires;
    message = expires_value < 0 ? "X-Amz-Expires must be non-negative"
                                : "X-Amz-Expires must be greater than 0";
    return {};
  }
  if (expires_value > kMaxPresignExpires) {
    failure = AuthFailure::kInvalidExpires;
    message = "X-Amz-Expires must be less than a week (in seconds) that is 604800";
    return {};
  }
  auth.signed_headers = split_signed_headers(*signed_headers);
  if (!has_host(auth.signed_headers)) {
    failure = AuthFailure::kIncompleteSignature;
    message = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";
    return {};
  }
  auth.amz_date = *date;
  auth.expires = expires_value;
  auth.signature = *signature;
  if (const std::string* token = find_param(params, "X-Amz-Security-Token")) {
    auth.session_token = *token;
  }
  auth.kind = AuthKind::kPresigned;
  failure = AuthFailure::kNone;
  message.clear();
  return auth;
}

// One path segment in single-encoded canonical form: escapes decoded and re-encoded, so a raw
// space and "%20" agree, while "%2F" stays inside its segment.
std::string encode_segment_once(std::string_view segment) {
  auto decoded = percent_decode(segment, false);
  return uri_encode(decoded ? std::string_view(*decoded) : segment, false);
}

std::string encode_path_once(std::string_view path) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    auto slash = path.find('/', pos);
    out += encode_segment_once(path.substr(pos, slash == std::string_view::npos ? std::string_view::npos
                                                                                 : slash - pos));
    if (slash == std::string_view::npos) {
      break;
    }
    out.push_back('/');
    pos = slash + 1;
  }
  return out;
}

// RFC 3986 dot-segment removal plus "//" collapsing, as the SDKs normalise non-S3 paths.
std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    auto seg = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (seg == "..") {
      if (!out.empty()) {
        out.pop_back();
      }
    } else if (!seg.empty() && seg != ".") {
      out.push_back(seg);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    pos = slash + 1;
  }
  std::string result = "/";
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0) {
      result.push_back('/');
    }
    result.append(out[i]);
  }
  if (!out.empty() && path.back() == '/') {
    result.push_back('/');
  }
  return result;
}

std::string canonical_uri(std::string_view path, PathStyle style) {
  if (path.empty()) {
    return "/";
  }
  if (style == PathStyle::kS3) {
    return encode_path_once(path);
  }
  // The wire path is already encoded once; encoding it again (so '%' becomes "%25") is the
  // "double encoding" every non-S3 service signs.
  return uri_encode(normalize_path(path), true);
}

std::string canonical_query(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t pos = 0;
  while (pos <= raw.size()) {
    auto amp = raw.find('&', pos);
    auto piece = raw.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!piece.empty()) {
      auto eq = piece.find('=');
      auto raw_name = piece.substr(0, eq);
      auto raw_value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
      auto name = percent_decode(raw_name, true);
      auto value = percent_decode(raw_value, true);
      std::string enc_name = uri_encode(name ? std::string_view(*name) : raw_name);
      if (!(name && *name == "X-Amz-Signature")) {
        pairs.emplace_back(std::move(enc_name), uri_encode(value ? std::string_view(*value) : raw_value));
      }
    }
    if (amp == std::string_view::npos) {
      break;
    }
    pos = amp + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [n, v] : pairs) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += n;
    out.push_back('=');
    out += v;
  }
  return out;
}

// Trims and collapses runs of whitespace to one space, as SigV4 canonical header values require.
void append_canonical_value(std::string& out, std::string_view value) {
  value = trim(value);
  bool in_space = false;
  for (char c : value) {
    if (is_space(c) || c == '\r' || c == '\n') {
      in_space = true;
      continue;
    }
    if (in_space) {
      out.push_back(' ');
      in_space = false;
    }
    out.push_back(c);
  }
}

std::string format_skew_time(std::int64_t t) { return format_amz_date(t); }

}  // namespace

std::string ParsedAuth::scope() const {
  return date + "/" + region + "/" + service + "/" + std::string(kTerminator);
}

ParsedAuth parse(const RequestHead& request, AuthFailure& failure, std::string& message) {
  failure = AuthFailure::kNone;
  message.clear();
  auto header = request.headers.get("authorization");
  std::optional<QueryParams> params;
  bool presigned = false;
  if (!request.query.empty()) {
    params = parse_query_string(request.query);
    presigned = params && find_param(*params, "X-Amz-Algorithm") != nullptr;
  }
  if (header && presigned) {
    failure = AuthFailure::kIncompleteSignature;
    message = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
              "string parameter or the Authorization header should be specified";
    return {};
  }
  if (header) {
    return parse_header(request, *header, failure, message);
  }
  if (presigned) {
    return parse_presigned(*params, failure, message);
  }
  failure = AuthFailure::kMissingAuthentication;
  message = "Request is missing Authentication Token";
  return {};
}

std::string canonical_request(const RequestHead& request, const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash, PathStyle style) {
  std::string out;
  out.reserve(256);
  out += request.method;
  out.push_back('\n');
  out += canonical_uri(request.path, style);
  out.push_back('\n');
  out += canonical_query(request.query);
  out.push_back('\n');
  std::string names;
  for (const auto& name : signed_headers) {
    out += name;
    out.push_back(':');
    bool first = true;
    for (const auto& [n, v] : request.headers.items()) {
      if (iequals(n, name)) {
        if (!first) {
          out.push_back(',');
        }
        append_canonical_value(out, v);
        first = false;
      }
    }
    out.push_back('\n');
    if (!names.empty()) {
      names.push_back(';');
    }
    names += name;
  }
  out.push_back('\n');
  out += names;
  out.push_back('\n');
  out += payload_hash;
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out;
  out.reserve(128 + scope.size());
  out += kAlgorithm;
  out.push_back('\n');
  out += amz_date;
  out.push_back('\n');
  out += scope;
  out.push_back('\n');
  out += hex(sha256(canonical_request));
  return out;
}

Sha256Digest signing_key(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service) {
  std::string k_secret = "AWS4" + std::string(secret);
  auto k_date = hmac_sha256(k_secret, date);
  OPENSSL_cleanse(k_secret.data(), k_secret.size());
  auto k_region = hmac_sha256(as_view(k_date), region);
  auto k_service = hmac_sha256(as_view(k_region), service);
  return hmac_sha256(as_view(k_service), kTerminator);
}

namespace {

// The key changes once a day per credential and region: each I/O thread keeps the last one it
// derived, which saves four HMACs on nearly every request.
Sha256Digest cached_signing_key(std::string_view secret, std::string_view date,
                                std::string_view region, std::string_view service) {
  struct Entry {
    std::string secret, date, region, service;
    Sha256Digest key{};
    bool valid = false;
  };
  thread_local Entry last;
  if (!last.valid || last.secret != secret || last.date != date || last.region != region ||
      last.service != service) {
    last.key = signing_key(secret, date, region, service);
    last.secret = secret;
    last.date = date;
    last.region = region;
    last.service = service;
    last.valid = true;
  }
  return last.key;
}

}  // namespace

std::optional<std::int64_t> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') {
    return std::nullopt;
  }
  auto year = digits(s.substr(0, 4));
  auto month = digits(s.substr(4, 2));
  auto day = digits(s.substr(6, 2));
  auto hour = digits(s.substr(9, 2));
  auto minute = digits(s.substr(11, 2));
  auto second = digits(s.substr(13, 2));
  if (!year || !month || !day || !hour || !minute || !second) {
    return std::nullopt;
  }
  return to_unix(*year, *month, *day, *hour, *minute, *second);
}

std::string format_amz_date(std::int64_t t) {
  const auto c = timestamps::civil_time(std::clamp(t, timestamps::kYear0Seconds, timestamps::kYear10000Seconds - 1));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", c.year, c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

Verification verify(const RequestHead& request, const ParsedAuth& auth, const CredentialLookup& keys,
                    std::string_view payload_hash, PathStyle style, std::int64_t now,
                    std::int64_t expiry_now) {
  if (expiry_now < 0) {
    expiry_now = now;
  }
  Verification v;
  auto fail = [&v](AuthFailure f, std::string message) {
    v.failure = f;
    v.message = std::move(message);
    return std::move(v);
  };
  if (auth.kind == AuthKind::kNone) {
    return fail(AuthFailure::kMissingAuthentication, "Request is missing Authentication Token");
  }

  auto credential = keys.find(auth.access_key);
  if (!credential) {
    return fail(AuthFailure::kUnknownAccessKey,
                "The AWS Access Key Id you provided does not exist in our records.");
  }
  v.credential = *credential;

  if (credential->temporary()) {
    if (auth.session_token.empty()) {
      return fail(AuthFailure::kMissingSessionToken,
                  "The security token included in the request is invalid.");
    }
    const auto& expected = credential->session_token;
    if (auth.session_token.size() != expected.size() ||
        CRYPTO_memcmp(auth.session_token.data(), expected.data(), expected.size()) != 0) {
      return fail(AuthFailure::kInvalidSessionToken, "The security token included in the request is invalid.");
    }
    if (credential->expires_at != 0 && credential->expires_at <= expiry_now) {
      return fail(AuthFailure::kExpiredToken, "The security token included in the request is expired");
    }
  } else if (!auth.session_token.empty()) {
    return fail(AuthFailure::kInvalidSessionToken, "The security token included in the request is invalid.");
  }

  auto request_time = parse_amz_date(auth.amz_date);
  if (!request_time) {
    return fail(AuthFailure::kInvalidDate, "Date must be in ISO-8601 'basic format'. Got '" + auth.amz_date +
                                               "'. See http://en.wikipedia.org/wiki/ISO_8601");
  }
  if (auth.date != std::string_view(auth.amz_date).substr(0, 8)) {
    return fail(AuthFailure::kSignatureMismatch,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
                    auth.date + "' != '" + auth.amz_date.substr(0, 8) + "', from '" + auth.amz_date + "'.");
  }

  if (auth.kind == AuthKind::kHeader) {
    if (*request_time < now - kSkewSeconds) {
      return fail(AuthFailure::kRequestTimeTooSkewed,
                  "Signature expired: " + auth.amz_date + " is now earlier than " +
                      format_skew_time(now - kSkewSeconds) + " (" + format_skew_time(now) + " - 15 min.)");
    }
    if (*request_time > now + kSkewSeconds) {
      return fail(AuthFailure::kRequestTimeTooSkewed,
                  "Signature not yet current: " + auth.amz_date + " is still later than " +
                      format_skew_time(now + kSkewSeconds) + " (" + format_skew_time(now) + " + 15 min.)");
    }
  } else {
    if (expiry_now > *request_time + auth.expires) {
      return fail(AuthFailure::kPresignExpired, "Request has expired");
    }
    if (*request_time > expiry_now + kSkewSeconds) {
      return fail(AuthFailure::kPresignNotYetValid, "Request is not yet valid");
    }
  }

  v.canonical_request = canonical_request(request, auth.signed_headers, payload_hash, style);
  v.string_to_sign = string_to_sign(auth.amz_date, auth.scope(), v.canonical_request);
  auto key = cached_signing_key(credential->secret_key, auth.date, auth.region, auth.service);
  std::string expected = hex(hmac_sha256(as_view(key), v.string_to_sign));
  if (auth.signature.size() != expected.size() ||
      CRYPTO_memcmp(auth.signature.data(), expected.data(), expected.size()) != 0) {
    return fail(AuthFailure::kSignatureMismatch,
                "The request signature we calculated does not match the signature you provided. Check your "
                "AWS Secret Access Key and signing method. Consult the service documentation for details.");
  }
  v.signing_key = key;
  return v;
}

void sign(RequestHead& request, std::string_view payload_hash, const SigningParams& params) {
  std::string amz_date = format_amz_date(params.now);
  request.headers.remove("authorization");
  request.headers.set("X-Amz-Date", amz_date);
  if (params.add_content_sha256) {
    request.headers.set("x-amz-content-sha256", std::string(payload_hash));
  }
  if (!params.session_token.empty()) {
    request.headers.set("X-Amz-Security-Token", params.session_token);
  }
  std::vector<std::string> signed_headers;
  for (const auto& [name, value] : request.headers.items()) {
    std::string lower = ascii_lower(name);
    if (lower == "host" || lower.starts_with("x-amz-")) {
      signed_headers.push_back(std::move(lower));
    }
  }
  std::sort(signed_headers.begin(), signed_headers.end());
  signed_headers.erase(std::unique(signed_headers.begin(), signed_headers.end()), signed_headers.end());

  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + params.region + "/" + params.service + "/" + std::string(kTerminator);
  std::string creq = canonical_request(request, signed_headers, payload_hash, params.style);
  std::string sts = string_to_sign(amz_date, scope, creq);
  auto key = signing_key(params.secret_key, date, params.region, params.service);
  std::string signature = hex(hmac_sha256(as_view(key), sts));

  std::string names;
  for (const auto& h : signed_headers) {
    if (!names.empty()) {
      names.push_back(';');
    }
    names += h;
  }
  request.headers.set("Authorization", std::string(kAlgorithm) + " Credential=" + params.access_key + "/" +
                                           scope + ", SignedHeaders=" + names + ", Signature=" + signature);
}

}  // namespace fogbank::protocol::sigv4
