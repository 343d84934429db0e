#include "fogbank/protocol/aws_chunked.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/sigv4.hpp"
#include "fogbank/protocol/text.hpp"

namespace fogbank::protocol {

namespace {

// A chunk-size line is "<hex>;chunk-signature=<64 hex>" (~90 bytes); anything near this bound
// is an attack or garbage, not a client.
constexpr std::size_t kMaxChunkHeader = 4 * 1024;
constexpr std::size_t kMaxTrailerSection = 16 * 1024;
constexpr std::string_view kChunkSignatureExt = "chunk-signature=";
constexpr std::string_view kTrailerSignatureName = "x-amz-trailer-signature";

[[noreturn]] void throw_signature_mismatch() {
  throw AwsError("SignatureDoesNotMatch", 403,
                 "The request signature we calculated does not match the signature you provided. Check your "
                 "key and signing method.");
}

[[noreturn]] void throw_incomplete_body() {
  throw AwsError("IncompleteBody", 400,
                 "You did not provide the number of bytes specified by the Content-Length HTTP header");
}

[[noreturn]] void throw_malformed(const std::string& detail) {
  throw AwsError("InvalidRequest", 400, "Invalid aws-chunked encoding: " + detail);
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool same_signature(std::string_view expected, std::string_view given) {
  return expected.size() == given.size() && CRYPTO_memcmp(expected.data(), given.data(), given.size()) == 0;
}


}  // namespace

std::optional<AwsChunkedParams::Mode> aws_chunked_mode(std::string_view content_sha256) {
  if (content_sha256 == sigv4::kStreamingSigned) {
    return AwsChunkedParams::Mode::kSigned;
  }
  if (content_sha256 == sigv4::kStreamingSignedTrailer) {
    return AwsChunkedParams::Mode::kSignedTrailer;
  }
  if (content_sha256 == sigv4::kStreamingUnsignedTrailer) {
    return AwsChunkedParams::Mode::kUnsignedTrailer;
  }
  return std::nullopt;
}

struct AwsChunkedDecoder::Impl {
  enum class State { kSizeLine, kData, kDataCr, kDataLf, kTrailer, kDone, kFailed };

  std::unique_ptr<BodySink> inner;
  AwsChunkedParams params;
  std::function<void(const Headers&)> on_trailers;

  State state = State::kSizeLine;
  std::string line;  // partial size line or trailer line, without its CRLF
  std::uint64_t chunk_remaining = 0;
  std::uint64_t decoded = 0;    // bytes forwarded to `inner`
  std::uint64_t announced = 0;  // sum of the chunk sizes seen so far
  std::string chunk_signature;  // signature announced for the chunk being read
  std::string previous_signature;
  Sha256 chunk_hash;
  std::size_t trailer_bytes = 0;
  std::string trailer_canonical;
  std::string trailer_signature;
  Headers trailers;

  [[nodiscard]] bool signed_chunks() const { return params.mode != AwsChunkedParams::Mode::kUnsignedTrailer; }
  [[nodiscard]] bool has_trailer() const { return params.mode != AwsChunkedParams::Mode::kSigned; }

  void consume(std::string_view data) {
    while (!data.empty()) {
      switch (state) {
        case State::kSizeLine:
          data = read_line(data, kMaxChunkHeader, [this](std::string_view l) { on_size_line(l); });
          break;
        case State::kData: {
          auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_remaining, data.size()));
          auto piece = data.substr(0, n);
          if (signed_chunks()) {
            chunk_hash.update(piece);
          }
          inner->write(piece);
          decoded += n;
          chunk_remaining -= n;
          data.remove_prefix(n);
          if (chunk_remaining == 0) {
            state = State::kDataCr;
          }
          break;
        }
        case State::kDataCr:
          if (data.front() != '\r') {
            throw_malformed("chunk data is not followed by CRLF");
          }
          data.remove_prefix(1);
          state = State::kDataLf;
          break;
        case State::kDataLf:
          if (data.front() != '\n') {
            throw_malformed("chunk data is not followed by CRLF");
          }
          data.remove_prefix(1);
          if (signed_chunks()) {
            verify_chunk(chunk_hash.finish());
            chunk_hash = Sha256();
          }
          state = State::kSizeLine;
          break;
        case State::kTrailer:
          data = read_line(data, kMaxTrailerSection, [this](std::string_view l) { on_trailer_line(l); });
          break;
        case State::kDone:
          throw_malformed("data after the end of the aws-chunked body");
        case State::kFailed:
          throw_malformed("body already rejected");
      }
    }
  }

