#pragma once
// AWS Signature Version 4: parsing, canonicalisation and verification of signed requests.
//
// Pure functions over RequestHead: no sockets, no clock (the caller passes `now`), no storage
// (credentials come through CredentialLookup). The same canonicalisation code serves the
// verifier, the aws-chunked decoder (aws_chunked.hpp) and our own signer (used by tests and the
// bench load tool), so they cannot drift apart.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/http.hpp"

namespace fogbank::protocol::sigv4 {

/// Special values of x-amz-content-sha256 (and of the payload hash in a canonical request).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kStreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view kStreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// One credential fogbank knows: long-term keys from config, or temporary keys issued by STS.
struct Credential {
  std::string access_key;
  std::string secret_key;
  std::string session_token;   ///< non-empty for temporary credentials
  std::string account_id;      ///< 12 digits
  std::string arn;             ///< caller ARN (GetCallerIdentity)
  std::string user_id;         ///< caller UserId (GetCallerIdentity)
  std::int64_t expires_at = 0; ///< unix seconds; 0 = never (long-term keys)
  [[nodiscard]] bool temporary() const { return !session_token.empty(); }
};

/// Where the verifier looks up access keys. Implementations must be thread-safe.
class CredentialLookup {
 public:
  virtual ~CredentialLookup() = default;
  [[nodiscard]] virtual std::optional<Credential> find(std::string_view access_key) const = 0;
};

enum class AuthKind { kNone, kHeader, kPresigned };

/// What a request claims about its signature, before any verification.
struct ParsedAuth {
  AuthKind kind = AuthKind::kNone;
  std::string access_key;
  std::string date;        ///< credential scope date, YYYYMMDD
  std::string region;      ///< credential scope region
  std::string service;     ///< credential scope service ("s3", "sts", "sqs", ...)
  std::vector<std::string> signed_headers;  ///< lower-case, as listed by the client
  std::string signature;   ///< 64 lower-case hex digits
  std::string amz_date;    ///< X-Amz-Date (or Date header): YYYYMMDDTHHMMSSZ
  std::int64_t expires = 0;     ///< presigned only: X-Amz-Expires seconds
  std::string session_token;    ///< X-Amz-Security-Token (header or query)

  [[nodiscard]] std::string scope() const;  ///< "date/region/service/aws4_request"
};

/// Why a request failed authentication. Each service protocol maps these to its own error codes
/// (see auth_errors.hpp); the verifier itself knows nothing about services.
enum class AuthFailure {
  kNone,
  kMissingAuthentication,   ///< no Authorization header, no X-Amz-Algorithm query
  kIncompleteSignature,     ///< malformed Authorization header / presigned parameters
  kUnsupportedAlgorithm,    ///< not AWS4-HMAC-SHA256 (e.g. SigV2)
  kInvalidDate,             ///< X-Amz-Date missing or unparsable, or scope date mismatch
  kUnknownAccessKey,
  kMissingSessionToken,     ///< temporary key without its session token
  kInvalidSessionToken,     ///< token present but not the one issued with this key (or garbage)
  kExpiredToken,            ///< temporary credentials past their expiry
  kSignatureMismatch,
  kRequestTimeTooSkewed,    ///< header-signed request more than 15 min off `now`
  kPresignExpired,          ///< presigned URL past X-Amz-Date + X-Amz-Expires
  kPresignNotYetValid,      ///< presigned URL dated more than 15 min in the future
  kInvalidExpires,          ///< X-Amz-Expires not a number, < 1 or > 604800
  kPayloadHashMismatch,     ///< body hash differs from x-amz-content-sha256
};

/// Parses the Authorization header (AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
/// Signature=...) or the presigned query parameters. On malformed input returns kind kNone and
/// sets `failure` (kIncompleteSignature / kUnsupportedAlgorithm / kInvalidExpires / ...).
/// A request with neither form returns kind kNone and failure kMissingAuthentication.
ParsedAuth parse(const RequestHead& request, AuthFailure& failure, std::string& message);

/// How the path is canonicalised: S3 uses the raw path as sent (single encoding, no
/// normalisation); every other service normalises the path and URI-encodes it twice.
enum class PathStyle { kS3, kDoubleEncode };

/// Canonical request exactly as SigV4 specifies, for the given signed headers and payload hash.
/// For presigned requests X-Amz-Signature is left out of the canonical query string.
std::string canonical_request(const RequestHead& request, const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash, PathStyle style);

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

/// kSigning = HMAC chain of secret, date, region, service, "aws4_request".
Sha256Digest signing_key(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service);

/// Parses YYYYMMDDTHHMMSSZ to unix seconds.
std::optional<std::int64_t> parse_amz_date(std::string_view amz_date);
/// Formats unix seconds as YYYYMMDDTHHMMSSZ.
std::string format_amz_date(std::int64_t unix_seconds);

/// Outcome of verify(). On success `credential` is the caller and `signing_key`/`signature`
/// seed the aws-chunked decoder. On failure `canonical_request` and `string_to_sign` are what
/// fogbank computed (logged at debug level and echoed in S3 error bodies).
struct Verification {
  AuthFailure failure = AuthFailure::kNone;
  std::string message;  ///< detail for the error message (e.g. the skew explanation)
  Credential credential;
  std::string canonical_request;
  std::string string_to_sign;
  Sha256Digest signing_key{};
  [[nodiscard]] bool ok() const { return failure == AuthFailure::kNone; }
};

/// Verifies a parsed header or presigned signature.
///  - `payload_hash` is the hash that goes into the canonical request: for S3 the
///    x-amz-content-sha256 value as sent (or UNSIGNED-PAYLOAD for presigned URLs without it);
///    for other services the hex SHA-256 of the body.
///  - `now` is real unix seconds: header-signed requests may be 15 minutes off it (clients sign
///    with their own clocks, so the skew check never follows a virtual clock);
///  - `expiry_now` is the service clock's unix seconds (a virtual clock in tests; negative: `now`):
///    presigned URLs must be within [X-Amz-Date - 15 min, X-Amz-Date + X-Amz-Expires] of it and
///    temporary credentials expire by it.
/// Checks, in AWS's order: access key known, session token matches (temporary keys), token
/// not expired, time window, then the signature (constant-time compare).
Verification verify(const RequestHead& request, const ParsedAuth& auth, const CredentialLookup& keys,
                    std::string_view payload_hash, PathStyle style, std::int64_t now,
                    std::int64_t expiry_now = -1);

/// Signs a request in place (adds X-Amz-Date, x-amz-content-sha256 when `add_content_sha256`,
/// X-Amz-Security-Token when set, and Authorization). Signs host and every x-amz-* header.
/// Used by tests and by the bench load tool.
struct SigningParams {
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string region;
  std::string service;
  std::int64_t now = 0;
  PathStyle style = PathStyle::kDoubleEncode;
  bool add_content_sha256 = false;
};
void sign(RequestHead& request, std::string_view payload_hash, const SigningParams& params);

}  // namespace fogbank::protocol::sigv4
