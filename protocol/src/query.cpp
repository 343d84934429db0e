#include "fogbank/protocol/query.hpp"

#include <iterator>

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::protocol::query {

QueryParams collect_params(std::string_view raw_query, std::string_view form_body) {
  auto from_url = parse_query_string(raw_query);
  auto from_body = parse_query_string(form_body);
  if (!from_url || !from_body) {
    throw AwsError("MalformedQueryString", 400, "The query string contains a malformed escape sequence.");
  }
  QueryParams all = std::move(*from_url);
  all.insert(all.end(), std::make_move_iterator(from_body->begin()),
             std::make_move_iterator(from_body->end()));
  return all;
}

}  // namespace fogbank::protocol::query
