#include "fogbank/imds/imds_service.hpp"

#include <charconv>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/sts/sts_service.hpp"
#include "identity_signer.hpp"

namespace fogbank::imds {

using protocol::RequestHead;
using protocol::Response;

namespace {

constexpr std::string_view kTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
constexpr std::string_view kTokenHeader = "X-aws-ec2-metadata-token";
constexpr std::int64_t kRoleCredentialLifetime = 6 * 3600;
constexpr std::int64_t kRoleCredentialRotation = 3600;  // EC2 refreshes well before expiry

// IMDS answers errors with a small XHTML page, not an AWS error document.
Response html_error(int status, std::string_view title) {
  std::string t = std::to_string(status) + " - " + std::string(title);
  std::string body =
      "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
      "\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
      "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
      " <head>\n  <title>" + t + "</title>\n </head>\n <body>\n  <h1>" + t +
      "</h1>\n </body>\n</html>\n";
  return Response(status, std::move(body), "text/html");
}

Response text(std::string body) { return Response(200, std::move(body), "text/plain"); }

bool is_version(std::string_view v) {
  if (v == "latest" || v == "1.0") {
    return true;
  }
  // Dated API versions: YYYY-MM-DD.
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') {
    return false;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9')) {
      return false;
    }
  }
  return true;
}

std::string zone_id(const std::string& region) {
  // use1-az1 style: first letters of the region's parts + its number.
  std::string id;
  std::size_t start = 0;
  std::vector<std::string> parts;
  while (start <= region.size()) {
    auto dash = region.find('-', start);
    parts.push_back(region.substr(start, dash == std::string::npos ? std::string::npos : dash - start));
    if (dash == std::string::npos) {
      break;
    }
    start = dash + 1;
  }
  if (parts.size() == 3) {
    id = parts[0].substr(0, 2) + parts[1].substr(0, 1) + parts[2];
  } else {
    id = region;
  }
  return id + "-az1";
}

struct Event {
  std::string value;
  std::int64_t visible_at = 0;
};

}  // namespace

struct ImdsService::Impl {
  InstanceConfig cfg;
  std::shared_ptr<sts::CredentialStore> credentials;
  const protocol::Clock* clock = nullptr;
  std::int64_t launched_at = 0;
  std::mutex mutex;  // guards everything below
  // token → expiry in clock milliseconds: whole seconds would let a TTL-1 token issued late in a
  // second expire a millisecond later.
  std::unordered_map<std::string, std::int64_t> tokens;
  std::optional<protocol::sigv4::Credential> role_creds;
  std::int64_t role_creds_updated = 0;
  std::map<std::string, Event> events;
  IdentitySigner signer;

  std::string hostname() const {
    std::string ip = cfg.local_ipv4;
    for (auto& c : ip) {
      if (c == '.') {
        c = '-';
      }
    }
    return "ip-" + ip + (cfg.region == "us-east-1" ? ".ec2.internal" : "." + cfg.region + ".compute.internal");
  }

  std::string public_hostname() const {
    std::string ip = cfg.public_ipv4;
    for (auto& c : ip) {
      if (c == '.') {
        c = '-';
      }
    }
    return "ec2-" + ip + (cfg.region == "us-east-1" ? ".compute-1.amazonaws.com"
                                                     : "." + cfg.region + ".compute.amazonaws.com");
  }

  std::string instance_profile_arn() const {
    return "arn:aws:iam::" + cfg.account_id + ":instance-profile/" + cfg.role_name;
  }

  // Rotates the role credentials like EC2: new ones every hour, each valid for six; the old
  // ones stay valid (in the credential store) until they expire.
  const protocol::sigv4::Credential& current_role_credentials(std::int64_t now) {
    if (!role_creds || now - role_creds_updated >= kRoleCredentialRotation ||
        role_creds->expires_at - now < 900) {
      std::string arn = "arn:aws:sts::" + cfg.account_id + ":assumed-role/" + cfg.role_name + "/" + cfg.instance_id;
      std::string role_id = sts::iam_unique_id("AROA", cfg.role_name + cfg.account_id);
      role_creds = credentials->issue(cfg.account_id, arn, role_id + ":" + cfg.instance_id, now,
                                      kRoleCredentialLifetime);
      role_creds_updated = now;
    }
    return *role_creds;
  }

