#include "object_names.hpp"

#include <isa-l/crc.h>
#include <snappy-c.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "fogbank/protocol/crypto.hpp"

namespace fogbank::firehose {

namespace {

std::tm utc(std::int64_t time_ms) {
  const std::time_t seconds = static_cast<std::time_t>(time_ms / 1000);
  std::tm t{};
  gmtime_r(&seconds, &t);
  return t;
}

std::string two(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

/// A DateTimeFormatter pattern of the letters Firehose documents (y M d H m s) and quoted text.
std::optional<std::string> format_time(std::string_view pattern, const std::tm& t) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size();) {
    const char c = pattern[i];
    if (c == '\'') {
      const auto end = pattern.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return std::nullopt;
      }
      out += end == i + 1 ? std::string("'") : std::string(pattern.substr(i + 1, end - i - 1));
      i = end + 1;
      continue;
    }
    std::size_t run = 1;
    while (i + run < pattern.size() && pattern[i + run] == c) {
      ++run;
    }
    int value = 0;
    switch (c) {
      case 'y':
      case 'u':
        value = t.tm_year + 1900;
        break;
      case 'M':
        value = t.tm_mon + 1;
        break;
      case 'd':
        value = t.tm_mday;
        break;
      case 'H':
        value = t.tm_hour;
        break;
      case 'm':
        value = t.tm_min;
        break;
      case 's':
        value = t.tm_sec;
        break;
      default:
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
          return std::nullopt;  // a pattern letter Firehose does not document
        }
        out.append(run, c);
        i += run;
        continue;
    }
    std::string digits = std::to_string(value);
    if ((c == 'y' || c == 'u') && run == 2) {
      digits = two(value % 100);
    } else if (digits.size() < run) {
      digits.insert(0, run - digits.size(), '0');
    }
    out += digits;
    i += run;
  }
  return out;
}

std::string random_string() {
  // 11 characters, as the ones AWS substitutes look.
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (unsigned char b : protocol::random_bytes(11, protocol::Randomness::kIdentifier)) {
    out.push_back(kAlphabet[b % 36]);
  }
  return out;
}

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

/// zlib deflate of all of `data`: windowBits 15+16 is a gzip member, -15 raw deflate (ZIP).
std::string deflate_all(std::string_view data, int window_bits) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("firehose: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    throw std::runtime_error("firehose: deflate failed");
  }
  return out;
}

std::uint32_t crc32_of(std::string_view data) {
  return crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string snappy_block(std::string_view data) {
  std::string out(snappy_max_compressed_length(data.size()), '\0');
  std::size_t len = out.size();
  if (snappy_compress(data.data(), data.size(), out.data(), &len) != SNAPPY_OK) {
    throw std::runtime_error("firehose: snappy failed");
  }
  out.resize(len);
  return out;
}

/// Snappy's framing format: the stream identifier, then chunks of at most 64 KiB of input, each
/// with the masked CRC-32C of its uncompressed bytes.
std::string snappy_framed(std::string_view data) {
  constexpr std::size_t kChunk = 65536;
  std::string out("\xff\x06\x00\x00sNaPpY", 10);
  for (std::size_t at = 0; at < data.size(); at += kChunk) {
    const auto piece = data.substr(at, kChunk);
    const std::uint32_t crc = crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(piece.data())),
                                          static_cast<int>(piece.size()), 0xffffffff) ^ 0xffffffff;
    const std::uint32_t masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    const std::string block = snappy_block(piece);
    const bool compressed = block.size() < piece.size();
    const std::string_view body = compressed ? std::string_view(block) : piece;
    out.push_back(compressed ? '\x00' : '\x01');
    put_le(out, body.size() + 4, 3);
    put_le(out, masked, 4);
    out += body;
  }
  return out;
}

/// Hadoop's BlockCompressorStream layout: uncompressed length, then one compressed chunk with its
/// length (both 4-byte big-endian), per block of input.
std::string hadoop_snappy(std::string_view data) {
  constexpr std::size_t kBlock = 256 * 1024;
  std::string out;
  for (std::size_t at = 0; at < data.size(); at += kBlock) {
    const auto piece = data.substr(at, kBlock);
    const std::string block = snappy_block(piece);
    put_be(out, piece.size(), 4);
    put_be(out, block.size(), 4);
    out += block;
  }
  return out;
}

