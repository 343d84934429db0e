#include "handlers.hpp"

#include <algorithm>
#include <set>

#include "access.hpp"
#include "attributes.hpp"
#include "errors.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/json_limits.hpp"

namespace fogbank::sqs {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxBatchEntries = 10;
constexpr std::size_t kMaxBatchBytes = 1048576;  // AWS: the sum of a batch's messages, 1 MiB

// --- reading the request ------------------------------------------------------------------------

AwsError serialization(std::string_view member) {
  return AwsError("SerializationException", 400,
                  "Unexpected value type for member " + std::string(member) + ".");
}

const json* member(const json& in, std::string_view name) {
  auto it = in.find(std::string(name));
  return it == in.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> optional_string(const json& in, std::string_view name) {
  const json* v = member(in, name);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (!v->is_string()) {
    throw serialization(name);
  }
  return v->get<std::string>();
}

std::string required_string(const json& in, std::string_view name) {
  auto v = optional_string(in, name);
  if (!v) {
    throw missing_parameter(name);
  }
  return *v;
}

std::optional<std::int64_t> optional_int(const json& in, std::string_view name) {
  const json* v = member(in, name);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (!v->is_number_integer()) {
    throw serialization(name);
  }
  return v->get<std::int64_t>();
}

std::optional<std::int64_t> int_in_range(const json& in, std::string_view name, std::int64_t lo,
                                         std::int64_t hi, std::string_view reason) {
  auto v = optional_int(in, name);
  if (v && (*v < lo || *v > hi)) {
    throw invalid_value(name, std::to_string(*v), reason);
  }
  return v;
}

std::map<std::string, std::string> string_map(const json& in, std::string_view name) {
  std::map<std::string, std::string> out;
  const json* v = member(in, name);
  if (v == nullptr) {
    return out;
  }
  if (!v->is_object()) {
    throw serialization(name);
  }
  for (const auto& [k, value] : v->items()) {
    if (!value.is_string()) {
      throw serialization(name);
    }
    out[k] = value.get<std::string>();
  }
  return out;
}

std::vector<std::string> string_list(const json& in, std::string_view name) {
  std::vector<std::string> out;
  const json* v = member(in, name);
  if (v == nullptr) {
    return out;
  }
  if (!v->is_array()) {
    throw serialization(name);
  }
  for (const auto& item : *v) {
    if (!item.is_string()) {
      throw serialization(name);
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

MessageAttributes message_attributes(const json& in, std::string_view name) {
  MessageAttributes out;
  const json* v = member(in, name);
  if (v == nullptr) {
    return out;
  }
  if (!v->is_object()) {
    throw serialization(name);
  }
  for (const auto& [attr_name, value] : v->items()) {
    if (!value.is_object()) {
      throw serialization(name);
    }
    MessageAttribute a;
    a.data_type = optional_string(value, "DataType").value_or("");
    a.string_value = optional_string(value, "StringValue").value_or("");
    if (const json* binary = member(value, "BinaryValue")) {
      // The codecs hand blobs over as raw bytes, whichever encoding the wire used.
      if (!binary->is_binary()) {
        throw serialization("BinaryValue");
      }
      const auto& bytes = binary->get_binary();
      a.binary_value.assign(bytes.begin(), bytes.end());
    }
    if (member(value, "StringListValues") != nullptr || member(value, "BinaryListValues") != nullptr) {
      throw invalid_parameter("Message attribute list values in SendMessage operation are not supported.");
    }
    out.emplace(attr_name, std::move(a));
  }
  return out;
}

// --- queue URLs ---------------------------------------------------------------------------------

std::string queue_url(const Call& call, const std::string& account, const std::string& name) {
  return call.base_url + "/" + account + "/" + name;
}

/// The queue a request names: its QueueUrl (any host, so the `sqs.<region>.<host>` form and
/// AWS's own URLs work too), or for legacy Query clients the request path itself.
QueueId queue_of(const Call& call) {
  auto given = optional_string(call.in, "QueueUrl");
  std::string url = given ? *given : call.path;
  if (!given && (url.empty() || url == "/")) {
    throw missing_parameter("QueueUrl");
  }
  std::string_view path = url;
  if (auto scheme = path.find("://"); scheme != std::string_view::npos) {
    path.remove_prefix(scheme + 3);
    auto slash = path.find('/');
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  auto last = path.rfind('/');
  if (path.empty() || path.front() != '/' || last == 0 || last == std::string_view::npos) {
    throw AwsError("InvalidAddress", 404, "The address " + url + " is not valid for this endpoint.");
  }
  auto name = path.substr(last + 1);
  auto rest = path.substr(0, last);
  auto account = rest.substr(rest.rfind('/') + 1);
  if (account.empty() || name.empty()) {
    throw AwsError("InvalidAddress", 404, "The address " + url + " is not valid for this endpoint.");
  }
  return {std::string(account), std::string(name)};
}

// --- access -------------------------------------------------------------------------------------

/// Operations that only the queue's own account may call: AWS documents "cross-account
/// permissions don't apply to this action" for them, so no policy can grant them.
constexpr std::string_view kOwnerOnly{};

AwsError access_denied(const Call& call) {
  // AWS names its regional endpoint; the client's own endpoint is the equivalent here.
  return AwsError("AccessDenied", 403, "Access to the resource " + call.base_url + "/ is denied.");
}

bool caller_may(const Call& call, const QueueId& id, const QueueAccess& access, std::string_view action) {
  if (id.account == call.account) {
    return true;
  }
  return action != kOwnerOnly &&
         policy_allows(access.policy, access.arn, Principal{call.account, call.caller_arn}, action);
}

/// The queue a request names, once the caller is known to be allowed `action` on it (kOwnerOnly:
/// the queue's account only). A queue of another account that does not exist is
/// QueueDoesNotExist, as for one's own; one that exists without a grant is AccessDenied.
QueueId authorized_queue(Call& call, std::string_view action) {
  QueueId id = queue_of(call);
  if (id.account == call.account) {
    return id;  // the engine reports a missing queue of one's own
  }
  auto access = call.engine.access(id);
  if (!access) {
    throw queue_does_not_exist();
  }
  if (!caller_may(call, id, *access, action)) {
    throw access_denied(call);
  }
  return id;
}

/// SourceArn/DestinationArn of the message move tasks: the caller's own queues only (AWS: cross-
/// account permissions don't apply), and another account's queue is not revealed to exist.
void check_own_arn(const Call& call, const std::string& arn, std::string_view parameter) {
  if (arn.empty()) {
    return;
  }
  auto id = QueueEngine::parse_arn(arn);
  if (id && id->account != call.account) {
    throw AwsError("ResourceNotFoundException", 400,
                   "The resource that you specified for the " + std::string(parameter) + " parameter doesn't exist.");
  }
}

// --- pagination ---------------------------------------------------------------------------------

/// MaxResults/NextToken over a sorted list of names (ListQueues, ListDeadLetterSourceQueues):
/// the token is the last name returned, base64-encoded.
std::vector<std::string> paginate(Call& call, const std::vector<std::string>& sorted_names) {
  auto max = int_in_range(call.in, "MaxResults", 1, 1000, "MaxResults must be an integer between 1 and 1000");
  auto token = optional_string(call.in, "NextToken");
  auto begin = sorted_names.begin();
  if (token) {
    auto after = protocol::base64_decode(*token);
    if (!after) {
      throw invalid_parameter("Invalid NextToken value.");
    }
    begin = std::upper_bound(sorted_names.begin(), sorted_names.end(), *after);
  }
  std::size_t limit = static_cast<std::size_t>(max.value_or(1000));
  std::vector<std::string> page;
  for (auto it = begin; it != sorted_names.end() && page.size() < limit; ++it) {
    page.push_back(*it);
  }
  // AWS returns a NextToken only when MaxResults was given and more results remain.
  if (max && begin + static_cast<std::ptrdiff_t>(page.size()) != sorted_names.end() && !page.empty()) {
    call.out["NextToken"] = protocol::base64_encode(page.back());
  }
  return page;
}

// --- batches ------------------------------------------------------------------------------------

/// Validates a batch's Entries and their Ids (AWS's checks, in AWS's order); returns the entries.
const json& batch_entries(const Call& call, std::string_view entry_shape) {
  const json* entries = member(call.in, "Entries");
  if (entries == nullptr || (entries->is_array() && entries->empty())) {
    throw AwsError("EmptyBatchRequest", 400,
                   "There should be at least one " + std::string(entry_shape) + " in the request.");
  }
  if (!entries->is_array()) {
    throw serialization("Entries");
  }
  if (entries->size() > kMaxBatchEntries) {
    throw AwsError("TooManyEntriesInBatchRequest", 400,
                   "Maximum number of entries per request are 10. You have sent " +
                       std::to_string(entries->size()) + ".");
  }
  std::set<std::string> seen;
  for (const auto& entry : *entries) {
    if (!entry.is_object()) {
      throw serialization("Entries");
    }
    auto id = required_string(entry, "Id");
    bool valid = !id.empty() && id.size() <= 80 && std::all_of(id.begin(), id.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
    if (!valid) {
      throw AwsError("InvalidBatchEntryId", 400,
                     "A batch entry id can only contain alphanumeric characters, hyphens and "
                     "underscores. It can be at most 80 letters long.");
    }
    if (!seen.insert(id).second) {
      throw AwsError("BatchEntryIdsNotDistinct", 400, "Id " + id + " repeated.");
    }
  }
  return *entries;
}

/// Runs `each` per entry, collecting Successful (what `each` returns) and Failed entries.
template <class F>
void run_batch(Call& call, const json& entries, F&& each) {
  json successful = json::array();
  json failed = json::array();
  for (const auto& entry : entries) {
    auto id = entry.at("Id").get<std::string>();
    try {
      json result = each(entry);
      result["Id"] = id;
      successful.push_back(std::move(result));
    } catch (const AwsError& e) {
      if (e.code == "QueueDoesNotExist") {
        throw;  // not an entry's failure: the whole call fails
      }
      failed.push_back({{"Id", id}, {"SenderFault", e.sender_fault}, {"Code", e.code}, {"Message", e.message}});
    }
  }
  call.out["Successful"] = std::move(successful);
  call.out["Failed"] = std::move(failed);
}

// --- sending ------------------------------------------------------------------------------------

void check_fifo_token(const std::optional<std::string>& value, std::string_view name) {
  if (!value) {
    return;
  }
  bool ok = !value->empty() && value->size() <= 128 && std::all_of(value->begin(), value->end(), [](char c) {
    return c >= 0x21 && c <= 0x7e;  // alphanumeric and punctuation
  });
  if (!ok) {
    throw invalid_value(name, *value, std::string(name) + " can only include alphanumeric and punctuation characters. 1 to 128 in length");
  }
}

/// Validates one SendMessage(-BatchEntry) input and sends it.
json send_one(Call& call, const QueueId& queue, const json& in) {
  SendRequest r;
  auto body = optional_string(in, "MessageBody");
  if (!body || body->empty()) {
    throw missing_parameter("MessageBody");
  }
  check_message_characters(*body, "message body");
  r.body = std::move(*body);
  r.delay_seconds = int_in_range(in, "DelaySeconds", 0, 900, "DelaySeconds must be >= 0 and <= 900");
  r.attributes = message_attributes(in, "MessageAttributes");
  check_message_attributes(r.attributes, false);
  r.system_attributes = message_attributes(in, "MessageSystemAttributes");
  check_message_attributes(r.system_attributes, true);
  auto group = optional_string(in, "MessageGroupId");
  auto dedup = optional_string(in, "MessageDeduplicationId");
  check_fifo_token(group, "MessageGroupId");
  check_fifo_token(dedup, "MessageDeduplicationId");
  r.group_id = group.value_or("");
  r.dedup_id = dedup.value_or("");
  r.sender_id = call.sender_id;
  auto sent = call.engine.send(queue, std::move(r));
  json out = {{"MessageId", sent.message_id}, {"MD5OfMessageBody", sent.md5_body}};
  if (!sent.md5_attributes.empty()) {
    out["MD5OfMessageAttributes"] = sent.md5_attributes;
  }
  if (!sent.md5_system_attributes.empty()) {
    out["MD5OfMessageSystemAttributes"] = sent.md5_system_attributes;
  }
  if (!sent.sequence_number.empty()) {
    out["SequenceNumber"] = sent.sequence_number;
  }
  return out;
}

// --- receiving ----------------------------------------------------------------------------------

json attribute_json(const MessageAttribute& a) {
  json v = {{"DataType", a.data_type}};
  if (a.is_binary()) {
    v["BinaryValue"] = json::binary(std::vector<std::uint8_t>(a.binary_value.begin(), a.binary_value.end()));
  } else {
    v["StringValue"] = a.string_value;
  }
  return v;
}

bool wants_message_attribute(const std::vector<std::string>& wanted, const std::string& name) {
  for (const auto& w : wanted) {
    if (w == "All" || w == ".*" || w == name) {
      return true;
    }
    // "prefix.*" selects every attribute whose name starts with "prefix.".
    if (w.size() > 2 && w.ends_with(".*") && name.rfind(w.substr(0, w.size() - 1), 0) == 0) {
      return true;
    }
  }
  return false;
}

json message_json(const Received& r, const std::set<std::string>& system_names,
                  const std::vector<std::string>& attribute_names) {
  const Message& m = r.message;
  json out = {{"MessageId", m.id}, {"ReceiptHandle", r.receipt_handle}, {"MD5OfBody", m.md5_body}, {"Body", m.body}};
  const bool all = system_names.count("All") > 0;
  json attrs = json::object();
  auto add = [&](const char* name, const std::string& value) {
    if (all || system_names.count(name) > 0) {
      attrs[name] = value;
    }
  };
  add("SenderId", m.sender_id);
  add("SentTimestamp", std::to_string(m.sent_ms));
  add("ApproximateReceiveCount", std::to_string(m.receive_count));
  add("ApproximateFirstReceiveTimestamp", std::to_string(m.first_receive_ms));
  if (r.fifo) {
    char seq[32];
    std::snprintf(seq, sizeof seq, "%020llu", static_cast<unsigned long long>(m.seq));
    add("SequenceNumber", seq);
    add("MessageDeduplicationId", m.dedup_id);
  }
  if (!m.group_id.empty()) {
    add("MessageGroupId", m.group_id);
  }
  if (auto trace = m.system_attributes.find("AWSTraceHeader"); trace != m.system_attributes.end()) {
    add("AWSTraceHeader", trace->second.string_value);
  }
  if (!m.dead_letter_source_arn.empty()) {
    add("DeadLetterQueueSourceArn", m.dead_letter_source_arn);
  }
  if (!attrs.empty()) {
    out["Attributes"] = std::move(attrs);
  }
  // The MD5 covers the attributes returned, as the SDKs recompute it over what they received.
  MessageAttributes selected;
  for (const auto& [name, a] : m.attributes) {
    if (wants_message_attribute(attribute_names, name)) {
      selected.emplace(name, a);
    }
  }
  if (!selected.empty()) {
    json map = json::object();
    for (const auto& [name, a] : selected) {
      map[name] = attribute_json(a);
    }
    out["MessageAttributes"] = std::move(map);
    out["MD5OfMessageAttributes"] = md5_of_attributes(selected);
  }
  return out;
}

// --- handlers -----------------------------------------------------------------------------------

void create_queue(Call& call) {
  auto name = required_string(call.in, "QueueName");
  auto attributes = string_map(call.in, "Attributes");
  auto tags = string_map(call.in, "tags");
  call.engine.create_queue({call.account, name}, call.region, attributes, tags);
  call.out["QueueUrl"] = queue_url(call, call.account, name);
}

void delete_queue(Call& call) { call.engine.delete_queue(authorized_queue(call, kOwnerOnly)); }

void get_queue_url(Call& call) {
  auto name = required_string(call.in, "QueueName");
  auto owner = optional_string(call.in, "QueueOwnerAWSAccountId").value_or(call.account);
  QueueId id{owner, name};
  (void)call.engine.describe(id);
  if (owner != call.account) {
    // Another account's queue is found by name only with a grant; without one AWS answers as if
    // it did not exist, so names cannot be probed.
    auto access = call.engine.access(id);
    if (!access || !caller_may(call, id, *access, "GetQueueUrl")) {
      throw queue_does_not_exist();
    }
  }
  call.out["QueueUrl"] = queue_url(call, owner, name);
}

void list_queues(Call& call) {
  auto prefix = optional_string(call.in, "QueueNamePrefix").value_or("");
  auto names = call.engine.list_queues(call.account, prefix);
  json urls = json::array();
  for (const auto& name : paginate(call, names)) {
    urls.push_back(queue_url(call, call.account, name));
  }
  if (!urls.empty()) {
    call.out["QueueUrls"] = std::move(urls);
  }
}

void get_queue_attributes(Call& call) {
  auto id = authorized_queue(call, "GetQueueAttributes");
  auto attributes = call.engine.get_attributes(id, string_list(call.in, "AttributeNames"));
  if (!attributes.empty()) {
    call.out["Attributes"] = attributes;
  }
}

void set_queue_attributes(Call& call) {
  auto id = authorized_queue(call, kOwnerOnly);
  if (member(call.in, "Attributes") == nullptr) {
    throw missing_parameter("Attributes");
  }
  call.engine.set_attributes(id, string_map(call.in, "Attributes"));
}

void send_message(Call& call) {
  auto id = authorized_queue(call, "SendMessage");
  call.out = send_one(call, id, call.in);
}

void send_message_batch(Call& call) {
  auto id = authorized_queue(call, "SendMessage");  // AWS authorises batches as their single action
  const json& entries = batch_entries(call, "SendMessageBatchRequestEntry");
  std::size_t total = 0;
  for (const auto& entry : entries) {
    auto body = optional_string(entry, "MessageBody").value_or("");
    total += message_size(body, message_attributes(entry, "MessageAttributes"));
  }
  if (total > kMaxBatchBytes) {
    throw AwsError("BatchRequestTooLong", 400,
                   "Batch requests cannot be longer than " + std::to_string(kMaxBatchBytes) +
                       " bytes. You have sent " + std::to_string(total) + " bytes.");
  }
  (void)call.engine.describe(id);  // a missing queue fails the call, not each entry
  run_batch(call, entries, [&](const json& entry) { return send_one(call, id, entry); });
}

void receive_message(Call& call) {
  auto id = authorized_queue(call, "ReceiveMessage");
  ReceiveRequest r;
  r.max_messages = int_in_range(call.in, "MaxNumberOfMessages", 1, 10, "Must be between 1 and 10, if provided")
                       .value_or(1);
  r.visibility_timeout =
      int_in_range(call.in, "VisibilityTimeout", 0, 43200, "Must be between 0 and 43200, if provided");
  auto wait = int_in_range(call.in, "WaitTimeSeconds", 0, 20, "Must be >= 0 and <= 20, if provided");
  std::set<std::string> system_names;
  for (const char* list : {"AttributeNames", "MessageSystemAttributeNames"}) {
    for (auto& n : string_list(call.in, list)) {
      system_names.insert(std::move(n));
    }
  }
  auto attribute_names = string_list(call.in, "MessageAttributeNames");
  auto summary = call.engine.describe(id);
  auto received = call.engine.receive(id, r);
  json messages = json::array();
  for (const auto& m : received) {
    messages.push_back(message_json(m, system_names, attribute_names));
  }
  if (!messages.empty()) {
    call.out["Messages"] = std::move(messages);
  }
  call.wait_seconds = wait.value_or(summary.wait_seconds);
  call.wait_queue = id;
}

void delete_message(Call& call) {
  auto id = authorized_queue(call, "DeleteMessage");
  call.engine.delete_message(id, required_string(call.in, "ReceiptHandle"));
}

void delete_message_batch(Call& call) {
  auto id = authorized_queue(call, "DeleteMessage");
  const json& entries = batch_entries(call, "DeleteMessageBatchRequestEntry");
  (void)call.engine.describe(id);
  run_batch(call, entries, [&](const json& entry) {
    call.engine.delete_message(id, required_string(entry, "ReceiptHandle"));
    return json::object();
  });
}

std::int64_t visibility_timeout_of(const json& in) {
  auto v = int_in_range(in, "VisibilityTimeout", 0, 43200, "VisibilityTimeout must be an integer between 0 and 43200");
  if (!v) {
    throw missing_parameter("VisibilityTimeout");
  }
  return *v;
}

void change_message_visibility(Call& call) {
  auto id = authorized_queue(call, "ChangeMessageVisibility");
  auto handle = required_string(call.in, "ReceiptHandle");
  call.engine.change_visibility(id, handle, visibility_timeout_of(call.in));
}

void change_message_visibility_batch(Call& call) {
  auto id = authorized_queue(call, "ChangeMessageVisibility");
  const json& entries = batch_entries(call, "ChangeMessageVisibilityBatchRequestEntry");
  (void)call.engine.describe(id);
  run_batch(call, entries, [&](const json& entry) {
    call.engine.change_visibility(id, required_string(entry, "ReceiptHandle"), visibility_timeout_of(entry));
    return json::object();
  });
}

void purge_queue(Call& call) { call.engine.purge(authorized_queue(call, "PurgeQueue")); }

void list_dead_letter_source_queues(Call& call) {
  auto sources = call.engine.dead_letter_sources(authorized_queue(call, "ListDeadLetterSourceQueues"));
  std::map<std::string, std::string> by_name;  // name → account (sources share the DLQ's account)
  std::vector<std::string> names;
  for (const auto& s : sources) {
    by_name[s.name] = s.account;
    names.push_back(s.name);
  }
  std::sort(names.begin(), names.end());
  json urls = json::array();
  for (const auto& name : paginate(call, names)) {
    urls.push_back(queue_url(call, by_name[name], name));
  }
  call.out["queueUrls"] = std::move(urls);
}

void list_queue_tags(Call& call) {
  auto tags = call.engine.tags(authorized_queue(call, kOwnerOnly));
  if (!tags.empty()) {
    call.out["Tags"] = tags;
  }
}

void tag_queue(Call& call) {
  auto id = authorized_queue(call, kOwnerOnly);
  if (member(call.in, "Tags") == nullptr) {
    throw missing_parameter("Tags");
  }
  call.engine.tag(id, string_map(call.in, "Tags"));
}

void untag_queue(Call& call) {
  auto id = authorized_queue(call, kOwnerOnly);
  if (member(call.in, "TagKeys") == nullptr) {
    throw missing_parameter("TagKeys");
  }
  call.engine.untag(id, string_list(call.in, "TagKeys"));
}

void add_permission(Call& call) {
  auto id = authorized_queue(call, kOwnerOnly);
  auto label = required_string(call.in, "Label");
  auto accounts = string_list(call.in, "AWSAccountIds");
  auto actions = string_list(call.in, "Actions");
  bool label_ok = !label.empty() && label.size() <= 80 && std::all_of(label.begin(), label.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (!label_ok) {
    throw invalid_value("Label", label, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  }
  if (accounts.empty()) {
    throw missing_parameter("AWSAccountIds");
  }
  if (actions.empty()) {
    throw missing_parameter("Actions");
  }
  static const std::set<std::string> kActions = {
      "*", "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
      "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue",
      "ListQueueTags", "ListMessageMoveTasks", "StartMessageMoveTask", "CancelMessageMoveTask"};
  json principals = json::array();
  for (const auto& a : accounts) {
    principals.push_back("arn:aws:iam::" + a + ":root");
  }
  json action_list = json::array();
  for (const auto& a : actions) {
    if (kActions.count(a) == 0) {
      throw invalid_value("ActionName", a, "Please refer to the appropriate WSDL for a list of valid actions");
    }
    action_list.push_back("SQS:" + a);
  }
  call.engine.edit_policy(id, [&](const std::string& current, const std::string& arn) {
    json policy = current.empty() ? json::object() : protocol::parse_json_limited(current);
    if (!policy.is_object()) {
      policy = json::object();
    }
    if (!policy.contains("Version")) {
      policy["Version"] = "2012-10-17";
      policy["Id"] = arn + "/SQSDefaultPolicy";
    }
    auto& statements = policy["Statement"];
    if (!statements.is_array()) {
      statements = json::array();
    }
    for (const auto& s : statements) {
      if (s.value("Sid", std::string()) == label) {
        throw invalid_value("Label", label, "Already exists");
      }
    }
    statements.push_back({{"Sid", label},
                          {"Effect", "Allow"},
                          {"Principal", {{"AWS", principals.size() == 1 ? principals[0] : principals}}},
                          {"Action", action_list.size() == 1 ? action_list[0] : action_list},
                          {"Resource", arn}});
    return policy.dump();
  });
}

void remove_permission(Call& call) {
  auto id = authorized_queue(call, kOwnerOnly);
  auto label = required_string(call.in, "Label");
  call.engine.edit_policy(id, [&](const std::string& current, const std::string&) {
    json policy = current.empty() ? json::object() : protocol::parse_json_limited(current);
    bool found = false;
    if (policy.is_object() && policy.contains("Statement") && policy["Statement"].is_array()) {
      auto& statements = policy["Statement"];
      for (auto it = statements.begin(); it != statements.end(); ++it) {
        if (it->is_object() && it->value("Sid", std::string()) == label) {
          statements.erase(it);
          found = true;
          break;
        }
      }
    }
    if (!found) {
      throw invalid_value("Label", label, "can't find label on existing policy");
    }
    return policy["Statement"].empty() ? std::string() : policy.dump();
  });
}

void start_message_move_task(Call& call) {
  auto source = required_string(call.in, "SourceArn");
  auto destination = optional_string(call.in, "DestinationArn").value_or("");
  check_own_arn(call, source, "SourceArn");
  check_own_arn(call, destination, "DestinationArn");
  auto rate = int_in_range(call.in, "MaxNumberOfMessagesPerSecond", 1, 500,
                           "MaxNumberOfMessagesPerSecond must be between 1 and 500");
  call.out["TaskHandle"] = call.engine.start_move_task(source, destination, rate.value_or(-1));
}

void list_message_move_tasks(Call& call) {
  auto source = required_string(call.in, "SourceArn");
  check_own_arn(call, source, "SourceArn");
  auto max = int_in_range(call.in, "MaxResults", 1, 10, "MaxResults must be between 1 and 10").value_or(1);
  json results = json::array();
  for (const auto& t : call.engine.list_move_tasks(source, static_cast<std::size_t>(max))) {
    json entry = {{"Status", t.status},
                  {"SourceArn", t.source_arn},
                  {"ApproximateNumberOfMessagesMoved", t.moved},
                  {"ApproximateNumberOfMessagesToMove", t.to_move},
                  {"StartedTimestamp", t.started_ms}};
    if (t.status == "RUNNING") {
      entry["TaskHandle"] = t.handle;
    }
    if (!t.destination_arn.empty()) {
      entry["DestinationArn"] = t.destination_arn;
    }
    if (t.max_per_second > 0) {
      entry["MaxNumberOfMessagesPerSecond"] = t.max_per_second;
    }
    if (!t.failure_reason.empty()) {
      entry["FailureReason"] = t.failure_reason;
    }
    results.push_back(std::move(entry));
  }
  call.out["Results"] = std::move(results);
}

void cancel_message_move_task(Call& call) {
  auto handle = required_string(call.in, "TaskHandle");
  call.out["ApproximateNumberOfMessagesMoved"] = call.engine.cancel_move_task(handle, call.account);
}

}  // namespace

const std::map<std::string, Handler, std::less<>>& operations() {
  static const std::map<std::string, Handler, std::less<>> kOperations = {
      {"AddPermission", add_permission},
      {"CancelMessageMoveTask", cancel_message_move_task},
      {"ChangeMessageVisibility", change_message_visibility},
      {"ChangeMessageVisibilityBatch", change_message_visibility_batch},
      {"CreateQueue", create_queue},
      {"DeleteMessage", delete_message},
      {"DeleteMessageBatch", delete_message_batch},
      {"DeleteQueue", delete_queue},
      {"GetQueueAttributes", get_queue_attributes},
      {"GetQueueUrl", get_queue_url},
      {"ListDeadLetterSourceQueues", list_dead_letter_source_queues},
      {"ListMessageMoveTasks", list_message_move_tasks},
      {"ListQueueTags", list_queue_tags},
      {"ListQueues", list_queues},
      {"PurgeQueue", purge_queue},
      {"ReceiveMessage", receive_message},
      {"RemovePermission", remove_permission},
      {"SendMessage", send_message},
      {"SendMessageBatch", send_message_batch},
      {"SetQueueAttributes", set_queue_attributes},
      {"StartMessageMoveTask", start_message_move_task},
      {"TagQueue", tag_queue},
      {"UntagQueue", untag_queue},
  };
  return kOperations;
}

}  // namespace fogbank::sqs
