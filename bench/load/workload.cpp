#include "workload.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <semaphore>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/sigv4.hpp"
#include "event_client.hpp"
#include "histogram.hpp"
#include "http_connection.hpp"

namespace fogbank::bench {
namespace {

namespace sigv4 = protocol::sigv4;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr std::size_t kStreamPiece = 1024 * 1024;
// A thread that sees only failures stops after this many, instead of spinning on a server that
// answers every request with an error (e.g. 501 for an operation not implemented yet).
constexpr std::uint64_t kMaxErrorsWithoutSuccess = 50;

std::uint64_t nanos_between(Clock::time_point a, Clock::time_point b) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Builds and signs requests for one endpoint.
class RequestFactory {
 public:
  RequestFactory(const Config& config, std::string authority) : config_(config), authority_(std::move(authority)) {}

  [[nodiscard]] protocol::RequestHead s3(std::string method, std::string target, std::uint64_t content_length,
                                         std::string_view payload_hash) const {
    protocol::RequestHead head = base(std::move(method), std::move(target));
    if (content_length > 0 || head.method == "PUT") {
      head.headers.add("Content-Length", std::to_string(content_length));
    }
    sigv4::SigningParams params = params_for("s3", sigv4::PathStyle::kS3);
    params.add_content_sha256 = true;  // S3 requires x-amz-content-sha256 on every request
    sigv4::sign(head, payload_hash, params);
    return head;
  }

  /// An SQS JSON-protocol call (what botocore sends since SQS moved to JSON).
  [[nodiscard]] protocol::RequestHead sqs(std::string_view operation, std::string_view body) const {
    return json_call("sqs", "application/x-amz-json-1.0", "AmazonSQS.", operation, body,
                     protocol::hex(protocol::sha256(body)));
  }

  /// A Kinesis call in AWS JSON 1.1 (boto3's and the CLI's protocol for it).
  [[nodiscard]] protocol::RequestHead kinesis(std::string_view operation, std::string_view body) const {
    return kinesis(operation, body, protocol::hex(protocol::sha256(body)));
  }

  /// The same with the body's SHA-256 computed once by the caller: a workload that resends one
  /// large body would otherwise spend the client's share of the CPU hashing it again and again.
  [[nodiscard]] protocol::RequestHead kinesis(std::string_view operation, std::string_view body,
                                              std::string_view body_hash) const {
    return json_call("kinesis", "application/x-amz-json-1.1", "Kinesis_20131202.", operation, body, body_hash);
  }

 private:
  [[nodiscard]] protocol::RequestHead json_call(std::string service, std::string_view content_type,
                                                std::string_view target_prefix, std::string_view operation,
                                                std::string_view body, std::string_view body_hash) const {
    protocol::RequestHead head = base("POST", "/");
    head.headers.add("Content-Type", std::string(content_type));
    head.headers.add("X-Amz-Target", std::string(target_prefix) + std::string(operation));
    head.headers.add("Content-Length", std::to_string(body.size()));
    sigv4::sign(head, body_hash, params_for(std::move(service), sigv4::PathStyle::kDoubleEncode));
    return head;
  }

  [[nodiscard]] protocol::RequestHead base(std::string method, std::string target) const {
    protocol::RequestHead head;
    head.method = std::move(method);
    head.target = std::move(target);
    head.split_target();
    head.headers.add("Host", authority_);
    return head;
  }

  [[nodiscard]] sigv4::SigningParams params_for(std::string service, sigv4::PathStyle style) const {
    sigv4::SigningParams params;
    params.access_key = config_.access_key;
    params.secret_key = config_.secret_key;
    params.region = config_.region;
    params.service = std::move(service);
    params.now = static_cast<std::int64_t>(std::time(nullptr));
    params.style = style;
    return params;
  }