/// A ZIP archive of one deflated entry (no ZIP64: Firehose objects stay far below 4 GiB).
std::string zip_one(std::string_view name, std::string_view data) {
  const std::string deflated = deflate_all(data, -15);
  const std::uint32_t crc = crc32_of(data);
  auto common = [&](std::string& out) {
    put_le(out, 20, 2);  // version needed: 2.0 (deflate)
    put_le(out, 0, 2);   // flags
    put_le(out, 8, 2);   // method: deflate
    put_le(out, 0, 2);   // time
    put_le(out, 0x21, 2);  // date: 1980-01-01
    put_le(out, crc, 4);
    put_le(out, deflated.size(), 4);
    put_le(out, data.size(), 4);
    put_le(out, name.size(), 2);
    put_le(out, 0, 2);  // extra length
  };
  std::string out;
  put_le(out, 0x04034b50, 4);
  common(out);
  out += name;
  out += deflated;
  const std::size_t central_at = out.size();
  put_le(out, 0x02014b50, 4);
  put_le(out, 20, 2);  // version made by
  common(out);
  put_le(out, 0, 2);  // comment length
  put_le(out, 0, 2);  // disk number
  put_le(out, 0, 2);  // internal attributes
  put_le(out, 0, 4);  // external attributes
  put_le(out, 0, 4);  // local header offset
  out += name;
  const std::size_t central_size = out.size() - central_at;
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 2);
  put_le(out, 0, 2);
  put_le(out, 1, 2);
  put_le(out, 1, 2);
  put_le(out, central_size, 4);
  put_le(out, central_at, 4);
  put_le(out, 0, 2);
  return out;
}

}  // namespace

std::optional<std::string> evaluate_prefix(std::string_view prefix, std::int64_t time_ms,
                                           std::string_view error_output_type,
                                           const std::function<std::string()>& random) {
  const std::tm t = utc(time_ms);
  if (prefix.find("!{") == std::string_view::npos) {
    return std::string(prefix) + std::to_string(t.tm_year + 1900) + "/" + two(t.tm_mon + 1) + "/" +
           two(t.tm_mday) + "/" + two(t.tm_hour) + "/";
  }
  std::string out;
  std::size_t at = 0;
  while (at < prefix.size()) {
    const auto open = prefix.find("!{", at);
    if (open == std::string_view::npos) {
      out += prefix.substr(at);
      break;
    }
    out += prefix.substr(at, open - at);
    const auto close = prefix.find('}', open);
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    const std::string_view expr = prefix.substr(open + 2, close - open - 2);
    if (expr.starts_with("timestamp:")) {
      auto formatted = format_time(expr.substr(10), t);
      if (!formatted || expr.size() == 10) {
        return std::nullopt;
      }
      out += *formatted;
    } else if (expr == "firehose:random-string") {
      out += random ? random() : random_string();
    } else if (expr == "firehose:error-output-type" && !error_output_type.empty()) {
      out += error_output_type;
    } else {
      return std::nullopt;
    }
    at = close + 1;
  }
  return out;
}

bool valid_prefix(std::string_view prefix, bool error_prefix) {
  return evaluate_prefix(prefix, 0, error_prefix ? "processing-failed" : "", [] { return std::string("x"); })
      .has_value();
}

std::string object_name(std::string_view stream, int version, std::int64_t time_ms, std::string_view id,
                        std::string_view compression, std::string_view extension) {
  const std::tm t = utc(time_ms);
  std::string out(stream);
  out += "-" + std::to_string(version) + "-" + std::to_string(t.tm_year + 1900) + "-" + two(t.tm_mon + 1) + "-" +
         two(t.tm_mday) + "-" + two(t.tm_hour) + "-" + two(t.tm_min) + "-" + two(t.tm_sec) + "-";
  out += id;
  if (!extension.empty()) {
    out += extension;
  } else if (compression == "GZIP") {
    out += ".gz";
  } else if (compression == "ZIP") {
    out += ".zip";
  } else if (compression == "Snappy" || compression == "HADOOP_SNAPPY") {
    out += ".snappy";
  }
  return out;
}

std::string compress(std::string_view format, std::string_view data, std::string_view entry_name) {
  if (format == "GZIP") {
    return deflate_all(data, 15 + 16);
  }
  if (format == "ZIP") {
    return zip_one(entry_name, data);
  }
  if (format == "Snappy") {
    return snappy_framed(data);
  }
  if (format == "HADOOP_SNAPPY") {
    return hadoop_snappy(data);
  }
  return std::string(data);
}

}  // namespace fogbank::firehose
