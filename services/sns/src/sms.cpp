// SMS settings and opt-outs: Get/SetSMSAttributes, CheckIfPhoneNumberIsOptedOut,
// ListPhoneNumbersOptedOut, OptInPhoneNumber; the sandbox status and origination numbers.

#include <regex>
#include <set>

#include "engine.hpp"
#include "errors.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "input.hpp"
#include "persistence.hpp"

namespace fogbank::sns {

namespace {

constexpr std::size_t kPageSize = 100;

const std::set<std::string, std::less<>> kSmsAttributes = {"MonthlySpendLimit",       "DeliveryStatusIAMRole",
                                                           "DeliveryStatusSuccessSamplingRate", "DefaultSenderID",
                                                           "DefaultSMSType",          "UsageReportS3Bucket"};

std::string checked_phone(const Value& in) {
  const std::string phone = input::required_string(in, "phoneNumber");
  static const std::regex kE164(R"(\+?[1-9]\d{1,14})");
  if (!std::regex_match(phone, kE164)) {
    throw invalid_parameter("Invalid parameter: PhoneNumber Reason: input incorrectly formatted");
  }
  return phone;
}

}  // namespace

Value SnsEngine::set_sms_attributes(const Value& in, const Caller& c) {
  auto attributes = input::string_map(in, "attributes");
  if (!in.contains("attributes")) {
    throw missing_parameter("attributes");
  }
  static const std::regex kSenderId("[A-Za-z0-9]{1,11}");
  for (const auto& [name, value] : attributes) {
    if (kSmsAttributes.count(name) == 0) {
      throw invalid_parameter(name + " is not a valid attribute");
    }
  }
  if (auto it = attributes.find("DefaultSenderID"); it != attributes.end()) {
    const auto& id = it->second;
    bool letter = std::any_of(id.begin(), id.end(), [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); });
    if (!std::regex_match(id, kSenderId) || !letter) {
      throw invalid_parameter("DefaultSendID is not a valid attribute");  // sic, AWS's wording
    }
  }
  if (auto it = attributes.find("DefaultSMSType"); it != attributes.end() && it->second != "Promotional" &&
                                                    it->second != "Transactional") {
    throw invalid_parameter("DefaultSMSType is invalid");
  }
  std::lock_guard lock(mutex_);
  auto merged = sms_[{c.account, c.region}];
  for (const auto& [name, value] : attributes) {
    merged[name] = value;
  }
  storage::Batch batch;
  batch.put(storage::Space::kSns, persist::sms_key(c.account, c.region), nlohmann::json(merged).dump());
  commit(batch);
  sms_[{c.account, c.region}] = std::move(merged);
  return Value::object();
}

Value SnsEngine::get_sms_attributes(const Value& in, const Caller& c) {
  auto wanted = input::string_list(in, "attributes");
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> all = {{"MonthlySpendLimit", "1"}};
  if (auto it = sms_.find({c.account, c.region}); it != sms_.end()) {
    for (const auto& [k, v] : it->second) {
      all[k] = v;
    }
  }
  Value out = Value::object();
  for (const auto& [k, v] : all) {
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), k) != wanted.end()) {
      out[k] = v;
    }
  }
  return Value{{"attributes", std::move(out)}};
}

Value SnsEngine::check_if_phone_number_is_opted_out(const Value& in, const Caller& c) {
  const std::string phone = checked_phone(in);
  std::lock_guard lock(mutex_);
  return Value{{"isOptedOut", opted_out_.count({c.account, phone}) != 0}};
}

Value SnsEngine::list_phone_numbers_opted_out(const Value& in, const Caller& c) {
  auto token = input::optional_string(in, "nextToken");
  std::optional<std::string> marker;
  if (token && !token->empty()) {
    marker = protocol::base64_decode(*token);
    if (!marker) {
      throw invalid_parameter("Invalid parameter: NextToken");
    }
  }
  std::lock_guard lock(mutex_);
  Value numbers = Value::array();
  Value out = Value::object();
  auto it = opted_out_.lower_bound({c.account, marker.value_or("")});
  for (; it != opted_out_.end() && it->first == c.account; ++it) {
    if (numbers.size() == kPageSize) {
      out["nextToken"] = protocol::base64_encode(it->second);
      break;
    }
    numbers.push_back(it->second);
  }
  out["phoneNumbers"] = std::move(numbers);
  return out;
}

Value SnsEngine::opt_in_phone_number(const Value& in, const Caller& c) {
  const std::string phone = checked_phone(in);
  std::lock_guard lock(mutex_);
  if (opted_out_.count({c.account, phone}) != 0) {
    storage::Batch batch;
    batch.del(storage::Space::kSns, persist::opt_out_key(c.account, phone));
    commit(batch);
    opted_out_.erase({c.account, phone});
  }
  return Value::object();
}

Value SnsEngine::get_sms_sandbox_account_status(const Value&, const Caller&) {
  return Value{{"IsInSandbox", false}};
}

Value SnsEngine::list_origination_numbers(const Value&, const Caller&) {
  return Value{{"PhoneNumbers", Value::array()}};
}

}  // namespace fogbank::sns
