#pragma once
// UTF-8 decoding and encoding shared by the codecs, the XML reader and the services: one strict
// reading of what valid UTF-8 is (no overlong forms, no surrogates, nothing above U+10FFFF).

#include <string>
#include <string_view>

namespace fogbank::protocol::utf8 {

/// Decodes one code point at `p` (advancing it), rejecting overlong forms, surrogates and values
/// above U+10FFFF. False, with `p` unchanged, when the bytes there are not valid UTF-8.
inline bool next_code_point(const unsigned char*& p, const unsigned char* end, char32_t& cp) {
  const unsigned char b0 = *p;
  if (b0 < 0x80) {
    cp = b0;
    ++p;
    return true;
  }
  std::size_t extra = 0;
  char32_t lowest = 0;
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
    lowest = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
    lowest = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
    lowest = 0x10000;
  } else {
    return false;
  }
  if (static_cast<std::size_t>(end - p) <= extra) {
    return false;
  }
  for (std::size_t i = 1; i <= extra; ++i) {
    const unsigned char b = p[i];
    if ((b & 0xC0) != 0x80) {
      return false;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < lowest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return false;
  }
  p += extra + 1;
  return true;
}

/// Whether `text` is entirely valid UTF-8 (ASCII runs are skipped a word at a time).
bool valid_utf8(std::string_view text);

/// Appends `cp` (a valid code point) encoded as UTF-8.
void append_utf8(std::string& out, char32_t cp);

}  // namespace fogbank::protocol::utf8
