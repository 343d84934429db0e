#include "fogbank/s3/s3_service.hpp"

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/xml_writer.hpp"

namespace fogbank::s3 {

using protocol::AwsError;
using protocol::RequestContext;
using protocol::Response;

namespace {

constexpr std::string_view kXmlns = "http://s3.amazonaws.com/doc/2006-03-01/";

class S3Service final : public protocol::Service {
 public:
  explicit S3Service(storage::Store& store) : store_(store) {}

  std::string_view name() const override { return "s3"; }
  protocol::WireProtocol protocol() const override { return protocol::WireProtocol::kRestXml; }
  std::string_view xml_namespace() const override { return kXmlns; }

  Response handle(RequestContext& ctx, std::string body) override {
    const auto& head = ctx.head;
    if (head.method == "GET" && head.path == "/" && !is_virtual_host(head)) {
      ctx.operation = "ListBuckets";
      return list_buckets(ctx);
    }
    throw AwsError("NotImplemented", 501,
                   "A header you provided implies functionality that is not implemented");
  }

 private:
  // <bucket>.s3.<host> or <bucket>.localhost: the bucket is in the Host header.
  static bool is_virtual_host(const protocol::RequestHead& head) {
    auto host = head.host_name();
    return host.find(".s3.") != std::string_view::npos ||
           (host.size() > 10 && host.ends_with(".localhost"));
  }

  Response list_buckets(RequestContext& ctx) {
    protocol::XmlWriter xml;
    xml.open("ListAllMyBucketsResult", kXmlns);
    xml.open("Owner")
        .element("ID", canonical_user_id(ctx.account_id))
        .element("DisplayName", "webfile")
        .close();
    xml.open("Buckets").close();
    Response r(200, xml.finish(), "application/xml");
    r.headers.set("Server", "AmazonS3");
    return r;
  }

  storage::Store& store_;
};

}  // namespace

std::string canonical_user_id(std::string_view account_id) {
  return protocol::hex(protocol::sha256("fogbank-canonical-user:" + std::string(account_id)));
}

std::shared_ptr<protocol::Service> make_s3_service(storage::Store& store) {
  return std::make_shared<S3Service>(store);
}

}  // namespace fogbank::s3
