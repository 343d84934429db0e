#!/usr/bin/env python3
"""Amazon Data Firehose through boto3 against a real fogbank on a virtual clock: delivery streams,
buffered records written into S3 under AWS's default prefix (or a custom one with expressions),
the compression formats, durable buffers across a restart, AWS's errors, and destinations fogbank
cannot reach recorded at /_fogbank/firehose/deliveries."""

import base64
import gzip
import io
import os
import re
import sys
import time
import unittest
import zipfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firehose"
OBJECT_NAME = re.compile(r"^(?P<prefix>(?:[^/]*/)*)(?P<stream>[A-Za-z0-9_.-]+)-(?P<version>\d+)-"
                         r"(?P<time>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)-(?P<id>[0-9a-f-]{36})(?P<ext>\..*)?$")


class FirehoseTestBase(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        self.server.reset()
        self.firehose = self.server.client("firehose")
        self.s3 = self.server.client("s3")

    def error(self, fn, **kwargs):
        with self.assertRaises(ClientError) as ctx:
            fn(**kwargs)
        e = ctx.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]

    def create(self, name, bucket="sink", active=True, **s3_config):
        config = {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}"}
        config.update(s3_config)
        arn = self.firehose.create_delivery_stream(DeliveryStreamName=name,
                                                   ExtendedS3DestinationConfiguration=config)["DeliveryStreamARN"]
        if active:
            self.server.advance_clock(1)
            self.assertEqual(self.status(name), "ACTIVE")
        return arn

    def status(self, name):
        return self.firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"]["DeliveryStreamStatus"]

    def objects(self, bucket="sink"):
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    def body(self, key, bucket="sink"):
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def wait_objects(self, count, bucket="sink", timeout=10):
        """Deliveries run on the server's pool after the clock moved: wait for them to land."""
        deadline = time.monotonic() + timeout
        while True:
            keys = self.objects(bucket)
            if len(keys) >= count or time.monotonic() > deadline:
                return keys
            time.sleep(0.02)

    def deliveries(self, stream=None):
        status, body, _ = self.server.admin("/_fogbank/firehose/deliveries" + (f"?stream={stream}" if stream else ""))
        self.assertEqual(status, 200, body)
        return body["deliveries"]

    def wait_deliveries(self, count, stream=None, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            got = self.deliveries(stream)
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.02)


