#include "fogbank/protocol/aws_chunked.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/sigv4.hpp"

namespace fogbank::protocol {
namespace {

struct Collected {
  std::string data;
  bool finished = false;
  bool aborted = false;
};

class CollectSink final : public BodySink {
 public:
  explicit CollectSink(Collected* out) : out_(out) {}
  void write(std::string_view data) override {
    EXPECT_FALSE(out_->finished);
    out_->data.append(data);
  }
  Response finish() override {
    out_->finished = true;
    return Response(200, "stored");
  }
  void abort() noexcept override { out_->aborted = true; }

 private:
  Collected* out_;
};

// The S3 documentation's chunked-upload example (sigv4-streaming / sigv4-streaming-trailers).
constexpr std::string_view kDocAmzDate = "20130524T000000Z";
constexpr std::string_view kDocScope = "20130524/us-east-1/s3/aws4_request";
constexpr std::string_view kDocSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

AwsChunkedParams doc_params(AwsChunkedParams::Mode mode, std::string seed) {
  AwsChunkedParams p;
  p.mode = mode;
  p.signing_key = sigv4::signing_key(kDocSecret, "20130524", "us-east-1", "s3");
  p.amz_date = std::string(kDocAmzDate);
  p.scope = std::string(kDocScope);
  p.seed_signature = std::move(seed);
  p.decoded_length = 66560;
  return p;
}

std::string doc_body(const std::vector<std::string>& sigs, std::string_view trailer = {}) {
  std::string body = "10000;chunk-signature=" + sigs[0] + "\r\n" + std::string(65536, 'a') + "\r\n";
  body += "400;chunk-signature=" + sigs[1] + "\r\n" + std::string(1024, 'a') + "\r\n";
  body += "0;chunk-signature=" + sigs[2] + "\r\n";
  body += trailer;
  body += "\r\n";
  return body;
}

const std::vector<std::string> kDocSigs = {"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                                           "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                                           "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"};
const std::string kDocSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

const std::vector<std::string> kTrailerDocSigs = {"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
                                                  "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
                                                  "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"};
const std::string kTrailerDocSeed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
const std::string kTrailerDocTrailer =
    "x-amz-checksum-crc32c:sOO8/Q==\r\n"
    "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n";

struct Outcome {
  Collected collected;
  std::optional<AwsError> error;
  Headers trailers;
  std::uint64_t decoded = 0;
};

// Feeds `body` in pieces of `step` bytes (0 = all at once) and finishes.
Outcome run(AwsChunkedParams params, std::string_view body, std::size_t step = 0) {
  Outcome o;
  AwsChunkedDecoder decoder(std::make_unique<CollectSink>(&o.collected), std::move(params),
                            [&o](const Headers& h) { o.trailers = h; });
  try {
    if (step == 0) {
      decoder.write(body);
    } else {
      for (std::size_t i = 0; i < body.size(); i += step) {
        decoder.write(body.substr(i, step));
      }
    }
    auto response = decoder.finish();
    EXPECT_EQ(response.body, "stored");
  } catch (const AwsError& e) {
    o.error = e;
    decoder.abort();
  }
  o.decoded = decoder.decoded_bytes();
  return o;
}

void expect_error(const Outcome& o, std::string_view code, int status) {
  ASSERT_TRUE(o.error.has_value()) << "expected " << code;
  EXPECT_EQ(o.error->code, code) << o.error->message;
  EXPECT_EQ(o.error->status, status);
  EXPECT_FALSE(o.collected.finished);
}

TEST(AwsChunked, Modes) {
  EXPECT_EQ(aws_chunked_mode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), AwsChunkedParams::Mode::kSigned);
  EXPECT_EQ(aws_chunked_mode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"), AwsChunkedParams::Mode::kSignedTrailer);
  EXPECT_EQ(aws_chunked_mode("STREAMING-UNSIGNED-PAYLOAD-TRAILER"), AwsChunkedParams::Mode::kUnsignedTrailer);
  EXPECT_FALSE(aws_chunked_mode("UNSIGNED-PAYLOAD"));
  EXPECT_FALSE(aws_chunked_mode(sigv4::kEmptySha256));
}

TEST(AwsChunked, DocSeedSignatureVerifies) {
  // The seed signature in the docs is the Authorization signature of this request.
  RequestHead req;
  req.method = "PUT";
  req.target = "/examplebucket/chunkObject.txt";
  req.split_target();
  req.headers.add("Host", "s3.amazonaws.com");
  req.headers.add("x-amz-date", std::string(kDocAmzDate));
  req.headers.add("x-amz-storage-class", "REDUCED_REDUNDANCY");
  req.headers.add("x-amz-content-sha256", std::string(sigv4::kStreamingSigned));
  req.headers.add("Content-Encoding", "aws-chunked");
  req.headers.add("x-amz-decoded-content-length", "66560");
  req.headers.add("Content-Length", "66824");
  req.headers.add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders="
                  "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                  "x-amz-storage-class,Signature=" + kDocSeed);
  sigv4::AuthFailure failure;
  std::string message;
  auto auth = sigv4::parse(req, failure, message);
  ASSERT_EQ(failure, sigv4::AuthFailure::kNone) << message;

  class Keys final : public sigv4::CredentialLookup {
   public:
    std::optional<sigv4::Credential> find(std::string_view) const override {
      sigv4::Credential c;
      c.access_key = "AKIAIOSFODNN7EXAMPLE";
      c.secret_key = std::string(kDocSecret);
      return c;
    }
  } keys;
  auto v = sigv4::verify(req, auth, keys, sigv4::kStreamingSigned, sigv4::PathStyle::kS3,
                         *sigv4::parse_amz_date(kDocAmzDate));
  ASSERT_TRUE(v.ok()) << v.message << "\n" << v.canonical_request;

  // End to end: the verifier's outputs seed the decoder.
  AwsChunkedParams p;
  p.mode = AwsChunkedParams::Mode::kSigned;
  p.signing_key = v.signing_key;
  p.amz_date = auth.amz_date;
  p.scope = auth.scope();
  p.seed_signature = auth.signature;
  p.decoded_length = 66560;
  auto body = doc_body(kDocSigs);
  EXPECT_EQ(body.size(), 66824u);
  auto o = run(p, body);
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.collected.data, std::string(66560, 'a'));
}

TEST(AwsChunked, DocExampleSigned) {
  auto body = doc_body(kDocSigs);
  for (std::size_t step : {0, 1, 7, 4096, 65536, 65600}) {
    SCOPED_TRACE(step);
    auto o = run(doc_params(AwsChunkedParams::Mode::kSigned, kDocSeed), body, step);
    ASSERT_FALSE(o.error) << o.error->code << ": " << o.error->message;
    EXPECT_TRUE(o.collected.finished);
    EXPECT_EQ(o.collected.data, std::string(66560, 'a'));
    EXPECT_EQ(o.decoded, 66560u);
  }
}

TEST(AwsChunked, DocExampleSignedTrailer) {
  auto body = doc_body(kTrailerDocSigs, kTrailerDocTrailer);
  for (std::size_t step : {0, 1, 13}) {
    SCOPED_TRACE(step);
    auto params = doc_params(AwsChunkedParams::Mode::kSignedTrailer, kTrailerDocSeed);
    params.expected_trailers = {"x-amz-checksum-crc32c"};
    auto o = run(params, body, step);
    ASSERT_FALSE(o.error) << o.error->code << ": " << o.error->message;
    EXPECT_EQ(o.collected.data, std::string(66560, 'a'));
    EXPECT_EQ(o.trailers.get("x-amz-checksum-crc32c"), "sOO8/Q==");
    EXPECT_FALSE(o.trailers.has("x-amz-trailer-signature"));
  }
}

TEST(AwsChunked, TrailerSignatureMismatch) {
  std::string trailer = kTrailerDocTrailer;
  trailer.replace(trailer.find("sOO8"), 4, "sOO9");
  auto o = run(doc_params(AwsChunkedParams::Mode::kSignedTrailer, kTrailerDocSeed), doc_body(kTrailerDocSigs, trailer));
  expect_error(o, "SignatureDoesNotMatch", 403);

  // Missing trailer signature in signed-trailer mode.
  o = run(doc_params(AwsChunkedParams::Mode::kSignedTrailer, kTrailerDocSeed),
          doc_body(kTrailerDocSigs, "x-amz-checksum-crc32c:sOO8/Q==\r\n"));
  expect_error(o, "SignatureDoesNotMatch", 403);
}

TEST(AwsChunked, WrongChunkSignature) {
  for (std::size_t i = 0; i < kDocSigs.size(); ++i) {
    SCOPED_TRACE(i);
    auto sigs = kDocSigs;
    sigs[i][10] = sigs[i][10] == '0' ? '1' : '0';
    auto o = run(doc_params(AwsChunkedParams::Mode::kSigned, kDocSeed), doc_body(sigs));
    expect_error(o, "SignatureDoesNotMatch", 403);
    EXPECT_EQ(o.error->message,
              "The request signature we calculated does not match the signature you provided. Check your key and "
              "signing method.");
  }
  // Wrong seed: the chain breaks at the first chunk.
  auto o = run(doc_params(AwsChunkedParams::Mode::kSigned, std::string(64, '0')), doc_body(kDocSigs));
  expect_error(o, "SignatureDoesNotMatch", 403);
  // Tampered data with the right signatures.
  auto body = doc_body(kDocSigs);
  body[100] = 'b';
  o = run(doc_params(AwsChunkedParams::Mode::kSigned, kDocSeed), body);
  expect_error(o, "SignatureDoesNotMatch", 403);
  // Missing or malformed chunk-signature extension.
  o = run(doc_params(AwsChunkedParams::Mode::kSigned, kDocSeed), "400\r\n" + std::string(1024, 'a') + "\r\n");
  expect_error(o, "SignatureDoesNotMatch", 403);
  o = run(doc_params(AwsChunkedParams::Mode::kSigned, kDocSeed),
          "400;chunk-signature=" + std::string(64, 'Z') + "\r\n" + std::string(1024, 'a') + "\r\n");
  expect_error(o, "SignatureDoesNotMatch", 403);
}

AwsChunkedParams unsigned_params(std::optional<std::uint64_t> length = std::nullopt) {
  AwsChunkedParams p;
  p.mode = AwsChunkedParams::Mode::kUnsignedTrailer;
  p.decoded_length = length;
  p.expected_trailers = {"x-amz-checksum-crc32"};
  return p;
}

TEST(AwsChunked, UnsignedTrailer) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
  Outcome whole = run(unsigned_params(11), body);
  ASSERT_FALSE(whole.error) << whole.error->message;
  EXPECT_EQ(whole.collected.data, "hello world");
  EXPECT_EQ(whole.trailers.get("x-amz-checksum-crc32"), "DUoRhQ==");
  for (std::size_t step = 1; step < body.size(); ++step) {
    Outcome piecewise = run(unsigned_params(11), body, step);
    ASSERT_FALSE(piecewise.error) << step;
    EXPECT_EQ(piecewise.collected.data, whole.collected.data);
    EXPECT_EQ(piecewise.trailers.items(), whole.trailers.items());
  }
  // No trailers at all, and no decoded length: still fine.
  auto bare = run(unsigned_params(), "3\r\nabc\r\n0\r\n\r\n");
  ASSERT_FALSE(bare.error) << bare.error->message;
  EXPECT_EQ(bare.collected.data, "abc");
  // Upper-case hex sizes are valid.
  auto upper = run(unsigned_params(), "A\r\n0123456789\r\n0\r\n\r\n");
  ASSERT_FALSE(upper.error) << upper.error->message;
  EXPECT_EQ(upper.collected.data, "0123456789");
}

