#pragma once
// How Firehose names and encodes what it writes to S3: the `YYYY/MM/dd/HH/` UTC prefix or a
// custom Prefix with its expressions, the object name, and the compression formats.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace fogbank::firehose {

/// Evaluates a Prefix or ErrorOutputPrefix for an object whose first record arrived at `time_ms`.
/// Without expressions the default `YYYY/MM/dd/HH/` (UTC) follows the given text, as AWS does;
/// with them, `!{timestamp:<pattern>}` (Java DateTimeFormatter letters y M d H m s and quoted
/// text), `!{firehose:random-string}` and, for error prefixes, `!{firehose:error-output-type}`
/// are replaced and nothing is appended. nullopt when an expression is malformed or unknown.
std::optional<std::string> evaluate_prefix(std::string_view prefix, std::int64_t time_ms,
                                           std::string_view error_output_type = {},
                                           const std::function<std::string()>& random_string = {});

/// Whether `prefix` holds `!{...}` expressions that evaluate (CreateDeliveryStream's check).
bool valid_prefix(std::string_view prefix, bool error_prefix);

/// `<name>-<version>-YYYY-MM-dd-HH-mm-ss-<id>` then the compression's extension (or `extension`
/// when the stream sets FileExtension).
std::string object_name(std::string_view stream, int version, std::int64_t time_ms, std::string_view id,
                        std::string_view compression, std::string_view extension);

/// `data` in CompressionFormat `format`: UNCOMPRESSED, GZIP (one gzip member), ZIP (an archive of
/// one deflated entry named `entry_name`), Snappy (the framing format) or HADOOP_SNAPPY (Hadoop's
/// block format). Objects carry no Content-Encoding, as AWS writes them.
std::string compress(std::string_view format, std::string_view data, std::string_view entry_name);

}  // namespace fogbank::firehose
