#pragma once
// Amazon S3 (REST-XML): buckets, objects, listings, multipart uploads, checksums, presigned and
// browser-form uploads. Object bytes stream into and out of RocksDB in chunks.

#include <memory>

#include "fogbank/protocol/service.hpp"
#include "fogbank/storage/store.hpp"

namespace fogbank::s3 {

/// `keys` verifies the policy signatures of browser POST uploads.
std::shared_ptr<protocol::Service> make_s3_service(
    storage::Store& store, std::shared_ptr<const protocol::sigv4::CredentialLookup> keys);

/// The 64-hex-digit canonical user id S3 shows as Owner/ID for an account.
std::string canonical_user_id(std::string_view account_id);

}  // namespace fogbank::s3
