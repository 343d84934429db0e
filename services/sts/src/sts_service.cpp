#include "fogbank/sts/sts_service.hpp"

#include <charconv>
#include <ctime>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/query.hpp"

namespace fogbank::sts {

using protocol::AwsError;
using protocol::QueryParams;
using protocol::RequestContext;
using protocol::Response;
using protocol::XmlWriter;
namespace sigv4 = protocol::sigv4;

namespace {

constexpr std::string_view kXmlns = "https://sts.amazonaws.com/doc/2011-06-15/";

// AWS's validation message format: "1 validation error detected: Value 'x' at 'field' failed to
// satisfy constraint: Member must ...".
AwsError validation(std::string_view value, std::string_view field, std::string_view constraint) {
  return AwsError("ValidationError", 400,
                  "1 validation error detected: Value '" + std::string(value) + "' at '" +
                      std::string(field) + "' failed to satisfy constraint: Member must " +
                      std::string(constraint));
}

AwsError missing(std::string_view field) {
  return AwsError("ValidationError", 400,
                  "1 validation error detected: Value null at '" + std::string(field) +
                      "' failed to satisfy constraint: Member must not be null");
}

struct Params {
  const QueryParams& all;
  [[nodiscard]] const std::string* get(std::string_view name) const {
    return protocol::find_param(all, name);
  }
  // Optional integer within [lo, hi]; AWS's member name is camelCase in messages.
  [[nodiscard]] std::optional<std::int64_t> integer(std::string_view name, std::string_view field,
                                                    std::int64_t lo, std::int64_t hi) const {
    const std::string* v = get(name);
    if (v == nullptr) {
      return std::nullopt;
    }
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size()) {
      throw AwsError("MalformedInput", 400, "Invalid value for " + std::string(name) + ": " + *v);
    }
    if (n < lo) {
      throw validation(*v, field, "have value greater than or equal to " + std::to_string(lo));
    }
    if (n > hi) {
      throw validation(*v, field, "have value less than or equal to " + std::to_string(hi));
    }
    return n;
  }
  [[nodiscard]] const std::string& required(std::string_view name, std::string_view field) const {
    const std::string* v = get(name);
    if (v == nullptr) {
      throw missing(field);
    }
    return *v;
  }
};

void check_string(const std::string& value, std::string_view field, std::size_t min, std::size_t max,
                  const char* pattern, std::string_view pattern_text) {
  if (value.size() < min) {
    throw validation(value, field, "have length greater than or equal to " + std::to_string(min));
  }
  if (value.size() > max) {
    throw validation(value, field, "have length less than or equal to " + std::to_string(max));
  }
  if (pattern != nullptr && !std::regex_match(value, std::regex(pattern))) {
    throw validation(value, field, "satisfy regular expression pattern: " + std::string(pattern_text));
  }
}

void write_credentials(XmlWriter& xml, const sigv4::Credential& c) {
  xml.open("Credentials")
      .element("AccessKeyId", c.access_key)
      .element("SecretAccessKey", c.secret_key)
      .element("SessionToken", c.session_token)
      .element("Expiration", iso8601(c.expires_at))
      .close();
}

class StsService final : public protocol::Service {
 public:
  explicit StsService(std::shared_ptr<CredentialStore> creds) : creds_(std::move(creds)) {
    ops_ = {
        {"GetCallerIdentity", &StsService::get_caller_identity},
        {"GetSessionToken", &StsService::get_session_token},
        {"AssumeRole", &StsService::assume_role},
        {"GetFederationToken", &StsService::get_federation_token},
        {"GetAccessKeyInfo", &StsService::get_access_key_info},
        {"DecodeAuthorizationMessage", &StsService::decode_authorization_message},
    };
  }

  std::string_view name() const override { return "sts"; }
  protocol::WireProtocol protocol() const override { return protocol::WireProtocol::kQuery; }
  std::string_view xml_namespace() const override { return kXmlns; }
  bool has_action(std::string_view action) const override {
    return ops_.count(std::string(action)) > 0 || kUnimplemented.count(std::string(action)) > 0;
  }

  Response handle(RequestContext& ctx, std::string body) override {
    auto all = protocol::query::collect_params(ctx.head.query, body);
    Params params{all};
    const std::string* action = params.get("Action");
    if (action == nullptr) {
      throw AwsError("MissingAction", 400, "Missing Action");
    }
    ctx.operation = *action;
    auto op = ops_.find(*action);
    if (op == ops_.end()) {
      if (kUnimplemented.count(*action) > 0) {
        throw protocol::errors::not_implemented("fogbank does not implement STS " + *action + " yet.");
      }
      throw AwsError("InvalidAction", 400,
                     "Could not find operation " + *action + " for version 2011-06-15");
    }
    std::string result_xml;
    auto xml = protocol::query::render_response(*action, kXmlns, ctx.request_id,
                                                [&](XmlWriter& w) { (this->*(op->second))(ctx, params, w); });
    return Response(200, std::move(xml), "text/xml");
  }

 private:
  using Handler = void (StsService::*)(RequestContext&, const Params&, XmlWriter&);

  static inline const std::set<std::string> kUnimplemented = {
      "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "AssumeRoot", "GetDelegatedAccessToken",
      "GetWebIdentityToken"};

