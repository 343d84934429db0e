// The REST-XML document codec against real S3 shapes. The request bodies below are what
// botocore 1.43's RestXMLSerializer produces for the operations named (generated once with
// botocore and pasted in), so decoding them is decoding what SDKs send.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"

namespace fogbank::protocol::codec {
namespace {

using nlohmann::json;

constexpr std::string_view kDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::string_view kS3Ns = "http://s3.amazonaws.com/doc/2006-03-01/";

// The payload member of an S3 operation's input: its shape and, as wire name, the root element.
const model::Member& payload_member(std::string_view op) {
  const auto* operation = model::get("s3").operation(op);
  if (operation == nullptr || operation->input == nullptr) {
    throw std::logic_error("no S3 operation " + std::string(op));
  }
  const auto* m = operation->input->find(operation->input->payload);
  if (m == nullptr) {
    throw std::logic_error(std::string(op) + " has no payload member");
  }
  return *m;
}

json decode(std::string_view op, std::string_view body) { return decode_xml(*payload_member(op).shape, body); }

std::string encode(std::string_view op, const json& value) {
  const auto& m = payload_member(op);
  return encode_xml(*m.shape, value, m.wire_name(), kS3Ns);
}

// The body exactly as S3 would answer it: declaration, then the document.
std::string doc(std::string_view body) { return std::string(kDecl) + std::string(body); }

bool malformed(const model::Shape& shape, std::string_view body) {
  try {
    decode_xml(shape, body);
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code, "MalformedXML");
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.message,
              "The XML you provided was not well-formed or did not validate against our published schema");
    return true;
  }
  return false;
}

bool malformed(std::string_view op, std::string_view body) { return malformed(*payload_member(op).shape, body); }

// decode(encode(v)) == v, and encoding is stable.
void expect_round_trip(std::string_view op, const json& value) {
  auto text = encode(op, value);
  EXPECT_EQ(decode(op, text), value) << text;
  EXPECT_EQ(encode(op, decode(op, text)), text);
}