  const Config& config_;
  std::string authority_;
};

[[noreturn]] void http_failure(const Reply& reply) {
  throw std::runtime_error("HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 300));
}

Reply expect_ok(Reply reply) {
  if (reply.status < 200 || reply.status > 299) {
    http_failure(reply);
  }
  return reply;
}

/// What one thread measured; merged into the workload's result.
struct Tally {
  Histogram latency;
  std::uint64_t ops = 0;
  std::uint64_t items = 0;  // messages for SQS (10 per batch call), objects for S3
  std::uint64_t bytes = 0;
  std::uint64_t errors = 0;
  std::uint64_t connects = 0;
  bool drained = false;
  std::string first_error;
  Clock::time_point finished{};

  void merge(const Tally& other) {
    latency.merge(other.latency);
    ops += other.ops;
    items += other.items;
    bytes += other.bytes;
    errors += other.errors;
    connects += other.connects;
    drained = drained || other.drained;
    if (first_error.empty()) {
      first_error = other.first_error;
    }
    finished = std::max(finished, other.finished);
  }
};

/// One operation's outcome: how many items (messages, objects) and bytes it moved. `stop` ends
/// this connection's loop (the queue ran dry).
struct OpResult {
  std::uint64_t items = 1;
  std::uint64_t bytes = 0;
  bool stop = false;
};

using Operation = std::function<OpResult(HttpConnection&, int connection, std::uint64_t iteration)>;

Json latency_json(const Histogram& h) {
  const auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  return Json{{"count", h.count()},
              {"mean", us(static_cast<std::uint64_t>(h.mean()))},
              {"p50", us(h.quantile(0.50))},
              {"p90", us(h.quantile(0.90))},
              {"p99", us(h.quantile(0.99))},
              {"p999", us(h.quantile(0.999))},
              {"max", us(h.max())}};
}

Json result_json(const Config& config, const Tally& total, double elapsed_s) {
  const double elapsed = elapsed_s > 0 ? elapsed_s : 1e-9;
  Json out{{"workload", config.workload},
           {"connections", config.connections},
           {"elapsed_s", elapsed_s},
           {"ops", total.ops},
           {"ops_per_s", static_cast<double>(total.ops) / elapsed},
           {"items", total.items},
           {"items_per_s", static_cast<double>(total.items) / elapsed},
           {"bytes", total.bytes},
           {"mb_per_s", static_cast<double>(total.bytes) / elapsed / 1e6},
           {"errors", total.errors},
           {"connects", total.connects},
           {"drained", total.drained},
           {"latency_us", latency_json(total.latency)}};
  if (!total.first_error.empty()) {
    out["first_error"] = total.first_error;
  }
  return out;
}

/// Runs `op` on `config.connections` keep-alive connections, one thread each, for warmup +
/// duration; only operations that start after the warm-up are recorded.
Json run_timed(const Config& config, const Operation& op) {
  const Clock::time_point start = Clock::now();
  const auto warmup = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.warmup_s));
  const auto duration = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.duration_s));
  const Clock::time_point measure_from = start + warmup;
  const Clock::time_point end = measure_from + duration;

  std::vector<Tally> tallies(static_cast<std::size_t>(config.connections));
  std::vector<std::thread> threads;
  for (int c = 0; c < config.connections; ++c) {
    threads.emplace_back([&, c] {
      Tally& tally = tallies[static_cast<std::size_t>(c)];
      HttpConnection conn(config.host, config.port);
      std::uint64_t successes = 0;
      for (std::uint64_t i = 0;; ++i) {
        const Clock::time_point t0 = Clock::now();
        if (t0 >= end) {
          break;
        }
        try {
          const OpResult r = op(conn, c, i);
          const Clock::time_point t1 = Clock::now();
          ++successes;
          if (t0 >= measure_from) {
            tally.latency.record(nanos_between(t0, t1));
            ++tally.ops;
            tally.items += r.items;
            tally.bytes += r.bytes;
          }
          if (r.stop) {
            tally.drained = true;
            break;
          }
        } catch (const std::exception& e) {
          ++tally.errors;
          if (tally.first_error.empty()) {
            tally.first_error = e.what();
          }
          if (successes == 0 && tally.errors >= kMaxErrorsWithoutSuccess) {
            break;
          }
        }
      }
      tally.connects = conn.connects();
      tally.finished = Clock::now();
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  Tally total;
  for (const auto& t : tallies) {
    total.merge(t);
  }
  // Rates are over the recorded window: from the end of the warm-up to the last completion
  // (threads finish their in-flight request after `end`; a drained queue may end it earlier).
  return result_json(config, total, seconds_between(measure_from, std::max(total.finished, measure_from)));
}

/// What an event-loop operation does: the request bytes for (connection, iteration), and the check
/// of its reply (throws on a wrong one).
using RequestBytes = std::function<std::string(int connection, std::uint64_t iteration)>;
using CheckReply = std::function<OpResult(const Reply& reply)>;

/// run_timed for single-request operations, with every connection on one event-loop thread
/// (event_client.hpp says why): same warm-up, window and report.
Json run_timed_evented(const Config& config, const RequestBytes& request, const CheckReply& check) {
  const Clock::time_point start = Clock::now();
  const auto warmup = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.warmup_s));
  const auto duration = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.duration_s));
  const Clock::time_point measure_from = start + warmup;
  const Clock::time_point end = measure_from + duration;

  Tally total;
  std::vector<std::uint64_t> successes(static_cast<std::size_t>(config.connections));
  std::vector<std::uint64_t> failures(static_cast<std::size_t>(config.connections));
  EventClient client(config.host, config.port, config.connections);
  const auto record_error = [&](int c, const std::string& what) {
    ++total.errors;
    if (total.first_error.empty()) {
      total.first_error = what;
    }
    const auto i = static_cast<std::size_t>(c);
    return !(successes[i] == 0 && ++failures[i] >= kMaxErrorsWithoutSuccess);
  };
  client.run(
      [&](int c, std::uint64_t i) -> std::optional<std::string> {
        if (Clock::now() >= end) {
          return std::nullopt;
        }
        return request(c, i);
      },
      [&](int c, std::uint64_t, Reply reply, Clock::time_point sent) {
        const Clock::time_point now = Clock::now();
        try {
          const OpResult r = check(reply);
          ++successes[static_cast<std::size_t>(c)];
          if (sent >= measure_from) {
            total.latency.record(nanos_between(sent, now));
            ++total.ops;
            total.items += r.items;
            total.bytes += r.bytes;
          }
        } catch (const std::exception& e) {
          record_error(c, e.what());
        }
        total.finished = now;
      },
      record_error);
  total.connects = client.connects();
  return result_json(config, total, seconds_between(measure_from, std::max(total.finished, measure_from)));
}

