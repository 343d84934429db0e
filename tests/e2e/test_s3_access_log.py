#!/usr/bin/env python3
"""S3 server access logging end to end: a bucket with PutBucketLogging gets one record per request
in AWS's server access log format (every field, quoted and bracketed as AWS writes them),
delivered into the target bucket as <TargetPrefix>YYYY-mm-DD-HH-MM-SS-<UniqueString> objects by
the delivery worker when the (virtual) clock moves on, or at once by POST
/_fogbank/s3/access-logs; the partitioned key format; nothing logged once logging is off."""

import datetime
import os
import re
import sys
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

# bucket-owner bucket [time] remote requester request-id operation key "request-uri" status error
# bytes-sent object-size total turnaround "referer" "user-agent" version host-id sigv cipher auth
# host tls access-point acl-required
FIELD = re.compile(r'\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\S+')
NAMES = ["owner", "bucket", "time", "remote", "requester", "request_id", "operation", "key", "request_uri",
         "status", "error", "bytes_sent", "object_size", "total_ms", "turnaround_ms", "referer", "user_agent",
         "version_id", "host_id", "signature", "cipher", "auth", "host", "tls", "access_point", "acl_required"]


def parse(line):
    fields = FIELD.findall(line)
    assert len(fields) == len(NAMES), (len(fields), line)
    return dict(zip(NAMES, fields))