TEST(CodecXml, VersioningConfiguration) {
  auto v = decode("PutBucketVersioning",
                  "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                  "<Status>Enabled</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>");
  EXPECT_EQ(v, json({{"Status", "Enabled"}, {"MFADelete", "Disabled"}}));
  // Members come out in model order, under their wire names.
  EXPECT_EQ(encode("PutBucketVersioning", v),
            doc("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                "<MfaDelete>Disabled</MfaDelete><Status>Enabled</Status></VersioningConfiguration>"));
  EXPECT_EQ(decode("PutBucketVersioning", "<VersioningConfiguration/>"), json::object());
  EXPECT_EQ(encode("PutBucketVersioning", json::object()),
            doc("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></VersioningConfiguration>"));
}

TEST(CodecXml, LifecycleConfiguration) {
  auto v = decode(
      "PutBucketLifecycleConfiguration",
      "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ID>expire-logs</ID>"
      "<Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
      "<ObjectSizeGreaterThan>1024</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status>"
      "<Expiration><Date>2030-01-02T00:00:00Z</Date></Expiration>"
      "<Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>"
      "<Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>"
      "<NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays></NoncurrentVersionExpiration>"
      "<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
      "</Rule><Rule><ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Disabled</Status>"
      "<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration>"
      "</Rule></LifecycleConfiguration>");
  ASSERT_EQ(v["Rules"].size(), 2u);
  const auto& first = v["Rules"][0];
  EXPECT_EQ(first["ID"], "expire-logs");
  EXPECT_EQ(first["Filter"]["And"]["Prefix"], "logs/");
  EXPECT_EQ(first["Filter"]["And"]["Tags"], json::parse(R"([{"Key":"k","Value":"v"}])"));
  EXPECT_EQ(first["Filter"]["And"]["ObjectSizeGreaterThan"], 1024);
  EXPECT_EQ(first["Expiration"]["Date"], 1893542400);
  ASSERT_TRUE(first["Expiration"]["Date"].is_number_integer());
  EXPECT_EQ(first["Transitions"], json::parse(R"([{"Days":30,"StorageClass":"STANDARD_IA"},
                                                 {"Days":90,"StorageClass":"GLACIER"}])"));
  EXPECT_EQ(first["NoncurrentVersionExpiration"]["NoncurrentDays"], 7);
  EXPECT_EQ(first["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"], 3);
  EXPECT_EQ(v["Rules"][1]["Expiration"], json({{"Days", 1}, {"ExpiredObjectDeleteMarker", false}}));
  expect_round_trip("PutBucketLifecycleConfiguration", v);
  // S3 writes dates with milliseconds.
  EXPECT_NE(encode("PutBucketLifecycleConfiguration", v).find("<Date>2030-01-02T00:00:00.000Z</Date>"),
            std::string::npos);
}

TEST(CodecXml, CorsConfigurationFlattenedStringLists) {
  constexpr std::string_view kBody =
      "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><CORSRule><ID>r1</ID>"
      "<AllowedHeader>*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
      "<AllowedOrigin>https://a.example</AllowedOrigin><AllowedOrigin>https://b.example</AllowedOrigin>"
      "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>";
  auto v = decode("PutBucketCors", kBody);
  EXPECT_EQ(v, json::parse(R"({"CORSRules":[{"ID":"r1","AllowedHeaders":["*"],"AllowedMethods":["GET","PUT"],
      "AllowedOrigins":["https://a.example","https://b.example"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}]})"));
  EXPECT_EQ(encode("PutBucketCors", v), doc(kBody));
}

TEST(CodecXml, AccessControlPolicyGranteeTypeIsAnAttribute) {
  auto v = decode(
      "PutBucketAcl",
      "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><AccessControlList><Grant>"
      "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">"
      "<ID>abc</ID><DisplayName>me</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
      "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">"
      "<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>"
      "</AccessControlList><Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner></AccessControlPolicy>");
  EXPECT_EQ(v, json::parse(R"({"Grants":[
      {"Grantee":{"Type":"CanonicalUser","ID":"abc","DisplayName":"me"},"Permission":"FULL_CONTROL"},
      {"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}],
      "Owner":{"ID":"abc","DisplayName":"me"}})"));
  auto text = encode("PutBucketAcl", v);
  EXPECT_EQ(text,
            doc("<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><AccessControlList><Grant>"
                "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">"
                "<DisplayName>me</DisplayName><ID>abc</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
                "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">"
                "<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission>"
                "</Grant></AccessControlList><Owner><DisplayName>me</DisplayName><ID>abc</ID></Owner>"
                "</AccessControlPolicy>"));
  expect_round_trip("PutBucketAcl", v);
  // Any prefix bound to the instance namespace names the same attribute.
  auto other_prefix = decode("PutBucketAcl",
                             "<AccessControlPolicy><AccessControlList><Grant><Grantee "
                             "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" i:type=\"Group\">"
                             "<URI>u</URI></Grantee></Grant></AccessControlList></AccessControlPolicy>");
  EXPECT_EQ(other_prefix["Grants"][0]["Grantee"]["Type"], "Group");
  // Type is required: a grantee without xsi:type does not validate.
  EXPECT_TRUE(malformed("PutBucketAcl",
                        "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>abc</ID></Grantee>"
                        "</Grant></AccessControlList></AccessControlPolicy>"));
  // As an element it is unknown (its wire form is the attribute).
  EXPECT_TRUE(malformed("PutBucketAcl",
                        "<AccessControlPolicy><AccessControlList><Grant><Grantee xsi:type=\"Group\">"
                        "<Type>Group</Type></Grantee></Grant></AccessControlList></AccessControlPolicy>"));
}

TEST(CodecXml, NotificationConfiguration) {
  auto v = decode(
      "PutBucketNotificationConfiguration",
      "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><QueueConfiguration><Id>q</Id>"
      "<Queue>arn:aws:sqs:us-east-1:000000000000:q</Queue><Event>s3:ObjectCreated:*</Event>"
      "<Event>s3:ObjectRemoved:Delete</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>in/</Value>"
      "</FilterRule><FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter>"
      "</QueueConfiguration><TopicConfiguration><Topic>arn:aws:sns:us-east-1:000000000000:t</Topic>"
      "<Event>s3:ObjectCreated:Put</Event></TopicConfiguration><EventBridgeConfiguration /></NotificationConfiguration>");
  EXPECT_EQ(v, json::parse(R"({
      "QueueConfigurations":[{"Id":"q","QueueArn":"arn:aws:sqs:us-east-1:000000000000:q",
        "Events":["s3:ObjectCreated:*","s3:ObjectRemoved:Delete"],
        "Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"in/"},{"Name":"suffix","Value":".jpg"}]}}}],
      "TopicConfigurations":[{"TopicArn":"arn:aws:sns:us-east-1:000000000000:t","Events":["s3:ObjectCreated:Put"]}],
      "EventBridgeConfiguration":{}})"));
  expect_round_trip("PutBucketNotificationConfiguration", v);
  EXPECT_NE(encode("PutBucketNotificationConfiguration", v).find("<EventBridgeConfiguration></EventBridgeConfiguration>"),
            std::string::npos);
}

TEST(CodecXml, WebsiteConfigurationWrappedListWithNamedMembers) {
  constexpr std::string_view kBody =
      "<WebsiteConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><ErrorDocument><Key>error.html</Key>"
      "</ErrorDocument><IndexDocument><Suffix>index.html</Suffix></IndexDocument><RoutingRules><RoutingRule>"
      "<Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals><KeyPrefixEquals>docs/"
      "</KeyPrefixEquals></Condition><Redirect><HttpRedirectCode>301</HttpRedirectCode><Protocol>https</Protocol>"
      "<ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect></RoutingRule></RoutingRules>"
      "</WebsiteConfiguration>";
  auto v = decode("PutBucketWebsite", kBody);
  EXPECT_EQ(v["IndexDocument"]["Suffix"], "index.html");
  EXPECT_EQ(v["RoutingRules"][0]["Redirect"]["HttpRedirectCode"], "301");
  EXPECT_EQ(v["RoutingRules"][0]["Condition"]["KeyPrefixEquals"], "docs/");
  EXPECT_EQ(encode("PutBucketWebsite", v), doc(kBody));
  // Inside the wrapper only the list member's element is allowed.
  EXPECT_TRUE(malformed("PutBucketWebsite", "<WebsiteConfiguration><RoutingRules><member/></RoutingRules></WebsiteConfiguration>"));
}

TEST(CodecXml, ServerSideEncryptionConfiguration) {
  constexpr std::string_view kBody =
      "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"
      "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>key-1"
      "</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"
      "</ServerSideEncryptionConfiguration>";
  auto v = decode("PutBucketEncryption", kBody);
  EXPECT_EQ(v, json::parse(R"({"Rules":[{"ApplyServerSideEncryptionByDefault":
      {"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"key-1"},"BucketKeyEnabled":true}]})"));
  EXPECT_EQ(encode("PutBucketEncryption", v), doc(kBody));
  // Rules is required.
  EXPECT_TRUE(malformed("PutBucketEncryption", "<ServerSideEncryptionConfiguration/>"));
}

TEST(CodecXml, ObjectLockConfiguration) {
  constexpr std::string_view kBody =
      "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><ObjectLockEnabled>Enabled"
      "</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>5</Days></DefaultRetention>"
      "</Rule></ObjectLockConfiguration>";
  auto v = decode("PutObjectLockConfiguration", kBody);
  EXPECT_EQ(v, json::parse(R"({"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":5}}})"));
  EXPECT_EQ(encode("PutObjectLockConfiguration", v), doc(kBody));
}

TEST(CodecXml, OwnershipControlsAndPublicAccessBlock) {
  constexpr std::string_view kOwnership =
      "<OwnershipControls xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ObjectOwnership>"
      "BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>";
  auto o = decode("PutBucketOwnershipControls", kOwnership);
  EXPECT_EQ(o, json::parse(R"({"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]})"));
  EXPECT_EQ(encode("PutBucketOwnershipControls", o), doc(kOwnership));

  constexpr std::string_view kBlock =
      "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><BlockPublicAcls>true"
      "</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy>"
      "<RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>";
  auto b = decode("PutPublicAccessBlock", kBlock);
  EXPECT_EQ(b, json::parse(R"({"BlockPublicAcls":true,"IgnorePublicAcls":false,"BlockPublicPolicy":true,
                               "RestrictPublicBuckets":false})"));
  EXPECT_EQ(encode("PutPublicAccessBlock", b), doc(kBlock));
  // xsd:boolean collapses whitespace; anything but true/false is not a boolean.
  EXPECT_EQ(decode("PutPublicAccessBlock",
                   "<PublicAccessBlockConfiguration><BlockPublicAcls>\n true \n</BlockPublicAcls>"
                   "</PublicAccessBlockConfiguration>")["BlockPublicAcls"],
            true);
  EXPECT_TRUE(malformed("PutPublicAccessBlock",
                        "<PublicAccessBlockConfiguration><BlockPublicAcls>True</BlockPublicAcls>"
                        "</PublicAccessBlockConfiguration>"));
  EXPECT_TRUE(malformed("PutPublicAccessBlock",
                        "<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>"
                        "</PublicAccessBlockConfiguration>"));
}

TEST(CodecXml, TaggingEscapesAndRequiredMembers) {
  constexpr std::string_view kBody =
      "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet><Tag><Key>a</Key><Value>1</Value></Tag>"
      "<Tag><Key>b &amp; c</Key><Value>&lt;x&gt;</Value></Tag></TagSet></Tagging>";
  auto v = decode("PutBucketTagging", kBody);
  EXPECT_EQ(v, json::parse(R"({"TagSet":[{"Key":"a","Value":"1"},{"Key":"b & c","Value":"<x>"}]})"));
  EXPECT_EQ(encode("PutBucketTagging", v), doc(kBody));
  // Empty values and whitespace are kept as sent.
  EXPECT_EQ(decode("PutObjectTagging", "<Tagging><TagSet><Tag><Key> k </Key><Value/></Tag></TagSet></Tagging>"),
            json::parse(R"({"TagSet":[{"Key":" k ","Value":""}]})"));
  EXPECT_EQ(decode("PutObjectTagging", "<Tagging><TagSet/></Tagging>"), json::parse(R"({"TagSet":[]})"));
  EXPECT_TRUE(malformed("PutBucketTagging", "<Tagging/>"));
  EXPECT_TRUE(malformed("PutBucketTagging", "<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>"));
  // Prefixed element names are matched on their local part.
  EXPECT_EQ(decode("PutBucketTagging",
                   "<s3:Tagging xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\"><s3:TagSet><s3:Tag>"
                   "<s3:Key>a</s3:Key><s3:Value>1</s3:Value></s3:Tag></s3:TagSet></s3:Tagging>"),
            json::parse(R"({"TagSet":[{"Key":"a","Value":"1"}]})"));
  // The output shape renders a GetBucketTagging answer.
  const auto* get = model::get("s3").operation("GetObjectTagging");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(encode_xml(*get->output, json::parse(R"({"TagSet":[], "VersionId":"v"})"), "Tagging", kS3Ns),
            doc("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet></TagSet></Tagging>"));
}

TEST(CodecXml, BucketLoggingStatus) {
  auto v = decode(
      "PutBucketLogging",
      "<BucketLoggingStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LoggingEnabled><TargetBucket>logs"
      "</TargetBucket><TargetPrefix>b/</TargetPrefix><TargetGrants><Grant><Grantee "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"AmazonCustomerByEmail\"><EmailAddress>"
      "a@example.com</EmailAddress></Grantee><Permission>READ</Permission></Grant></TargetGrants>"
      "<TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>EventTime</PartitionDateSource>"
      "</PartitionedPrefix></TargetObjectKeyFormat></LoggingEnabled></BucketLoggingStatus>");
  EXPECT_EQ(v, json::parse(R"({"LoggingEnabled":{"TargetBucket":"logs","TargetPrefix":"b/",
      "TargetGrants":[{"Grantee":{"Type":"AmazonCustomerByEmail","EmailAddress":"a@example.com"},"Permission":"READ"}],
      "TargetObjectKeyFormat":{"PartitionedPrefix":{"PartitionDateSource":"EventTime"}}}})"));
  expect_round_trip("PutBucketLogging", v);
  EXPECT_EQ(decode("PutBucketLogging", "<BucketLoggingStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\" />"),
            json::object());
}

TEST(CodecXml, PolicyStatusOutput) {
  const auto* op = model::get("s3").operation("GetBucketPolicyStatus");
  ASSERT_NE(op, nullptr);
  const auto* m = op->output->find(op->output->payload);
  ASSERT_NE(m, nullptr);
  auto text = encode_xml(*m->shape, json({{"IsPublic", true}}), m->wire_name(), kS3Ns);
  EXPECT_EQ(text, doc("<PolicyStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsPublic>true</IsPublic>"
                      "</PolicyStatus>"));
  EXPECT_EQ(decode_xml(*m->shape, text), json({{"IsPublic", true}}));
}

TEST(CodecXml, DeleteWithRfc822LastModifiedTime) {
  auto v = decode("DeleteObjects",
                  "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a</Key></Object><Object>"
                  "<Key>b c</Key><VersionId>v1</VersionId><ETag>\"e\"</ETag><LastModifiedTime>Mon, 06 May 2024 "
                  "07:08:09 GMT</LastModifiedTime><Size>12</Size></Object><Quiet>true</Quiet></Delete>");
  EXPECT_EQ(v, json::parse(R"({"Objects":[{"Key":"a"},{"Key":"b c","VersionId":"v1","ETag":"\"e\"",
      "LastModifiedTime":1714979289,"Size":12}],"Quiet":true})"));
  auto text = encode("DeleteObjects", v);
  EXPECT_NE(text.find("<LastModifiedTime>Mon, 06 May 2024 07:08:09 GMT</LastModifiedTime>"), std::string::npos);
  expect_round_trip("DeleteObjects", v);
  // Objects is required; an empty <Delete> does not validate.
  EXPECT_TRUE(malformed("DeleteObjects", "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></Delete>"));
  // Quiet may appear once.
  EXPECT_TRUE(malformed("DeleteObjects", "<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet><Quiet>false</Quiet></Delete>"));
}

TEST(CodecXml, CompleteMultipartUpload) {
  constexpr std::string_view kBody =
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><ETag>\"e1\"</ETag>"
      "<PartNumber>1</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><ETag>\"e2\"</ETag>"
      "<PartNumber>2</PartNumber></Part></CompleteMultipartUpload>";
  auto v = decode("CompleteMultipartUpload", kBody);
  EXPECT_EQ(v, json::parse(R"({"Parts":[{"ETag":"\"e1\"","PartNumber":1,"ChecksumCRC32":"AAAAAA=="},
                                         {"ETag":"\"e2\"","PartNumber":2}]})"));
  EXPECT_EQ(encode("CompleteMultipartUpload", v),
            doc("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><ETag>&quot;e1&quot;"
                "</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32><PartNumber>1</PartNumber></Part><Part><ETag>"
                "&quot;e2&quot;</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>"));
  EXPECT_EQ(decode("CompleteMultipartUpload", "<CompleteMultipartUpload xmlns=\"x\"/>"), json::object());
  EXPECT_TRUE(malformed("CompleteMultipartUpload",
                        "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber></Part></CompleteMultipartUpload>"));
  EXPECT_TRUE(malformed("CompleteMultipartUpload",
                        "<CompleteMultipartUpload><Part><PartNumber>2147483648</PartNumber></Part>"
                        "</CompleteMultipartUpload>"));
  EXPECT_EQ(decode("CompleteMultipartUpload",
                   "<CompleteMultipartUpload><Part><PartNumber> +7 </PartNumber></Part></CompleteMultipartUpload>"),
            json::parse(R"({"Parts":[{"PartNumber":7}]})"));
}