/// Runs `task(connection_index, conn)` once on each of `connections` threads (untimed setup).
void run_setup(const Config& config, int connections, const std::function<void(int, HttpConnection&)>& task) {
  std::vector<std::thread> threads;
  std::mutex error_mutex;
  std::string error;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      try {
        HttpConnection conn(config.host, config.port);
        task(c, conn);
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        error = e.what();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  if (!error.empty()) {
    throw std::runtime_error("setup failed: " + error);
  }
}

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  }
  return s;
}

std::string object_target(const Config& config, std::string_view key) {
  return "/" + config.bucket + "/" + config.prefix + "/" + std::string(key);
}

// ---- S3 ---------------------------------------------------------------------------------------

Json s3_put(const Config& config) {
  const std::string body = pattern(static_cast<std::size_t>(config.object_size));
  const std::string body_hash = protocol::hex(protocol::sha256(body));
  RequestFactory factory(config, config.host + ":" + std::to_string(config.port));
  return run_timed_evented(
      config,
      [&](int c, std::uint64_t i) {
        const auto head = factory.s3("PUT", object_target(config, "c" + std::to_string(c) + "/" + std::to_string(i)),
                                     body.size(), body_hash);
        return request_bytes(head, body);
      },
      [&](const Reply& reply) {
        expect_ok(reply);
        return OpResult{1, body.size()};
      });
}

