#pragma once
// Amazon S3 (REST-XML). This first cut answers ListBuckets; the rest of the API (buckets,
// objects, multipart, checksums) lands with the S3 issue and answers 501 NotImplemented until then.

#include <memory>

#include "fogbank/protocol/service.hpp"
#include "fogbank/storage/store.hpp"

namespace fogbank::s3 {

std::shared_ptr<protocol::Service> make_s3_service(storage::Store& store);

/// The 64-hex-digit canonical user id S3 shows as Owner/ID for an account.
std::string canonical_user_id(std::string_view account_id);

}  // namespace fogbank::s3
