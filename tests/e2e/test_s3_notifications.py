#!/usr/bin/env python3
"""S3 event notifications end to end through boto3: Put/GetBucketNotificationConfiguration (Ids,
filters, EventBridge, removal), AWS's validation errors (events, filter rules, overlaps, ARNs,
missing queues and topics, Lambda), the s3:TestEvent, every event type arriving in an SQS queue
with AWS's exact record, prefix/suffix filtering, S3 → SNS → SQS, multipart uploads firing on
completion only, and the configuration surviving a restart. Expected values come from AWS's
documentation and responses recorded against AWS (e.g. LocalStack's AWS-validated snapshots)."""

import base64
import datetime as dt
import json
import os
import re
import sys
import urllib.error
import urllib.request
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

ACCOUNT = "000000000000"
REGION = "us-east-1"
RECORD_KEYS = ["eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
               "requestParameters", "responseElements", "s3"]
S3_KEYS = ["s3SchemaVersion", "configurationId", "bucket", "object"]
TEST_EVENT_KEYS = ["Service", "Event", "Time", "Bucket", "RequestId", "HostId"]
SEQUENCER_RE = re.compile(r"^[0-9A-F]{18}$")
PRINCIPAL_RE = re.compile(r"^A[A-Z0-9]{13}$")
UNABLE = "Unable to validate the following destination configurations"


def ordered(body):
    """A JSON document with every object as a list of (key, value) pairs, in document order."""
    return json.loads(body, object_pairs_hook=lambda pairs: pairs)


def keys_of(pairs):
    return [k for k, _ in pairs]


def form_body(fields, file_name, file_data):
    boundary = "----fogbank" + uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, name, value)).encode()
    out += ('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
            'Content-Type: text/plain\r\n\r\n' % (boundary, file_name)).encode()
    out += file_data + ("\r\n--%s--\r\n" % boundary).encode()
    return out, "multipart/form-data; boundary=" + boundary


