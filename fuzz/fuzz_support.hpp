#pragma once
// Shared by the fuzz targets. The convention every target follows: AwsError is the parsers'
// documented way to refuse input, so it is caught; any other exception escapes to libFuzzer,
// which reports it as a crash (in the server it would be a 500 InternalError).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::fuzz {

/// Reads selector bytes off the front of the input, then hands out the rest as text. Selector
/// bytes come first so seeds stay readable: one leading byte, then the document itself.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size)
      : text_(reinterpret_cast<const char*>(data), size) {}

  /// The next byte, or 0 once the input is used up (short inputs still run).
  std::uint8_t byte() {
    if (text_.empty()) {
      return 0;
    }
    auto b = static_cast<std::uint8_t>(text_.front());
    text_.remove_prefix(1);
    return b;
  }
  /// Everything up to the first `sep` (consumed), or the whole rest when there is none.
  std::string_view until(std::string_view sep) {
    auto at = text_.find(sep);
    auto out = text_.substr(0, at);
    text_ = at == std::string_view::npos ? std::string_view{} : text_.substr(at + sep.size());
    return out;
  }
  [[nodiscard]] std::string_view rest() const { return text_; }
  [[nodiscard]] bool empty() const { return text_.empty(); }

 private:
  std::string_view text_;
};

inline std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = text.find(sep);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) {
      return out;
    }
    text.remove_prefix(at + 1);
  }
}

/// Runs `f`, treating AwsError as a refusal. Returns whether `f` accepted the input.
template <class F>
bool accepts(F&& f) {
  try {
    f();
    return true;
  } catch (const protocol::AwsError&) {
    return false;
  }
}

/// A broken invariant: abort so libFuzzer saves the input (a plain assert would vanish under
/// NDEBUG).
[[noreturn]] void invariant_failed(const char* what, std::string_view detail = {});

#define FOGBANK_FUZZ_CHECK(cond, detail)                     \
  do {                                                       \
    if (!(cond)) {                                           \
      ::fogbank::fuzz::invariant_failed(#cond, (detail));    \
    }                                                        \
  } while (0)

}  // namespace fogbank::fuzz