Json s3_get(const Config& config) {
  const std::string body = pattern(static_cast<std::size_t>(config.object_size));
  const std::string body_hash = protocol::hex(protocol::sha256(body));
  const auto key_of = [](int n) { return "obj/" + std::to_string(n); };
  // Setup: write the objects the timed phase reads, spread over the connections.
  run_setup(config, config.connections, [&](int c, HttpConnection& conn) {
    RequestFactory factory(config, conn.authority());
    for (int n = c; n < config.objects; n += config.connections) {
      expect_ok(conn.round_trip(factory.s3("PUT", object_target(config, key_of(n)), body.size(), body_hash), body));
    }
  });
  std::vector<std::mt19937> rngs;
  for (int c = 0; c < config.connections; ++c) {
    rngs.emplace_back(static_cast<unsigned>(c + 1));
  }
  RequestFactory factory(config, config.host + ":" + std::to_string(config.port));
  return run_timed_evented(
      config,
      [&](int c, std::uint64_t) {
        const int n = static_cast<int>(rngs[static_cast<std::size_t>(c)]() % static_cast<unsigned>(config.objects));
        return request_bytes(factory.s3("GET", object_target(config, key_of(n)), 0, sigv4::kEmptySha256), {});
      },
      [&](const Reply& reply) {
        expect_ok(reply);
        if (reply.body != body) {
          throw std::runtime_error("GET returned a different body (" + std::to_string(reply.body.size()) + " bytes)");
        }
        return OpResult{1, reply.body_bytes};
      });
}

/// One large object, streamed: bounded client memory (one 1 MiB piece) whatever its size.
Json s3_large(const Config& config, bool put) {
  const std::string piece = pattern(kStreamPiece);
  HttpConnection conn(config.host, config.port);
  RequestFactory factory(config, conn.authority());
  Tally tally;
  const std::string target = object_target(config, "large");
  const Clock::time_point start = Clock::now();
  for (int r = 0; r < config.repeat; ++r) {
    const Clock::time_point t0 = Clock::now();
    try {
      if (put) {
        // UNSIGNED-PAYLOAD: the SDKs' choice over TLS, and what keeps the client from hashing 1 GiB.
        conn.send_head(factory.s3("PUT", target, config.object_size, sigv4::kUnsignedPayload));
        for (std::uint64_t sent = 0; sent < config.object_size;) {
          const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), config.object_size - sent));
          conn.send_body(std::string_view(piece).substr(0, n));
          sent += n;
        }
        expect_ok(conn.read_reply());
        tally.bytes += config.object_size;
      } else {
        const Reply reply = expect_ok(conn.round_trip(factory.s3("GET", target, 0, sigv4::kEmptySha256), {}, false));
        if (reply.body_bytes != config.object_size) {
          throw std::runtime_error("GET returned " + std::to_string(reply.body_bytes) + " bytes");
        }
        tally.bytes += reply.body_bytes;
      }
      ++tally.ops;
      ++tally.items;
      tally.latency.record(nanos_between(t0, Clock::now()));
    } catch (const std::exception& e) {
      ++tally.errors;
      tally.first_error = e.what();
      break;
    }
  }
  tally.connects = conn.connects();
  Config single = config;
  single.connections = 1;
  return result_json(single, tally, seconds_between(start, Clock::now()));
}

// ---- SQS --------------------------------------------------------------------------------------

std::string send_message_body(const Config& config, const std::string& text) {
  return Json{{"QueueUrl", config.queue_url}, {"MessageBody", text}}.dump();
}

/// Batch entry ids "<letter><k>"; built by appending because GCC 12 at -O3 reports a false
/// -Wrestrict on `"m" + std::to_string(k)`.
std::string entry_id(char letter, std::size_t k) {
  std::string id(1, letter);
  id += std::to_string(k);
  return id;
}