class S3AccessLogTest(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        # Now (presigned URLs are signed with the real time), held still.
        self.start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.server.set_clock(self.start.timestamp())
        self.s3 = self.server.client("s3")
        self.owner = self.s3.list_buckets()["Owner"]["ID"]
        self.source = fh.unique_bucket("logsrc")
        self.target = fh.unique_bucket("logdst")
        self.s3.create_bucket(Bucket=self.source)
        self.s3.create_bucket(Bucket=self.target)

    def deliver(self):
        status, body, _ = self.server.admin("/_fogbank/s3/access-logs", method="POST")
        self.assertEqual(status, 200, body)
        return body["delivered"]

    def log_objects(self, prefix):
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.target, Prefix=prefix).get("Contents", [])]

    def records(self, prefix):
        lines = []
        for key in self.log_objects(prefix):
            lines += self.s3.get_object(Bucket=self.target, Key=key)["Body"].read().decode().splitlines()
        return [parse(line) for line in lines]

    def test_records_carry_every_field(self):
        self.s3.put_bucket_logging(Bucket=self.source, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": self.target, "TargetPrefix": "logs/"}})
        put = self.s3.put_object(Bucket=self.source, Key="dir/a b.txt", Body=b"hello world")
        get = self.s3.get_object(Bucket=self.source, Key="dir/a b.txt")
        get["Body"].read()
        self.s3.head_object(Bucket=self.source, Key="dir/a b.txt")
        with self.assertRaises(ClientError):
            self.s3.get_object(Bucket=self.source, Key="missing")
        self.s3.list_objects_v2(Bucket=self.source)
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": self.source, "Key": "dir/a b.txt"})
        with urllib.request.urlopen(url, timeout=10) as r:
            self.assertEqual(r.read(), b"hello world")
        self.assertEqual(self.log_objects("logs/"), [])  # nothing before a delivery
        self.assertEqual(self.deliver(), 1)
        keys = self.log_objects("logs/")
        self.assertEqual(len(keys), 1)
        self.assertRegex(keys[0], "^logs/" + self.start.strftime("%Y-%m-%d-%H-%M-%S") + "-[0-9A-Z]{16}$")
        recs = self.records("logs/")
        self.assertEqual([r["operation"] for r in recs],
                         ["REST.PUT.OBJECT", "REST.GET.OBJECT", "REST.HEAD.OBJECT", "REST.GET.OBJECT",
                          "REST.GET.BUCKET", "REST.GET.OBJECT"])
        p, g, h, missing, lst, presigned = recs
        for r in recs:
            self.assertEqual(r["owner"], self.owner)
            self.assertEqual(r["bucket"], self.source)
            self.assertEqual(r["time"], self.start.strftime("[%d/%b/%Y:%H:%M:%S +0000]"))
            self.assertIn(r["remote"], ("127.0.0.1", "::1"))
            self.assertEqual(r["requester"], self.owner, r)
            self.assertEqual(r["referer"], '"-"')
            self.assertTrue(r["host"].startswith(("127.0.0.1", "localhost")), r["host"])
            self.assertRegex(r["total_ms"], r"^\d+$")
        self.assertEqual(p["request_id"], put["ResponseMetadata"]["RequestId"])
        self.assertEqual(p["host_id"], put["ResponseMetadata"]["HostId"])
        self.assertEqual(p["key"], "dir/a%20b.txt")
        self.assertEqual(p["request_uri"], '"PUT /%s/dir/a%%20b.txt HTTP/1.1"' % self.source)
        self.assertEqual((p["status"], p["error"], p["bytes_sent"], p["object_size"]), ("200", "-", "-", "11"))
        self.assertIn("Boto3", p["user_agent"])
        self.assertEqual(p["auth"], "AuthHeader")
        self.assertEqual(g["request_id"], get["ResponseMetadata"]["RequestId"])
        self.assertEqual((g["status"], g["bytes_sent"], g["object_size"]), ("200", "11", "11"))
        self.assertEqual((h["status"], h["bytes_sent"], h["object_size"]), ("200", "-", "11"))
        self.assertEqual((missing["status"], missing["error"], missing["key"]), ("404", "NoSuchKey", "missing"))
        self.assertEqual((lst["key"], lst["status"]), ("-", "200"))
        self.assertEqual([r["signature"] for r in recs], ["SigV4"] * 5 + ["SigV2"])  # boto3 presigns with SigV2
        self.assertEqual(presigned["auth"], "QueryString")
        # The delivery itself is not a request of the source bucket; a second delivery has nothing.
        self.assertEqual(self.deliver(), 0)

    def test_worker_delivers_when_the_clock_moves_and_partitioned_keys(self):
        self.s3.put_bucket_logging(Bucket=self.source, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": self.target, "TargetPrefix": "p/",
            "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}})
        self.s3.put_object(Bucket=self.source, Key="k", Body=b"x")
        self.server.advance_clock(120)
        prefix = "p/%s/us-east-1/%s/%s/" % (fh.ROOT_ACCOUNT, self.source, self.start.strftime("%Y/%m/%d"))
        for _ in range(200):
            if self.log_objects("p/"):
                break
            time.sleep(0.05)  # the delivery runs on the pool right after the clock moved
        keys = self.log_objects("p/")
        self.assertEqual(len(keys), 1, keys)
        delivered = self.start + datetime.timedelta(seconds=120)
        self.assertRegex(keys[0], "^" + re.escape(prefix) + delivered.strftime("%Y-%m-%d-%H-%M-") + r"\d\d-[0-9A-Z]{16}$")
        self.assertEqual([r["operation"] for r in self.records("p/")], ["REST.PUT.OBJECT"])

    def test_each_source_bucket_gets_its_own_log_objects(self):
        other = fh.unique_bucket("logsrc2")
        self.s3.create_bucket(Bucket=other)
        for source in (self.source, other):
            self.s3.put_bucket_logging(Bucket=source, BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": self.target, "TargetPrefix": "shared/"}})
            self.s3.put_object(Bucket=source, Key="k", Body=b"x")
        self.assertEqual(self.deliver(), 2)
        by_bucket = {}
        for key in self.log_objects("shared/"):
            body = self.s3.get_object(Bucket=self.target, Key=key)["Body"].read().decode()
            buckets = {parse(line)["bucket"] for line in body.splitlines()}
            self.assertEqual(len(buckets), 1, body)
            by_bucket[buckets.pop()] = key
        self.assertEqual(sorted(by_bucket), sorted([self.source, other]))

    def test_nothing_is_logged_once_logging_is_off(self):
        self.s3.put_bucket_logging(Bucket=self.source, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": self.target, "TargetPrefix": "off/"}})
        self.s3.put_bucket_logging(Bucket=self.source, BucketLoggingStatus={})
        self.s3.put_object(Bucket=self.source, Key="k", Body=b"x")
        self.deliver()
        # The request that turned logging off was still logged; what came after was not.
        self.assertEqual([r["operation"] for r in self.records("off/")], ["REST.PUT.LOGGING_STATUS"])
        self.s3.put_bucket_logging(Bucket=self.source, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": self.target, "TargetPrefix": "on/"}})
        self.s3.get_bucket_logging(Bucket=self.source)
        self.deliver()
        self.assertEqual([r["operation"] for r in self.records("on/")], ["REST.GET.LOGGING_STATUS"])


if __name__ == "__main__":
    fh.main()
