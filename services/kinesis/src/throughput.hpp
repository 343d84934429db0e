#pragma once
// AWS's per-shard throughput limits as token buckets on the platform clock (--kinesis-limits).
// Each bucket holds at most one second of its rate, so a shard that was quiet may burst to the
// full per-second allowance at once, as on AWS; reads may overdraw the byte bucket (one GetRecords
// returns up to 10 MiB) and then wait until the debt is repaid.

#include <algorithm>
#include <cstdint>

namespace fogbank::kinesis {

class TokenBucket {
 public:
  explicit TokenBucket(double per_second) : rate_(per_second), tokens_(per_second) {}

  /// Takes `cost` when that much is available now.
  bool take(double cost, std::int64_t now_ms) {
    refill(now_ms);
    if (tokens_ < cost) {
      return false;
    }
    tokens_ -= cost;
    return true;
  }
  /// True while the bucket is not in debt.
  bool available(std::int64_t now_ms) {
    refill(now_ms);
    return tokens_ >= 0;
  }
  /// True when nothing is left (or the bucket is in debt).
  bool empty(std::int64_t now_ms) {
    refill(now_ms);
    return tokens_ <= 0;
  }
  /// Takes `cost` even past zero.
  void charge(double cost) { tokens_ -= cost; }

 private:
  void refill(std::int64_t now_ms) {
    if (last_ms_ >= 0 && now_ms > last_ms_) {
      tokens_ = std::min(rate_, tokens_ + rate_ * static_cast<double>(now_ms - last_ms_) / 1000.0);
    }
    if (now_ms > last_ms_) {
      last_ms_ = now_ms;
    }
  }

  double rate_;
  double tokens_;
  std::int64_t last_ms_ = -1;
};

struct ShardThrottle {
  TokenBucket write_bytes{1024.0 * 1024.0};
  TokenBucket write_records{1000.0};
  TokenBucket read_bytes{2.0 * 1024.0 * 1024.0};
  TokenBucket read_calls{5.0};

  /// Admits one record of `bytes` (data and partition key, as AWS counts) while the shard's byte
  /// allowance is not used up; a record larger than what is left overdraws it (a full-size record
  /// on an idle shard goes through, and the next ones wait the debt out).
  bool admit_write(std::size_t bytes, std::int64_t now_ms) {
    if (write_bytes.empty(now_ms)) {
      return false;
    }
    if (!write_records.take(1, now_ms)) {
      return false;
    }
    write_bytes.charge(static_cast<double>(bytes));
    return true;
  }
  /// Admits one GetRecords call; its bytes are charged after the read.
  bool admit_read(std::int64_t now_ms) {
    if (!read_bytes.available(now_ms)) {
      return false;
    }
    return read_calls.take(1, now_ms);
  }
};

}  // namespace fogbank::kinesis
