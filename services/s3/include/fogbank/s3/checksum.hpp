#pragma once
// S3 additional checksums: CRC32, CRC32C, CRC64NVME, SHA1 and SHA256.
//
// S3 carries them as x-amz-checksum-<algorithm> headers (or aws-chunked trailers) whose value is
// the base64 of the big-endian digest, stores them with the object, and derives multipart
// checksums either as a checksum of the part checksums ("COMPOSITE", value suffixed "-<parts>")
// or, for the CRCs, as the CRC of the whole object ("FULL_OBJECT") combined from the part CRCs.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
//
// The CRCs run on ISA-L (CRC32, CRC32C) or a table-driven CRC-64 of ours (ISA-L 2.30, Debian 12's,
// has no CRC-64/NVME); the SHAs on OpenSSL. None of those headers leak out of checksum.cpp.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fogbank::s3 {

enum class ChecksumAlgorithm { kCrc32, kCrc32c, kCrc64Nvme, kSha1, kSha256 };

/// Every algorithm, in the order S3 documents them (for loops over "which header was sent").
inline constexpr ChecksumAlgorithm kAllChecksumAlgorithms[] = {
    ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c, ChecksumAlgorithm::kCrc64Nvme,
    ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256};

/// "CRC32", "crc32c", "CRC64NVME", "SHA1", "SHA256" (case-insensitive) → algorithm; nullopt for
/// anything else (the caller answers InvalidRequest / InvalidArgument as the operation requires).
std::optional<ChecksumAlgorithm> parse_checksum_algorithm(std::string_view name);

/// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (x-amz-checksum-algorithm, ChecksumAlgorithm).
std::string_view checksum_name(ChecksumAlgorithm a);
/// "x-amz-checksum-crc32", "x-amz-checksum-crc32c", ... (lower case, as headers are compared).
std::string_view checksum_header(ChecksumAlgorithm a);
/// "ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256".
std::string_view checksum_xml_element(ChecksumAlgorithm a);
/// True for CRC32, CRC32C and CRC64NVME: the algorithms that allow FULL_OBJECT multipart checksums.
bool is_crc(ChecksumAlgorithm a);
/// Raw digest length in bytes: 4, 4, 8, 20, 32.
std::size_t digest_size(ChecksumAlgorithm a);

/// Incremental checksum over a stream of bytes.
///
/// Lifecycle: construct, update() any number of times, read digest()/base64() at any point (they
/// do not end the computation, so a running value can be read and more data added after).
/// Construction allocates nothing for the CRCs; the SHAs hold one OpenSSL context on the heap.
/// Copyable (the copy continues independently) and movable; a moved-from object may only be
/// destroyed or assigned. Not thread-safe: one object per stream.
class Checksum {
 public:
  explicit Checksum(ChecksumAlgorithm a);
  ~Checksum();
  Checksum(const Checksum& other);
  Checksum& operator=(const Checksum& other);
  Checksum(Checksum&& other) noexcept;
  Checksum& operator=(Checksum&& other) noexcept;

  [[nodiscard]] ChecksumAlgorithm algorithm() const { return algorithm_; }
  void update(std::string_view data);
  /// Raw big-endian bytes of the digest of everything passed to update() so far.
  [[nodiscard]] std::string digest() const;
  /// base64(digest()): the value of x-amz-checksum-<algorithm>.
  [[nodiscard]] std::string base64() const;

 private:
  struct HashState;  // OpenSSL digest context, SHA algorithms only

  ChecksumAlgorithm algorithm_;
  std::uint64_t crc_ = 0;  // CRC register for the CRC algorithms (see checksum.cpp for its form)
  std::unique_ptr<HashState> hash_;
};

/// Multipart "composite" checksum (COMPOSITE type): the checksum of the concatenated raw part
/// digests, base64, followed by "-<part count>".
std::string composite_checksum(ChecksumAlgorithm a, const std::vector<std::string>& raw_part_digests);

/// CRC of A‖B from crc(A), crc(B) (raw big-endian digests) and len(B) in bytes, without the data:
/// the FULL_OBJECT multipart checksum of a CRC algorithm is the parts' CRCs folded left with this.
/// Throws std::invalid_argument for a non-CRC algorithm or digests of the wrong size.
std::string combine_crc(ChecksumAlgorithm a, std::string_view crc_a, std::string_view crc_b,
                        std::uint64_t len_b);

/// True if `base64_value` is strict padded base64 that decodes to digest_size(a) bytes.
bool valid_checksum_value(ChecksumAlgorithm a, std::string_view base64_value);

/// Decodes a checksum header value to its raw digest; nullopt unless valid_checksum_value().
std::optional<std::string> decode_checksum_value(ChecksumAlgorithm a, std::string_view base64_value);

}  // namespace fogbank::s3
