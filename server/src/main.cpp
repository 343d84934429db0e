#include <exception>
#include <iostream>

#include "fogbank/server/app.hpp"
#include "fogbank/server/config.hpp"

int main(int argc, char** argv) {
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