TEST(CodecXml, RetentionTimestampsKeepMilliseconds) {
  auto v = decode("PutObjectRetention",
                  "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode>"
                  "<RetainUntilDate>2031-02-03T04:05:06.789000Z</RetainUntilDate></Retention>");
  ASSERT_TRUE(v["RetainUntilDate"].is_number_float());
  EXPECT_DOUBLE_EQ(v["RetainUntilDate"].get<double>(), 1927857906.789);
  EXPECT_NE(encode("PutObjectRetention", v).find("<RetainUntilDate>2031-02-03T04:05:06.789Z</RetainUntilDate>"),
            std::string::npos);
  auto at = [](std::string_view text) {
    return decode("PutObjectRetention",
                  "<Retention><RetainUntilDate>" + std::string(text) + "</RetainUntilDate></Retention>")["RetainUntilDate"];
  };
  EXPECT_EQ(at("2031-02-03T04:05:06+02:00"), 1927857906 - 7200);
  EXPECT_EQ(at("2031-02-03T04:05:06-0130"), 1927857906 + 5400);
  EXPECT_EQ(at("2031-02-03"), 1927843200);
  EXPECT_EQ(at("Mon, 03 Feb 2031 04:05:06 GMT"), 1927857906);
  EXPECT_EQ(at("1970-01-01T00:00:00Z"), 0);
  for (std::string_view bad : {"2031-02-30T00:00:00Z", "2031-13-01T00:00:00Z", "2031-02-03T24:00:00Z",
                               "2031-02-03T04:05:06Q", "2031-02-03T04:05:06.Z", "1927857906", "tomorrow", ""}) {
    EXPECT_TRUE(malformed("PutObjectRetention",
                          "<Retention><RetainUntilDate>" + std::string(bad) + "</RetainUntilDate></Retention>"))
        << bad;
  }
}

