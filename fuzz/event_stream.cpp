// Event-stream framing (application/vnd.amazon.eventstream): the decoder, fed the input in pieces
// whose sizes byte 0 picks, must either throw DecodeError or return messages that encode back to
// exactly the bytes they came from.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fogbank/protocol/event_stream.hpp"
#include "fuzz_support.hpp"

using namespace fogbank::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fogbank::fuzz::Input in(data, size);
  const std::size_t step = 1 + in.byte() % 64;
  const std::string bytes(in.rest());
  eventstream::Decoder decoder;
  std::string consumed;
  try {
    for (std::size_t at = 0; at < bytes.size(); at += step) {
      decoder.feed(std::string_view(bytes).substr(at, step));
      while (auto m = decoder.next()) {
        consumed += eventstream::encode(*m);
      }
    }
  } catch (const eventstream::DecodeError&) {
    return 0;
  }
  FOGBANK_FUZZ_CHECK(bytes.compare(0, consumed.size(), consumed) == 0, "re-encoded message differs");
  FOGBANK_FUZZ_CHECK(consumed.size() + decoder.buffered() == bytes.size(), "bytes lost");
  return 0;
}
