#include <malloc.h>
#include <sys/stat.h>

#include <exception>
#include <iostream>

#include "fogbank/server/app.hpp"
#include "fogbank/server/config.hpp"

int main(int argc, char** argv) {
  // Everything fogbank writes is private to its user: the RocksDB files hold the secret keys of
  // issued temporary credentials, and the TLS directory the CA's private key. RocksDB creates its
  // files with the process umask (usually 022: world-readable), so the umask is set before any
  // file exists rather than fixing modes afterwards, which would leave a window and miss files
  // created later (new SSTs, WAL segments).
  ::umask(077);
  // Large answers (a 10 MiB GetRecords is 14 MB of JSON) would otherwise each get a fresh mmap
  // from glibc, and faulting its pages in took a fifth of a Kinesis drain's CPU; from the heap,
  // a freed buffer's pages are reused by the next answer. 32 MiB is glibc's ceiling for it.
  ::mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  fogbank::server::Config config;
  if (auto code = fogbank::server::parse_config(argc, argv, config)) {
    return *code;
  }
  try {
    fogbank::server::App app(std::move(config));
    app.run();
  } catch (const std::exception& e) {
    std::cerr << "fogbank: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
