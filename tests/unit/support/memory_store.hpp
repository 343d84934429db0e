#pragma once
// A store in RocksDB's memory environment, for unit tests that need persistence without a disk.

#include <memory>
#include <stdexcept>

#include "fogbank/storage/store.hpp"

namespace fogbank::test {

/// Throws (which GoogleTest reports as a failure) if the store cannot be opened.
inline std::unique_ptr<storage::Store> memory_store() {
  storage::Options options;
  options.in_memory = true;
  storage::Status status;
  auto store = storage::Store::open(options, status);
  if (!store || !status.is_ok()) {
    throw std::runtime_error("opening an in-memory store failed: " + status.message());
  }
  return store;
}

}  // namespace fogbank::test
