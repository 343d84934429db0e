#include "fogbank/protocol/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "fogbank/protocol/utf8.hpp"

namespace fogbank::protocol::json_text {

namespace {

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct Base64Table {
  std::int8_t value[256];
  constexpr Base64Table() : value() {
    for (auto& v : value) {
      v = -1;
    }
    for (int i = 0; i < 64; ++i) {
      value[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<std::int8_t>(i);
    }
  }
};
constexpr Base64Table kBase64;

template <class Int>
void append_int(std::string& out, Int n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  const auto* run = p;
  auto flush = [&](const unsigned char* upto) {
    out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(upto - run));
  };
  while (p < end) {
    const unsigned char c = *p;
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    if (c >= 0x80) {
      const unsigned char* q = p;
      char32_t cp = 0;
      if (utf8::next_code_point(q, end, cp)) {
        p = q;
        continue;
      }
      flush(p);
      out += "\\ufffd";
      run = ++p;
      continue;
    }
    flush(p);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(esc, 6);
      }
    }
    run = ++p;
  }
  flush(p);
  out += '"';
}

namespace {

#if defined(__x86_64__)
/// Decodes whole 32-character blocks of `in` (`size` a multiple of 32) with AVX2: each byte's
/// nibbles index two tables whose AND is zero only for the 64 base64 characters, a third table
/// (indexed by the high nibble, one lower for '/') holds the offset from character to value, and
/// two multiply-adds pack four 6-bit values into three bytes. False at the first invalid block,
/// with `done` (input consumed) at its start.
__attribute__((target("avx2"))) bool decode_base64_avx2(const unsigned char* in, std::size_t size,
                                                          std::uint8_t* out, std::size_t& done) {
  const __m256i lut_lo = _mm256_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A,
                                          0x1B, 0x1B, 0x1B, 0x1A, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                          0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
  const __m256i lut_hi = _mm256_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10,
                                          0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
                                          0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  const __m256i lut_offset = _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 19, 4,
                                              -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i slash = _mm256_set1_epi8('/');
  // Per 128-bit lane: the three bytes of each 32-bit group, most significant first.
  const __m256i order = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4, 10,
                                         9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i compact = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  std::size_t i = 0;
  for (; i < size; i += 32) {
    const __m256i text = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(text, 4), nibble);
    const __m256i lo = _mm256_and_si256(text, nibble);
    if (!_mm256_testz_si256(_mm256_shuffle_epi8(lut_lo, lo), _mm256_shuffle_epi8(lut_hi, hi))) {
      break;
    }
    const __m256i offset = _mm256_shuffle_epi8(lut_offset, _mm256_add_epi8(_mm256_cmpeq_epi8(text, slash), hi));
    const __m256i values = _mm256_add_epi8(text, offset);
    // [a b c d] → a·64+b, c·64+d → (a·64+b)·4096 + c·64+d: 24 bits per 32-bit group.
    const __m256i pairs = _mm256_maddubs_epi16(values, _mm256_set1_epi32(0x01400140));
    const __m256i groups = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(groups, order), compact);
    std::uint8_t* o = out + i / 4 * 3;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm256_castsi256_si128(bytes));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(o + 16), _mm256_extracti128_si256(bytes, 1));
  }
  done = i;
  return i == size;
}

/// Encodes `blocks` groups of 24 bytes into 32 characters each with AVX2; reads 4 bytes past the
/// last block. Each 128-bit lane takes 12 bytes; a shuffle spreads every 3 bytes [a b c] over a
/// 32-bit word as [b a c b], two multiplies move the four 6-bit fields into bytes of their own,
/// and a table indexed by each value's range gives the offset to its character.
__attribute__((target("avx2"))) void encode_base64_avx2(const std::uint8_t* in, std::size_t blocks, char* out) {
  const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10, 1, 0, 2, 1, 4, 3, 5, 4, 7,
                                          6, 8, 7, 10, 9, 11, 10);
  // Offsets by range: 13 = A-Z (65), 0 = a-z (71), 1..10 = 0-9 (-4), 11 = '+' (-19), 12 = '/' (-16).
  const __m256i offsets = _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0, 71, -4, -4,
                                           -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
  for (std::size_t k = 0; k < blocks; ++k, in += 24, out += 32) {
    const __m256i bytes = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 12)), 1);
    const __m256i words = _mm256_shuffle_epi8(bytes, spread);
    // Low half a·256+b: its top 6 bits (a>>2) and the next 6; high half b·256+c: bits 11..6 and 5..0.
    const __m256i first_third = _mm256_mulhi_epu16(_mm256_and_si256(words, _mm256_set1_epi32(0x0FC0FC00)),
                                                   _mm256_set1_epi32(0x04000040));
    const __m256i second_fourth = _mm256_mullo_epi16(_mm256_and_si256(words, _mm256_set1_epi32(0x003F03F0)),
                                                     _mm256_set1_epi32(0x01000010));
    const __m256i values = _mm256_or_si256(first_third, second_fourth);
    __m256i range = _mm256_subs_epu8(values, _mm256_set1_epi8(51));
    range = _mm256_or_si256(range, _mm256_and_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(26), values),
                                                    _mm256_set1_epi8(13)));
    const __m256i text = _mm256_add_epi8(values, _mm256_shuffle_epi8(offsets, range));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), text);
  }
}