TEST(AwsChunked, MalformedSizes) {
  for (std::string body : {"-5\r\nhello\r\n0\r\n\r\n", "+5\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n",
                           "g\r\nhello\r\n0\r\n\r\n", "\r\nhello\r\n0\r\n\r\n", " 5\r\nhello\r\n0\r\n\r\n",
                           "5 \r\nhello\r\n0\r\n\r\n", "10000000000000000\r\n", "ffffffffffffffffff\r\n"}) {
    SCOPED_TRACE(body);
    auto o = run(unsigned_params(), body);
    expect_error(o, "InvalidRequest", 400);
    EXPECT_TRUE(o.collected.data.empty());
  }
  // Sizes that overflow when summed.
  auto o = run(unsigned_params(), "ffffffffffffffff\r\nab");
  ASSERT_TRUE(o.error);
  o = run(unsigned_params(), "1\r\na\r\nffffffffffffffff\r\n");
  expect_error(o, "InvalidRequest", 400);
}

TEST(AwsChunked, MissingCrlf) {
  for (std::string body : {"5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\n0\r\n\r\n", "5\nhello\r\n0\r\n\r\n",
                           "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:abc\n\r\n", "5\r\nhello\r\n0\r\n\rX\r\n",
                           "5\r\nhello\r\r\n0\r\n\r\n"}) {
    SCOPED_TRACE(body);
    auto o = run(unsigned_params(), body);
    expect_error(o, "InvalidRequest", 400);
  }
}

