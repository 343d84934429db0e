#include "fogbank/server/app.hpp"

#include <strings.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "fogbank/imds/imds_service.hpp"
#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/dispatcher.hpp"
#include "fogbank/protocol/platform.hpp"
#include "fogbank/server/clock_endpoint.hpp"
#include "fogbank/server/log.hpp"
#include "fogbank/server/request_guard.hpp"
#include "fogbank/services/registry.hpp"
#include "fogbank/storage/store.hpp"
#include "fogbank/sts/credentials.hpp"
#include "http_server.hpp"
#include "outbound_http.hpp"

#ifndef FOGBANK_VERSION
#define FOGBANK_VERSION "0.1.0"
#endif

namespace fogbank::server {

namespace fs = std::filesystem;
using protocol::Exchange;
using protocol::RequestHead;
using protocol::Response;

namespace {

constexpr std::string_view kServiceNames[] = {"s3", "sqs", "sns", "kinesis", "firehose", "sts", "imds"};

std::string read_credentials(const std::string& spec) {
  std::error_code ec;
  if (!spec.empty() && spec.find(':') == std::string::npos && fs::is_regular_file(spec, ec)) {
    std::ifstream in(spec);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  return spec;
}

/// Collects a small body, then answers with `respond(body)`.
class SmallBodySink final : public protocol::BodySink {
 public:
  explicit SmallBodySink(std::function<Response(std::string)> respond) : respond_(std::move(respond)) {}
  void write(std::string_view data) override { body_.append(data); }
  Response finish() override { return respond_(std::move(body_)); }

 private:
  std::function<Response(std::string)> respond_;
  std::string body_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

imds::InstanceConfig instance_config(const Config& config, const std::string& account, const std::string& data_dir) {
  imds::InstanceConfig ic;
  ic.account_id = account;
  ic.region = config.region;
  ic.v2_required = config.imds_v2_required;
  ic.signing_dir = (fs::path(data_dir) / "tls").string();
  if (!config.imds_user_data.empty()) {
    ic.user_data = config.imds_user_data.front() == '@' ? read_file(config.imds_user_data.substr(1))
                                                         : config.imds_user_data;
  }
  if (!config.imds_config.empty()) {
    auto j = nlohmann::json::parse(read_file(config.imds_config), nullptr, false);
    if (!j.is_object()) {
      throw std::runtime_error(config.imds_config + " is not a JSON object");
    }
    auto take = [&](const char* key, std::string& field) {
      if (j.contains(key) && j[key].is_string()) {
        field = j[key].get<std::string>();
      }
    };
    take("account_id", ic.account_id);
    take("region", ic.region);
    take("instance_id", ic.instance_id);
    take("ami_id", ic.ami_id);
    take("instance_type", ic.instance_type);
    take("role_name", ic.role_name);
    take("local_ipv4", ic.local_ipv4);
    take("public_ipv4", ic.public_ipv4);
    take("mac", ic.mac);
    take("vpc_id", ic.vpc_id);
    take("subnet_id", ic.subnet_id);
    take("security_group", ic.security_group);
    take("security_group_id", ic.security_group_id);
    take("user_data", ic.user_data);
    for (const char* map : {"tags", "metadata"}) {
      if (j.contains(map) && j[map].is_object()) {
        for (const auto& [k, v] : j[map].items()) {
          (std::string(map) == "tags" ? ic.tags : ic.overrides)[k] = v.is_string() ? v.get<std::string>() : v.dump();
        }
      }
    }
  }
  return ic;
}

std::pair<std::string, std::uint16_t> split_host_port(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    throw std::runtime_error("--imds-address wants host:port, got '" + address + "'");
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = std::atoi(address.c_str() + colon + 1);
  if (port < 0 || port > 65535) {
    throw std::runtime_error("bad port in --imds-address '" + address + "'");
  }
  return {host, static_cast<std::uint16_t>(port)};
}

Response json_response(int status, const nlohmann::json& body) {
  Response r(status, body.dump(), "application/json");
  return r;
}

std::vector<std::string_view> host_headers(const RequestHead& head) {
  std::vector<std::string_view> out;
  for (const auto& [name, value] : head.headers.items()) {
    if (name.size() == 4 && ::strncasecmp(name.c_str(), "host", 4) == 0) {
      out.push_back(value);
    }
  }
  return out;
}

std::string refused_host_message(const RequestHead& head) {
  auto hosts = host_headers(head);
  std::string shown = hosts.empty() ? std::string() : std::string(hosts.front());
  if (shown.size() > 100) {
    shown = shown.substr(0, 100) + "...";
  }
  return "fogbank does not serve the Host '" + shown +
         "' (DNS rebinding protection); allow it with --allowed-hosts";
}

/// An admin endpoint and the methods the README documents for it.
struct AdminEndpoint {
  std::string_view path;
  std::string_view allow;
  bool needs_imds = false;
};

constexpr AdminEndpoint kAdminEndpoints[] = {
    {"/_fogbank/health", "GET, HEAD"},  // HEAD: for load-balancer style probes
    {"/_fogbank/health/", "GET, HEAD"},
    {"/_fogbank/reset", "POST"},
    {"/_fogbank/clock", "GET, POST"},
    {"/_fogbank/clock/", "GET, POST"},
    {"/_fogbank/request-log", "GET, POST, PUT"},
    {"/_fogbank/imds/certificate", "GET", true},
    {"/_fogbank/imds/events", "POST, DELETE", true},
};

bool method_listed(std::string_view allow, std::string_view method) {
  while (!allow.empty()) {
    auto comma = allow.find(',');
    auto item = allow.substr(0, comma);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    if (item == method) {
      return true;
    }
    allow = comma == std::string_view::npos ? std::string_view() : allow.substr(comma + 1);
  }
  return false;
}

/// The longest delay an IMDS event may be scheduled with (ten years): its times are formatted as
/// dates, which far-off seconds would overflow.
constexpr double kMaxEventDelaySeconds = 10.0 * 365 * 86400;

}  // namespace

struct App::Impl final : RequestHandler {
  // Declared in the order they depend on each other; ~Impl tears them down in reverse, explicitly.
  Config config;
  std::string data_dir;
  // The one clock: the system clock, or `virtual_clock` under --clock virtual.
  std::unique_ptr<protocol::VirtualClock> virtual_clock;
  protocol::Clock* clock = &protocol::system_clock();
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<protocol::Scheduler> scheduler;
  std::shared_ptr<sts::CredentialStore> credentials;
  std::optional<TlsFiles> tls_files;
  std::shared_ptr<OutboundHttp> outbound;  ///< SNS HTTP/HTTPS deliveries
  std::unique_ptr<protocol::Platform> platform;
  std::unique_ptr<protocol::Dispatcher> dispatcher;
  std::unique_ptr<imds::ImdsService> imds;
  std::unique_ptr<HttpServer> server;
  HostPolicy host_policy;

  // The IMDS listener: plain HTTP, no SigV4, its own address.
  struct ImdsHandler final : RequestHandler {
    imds::ImdsService* service = nullptr;
    const HostPolicy* hosts = nullptr;
    Exchange begin(RequestHead head) override {
      Exchange ex;
      ex.info = std::make_shared<protocol::RequestInfo>();
      ex.info->service = "imds";
      // The instance role's credentials are one GET away, so a rebound name is refused here too.
      if (!hosts->host_allowed(host_headers(head))) {
        ex.info->operation = "refused-host";
        ex.immediate = std::make_unique<Response>(403, refused_host_message(head) + "\n", "text/plain");
        return ex;
      }
      ex.info->operation = head.method == "PUT" ? "token" : "get";
      ex.body_limit = 64 * 1024;
      ex.sink = std::make_unique<SmallBodySink>([svc = service, head = std::move(head)](std::string) {
        return svc->handle(head);
      });
      return ex;
    }
  } imds_handler;
  std::uint16_t imds_port = 0;
  std::atomic<bool> access_log{true};
  std::uint16_t port = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  Impl(Config c, bool handle_signals)
      : config(std::move(c)), host_policy(config.host, config.allowed_hosts, config.allowed_origins) {
    imds_handler.hosts = &host_policy;
    if (!log::set_level(config.log_level)) {
      throw std::runtime_error("unknown log level '" + config.log_level + "'");
    }
    access_log = config.access_log;
    if (config.clock == "virtual") {
      virtual_clock = std::make_unique<protocol::VirtualClock>();
      clock = virtual_clock.get();
    }
    if (config.ephemeral) {
      std::string tmpl = (fs::temp_directory_path() / "fogbank-XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error("cannot create a temporary data directory");
      }
      data_dir = tmpl;
    } else {
      data_dir = config.data_dir;
      if (fs::create_directories(data_dir)) {
        // The database holds the secret keys of issued credentials: owner only, whatever the
        // umask (main sets 077 as well, but an embedding process may not).
        fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace);
      }
    }

    storage::Options so;
    so.path = (fs::path(data_dir) / "db").string();
    so.sync = config.sync;
    storage::Status st;
    store = storage::Store::open(so, st);
    if (!store) {
      throw std::runtime_error("cannot open the database in " + so.path + ": " + st.message());
    }

    auto keys = sts::parse_static_keys(read_credentials(config.credentials));
    if (keys.empty()) {
      throw std::runtime_error("no credentials configured (--credentials)");
    }
    credentials = std::make_shared<sts::CredentialStore>(*store, keys);
    credentials->purge_expired(clock->now_seconds());
    // Pool work mostly waits on the disk (read-ahead, copies, flushes), so the pool is larger
    // than the core count: a cold long GET keeps four reads in flight, as it did with its own
    // reader threads.
    scheduler = std::make_unique<protocol::Scheduler>(
        *clock, std::max<std::size_t>(4, 2 * std::thread::hardware_concurrency()));
    if (!config.tls_cert.empty()) {
      tls_files = TlsFiles{config.tls_cert, config.tls_key, {}};
    } else {
      tls_files = ensure_tls_files(data_dir, config.host);
    }
    outbound = std::make_shared<OutboundHttp>(OutboundOptions{config.outbound_tls_verify, tls_files->ca});
    platform = std::make_unique<protocol::Platform>(
        protocol::Platform{*store, *clock, *scheduler, credentials, outbound});

    protocol::DispatcherConfig dc;
    dc.auth = config.auth == "off" ? protocol::AuthMode::kOff : protocol::AuthMode::kEnforce;
    dc.default_region = config.region;
    dc.default_caller = sts::identity_of(keys.front());
    dc.max_buffered_body = config.max_body_bytes;
    dc.clock = clock;
    dc.on_signature_mismatch = [](std::string_view canonical, std::string_view to_sign) {
      if (log::enabled(log::Level::kDebug)) {
        log::debug("signature mismatch; fogbank's canonical request:\n" + std::string(canonical) +
                   "\n--- string to sign:\n" + std::string(to_sign));
      }
    };
    dc.on_internal_error = [](std::string_view request_id, std::string_view cause) {
      log::error("internal error in request " + std::string(request_id) + ": " + std::string(cause));
    };
    dispatcher = std::make_unique<protocol::Dispatcher>(std::move(dc), credentials);
    services::ServiceOptions service_options;
    service_options.kinesis.shard_limit = config.kinesis_shard_limit;
    service_options.kinesis.lifecycle_delay_ms = config.kinesis_lifecycle_delay_ms;
    service_options.kinesis.enforce_throughput = config.kinesis_limits;
    service_options.s3.encrypt_all = config.encrypt_at_rest == "all";
    for (auto& s : services::make_all(*platform, credentials, service_options)) {
      dispatcher->add(s);
    }

    ServerOptions opts;
    opts.io_threads = config.io_threads != 0 ? config.io_threads : std::max(1u, std::thread::hardware_concurrency());
    opts.header_limit_bytes = config.header_limit_bytes;
    opts.idle_timeout = config.idle_timeout;
    opts.read_timeout = config.read_timeout;
    opts.max_connections = config.max_connections;
    opts.min_body_rate = config.min_body_rate;
    opts.min_body_rate_window = config.min_body_rate_window;
    opts.access_log = &access_log;
    opts.scheduler = scheduler.get();
    opts.tls = tls_files;
    server = std::make_unique<HttpServer>(opts);
    if (handle_signals) {
      server->install_signal_handlers();
    }
    port = server->listen(config.host, config.port, *this, true);
    if (config.imds_address != "off") {
      imds = std::make_unique<imds::ImdsService>(instance_config(config, keys.front().account_id, data_dir),
                                                 credentials, *clock);
      imds_handler.service = imds.get();
      auto [imds_host, imds_port_wanted] = split_host_port(config.imds_address);
      imds_port = server->listen(imds_host, imds_port_wanted, imds_handler, false);
      log::info("instance metadata service on http://" + imds_host + ":" + std::to_string(imds_port) +
                (config.imds_v2_required ? " (IMDSv2 required)" : ""));
    }
    std::string host = config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host;
    log::info("fogbank " FOGBANK_VERSION " listening on http://" + host + ":" + std::to_string(port) +
              " (https on the same port), data dir " + data_dir + (config.ephemeral ? " (ephemeral)" : "") +
              ", auth " + config.auth + (virtual_clock ? ", virtual clock" : "") +
              (opts.tls->ca.empty() ? "" : ", CA " + opts.tls->ca));
  }

  ~Impl() override {
    // Sessions first (they hold deferred responses and scheduler timers), then the services, then
    // the scheduler (its queued pool work may still touch the store), then the store; the clock
    // outlives them all.
    server.reset();
    imds.reset();
    if (outbound) {
      outbound->shutdown();  // before the services whose callbacks it would run
    }
    dispatcher.reset();
    platform.reset();
    credentials.reset();
    scheduler.reset();
    if (store) {
      (void)store->flush();
      store.reset();
    }
    if (config.ephemeral && !data_dir.empty()) {
      std::error_code ec;
      fs::remove_all(data_dir, ec);
    }
  }

  Exchange begin(RequestHead head) override {
    const bool is_admin = head.path.rfind("/_fogbank/", 0) == 0;
    if (!host_policy.host_allowed(host_headers(head))) {
      return refused_host(head, is_admin);
    }
    if (is_admin) {
      return admin(std::move(head));
    }
    if (auto why = host_policy.api_cross_site_refusal(head.method, head.query, head.headers.get("origin"),
                                                      head.headers.get("sec-fetch-site"))) {
      log::warn("request " + head.method + " " + head.path + " refused: " + *why);
      Exchange ex;
      ex.info = std::make_shared<protocol::RequestInfo>();
      ex.info->operation = "refused-cross-site";
      ex.info->request_id = protocol::Dispatcher::new_request_id(protocol::WireProtocol::kQuery);
      ex.immediate = std::make_unique<Response>(
          dispatcher->error_for(head, protocol::AwsError("AccessDenied", 403, *why), ex.info->request_id));
      return ex;
    }
    return dispatcher->begin(std::move(head));
  }

  // 403 for a Host outside the allow-list, before routing does anything with the request: AWS's
  // error in the protocol of the service the request was meant for, JSON for the admin API.
  Exchange refused_host(const RequestHead& head, bool is_admin) {
    Exchange ex;
    ex.info = std::make_shared<protocol::RequestInfo>();
    ex.info->operation = "refused-host";
    std::string message = refused_host_message(head);
    if (is_admin) {
      ex.info->service = "admin";
      ex.info->request_id = protocol::Dispatcher::new_request_id(protocol::WireProtocol::kJson10);
      auto r = json_response(403, {{"error", message}});
      protocol::add_request_id_headers(r, protocol::WireProtocol::kJson10, ex.info->request_id);
      ex.immediate = std::make_unique<Response>(std::move(r));
      return ex;
    }
    ex.info->request_id = protocol::Dispatcher::new_request_id(protocol::WireProtocol::kQuery);
    ex.immediate = std::make_unique<Response>(
        dispatcher->error_for(head, protocol::AwsError("AccessDenied", 403, message), ex.info->request_id));
    return ex;
  }

  // Admin endpoints: unauthenticated by design (local tooling), never routed to a service.
  Exchange admin(RequestHead head) {
    Exchange ex;
    ex.info = std::make_shared<protocol::RequestInfo>();
    ex.info->service = "admin";
    ex.info->request_id = protocol::Dispatcher::new_request_id(protocol::WireProtocol::kJson10);
    ex.body_limit = 1 << 20;
    ex.info->operation = head.path.substr(10);
    auto info = ex.info;
    // Refusals are answered before the body is read: a refused request changes nothing.
    auto refuse = [&](Response r) {
      protocol::add_request_id_headers(r, protocol::WireProtocol::kJson10, info->request_id);
      ex.immediate = std::make_unique<Response>(std::move(r));
      return std::move(ex);
    };
    // A web page can send "simple" cross-origin requests (a form POST, fetch with text/plain)
    // without any CORS preflight, and so could reset or reconfigure fogbank: requests a browser
    // marks as coming from another site are refused, whatever the method.
    if (auto why = host_policy.cross_site_refusal(head.headers.get("origin"), head.headers.get("sec-fetch-site"),
                                                  head.headers.get("host"), port)) {
      log::warn("admin request " + head.method + " " + head.path + " refused: " + *why);
      return refuse(json_response(403, {{"error", *why}}));
    }
    if (auto service = service_of_admin_path(head.path)) {
      ex.sink = std::make_unique<SmallBodySink>([service, head = std::move(head), info](std::string body) {
        std::optional<Response> r;
        try {
          r = service->admin(head, body);
          if (!r) {
            r = json_response(404, {{"error", "unknown admin endpoint " + head.path}});
          }
        } catch (const std::exception& e) {
          log::error("admin request " + head.path + " failed: " + e.what());
          r = json_response(500, {{"error", std::string("internal error: ") + e.what()}});
        }
        protocol::add_request_id_headers(*r, protocol::WireProtocol::kJson10, info->request_id);
        return std::move(*r);
      });
      return ex;
    }
    const AdminEndpoint* endpoint = nullptr;
    for (const auto& e : kAdminEndpoints) {
      if (e.path == head.path && (!e.needs_imds || imds)) {
        endpoint = &e;
      }
    }
    if (endpoint == nullptr) {
      return refuse(json_response(404, {{"error", "unknown admin endpoint " + head.path},
                                        {"endpoints", {"/_fogbank/health", "/_fogbank/reset", "/_fogbank/request-log",
                                                       "/_fogbank/clock"}}}));
    }
    if (!method_listed(endpoint->allow, head.method)) {
      auto r = json_response(405, {{"error", head.method + " is not allowed on " + head.path + "; use " +
                                                 std::string(endpoint->allow)}});
      r.headers.set("Allow", std::string(endpoint->allow));
      return refuse(std::move(r));
    }
    ex.sink = std::make_unique<SmallBodySink>([this, head = std::move(head), info](std::string body) {
      Response r;
      try {
        r = admin_response(head, body);
      } catch (const std::exception& e) {
        log::error("admin request " + head.path + " failed: " + e.what());
        r = json_response(500, {{"error", std::string("internal error: ") + e.what()}});
      }
      protocol::add_request_id_headers(r, protocol::WireProtocol::kJson10, info->request_id);
      return r;
    });
    return ex;
  }

  /// The service whose own admin endpoints hold `path` (/_fogbank/sns/deliveries → SNS).
  std::shared_ptr<protocol::Service> service_of_admin_path(std::string_view path) const {
    path.remove_prefix(std::string_view("/_fogbank/").size());
    const auto slash = path.find('/');
    if (slash == std::string_view::npos || slash == 0) {
      return nullptr;
    }
    return dispatcher->find(path.substr(0, slash));
  }

  Response admin_response(const RequestHead& head, const std::string& body) {
    const std::string& p = head.path;
    if (p == "/_fogbank/health" || p == "/_fogbank/health/") {
      nlohmann::json services = nlohmann::json::object();
      for (auto name : kServiceNames) {
        auto s = dispatcher->find(name);
        services[std::string(name)] = s ? s->state() : std::string("unavailable");
        if (name == "imds") {
          services["imds"] = imds ? "running" : "off";
        }
      }
      auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      return json_response(200, {{"status", "ok"},
                                 {"version", FOGBANK_VERSION},
                                 {"uptime_seconds", static_cast<double>(uptime.count()) / 1000.0},
                                 {"services", services},
                                 {"auth", config.auth},
                                 {"clock", clock->is_virtual() ? "virtual" : "system"},
                                 {"region", config.region},
                                 {"ephemeral", config.ephemeral},
                                 {"data_dir", data_dir}});
    }
    if (p == "/_fogbank/reset") {
      auto st = store->wipe_all();
      if (!st.is_ok()) {
        return json_response(500, {{"error", st.message()}});
      }
      for (const auto& s : dispatcher->services()) {
        s->reset();
      }
      log::info("state reset through /_fogbank/reset");
      return json_response(200, {{"reset", true}});
    }
    if (p == "/_fogbank/clock" || p == "/_fogbank/clock/") {
      Response r = clock_endpoint(head.method, body, *clock, virtual_clock.get());
      if (head.method == "POST" && r.status == 200) {
        log::info("virtual clock moved to " + format_iso8601_ms(clock->now_ms()) + " through /_fogbank/clock");
      }
      return r;
    }
    if (p == "/_fogbank/request-log") {
      if (head.method == "POST" || head.method == "PUT") {
        auto j = nlohmann::json::parse(body.empty() ? "{}" : body, nullptr, false);
        if (!j.is_object() || (j.contains("enabled") && !j["enabled"].is_boolean())) {
          return json_response(400, {{"error", "want {\"enabled\": true|false} (or an empty body to toggle)"}});
        }
        bool enabled = !access_log.load();
        if (j.contains("enabled")) {
          enabled = j["enabled"].get<bool>();
        } else if (head.query.find("enabled=false") != std::string::npos) {
          enabled = false;
        } else if (head.query.find("enabled=true") != std::string::npos) {
          enabled = true;
        }
        access_log = enabled;
      }
      return json_response(200, {{"enabled", access_log.load()}});
    }
    if (p == "/_fogbank/imds/certificate" && imds) {
      return Response(200, imds->certificate(), "application/x-pem-file");
    }
    if (p == "/_fogbank/imds/events" && imds) {
      if (head.method == "DELETE") {
        imds->clear_events();
        return json_response(200, {{"cleared", true}});
      }
      auto j = nlohmann::json::parse(body.empty() ? "{}" : body, nullptr, false);
      const bool bad_value = j.is_object() && j.contains("value") && !j["value"].is_string();
      const bool bad_delay = j.is_object() && j.contains("delay_seconds") &&
                             (!j["delay_seconds"].is_number() || !(j["delay_seconds"].get<double>() >= 0) ||
                              j["delay_seconds"].get<double>() > kMaxEventDelaySeconds);
      if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string() || bad_value || bad_delay) {
        return json_response(400, {{"error", "want {\"kind\": \"spot-interruption|rebalance|maintenance|lifecycle\", \"value\": \"...\", \"delay_seconds\": n (0 to 10 years)}"}});
      }
      const auto delay = j.contains("delay_seconds") ? static_cast<std::int64_t>(j["delay_seconds"].get<double>()) : 0;
      const std::string value = j.contains("value") ? j["value"].get<std::string>() : std::string();
      if (!imds->trigger_event(j["kind"].get<std::string>(), value, delay)) {
        return json_response(400, {{"error", "unknown event kind " + j["kind"].get<std::string>()}});
      }
      return json_response(200, {{"scheduled", j["kind"]}, {"delay_seconds", delay}});
    }
    return json_response(404, {{"error", "unknown admin endpoint " + p},
                                {"endpoints", {"/_fogbank/health", "/_fogbank/reset", "/_fogbank/request-log",
                                               "/_fogbank/clock"}}});
  }
};

App::App(Config config, bool handle_signals)
    : impl_(std::make_unique<Impl>(std::move(config), handle_signals)) {}
App::~App() = default;
void App::run() {
  impl_->server->run();
  log::info("stopped; flushing storage");
  (void)impl_->store->flush();
}
void App::stop() { impl_->server->stop(); }
std::uint16_t App::port() const { return impl_->port; }

}  // namespace fogbank::server