  std::string identity_document() const {
    nlohmann::ordered_json doc = {
        {"accountId", cfg.account_id},
        {"architecture", "x86_64"},
        {"availabilityZone", cfg.region + "a"},
        {"billingProducts", nullptr},
        {"devpayProductCodes", nullptr},
        {"marketplaceProductCodes", nullptr},
        {"imageId", cfg.ami_id},
        {"instanceId", cfg.instance_id},
        {"instanceType", cfg.instance_type},
        {"kernelId", nullptr},
        {"pendingTime", sts::iso8601(launched_at)},
        {"privateIp", cfg.local_ipv4},
        {"ramdiskId", nullptr},
        {"region", cfg.region},
        {"version", "2017-09-30"}};
    return doc.dump(2);
  }

  // The meta-data tree as path → value, with the time-dependent leaves filled in for `now`.
  std::map<std::string, std::string> meta_data(std::int64_t now) {
    std::map<std::string, std::string> m;
    std::string macs = "network/interfaces/macs/" + cfg.mac + "/";
    m["ami-id"] = cfg.ami_id;
    m["ami-launch-index"] = "0";
    m["ami-manifest-path"] = "(unknown)";
    m["block-device-mapping/ami"] = "/dev/xvda";
    m["block-device-mapping/root"] = "/dev/xvda";
    m["hostname"] = hostname();
    m["instance-action"] = "none";
    m["instance-id"] = cfg.instance_id;
    m["instance-life-cycle"] = "on-demand";
    m["instance-type"] = cfg.instance_type;
    m["local-hostname"] = hostname();
    m["local-ipv4"] = cfg.local_ipv4;
    m["mac"] = cfg.mac;
    m[macs + "device-number"] = "0";
    m[macs + "interface-id"] = "eni-0a1b2c3d4e5f60718";
    m[macs + "local-hostname"] = hostname();
    m[macs + "local-ipv4s"] = cfg.local_ipv4;
    m[macs + "mac"] = cfg.mac;
    m[macs + "owner-id"] = cfg.account_id;
    m[macs + "public-hostname"] = public_hostname();
    m[macs + "public-ipv4s"] = cfg.public_ipv4;
    m[macs + "security-group-ids"] = cfg.security_group_id;
    m[macs + "security-groups"] = cfg.security_group;
    m[macs + "subnet-id"] = cfg.subnet_id;
    m[macs + "subnet-ipv4-cidr-block"] = "10.0.1.0/24";
    m[macs + "vpc-id"] = cfg.vpc_id;
    m[macs + "vpc-ipv4-cidr-block"] = "10.0.0.0/16";
    m[macs + "vpc-ipv4-cidr-blocks"] = "10.0.0.0/16";
    m["placement/availability-zone"] = cfg.region + "a";
    m["placement/availability-zone-id"] = zone_id(cfg.region);
    m["placement/region"] = cfg.region;
    m["profile"] = "default-hvm";
    m["public-hostname"] = public_hostname();
    m["public-ipv4"] = cfg.public_ipv4;
    m["public-keys/0/openssh-key"] =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFogbankFogbankFogbankFogbankFogbankFogbank fogbank-key";
    m["reservation-id"] = "r-0f1e2d3c4b5a69788";
    m["security-groups"] = cfg.security_group;
    m["services/domain"] = "amazonaws.com";
    m["services/partition"] = "aws";
    m["events/maintenance/scheduled"] = "[]";
    m["autoscaling/target-lifecycle-state"] = "InService";
    for (const auto& [k, v] : cfg.tags) {
      m["tags/instance/" + k] = v;
    }
    nlohmann::ordered_json info = {{"Code", "Success"},
                                   {"LastUpdated", sts::iso8601(role_creds_updated ? role_creds_updated : now)},
                                   {"InstanceProfileArn", instance_profile_arn()},
                                   {"InstanceProfileId", sts::iam_unique_id("AIPA", instance_profile_arn())}};
    const auto& c = current_role_credentials(now);
    info["LastUpdated"] = sts::iso8601(role_creds_updated);
    m["iam/info"] = info.dump(2);
    nlohmann::ordered_json creds = {{"Code", "Success"},
                                    {"LastUpdated", sts::iso8601(role_creds_updated)},
                                    {"Type", "AWS-HMAC"},
                                    {"AccessKeyId", c.access_key},
                                    {"SecretAccessKey", c.secret_key},
                                    {"Token", c.session_token},
                                    {"Expiration", sts::iso8601(c.expires_at)}};
    m["iam/security-credentials/" + cfg.role_name] = creds.dump(2);
    for (const auto& [path, e] : events) {
      if (e.visible_at <= now) {
        m[path] = e.value;
      }
    }
    for (const auto& [k, v] : cfg.overrides) {
      m[k] = v;
    }
    return m;
  }