std::string send_batch_body(const Config& config, const std::string& text) {
  Json entries = Json::array();
  for (int k = 0; k < 10; ++k) {
    entries.push_back({{"Id", entry_id('m', static_cast<std::size_t>(k))}, {"MessageBody", text}});
  }
  return Json{{"QueueUrl", config.queue_url}, {"Entries", entries}}.dump();
}

void expect_no_failed_entries(const Reply& reply) {
  const Json j = Json::parse(reply.body, nullptr, false);
  if (j.is_discarded()) {
    throw std::runtime_error("unparsable batch response: " + reply.body.substr(0, 200));
  }
  if (j.contains("Failed") && !j["Failed"].empty()) {
    throw std::runtime_error("batch entries failed: " + j["Failed"].dump().substr(0, 300));
  }
}

Json sqs_send(const Config& config, bool batch) {
  const std::string text = pattern(config.message_size);
  const std::string body = batch ? send_batch_body(config, text) : send_message_body(config, text);
  const std::string_view operation = batch ? "SendMessageBatch" : "SendMessage";
  return run_timed(config, [&](HttpConnection& conn, int, std::uint64_t) {
    RequestFactory factory(config, conn.authority());
    const Reply reply = expect_ok(conn.round_trip(factory.sqs(operation, body), body));
    if (batch) {
      expect_no_failed_entries(reply);
    }
    return OpResult{batch ? 10u : 1u, body.size()};
  });
}

/// Fills the queue (untimed) so a receive workload has something to drain.
void sqs_prefill(const Config& config) {
  if (config.prefill == 0) {
    return;
  }
  const std::string body = send_batch_body(config, pattern(config.message_size));
  std::atomic<std::int64_t> batches_left{static_cast<std::int64_t>((config.prefill + 9) / 10)};
  run_setup(config, config.connections, [&](int, HttpConnection& conn) {
    RequestFactory factory(config, conn.authority());
    while (batches_left.fetch_sub(1) > 0) {
      expect_ok(conn.round_trip(factory.sqs("SendMessageBatch", body), body));
    }
  });
}

Json receive(const RequestFactory& factory, HttpConnection& conn, const Config& config, int max_messages,
             int wait_seconds) {
  const std::string body = Json{{"QueueUrl", config.queue_url},
                                {"MaxNumberOfMessages", max_messages},
                                {"WaitTimeSeconds", wait_seconds}}.dump();
  const Reply reply = expect_ok(conn.round_trip(factory.sqs("ReceiveMessage", body), body));
  Json j = Json::parse(reply.body, nullptr, false);
  if (j.is_discarded()) {
    throw std::runtime_error("unparsable ReceiveMessage response: " + reply.body.substr(0, 200));
  }
  return j.contains("Messages") ? j["Messages"] : Json::array();
}

void delete_one(const RequestFactory& factory, HttpConnection& conn, const Config& config, const Json& message) {
  const std::string body =
      Json{{"QueueUrl", config.queue_url}, {"ReceiptHandle", message.at("ReceiptHandle")}}.dump();
  expect_ok(conn.round_trip(factory.sqs("DeleteMessage", body), body));
}

Json sqs_recv_delete(const Config& config, bool batch) {
  sqs_prefill(config);
  // A connection decides the queue is drained after a second of nothing but empty receives (one
  // empty answer proves nothing: short polls may sample, as SQS's do).
  constexpr auto kEmptyFor = std::chrono::seconds(1);
  std::vector<std::optional<Clock::time_point>> empty_since(static_cast<std::size_t>(config.connections));
  return run_timed(config, [&](HttpConnection& conn, int c, std::uint64_t) {
    RequestFactory factory(config, conn.authority());
    const Json messages = receive(factory, conn, config, batch ? 10 : 1, 0);
    auto& since = empty_since[static_cast<std::size_t>(c)];
    if (messages.empty()) {
      const Clock::time_point now = Clock::now();
      since = since.value_or(now);
      return OpResult{0, 0, now - *since >= kEmptyFor};
    }
    since.reset();
    std::uint64_t bytes = 0;
    for (const Json& m : messages) {
      bytes += m.value("Body", std::string()).size();
    }
    if (batch) {
      Json entries = Json::array();
      for (std::size_t k = 0; k < messages.size(); ++k) {
        entries.push_back({{"Id", entry_id('d', k)}, {"ReceiptHandle", messages[k].at("ReceiptHandle")}});
      }
      const std::string body = Json{{"QueueUrl", config.queue_url}, {"Entries", entries}}.dump();
      expect_no_failed_entries(expect_ok(conn.round_trip(factory.sqs("DeleteMessageBatch", body), body)));
    } else {
      delete_one(factory, conn, config, messages[0]);
    }
    return OpResult{messages.size(), bytes};
  });
}

