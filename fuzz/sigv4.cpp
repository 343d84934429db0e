// SigV4: the Authorization header and presigned query parsing, canonical requests, string to
// sign, and verification against a key store that knows every access key. Input: byte 0 flags
// (bit 0: S3 path style, bit 1: check the sign → verify round trip), then the head as text:
// "METHOD TARGET" on the first line, one "Name: value" header per following line.
#include <cstddef>
#include <cstdint>

#include "fogbank/protocol/sigv4.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;
namespace sigv4 = protocol::sigv4;

namespace {

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

class AnyKey final : public sigv4::CredentialLookup {
 public:
  std::optional<sigv4::Credential> find(std::string_view access_key) const override {
    sigv4::Credential c;
    c.access_key = std::string(access_key);
    c.secret_key = std::string(kSecret);
    c.account_id = "111122223333";
    return c;
  }
};

protocol::RequestHead head_from(fuzz::Input& in) {
  protocol::RequestHead head;
  auto line = in.until("\n");
  auto space = line.find(' ');
  head.method = std::string(line.substr(0, space));
  head.target = space == std::string_view::npos ? "/" : std::string(line.substr(space + 1));
  while (!in.empty()) {
    auto field = in.until("\n");
    auto colon = field.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    auto value = field.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    head.headers.add(std::string(field.substr(0, colon)), std::string(value));
  }
  if (head.target.empty() || head.target.front() != '/') {
    head.target.insert(0, "/");
  }
  head.split_target();
  return head;
}

bool is_token(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (unsigned char c : s) {
    if (c <= ' ' || c >= 0x7f || std::string_view("\"(),/:;<=>?@[\\]{}").find(static_cast<char>(c)) !=
                                     std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool is_field_value(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < ' ' && c != '\t') || c == 0x7f) {
      return false;
    }
  }
  return true;
}

/// Whether Beast would have let this head through: the round trip is only promised for heads
/// that can arrive on the wire.
bool wire_legal(const protocol::RequestHead& head) {
  if (!is_token(head.method)) {
    return false;
  }
  for (unsigned char c : head.target) {
    if (c <= ' ' || c >= 0x7f) {
      return false;
    }
  }
  for (const auto& [name, value] : head.headers.items()) {
    if (!is_token(name) || !is_field_value(value)) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto flags = in.byte();
  const auto style = (flags & 1) != 0 ? sigv4::PathStyle::kS3 : sigv4::PathStyle::kDoubleEncode;
  const bool round_trip = (flags & 2) != 0;
  auto head = head_from(in);
  static const AnyKey keys;

  sigv4::AuthFailure failure = sigv4::AuthFailure::kNone;
  std::string message;
  auto auth = sigv4::parse(head, failure, message);
  (void)sigv4::canonical_request(head, auth.signed_headers, sigv4::kUnsignedPayload, style);
  if (auth.kind != sigv4::AuthKind::kNone) {
    auto now = sigv4::parse_amz_date(auth.amz_date);
    if (now) {
      (void)sigv4::format_amz_date(*now);
    }
    auto v = sigv4::verify(head, auth, keys, sigv4::kEmptySha256, style, now.value_or(0));
    (void)v;
  }

  // Without a Host header there is nothing to sign it with, and the verifier insists on one.
  if (round_trip && wire_legal(head) && !head.host_name().empty()) {
    for (const char* name : {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}) {
      head.headers.remove(name);
    }
    if (head.query.find("X-Amz-") != std::string::npos) {
      return 0;  // a presigned URL signed again with a header is refused by design
    }
    sigv4::SigningParams p;
    p.access_key = "AKIDEXAMPLE";
    p.secret_key = std::string(kSecret);
    p.region = "us-east-1";
    p.service = style == sigv4::PathStyle::kS3 ? "s3" : "sqs";
    p.now = 1'700'000'000;
    p.style = style;
    sigv4::sign(head, sigv4::kEmptySha256, p);
    auto signed_auth = sigv4::parse(head, failure, message);
    FOGBANK_FUZZ_CHECK(signed_auth.kind == sigv4::AuthKind::kHeader, message);
    auto v = sigv4::verify(head, signed_auth, keys, sigv4::kEmptySha256, style, p.now);
    FOGBANK_FUZZ_CHECK(v.ok(), v.message + "\n" + v.canonical_request);
  }
  return 0;
}
