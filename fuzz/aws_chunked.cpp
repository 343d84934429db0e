// The aws-chunked decoder, fed in arbitrary pieces, in each mode.
// Byte 0: bits 0-1 mode (signed, signed + trailer, unsigned + trailer), bit 2 announce
// x-amz-decoded-content-length, bit 3 declare the trailers in x-amz-trailer, bit 4 "built":
// the rest describes chunks (one length byte, then that many data bytes, until a zero length)
// followed by trailer lines, and the harness writes them with valid signatures, so the fuzzer
// gets past the signature checks; otherwise the rest is the raw body. Byte 1 seeds the piece
// sizes the body is written in.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "fogbank/protocol/aws_chunked.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/sigv4.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;
using protocol::AwsChunkedParams;

namespace {

constexpr std::string_view kAmzDate = "20130524T000000Z";
constexpr std::string_view kScope = "20130524/us-east-1/s3/aws4_request";
constexpr std::string_view kSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

class Collect final : public protocol::BodySink {
 public:
  explicit Collect(std::string* out) : out_(out) {}
  void write(std::string_view data) override { out_->append(data); }
  protocol::Response finish() override { return protocol::Response(200, ""); }

 private:
  std::string* out_;
};

const protocol::Sha256Digest& signing_key() {
  static const auto key = protocol::sigv4::signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                                       "20130524", "us-east-1", "s3");
  return key;
}

std::string sign(std::string_view kind, std::string_view previous, std::string_view hash) {
  std::string sts = "AWS4-HMAC-SHA256-" + std::string(kind) + "\n" + std::string(kAmzDate) + "\n" +
                    std::string(kScope) + "\n" + std::string(previous) + "\n";
  if (kind == "PAYLOAD") {
    sts += protocol::sigv4::kEmptySha256;
    sts += '\n';
  }
  sts += hash;
  return protocol::hex(protocol::hmac_sha256(protocol::as_view(signing_key()), sts));
}

struct Built {
  std::string body;
  std::string payload;
  std::vector<std::string> trailer_names;
  bool has_trailer_lines = false;
};

/// Writes the chunks and trailers `in` describes as a well-formed, correctly signed body.
Built build(fuzz::Input& in, AwsChunkedParams::Mode mode) {
  const bool signed_chunks = mode != AwsChunkedParams::Mode::kUnsignedTrailer;
  Built b;
  std::string previous(kSeed);
  auto chunk = [&](std::string_view data) {
    char size_hex[24];
    std::snprintf(size_hex, sizeof size_hex, "%zx", data.size());
    b.body += size_hex;
    if (signed_chunks) {
      previous = sign("PAYLOAD", previous, protocol::hex(protocol::sha256(data)));
      b.body += ";chunk-signature=" + previous;
    }
    b.body += "\r\n";
    if (!data.empty()) {
      b.body.append(data);
      b.body += "\r\n";
    }
  };
  for (;;) {
    auto n = in.byte();
    if (n == 0) {
      break;
    }
    auto data = in.rest().substr(0, n);
    if (data.empty()) {
      break;  // an empty chunk is the final one: it is written once, below
    }
    for (std::size_t i = 0; i < data.size(); ++i) {
      (void)in.byte();
    }
    chunk(data);
    b.payload.append(data);
  }
  chunk({});
  if (mode != AwsChunkedParams::Mode::kSigned) {
    std::string canonical;
    for (auto line : fuzz::split(in.rest(), '\n')) {
      if (line.empty()) {
        continue;
      }
      b.has_trailer_lines = true;
      b.body.append(line);
      b.body += "\r\n";
      canonical.append(line);
      canonical += '\n';
      std::string name(line.substr(0, line.find(':')));
      for (auto& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      b.trailer_names.push_back(name);
    }
    if (mode == AwsChunkedParams::Mode::kSignedTrailer) {
      b.body += "x-amz-trailer-signature:" + sign("TRAILER", previous, protocol::hex(protocol::sha256(canonical))) +
                "\r\n";
    }
  }
  b.body += "\r\n";
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto flags = in.byte();
  const auto piece_seed = in.byte();
  static constexpr AwsChunkedParams::Mode kModes[] = {AwsChunkedParams::Mode::kSigned,
                                                      AwsChunkedParams::Mode::kSignedTrailer,
                                                      AwsChunkedParams::Mode::kUnsignedTrailer,
                                                      AwsChunkedParams::Mode::kUnsignedTrailer};
  AwsChunkedParams params;
  params.mode = kModes[flags & 3];
  params.signing_key = signing_key();
  params.amz_date = std::string(kAmzDate);
  params.scope = std::string(kScope);
  params.seed_signature = std::string(kSeed);

  const bool built = (flags & 16) != 0;
  Built b;
  if (built) {
    b = build(in, params.mode);
    if ((flags & 4) != 0) {
      params.decoded_length = b.payload.size();
    }
    if ((flags & 8) != 0) {
      params.expected_trailers = b.trailer_names;
    }
  } else {
    b.body = std::string(in.rest());
    if ((flags & 4) != 0) {
      params.decoded_length = piece_seed;
    }
    if ((flags & 8) != 0) {
      params.expected_trailers = {"x-amz-checksum-crc32", "x-amz-checksum-sha256"};
    }
  }

  std::string out;
  protocol::Headers trailers;
  protocol::AwsChunkedDecoder decoder(std::make_unique<Collect>(&out), params,
                                      [&](const protocol::Headers& h) { trailers = h; });
  std::string refusal;
  bool accepted = true;
  try {
    std::string_view body = b.body;
    for (std::size_t k = 0; !body.empty() && !decoder.failed(); ++k) {
      std::size_t n = piece_seed == 0 ? body.size() : 1 + (piece_seed + k * 31) % 61;
      decoder.write(body.substr(0, n));
      body.remove_prefix(std::min(n, body.size()));
    }
    (void)decoder.finish();
  } catch (const protocol::AwsError& e) {
    accepted = false;
    refusal = e.code + ": " + e.message;
  }
  if (!accepted) {
    decoder.abort();
  }
  if (built) {
    if (accepted) {
      FOGBANK_FUZZ_CHECK(out == b.payload, b.body);
      FOGBANK_FUZZ_CHECK(decoder.decoded_bytes() == b.payload.size(), b.body);
    }
    // A correctly signed body without trailers is what every SDK sends: it must be taken.
    FOGBANK_FUZZ_CHECK(accepted || b.has_trailer_lines, refusal + "\n" + b.body);
  }
  return 0;
}
