#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from the codec fixtures
(tests/data/codec/*.json, requests botocore produced) and from AWS documentation examples.
Re-run after a fixture refresh; libFuzzer grows the corpus from these at run time."""

import base64
import hashlib
import json
import pathlib
import struct
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
FIXTURES = ROOT / "tests" / "data" / "codec"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


def fixture_bodies(model, operations):
    """{operation: (query_string, body)} of each operation's "default" request."""
    out = {}
    for r in json.loads((FIXTURES / f"{model}.json").read_text())["requests"]:
        if r["operation"] in operations and r["variant"] == "default":
            out[r["operation"]] = (r["request"]["query_string"], r["request"]["body"])
    return out


def model_operations(model):
    """Operation names in the order model.hpp's std::map holds them."""
    return sorted(json.loads((ROOT / "protocol" / "models" / f"{model}.json").read_text())["operations"])


# --- query: byte 0 = index into query.cpp's kTargets, then "query\nform" -------------------------
QUERY_TARGETS = [("sqs-query", "SendMessageBatch"), ("sts", "AssumeRole"), ("sns", "Publish"),
                 ("sqs-query", "SendMessage"), ("sqs-query", "CreateQueue"), ("sns", "PublishBatch"),
                 ("sqs-query", "SetQueueAttributes"), ("sts", "AssumeRoleWithWebIdentity")]
for i, (model, op) in enumerate(QUERY_TARGETS):
    bodies = fixture_bodies(model, {op})
    if op in bodies:
        qs, body = bodies[op]
        put("query", f"{model}-{op}", bytes([i]) + f"{qs}\n{body}".encode())

# --- json: byte 0 = index into json.cpp's kTargets -------------------------------------------
JSON_TARGETS = [("kinesis", "PutRecords"), ("sqs", "SendMessage"), ("sqs", "SendMessageBatch"),
                ("kinesis", "PutRecord"), ("sqs", "CreateQueue"), ("sqs", "ReceiveMessage"),
                ("firehose", "PutRecordBatch"), ("kinesis", "GetShardIterator")]
for i, (model, op) in enumerate(JSON_TARGETS):
    bodies = fixture_bodies(model, {op}) if (FIXTURES / f"{model}.json").exists() else {}
    if op in bodies:
        put("json", f"{model}-{op}", bytes([i]) + bodies[op][1].encode())
put("json", "kinesis-PutRecords-small",
    b"\x00" + json.dumps({"StreamName": "s1", "Records": [
        {"Data": base64.b64encode(b"hello").decode(), "PartitionKey": "p1"},
        {"Data": "", "PartitionKey": "p2", "ExplicitHashKey": "1"}]}).encode())

# --- json_text: byte 0 even = a document for the Scanner, odd = a base64 text ------------------
put("json_text", "put-records", b"\x00" + json.dumps({"StreamName": "s", "Records": [
    {"Data": base64.b64encode(bytes(range(100))).decode(), "PartitionKey": "k"}]}).encode())
put("json_text", "get-records", b"\x00" + b'{"ShardIterator": "AAAA.bbbb", "Limit": 10000}')
put("json_text", "nested", b"\x00" + b'[{"a": [1, -2, {"b": []}]}, "x"]')
put("json_text", "base64", b"\x01" + base64.b64encode(bytes(range(256)) * 2))
put("json_text", "base64-padded", b"\x01" + base64.b64encode(bytes(range(40))))

# --- validate: model index, operation index, switches, body ---------------------------------
VALIDATE_MODELS = ["sqs", "kinesis", "firehose", "sqs-query", "sts", "sns"]
for mi, model in enumerate(VALIDATE_MODELS):
    if not (FIXTURES / f"{model}.json").exists():
        continue
    ops = model_operations(model)
    wanted = {"sqs": ["SendMessage", "CreateQueue"], "kinesis": ["PutRecords", "CreateStream"],
              "sqs-query": ["SendMessageBatch"], "sts": ["AssumeRole"], "sns": ["Publish", "Subscribe"]}
    bodies = fixture_bodies(model, set(wanted.get(model, [])))
    for op, (qs, body) in bodies.items():
        put("validate", f"{model}-{op}", bytes([mi, ops.index(op), 0]) + body.encode())
put("validate", "kinesis-bad-stream-name",
    bytes([1, model_operations("kinesis").index("CreateStream"), 0]) +
    b'{"StreamName": "has space", "ShardCount": 0}')


# --- cbor: byte 0 = index into cbor.cpp's kOperations -----------------------------------------
def cbor(v):
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for size, code in ((1, 24), (2, 25), (4, 26), (8, 27)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | code]) + n.to_bytes(size, "big")
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    if isinstance(v, tuple):  # (tag, value)
        return head(6, v[0]) + cbor(v[1])
    raise TypeError(v)


put("cbor", "PutRecords", b"\x00" + cbor({"StreamName": "s1", "Records": [
    {"Data": b"hello", "PartitionKey": "p1"}, {"Data": b"\x00\xff", "PartitionKey": "p2",
                                               "ExplicitHashKey": "42"}]}))
put("cbor", "PutRecord", b"\x01" + cbor({"StreamName": "s1", "Data": b"x" * 30, "PartitionKey": "k",
                                          "SequenceNumberForOrdering": "1"}))
put("cbor", "GetRecords", b"\x02" + cbor({"ShardIterator": "AAAA", "Limit": 100}))
put("cbor", "GetShardIterator-timestamp", b"\x03" + cbor({
    "StreamName": "s1", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
    "Timestamp": (1, 1700000000123)}))
put("cbor", "PutRecords-indefinite", b"\x00" + b"\xbf" + cbor("StreamName") + cbor("s") +
    cbor("Records") + b"\x9f" + cbor({"Data": b"a", "PartitionKey": "p"}) + b"\xff\xff")

# --- xml: byte 0 = index into xml.cpp's kOperations --------------------------------------------
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
XML = [
    ("CompleteMultipartUpload", 0,
     f'<CompleteMultipartUpload {NS}><Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag>'
     '</Part><Part><PartNumber>2</PartNumber><ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag>'
     '<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>'),
    ("Delete", 1,
     f'<?xml version="1.0" encoding="UTF-8"?>\n<Delete {NS}><Quiet>true</Quiet><Object><Key>sample1.txt</Key>'
     '</Object><Object><Key>a&amp;b &#x20AC;</Key><VersionId>null</VersionId></Object></Delete>'),
    ("LifecycleConfiguration", 2,
     f'<LifecycleConfiguration {NS}><Rule><ID>id1</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key>'
     '<Value>v</Value></Tag><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></And></Filter><Status>Enabled'
     '</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration>'
     '<Date>2030-01-01T00:00:00.000Z</Date></Expiration><NoncurrentVersionExpiration><NoncurrentDays>7'
     '</NoncurrentDays></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>'),
    ("AccessControlPolicy", 3,
     f'<AccessControlPolicy {NS}><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a'
     '</ID><DisplayName>owner</DisplayName></Owner><AccessControlList><Grant><Grantee '
     'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>75aa57f09aa0c8ca'
     '</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant><Grant><Grantee xmlns:xsi="http://www.w3.'
     'org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers'
     '</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>'),
    ("Tagging", 4, f'<Tagging {NS}><TagSet><Tag><Key>project</Key><Value><![CDATA[a<b]]></Value></Tag>'
                   '</TagSet></Tagging>'),
    ("CreateBucketConfiguration", 5,
     f'<CreateBucketConfiguration {NS}><LocationConstraint>eu-west-1</LocationConstraint>'
     '</CreateBucketConfiguration>'),
]
for name, i, doc in XML:
    put("xml", name, bytes([i]) + doc.encode())

# --- uri: byte 0 = flags -----------------------------------------------------------------------
put("uri", "path", b"\x02/bucket/a%20b/%E2%82%AC~x")
put("uri", "query", b"\x01Action=SendMessage&MessageBody=a+b%26c&Version=2012-11-05&empty=&flag")
put("uri", "presigned", b"\x00X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=86400")

# --- sigv4: byte 0 = flags (S3 style, round trip), "METHOD TARGET\nName: value..." --------------
AUTH = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
put("sigv4", "s3-get-object", "\x01GET /test.txt\nHost: examplebucket.s3.amazonaws.com\nRange: bytes=0-9\n"
    "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    f"x-amz-date: 20130524T000000Z\nAuthorization: {AUTH}\n")
put("sigv4", "presigned", "\x01GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
    "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
    "X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\n"
    "Host: examplebucket.s3.amazonaws.com\n")
put("sigv4", "sqs-round-trip", "\x02POST /?Action=ListQueues&a=b%20c\nHost: localhost:4566\n"
    "Content-Type: application/x-www-form-urlencoded\nX-Amz-Meta-Thing:   two  spaces  \n")
put("sigv4", "sts-session-token", "\x00POST /\nHost: sts.amazonaws.com\nX-Amz-Date: 20231114T221320Z\n"
    "X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLE\nAuthorization: AWS4-HMAC-SHA256 Credential=ASIATEMP/20231114/"
    "us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature="
    "0000000000000000000000000000000000000000000000000000000000000000\n")

# --- aws_chunked: flags, piece seed, body --------------------------------------------------------
SIG = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
put("aws_chunked", "unsigned-trailer", b"\x02\x07" + b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n")
put("aws_chunked", "signed-raw", b"\x04\x00" + f"5;chunk-signature={SIG}\r\nhello\r\n0;chunk-signature={SIG}\r\n\r\n".encode())
put("aws_chunked", "built-signed", b"\x14\x05" + b"\x05hello\x03abc\x00")
put("aws_chunked", "built-signed-trailer", b"\x1d\x0b" + b"\x05hello\x00x-amz-checksum-crc32:NhCmhg==")
put("aws_chunked", "built-unsigned-trailer", b"\x1e\x00" + b"\x02hi\x00x-amz-checksum-sha256:abc=\nx-amz-checksum-crc32c:xyz=")

# --- http_head: read-size seed, then the wire -------------------------------------------------
put("http_head", "get", b"\x00GET /bucket/key?versionId=3 HTTP/1.1\r\nHost: localhost:4566\r\n"
    b"User-Agent: aws-cli/2\r\nAccept-Encoding: identity\r\n\r\n")
put("http_head", "put-chunked", b"\x11PUT /b/k HTTP/1.1\r\nHost: [::1]:4566\r\nTransfer-Encoding: chunked\r\n"
    b"Expect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\nx-amz-checksum-crc32: NhCmhg==\r\n\r\n")
put("http_head", "post-form", b"\x03POST / HTTP/1.1\r\nHost: sqs.us-east-1.localhost\r\nContent-Length: 27\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n\r\nAction=ListQueues&Version=1")
put("http_head", "absolute-form", b"\x01GET http://example.com:80/x?y HTTP/1.0\r\nHost: example.com\r\n"
    b"Connection: keep-alive\r\n\r\n")

# --- s3_post_policy: flags, then sections -------------------------------------------------------
POLICY = json.dumps({"expiration": "2030-01-01T00:00:00.000Z", "conditions": [
    {"bucket": "bkt"}, ["starts-with", "$key", "uploads/"], {"acl": "private"},
    ["content-length-range", 1, 1048576], ["eq", "$Content-Type", "text/plain"],
    {"x-amz-meta-color": "blue"}]})
put("s3_post_policy", "signed", "\x00" + POLICY + "\n--\nkey=uploads/${filename}\nacl=private\n"
    "Content-Type=text/plain\nx-amz-meta-color=blue\n--\nfile body")
put("s3_post_policy", "signed-redirect", "\x00" + json.dumps({"expiration": "2030-01-01T00:00:00Z", "conditions": [
    ["starts-with", "$success_action_redirect", "http://"], ["starts-with", "$key", ""],
    ["starts-with", "$tagging", ""]]}) + "\n--\nkey=k\nsuccess_action_redirect=http://x/?a=b\n"
    "tagging=<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>\n--\nx")
put("s3_post_policy", "signed-expired", "\x00" + json.dumps({"expiration": "2001-01-01T00:00:00Z",
                                                              "conditions": []}) + "\n--\nkey=k\n--\nx")
RAW = ("--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nphotos/${filename}\r\n"
       "--XyZ\r\nContent-Disposition: form-data; name=\"success_action_status\"\r\n\r\n201\r\n"
       "--XyZ\r\ncontent-disposition: form-data; name=\"x-amz-meta-tag\"\r\n\r\nv\r\n"
       "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.png\"\r\n"
       "Content-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ--\r\n")
put("s3_post_policy", "raw", "\x01multipart/form-data; boundary=XyZ\n" + RAW)

# --- sqs_attributes: flags, queue attributes, message attributes, body ------------------------------
put("sqs_attributes", "standard", "\x02VisibilityTimeout=60\nRedrivePolicy={\"deadLetterTargetArn\":"
    "\"arn:aws:sqs:us-east-1:000000000000:dlq\",\"maxReceiveCount\":\"5\"}\nPolicy={\"Version\":\"2012-10-17\","
    "\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:SendMessage\"}]}\n--\n"
    "color\tString\tblue\ncount\tNumber\t42\nblob\tBinary\t\x00\x01\n--\nhello \xe2\x82\xac")
put("sqs_attributes", "fifo", "\x03FifoQueue=true\nContentBasedDeduplication=true\nDeduplicationScope=messageGroup\n"
    "FifoThroughputLimit=perMessageGroupId\nRedriveAllowPolicy={\"redrivePermission\":\"byQueue\","
    "\"sourceQueueArns\":[\"arn:aws:sqs:us-east-1:000000000000:src.fifo\"]}\n--\n--\nbody")
put("sqs_attributes", "system", "\x04KmsMasterKeyId=alias/aws/sqs\nMaximumMessageSize=1024\n--\n"
    "AWSTraceHeader\tString\tRoot=1-5759e988-bd862e3fe1be46a994272793\n--\n\t\r\n")

# --- event_stream: byte 0 = feed step; then framed messages ------------------------------------
def frame(headers, payload):
    block = b""
    for name, value in headers:
        block += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
    prelude = struct.pack(">II", 12 + len(block) + len(payload) + 4, len(block))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + block + payload
    return message + struct.pack(">I", zlib.crc32(message))


put("event_stream", "subscribe", b"\x05" + frame(
    [(":event-type", "initial-response"), (":content-type", "application/json"), (":message-type", "event")],
    b"{}") + frame([(":event-type", "SubscribeToShardEvent"), (":content-type", "application/json"),
                    (":message-type", "event")],
                   b'{"Records":[],"ContinuationSequenceNumber":"1","MillisBehindLatest":0}'))
put("event_stream", "exception", b"\x00" + frame(
    [(":exception-type", "ResourceInUseException"), (":message-type", "exception")], b'{"message":"x"}'))

# --- resource_policy: flags, policy, resource, caller account, caller ARN, action -------------------
_SEP = "\n--\n"
put("resource_policy", "allow_account", "\x00" + _SEP.join([
    '{"Version":"2012-10-17","Statement":[{"Sid":"1","Effect":"Allow","Principal":{"AWS":'
    '["111111111111","arn:aws:iam::222222222222:root"]},"Action":["sqs:Send*","sqs:ReceiveMessage"],'
    '"Resource":"arn:aws:sqs:us-east-1:000000000000:q*"}]}',
    "arn:aws:sqs:us-east-1:000000000000:queue1", "111111111111",
    "arn:aws:iam::111111111111:user/alice", "sqs:SendMessage"]))
put("resource_policy", "deny_wins", "\x01" + _SEP.join([
    '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":{"AWS":"*"},'
    '"Action":"SNS:Publish","Resource":["arn:aws:sns:*:*:t?pic"]},{"Effect":"Allow","Principal":"*",'
    '"Action":"sns:Subscribe","Condition":{"StringEquals":{"aws:SourceArn":"x"}}}]}',
    "arn:aws:sns:us-east-1:000000000000:topic", "333333333333", "", "sns:publish"]))
put("resource_policy", "kinesis", "\x00" + _SEP.join([
    '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":'
    '"arn:aws:iam::111111111111:role/reader"},"Action":"kinesis:Get*","NotResource":"x"}}',
    "arn:aws:kinesis:us-east-1:000000000000:stream/s", "111111111111",
    "arn:aws:sts::111111111111:assumed-role/reader/session", "kinesis:GetRecords"]))
put("resource_policy", "conditions", "\x00" + _SEP.join([
    '{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::enc/*",'
    '"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"},"Null":{"s3:x-amz-acl":"true"}}},'
    '{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*","Condition":{"NumericLessThanEqualsIfExists":'
    '{"s3:max-keys":"10"},"Bool":{"aws:SecureTransport":"true"},"ArnLike":{"aws:SourceArn":["arn:aws:sns:*"]},'
    '"StringLike":{"s3:prefix":["home/*"]},"ForAnyValue:StringEquals":{"k":"v"}}}]}',
    "arn:aws:s3:::enc/app.apk", "000000000000", "arn:aws:iam::000000000000:root", "s3:PutObject",
    "s3:x-amz-server-side-encryption=aws:kms\naws:SecureTransport=true\ns3:max-keys=5\n"
    "aws:SourceArn=arn:aws:sns:us-east-1:000000000000:t\ns3:prefix=home/x"]))

# --- sns_filter_policy: flags (bit 0 body scope), policy, attribute lines, body ----------------------
put("sns_filter_policy", "attributes", "\x00" + _SEP.join([
    '{"store":["example_corp"],"event":[{"anything-but":["order_cancelled"]}],"price_usd":'
    '[{"numeric":[">=",100,"<",500]}],"customer":[{"prefix":"vip-"},{"suffix":".com"}],'
    '"$or":[{"ip":[{"cidr":"10.0.0.0/24"}]},{"region":[{"equals-ignore-case":"EU-West-1"}]}]}',
    "store\tString\texample_corp\nevent\tString\torder_placed\nprice_usd\tNumber\t210.75\n"
    "customer\tString\tvip-7\nip\tString\t10.0.0.9\ntags\tString.Array\t[\"a\",\"b\"]",
    ""]))
put("sns_filter_policy", "body", "\x01" + _SEP.join([
    '{"order":{"status":[{"exists":true}],"total":[{"numeric":["=",3]}],"items":{"sku":[{"prefix":"A"}]}},'
    '"flag":[true,null],"note":[{"anything-but":{"prefix":"test"}}]}',
    "",
    '{"order":{"status":"new","total":3,"items":[{"sku":"A-1"},{"sku":"B-2"}]},"flag":true,"note":"prod"}']))
