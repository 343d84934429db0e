#include "fogbank/protocol/event_stream.hpp"

#include <isa-l/crc.h>

#include <limits>

namespace fogbank::protocol::eventstream {

namespace {

constexpr std::size_t kPreludeBytes = 12;  // two lengths and the prelude's CRC
constexpr std::size_t kCrcBytes = 4;

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

std::uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  }
  return v;
}

/// Sign-extends the low `bytes` bytes of `v` (the integer header types are two's complement).
std::int64_t signed_be(std::uint64_t v, int bytes) {
  if (bytes == 8) {
    return static_cast<std::int64_t>(v);
  }
  const std::uint64_t sign = std::uint64_t{1} << (8 * bytes - 1);
  return static_cast<std::int64_t>((v ^ sign) - sign);
}

int integer_width(HeaderType t) {
  switch (t) {
    case HeaderType::kByte:
      return 1;
    case HeaderType::kShort:
      return 2;
    case HeaderType::kInteger:
      return 4;
    case HeaderType::kLong:
    case HeaderType::kTimestamp:
      return 8;
    default:
      return 0;
  }
}

void encode_header(std::string& out, const Header& h) {
  if (h.name.empty() || h.name.size() > std::numeric_limits<std::uint8_t>::max()) {
    throw std::length_error("event stream: header name must be 1 to 255 bytes");
  }
  out.push_back(static_cast<char>(h.name.size()));
  out += h.name;
  out.push_back(static_cast<char>(h.value.type));
  switch (h.value.type) {
    case HeaderType::kTrue:
    case HeaderType::kFalse:
      break;
    case HeaderType::kBytes:
    case HeaderType::kString:
      if (h.value.bytes.size() > std::numeric_limits<std::uint16_t>::max()) {
        throw std::length_error("event stream: header value over 65535 bytes");
      }
      put_be(out, h.value.bytes.size(), 2);
      out += h.value.bytes;
      break;
    case HeaderType::kUuid:
      if (h.value.bytes.size() != 16) {
        throw std::length_error("event stream: a UUID header holds 16 bytes");
      }
      out += h.value.bytes;
      break;
    default:
      put_be(out, static_cast<std::uint64_t>(h.value.number), integer_width(h.value.type));
      break;
  }
}

/// Reads the headers block; throws DecodeError on anything that does not fit exactly.
std::vector<Header> decode_headers(std::string_view block) {
  std::vector<Header> out;
  std::size_t at = 0;
  auto need = [&](std::size_t n) {
    if (block.size() - at < n) {
      throw DecodeError("event stream: header runs past the headers block");
    }
  };
  while (at < block.size()) {
    Header h;
    need(1);
    const std::size_t name_len = static_cast<unsigned char>(block[at++]);
    if (name_len == 0) {
      throw DecodeError("event stream: empty header name");
    }
    need(name_len + 1);
    h.name.assign(block.substr(at, name_len));
    at += name_len;
    const auto type = static_cast<unsigned char>(block[at++]);
    if (type > static_cast<unsigned char>(HeaderType::kUuid)) {
      throw DecodeError("event stream: unknown header type " + std::to_string(type));
    }
    h.value.type = static_cast<HeaderType>(type);
    switch (h.value.type) {
      case HeaderType::kTrue:
      case HeaderType::kFalse:
        break;
      case HeaderType::kBytes:
      case HeaderType::kString: {
        need(2);
        const std::size_t len = get_be(block, at, 2);
        at += 2;
        need(len);
        h.value.bytes.assign(block.substr(at, len));
        at += len;
        break;
      }
      case HeaderType::kUuid:
        need(16);
        h.value.bytes.assign(block.substr(at, 16));
        at += 16;
        break;
      default: {
        const int width = integer_width(h.value.type);
        need(width);
        h.value.number = signed_be(get_be(block, at, width), width);
        at += width;
        break;
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

Message typed_message(std::string_view kind_header, std::string_view kind, std::string_view content_type,
                      std::string payload) {
  Message m;
  m.headers.push_back({std::string(kind_header), HeaderValue::string(std::string(kind))});
  m.headers.push_back({":content-type", HeaderValue::string(std::string(content_type))});
  m.headers.push_back({":message-type", HeaderValue::string(kind_header == ":event-type" ? "event" : "exception")});
  m.payload = std::move(payload);
  return m;
}

}  // namespace

std::uint32_t crc32(std::string_view data, std::uint32_t crc) {
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::optional<std::string> Message::string_header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name && h.value.type == HeaderType::kString) {
      return h.value.bytes;
    }
  }
  return std::nullopt;
}

std::string encode(const Message& message) {
  std::string headers;
  for (const auto& h : message.headers) {
    encode_header(headers, h);
  }
  const std::uint64_t total = kPreludeBytes + headers.size() + message.payload.size() + kCrcBytes;
  if (headers.size() > kMaxHeaderBytes || total > kMaxMessageBytes) {
    throw std::length_error("event stream: message over the size limits");
  }
  std::string out;
  out.reserve(total);
  put_be(out, total, 4);
  put_be(out, headers.size(), 4);
  put_be(out, crc32(out), 4);
  out += headers;
  out += message.payload;
  put_be(out, crc32(out), 4);
  return out;
}

std::string event(std::string_view event_type, std::string_view content_type, std::string payload) {
  return encode(typed_message(":event-type", event_type, content_type, std::move(payload)));
}

std::string exception(std::string_view exception_type, std::string_view content_type, std::string payload) {
  return encode(typed_message(":exception-type", exception_type, content_type, std::move(payload)));
}

void Decoder::feed(std::string_view bytes) {
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<Message> Decoder::next() {
  if (failed_) {
    throw DecodeError("event stream: the stream failed earlier");
  }
  const std::string_view in = std::string_view(buffer_).substr(offset_);
  if (in.size() < kPreludeBytes) {
    return std::nullopt;
  }
  failed_ = true;  // until this message is known good
  const std::uint64_t total = get_be(in, 0, 4);
  const std::uint64_t headers_len = get_be(in, 4, 4);
  if (crc32(in.substr(0, 8)) != get_be(in, 8, 4)) {
    throw DecodeError("event stream: prelude CRC mismatch");
  }
  if (total > kMaxMessageBytes || headers_len > kMaxHeaderBytes ||
      total < kPreludeBytes + headers_len + kCrcBytes) {
    throw DecodeError("event stream: message lengths out of range");
  }
  if (in.size() < total) {
    failed_ = false;
    return std::nullopt;
  }
  if (crc32(in.substr(0, total - kCrcBytes)) != get_be(in, total - kCrcBytes, 4)) {
    throw DecodeError("event stream: message CRC mismatch");
  }
  Message m;
  m.headers = decode_headers(in.substr(kPreludeBytes, headers_len));
  m.payload.assign(in.substr(kPreludeBytes + headers_len, total - kPreludeBytes - headers_len - kCrcBytes));
  offset_ += total;
  if (offset_ > (1u << 20) && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);  // keep the buffer from growing with a long stream
    offset_ = 0;
  }
  failed_ = false;
  return m;
}

}  // namespace fogbank::protocol::eventstream
