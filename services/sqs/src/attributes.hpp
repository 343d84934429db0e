#pragma once
// Message and queue attributes: validation, defaults and the MD5 digests the SDKs verify.

#include <map>
#include <string>
#include <string_view>

#include "model.hpp"

namespace fogbank::sqs {

/// MD5 of message attributes exactly as AWS computes it (and the SDKs re-check it): for every
/// attribute in name order, the big-endian 4-byte length and bytes of the name, of the data type,
/// one transport byte (1 String/Number, 2 Binary), then the length and bytes of the value.
/// Lower-case hex; empty for no attributes.
std::string md5_of_attributes(const MessageAttributes& attributes);

/// Throws InvalidMessageContents when `text` holds a character outside the XML set SQS accepts
/// (#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF) or is not valid UTF-8.
void check_message_characters(std::string_view text, std::string_view what);

/// Validates user message attributes (at most 10, names, data types, non-empty values); throws
/// InvalidParameterValue. `system` validates MessageSystemAttributes (only AWSTraceHeader).
void check_message_attributes(const MessageAttributes& attributes, bool system);

/// Bytes a message counts against MaximumMessageSize: body plus every attribute's name, type and
/// value.
std::size_t message_size(std::string_view body, const MessageAttributes& attributes);

/// The settable attributes of a new queue with AWS's defaults.
std::map<std::string, std::string> default_queue_attributes(bool fifo);

/// Checks a CreateQueue/SetQueueAttributes attribute map against AWS's rules for a queue of this
/// type and normalises values; throws InvalidAttributeName / InvalidAttributeValue /
/// InvalidParameterValue. Cross-queue checks (dead-letter target) are the engine's.
std::map<std::string, std::string> validate_queue_attributes(const std::map<std::string, std::string>& given,
                                                             bool fifo, bool creating);

/// Refreshes the typed views of q.attributes.
void apply_queue_attributes(Queue& q);

/// Every attribute name GetQueueAttributes knows, in AWS's order (for "All").
const std::vector<std::string>& all_queue_attribute_names();

}  // namespace fogbank::sqs