class FirehoseStreamsTest(FirehoseTestBase):
    def test_lifecycle_describe_list_and_delete(self):
        arn = self.create("orders", active=False, Prefix="raw/",
                          BufferingHints={"SizeInMBs": 2, "IntervalInSeconds": 60})
        self.assertEqual(arn, "arn:aws:firehose:us-east-1:000000000000:deliverystream/orders")
        self.assertEqual(self.status("orders"), "CREATING")
        self.server.advance_clock(1)
        d = self.firehose.describe_delivery_stream(DeliveryStreamName="orders")["DeliveryStreamDescription"]
        self.assertEqual((d["DeliveryStreamStatus"], d["DeliveryStreamType"], d["VersionId"], d["HasMoreDestinations"]),
                         ("ACTIVE", "DirectPut", "1", False))
        [dest] = d["Destinations"]
        self.assertEqual(dest["DestinationId"], "destinationId-000000000001")
        ext = dest["ExtendedS3DestinationDescription"]
        self.assertEqual((ext["BucketARN"], ext["Prefix"], ext["BufferingHints"], ext["CompressionFormat"],
                          ext["EncryptionConfiguration"]),
                         ("arn:aws:s3:::sink", "raw/", {"SizeInMBs": 2, "IntervalInSeconds": 60}, "UNCOMPRESSED",
                          {"NoEncryptionConfig": "NoEncryption"}))
        self.assertEqual(dest["S3DestinationDescription"]["BucketARN"], "arn:aws:s3:::sink")
        for name in ("b-stream", "a-stream"):
            self.create(name, active=False)
        self.assertEqual(self.firehose.list_delivery_streams()["DeliveryStreamNames"], ["a-stream", "b-stream", "orders"])
        page = self.firehose.list_delivery_streams(Limit=2)
        self.assertEqual((page["DeliveryStreamNames"], page["HasMoreDeliveryStreams"]), (["a-stream", "b-stream"], True))
        page = self.firehose.list_delivery_streams(ExclusiveStartDeliveryStreamName="b-stream")
        self.assertEqual((page["DeliveryStreamNames"], page["HasMoreDeliveryStreams"]), (["orders"], False))
        self.assertEqual(self.firehose.list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource")[
            "DeliveryStreamNames"], [])
        self.firehose.delete_delivery_stream(DeliveryStreamName="orders")
        self.assertEqual(self.status("orders"), "DELETING")
        self.server.advance_clock(1)
        self.assertEqual(self.error(self.firehose.describe_delivery_stream, DeliveryStreamName="orders"),
                         ("ResourceNotFoundException", "Firehose orders under account 000000000000 not found.", 400))

    def test_errors(self):
        self.create("dup")
        code, message, status = self.error(self.firehose.create_delivery_stream, DeliveryStreamName="dup",
                                           ExtendedS3DestinationConfiguration={"RoleARN": ROLE,
                                                                               "BucketARN": "arn:aws:s3:::sink"})
        self.assertEqual((code, status), ("ResourceInUseException", 400))
        self.assertIn("dup", message)
        self.assertEqual(self.error(self.firehose.put_record, DeliveryStreamName="nope", Record={"Data": b"x"})[0],
                         "ResourceNotFoundException")
        self.assertEqual(self.error(self.firehose.create_delivery_stream, DeliveryStreamName="no-destination")[0],
                         "InvalidArgumentException")
        self.assertEqual(self.error(self.firehose.create_delivery_stream, DeliveryStreamName="bad-prefix",
                                    ExtendedS3DestinationConfiguration={
                                        "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::sink",
                                        "Prefix": "!{timestamp:yyyy", "ErrorOutputPrefix": "e/"})[0],
                         "InvalidArgumentException")
        code, message, _ = self.error(self.firehose.create_delivery_stream, DeliveryStreamName="bad name",
                                      ExtendedS3DestinationConfiguration={"RoleARN": ROLE,
                                                                          "BucketARN": "arn:aws:s3:::sink"})
        self.assertEqual(code, "ValidationException")
        self.assertIn("deliveryStreamName", message)
        self.assertEqual(self.error(self.firehose.update_destination, DeliveryStreamName="dup",
                                    CurrentDeliveryStreamVersionId="7", DestinationId="destinationId-000000000001",
                                    ExtendedS3DestinationUpdate={"Prefix": "x/"})[0],
                         "ConcurrentModificationException")

    def test_update_destination_tags_and_encryption(self):
        self.create("cfg")
        self.firehose.update_destination(DeliveryStreamName="cfg", CurrentDeliveryStreamVersionId="1",
                                         DestinationId="destinationId-000000000001",
                                         ExtendedS3DestinationUpdate={"Prefix": "v2/", "CompressionFormat": "GZIP"})
        d = self.firehose.describe_delivery_stream(DeliveryStreamName="cfg")["DeliveryStreamDescription"]
        ext = d["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual((d["VersionId"], ext["Prefix"], ext["CompressionFormat"], ext["BucketARN"]),
                         ("2", "v2/", "GZIP", "arn:aws:s3:::sink"))
        self.assertIn("LastUpdateTimestamp", d)

        self.firehose.tag_delivery_stream(DeliveryStreamName="cfg", Tags=[{"Key": "team", "Value": "a"},
                                                                          {"Key": "env", "Value": "dev"}])
        self.firehose.tag_delivery_stream(DeliveryStreamName="cfg", Tags=[{"Key": "team", "Value": "b"}])
        tags = self.firehose.list_tags_for_delivery_stream(DeliveryStreamName="cfg")
        self.assertEqual((tags["Tags"], tags["HasMoreTags"]),
                         ([{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}], False))
        page = self.firehose.list_tags_for_delivery_stream(DeliveryStreamName="cfg", Limit=1)
        self.assertEqual((len(page["Tags"]), page["HasMoreTags"]), (1, True))
        self.firehose.untag_delivery_stream(DeliveryStreamName="cfg", TagKeys=["team"])
        self.assertEqual(self.firehose.list_tags_for_delivery_stream(DeliveryStreamName="cfg")["Tags"],
                         [{"Key": "env", "Value": "dev"}])

        self.assertFalse(self.firehose.put_record(DeliveryStreamName="cfg", Record={"Data": b"a"})["Encrypted"])
        self.firehose.start_delivery_stream_encryption(
            DeliveryStreamName="cfg", DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"})
        enc = self.firehose.describe_delivery_stream(DeliveryStreamName="cfg")["DeliveryStreamDescription"][
            "DeliveryStreamEncryptionConfiguration"]
        self.assertEqual((enc["KeyType"], enc["Status"]), ("AWS_OWNED_CMK", "ENABLED"))
        self.assertTrue(self.firehose.put_record(DeliveryStreamName="cfg", Record={"Data": b"b"})["Encrypted"])
        self.firehose.stop_delivery_stream_encryption(DeliveryStreamName="cfg")
        enc = self.firehose.describe_delivery_stream(DeliveryStreamName="cfg")["DeliveryStreamDescription"][
            "DeliveryStreamEncryptionConfiguration"]
        self.assertEqual(enc["Status"], "DISABLED")
        self.assertEqual(self.error(self.firehose.start_delivery_stream_encryption, DeliveryStreamName="cfg",
                                    DeliveryStreamEncryptionConfigurationInput={"KeyType": "CUSTOMER_MANAGED_CMK"})[0],
                         "InvalidArgumentException")


class FirehoseDeliveryTest(FirehoseTestBase):
    def setUp(self):
        super().setUp()
        self.s3.create_bucket(Bucket="sink")

    def test_interval_writes_one_object_under_the_utc_hour(self):
        self.create("clicks", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60})
        self.server.set_clock("2027-05-06T07:08:09Z")
        ids = [self.firehose.put_record(DeliveryStreamName="clicks", Record={"Data": b"one\n"})["RecordId"]]
        batch = self.firehose.put_record_batch(DeliveryStreamName="clicks",
                                               Records=[{"Data": b"two\n"}, {"Data": b"three\n"}])
        self.assertEqual(batch["FailedPutCount"], 0)
        ids += [r["RecordId"] for r in batch["RequestResponses"]]
        self.assertEqual(len(set(ids)), 3)
        self.server.advance_clock(59)
        self.assertEqual(self.objects(), [])  # not due yet
        self.server.advance_clock(1)
        [key] = self.wait_objects(1)
        m = OBJECT_NAME.match(key)
        self.assertIsNotNone(m, key)
        self.assertEqual((m["prefix"], m["stream"], m["version"], m["time"], m["ext"]),
                         ("2027/05/06/07/", "clicks", "1", "2027-05-06-07-08-09", None))
        self.assertEqual(self.body(key), b"one\ntwo\nthree\n")
        [d] = self.deliveries("clicks")
        self.assertEqual((d["status"], d["records"], d["bucket"], d["key"]), ("delivered", 3, "sink", key))

    def test_size_limit_delivers_without_waiting(self):
        self.create("big", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 900})
        record = b"x" * 100_000 + b"\n"
        for _ in range(3):
            self.firehose.put_record_batch(DeliveryStreamName="big", Records=[{"Data": record}] * 4)
        # An object holds SizeInMBs (whole records); the rest waits for the interval.
        [first] = self.wait_objects(1)
        self.assertEqual(len(self.body(first)), 11 * len(record))
        self.server.advance_clock(900)
        keys = self.wait_objects(2)
        self.assertEqual(sorted(len(self.body(k)) for k in keys), [len(record), 11 * len(record)])

    def test_compression_formats_and_custom_prefix(self):
        self.server.set_clock("2027-01-02T03:04:05Z")
        cases = {"GZIP": ".gz", "ZIP": ".zip", "Snappy": ".snappy", "UNCOMPRESSED": None}
        for fmt in cases:
            self.create(f"c-{fmt.lower()}", CompressionFormat=fmt,
                        Prefix=f"fmt={fmt}/!{{timestamp:yyyy-MM-dd}}/", ErrorOutputPrefix="errors/",
                        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60})
            self.firehose.put_record(DeliveryStreamName=f"c-{fmt.lower()}", Record={"Data": b"payload-" + fmt.encode()})
        self.server.advance_clock(61)
        keys = self.wait_objects(len(cases))
        self.assertEqual(len(keys), len(cases), keys)
        for key in keys:
            m = OBJECT_NAME.match(key)
            fmt = m["prefix"].split("/")[0].split("=")[1]
            self.assertEqual(m["prefix"], f"fmt={fmt}/2027-01-02/")
            self.assertEqual(m["ext"], cases[fmt])
            body = self.body(key)
            if fmt == "GZIP":
                body = gzip.decompress(body)
            elif fmt == "ZIP":
                with zipfile.ZipFile(io.BytesIO(body)) as z:
                    [name] = z.namelist()
                    body = z.read(name)
            elif fmt == "Snappy":
                self.assertEqual(body[:10], b"\xff\x06\x00\x00sNaPpY")
                continue  # the framing is checked against libsnappy by the unit tests
            self.assertEqual(body, b"payload-" + fmt.encode())

    def test_a_missing_bucket_keeps_the_records_until_it_exists(self):
        self.create("later", bucket="not-yet", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60})
        self.firehose.put_record(DeliveryStreamName="later", Record={"Data": b"kept"})
        self.server.advance_clock(60)
        [failed] = self.wait_deliveries(1, "later")
        self.assertEqual(failed["status"], "failed")
        self.assertIn("NoSuchBucket", failed["error"])
        self.s3.create_bucket(Bucket="not-yet")
        self.server.advance_clock(60)
        [key] = self.wait_objects(1, bucket="not-yet")
        self.assertEqual(self.body(key, bucket="not-yet"), b"kept")

    def test_buffered_records_survive_a_restart(self):
        self.create("durable", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 300})
        self.firehose.put_record(DeliveryStreamName="durable", Record={"Data": b"before-kill;"})
        self.assertEqual(self.server.kill9(), -9)
        self.server.start()
        self.s3 = self.server.client("s3")  # the restarted server listens on a new port
        firehose = self.server.client("firehose")
        self.assertEqual(firehose.describe_delivery_stream(DeliveryStreamName="durable")[
            "DeliveryStreamDescription"]["DeliveryStreamStatus"], "ACTIVE")
        firehose.put_record(DeliveryStreamName="durable", Record={"Data": b"after"})
        self.server.advance_clock(300)
        [key] = self.wait_objects(1)
        self.assertEqual(self.body(key), b"before-kill;after")

    def test_a_kinesis_stream_source_feeds_the_bucket(self):
        kinesis = self.server.client("kinesis")
        kinesis.create_stream(StreamName="events", ShardCount=1)
        self.server.advance_clock(1)
        stream_arn = kinesis.describe_stream_summary(StreamName="events")["StreamDescriptionSummary"]["StreamARN"]
        kinesis.put_record(StreamName="events", Data=b"before;", PartitionKey="k")
        self.firehose.create_delivery_stream(
            DeliveryStreamName="from-kinesis", DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE},
            ExtendedS3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::sink",
                                                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})
        self.server.advance_clock(1)
        d = self.firehose.describe_delivery_stream(DeliveryStreamName="from-kinesis")["DeliveryStreamDescription"]
        self.assertEqual((d["DeliveryStreamType"], d["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"]),
                         ("KinesisStreamAsSource", stream_arn))
        self.assertEqual(self.error(self.firehose.put_record, DeliveryStreamName="from-kinesis",
                                    Record={"Data": b"x"})[0], "InvalidArgumentException")
        kinesis.put_records(StreamName="events", Records=[{"Data": b"one;", "PartitionKey": "k"},
                                                          {"Data": b"two;", "PartitionKey": "k"}])
        for _ in range(3):  # polls, a second apart on the platform clock
            self.server.advance_clock(1)
        self.server.advance_clock(60)
        [key] = self.wait_objects(1)
        self.assertEqual(self.body(key), b"before;one;two;")
        # Read once: a later interval delivers only what came after.
        kinesis.put_record(StreamName="events", Data=b"three;", PartitionKey="k")
        for _ in range(3):
            self.server.advance_clock(1)
        self.server.advance_clock(60)
        keys = self.wait_objects(2)
        self.assertEqual(sorted(self.body(k) for k in keys), [b"before;one;two;", b"three;"])

    def test_other_destinations_are_recorded(self):
        self.firehose.create_delivery_stream(
            DeliveryStreamName="hook",
            HttpEndpointDestinationConfiguration={
                "EndpointConfiguration": {"Url": "https://example.com/ingest", "AccessKey": "secret"},
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
                "S3Configuration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::sink"}})
        self.server.advance_clock(1)
        d = self.firehose.describe_delivery_stream(DeliveryStreamName="hook")["DeliveryStreamDescription"]
        http = d["Destinations"][0]["HttpEndpointDestinationDescription"]
        self.assertEqual(http["EndpointConfiguration"]["Url"], "https://example.com/ingest")
        self.assertNotIn("AccessKey", http["EndpointConfiguration"])
        self.firehose.put_record_batch(DeliveryStreamName="hook", Records=[{"Data": b"a"}, {"Data": b"b"}])
        self.server.advance_clock(60)
        [d] = self.wait_deliveries(1, "hook")
        self.assertEqual((d["status"], d["destination"], d["records"], base64.b64decode(d["data"])),
                         ("recorded", "HttpEndpoint", 2, b"ab"))
        self.assertEqual(self.server.admin("/_fogbank/firehose/deliveries", "DELETE")[0], 200)
        self.assertEqual(self.deliveries(), [])
        self.assertEqual(self.server.admin("/_fogbank/firehose/deliveries", "POST", {})[0], 405)


if __name__ == "__main__":
    unittest.main(verbosity=2)
