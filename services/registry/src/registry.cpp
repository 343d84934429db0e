#include "fogbank/services/registry.hpp"

#include "fogbank/s3/s3_service.hpp"
#include "fogbank/sns/sns_service.hpp"
#include "fogbank/sqs/sqs_service.hpp"
#include "fogbank/sts/credentials.hpp"
#include "fogbank/sts/sts_service.hpp"

namespace fogbank::services {

std::vector<std::shared_ptr<protocol::Service>> make_all(const protocol::Platform& platform,
                                                         std::shared_ptr<sts::CredentialStore> credentials) {
  // SNS delivers to SQS; S3's event notifications go to both, so S3 is made after them (the
  // registration order stays sts, s3, sqs, sns).
  auto sqs = sqs::make_sqs(platform);
  auto sns = sns::make_sns(platform, sqs.sink);
  std::vector<std::shared_ptr<protocol::Service>> all;
  all.push_back(sts::make_sts_service(platform, credentials));
  all.push_back(s3::make_s3_service(platform, s3::NotificationTargets{sqs.sink, sns.publisher}));
  all.push_back(sqs.service);
  all.push_back(sns.service);
  return all;
}

}  // namespace fogbank::services