bool have_avx2() {
  static const bool have = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return have;
}
#endif

}  // namespace

void append_base64(std::string& out, const std::uint8_t* data, std::size_t size) {
  // Encoded through a small buffer and appended: resizing `out` first would zero-fill the new
  // bytes, a second pass over memory that is cold (a 10 MiB answer is mostly blob text).
  constexpr std::size_t kInputChunk = 3 * 1024;
  char buf[kInputChunk / 3 * 4];
  std::size_t i = 0;
  while (size - i >= 3) {
    const std::size_t end = i + std::min(kInputChunk, (size - i) / 3 * 3);
    char* o = buf;
#if defined(__x86_64__)
    // The vector path reads 4 bytes beyond its last block: it stops 4 bytes short of the input's end.
    if (end - i >= 24 && size - i >= 28 && have_avx2()) {
      const std::size_t blocks = std::min((end - i) / 24, (size - i - 4) / 24);
      encode_base64_avx2(data + i, blocks, o);
      i += blocks * 24;
      o += blocks * 32;
    }
#endif
    for (; i < end; i += 3) {
      const std::uint32_t g = (static_cast<std::uint32_t>(data[i]) << 16) |
                              (static_cast<std::uint32_t>(data[i + 1]) << 8) | data[i + 2];
      *o++ = kBase64Alphabet[g >> 18];
      *o++ = kBase64Alphabet[(g >> 12) & 63];
      *o++ = kBase64Alphabet[(g >> 6) & 63];
      *o++ = kBase64Alphabet[g & 63];
    }
    out.append(buf, static_cast<std::size_t>(o - buf));
  }
  if (size - i == 1) {
    const std::uint32_t g = static_cast<std::uint32_t>(data[i]) << 16;
    const char tail[4] = {kBase64Alphabet[g >> 18], kBase64Alphabet[(g >> 12) & 63], '=', '='};
    out.append(tail, 4);
  } else if (size - i == 2) {
    const std::uint32_t g =
        (static_cast<std::uint32_t>(data[i]) << 16) | (static_cast<std::uint32_t>(data[i + 1]) << 8);
    const char tail[4] = {kBase64Alphabet[g >> 18], kBase64Alphabet[(g >> 12) & 63], kBase64Alphabet[(g >> 6) & 63],
                          '='};
    out.append(tail, 4);
  }
}

void append_epoch_seconds(std::string& out, double seconds) {
  auto ms = std::llround(seconds * 1000.0);
  if (ms % 1000 == 0) {
    append_int(out, static_cast<std::int64_t>(ms / 1000));
    return;
  }
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  append_int(out, static_cast<std::int64_t>(ms / 1000));
  auto frac = static_cast<int>(ms % 1000);
  char digits[4] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                    static_cast<char>('0' + frac % 10), 0};
  std::size_t len = 3;
  while (digits[len - 1] == '0') {
    --len;
  }
  out += '.';
  out.append(digits, len);
}

