// fogbank-load: a closed-loop HTTP load generator for fogbank's benchmarks (bench/*.py drive it).
//
//   fogbank-load --workload s3-put --port 4566 [--connections 8] [--duration 10] ...
//
// Prints one JSON object with the workload's rates, latency percentiles (microseconds) and
// errors. `fogbank-load --help` lists the workloads and options.

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <iostream>
#include <string>
#include <string_view>

#include "workload.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: fogbank-load --workload NAME [options]

workloads:
  s3-put                 PUT --object-size objects (default 4096 B), new key each time
  s3-get                 PUT --objects objects once, then GET them at random
  s3-put-large           PUT one --object-size object (e.g. 1 GiB), streamed, UNSIGNED-PAYLOAD
  s3-get-large           GET that object, body counted and discarded
  sqs-send               SendMessage
  sqs-send-batch         SendMessageBatch, 10 entries
  sqs-recv-delete        ReceiveMessage (1) + DeleteMessage
  sqs-recv-delete-batch  ReceiveMessage (10) + DeleteMessageBatch
  sqs-longpoll-latency   receiver waits (WaitTimeSeconds=20), sender sends: wake-up latency
  kinesis-put-records    PutRecords, 500 records of --message-size bytes into --stream
  kinesis-get-records    put --prefill records (untimed), then drain every shard with GetRecords

options (defaults in brackets):
  --host H [127.0.0.1]  --port P [4566]  --access-key K [test]  --secret-key S [test]
  --region R [us-east-1]  --connections N [8]  --duration SECONDS [10]  --warmup SECONDS [1]
  --bucket B [bench]  --prefix P [load]  --object-size BYTES [4096]  --objects N [256]
  --repeat N [1]  --queue-url URL  --message-size BYTES [256]  --prefill N [0]
  --iterations N [30]  --stream NAME [bench-stream]
)";

template <class T>
T number(std::string_view name, std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument("--" + std::string(name) + ": not a number: " + std::string(text));
  }
  return value;
}

using Config = fogbank::bench::Config;
using Setter = std::function<void(Config&, std::string_view name, const std::string& value)>;

const std::map<std::string, Setter, std::less<>> setters = {
    {"workload", [](Config& c, auto, const auto& v) { c.workload = v; }},
    {"host", [](Config& c, auto, const auto& v) { c.host = v; }},
    {"stream", [](Config& c, auto, const auto& v) { c.stream = v; }},
    {"port", [](Config& c, auto n, const auto& v) { c.port = number<std::uint16_t>(n, v); }},
    {"access-key", [](Config& c, auto, const auto& v) { c.access_key = v; }},
    {"secret-key", [](Config& c, auto, const auto& v) { c.secret_key = v; }},
    {"region", [](Config& c, auto, const auto& v) { c.region = v; }},
    {"connections", [](Config& c, auto n, const auto& v) { c.connections = number<int>(n, v); }},
    {"duration", [](Config& c, auto, const auto& v) { c.duration_s = std::stod(v); }},
    {"warmup", [](Config& c, auto, const auto& v) { c.warmup_s = std::stod(v); }},
    {"bucket", [](Config& c, auto, const auto& v) { c.bucket = v; }},
    {"prefix", [](Config& c, auto, const auto& v) { c.prefix = v; }},
    {"object-size", [](Config& c, auto n, const auto& v) { c.object_size = number<std::uint64_t>(n, v); }},
    {"objects", [](Config& c, auto n, const auto& v) { c.objects = number<int>(n, v); }},
    {"repeat", [](Config& c, auto n, const auto& v) { c.repeat = number<int>(n, v); }},
    {"queue-url", [](Config& c, auto, const auto& v) { c.queue_url = v; }},
    {"message-size", [](Config& c, auto n, const auto& v) { c.message_size = number<std::size_t>(n, v); }},
    {"prefill", [](Config& c, auto n, const auto& v) { c.prefill = number<std::uint64_t>(n, v); }},
    {"iterations", [](Config& c, auto n, const auto& v) { c.iterations = number<int>(n, v); }},
};

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (!arg.starts_with("--") || i + 1 >= argc) {
      throw std::invalid_argument("unexpected argument: " + std::string(arg));
    }
    const std::string name(arg.substr(2));
    const auto setter = setters.find(name);
    if (setter == setters.end()) {
      throw std::invalid_argument("unknown option: " + std::string(arg));
    }
    setter->second(c, name, argv[++i]);
  }
  if (c.workload.empty()) {
    throw std::invalid_argument("--workload is required");
  }
  if (c.connections < 1 || c.objects < 1 || c.repeat < 1 || c.iterations < 1) {
    throw std::invalid_argument("--connections, --objects, --repeat and --iterations must be >= 1");
  }
  if (c.workload.starts_with("sqs-") && c.queue_url.empty()) {
    throw std::invalid_argument("SQS workloads need --queue-url");
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const fogbank::bench::Config config = parse(argc, argv);
    std::cout << fogbank::bench::run_workload(config).dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "fogbank-load: " << e.what() << "\n";
    return 2;
  }
}