/// Long-poll wake-up: a receiver parks in ReceiveMessage(WaitTimeSeconds=20) on an empty queue,
/// then a sender on another connection sends one message; the latency is from just before the
/// send is written to the moment the receiver has the whole ReceiveMessage response.
Json sqs_longpoll_latency(const Config& config) {
  // Time the receiver's request is given to park server-side before the send. Anything that is
  // still in flight by then would only shorten the measured latency, so be generous.
  constexpr auto kParkTime = std::chrono::milliseconds(100);
  HttpConnection receiver_conn(config.host, config.port);
  HttpConnection sender_conn(config.host, config.port);
  const std::string body = send_message_body(config, pattern(config.message_size));
  Tally tally;
  std::binary_semaphore receive_sent{0};
  std::binary_semaphore receive_done{0};
  Clock::time_point received_at{};
  std::string receiver_error;
  Json received;

  const Clock::time_point start = Clock::now();
  std::thread receiver([&] {
    RequestFactory factory(config, receiver_conn.authority());
    for (int i = 0; i < config.iterations; ++i) {
      try {
        const std::string rbody =
            Json{{"QueueUrl", config.queue_url}, {"MaxNumberOfMessages", 1}, {"WaitTimeSeconds", 20}}.dump();
        receiver_conn.send_head(factory.sqs("ReceiveMessage", rbody));
        receiver_conn.send_body(rbody);
        receive_sent.release();
        const Reply reply = expect_ok(receiver_conn.read_reply());
        received_at = Clock::now();
        const Json j = Json::parse(reply.body, nullptr, false);
        if (j.is_discarded() || !j.contains("Messages") || j["Messages"].empty()) {
          throw std::runtime_error("long poll returned no message: " + reply.body.substr(0, 200));
        }
        delete_one(factory, receiver_conn, config, j["Messages"][0]);
      } catch (const std::exception& e) {
        receiver_error = e.what();
        receive_sent.release();  // never leave the sender waiting
        receive_done.release();
        return;
      }
      receive_done.release();
    }
  });

  RequestFactory factory(config, sender_conn.authority());
  for (int i = 0; i < config.iterations; ++i) {
    receive_sent.acquire();
    if (!receiver_error.empty()) {
      break;
    }
    std::this_thread::sleep_for(kParkTime);
    const Clock::time_point sent_at = Clock::now();
    try {
      expect_ok(sender_conn.round_trip(factory.sqs("SendMessage", body), body));
    } catch (const std::exception& e) {
      tally.first_error = e.what();
      ++tally.errors;
    }
    receive_done.acquire();
    if (!receiver_error.empty()) {
      break;
    }
    tally.latency.record(nanos_between(sent_at, received_at));
    ++tally.ops;
    ++tally.items;
  }
  receiver.join();
  if (!receiver_error.empty()) {
    ++tally.errors;
    if (tally.first_error.empty()) {
      tally.first_error = receiver_error;
    }
  }
  tally.connects = receiver_conn.connects() + sender_conn.connects();
  Config two = config;
  two.connections = 2;
  return result_json(two, tally, seconds_between(start, Clock::now()));
}

}  // namespace

// ---- Kinesis ---------------------------------------------------------------------------------

constexpr int kPutRecordsBatch = 500;