TEST(AwsChunked, OversizedChunkHeader) {
  auto o = run(unsigned_params(), "5;" + std::string(5000, 'x') + "\r\nhello\r\n0\r\n\r\n");
  expect_error(o, "InvalidRequest", 400);
  // Also when fed one byte at a time: the bound holds across writes.
  o = run(unsigned_params(), std::string(5000, '0'), 1);
  expect_error(o, "InvalidRequest", 400);
}

TEST(AwsChunked, OversizedTrailer) {
  AwsChunkedParams p = unsigned_params();
  p.expected_trailers.clear();
  std::string body = "0\r\n";
  for (int i = 0; i < 400; ++i) {
    body += "x-amz-meta-" + std::to_string(i) + ":" + std::string(40, 'v') + "\r\n";
  }
  body += "\r\n";
  auto o = run(p, body);
  expect_error(o, "InvalidRequest", 400);
}

TEST(AwsChunked, UndeclaredTrailer) {
  auto o = run(unsigned_params(), "0\r\nx-amz-checksum-sha256:abc\r\n\r\n");
  expect_error(o, "InvalidRequest", 400);
  // Trailers are not allowed at all in the plain signed mode.
  auto sigs = kDocSigs;
  o = run(doc_params(AwsChunkedParams::Mode::kSigned, kDocSeed), doc_body(sigs, "x-amz-checksum-crc32:abc\r\n"));
  expect_error(o, "InvalidRequest", 400);
}

