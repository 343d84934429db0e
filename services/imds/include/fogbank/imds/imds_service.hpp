#pragma once
// The EC2 Instance Metadata Service (IMDSv1 and IMDSv2), served on its own listener.
//
// IMDS speaks plain HTTP without SigV4: GET paths under /latest/ (or a dated version) return text
// listings and values; PUT /latest/api/token issues IMDSv2 session tokens. The instance role's
// credentials are real temporary credentials from sts::CredentialStore, so the rest of fogbank
// accepts them.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/http.hpp"
#include "fogbank/sts/credentials.hpp"

namespace fogbank::imds {

/// What the instance looks like. Defaults look like a real t3.micro in the configured region.
struct InstanceConfig {
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
  std::string instance_id = "i-0fb1c3d5e7a9b2c4d";
  std::string ami_id = "ami-0c02fb55956c7d316";
  std::string instance_type = "t3.micro";
  std::string role_name = "fogbank-instance-role";
  std::string local_ipv4 = "10.0.1.23";
  std::string public_ipv4 = "203.0.113.25";
  std::string mac = "0e:49:61:0f:c3:11";
  std::string vpc_id = "vpc-0a1b2c3d4e5f67890";
  std::string subnet_id = "subnet-0123456789abcdef0";
  std::string security_group = "default";
  std::string security_group_id = "sg-0123456789abcdef0";
  std::string user_data;          ///< empty = none (404)
  bool v2_required = false;       ///< HttpTokens=required
  std::map<std::string, std::string> tags;  ///< served under tags/instance/ when non-empty
  /// Extra or replaced meta-data leaves: path below meta-data/ → value.
  std::map<std::string, std::string> overrides;
  /// Where the identity-document signing key and certificate are kept (generated on first use).
  std::string signing_dir;
};

/// Every time-dependent answer (token TTLs, role-credential rotation and expiry, event delays, the
/// launch time) follows `clock`, so a virtual clock moves them too. Thread-safe.
class ImdsService {
 public:
  /// `clock` must outlive the service.
  ImdsService(InstanceConfig config, std::shared_ptr<sts::CredentialStore> credentials,
              const protocol::Clock& clock);
  ~ImdsService();

  /// Answers one request (the body is ignored; IMDS requests have none).
  [[nodiscard]] protocol::Response handle(const protocol::RequestHead& head);

  /// Admin: schedules an event (spot/instance-action, rebalance, maintenance, lifecycle state)
  /// to appear `delay_seconds` from the clock's now. `kind` is one of "spot-interruption",
  /// "rebalance", "maintenance", "lifecycle"; `value` is the lifecycle state or the spot action.
  /// Returns false for an unknown kind.
  bool trigger_event(const std::string& kind, const std::string& value, std::int64_t delay_seconds);
  /// Clears every triggered event.
  void clear_events();
  /// PEM certificate that verifies the identity document's signature, pkcs7 and rsa2048.
  [[nodiscard]] std::string certificate();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fogbank::imds
