#include "fogbank/server/request_guard.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace fogbank::server {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_or_under(std::string_view host, std::string_view base) {
  if (host == base) {
    return true;
  }
  return host.size() > base.size() && host.ends_with(base) && host[host.size() - base.size() - 1] == '.';
}

std::optional<std::uint16_t> parse_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5) {
    return std::nullopt;
  }
  unsigned v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(v);
}

}  // namespace

std::optional<Authority> parse_authority(std::string_view text) {
  text = trim(text);
  if (text.empty()) {
    return std::nullopt;
  }
  Authority a;
  std::string_view rest;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    a.host = lower(text.substr(1, close - 1));
    in6_addr v6{};
    if (::inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) {
      return std::nullopt;
    }
    a.ip = true;
    rest = text.substr(close + 1);
  } else {
    auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return std::nullopt;  // a bare IPv6 address is not a valid Host
    }
    a.host = lower(text.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
    if (a.host.size() > 1 && a.host.back() == '.') {
      a.host.pop_back();  // "localhost." is the same name, fully qualified
    }
    if (a.host.empty()) {
      return std::nullopt;
    }
    for (char c : a.host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
        return std::nullopt;
      }
    }
    in_addr v4{};
    a.ip = ::inet_pton(AF_INET, a.host.c_str(), &v4) == 1;
  }
  if (!rest.empty()) {
    if (rest.front() != ':') {
      return std::nullopt;
    }
    rest.remove_prefix(1);
    if (!rest.empty()) {  // "host:" is allowed by RFC 3986 and means the default port
      a.port = parse_port(rest);
      if (!a.port) {
        return std::nullopt;
      }
    }
  }
  return a;
}

