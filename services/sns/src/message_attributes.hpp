#pragma once
// Publish's MessageAttributes: AWS's checks and messages, and the size they add to a message.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace fogbank::sns {

/// The most attributes one message may carry.
inline constexpr std::size_t kMaxMessageAttributes = 10;
/// The largest message (body plus every attribute's name, type and value), 256 KiB.
inline constexpr std::size_t kMaxMessageBytes = 262144;

/// Reads the decoded MessageAttributes map, checking names, types and values in AWS's order.
/// `path` is where a missing DataType is reported ("messageAttributes", or
/// "publishBatchRequestEntries.3.member.messageAttributes"). Throws AwsError: ParameterValueInvalid
/// with AWS's wording, or ValidationError for a missing DataType.
MessageAttributes read_message_attributes(const nlohmann::json& map, std::string_view path);

/// Bytes counted against kMaxMessageBytes.
std::size_t message_size(std::string_view message, const MessageAttributes& attributes);

}  // namespace fogbank::sns
