#include "fogbank/services/registry.hpp"

#include "fogbank/firehose/firehose_service.hpp"
#include "fogbank/kinesis/kinesis_service.hpp"
#include "fogbank/s3/s3_service.hpp"
#include "fogbank/sns/sns_service.hpp"
#include "fogbank/sqs/sqs_service.hpp"
#include "fogbank/sts/credentials.hpp"
#include "fogbank/sts/sts_service.hpp"

namespace fogbank::services {

std::vector<std::shared_ptr<protocol::Service>> make_all(const protocol::Platform& platform,
                                                         std::shared_ptr<sts::CredentialStore> credentials,
                                                         const ServiceOptions& options) {
  // SNS delivers to SQS; S3's event notifications go to both, so S3 is made after them (the
  // registration order stays sts, s3, sqs, sns). Firehose writes into S3's buckets and reads
  // Kinesis streams, so it comes last.
  auto sqs = sqs::make_sqs(platform);
  auto sns = sns::make_sns(platform, sqs.sink);
  std::vector<std::shared_ptr<protocol::Service>> all;
  all.push_back(sts::make_sts_service(platform, credentials));
  auto s3 = s3::make_s3(platform, s3::NotificationTargets{sqs.sink, sns.publisher}, options.s3);
  all.push_back(s3.service);
  all.push_back(sqs.service);
  all.push_back(sns.service);
  auto kinesis = kinesis::make_kinesis(platform, options.kinesis);
  all.push_back(kinesis.service);
  all.push_back(firehose::make_firehose_service(platform, s3.writer, kinesis.reader));
  return all;
}

}  // namespace fogbank::services
