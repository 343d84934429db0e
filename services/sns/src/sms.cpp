// SMS settings and opt-outs: Get/SetSMSAttributes, CheckIfPhoneNumberIsOptedOut,
// ListPhoneNumbersOptedOut, OptInPhoneNumber; the sandbox status, the sandbox's destination
// numbers (Create/Verify/List/DeleteSMSSandboxPhoneNumber) and origination numbers.

#include <charconv>
#include <regex>
#include <set>

#include "engine.hpp"
#include "delivery_log.hpp"
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

/// The sandbox operations' `PhoneNumber` (E.164 with its `+`, as the model's pattern asks).
std::string sandbox_phone(const Value& in) {
  auto phone = input::optional_string(in, "PhoneNumber");
  if (!phone) {
    throw missing_parameter("PhoneNumber");
  }
  static const std::regex kE164(R"(\+[1-9]\d{7,14})");
  if (!std::regex_match(*phone, kE164)) {
    throw invalid_parameter("Invalid parameter: PhoneNumber Reason: input incorrectly formatted");
  }
  return *phone;
}

protocol::AwsError sandbox_number_not_found() {
  return {"ResourceNotFound", 404, "Can't perform the action on the specified resource. Make sure that the resource exists."};
}

bool whole_number(const std::string& text, long long& n) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc() && end == text.data() + text.size();
}

/// Six digits, as the SMS AWS sends carries.
std::string one_time_password() {
  auto bytes = protocol::random_bytes(6);
  std::string code;
  for (unsigned char b : bytes) {
    code.push_back(static_cast<char>('0' + b % 10));
  }
  return code;
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

Value SnsEngine::create_sms_sandbox_phone_number(const Value& in, const Caller& c) {
  const std::string phone = sandbox_phone(in);
  if (auto language = input::optional_string(in, "LanguageCode")) {
    static const std::set<std::string, std::less<>> kLanguages = {"en-US", "en-GB", "es-419", "es-ES", "de-DE",
                                                                 "fr-CA", "fr-FR", "it-IT",  "ja-JP", "pt-BR",
                                                                 "kr-KR", "zh-CN", "zh-TW"};
    if (kLanguages.count(*language) == 0) {
      throw invalid_parameter("Invalid parameter: LanguageCode Reason: " + *language + " is not a supported language code");
    }
  }
  std::lock_guard lock(mutex_);
  if (opted_out_.count({c.account, phone}) != 0) {
    throw protocol::AwsError("OptedOut", 400, "Phone number is opted out.");
  }
  const SandboxKey key{c.account, c.region, phone};
  SandboxNumber number;
  if (auto it = sandbox_.find(key); it != sandbox_.end() && it->second.verified) {
    return Value::object();  // already verified: nothing to send
  }
  // A repeated request sends a fresh code, which replaces the one before it.
  number.one_time_password = one_time_password();
  storage::Batch batch;
  batch.put(storage::Space::kSns, persist::sandbox_key(key), persist::encode_sandbox_number(number));
  commit(batch);
  sandbox_[key] = number;
  // There is no phone to text: the code goes to the delivery log, where a test reads it back.
  DeliveryRecord r;
  r.time_ms = clock_();
  r.protocol = "sms";
  r.endpoint = phone;
  r.type = "SandboxVerification";
  r.body = "Your Amazon SNS verification code is: " + number.one_time_password;
  r.status = "recorded";
  r.attributes["OneTimePassword"] = number.one_time_password;
  log_->add(std::move(r));
  return Value::object();
}

Value SnsEngine::verify_sms_sandbox_phone_number(const Value& in, const Caller& c) {
  const std::string phone = sandbox_phone(in);
  auto code = input::optional_string(in, "OneTimePassword");
  if (!code) {
    throw missing_parameter("OneTimePassword");
  }
  static const std::regex kCode("[0-9]{5,8}");
  if (!std::regex_match(*code, kCode)) {
    throw invalid_parameter("Invalid parameter: OneTimePassword Reason: input incorrectly formatted");
  }
  std::lock_guard lock(mutex_);
  const SandboxKey key{c.account, c.region, phone};
  auto it = sandbox_.find(key);
  if (it == sandbox_.end()) {
    throw sandbox_number_not_found();
  }
  if (it->second.verified) {
    return Value::object();
  }
  if (*code != it->second.one_time_password) {
    throw protocol::AwsError("VerificationException", 400, "Invalid one-time password.").with_field("Status", "FAILED");
  }
  SandboxNumber verified{true, {}};
  storage::Batch batch;
  batch.put(storage::Space::kSns, persist::sandbox_key(key), persist::encode_sandbox_number(verified));
  commit(batch);
  it->second = verified;
  return Value::object();
}

Value SnsEngine::list_sms_sandbox_phone_numbers(const Value& in, const Caller& c) {
  std::size_t limit = kPageSize;
  if (in.contains("MaxResults")) {
    const auto& v = in["MaxResults"];
    long long n = 0;
    if (v.is_number_integer()) {
      n = v.get<long long>();
    } else if (!v.is_string() || !whole_number(v.get_ref<const std::string&>(), n)) {
      throw invalid_parameter("Invalid parameter: MaxResults Reason: must be a number");
    }
    if (n < 1 || n > 100) {
      throw invalid_parameter("Invalid parameter: MaxResults Reason: must be between 1 and 100");
    }
    limit = static_cast<std::size_t>(n);
  }
  std::string marker;
  if (auto token = input::optional_string(in, "NextToken"); token && !token->empty()) {
    auto decoded = protocol::base64_decode(*token);
    if (!decoded) {
      throw invalid_parameter("Invalid parameter: NextToken");
    }
    marker = *decoded;
  }
  std::lock_guard lock(mutex_);
  Value numbers = Value::array();
  Value out = Value::object();
  for (auto it = sandbox_.lower_bound(SandboxKey{c.account, c.region, marker}); it != sandbox_.end(); ++it) {
    if (it->first.account != c.account || it->first.region != c.region) {
      break;
    }
    if (numbers.size() == limit) {
      out["NextToken"] = protocol::base64_encode(it->first.phone);
      break;
    }
    numbers.push_back(Value{{"PhoneNumber", it->first.phone}, {"Status", it->second.verified ? "Verified" : "Pending"}});
  }
  out["PhoneNumbers"] = std::move(numbers);
  return out;
}

Value SnsEngine::delete_sms_sandbox_phone_number(const Value& in, const Caller& c) {
  const std::string phone = sandbox_phone(in);
  std::lock_guard lock(mutex_);
  const SandboxKey key{c.account, c.region, phone};
  if (sandbox_.count(key) == 0) {
    throw sandbox_number_not_found();
  }
  storage::Batch batch;
  batch.del(storage::Space::kSns, persist::sandbox_key(key));
  commit(batch);
  sandbox_.erase(key);
  return Value::object();
}

}  // namespace fogbank::sns
