#include "fogbank/server/config.hpp"

#include <iostream>

#include <CLI/CLI.hpp>

#ifndef FOGBANK_VERSION
#define FOGBANK_VERSION "0.1.0"
#endif

namespace fogbank::server {

std::optional<int> parse_config(int argc, char** argv, Config& c) {
  CLI::App app{"fogbank " FOGBANK_VERSION
               " - a local AWS cloud (S3, SQS, SNS, Kinesis, STS, IMDS) in one binary.\n"
               "Every flag can also be set by its FOGBANK_* environment variable or in the\n"
               "--config file (TOML/INI: `port = 4566`)."};
  app.set_config("--config", "", "Config file (TOML or INI) with any of the options below")
      ->envname("FOGBANK_CONFIG");
  app.set_version_flag("--version", FOGBANK_VERSION);
  std::uint32_t idle = static_cast<std::uint32_t>(c.idle_timeout.count());
  std::uint32_t read = static_cast<std::uint32_t>(c.read_timeout.count());
  std::uint32_t rate_window = static_cast<std::uint32_t>(c.min_body_rate_window.count());

  app.add_option("--host", c.host, "Address the API listens on")->envname("FOGBANK_HOST")->capture_default_str();
  app.add_option("--port", c.port, "API port: every service, HTTP and HTTPS on the same port (0 = any free port)")
      ->envname("FOGBANK_PORT")->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "Directory of the RocksDB database and the generated TLS files")
      ->envname("FOGBANK_DATA_DIR")->capture_default_str();
  app.add_flag("--ephemeral", c.ephemeral, "Keep all state in a temporary directory removed at exit")
      ->envname("FOGBANK_EPHEMERAL");
  app.add_flag("--sync", c.sync, "fsync every write (survives power loss, slower)")->envname("FOGBANK_SYNC");
  app.add_option("--region", c.region, "Default region for requests that name none")
      ->envname("FOGBANK_REGION")->capture_default_str();
  app.add_option("--auth", c.auth, "enforce: verify SigV4 on every request; off: accept anything")
      ->envname("FOGBANK_AUTH")->check(CLI::IsMember({"enforce", "off"}))->capture_default_str();
  app.add_option("--credentials", c.credentials,
                 "Long-term keys: 'key:secret:account[:user]' entries separated by ',' (or a file "
                 "with one per line)")
      ->envname("FOGBANK_CREDENTIALS")->capture_default_str();
  app.add_option("--log-level", c.log_level, "error, warn, info or debug (debug shows canonical requests on signature mismatches)")
      ->envname("FOGBANK_LOG_LEVEL")->check(CLI::IsMember({"error", "warn", "info", "debug"}))->capture_default_str();
  app.add_option("--clock", c.clock,
                 "system: real time; virtual: time stands still until set or advanced through "
                 "POST /_fogbank/clock (expiry, delays and long-poll deadlines follow it)")
      ->envname("FOGBANK_CLOCK")->check(CLI::IsMember({"system", "virtual"}))->capture_default_str();
  app.add_option("--access-log", c.access_log, "One log line per request (toggle at runtime: POST /_fogbank/request-log)")
      ->envname("FOGBANK_ACCESS_LOG")->capture_default_str();
  app.add_option("--imds-address", c.imds_address, "Instance metadata service listener host:port, or 'off'")
      ->envname("FOGBANK_IMDS_ADDRESS")->capture_default_str();
  app.add_flag("--imds-v2-required", c.imds_v2_required, "IMDS answers only requests with a session token (HttpTokens=required)")
      ->envname("FOGBANK_IMDS_V2_REQUIRED");
  app.add_option("--imds-user-data", c.imds_user_data, "Instance user-data, inline or @file (default: none, 404)")
      ->envname("FOGBANK_IMDS_USER_DATA");
  app.add_option("--imds-config", c.imds_config,
                 "JSON file of instance values: instance_id, ami_id, instance_type, role_name, "
                 "local_ipv4, public_ipv4, mac, vpc_id, subnet_id, account_id, region, tags{}, "
                 "metadata{path: value}")
      ->envname("FOGBANK_IMDS_CONFIG");
  app.add_option("--tls-cert", c.tls_cert, "PEM certificate chain for HTTPS (default: generated into the data dir)")
      ->envname("FOGBANK_TLS_CERT");
  app.add_option("--tls-key", c.tls_key, "PEM private key for --tls-cert")->envname("FOGBANK_TLS_KEY");
  app.add_option("--io-threads", c.io_threads, "Network threads (0 = one per core)")
      ->envname("FOGBANK_IO_THREADS")->capture_default_str();
  app.add_option("--max-body-bytes", c.max_body_bytes, "Largest buffered (non-streaming) request body")
      ->envname("FOGBANK_MAX_BODY_BYTES")->capture_default_str();
  app.add_option("--idle-timeout", idle, "Seconds a connection may idle or take to send its request headers")
      ->envname("FOGBANK_IDLE_TIMEOUT")->capture_default_str();
  app.add_option("--read-timeout", read, "Seconds a body read or response write may stall")
      ->envname("FOGBANK_READ_TIMEOUT")->capture_default_str();
  app.add_option("--allowed-hosts", c.allowed_hosts,
                 "Host header names to serve besides localhost, *.localhost, IP addresses, --host and "
                 "*.amazonaws.com (comma list; each admits its subdomains; '*' admits any: turns off "
                 "the DNS-rebinding protection)")
      ->envname("FOGBANK_ALLOWED_HOSTS")->delimiter(',');
  app.add_option("--outbound-tls-verify", c.outbound_tls_verify,
                 "Check the certificates of HTTPS endpoints fogbank delivers to (SNS https "
                 "subscriptions) against the system's CAs and fogbank's own CA (false: accept any)")
      ->envname("FOGBANK_OUTBOUND_TLS_VERIFY")->capture_default_str();
  app.add_option("--allowed-origins", c.allowed_origins,
                 "Web pages besides local ones (localhost, *.localhost, loopback addresses, --host, "
                 "--allowed-hosts) that may send requests that change state: origins such as "
                 "http://app.test:8080 or host names (comma list; '*' admits any page; 'null' admits "
                 "sandboxed and file: pages)")
      ->envname("FOGBANK_ALLOWED_ORIGINS")->delimiter(',');
  app.add_option("--max-connections", c.max_connections,
                 "Open connections at once; more are accepted and closed at once (0 = unlimited)")
      ->envname("FOGBANK_MAX_CONNECTIONS")->capture_default_str();
  app.add_option("--min-body-rate", c.min_body_rate,
                 "Bytes per second a request body must average over --min-body-rate-window; a slower "
                 "one is cut off with RequestTimeout (0 = off)")
      ->envname("FOGBANK_MIN_BODY_RATE")->capture_default_str();
  app.add_option("--min-body-rate-window", rate_window, "Seconds over which --min-body-rate is averaged")
      ->envname("FOGBANK_MIN_BODY_RATE_WINDOW")->check(CLI::Range(1u, 86400u))->capture_default_str();
  app.add_option("--kinesis-shard-limit", c.kinesis_shard_limit,
                 "Open Kinesis shards per account and region (LimitExceededException beyond it)")
      ->envname("FOGBANK_KINESIS_SHARD_LIMIT")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--kinesis-lifecycle-delay", c.kinesis_lifecycle_delay_ms,
                 "Milliseconds a Kinesis stream stays CREATING, UPDATING or DELETING, and a consumer "
                 "CREATING, on fogbank's clock (0 = at once)")
      ->envname("FOGBANK_KINESIS_LIFECYCLE_DELAY")->check(CLI::Range(0, 3600000))->capture_default_str();
  app.add_option("--kinesis-limits", c.kinesis_limits,
                 "Enforce Kinesis' per-shard throughput limits (1 MiB/s and 1000 records/s in; 2 MiB/s "
                 "and 5 GetRecords calls/s out) with ProvisionedThroughputExceededException")
      ->envname("FOGBANK_KINESIS_LIMITS")->capture_default_str();
  app.add_option("--encrypt-at-rest", c.encrypt_at_rest,
                 "Which S3 object data is encrypted at rest (AES-256): 'requested' (SSE headers, SSE-C, or "
                 "a bucket's encryption configuration) or 'all'")
      ->envname("FOGBANK_ENCRYPT_AT_REST")->check(CLI::IsMember({"requested", "all"}))->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  c.idle_timeout = std::chrono::seconds(idle);
  c.read_timeout = std::chrono::seconds(read);
  c.min_body_rate_window = std::chrono::seconds(rate_window);
  if (auto cfg = app.get_config_ptr(); cfg && !cfg->empty()) {
    c.config_file = cfg->as<std::string>();
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    std::cerr << "fogbank: --tls-cert and --tls-key go together\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace fogbank::server
