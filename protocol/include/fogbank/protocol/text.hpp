#pragma once
// Small ASCII text helpers shared by the wire code and the services (header names and lists).

#include <string>
#include <string_view>
#include <vector>

namespace fogbank::protocol {

/// Lower-cases A-Z only (header names, algorithm names; never locale-dependent).
std::string ascii_lower(std::string_view text);

/// Removes leading and trailing spaces and tabs.
std::string_view trim_blanks(std::string_view text);

/// Splits "a, b,,c" at `separator` into trimmed, non-empty items ("a", "b", "c"), as HTTP list
/// headers (x-amz-trailer, Content-Encoding, If-Match) are read.
std::vector<std::string_view> split_list(std::string_view text, char separator = ',');

}  // namespace fogbank::protocol
