#include "fogbank/sts/sts_service.hpp"

#include <algorithm>
#include <ctime>
#include <regex>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/modeled_service.hpp"

namespace fogbank::sts {

using protocol::AwsError;
namespace sigv4 = protocol::sigv4;

namespace {

using protocol::codec::Value;

Value credentials_value(const sigv4::Credential& c) {
  return Value{{"AccessKeyId", c.access_key},
               {"SecretAccessKey", c.secret_key},
               {"SessionToken", c.session_token},
               {"Expiration", c.expires_at}};
}

bool has_policy(const Value& in) { return in.contains("Policy") || in.contains("PolicyArns"); }

class StsService final : public protocol::ModeledService {
 public:
  explicit StsService(std::shared_ptr<CredentialStore> creds)
      : ModeledService(spec(this)), creds_(std::move(creds)) {}

 private:
  static protocol::ModeledServiceSpec spec(StsService* self) {
    protocol::ModeledServiceSpec s;
    s.name = "sts";
    s.model = "sts";
    s.validation.code = "ValidationError";
    auto bind = [self](Value (StsService::*fn)(const Value&, protocol::Call&)) {
      return [self, fn](Value in, protocol::Call& call) { return (self->*fn)(in, call); };
    };
    s.operations = {
        {"GetCallerIdentity", bind(&StsService::get_caller_identity)},
        {"GetSessionToken", bind(&StsService::get_session_token)},
        {"AssumeRole", bind(&StsService::assume_role)},
        {"GetFederationToken", bind(&StsService::get_federation_token)},
        {"GetAccessKeyInfo", bind(&StsService::get_access_key_info)},
        {"DecodeAuthorizationMessage", bind(&StsService::decode_authorization_message)},
    };
    return s;
  }

  Value get_caller_identity(const Value&, protocol::Call& call) {
    const auto& caller = call.ctx.caller;
    return Value{{"UserId", caller.user_id}, {"Account", caller.account_id}, {"Arn", caller.arn}};
  }

  Value get_session_token(const Value& in, protocol::Call& call) {
    const auto& caller = call.ctx.caller;
    if (caller.temporary()) {
      throw AwsError("AccessDenied", 403, "Cannot call GetSessionToken with session credentials");
    }
    // Root sessions are capped at one hour; IAM users default to 12 hours.
    bool root = caller.arn.ends_with(":root");
    std::int64_t seconds = in.value("DurationSeconds", root ? std::int64_t{3600} : std::int64_t{43200});
    if (root) {
      seconds = std::min<std::int64_t>(seconds, 3600);
    }
    auto c = creds_->issue(caller.account_id, caller.arn, caller.user_id, call.ctx.now, seconds);
    return Value{{"Credentials", credentials_value(c)}};
  }

  Value assume_role(const Value& in, protocol::Call& call) {
    const auto& role_arn = in.at("RoleArn").get_ref<const std::string&>();
    const auto& session = in.at("RoleSessionName").get_ref<const std::string&>();
    auto duration = in.value("DurationSeconds", std::int64_t{3600});
    static const std::regex kRoleArn(R"(arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64}))");
    std::smatch m;
    if (!std::regex_match(role_arn, m, kRoleArn)) {
      throw AwsError("ValidationError", 400, role_arn + " is invalid");
    }
    std::string account = m[1].str();
    std::string role_name = m[2].str();
    std::string assumed_id = iam_unique_id("AROA", role_arn) + ":" + session;
    std::string assumed_arn = "arn:aws:sts::" + account + ":assumed-role/" + role_name + "/" + session;
    auto c = creds_->issue(account, assumed_arn, assumed_id, call.ctx.now, duration);
    Value out{{"Credentials", credentials_value(c)},
              {"AssumedRoleUser", {{"AssumedRoleId", assumed_id}, {"Arn", assumed_arn}}}};
    if (has_policy(in)) {
      out["PackedPolicySize"] = 6;
    }
    if (auto source = in.find("SourceIdentity"); source != in.end()) {
      out["SourceIdentity"] = *source;
    }
    return out;
  }

  Value get_federation_token(const Value& in, protocol::Call& call) {
    const auto& caller = call.ctx.caller;
    const auto& name = in.at("Name").get_ref<const std::string&>();
    auto duration = in.value("DurationSeconds", std::int64_t{43200});
    if (caller.temporary()) {
      throw AwsError("AccessDenied", 403, "Cannot call GetFederationToken with session credentials");
    }
    std::string fed_id = caller.account_id + ":" + name;
    std::string fed_arn = "arn:aws:sts::" + caller.account_id + ":federated-user/" + name;
    auto c = creds_->issue(caller.account_id, fed_arn, fed_id, call.ctx.now, duration);
    Value out{{"Credentials", credentials_value(c)},
              {"FederatedUser", {{"FederatedUserId", fed_id}, {"Arn", fed_arn}}}};
    if (has_policy(in)) {
      out["PackedPolicySize"] = 6;
    }
    return out;
  }

  Value get_access_key_info(const Value& in, protocol::Call& call) {
    auto found = creds_->find(in.at("AccessKeyId").get<std::string>());
    return Value{{"Account", found ? found->account_id : call.ctx.caller.account_id}};
  }

  Value decode_authorization_message(const Value& in, protocol::Call&) {
    // fogbank never encodes authorization messages, so nothing can be decoded.
    const auto& message = in.at("EncodedMessage").get_ref<const std::string&>();
    throw AwsError("InvalidAuthorizationMessageException", 400,
                   message.empty() ? "The message is empty" : "The encoded message is invalid");
  }

  std::shared_ptr<CredentialStore> creds_;
};

}  // namespace

std::string iso8601(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::shared_ptr<protocol::Service> make_sts_service(std::shared_ptr<CredentialStore> credentials) {
  return std::make_shared<StsService>(std::move(credentials));
}

std::shared_ptr<protocol::Service> make_sts_service(const protocol::Platform&,
                                                    std::shared_ptr<CredentialStore> credentials) {
  return make_sts_service(std::move(credentials));
}

}  // namespace fogbank::sts
