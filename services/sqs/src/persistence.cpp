#include "persistence.hpp"

#include <nlohmann/json.hpp>

#include "fogbank/storage/keys.hpp"

namespace fogbank::sqs::persist {

using storage::KeyBuilder;
using storage::KeyReader;

namespace {

// A compact length-prefixed binary codec for the hot records (one message per send): JSON would
// cost a parse per message at load and an escape pass over every body.
class Writer {
 public:
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      out_.push_back(static_cast<char>(static_cast<unsigned char>(v >> (8 * i))));
    }
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void attributes(const MessageAttributes& attrs) {
    u64(attrs.size());
    for (const auto& [name, a] : attrs) {
      str(name);
      str(a.data_type);
      str(a.string_value);
      str(a.binary_value);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u64(std::uint64_t& v) {
    if (in_.size() < 8) {
      return false;
    }
    v = 0;
    for (int i = 7; i >= 0; --i) {
      v = (v << 8) | static_cast<unsigned char>(in_[static_cast<std::size_t>(i)]);
    }
    in_.remove_prefix(8);
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!u64(u)) {
      return false;
    }
    v = static_cast<std::int64_t>(u);
    return true;
  }
  bool str(std::string& s) {
    std::uint64_t n = 0;
    if (!u64(n) || in_.size() < n) {
      return false;
    }
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool attributes(MessageAttributes& attrs) {
    std::uint64_t n = 0;
    if (!u64(n)) {
      return false;
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string name;
      MessageAttribute a;
      if (!str(name) || !str(a.data_type) || !str(a.string_value) || !str(a.binary_value)) {
        return false;
      }
      attrs.emplace(std::move(name), std::move(a));
    }
    return true;
  }

 private:
  std::string_view in_;
};

constexpr std::uint64_t kMessageVersion = 1;

}  // namespace

std::string queue_key(std::string_view account, std::string_view name) {
  return KeyBuilder("q").str(account).str(name).key();
}
std::string queue_prefix() { return KeyBuilder("q").key(); }
std::string message_key(std::string_view uid, std::uint64_t seq) {
  return KeyBuilder("m").str(uid).u64(seq).key();
}
std::string state_key(std::string_view uid, std::uint64_t seq) {
  return KeyBuilder("s").str(uid).u64(seq).key();
}
std::string dedup_key(std::string_view uid, std::string_view key) {
  return KeyBuilder("d").str(uid).str(key).key();
}
std::string queue_keys_prefix(char kind, std::string_view uid) {
  return KeyBuilder(std::string_view(&kind, 1)).str(uid).key();
}
std::string kind_prefix(char kind) { return KeyBuilder(std::string_view(&kind, 1)).key(); }

std::optional<ParsedKey> parse_key(std::string_view key) {
  KeyReader r(key);
  auto kind = r.str();
  auto uid = r.str();
  if (!kind || kind->size() != 1 || !uid) {
    return std::nullopt;
  }
  ParsedKey p;
  p.kind = (*kind)[0];
  p.uid = std::move(*uid);
  if (p.kind == 'd') {
    auto d = r.str();
    if (!d) {
      return std::nullopt;
    }
    p.dedup = std::move(*d);
  } else {
    auto seq = r.u64();
    if (!seq) {
      return std::nullopt;
    }
    p.seq = *seq;
  }
  return p;
}

std::string encode_queue(const Queue& q) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& t : q.move_tasks) {
    tasks.push_back({{"handle", t.handle},
                     {"status", t.status},
                     {"source", t.source_arn},
                     {"destination", t.destination_arn},
                     {"rate", t.max_per_second},
                     {"moved", t.moved},
                     {"to_move", t.to_move},
                     {"started", t.started_ms},
                     {"failure", t.failure_reason}});
  }
  nlohmann::json j = {{"account", q.account},       {"name", q.name},
                      {"region", q.region},         {"uid", q.uid},
                      {"fifo", q.fifo},             {"created", q.created_s},
                      {"modified", q.modified_s},   {"attributes", q.attributes},
                      {"tags", q.tags},             {"last_purge_ms", q.last_purge_ms},
                      {"move_tasks", tasks}};
  return j.dump();
}