TEST(CodecXml, CreateBucketConfiguration) {
  auto v = decode("CreateBucket",
                  "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
                  "eu-west-1</LocationConstraint></CreateBucketConfiguration>");
  EXPECT_EQ(v, json({{"LocationConstraint", "eu-west-1"}}));
  EXPECT_EQ(decode("CreateBucket", "<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>"),
            json({{"LocationConstraint", ""}}));
}

TEST(CodecXml, RefusesWhatDoesNotFitTheShape) {
  const auto& tagging = *payload_member("PutBucketTagging").shape;
  for (std::string_view bad : {
           "",                                                                       // not a document
           "<Tagging>",                                                              // not well-formed
           "<Tagging><TagSet></Tagging>",                                            // mismatched
           "<!DOCTYPE Tagging [<!ENTITY x \"y\">]><Tagging><TagSet/></Tagging>",     // DTD
           "<Tagging><TagSet/><Extra/></Tagging>",                                   // unknown element
           "<Tagging><TagSet/><TagSet/></Tagging>",                                  // repeated
           "<Tagging>text<TagSet/></Tagging>",                                       // text in a structure
           "<Tagging><TagSet>text</TagSet></Tagging>",                               // text in a list
           "<Tagging><TagSet><Tag><Key><b/></Key><Value/></Tag></TagSet></Tagging>", // element in a string
           "<Tagging><TagSet><Tag><Key>a</Key><Value>&nbsp;</Value></Tag></TagSet></Tagging>",  // HTML entity
           "<Tagging><TagSet><Tag><Key>a</Key><Value>v</Value></Tag></TagSet></Tagging><x/>",   // two roots
       }) {
    EXPECT_TRUE(malformed(tagging, bad)) << bad;
  }
  // The root's own name is not checked (the caller knows which document it expects).
  EXPECT_EQ(decode_xml(tagging, "<Anything><TagSet/></Anything>"), json::parse(R"({"TagSet":[]})"));
  // CDATA is text.
  EXPECT_EQ(decode_xml(tagging, "<Tagging><TagSet><Tag><Key><![CDATA[<k>]]></Key><Value>v</Value></Tag>"
                                "</TagSet></Tagging>")["TagSet"][0]["Key"],
            "<k>");
}