  // Lists the children of `dir` ("" or "x/y/") in a leaf map, sub-directories with a '/'.
  static std::optional<std::string> listing(const std::map<std::string, std::string>& leaves,
                                            const std::string& dir) {
    std::vector<std::string> children;
    std::set<std::string> seen;
    for (auto it = leaves.lower_bound(dir); it != leaves.end() && it->first.compare(0, dir.size(), dir) == 0; ++it) {
      std::string rest = it->first.substr(dir.size());
      auto slash = rest.find('/');
      std::string child = slash == std::string::npos ? rest : rest.substr(0, slash + 1);
      if (seen.insert(child).second) {
        children.push_back(child);
      }
    }
    if (children.empty()) {
      return std::nullopt;
    }
    if (dir == "public-keys/") {
      return std::string("0=fogbank-key");
    }
    std::string out;
    for (const auto& c : children) {
      if (!out.empty()) {
        out += '\n';
      }
      out += c;
    }
    return out;
  }

  Response token(const RequestHead& head, std::int64_t now_ms) {
    if (head.headers.has("x-forwarded-for")) {
      return html_error(403, "Forbidden");  // tokens are for the instance itself, never a proxy
    }
    auto ttl_text = head.headers.get(kTtlHeader);
    if (!ttl_text) {
      return html_error(400, "Bad Request");
    }
    std::int64_t ttl = 0;
    auto [p, ec] = std::from_chars(ttl_text->data(), ttl_text->data() + ttl_text->size(), ttl);
    if (ec != std::errc() || p != ttl_text->data() + ttl_text->size() || ttl < 1 || ttl > 21600) {
      return html_error(400, "Bad Request");
    }
    std::string tok = protocol::base64_encode(protocol::random_bytes(42));
    {
      std::lock_guard lock(mutex);
      std::erase_if(tokens, [now_ms](const auto& t) { return t.second <= now_ms; });
      tokens[tok] = now_ms + ttl * 1000;
    }
    Response r = text(tok);
    r.headers.set(std::string(kTtlHeader), std::to_string(ttl));
    return r;
  }

  Response get(const RequestHead& head, std::int64_t now_ms) {
    const std::int64_t now = now_ms / 1000;
    std::optional<std::int64_t> remaining;
    if (auto tok = head.headers.get(kTokenHeader)) {
      std::lock_guard lock(mutex);
      auto it = tokens.find(std::string(*tok));
      if (it == tokens.end() || it->second <= now_ms) {
        return html_error(401, "Unauthorized");
      }
      remaining = (it->second - now_ms + 999) / 1000;  // whole seconds left, as EC2 echoes them
    } else if (cfg.v2_required) {
      return html_error(401, "Unauthorized");
    }
    Response r = route(head.path, now);
    if (remaining && r.status == 200) {
      r.headers.set(std::string(kTtlHeader), std::to_string(*remaining));
    }
    return r;
  }

