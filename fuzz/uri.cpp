// percent_decode / parse_query_string / uri_encode. Byte 0: bit 0 plus_is_space, bit 1 keep_slash.
#include <cstddef>
#include <cstdint>

#include "fogbank/protocol/uri.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto flags = in.byte();
  const bool plus_is_space = (flags & 1) != 0;
  const bool keep_slash = (flags & 2) != 0;
  const std::string_view text = in.rest();

  auto decoded = protocol::percent_decode(text, plus_is_space);
  if (auto params = protocol::parse_query_string(text)) {
    for (const auto& [name, value] : *params) {
      // Every parsed name must be found again (the first of its kind).
      FOGBANK_FUZZ_CHECK(protocol::find_param(*params, name) != nullptr, name);
    }
  }
  // What the signer encodes, the verifier must decode back to the same bytes.
  auto encoded = protocol::uri_encode(text, keep_slash);
  auto back = protocol::percent_decode(encoded, plus_is_space);
  FOGBANK_FUZZ_CHECK(back && *back == text, encoded);
  if (decoded) {
    // Decoding only ever shrinks the text.
    FOGBANK_FUZZ_CHECK(decoded->size() <= text.size(), *decoded);
  }
  return 0;
}