// Features S3's bodies do not use (maps, blobs, doubles, default list member names, epoch-second
// timestamps, a flattened list whose items are renamed) checked against a small model.
const model::ServiceModel& synthetic() {
  static const model::ServiceModel kModel = model::parse("xmltest", R"({
    "metadata": {"protocol": "rest-xml", "apiVersion": "2024-01-01"},
    "operations": {},
    "shapes": {
      "Doc": {"type": "structure", "members": {
        "Attrs": {"shape": "AttrMap"},
        "Flat": {"shape": "FlatMap", "flattened": true, "locationName": "Pair"},
        "Data": {"shape": "Bytes"},
        "Ratio": {"shape": "Ratio"},
        "When": {"shape": "Stamp", "timestampFormat": "unixTimestamp"},
        "Plain": {"shape": "Names"},
        "Renamed": {"shape": "RenamedItems", "locationName": "Outer"},
        "Count": {"shape": "Count"}
      }},
      "AttrMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}},
      "FlatMap": {"type": "map", "key": {"shape": "Str", "locationName": "Name"},
                  "value": {"shape": "Count", "locationName": "Number"}},
      "Names": {"type": "list", "member": {"shape": "Str"}},
      "RenamedItems": {"type": "list", "member": {"shape": "Str", "locationName": "Item"}, "flattened": true},
      "Bytes": {"type": "blob"},
      "Ratio": {"type": "double"},
      "Stamp": {"type": "timestamp"},
      "Count": {"type": "long"},
      "Str": {"type": "string"}
    }})");
  return kModel;
}

