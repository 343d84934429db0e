#pragma once
// Decoder for `Content-Encoding: aws-chunked` request bodies, the streaming upload format of
// S3 (SigV4 "streaming" payloads), as a push-based BodySink decorator:
//
//   <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//   [<trailer-name>:<value>\r\n ... [x-amz-trailer-signature:<sig>\r\n]]\r\n
//
// Modes (x-amz-content-sha256):
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          signed chunks, no trailer
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  signed chunks + signed trailer
//   STREAMING-UNSIGNED-PAYLOAD-TRAILER          plain chunks + unsigned trailer
// Every chunk signature is verified as the chunk completes, so a forged body is refused before
// it is stored. Parsing is strict: hex sizes via from_chars with overflow checks, every CRLF
// checked, bounded chunk-header and trailer sizes. Errors are thrown as AwsError with S3 codes.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/http.hpp"

namespace fogbank::protocol {

struct AwsChunkedParams {
  enum class Mode { kSigned, kSignedTrailer, kUnsignedTrailer };
  Mode mode = Mode::kUnsignedTrailer;
  // For the signed modes: the request's signing key, its X-Amz-Date, its credential scope and
  // its Authorization signature (the seed of the chunk-signature chain).
  Sha256Digest signing_key{};
  std::string amz_date;
  std::string scope;
  std::string seed_signature;
  /// x-amz-decoded-content-length if sent: the decoded size must match exactly.
  std::optional<std::uint64_t> decoded_length;
  /// Names announced in x-amz-trailer (lower-case); trailers must be among them.
  std::vector<std::string> expected_trailers;
};

/// Returns the mode for an x-amz-content-sha256 value, or nullopt if it is not a streaming one.
std::optional<AwsChunkedParams::Mode> aws_chunked_mode(std::string_view content_sha256);

class AwsChunkedDecoder final : public BodySink {
 public:
  /// `inner` receives the decoded payload; `on_trailers` (optional) is called with the parsed
  /// trailer fields after the final chunk, before inner->finish().
  AwsChunkedDecoder(std::unique_ptr<BodySink> inner, AwsChunkedParams params,
                    std::function<void(const Headers&)> on_trailers = {});
  ~AwsChunkedDecoder() override;

  void write(std::string_view data) override;
  [[nodiscard]] Response finish() override;
  void abort() noexcept override;

  [[nodiscard]] std::uint64_t decoded_bytes() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fogbank::protocol
