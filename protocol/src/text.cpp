#include "fogbank/protocol/text.hpp"

namespace fogbank::protocol {

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> split_list(std::string_view text, char separator) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    auto at = text.find(separator);
    auto item = trim_blanks(text.substr(0, at));
    if (!item.empty()) {
      items.push_back(item);
    }
    text = at == std::string_view::npos ? std::string_view{} : text.substr(at + 1);
  }
  return items;
}

}  // namespace fogbank::protocol
