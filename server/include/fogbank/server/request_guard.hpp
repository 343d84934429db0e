#pragma once
// Who may talk to fogbank. It listens on localhost next to the user's browser, so any web page can
// send it requests; two rules keep pages out:
//
//  - the Host allow-list (every listener): a page that rebinds its own DNS name to 127.0.0.1
//    reaches fogbank with `Host: attacker.example`, so only local names (localhost, *.localhost,
//    IP literals, --host), AWS's own names (*.amazonaws.com, which only the user's resolver can
//    point here) and --allowed-hosts are served;
//  - the admin API's cross-site rule: a request carrying an `Origin` that is not one of this
//    server's own local origins, or marked `Sec-Fetch-Site: cross-site`, is refused, so a page
//    cannot reset or reconfigure fogbank with a "simple" cross-origin POST;
//  - the services' cross-site rule: the default keys (test:test) are public, so a page could sign
//    a form POST or a presigned Query GET itself. Requests that can change state are refused when
//    they come from a page that is not local (an Origin outside localhost, loopback addresses,
//    --host, --allowed-hosts and --allowed-origins; `null` from sandboxed or file: pages), or
//    are marked `Sec-Fetch-Site: cross-site` without an Origin. Plain GET/HEAD (S3 reads,
//    <img src>) and CORS preflights pass: they change nothing.
//
// Beast-free, so the rules are unit-tested without a server.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fogbank::server {

/// A URL authority or Host header split into its parts: the host lower-cased, without IPv6
/// brackets or a trailing root dot.
struct Authority {
  std::string host;
  std::optional<std::uint16_t> port;
  bool ip = false;  ///< an IPv4 or IPv6 literal
};

/// "name", "name:port", "[v6]" or "[v6]:port"; nullopt if malformed.
[[nodiscard]] std::optional<Authority> parse_authority(std::string_view text);

class HostPolicy {
 public:
  /// `listen_host` is --host; `allowed` holds --allowed-hosts entries (each also admits its
  /// subdomains; "*" admits any Host).
  HostPolicy(std::string_view listen_host, const std::vector<std::string>& allowed,
             const std::vector<std::string>& allowed_origins = {});

  /// May a request with these Host header values be served? No header at all (HTTP/1.0 tools) is
  /// accepted: browsers always send one. More than one is refused.
  [[nodiscard]] bool host_allowed(const std::vector<std::string_view>& host_headers) const;

  /// The admin API's cross-site rule. nullopt: accepted; otherwise why it is refused (403).
  /// `listen_port` is the port this server is bound to; the Host header's port is accepted too
  /// (a container's published port differs from the one it binds).
  [[nodiscard]] std::optional<std::string> cross_site_refusal(std::optional<std::string_view> origin,
                                                              std::optional<std::string_view> sec_fetch_site,
                                                              std::optional<std::string_view> host_header,
                                                              std::uint16_t listen_port) const;

  /// The services' cross-site rule. nullopt: accepted; otherwise why it is refused (403).
  /// `query` is the raw query string (a Query-protocol GET names its Action there).
  [[nodiscard]] std::optional<std::string> api_cross_site_refusal(std::string_view method, std::string_view query,
                                                                  std::optional<std::string_view> origin,
                                                                  std::optional<std::string_view> sec_fetch_site) const;

  /// Is `origin` ("http://localhost:4566") one of this server's own origins?
  [[nodiscard]] bool origin_allowed(std::string_view origin, std::optional<std::string_view> host_header,
                                    std::uint16_t listen_port) const;

 private:
  [[nodiscard]] bool name_allowed(const Authority& a) const;
  /// Names an admin page may be served from: exact local names only, never a virtual-hosted
  /// bucket under them (its objects are whatever anyone uploaded).
  [[nodiscard]] bool origin_name_allowed(const Authority& a) const;

  /// May a page served from `origin` change state through the services?
  [[nodiscard]] bool local_origin(std::string_view origin) const;

  std::vector<std::string> names_;  ///< --host (when a name) and --allowed-hosts, lower-cased
  bool any_ = false;
  std::vector<std::string> origins_;  ///< --allowed-origins: full origins or host names, lower-cased
  bool any_origin_ = false;
};

}  // namespace fogbank::server
