#include "fogbank/protocol/http.hpp"

#include <algorithm>

namespace fogbank::protocol {

namespace {
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

void Headers::add(std::string name, std::string value) {
  items_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [n, v] : items_) {
    if (iequals(n, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

void Headers::remove(std::string_view name) {
  std::erase_if(items_, [&](const Field& f) { return iequals(f.first, name); });
}

void RequestHead::split_target() {
  auto q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string::npos ? std::string() : target.substr(q + 1);
  if (path.empty() || path.front() != '/') {
    // Absolute-form targets ("http://host/path") keep only their path.
    auto scheme = path.find("://");
    if (scheme != std::string::npos) {
      auto slash = path.find('/', scheme + 3);
      path = slash == std::string::npos ? "/" : path.substr(slash);
    } else {
      path.insert(path.begin(), '/');
    }
  }
}

std::string_view RequestHead::host_name() const {
  auto host = headers.get("host").value_or("");
  if (!host.empty() && host.front() == '[') {  // [::1]:4566
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  return host.substr(0, host.find(':'));
}

Response::Response(int status_code, std::string body_text, std::string content_type)
    : status(status_code), body(std::move(body_text)) {
  if (!content_type.empty()) {
    headers.set("Content-Type", std::move(content_type));
  }
}

}  // namespace fogbank::protocol
