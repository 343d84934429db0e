#include "fuzz_support.hpp"

#include <cstdio>
#include <cstdlib>

namespace fogbank::fuzz {

void invariant_failed(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz invariant failed: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace fogbank::fuzz
