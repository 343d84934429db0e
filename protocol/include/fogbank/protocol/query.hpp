#pragma once
// The AWS Query protocol (STS, SNS, the legacy form of SQS): the parameters of a request. The
// model-driven codec (codec.hpp: decode_query, encode_query_response) reads and writes the rest.

#include <string>
#include <string_view>

#include "fogbank/protocol/uri.hpp"

namespace fogbank::protocol::query {

/// Parameters of a Query request: the URL's query string followed by the form body
/// (application/x-www-form-urlencoded). Throws AwsError (400 MalformedQueryString) on bad escapes.
QueryParams collect_params(std::string_view raw_query, std::string_view form_body);

}  // namespace fogbank::protocol::query