TEST(CodecXml, MapsBlobsDoublesAndDefaultNames) {
  const auto& shape = *synthetic().shape("Doc");
  auto v = decode_xml(shape,
                      "<Doc><Attrs><entry><key>a</key><value>1</value></entry><entry><value>2</value><key>b</key>"
                      "</entry></Attrs><Pair><Name>x</Name><Number>5</Number></Pair><Pair><Name>y</Name>"
                      "<Number>-6</Number></Pair><Data>AAEC/w==</Data><Ratio>0.25</Ratio><When>1700000000.5</When>"
                      "<Plain><member>p</member><member>q</member></Plain><Item>i1</Item><Outer>i2</Outer>"
                      "<Count>9007199254740993</Count></Doc>");
  EXPECT_EQ(v["Attrs"], json({{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(v["Flat"], json({{"x", 5}, {"y", -6}}));
  ASSERT_TRUE(v["Data"].is_binary());
  const auto& bytes = v["Data"].get_binary();
  EXPECT_EQ(std::vector<std::uint8_t>(bytes.begin(), bytes.end()), std::vector<std::uint8_t>({0x00, 0x01, 0x02, 0xFF}));
  EXPECT_DOUBLE_EQ(v["Ratio"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(v["When"].get<double>(), 1700000000.5);
  EXPECT_EQ(v["Plain"], json({"p", "q"}));
  // botocore writes a flattened list's items under the member's name and reads them under the
  // list member's locationName: both are accepted, the reader's form is written.
  EXPECT_EQ(v["Renamed"], json({"i1", "i2"}));
  EXPECT_EQ(v["Count"].get<std::int64_t>(), 9007199254740993);

  auto text = encode_xml(shape, v, "Doc", "");
  EXPECT_EQ(text, doc("<Doc><Attrs><entry><key>a</key><value>1</value></entry><entry><key>b</key><value>2</value>"
                      "</entry></Attrs><Pair><Name>x</Name><Number>5</Number></Pair><Pair><Name>y</Name>"
                      "<Number>-6</Number></Pair><Data>AAEC/w==</Data><Ratio>0.25</Ratio><When>1700000000.5</When>"
                      "<Plain><member>p</member><member>q</member></Plain><Item>i1</Item><Item>i2</Item>"
                      "<Count>9007199254740993</Count></Doc>"));
  EXPECT_EQ(decode_xml(shape, text), v);

  for (std::string_view bad : {
           "<Doc><Data>not base64!</Data></Doc>",
           "<Doc><Ratio>1e999</Ratio></Doc>",
           "<Doc><Ratio>half</Ratio></Doc>",
           "<Doc><When>2024-01-01T00:00:00Z</When></Doc>",
           "<Doc><Attrs><item><key>a</key><value>1</value></item></Attrs></Doc>",
           "<Doc><Attrs><entry><key>a</key></entry></Attrs></Doc>",
           "<Doc><Attrs><entry><key>a</key><value>1</value><value>2</value></entry></Attrs></Doc>",
           "<Doc><Pair><Name>x</Name><Number>five</Number></Pair></Doc>",
           "<Doc><Plain><item>p</item></Plain></Doc>",
           "<Doc><Count>9223372036854775808</Count></Doc>",
       }) {
    EXPECT_TRUE(malformed(shape, bad)) << bad;
  }
}

TEST(CodecXml, EncodingEscapesAndRefusesWrongTypes) {
  const auto& tagging = *payload_member("PutBucketTagging").shape;
  auto text = encode_xml(tagging, json::parse(R"({"TagSet":[{"Key":"a\r\nb","Value":"\"'<&>"}]})"), "Tagging", "");
  EXPECT_EQ(text, doc("<Tagging><TagSet><Tag><Key>a&#13;\nb</Key><Value>&quot;&apos;&lt;&amp;&gt;</Value></Tag>"
                      "</TagSet></Tagging>"));
  // What is written is read back unchanged, carriage return included.
  EXPECT_EQ(decode_xml(tagging, text)["TagSet"][0]["Key"], "a\r\nb");
  // Unknown and null members are left out.
  EXPECT_EQ(encode_xml(tagging, json::parse(R"({"TagSet":null,"Other":1})"), "Tagging", ""),
            doc("<Tagging></Tagging>"));
  EXPECT_THROW(encode_xml(tagging, json::parse(R"({"TagSet":{"Key":"a"}})"), "Tagging", ""), std::invalid_argument);
  EXPECT_THROW(encode_xml(tagging, json::parse(R"({"TagSet":[{"Key":1,"Value":"v"}]})"), "Tagging", ""),
               std::invalid_argument);
  EXPECT_THROW(encode_xml(tagging, json::array(), "Tagging", ""), std::invalid_argument);
}

}  // namespace
}  // namespace fogbank::protocol::codec