bool decode_queue(std::string_view data, Queue& q) {
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (!j.is_object()) {
    return false;
  }
  try {
    q.account = j.at("account").get<std::string>();
    q.name = j.at("name").get<std::string>();
    q.region = j.at("region").get<std::string>();
    q.uid = j.at("uid").get<std::string>();
    q.fifo = j.at("fifo").get<bool>();
    q.created_s = j.at("created").get<std::int64_t>();
    q.modified_s = j.at("modified").get<std::int64_t>();
    q.attributes = j.at("attributes").get<std::map<std::string, std::string>>();
    q.tags = j.at("tags").get<std::map<std::string, std::string>>();
    q.last_purge_ms = j.value("last_purge_ms", std::int64_t{0});
    for (const auto& t : j.value("move_tasks", nlohmann::json::array())) {
      MoveTask task;
      task.handle = t.at("handle").get<std::string>();
      task.status = t.at("status").get<std::string>();
      task.source_arn = t.at("source").get<std::string>();
      task.destination_arn = t.at("destination").get<std::string>();
      task.max_per_second = t.at("rate").get<std::int64_t>();
      task.moved = t.at("moved").get<std::int64_t>();
      task.to_move = t.at("to_move").get<std::int64_t>();
      task.started_ms = t.at("started").get<std::int64_t>();
      task.failure_reason = t.at("failure").get<std::string>();
      q.move_tasks.push_back(std::move(task));
    }
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return true;
}

std::string encode_message(const Message& m) {
  Writer w;
  w.u64(kMessageVersion);
  w.str(m.id);
  w.str(m.body);
  w.attributes(m.attributes);
  w.attributes(m.system_attributes);
  w.str(m.md5_body);
  w.str(m.md5_attributes);
  w.str(m.md5_system_attributes);
  w.str(m.sender_id);
  w.i64(m.sent_ms);
  w.str(m.group_id);
  w.str(m.dedup_id);
  w.str(m.dead_letter_source_arn);
  w.i64(m.visible_at_ms);  // the initial visibility (send time + delay)
  w.u64(m.receive_count);  // non-zero for messages moved between queues
  w.i64(m.first_receive_ms);
  return w.take();
}

bool decode_message(std::string_view data, Message& m) {
  Reader r(data);
  std::uint64_t version = 0;
  std::uint64_t receives = 0;
  bool ok = r.u64(version) && version == kMessageVersion && r.str(m.id) && r.str(m.body) &&
            r.attributes(m.attributes) && r.attributes(m.system_attributes) && r.str(m.md5_body) &&
            r.str(m.md5_attributes) && r.str(m.md5_system_attributes) && r.str(m.sender_id) &&
            r.i64(m.sent_ms) && r.str(m.group_id) && r.str(m.dedup_id) &&
            r.str(m.dead_letter_source_arn) && r.i64(m.visible_at_ms) && r.u64(receives) &&
            r.i64(m.first_receive_ms);
  m.receive_count = static_cast<std::uint32_t>(receives);
  return ok;
}

std::string encode_state(const Message& m) {
  Writer w;
  w.i64(m.visible_at_ms);
  w.u64(m.receive_count);
  w.i64(m.first_receive_ms);
  w.str(m.receipt_token);
  return w.take();
}

bool decode_state(std::string_view data, Message& m) {
  Reader r(data);
  std::uint64_t receives = 0;
  bool ok = r.i64(m.visible_at_ms) && r.u64(receives) && r.i64(m.first_receive_ms) &&
            r.str(m.receipt_token);
  m.receive_count = static_cast<std::uint32_t>(receives);
  return ok;
}

std::string encode_dedup(const DedupEntry& e) {
  Writer w;
  w.i64(e.expires_ms);
  w.str(e.message_id);
  w.u64(e.seq);
  return w.take();
}

bool decode_dedup(std::string_view data, DedupEntry& e) {
  Reader r(data);
  return r.i64(e.expires_ms) && r.str(e.message_id) && r.u64(e.seq);
}

}  // namespace fogbank::sqs::persist
