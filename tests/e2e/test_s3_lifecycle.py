#!/usr/bin/env python3
"""S3 lifecycle rules end to end on a virtual clock: Put/Get/DeleteBucketLifecycleConfiguration
with S3's validation messages, and rules applied at AWS's midnight-UTC rounding: expiration by
days and by date, filters by prefix, tag and size, transitions to another storage class,
incomplete multipart uploads aborted; the worker runs after each midnight of the clock, and
POST /_fogbank/s3/lifecycle runs a pass at once."""

import datetime
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

DAY = 86400


class S3LifecycleTest(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        # 10:00 UTC of a fixed day, so the midnight rounding is visible.
        self.start = datetime.datetime(2031, 3, 10, 10, 0, tzinfo=datetime.timezone.utc)
        self.server.set_clock(self.start.timestamp())
        self.s3 = self.server.client("s3")
        self.bucket = fh.unique_bucket("life")
        self.s3.create_bucket(Bucket=self.bucket)

    def keys(self):
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", []))

    def run_pass(self):
        """A pass now. The midnight worker may have run one already when the clock moved, so the
        tests look at the bucket afterwards, not at how much this pass changed."""
        status, body, _ = self.server.admin("/_fogbank/s3/lifecycle", method="POST")
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body["changed"], int)

    def at(self, days, hours=0):
        """Sets the clock to `days` days and `hours` hours after midnight of the start day."""
        midnight = self.start.replace(hour=0)
        self.server.set_clock((midnight + datetime.timedelta(days=days, hours=hours)).timestamp())

    def test_expiration_headers_on_put_head_and_get(self):
        self.s3.put_bucket_lifecycle_configuration(Bucket=self.bucket, LifecycleConfiguration={"Rules": [
            {"ID": "logs-30", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}},
            {"ID": "logs-7", "Filter": {"Prefix": "logs/tmp/"}, "Status": "Enabled", "Expiration": {"Days": 7}}]})
        # Created 10:00 on 10 March: due at the midnight after 30 days.
        expected = 'expiry-date="Thu, 10 Apr 2031 00:00:00 GMT", rule-id="logs-30"'
        self.assertEqual(self.s3.put_object(Bucket=self.bucket, Key="logs/a", Body=b"a")["Expiration"], expected)
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="logs/a")["Expiration"], expected)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="logs/a")["Expiration"], expected)
        # The soonest rule that selects the object names the date.
        self.s3.put_object(Bucket=self.bucket, Key="logs/tmp/b", Body=b"b")
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="logs/tmp/b")["Expiration"],
                         'expiry-date="Tue, 18 Mar 2031 00:00:00 GMT", rule-id="logs-7"')
        self.s3.put_object(Bucket=self.bucket, Key="other", Body=b"c")
        self.assertNotIn("Expiration", self.s3.head_object(Bucket=self.bucket, Key="other"))

    def test_configuration_round_trip_and_validation(self):
        with self.assertRaises(ClientError) as cm:
            self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket)
        self.assertClientError(cm, "NoSuchLifecycleConfiguration", 404)
        rules = [
            {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}},
            {"ID": "big-tagged", "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "tier", "Value": "cold"}],
                                                    "ObjectSizeGreaterThan": 1024}},
             "Status": "Enabled", "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]},
            {"ID": "uploads", "Filter": {"Prefix": ""}, "Status": "Disabled",
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        ]
        self.s3.put_bucket_lifecycle_configuration(Bucket=self.bucket, LifecycleConfiguration={"Rules": rules})
        got = self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket)
        self.assertEqual(got["Rules"], rules)
        self.assertEqual(got["TransitionDefaultMinimumObjectSize"], "all_storage_classes_128K")

        bad = [
            ({"Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 0}},
             "InvalidArgument", "'Days' for Expiration action must be a positive integer"),
            ({"Filter": {"Prefix": ""}, "Status": "Enabled"},
             "InvalidArgument", "At least one action needs to be specified in a rule"),
            ({"Filter": {"Prefix": ""}, "Status": "Enabled",
              "Expiration": {"Date": datetime.datetime(2031, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)}},
             "InvalidArgument", "'Date' must be at midnight GMT"),
            ({"Filter": {"Tag": {"Key": "a", "Value": "b"}}, "Status": "Enabled",
              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
             "InvalidArgument", "AbortIncompleteMultipartUpload cannot be specified with Tags."),
        ]
        for rule, code, message in bad:
            with self.assertRaises(ClientError) as cm:
                self.s3.put_bucket_lifecycle_configuration(Bucket=self.bucket,
                                                           LifecycleConfiguration={"Rules": [rule]})
            self.assertClientError(cm, code, 400)
            self.assertEqual(cm.exception.response["Error"]["Message"], message)
        with self.assertRaises(ClientError) as cm:
            self.s3.put_bucket_lifecycle_configuration(Bucket=self.bucket, LifecycleConfiguration={"Rules": [
                {"ID": "x", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}},
                {"ID": "x", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 2}}]})
        self.assertClientError(cm, "InvalidArgument", 400)
        self.assertEqual(self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket)["Rules"], rules)
        self.s3.delete_bucket_lifecycle(Bucket=self.bucket)
        with self.assertRaises(ClientError) as cm:
            self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket)
        self.assertClientError(cm, "NoSuchLifecycleConfiguration", 404)

    def test_rules_apply_at_midnight_after_their_days(self):
        self.s3.put_object(Bucket=self.bucket, Key="logs/a", Body=b"x")
        self.s3.put_object(Bucket=self.bucket, Key="logs/tagged", Body=b"x", Tagging="keep=yes")
        self.s3.put_object(Bucket=self.bucket, Key="keep/b", Body=b"x")
        self.s3.put_object(Bucket=self.bucket, Key="data/small", Body=b"x", Tagging="tier=cold")
        self.s3.put_object(Bucket=self.bucket, Key="data/big", Body=b"x" * 2048, Tagging="tier=cold")
        self.s3.put_object(Bucket=self.bucket, Key="data/big-untagged", Body=b"x" * 2048)
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key="up/file")["UploadId"]
        self.s3.put_bucket_lifecycle_configuration(Bucket=self.bucket, LifecycleConfiguration={"Rules": [
            {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
            {"ID": "cold", "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "tier", "Value": "cold"}],
                                              "ObjectSizeGreaterThan": 1024}},
             "Status": "Enabled", "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
            {"ID": "uploads", "Filter": {"Prefix": "up/"}, "Status": "Enabled",
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
            {"ID": "off", "Filter": {"Prefix": "keep/"}, "Status": "Disabled", "Expiration": {"Days": 1}},
        ]})
        everything = ["data/big", "data/big-untagged", "data/small", "keep/b", "logs/a", "logs/tagged"]

        # Written at 10:00 on day 0: one day later is 10:00 on day 1, rounded up to midnight of day 2.
        self.at(1, 23)
        self.run_pass()
        self.assertEqual(self.keys(), everything)
        self.at(2, 0)
        self.run_pass()  # two logs expire, data/big moves
        self.assertEqual(self.keys(), ["data/big", "data/big-untagged", "data/small", "keep/b"])
        classes = {o["Key"]: o["StorageClass"] for o in self.s3.list_objects_v2(Bucket=self.bucket)["Contents"]}
        self.assertEqual(classes["data/big"], "GLACIER")
        self.assertEqual(classes["data/big-untagged"], "STANDARD")
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="data/big")["StorageClass"], "GLACIER")
        self.assertEqual(len(self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])), 1)
        self.at(3, 0)
        self.run_pass()
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []), [])
        with self.assertRaises(ClientError):
            self.s3.list_parts(Bucket=self.bucket, Key="up/file", UploadId=upload)

    def test_expiration_by_date_and_the_midnight_worker(self):
        self.s3.put_object(Bucket=self.bucket, Key="tmp/a", Body=b"x")
        self.s3.put_bucket_lifecycle_configuration(Bucket=self.bucket, LifecycleConfiguration={"Rules": [
            {"ID": "date", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
             "Expiration": {"Date": datetime.datetime(2031, 3, 12, tzinfo=datetime.timezone.utc)}}]})
        self.at(1, 12)
        self.assertEqual(self.keys(), ["tmp/a"])
        # Moving the clock past midnight wakes the worker, which applies the rule on its own.
        self.at(2, 0)
        for _ in range(200):
            if not self.keys():
                break
            time.sleep(0.05)  # the pass runs on the pool right after the clock moved
        self.assertEqual(self.keys(), [])

    def test_expirations_send_lifecycle_events(self):
        sqs = self.server.client("sqs")
        url = sqs.create_queue(QueueName=fh.unique_bucket("life-events"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration={
            "QueueConfigurations": [{"Id": "expired", "QueueArn": arn, "Events": ["s3:LifecycleExpiration:*"]}]})
        versioned = fh.unique_bucket("life-v")
        self.s3.create_bucket(Bucket=versioned)
        self.s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_bucket_notification_configuration(Bucket=versioned, NotificationConfiguration={
            "QueueConfigurations": [{"Id": "marker", "QueueArn": arn,
                                     "Events": ["s3:LifecycleExpiration:DeleteMarkerCreated"]}]})
        rules = {"Rules": [{"ID": "r", "Filter": {"Prefix": "old/"}, "Status": "Enabled", "Expiration": {"Days": 1}}]}
        for b in (self.bucket, versioned):
            self.s3.put_object(Bucket=b, Key="old/a", Body=b"x")
            self.s3.put_object(Bucket=b, Key="new/b", Body=b"x")  # no rule selects it
            self.s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=rules)
        # Client deletes are not lifecycle events.
        self.s3.delete_object(Bucket=self.bucket, Key="new/b")
        self.at(2, 0)
        self.run_pass()
        records = []
        for _ in range(5):
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                body = json.loads(m["Body"])
                if "Records" in body:
                    records += body["Records"]
        names = sorted((r["s3"]["bucket"]["name"], r["eventName"], r["s3"]["object"]["key"]) for r in records)
        self.assertEqual(names, sorted([(self.bucket, "LifecycleExpiration:Delete", "old/a"),
                                        (versioned, "LifecycleExpiration:DeleteMarkerCreated", "old/a")]))
        for r in records:
            self.assertEqual(r["userIdentity"], {"principalId": "s3.amazonaws.com"})
            self.assertEqual(r["requestParameters"], {"sourceIPAddress": "s3.amazonaws.com"})
            self.assertNotIn("size", r["s3"]["object"])
            self.assertEqual(r["eventTime"], "2031-03-12T00:00:00.000Z")
            if r["s3"]["bucket"]["name"] == versioned:
                marker = self.s3.list_object_versions(Bucket=versioned)["DeleteMarkers"][0]["VersionId"]
                self.assertEqual(r["s3"]["object"]["versionId"], marker)


if __name__ == "__main__":
    fh.main()