  void get_caller_identity(RequestContext& ctx, const Params&, XmlWriter& xml) {
    xml.element("UserId", ctx.caller.user_id)
        .element("Account", ctx.caller.account_id)
        .element("Arn", ctx.caller.arn);
  }

  void get_session_token(RequestContext& ctx, const Params& p, XmlWriter& xml) {
    auto duration = p.integer("DurationSeconds", "durationSeconds", 900, 129600);
    if (const std::string* serial = p.get("SerialNumber")) {
      check_string(*serial, "serialNumber", 9, 256, R"([\w+=/:,.@-]*)", R"([\w+=/:,.@-]*)");
    }
    if (const std::string* code = p.get("TokenCode")) {
      check_string(*code, "tokenCode", 6, 6, R"(\d*)", R"([\d]*)");
    }
    if (ctx.caller.temporary()) {
      throw AwsError("AccessDenied", 403, "Cannot call GetSessionToken with session credentials");
    }
    // Root sessions are capped at one hour; IAM users default to 12 hours.
    bool root = ctx.caller.arn.ends_with(":root");
    std::int64_t seconds = duration.value_or(root ? 3600 : 43200);
    if (root) {
      seconds = std::min<std::int64_t>(seconds, 3600);
    }
    auto c = creds_->issue(ctx.caller.account_id, ctx.caller.arn, ctx.caller.user_id, ctx.now, seconds);
    write_credentials(xml, c);
  }

  void assume_role(RequestContext& ctx, const Params& p, XmlWriter& xml) {
    const auto& role_arn = p.required("RoleArn", "roleArn");
    const auto& session = p.required("RoleSessionName", "roleSessionName");
    check_string(role_arn, "roleArn", 20, 2048, nullptr, {});
    check_string(session, "roleSessionName", 2, 64, R"([\w+=,.@-]*)", R"([\w+=,.@-]*)");
    auto duration = p.integer("DurationSeconds", "durationSeconds", 900, 43200).value_or(3600);
    if (const std::string* ext = p.get("ExternalId")) {
      check_string(*ext, "externalId", 2, 1224, R"([\w+=,.@:/-]*)", R"([\w+=,.@:\/-]*)");
    }
    static const std::regex kRoleArn(R"(arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64}))");
    std::smatch m;
    if (!std::regex_match(role_arn, m, kRoleArn)) {
      throw AwsError("ValidationError", 400, role_arn + " is invalid");
    }
    std::string account = m[1].str();
    std::string role_name = m[2].str();
    std::string assumed_id = iam_unique_id("AROA", role_arn) + ":" + session;
    std::string assumed_arn = "arn:aws:sts::" + account + ":assumed-role/" + role_name + "/" + session;
    auto c = creds_->issue(account, assumed_arn, assumed_id, ctx.now, duration);
    write_credentials(xml, c);
    xml.open("AssumedRoleUser").element("AssumedRoleId", assumed_id).element("Arn", assumed_arn).close();
    if (p.get("Policy") != nullptr || p.get("PolicyArns.member.1.arn") != nullptr) {
      xml.element("PackedPolicySize", "6");
    }
    if (const std::string* source = p.get("SourceIdentity")) {
      xml.element("SourceIdentity", *source);
    }
  }

  void get_federation_token(RequestContext& ctx, const Params& p, XmlWriter& xml) {
    const auto& name = p.required("Name", "name");
    check_string(name, "name", 2, 32, R"([\w+=,.@-]*)", R"([\w+=,.@-]*)");
    auto duration = p.integer("DurationSeconds", "durationSeconds", 900, 129600).value_or(43200);
    if (ctx.caller.temporary()) {
      throw AwsError("AccessDenied", 403, "Cannot call GetFederationToken with session credentials");
    }
    std::string fed_id = ctx.caller.account_id + ":" + name;
    std::string fed_arn = "arn:aws:sts::" + ctx.caller.account_id + ":federated-user/" + name;
    auto c = creds_->issue(ctx.caller.account_id, fed_arn, fed_id, ctx.now, duration);
    write_credentials(xml, c);
    xml.open("FederatedUser").element("FederatedUserId", fed_id).element("Arn", fed_arn).close();
    if (p.get("Policy") != nullptr || p.get("PolicyArns.member.1.arn") != nullptr) {
      xml.element("PackedPolicySize", "6");
    }
  }

  void get_access_key_info(RequestContext& ctx, const Params& p, XmlWriter& xml) {
    const auto& key = p.required("AccessKeyId", "accessKeyId");
    check_string(key, "accessKeyId", 16, 128, R"([\w]*)", R"([\w]*)");
    auto found = creds_->find(key);
    xml.element("Account", found ? found->account_id : ctx.caller.account_id);
  }

  void decode_authorization_message(RequestContext&, const Params& p, XmlWriter&) {
    const auto& message = p.required("EncodedMessage", "encodedMessage");
    // fogbank never encodes authorization messages, so nothing can be decoded.
    throw AwsError("InvalidAuthorizationMessageException", 400,
                   message.empty() ? "The message is empty" : "The encoded message is invalid");
  }

  std::shared_ptr<CredentialStore> creds_;
  std::map<std::string, Handler, std::less<>> ops_;
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

}  // namespace fogbank::sts