class S3NotificationsTest(fh.FogbankTestCase):
    # A virtual clock, so eventTime and the TestEvent's Time are exact.
    server_args = ["--clock", "virtual"]

    def setUp(self):
        self.now = dt.datetime.now(dt.timezone.utc).replace(microsecond=456000)
        self.server.set_clock(self.now)
        self.s3 = self.server.client("s3", signature_version="s3v4")
        self.sqs = self.server.client("sqs")
        self.sns = self.server.client("sns")
        self.bucket = fh.unique_bucket("n")
        self.s3.create_bucket(Bucket=self.bucket)

    def expected_time(self):
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.") + "456Z"

    # ------------------------------------------------------------------ helpers
    def queue(self, name=None):
        url = self.sqs.create_queue(QueueName=name or "n-" + uuid.uuid4().hex[:12])["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def messages(self, url):
        """Every message in the queue (deleted as read), in order."""
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
            if not got:
                return out
            for m in got:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            out += got

    def records(self, url):
        """The records of every message in the queue, each checked for AWS's layout."""
        out = []
        for m in self.messages(url):
            doc = ordered(m["Body"])
            self.assertEqual(keys_of(doc), ["Records"], m["Body"])
            body = json.loads(m["Body"])
            self.assertEqual(len(body["Records"]), 1)
            self.assertEqual(keys_of(doc[0][1][0]), RECORD_KEYS)
            self.assertEqual(keys_of(dict(doc[0][1][0])["s3"]), S3_KEYS)
            out.append(body["Records"][0])
        return out

    def configure_queue(self, arn, events, filters=None, config_id="cfg", url=None):
        cfg = {"Id": config_id, "QueueArn": arn, "Events": events}
        if filters:
            cfg["Filter"] = {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in filters]}}
        r = self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket, NotificationConfiguration={"QueueConfigurations": [cfg]})
        if url:
            tests = self.messages(url)
            self.assertEqual(len(tests), 1)
            self.assertEqual(json.loads(tests[0]["Body"])["Event"], "s3:TestEvent")
        return r

    def put_error(self, config, **kw):
        with self.assertRaises(ClientError) as cm:
            self.s3.put_bucket_notification_configuration(Bucket=kw.pop("bucket", self.bucket),
                                                          NotificationConfiguration=config, **kw)
        return cm.exception.response

    def check_common(self, rec, name, headers, config_id="cfg"):
        """The fields every record shares, against the request that caused it."""
        self.assertEqual(rec["eventVersion"], "2.3" if name.startswith("ObjectTagging") else "2.1")
        self.assertEqual(rec["eventSource"], "aws:s3")
        self.assertEqual(rec["awsRegion"], REGION)
        self.assertEqual(rec["eventTime"], self.expected_time())
        self.assertEqual(rec["eventName"], name)
        self.assertRegex(rec["userIdentity"]["principalId"], PRINCIPAL_RE)
        self.assertEqual(rec["requestParameters"], {"sourceIPAddress": "127.0.0.1"})
        self.assertEqual(rec["responseElements"], {"x-amz-request-id": headers["x-amz-request-id"],
                                                   "x-amz-id-2": headers["x-amz-id-2"]})
        s3 = rec["s3"]
        self.assertEqual(s3["s3SchemaVersion"], "1.0")
        self.assertEqual(s3["configurationId"], config_id)
        self.assertEqual(s3["bucket"], {"name": self.bucket,
                                        "ownerIdentity": {"principalId": rec["userIdentity"]["principalId"]},
                                        "arn": "arn:aws:s3:::" + self.bucket})
        return s3["object"]

    def check_created(self, rec, name, headers, key, size, etag):
        obj = self.check_common(rec, name, headers)
        self.assertEqual(list(obj), ["key", "size", "eTag", "sequencer"])
        self.assertEqual(obj["key"], key)
        self.assertEqual(obj["size"], size)
        self.assertEqual(obj["eTag"], etag)
        self.assertRegex(obj["sequencer"], SEQUENCER_RE)
        return obj

    # ------------------------------------------------------------------ configuration
    def test_round_trip_with_ids_and_filters(self):
        url, arn = self.queue()
        topic = self.sns.create_topic(Name="n-" + uuid.uuid4().hex[:12])["TopicArn"]
        self.s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}],
            "QueueConfigurations": [
                {"Id": "mine", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectTagging:Put"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                                    {"Name": "SUFFIX", "Value": ".csv"}]}}}],
            "EventBridgeConfiguration": {}})
        got = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        got.pop("ResponseMetadata")
        generated = got["TopicConfigurations"][0].pop("Id")
        self.assertEqual(got, {
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}],
            "QueueConfigurations": [
                {"Id": "mine", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectTagging:Put"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"},
                                                    {"Name": "Suffix", "Value": ".csv"}]}}}],
            "EventBridgeConfiguration": {}})
        # S3's generated Id: base64 of a version-4 UUID.
        self.assertEqual(len(generated), 48)
        self.assertRegex(base64.b64decode(generated).decode(),
                         r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        # Stable: the same Id on every read.
        again = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        self.assertEqual(again["TopicConfigurations"][0]["Id"], generated)
        # botocore's deprecated reader shares the route.
        old = self.s3.get_bucket_notification(Bucket=self.bucket)
        self.assertEqual(old["QueueConfiguration"]["Queue"], arn)

    def test_new_bucket_has_an_empty_configuration_and_empty_put_removes(self):
        got = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        self.assertEqual(set(got) - {"ResponseMetadata"}, set())
        url, arn = self.queue()
        self.configure_queue(arn, ["s3:ObjectCreated:*"], url=url)
        r = self.s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration={})
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        got = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        self.assertEqual(set(got) - {"ResponseMetadata"}, set())
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")
        self.assertEqual(self.messages(url), [])

    def test_no_such_bucket(self):
        e = self.put_error({}, bucket=fh.unique_bucket("missing"))
        self.assertEqual(e["Error"]["Code"], "NoSuchBucket")
        with self.assertRaises(ClientError) as cm:
            self.s3.get_bucket_notification_configuration(Bucket=fh.unique_bucket("missing"))
        self.assertClientError(cm, "NoSuchBucket", 404)

    def test_validation_errors(self):
        url, arn = self.queue()

        def q(events, rules=None, queue=arn):
            c = {"QueueArn": queue, "Events": events}
            if rules is not None:
                c["Filter"] = {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in rules]}}
            return c

        def err(config):
            e = self.put_error({"QueueConfigurations": config})
            self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 400)
            self.assertEqual(e["Error"]["Code"], "InvalidArgument")
            return {k: v for k, v in e["Error"].items() if k != "Code"}

        self.assertEqual(err([q(["s3:ObjectCreated:Get"])]),
                         {"Message": "The event is not supported for notifications", "ArgumentName": "Event",
                          "ArgumentValue": "s3:ObjectCreated:Get"})
        self.assertEqual(err([q(["s3:ObjectCreated:*"], [("INVALID", "x")])]),
                         {"Message": "filter rule name must be either prefix or suffix",
                          "ArgumentName": "FilterRule.Name", "ArgumentValue": "INVALID"})
        self.assertEqual(err([q(["s3:ObjectCreated:*"], [("prefix", "a"), ("Prefix", "b")])]),
                         {"Message": "Cannot specify more than one prefix rule in a filter.",
                          "ArgumentName": "FilterRule.Name", "ArgumentValue": "Prefix"})
        self.assertEqual(err([q(["s3:ObjectCreated:*"], queue="invalid-queue")]),
                         {"Message": "The ARN could not be parsed", "ArgumentName": "Queue",
                          "ArgumentValue": "invalid-queue"})
        self.assertEqual(err([q(["s3:ObjectRemoved:*"]), q(["s3:ObjectRemoved:*"])]),
                         {"Message": "Configurations overlap. Configurations on the same bucket cannot share a "
                                     "common event type.",
                          "ArgumentName": "Event", "ArgumentValue": "s3:ObjectRemoved:*, s3:ObjectRemoved:*"})
        self.assertEqual(err([q(["s3:ObjectCreated:*"], [("prefix", "a/")]),
                              q(["s3:ObjectCreated:Put"], [("prefix", "a/b/")])])["Message"],
                         "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if "
                         "the prefixes are overlapping for the same event type.")
        missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-such-queue-{uuid.uuid4().hex[:6]}"
        missing2 = missing + "-2"
        self.assertEqual(err([q(["s3:ObjectCreated:*"], queue=missing), q(["s3:ObjectRemoved:*"], queue=missing2)]),
                         {"Message": UNABLE, "ArgumentName1": missing,
                          "ArgumentValue1": "The destination queue does not exist",
                          "ArgumentName2": missing2, "ArgumentValue2": "The destination queue does not exist"})
        topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic"
        e = self.put_error({"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
        self.assertEqual(e["Error"]["Message"], UNABLE)
        self.assertEqual((e["Error"]["ArgumentName1"], e["Error"]["ArgumentValue1"]),
                         (topic, "The destination topic does not exist"))
        fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"
        e = self.put_error({"LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:*"]}]})
        self.assertEqual(e["Error"]["Message"], UNABLE)
        self.assertEqual((e["Error"]["ArgumentName1"], e["Error"]["ArgumentValue1"]),
                         (fn + ", null", f"Not authorized to invoke function [{fn}]"))
        # Nothing was stored, nothing was sent.
        got = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        self.assertEqual(set(got) - {"ResponseMetadata"}, set())
        self.assertEqual(self.messages(url), [])

    def test_skip_destination_validation(self):
        missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:not-there"
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket, SkipDestinationValidation=True,
            NotificationConfiguration={"QueueConfigurations": [{"Id": "x", "QueueArn": missing,
                                                                "Events": ["s3:ObjectCreated:*"]}]})
        got = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        self.assertEqual(got["QueueConfigurations"], [{"Id": "x", "QueueArn": missing, "Events": ["s3:ObjectCreated:*"]}])
        # The queue never existed: the write succeeds, the event is dropped.
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")

    def test_test_event_in_queue(self):
        url, arn = self.queue()
        r = self.configure_queue(arn, ["s3:ObjectCreated:*"])
        headers = r["ResponseMetadata"]["HTTPHeaders"]
        msgs = self.messages(url)
        self.assertEqual(len(msgs), 1)
        self.assertEqual(keys_of(ordered(msgs[0]["Body"])), TEST_EVENT_KEYS)
        self.assertEqual(json.loads(msgs[0]["Body"]), {
            "Service": "Amazon S3", "Event": "s3:TestEvent", "Time": self.expected_time(), "Bucket": self.bucket,
            "RequestId": headers["x-amz-request-id"], "HostId": headers["x-amz-id-2"]})

    # ------------------------------------------------------------------ events
    def test_put_post_copy_events(self):
        url, arn = self.queue()
        self.configure_queue(arn, ["s3:ObjectCreated:*"], url=url)
        r = self.s3.put_object(Bucket=self.bucket, Key="my file@1.txt", Body=b"some data")
        (rec,) = self.records(url)
        self.check_created(rec, "ObjectCreated:Put", r["ResponseMetadata"]["HTTPHeaders"], "my+file%401.txt", 9,
                           fh.md5_hex(b"some data"))
        self.assertEqual(rec["userIdentity"]["principalId"], rec["s3"]["bucket"]["ownerIdentity"]["principalId"])

        r = self.s3.copy_object(Bucket=self.bucket, Key="dir/copy.txt",
                                CopySource={"Bucket": self.bucket, "Key": "my file@1.txt"})
        (rec,) = self.records(url)
        self.check_created(rec, "ObjectCreated:Copy", r["ResponseMetadata"]["HTTPHeaders"], "dir/copy.txt", 9,
                           fh.md5_hex(b"some data"))

        presigned = self.s3.generate_presigned_post(self.bucket, "posted.txt", ExpiresIn=600)
        body, ctype = form_body(dict(presigned["fields"]), "f.txt", b"posted!")
        req = urllib.request.Request(presigned["url"], data=body, method="POST", headers={"Content-Type": ctype})
        with urllib.request.urlopen(req, timeout=15) as resp:
            self.assertEqual(resp.status, 204)
            post_headers = {k.lower(): v for k, v in resp.headers.items()}
        (rec,) = self.records(url)
        self.check_created(rec, "ObjectCreated:Post", post_headers, "posted.txt", 7, fh.md5_hex(b"posted!"))

    def test_multipart_fires_on_completion_only(self):
        url, arn = self.queue()
        self.configure_queue(arn, ["s3:ObjectCreated:*"], url=url)
        part1 = b"a" * (5 << 20)
        part2 = b"tail"
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key="big")["UploadId"]
        e1 = self.s3.upload_part(Bucket=self.bucket, Key="big", UploadId=up, PartNumber=1, Body=part1)["ETag"]
        e2 = self.s3.upload_part(Bucket=self.bucket, Key="big", UploadId=up, PartNumber=2, Body=part2)["ETag"]
        self.assertEqual(self.messages(url), [])
        r = self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key="big", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        (rec,) = self.records(url)
        self.check_created(rec, "ObjectCreated:CompleteMultipartUpload", r["ResponseMetadata"]["HTTPHeaders"], "big",
                           len(part1) + len(part2), r["ETag"].strip('"'))
        self.assertTrue(rec["s3"]["object"]["eTag"].endswith("-2"))

    def test_large_put_committed_on_the_pool(self):
        url, arn = self.queue()
        self.configure_queue(arn, ["s3:ObjectCreated:Put"], url=url)
        data = os.urandom((2 << 20) + 3)
        r = self.s3.put_object(Bucket=self.bucket, Key="large", Body=data)
        # Delivered before the answer: the message is there at once.
        (rec,) = self.records(url)
        self.check_created(rec, "ObjectCreated:Put", r["ResponseMetadata"]["HTTPHeaders"], "large", len(data),
                           fh.md5_hex(data))

    def test_delete_events(self):
        url, arn = self.queue()
        for k in ("a", "b"):
            self.s3.put_object(Bucket=self.bucket, Key=k, Body=b"1")
        self.configure_queue(arn, ["s3:ObjectRemoved:*"], url=url)
        r = self.s3.delete_object(Bucket=self.bucket, Key="a")
        (rec,) = self.records(url)
        obj = self.check_common(rec, "ObjectRemoved:Delete", r["ResponseMetadata"]["HTTPHeaders"])
        self.assertEqual(list(obj), ["key", "sequencer"])
        self.assertEqual(obj["key"], "a")
        self.assertRegex(obj["sequencer"], SEQUENCER_RE)

        r = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "never there"}]})
        recs = self.records(url)
        self.assertEqual([x["s3"]["object"]["key"] for x in recs], ["b", "never+there"])
        for x in recs:
            self.check_common(x, "ObjectRemoved:Delete", r["ResponseMetadata"]["HTTPHeaders"])

    def test_sequencer_increases_per_key(self):
        url, arn = self.queue()
        self.configure_queue(arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], url=url)
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"1")
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"22")
        self.s3.delete_object(Bucket=self.bucket, Key="k")
        seq = [r["s3"]["object"]["sequencer"] for r in self.records(url)]
        self.assertEqual(len(seq), 3)
        self.assertEqual(seq, sorted(seq))
        self.assertEqual(len(set(seq)), 3)

    def test_tagging_events(self):
        url, arn = self.queue()
        self.s3.put_object(Bucket=self.bucket, Key="t", Body=b"tagged")
        self.configure_queue(arn, ["s3:ObjectTagging:*"], url=url)
        r = self.s3.put_object_tagging(Bucket=self.bucket, Key="t", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        (rec,) = self.records(url)
        obj = self.check_common(rec, "ObjectTagging:Put", r["ResponseMetadata"]["HTTPHeaders"])
        self.assertEqual(obj, {"key": "t", "eTag": fh.md5_hex(b"tagged")})
        r = self.s3.delete_object_tagging(Bucket=self.bucket, Key="t")
        (rec,) = self.records(url)
        obj = self.check_common(rec, "ObjectTagging:Delete", r["ResponseMetadata"]["HTTPHeaders"])
        self.assertEqual(obj, {"key": "t", "eTag": fh.md5_hex(b"tagged")})
        # Object writes are not tagging events.
        self.s3.put_object(Bucket=self.bucket, Key="t", Body=b"x")
        self.assertEqual(self.messages(url), [])

    def test_prefix_and_suffix_filtering(self):
        url, arn = self.queue()
        self.configure_queue(arn, ["s3:ObjectCreated:Put"], [("prefix", "in/"), ("suffix", ".csv")], url=url)
        for key in ("in/a.csv", "in/a.txt", "out/a.csv", "IN/b.csv", "in/deep/c.csv"):
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"x")
        self.s3.copy_object(Bucket=self.bucket, Key="in/copy.csv", CopySource={"Bucket": self.bucket, "Key": "in/a.csv"})
        self.s3.delete_object(Bucket=self.bucket, Key="in/a.csv")
        self.assertEqual([r["s3"]["object"]["key"] for r in self.records(url)], ["in/a.csv", "in/deep/c.csv"])

    def test_two_configurations_each_get_their_own_message(self):
        url, arn = self.queue()
        url2, arn2 = self.queue()
        self.s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": "images", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"}]}}},
                {"Id": "docs", "QueueArn": arn2, "Events": ["s3:ObjectCreated:*"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "doc/"}]}}},
                {"Id": "gone", "QueueArn": arn, "Events": ["s3:ObjectRemoved:*"]}]})
        self.assertEqual(len(self.messages(url)), 1)  # one TestEvent per queue
        self.assertEqual(len(self.messages(url2)), 1)
        self.s3.put_object(Bucket=self.bucket, Key="img/1.png", Body=b"x")
        self.s3.put_object(Bucket=self.bucket, Key="doc/1.txt", Body=b"x")
        self.s3.delete_object(Bucket=self.bucket, Key="img/1.png")
        self.assertEqual([(r["s3"]["configurationId"], r["s3"]["object"]["key"]) for r in self.records(url)],
                         [("images", "img/1.png"), ("gone", "img/1.png")])
        self.assertEqual([(r["s3"]["configurationId"], r["s3"]["object"]["key"]) for r in self.records(url2)],
                         [("docs", "doc/1.txt")])

    def test_deleted_queue_does_not_fail_writes(self):
        url, arn = self.queue()
        self.configure_queue(arn, ["s3:ObjectCreated:*"], url=url)
        self.sqs.delete_queue(QueueUrl=url)
        r = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_s3_to_sns_to_sqs(self):
        url, arn = self.queue()
        topic = self.sns.create_topic(Name="n-" + uuid.uuid4().hex[:12])["TopicArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        put = self.s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration={
            "TopicConfigurations": [{"Id": "via-sns", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
        (test,) = self.messages(url)
        envelope = json.loads(test["Body"])
        self.assertEqual(envelope["Type"], "Notification")
        self.assertEqual(envelope["TopicArn"], topic)
        self.assertEqual(envelope["Subject"], "Amazon S3 Notification")
        headers = put["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(json.loads(envelope["Message"]), {
            "Service": "Amazon S3", "Event": "s3:TestEvent", "Time": self.expected_time(), "Bucket": self.bucket,
            "RequestId": headers["x-amz-request-id"], "HostId": headers["x-amz-id-2"]})

        r = self.s3.put_object(Bucket=self.bucket, Key="via/sns.txt", Body=b"hello")
        (msg,) = self.messages(url)
        envelope = json.loads(msg["Body"])
        self.assertEqual(envelope["Type"], "Notification")
        self.assertEqual(envelope["Subject"], "Amazon S3 Notification")
        self.assertEqual(keys_of(ordered(envelope["Message"])), ["Records"])
        rec = json.loads(envelope["Message"])["Records"][0]
        self.assertEqual(keys_of(ordered(envelope["Message"])[0][1][0]), RECORD_KEYS)
        obj = self.check_common(rec, "ObjectCreated:Put", r["ResponseMetadata"]["HTTPHeaders"], config_id="via-sns")
        self.assertEqual((obj["key"], obj["size"], obj["eTag"]), ("via/sns.txt", 5, fh.md5_hex(b"hello")))

    def test_persists_across_restart(self):
        url, arn = self.queue()
        self.configure_queue(arn, ["s3:ObjectCreated:*"], [("suffix", ".log")], config_id="kept", url=url)
        self.server.restart()
        self.server.set_clock(self.now)
        self.s3 = self.server.client("s3", signature_version="s3v4")
        self.sqs = self.server.client("sqs")
        got = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        self.assertEqual(got["QueueConfigurations"], [{
            "Id": "kept", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "Suffix", "Value": ".log"}]}}}])
        r = self.s3.put_object(Bucket=self.bucket, Key="after.log", Body=b"restarted")
        self.s3.put_object(Bucket=self.bucket, Key="after.txt", Body=b"ignored")
        (rec,) = self.records(url)
        obj = self.check_common(rec, "ObjectCreated:Put", r["ResponseMetadata"]["HTTPHeaders"], config_id="kept")
        self.assertEqual(obj["key"], "after.log")


if __name__ == "__main__":
    fh.main()
