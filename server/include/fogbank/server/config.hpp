#pragma once
// fogbank's configuration: flags, FOGBANK_* environment variables and an optional config file
// (flags win over the environment, which wins over the file).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fogbank::server {

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4566;              ///< 0 = any free port (printed at start)
  std::string data_dir = "fogbank-data";  ///< relative to the working directory
  bool ephemeral = false;                 ///< temp data dir, removed at exit
  bool sync = false;                      ///< fsync every write
  std::string region = "us-east-1";
  std::string auth = "enforce";           ///< enforce | off
  std::string credentials = "test:test:000000000000";  ///< list, or a file path
  std::string log_level = "info";         ///< error | warn | info | debug
  std::string clock = "system";           ///< system | virtual (moved through /_fogbank/clock)
  bool access_log = true;
  std::string imds_address = "127.0.0.1:1338";  ///< host:port or "off"
  bool imds_v2_required = false;
  std::string imds_user_data;             ///< inline, or @path to read it from a file
  std::string imds_config;                ///< JSON file with instance values (README)
  std::string tls_cert;
  std::string tls_key;
  std::string config_file;
  unsigned io_threads = 0;                ///< 0 = number of cores
  std::uint64_t max_body_bytes = 10ull << 20;  ///< buffered (non-streaming) request bodies
  std::uint32_t header_limit_bytes = 64 * 1024;
  std::chrono::seconds idle_timeout{60};  ///< keep-alive idle and header read limit
  std::chrono::seconds read_timeout{60};  ///< between body reads / writes
  /// Host header names served besides the local ones (each with its subdomains); "*": any.
  std::vector<std::string> allowed_hosts;
  /// Check the certificates of HTTPS endpoints fogbank sends to (SNS subscriptions) against the
  /// system's CAs and fogbank's own.
  bool outbound_tls_verify = true;
  /// Pages (origins or host names) besides local ones that may send state-changing requests;
  /// "*" admits any.
  std::vector<std::string> allowed_origins;
  std::uint32_t max_connections = 10000;  ///< open connections at once; 0 = unlimited
  std::uint64_t min_body_rate = 1024;     ///< bytes/s a request body must average; 0 = off
  std::chrono::seconds min_body_rate_window{60};  ///< over windows this long
  // Kinesis
  int kinesis_shard_limit = 200;                ///< open shards per account and region
  std::int64_t kinesis_lifecycle_delay_ms = 500;  ///< CREATING/UPDATING/DELETING, consumers' CREATING
  bool kinesis_limits = false;                  ///< enforce AWS's per-shard throughput limits
  std::string encrypt_at_rest = "requested";    ///< S3 data encrypted at rest: "requested" or "all"
};

/// Parses argv (with env and config file). Returns the exit code to use when the program should
/// stop right away (--help, --version, bad flags), nullopt to go on.
std::optional<int> parse_config(int argc, char** argv, Config& config);

}  // namespace fogbank::server
