#pragma once
// Latency histogram for the load tool: log-linear buckets (32 linear sub-buckets per power of
// two, so every recorded value is kept within ~3% of its true value) over nanoseconds.
//
// Fixed size (no allocation while recording), so each load thread owns one and the results are
// merged after the run. Not thread-safe.

#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace fogbank::bench {

class Histogram {
 public:
  void record(std::uint64_t nanos) {
    ++counts_[index_of(nanos)];
    ++count_;
    sum_ += nanos;
    min_ = nanos < min_ ? nanos : min_;
    max_ = nanos > max_ ? nanos : max_;
  }

  void merge(const Histogram& other) {
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      counts_[i] += other.counts_[i];
    }
    count_ += other.count_;
    sum_ += other.sum_;
    min_ = other.min_ < min_ ? other.min_ : min_;
    max_ = other.max_ > max_ ? other.max_ : max_;
  }

  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::uint64_t min() const { return count_ ? min_ : 0; }
  [[nodiscard]] std::uint64_t max() const { return max_; }
  [[nodiscard]] double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  /// The value at quantile q in [0, 1] (bucket midpoint, clamped to the observed min/max).
  [[nodiscard]] std::uint64_t quantile(double q) const {
    if (count_ == 0) {
      return 0;
    }
    // Rank of the wanted sample, 1-based: the ceil(q·n)-th smallest (at least the first).
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.999999);
    rank = rank == 0 ? 1 : rank;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        std::uint64_t v = midpoint_of(i);
        v = v < min_ ? min_ : v;
        return v > max_ ? max_ : v;
      }
    }
    return max_;
  }

 private:
  static constexpr unsigned kSubBits = 5;
  static constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;  // 32

  // Values below 32 map to themselves; above, the top 6 significant bits pick the bucket.
  static std::size_t index_of(std::uint64_t v) {
    if (v < kSub) {
      return static_cast<std::size_t>(v);
    }
    const unsigned msb = static_cast<unsigned>(std::bit_width(v)) - 1;  // >= 5
    const unsigned shift = msb - kSubBits;
    return static_cast<std::size_t>((shift + 1) * kSub + ((v >> shift) - kSub));
  }

  static std::uint64_t midpoint_of(std::size_t index) {
    if (index < kSub) {
      return index;
    }
    const unsigned shift = static_cast<unsigned>(index / kSub) - 1;
    const std::uint64_t lower = ((index % kSub) + kSub) << shift;
    return lower + ((std::uint64_t{1} << shift) >> 1);
  }

  std::array<std::uint64_t, 64 * kSub> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

}  // namespace fogbank::bench
