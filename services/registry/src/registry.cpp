#include "fogbank/services/registry.hpp"

#include "fogbank/s3/s3_service.hpp"
#include "fogbank/sns/sns_service.hpp"
#include "fogbank/sqs/sqs_service.hpp"
#include "fogbank/sts/credentials.hpp"
#include "fogbank/sts/sts_service.hpp"

namespace fogbank::services {

std::vector<std::shared_ptr<protocol::Service>> make_all(const protocol::Platform& platform,
                                                         std::shared_ptr<sts::CredentialStore> credentials) {
  std::vector<std::shared_ptr<protocol::Service>> all;
  all.push_back(sts::make_sts_service(platform, credentials));
  all.push_back(s3::make_s3_service(platform));
  auto sqs = sqs::make_sqs(platform);
  all.push_back(sqs.service);
  auto sns = sns::make_sns(platform, sqs.sink);
  all.push_back(sns.service);
  return all;
}

}  // namespace fogbank::services
