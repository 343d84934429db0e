#pragma once
// The direct JSON paths of PutRecords and GetRecords (protocol::DirectHandler): a PutRecords body
// is 500 base64 blobs and a GetRecords answer up to 10 MiB of them, and building the generic
// value for each record (a map, strings, a byte vector) cost more than storing or reading it.
// They read the request with json_text::Scanner into the engine's typed calls and write the
// answer text from the stored bytes; whatever they do not fully understand (an escape, an
// unknown or duplicate member, a value outside the model's constraints, StreamARN) goes the
// generic way, which words the error.

#include <optional>
#include <string>
#include <string_view>

#include "engine.hpp"

namespace fogbank::protocol::model {
struct Shape;
}  // namespace fogbank::protocol::model

namespace fogbank::kinesis {

std::optional<std::string> put_records_json(KinesisEngine& engine, std::string_view body, const Caller& c);
/// `output`: GetRecordsOutput, which encodes the members after Records.
std::optional<std::string> get_records_json(KinesisEngine& engine, std::string_view body, const Caller& c,
                                            const protocol::model::Shape* output);

}  // namespace fogbank::kinesis