  // Accumulates one CRLF-terminated line; calls `done` with it (without CRLF) when complete.
  template <typename F>
  std::string_view read_line(std::string_view data, std::size_t limit, F&& done) {
    auto lf = data.find('\n');
    std::size_t take = lf == std::string_view::npos ? data.size() : lf + 1;
    std::size_t budget = state == State::kTrailer ? kMaxTrailerSection - trailer_bytes : limit - line.size();
    if (take > budget) {
      if (state == State::kTrailer) {
        throw_malformed("trailer section exceeds " + std::to_string(kMaxTrailerSection) + " bytes");
      }
      throw_malformed("chunk header exceeds " + std::to_string(kMaxChunkHeader) + " bytes");
    }
    if (state == State::kTrailer) {
      trailer_bytes += take;
    }
    line.append(data.substr(0, take));
    data.remove_prefix(take);
    if (lf != std::string_view::npos) {
      // line ends in '\n'; a bare LF (no CR) is not valid framing.
      if (line.size() < 2 || line[line.size() - 2] != '\r') {
        throw_malformed("line not terminated by CRLF");
      }
      std::string complete = std::move(line);
      line.clear();
      complete.resize(complete.size() - 2);
      if (complete.find('\r') != std::string::npos) {
        throw_malformed("stray CR in line");
      }
      done(std::string_view(complete));
    }
    return data;
  }

  void on_size_line(std::string_view l) {
    auto semi = l.find(';');
    std::string_view size_text = l.substr(0, semi);
    std::string_view ext = semi == std::string_view::npos ? std::string_view() : l.substr(semi + 1);
    if (size_text.empty() || size_text.size() > 16) {
      throw_malformed("invalid chunk size '" + std::string(size_text.substr(0, 32)) + "'");
    }
    std::uint64_t size = 0;
    auto [ptr, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (ec != std::errc() || ptr != size_text.data() + size_text.size()) {
      throw_malformed("invalid chunk size '" + std::string(size_text) + "'");
    }
    if (signed_chunks()) {
      if (!ext.starts_with(kChunkSignatureExt)) {
        throw_signature_mismatch();
      }
      chunk_signature = std::string(ext.substr(kChunkSignatureExt.size()));
      if (chunk_signature.size() != 64 || !is_lower_hex(chunk_signature)) {
        throw_signature_mismatch();
      }
    }
    // Refuse a chunk that would overrun the declared length before storing any of it.
    if (params.decoded_length && size > *params.decoded_length - announced) {
      throw_incomplete_body();
    }
    if (size > UINT64_MAX - announced) {
      throw_malformed("chunk sizes overflow");
    }
    announced += size;
    if (size == 0) {
      if (signed_chunks()) {
        verify_chunk(sha256(""));
      }
      state = State::kTrailer;
      return;
    }
    chunk_remaining = size;
    state = State::kData;
  }

  void verify_chunk(const Sha256Digest& data_hash) {
    std::string sts;
    sts.reserve(320);
    sts += "AWS4-HMAC-SHA256-PAYLOAD\n";
    sts += params.amz_date;
    sts += '\n';
    sts += params.scope;
    sts += '\n';
    sts += previous_signature;
    sts += '\n';
    sts += sigv4::kEmptySha256;
    sts += '\n';
    sts += hex(data_hash);
    std::string expected = hex(hmac_sha256(as_view(params.signing_key), sts));
    if (!same_signature(expected, chunk_signature)) {
      throw_signature_mismatch();
    }
    previous_signature = std::move(expected);
  }

  void on_trailer_line(std::string_view l) {
    if (l.empty()) {
      end_of_trailers();
      return;
    }
    if (!has_trailer()) {
      throw_malformed("expected CRLF after the final chunk");
    }
    if (!trailer_signature.empty()) {
      throw_malformed("trailer after x-amz-trailer-signature");
    }
    auto colon = l.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      throw_malformed("malformed trailer line");
    }
    std::string name = ascii_lower(trim_blanks(l.substr(0, colon)));
    std::string_view value = trim_blanks(l.substr(colon + 1));
    if (name == kTrailerSignatureName) {
      if (params.mode != AwsChunkedParams::Mode::kSignedTrailer) {
        throw_malformed("unexpected x-amz-trailer-signature");
      }
      if (value.size() != 64 || !is_lower_hex(value)) {
        throw_signature_mismatch();
      }
      trailer_signature = std::string(value);
      return;
    }
    if (!params.expected_trailers.empty() &&
        std::find(params.expected_trailers.begin(), params.expected_trailers.end(), name) ==
            params.expected_trailers.end()) {
      throw AwsError("InvalidRequest", 400,
                     "The trailer " + name + " was not declared in the x-amz-trailer header");
    }
    // SDKs sign each trailer exactly as they put it on the wire, "name:value\n".
    trailer_canonical.append(l);
    trailer_canonical.push_back('\n');
    trailers.add(std::move(name), std::string(value));
  }

