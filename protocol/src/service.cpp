#include "fogbank/protocol/service.hpp"

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::protocol {

std::unique_ptr<BodySink> Service::begin_stream(std::shared_ptr<RequestContext> ctx) {
  throw errors::not_implemented("This operation does not accept a streamed body.");
}

}  // namespace fogbank::protocol
