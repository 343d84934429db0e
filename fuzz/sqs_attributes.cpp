// SQS attribute rules (services/sqs/src/attributes.hpp): queue attributes (RedrivePolicy,
// RedriveAllowPolicy and Policy JSON among them), message attributes and message characters.
// Byte 0: bit 0 FIFO queue, bit 1 CreateQueue (else SetQueueAttributes), bit 2 system message
// attributes. Then sections separated by "\n--\n": queue attributes ("Name=Value" lines),
// message attributes ("Name<TAB>DataType<TAB>value" lines), the message body.
#include <cstddef>
#include <cstdint>

#include "attributes.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto flags = in.byte();
  const bool fifo = (flags & 1) != 0;
  const bool creating = (flags & 2) != 0;
  const bool system = (flags & 4) != 0;

  std::map<std::string, std::string> given;
  for (auto line : fuzz::split(in.until("\n--\n"), '\n')) {
    auto eq = line.find('=');
    if (!line.empty()) {
      given[std::string(line.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1));
    }
  }
  std::map<std::string, std::string> valid;
  if (fuzz::accepts([&] { valid = sqs::validate_queue_attributes(given, fifo, creating); })) {
    // What validation let through is stored and re-read at every start: it must load.
    sqs::Queue q;
    q.fifo = fifo;
    q.attributes = sqs::default_queue_attributes(fifo);
    for (auto& [name, value] : valid) {
      q.attributes[name] = value;
    }
    sqs::apply_queue_attributes(q);
    // Normalising twice changes nothing (SetQueueAttributes with what GetQueueAttributes said).
    auto again = sqs::validate_queue_attributes(valid, fifo, creating);
    FOGBANK_FUZZ_CHECK(again == valid, in.rest());
  }

  sqs::MessageAttributes attributes;
  for (auto line : fuzz::split(in.until("\n--\n"), '\n')) {
    auto parts = fuzz::split(line, '\t');
    if (parts.size() < 3) {
      continue;
    }
    sqs::MessageAttribute a;
    a.data_type = std::string(parts[1]);
    (a.is_binary() ? a.binary_value : a.string_value) = std::string(parts[2]);
    attributes[std::string(parts[0])] = std::move(a);
  }
  if (fuzz::accepts([&] { sqs::check_message_attributes(attributes, system); })) {
    (void)sqs::md5_of_attributes(attributes);
    (void)sqs::message_size(in.rest(), attributes);
  }
  fuzz::accepts([&] { sqs::check_message_characters(in.rest(), "message body"); });
  return 0;
}