TEST(AwsChunked, TruncatedBody) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    SCOPED_TRACE(cut);
    auto o = run(unsigned_params(), body.substr(0, cut));
    expect_error(o, "IncompleteBody", 400);
  }
  auto full = doc_body(kDocSigs);
  auto o = run(doc_params(AwsChunkedParams::Mode::kSigned, kDocSeed), full.substr(0, full.size() - 2));
  expect_error(o, "IncompleteBody", 400);
}

TEST(AwsChunked, DecodedLengthMismatch) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  auto o = run(unsigned_params(12), body);
  expect_error(o, "IncompleteBody", 400);
  EXPECT_EQ(o.error->message, "You did not provide the number of bytes specified by the Content-Length HTTP header");
  // Too much data is refused as soon as the chunk header announces it, before any of it is stored.
  o = run(unsigned_params(10), body);
  expect_error(o, "IncompleteBody", 400);
  EXPECT_EQ(o.collected.data, "hello");
}

TEST(AwsChunked, DataAfterEnd) {
  auto o = run(unsigned_params(), "0\r\n\r\nextra");
  expect_error(o, "InvalidRequest", 400);
}

TEST(AwsChunked, RejectsWritesAfterError) {
  Collected c;
  AwsChunkedDecoder decoder(std::make_unique<CollectSink>(&c), unsigned_params());
  EXPECT_THROW(decoder.write("zz\r\n"), AwsError);
  EXPECT_THROW(decoder.write("0\r\n\r\n"), AwsError);
  EXPECT_THROW((void)decoder.finish(), AwsError);
  decoder.abort();
  EXPECT_TRUE(c.aborted);
  EXPECT_FALSE(c.finished);
}

}  // namespace
}  // namespace fogbank::protocol
