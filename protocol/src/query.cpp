#include "fogbank/protocol/query.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

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

nlohmann::json to_tree(const QueryParams& params) {
  nlohmann::json root = nlohmann::json::object();
  for (const auto& [name, value] : params) {
    nlohmann::json* node = &root;
    std::string_view rest = name;
    while (true) {
      auto dot = rest.find('.');
      std::string part(rest.substr(0, dot));
      if (!node->is_object()) {
        *node = nlohmann::json::object();  // deeper structure wins over a leaf
      }
      if (dot == std::string_view::npos) {
        auto& leaf = (*node)[part];
        if (!leaf.is_object()) {
          leaf = value;
        }
        break;
      }
      node = &(*node)[part];
      rest.remove_prefix(dot + 1);
    }
  }
  return root;
}

std::vector<const nlohmann::json*> list_items(const nlohmann::json& tree, std::string_view name,
                                              std::string_view member) {
  std::vector<std::pair<long, const nlohmann::json*>> indexed;
  auto it = tree.find(std::string(name));
  if (it == tree.end() || !it->is_object()) {
    return {};
  }
  const nlohmann::json* list = &*it;
  if (!member.empty()) {
    auto m = list->find(std::string(member));
    if (m == list->end() || !m->is_object()) {
      return {};
    }
    list = &*m;
  }
  for (const auto& [key, item] : list->items()) {
    long index = 0;
    auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
    if (ec == std::errc() && p == key.data() + key.size() && index >= 1) {
      indexed.emplace_back(index, &item);
    }
  }
  std::sort(indexed.begin(), indexed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const nlohmann::json*> out;
  out.reserve(indexed.size());
  for (const auto& [i, item] : indexed) {
    out.push_back(item);
  }
  return out;
}

std::string render_response(std::string_view action, std::string_view xmlns,
                            std::string_view request_id,
                            const std::function<void(XmlWriter&)>& result) {
  XmlWriter xml(false);
  std::string root = std::string(action) + "Response";
  xml.open(root, xmlns);
  if (result) {
    xml.open(std::string(action) + "Result");
    result(xml);
    xml.close();
  }
  xml.open("ResponseMetadata").element("RequestId", request_id).close();
  return xml.finish();
}

}  // namespace fogbank::protocol::query