std::optional<std::size_t> decode_base64(std::string_view text, std::uint8_t* out) {
  const std::size_t n = text.size();
  if (n % 4 != 0) {
    return std::nullopt;
  }
  std::size_t pad = 0;
  if (n > 0 && text[n - 1] == '=') {
    pad = (text[n - 2] == '=') ? 2 : 1;
  }
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  // Blob members carry most of a request's bytes (Kinesis records, SQS binary attributes): one
  // pass that decodes whole groups and checks validity once per group.
  std::uint8_t* o = out;
  const std::size_t whole = n - (pad > 0 ? 4 : 0);
  std::size_t i = 0;
#if defined(__x86_64__)
  if (whole >= 32 && have_avx2()) {
    if (!decode_base64_avx2(in, whole / 32 * 32, out, i)) {
      return std::nullopt;
    }
    o = out + i / 4 * 3;
  }
#endif
  for (; i < whole; i += 4) {
    const int a = kBase64.value[in[i]];
    const int b = kBase64.value[in[i + 1]];
    const int c = kBase64.value[in[i + 2]];
    const int d = kBase64.value[in[i + 3]];
    if ((a | b | c | d) < 0) {
      return std::nullopt;
    }
    const auto group = (static_cast<std::uint32_t>(a) << 18) | (static_cast<std::uint32_t>(b) << 12) |
                       (static_cast<std::uint32_t>(c) << 6) | static_cast<std::uint32_t>(d);
    *o++ = static_cast<std::uint8_t>(group >> 16);
    *o++ = static_cast<std::uint8_t>(group >> 8);
    *o++ = static_cast<std::uint8_t>(group);
  }
  if (pad > 0) {
    const int a = kBase64.value[in[whole]];
    const int b = kBase64.value[in[whole + 1]];
    const int c = pad == 1 ? kBase64.value[in[whole + 2]] : 0;
    // Bits the padding says are unused must be zero, or two texts would decode alike.
    if ((a | b | c) < 0 || (pad == 2 ? (b & 0x0F) : (c & 0x03)) != 0) {
      return std::nullopt;
    }
    *o++ = static_cast<std::uint8_t>((a << 2) | (b >> 4));
    if (pad == 1) {
      *o++ = static_cast<std::uint8_t>(((b & 0x0F) << 4) | (c >> 2));
    }
  }
  return static_cast<std::size_t>(o - out);
}

// --- Scanner ----------------------------------------------------------------------------------------

void Scanner::skip_space() {
  while (pos_ < text_.size() &&
         (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
    ++pos_;
  }
}

bool Scanner::open(char bracket) {
  skip_space();
  if (failed_ || depth_ >= kMaxDepth || pos_ >= text_.size() || text_[pos_] != bracket ||
      (bracket != '{' && bracket != '[')) {
    return fail();
  }
  ++pos_;
  first_[++depth_] = true;
  return true;
}

bool Scanner::next_in(char close) {
  skip_space();
  if (failed_ || depth_ == 0 || pos_ >= text_.size()) {
    return fail();
  }
  if (text_[pos_] == close) {
    ++pos_;
    --depth_;
    return false;
  }
  if (!first_[depth_]) {
    if (text_[pos_] != ',') {
      return fail();
    }
    ++pos_;
    skip_space();
  }
  first_[depth_] = false;
  return true;
}

bool Scanner::member(std::string_view& key) {
  if (!next_in('}')) {
    return false;
  }
  if (!raw_string(key)) {
    return fail();
  }
  skip_space();
  if (pos_ >= text_.size() || text_[pos_] != ':') {
    return fail();
  }
  ++pos_;
  return true;
}

bool Scanner::element() { return next_in(']'); }

bool Scanner::raw_string(std::string_view& out) {
  if (pos_ >= text_.size() || text_[pos_] != '"') {
    return false;
  }
  const std::size_t start = ++pos_;
  // Eight bytes at a time until one of them is a quote, a backslash or a control character: a
  // PutRecords body is mostly long base64 strings.
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero_byte = [](std::uint64_t w) { return (w - kOnes) & ~w & kHigh; };
  while (pos_ + 8 <= text_.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, text_.data() + pos_, 8);
    const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    if ((has_zero_byte(w ^ (kOnes * '"')) | has_zero_byte(w ^ (kOnes * '\\')) | below_space) != 0) {
      break;  // the byte loop finds which
    }
    pos_ += 8;
  }
  while (pos_ < text_.size()) {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      out = text_.substr(start, pos_ - start);
      ++pos_;
      return true;
    }
    if (c == '\\' || c < 0x20) {
      return false;
    }
    ++pos_;
  }
  return false;
}

bool Scanner::string(std::string_view& out) {
  skip_space();
  if (failed_ || !raw_string(out)) {
    return fail();
  }
  return true;
}

bool Scanner::integer(std::int64_t& out) {
  skip_space();
  if (failed_ || pos_ >= text_.size()) {
    return fail();
  }
  const char* begin = text_.data() + pos_;
  const char* end = text_.data() + text_.size();
  auto [ptr, ec] = std::from_chars(begin, end, out);
  // JSON has no leading zeros (from_chars reads them), and a fraction or an exponent makes it a
  // number the codec has to read.
  const char* digits = begin + (*begin == '-' ? 1 : 0);
  if (ec != std::errc() || (ptr - digits > 1 && *digits == '0') ||
      (ptr < end && (*ptr == '.' || *ptr == 'e' || *ptr == 'E'))) {
    return fail();
  }
  pos_ += static_cast<std::size_t>(ptr - begin);
  return true;
}

bool Scanner::finished() {
  skip_space();
  return !failed_ && depth_ == 0 && pos_ == text_.size();
}

}  // namespace fogbank::protocol::json_text
