#pragma once
// RocksDB's CRC32C replaced by ISA-L's at link time (rocksdb_crc32c.cpp says why and how).

#include <string_view>

namespace fogbank::storage {

inline constexpr std::string_view kRocksDbCrc32cBackend = "ISA-L crc32_iscsi (fogbank)";

/// True when RocksDB's CRC32C gives the standard check value. Store::open calls it before opening
/// a database, which also makes the linker take rocksdb_crc32c.o ahead of librocksdb.a's own.
bool rocksdb_crc32c_ok();

}  // namespace fogbank::storage