HostPolicy::HostPolicy(std::string_view listen_host, const std::vector<std::string>& allowed,
                       const std::vector<std::string>& allowed_origins) {
  for (const auto& e : allowed_origins) {
    std::string_view rest = e;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto entry = trim(rest.substr(0, comma));
      if (entry == "*") {
        any_origin_ = true;
      } else if (!entry.empty()) {
        std::string o = lower(entry);
        while (!o.empty() && o.back() == '/') {
          o.pop_back();
        }
        origins_.push_back(std::move(o));
      }
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  auto add = [this](std::string_view entry) {
    entry = trim(entry);
    if (entry.empty()) {
      return;
    }
    if (entry == "*") {
      any_ = true;
      return;
    }
    if (auto a = parse_authority(entry)) {
      names_.push_back(a->host);
    }
  };
  add(listen_host);
  for (const auto& e : allowed) {
    // Entries may come as one comma list (environment, config file) or as repeated flags.
    std::string_view rest = e;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      add(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
}

bool HostPolicy::name_allowed(const Authority& a) const {
  // A rebinding attack needs a DNS name the attacker controls; an IP literal in Host means the
  // page itself was loaded from that address, so no rebinding is involved.
  if (a.ip || any_) {
    return true;
  }
  if (is_or_under(a.host, "localhost") || is_or_under(a.host, "amazonaws.com") ||
      is_or_under(a.host, "amazonaws.com.cn")) {
    return true;
  }
  return std::any_of(names_.begin(), names_.end(), [&](const std::string& n) { return is_or_under(a.host, n); });
}

bool HostPolicy::origin_name_allowed(const Authority& a) const {
  if (a.host == "localhost" || a.host == "127.0.0.1" || a.host == "::1") {
    return true;
  }
  return std::find(names_.begin(), names_.end(), a.host) != names_.end();
}

bool HostPolicy::host_allowed(const std::vector<std::string_view>& host_headers) const {
  if (host_headers.empty()) {
    return true;
  }
  if (host_headers.size() > 1) {
    return false;  // which one a component reads would be a guess
  }
  auto a = parse_authority(host_headers.front());
  return a && name_allowed(*a);
}

bool HostPolicy::origin_allowed(std::string_view origin, std::optional<std::string_view> host_header,
                                std::uint16_t listen_port) const {
  origin = trim(origin);
  const std::string o = lower(origin.substr(0, std::min<std::size_t>(origin.size(), 8)));
  std::uint16_t default_port = 0;
  if (o.starts_with("http://")) {
    origin.remove_prefix(7);
    default_port = 80;
  } else if (o.starts_with("https://")) {
    origin.remove_prefix(8);
    default_port = 443;
  } else {
    return false;  // "null" (sandboxed frames, file: pages) and every other scheme
  }
  if (origin.find('/') != std::string_view::npos) {
    return false;
  }
  auto a = parse_authority(origin);
  if (!a || !origin_name_allowed(*a)) {
    return false;
  }
  const std::uint16_t port = a->port.value_or(default_port);
  if (port == listen_port) {
    return true;
  }
  if (host_header) {
    if (auto h = parse_authority(*host_header)) {
      return h->port.value_or(default_port) == port;
    }
  }
  return false;
}

std::optional<std::string> HostPolicy::cross_site_refusal(std::optional<std::string_view> origin,
                                                          std::optional<std::string_view> sec_fetch_site,
                                                          std::optional<std::string_view> host_header,
                                                          std::uint16_t listen_port) const {
  const std::string site = sec_fetch_site ? lower(trim(*sec_fetch_site)) : std::string();
  if (site == "cross-site") {
    return "cross-site requests (Sec-Fetch-Site: cross-site) may not use the admin API";
  }
  if (origin) {
    if (!origin_allowed(*origin, host_header, listen_port)) {
      return "Origin '" + std::string(*origin) + "' may not use the admin API: only this server's own " +
             "local origins (http://localhost:" + std::to_string(listen_port) + ", 127.0.0.1, [::1]) may";
    }
    return std::nullopt;
  }
  if (site == "same-site") {
    return "same-site requests without this server's Origin may not use the admin API";
  }
  return std::nullopt;
}

bool HostPolicy::local_origin(std::string_view origin) const {
  origin = trim(origin);
  const std::string whole = lower(origin);
  if (std::find(origins_.begin(), origins_.end(), whole) != origins_.end()) {
    return true;  // listed as a whole origin ("http://app.test:8080", or "null")
  }
  std::string_view rest = whole;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return false;
  }
  if (rest.find('/') != std::string_view::npos) {
    return false;
  }
  auto a = parse_authority(rest);
  if (!a) {
    return false;
  }
  if (a->ip) {
    in_addr v4{};
    if (::inet_pton(AF_INET, a->host.c_str(), &v4) == 1) {
      return (ntohl(v4.s_addr) >> 24) == 127;  // 127.0.0.0/8
    }
    return a->host == "::1";
  }
  if (is_or_under(a->host, "localhost")) {
    return true;
  }
  auto under = [&](const std::string& n) { return is_or_under(a->host, n); };
  return std::any_of(names_.begin(), names_.end(), under) || std::any_of(origins_.begin(), origins_.end(), under);
}

std::optional<std::string> HostPolicy::api_cross_site_refusal(std::string_view method, std::string_view query,
                                                              std::optional<std::string_view> origin,
                                                              std::optional<std::string_view> sec_fetch_site) const {
  if (any_origin_ || method == "OPTIONS") {
    return std::nullopt;  // preflights are answered by the service's CORS rules
  }
  if (method == "GET" || method == "HEAD") {
    // Reads change nothing, except a Query-protocol call (?Action=DeleteQueue&X-Amz-Signature=...).
    const bool query_action = query.starts_with("Action=") || query.find("&Action=") != std::string_view::npos;
    if (!query_action) {
      return std::nullopt;
    }
  }
  const char* hint = " (start fogbank with --allowed-origins to let a page use it)";
  if (origin) {
    if (local_origin(*origin)) {
      return std::nullopt;
    }
    return "fogbank refuses requests that can change state from the page at Origin '" + std::string(trim(*origin)) +
           "': only local pages may send them" + hint;
  }
  if (sec_fetch_site && lower(trim(*sec_fetch_site)) == "cross-site") {
    return std::string("fogbank refuses cross-site requests that can change state") + hint;
  }
  return std::nullopt;
}

}  // namespace fogbank::server