/// One PutRecords body: 500 records of --message-size bytes whose partition keys spread them over
/// every shard (MD5 routing).
std::string put_records_body(const Config& config) {
  const std::string data = protocol::base64_encode(pattern(config.message_size));
  Json records = Json::array();
  for (int i = 0; i < kPutRecordsBatch; ++i) {
    records.push_back(Json{{"Data", data}, {"PartitionKey", "key-" + std::to_string(i)}});
  }
  return Json{{"StreamName", config.stream}, {"Records", std::move(records)}}.dump();
}

Json parsed(const Reply& reply, std::string_view what) {
  Json j = Json::parse(reply.body, nullptr, false);
  if (j.is_discarded()) {
    throw std::runtime_error("unparsable " + std::string(what) + " response: " + reply.body.substr(0, 200));
  }
  return j;
}

std::string quoted_key(std::string_view key) {
  std::string quoted;
  quoted.reserve(key.size() + 2);
  quoted.push_back('"');
  quoted.append(key);
  quoted.push_back('"');
  return quoted;
}

/// The value of the first member named `key` in a JSON text, as raw text (a string's contents
/// without its quotes), or nullopt. PutRecords and GetRecords answers run to 50 KB and 10 MB: a
/// full parse of each would spend the client's share of the 2 cores that the server under test
/// needs; the members the workloads read hold no escapes, so a scan finds them.
std::optional<std::string_view> scan_member(std::string_view json, std::string_view key) {
  const std::string quoted = quoted_key(key);
  for (std::size_t at = json.find(quoted); at != std::string_view::npos; at = json.find(quoted, at + 1)) {
    std::size_t i = at + quoted.size();
    while (i < json.size() && (json[i] == ' ' || json[i] == '\n' || json[i] == '\t' || json[i] == '\r')) {
      ++i;
    }
    if (i >= json.size() || json[i] != ':') {
      continue;  // the key's text was a value, not a member name
    }
    ++i;
    while (i < json.size() && (json[i] == ' ' || json[i] == '\n' || json[i] == '\t' || json[i] == '\r')) {
      ++i;
    }
    if (i < json.size() && json[i] == '"') {
      const std::size_t end = json.find('"', i + 1);
      return end == std::string_view::npos ? std::nullopt : std::optional(json.substr(i + 1, end - i - 1));
    }
    const std::size_t end = json.find_first_of(",}] \n", i);
    return json.substr(i, end == std::string_view::npos ? json.size() - i : end - i);
  }
  return std::nullopt;
}

std::size_t count_members(std::string_view json, std::string_view key) {
  const std::string quoted = quoted_key(key);
  std::size_t n = 0;
  for (std::size_t at = json.find(quoted); at != std::string_view::npos; at = json.find(quoted, at + quoted.size())) {
    ++n;
  }
  return n;
}

std::uint64_t scan_number(const Reply& reply, std::string_view key, std::string_view what) {
  const auto text = scan_member(reply.body, key);
  std::uint64_t n = 0;
  if (!text || std::from_chars(text->data(), text->data() + text->size(), n).ec != std::errc()) {
    throw std::runtime_error("no " + std::string(key) + " in the " + std::string(what) + " response: " +
                             reply.body.substr(0, 200));
  }
  return n;
}

Json kinesis_put_records(const Config& config) {
  const std::string body = put_records_body(config);
  const std::string body_hash = protocol::hex(protocol::sha256(body));
  return run_timed(config, [&](HttpConnection& conn, int, std::uint64_t) {
    RequestFactory factory(config, conn.authority());
    const Reply reply = expect_ok(conn.round_trip(factory.kinesis("PutRecords", body, body_hash), body));
    if (const auto failed = scan_number(reply, "FailedRecordCount", "PutRecords"); failed != 0) {
      throw std::runtime_error("PutRecords: " + std::to_string(failed) + " records failed");
    }
    return OpResult{static_cast<std::uint64_t>(kPutRecordsBatch), body.size()};
  });
}

