#pragma once
// Percent-encoding as SigV4 and the AWS wire protocols use it.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fogbank::protocol {

/// RFC 3986 encoding as SigV4 specifies: unreserved characters (A-Z a-z 0-9 - _ . ~) stay,
/// everything else becomes %XX (upper-case hex). '/' stays when `keep_slash` (paths).
std::string uri_encode(std::string_view text, bool keep_slash = false);

/// Decodes %XX escapes; '+' becomes a space only when `plus_is_space` (forms, query strings).
/// nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

/// Parses "a=1&b=&c" into decoded pairs in their original order ("c" has an empty value).
/// nullopt on a malformed escape.
std::optional<QueryParams> parse_query_string(std::string_view raw);

/// The first value of `name` in `params`.
const std::string* find_param(const QueryParams& params, std::string_view name);

}  // namespace fogbank::protocol