  Response route(const std::string& path, std::int64_t now) {
    if (path == "/") {
      return text("1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n2008-02-01\n"
                  "2008-09-01\n2009-04-04\n2011-01-01\n2011-05-01\n2012-01-12\n2014-02-25\n"
                  "2014-11-05\n2015-10-20\n2016-04-19\n2016-06-30\n2016-09-02\n2018-03-28\n"
                  "2018-08-17\n2018-09-24\n2019-10-01\n2020-10-27\n2021-01-03\n2021-03-23\n"
                  "2021-07-15\n2022-09-24\n2024-04-11\nlatest");
    }
    auto second = path.find('/', 1);
    std::string version = path.substr(1, second == std::string::npos ? std::string::npos : second - 1);
    if (!is_version(version)) {
      return html_error(404, "Not Found");
    }
    std::string rest = second == std::string::npos ? "" : path.substr(second + 1);
    std::lock_guard lock(mutex);
    if (rest.empty()) {
      return text(std::string("dynamic\nmeta-data") + (cfg.user_data.empty() ? "" : "\nuser-data"));
    }
    if (rest == "user-data" || rest == "user-data/") {
      if (cfg.user_data.empty()) {
        return html_error(404, "Not Found");
      }
      return Response(200, cfg.user_data, "application/octet-stream");
    }
    if (rest == "meta-data" || rest.rfind("meta-data/", 0) == 0) {
      auto leaves = meta_data(now);
      std::string sub = rest.size() > 10 ? rest.substr(10) : "";
      if (sub.empty() || sub.back() == '/') {
        if (auto l = listing(leaves, sub)) {
          return text(*l);
        }
        // A leaf asked for with a trailing slash still answers, as EC2 does.
        if (!sub.empty()) {
          if (auto it = leaves.find(sub.substr(0, sub.size() - 1)); it != leaves.end()) {
            return text(it->second);
          }
        }
        return html_error(404, "Not Found");
      }
      if (auto it = leaves.find(sub); it != leaves.end()) {
        return text(it->second);
      }
      if (auto l = listing(leaves, sub + "/")) {
        return text(*l);
      }
      return html_error(404, "Not Found");
    }
    if (rest == "dynamic" || rest == "dynamic/") {
      return text("instance-identity/");
    }
    if (rest == "dynamic/instance-identity" || rest == "dynamic/instance-identity/") {
      return text("document\npkcs7\nrsa2048\nsignature");
    }
    if (rest == "dynamic/instance-identity/document") {
      return text(identity_document());
    }
    if (rest == "dynamic/instance-identity/signature") {
      return text(signer.signature(identity_document()));
    }
    if (rest == "dynamic/instance-identity/pkcs7" || rest == "dynamic/instance-identity/rsa2048") {
      return text(signer.pkcs7(identity_document()));
    }
    return html_error(404, "Not Found");
  }
};

ImdsService::ImdsService(InstanceConfig config, std::shared_ptr<sts::CredentialStore> credentials,
                         const protocol::Clock& clock)
    : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(config);
  impl_->credentials = std::move(credentials);
  impl_->clock = &clock;
  impl_->signer.set_directory(impl_->cfg.signing_dir);
  impl_->launched_at = clock.now_seconds();
}

ImdsService::~ImdsService() = default;

Response ImdsService::handle(const RequestHead& head) {
  const std::int64_t now_ms = impl_->clock->now_ms();
  if (head.method == "PUT") {
    if (head.path == "/latest/api/token") {
      return impl_->token(head, now_ms);
    }
    return html_error(404, "Not Found");
  }
  if (head.method != "GET" && head.method != "HEAD") {
    return html_error(405, "Method Not Allowed");
  }
  return impl_->get(head, now_ms);
}

bool ImdsService::trigger_event(const std::string& kind, const std::string& value, std::int64_t delay_seconds) {
  std::lock_guard lock(impl_->mutex);
  std::int64_t at = impl_->clock->now_seconds() + delay_seconds;
  auto& ev = impl_->events;
  if (kind == "spot-interruption") {
    // Spot notices come two minutes before the action.
    std::string action = value.empty() ? "terminate" : value;
    ev["spot/instance-action"] = {nlohmann::json{{"action", action}, {"time", sts::iso8601(at + 120)}}.dump(), at};
    ev["spot/termination-time"] = {sts::iso8601(at + 120), at};
  } else if (kind == "rebalance") {
    ev["events/recommendations/rebalance"] = {nlohmann::json{{"noticeTime", sts::iso8601(at)}}.dump(), at};
  } else if (kind == "maintenance") {
    nlohmann::json e = nlohmann::json::array({{{"Code", value.empty() ? "system-reboot" : value},
                                               {"Description", "scheduled by fogbank"},
                                               {"EventId", "instance-event-0fb1c3d5e7a9b2c4d"},
                                               {"NotBefore", sts::iso8601(at + 86400)},
                                               {"NotAfter", sts::iso8601(at + 7 * 86400)},
                                               {"State", "active"}}});
    ev["events/maintenance/scheduled"] = {e.dump(), at};
  } else if (kind == "lifecycle") {
    ev["autoscaling/target-lifecycle-state"] = {value.empty() ? "Terminated" : value, at};
  } else {
    return false;
  }
  return true;
}

std::string ImdsService::certificate() {
  std::lock_guard lock(impl_->mutex);
  return impl_->signer.certificate();
}

void ImdsService::clear_events() {
  std::lock_guard lock(impl_->mutex);
  impl_->events.clear();
}

}  // namespace fogbank::imds