/// Drains every shard from TRIM_HORIZON with GetRecords(Limit=10000), one connection per shard
/// (--prefill records are put first, untimed); a connection stops once its shard is caught up.
Json kinesis_get_records(const Config& config) {
  if (config.prefill > 0) {
    const std::string body = put_records_body(config);
    const std::string body_hash = protocol::hex(protocol::sha256(body));
    std::atomic<std::int64_t> batches_left{static_cast<std::int64_t>((config.prefill + kPutRecordsBatch - 1) / kPutRecordsBatch)};
    run_setup(config, config.connections, [&](int, HttpConnection& conn) {
      RequestFactory factory(config, conn.authority());
      while (batches_left.fetch_sub(1) > 0) {
        expect_ok(conn.round_trip(factory.kinesis("PutRecords", body, body_hash), body));
      }
    });
  }
  std::vector<std::string> shards;
  run_setup(config, 1, [&](int, HttpConnection& conn) {
    RequestFactory factory(config, conn.authority());
    const std::string body = Json{{"StreamName", config.stream}}.dump();
    const Json listed = parsed(expect_ok(conn.round_trip(factory.kinesis("ListShards", body), body)), "ListShards");
    for (const auto& s : listed.at("Shards")) {
      shards.push_back(s.at("ShardId").get<std::string>());
    }
  });
  Config per_shard = config;
  per_shard.connections = static_cast<int>(shards.size());
  std::vector<std::string> iterators(shards.size());
  return run_timed(per_shard, [&](HttpConnection& conn, int c, std::uint64_t) {
    RequestFactory factory(config, conn.authority());
    std::string& iterator = iterators[static_cast<std::size_t>(c)];
    if (iterator.empty()) {
      const std::string body = Json{{"StreamName", config.stream},
                                    {"ShardId", shards[static_cast<std::size_t>(c)]},
                                    {"ShardIteratorType", "TRIM_HORIZON"}}.dump();
      iterator = parsed(expect_ok(conn.round_trip(factory.kinesis("GetShardIterator", body), body)),
                        "GetShardIterator")["ShardIterator"];
    }
    const std::string body = Json{{"ShardIterator", iterator}, {"Limit", 10000}}.dump();
    const Reply reply = expect_ok(conn.round_trip(factory.kinesis("GetRecords", body), body));
    // Every record carries exactly one SequenceNumber member; nothing else in the answer does.
    const std::size_t got = count_members(reply.body, "SequenceNumber");
    const auto next = scan_member(reply.body, "NextShardIterator");
    iterator = next ? std::string(*next) : std::string();
    // A peer that leaves MillisBehindLatest out is caught up once a page comes back empty.
    const bool caught_up = iterator.empty() || (got == 0 && (!scan_member(reply.body, "MillisBehindLatest") ||
                                                            scan_number(reply, "MillisBehindLatest", "GetRecords") == 0));
    return OpResult{got, reply.body.size(), caught_up};
  });
}

Json run_workload(const Config& config) {
  const std::string& w = config.workload;
  if (w == "s3-put") {
    return s3_put(config);
  }
  if (w == "s3-get") {
    return s3_get(config);
  }
  if (w == "s3-put-large") {
    return s3_large(config, true);
  }
  if (w == "s3-get-large") {
    return s3_large(config, false);
  }
  if (w == "sqs-send") {
    return sqs_send(config, false);
  }
  if (w == "sqs-send-batch") {
    return sqs_send(config, true);
  }
  if (w == "sqs-recv-delete") {
    return sqs_recv_delete(config, false);
  }
  if (w == "sqs-recv-delete-batch") {
    return sqs_recv_delete(config, true);
  }
  if (w == "sqs-longpoll-latency") {
    return sqs_longpoll_latency(config);
  }
  if (w == "kinesis-put-records") {
    return kinesis_put_records(config);
  }
  if (w == "kinesis-get-records") {
    return kinesis_get_records(config);
  }
  throw std::invalid_argument("unknown workload: " + w);
}

}  // namespace fogbank::bench