  void end_of_trailers() {
    if (params.mode == AwsChunkedParams::Mode::kSignedTrailer) {
      if (trailer_signature.empty()) {
        throw_signature_mismatch();
      }
      std::string sts;
      sts += "AWS4-HMAC-SHA256-TRAILER\n";
      sts += params.amz_date;
      sts += '\n';
      sts += params.scope;
      sts += '\n';
      sts += previous_signature;
      sts += '\n';
      sts += hex(sha256(trailer_canonical));
      std::string expected = hex(hmac_sha256(as_view(params.signing_key), sts));
      if (!same_signature(expected, trailer_signature)) {
        throw_signature_mismatch();
      }
    }
    state = State::kDone;
  }
};

AwsChunkedDecoder::AwsChunkedDecoder(std::unique_ptr<BodySink> inner, AwsChunkedParams params,
                                     std::function<void(const Headers&)> on_trailers)
    : impl_(std::make_unique<Impl>()) {
  impl_->inner = std::move(inner);
  impl_->previous_signature = params.seed_signature;
  impl_->params = std::move(params);
  impl_->on_trailers = std::move(on_trailers);
}

AwsChunkedDecoder::~AwsChunkedDecoder() = default;

void AwsChunkedDecoder::write(std::string_view data) {
  if (impl_->state == Impl::State::kFailed) {
    throw_malformed("body already rejected");
  }
  try {
    impl_->consume(data);
  } catch (...) {
    impl_->state = Impl::State::kFailed;
    throw;
  }
}

Response AwsChunkedDecoder::finish() {
  if (impl_->state != Impl::State::kDone) {
    impl_->state = Impl::State::kFailed;
    throw_incomplete_body();
  }
  if (impl_->params.decoded_length && *impl_->params.decoded_length != impl_->decoded) {
    impl_->state = Impl::State::kFailed;
    throw_incomplete_body();
  }
  if (impl_->on_trailers) {
    impl_->on_trailers(impl_->trailers);
  }
  return impl_->inner->finish();
}

void AwsChunkedDecoder::abort() noexcept {
  if (impl_->inner) {
    impl_->inner->abort();
  }
}

std::uint64_t AwsChunkedDecoder::decoded_bytes() const noexcept { return impl_->decoded; }

}  // namespace fogbank::protocol
