#!/usr/bin/env python3
"""S3 bucket policies, default encryption and server access logging configuration through boto3
and the AWS CLI: S3's validation messages, explicit Deny statements enforced with the request's
condition keys (AWS's documented "deny unencrypted uploads" policy), the owner still able to
replace a policy that denies everything, and every configuration surviving a restart."""

import json
import os
import sys
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

ACCOUNT = fh.ROOT_ACCOUNT


def deny_unencrypted(bucket):
    return {"Version": "2012-10-17", "Id": "PutObjPolicy", "Statement": [
        {"Sid": "DenyIncorrectEncryptionHeader", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::%s/*" % bucket,
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}},
        {"Sid": "DenyUnEncryptedObjectUploads", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::%s/*" % bucket,
         "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}]}


class S3BucketConfigTest(fh.FogbankTestCase):
    def setUp(self):
        self.s3 = self.server.client("s3")
        self.bucket = fh.unique_bucket("cfg")
        self.s3.create_bucket(Bucket=self.bucket)

    def error(self, fn, code, status=400):
        with self.assertRaises(ClientError) as cm:
            fn()
        self.assertClientError(cm, code, status)
        return cm.exception.response["Error"]["Message"]

    def test_policy_round_trip_and_validation(self):
        self.error(lambda: self.s3.get_bucket_policy(Bucket=self.bucket), "NoSuchBucketPolicy", 404)
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "read", "Effect": "Allow", "Principal": {"AWS": [ACCOUNT]}, "Action": ["s3:Get*"],
            "Resource": ["arn:aws:s3:::%s" % self.bucket, "arn:aws:s3:::%s/*" % self.bucket]}]})
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=policy)
        self.assertEqual(json.loads(self.s3.get_bucket_policy(Bucket=self.bucket)["Policy"]), json.loads(policy))

        cases = [
            ("{not json", "Policies must be valid JSON and the first byte must be '{'"),
            (json.dumps({"Version": "2012-10-17"}), "Missing required field Statement"),
            (json.dumps({"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:*",
                                        "Resource": "arn:aws:s3:::%s" % self.bucket}]}), "Invalid effect: Maybe"),
            (json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                                        "Resource": "arn:aws:s3:::%s" % self.bucket}]}), "Policy has invalid action"),
            (json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                        "Resource": "arn:aws:s3:::someone-else/*"}]}), "Policy has invalid resource"),
        ]
        for text, message in cases:
            self.assertEqual(self.error(lambda: self.s3.put_bucket_policy(Bucket=self.bucket, Policy=text),
                                        "MalformedPolicy"), message)
        self.assertEqual(json.loads(self.s3.get_bucket_policy(Bucket=self.bucket)["Policy"]), json.loads(policy))
        self.s3.delete_bucket_policy(Bucket=self.bucket)
        self.error(lambda: self.s3.get_bucket_policy(Bucket=self.bucket), "NoSuchBucketPolicy", 404)

    def test_deny_unencrypted_uploads(self):
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(deny_unencrypted(self.bucket)))
        self.error(lambda: self.s3.put_object(Bucket=self.bucket, Key="a", Body=b"x"), "AccessDenied", 403)
        self.error(lambda: self.s3.put_object(Bucket=self.bucket, Key="a", Body=b"x", ServerSideEncryption="aws:kms"),
                   "AccessDenied", 403)
        put = self.s3.put_object(Bucket=self.bucket, Key="a", Body=b"x", ServerSideEncryption="AES256")
        self.assertEqual(put["ServerSideEncryption"], "AES256")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="a")["Body"].read(), b"x")  # reads unaffected
        self.error(lambda: self.s3.copy_object(Bucket=self.bucket, Key="b", CopySource={"Bucket": self.bucket,
                                                                                        "Key": "a"}),
                   "AccessDenied", 403)
        url = self.s3.generate_presigned_url("put_object", Params={"Bucket": self.bucket, "Key": "c"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(urllib.request.Request(url, data=b"x", method="PUT"), timeout=10)
        self.assertEqual(cm.exception.code, 403)
        listed = [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]
        self.assertEqual(listed, ["a"])

    def test_deletes_and_copy_sources_are_judged_per_object(self):
        for key in ("protected/a", "free/b", "secret/c"):
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"x")
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps({"Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
             "Resource": "arn:aws:s3:::%s/protected/*" % self.bucket},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::%s/secret/*" % self.bucket}]}))
        out = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": "protected/a"},
                                                                             {"Key": "free/b"}]})
        self.assertEqual([d["Key"] for d in out.get("Deleted", [])], ["free/b"])
        self.assertEqual([(e["Key"], e["Code"]) for e in out.get("Errors", [])], [("protected/a", "AccessDenied")])
        self.error(lambda: self.s3.delete_object(Bucket=self.bucket, Key="protected/a"), "AccessDenied", 403)
        other = fh.unique_bucket("dst")
        self.s3.create_bucket(Bucket=other)
        self.error(lambda: self.s3.copy_object(Bucket=other, Key="c", CopySource={"Bucket": self.bucket,
                                                                                "Key": "secret/c"}),
                   "AccessDenied", 403)
        self.s3.copy_object(Bucket=other, Key="a", CopySource={"Bucket": self.bucket, "Key": "protected/a"})

    def test_a_policy_that_denies_everything_can_still_be_replaced(self):
        everything = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                                "Resource": ["arn:aws:s3:::%s" % self.bucket,
                                                             "arn:aws:s3:::%s/*" % self.bucket]}]})
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=everything)
        self.error(lambda: self.s3.list_objects_v2(Bucket=self.bucket), "AccessDenied", 403)
        self.error(lambda: self.s3.get_bucket_tagging(Bucket=self.bucket), "AccessDenied", 403)
        self.assertEqual(json.loads(self.s3.get_bucket_policy(Bucket=self.bucket)["Policy"]), json.loads(everything))
        self.s3.delete_bucket_policy(Bucket=self.bucket)
        self.s3.list_objects_v2(Bucket=self.bucket)

    def test_default_encryption_configuration(self):
        default = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}
        got = self.s3.get_bucket_encryption(Bucket=self.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        self.assertEqual(got, [default])
        kms = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/app"},
               "BucketKeyEnabled": True}
        self.s3.put_bucket_encryption(Bucket=self.bucket, ServerSideEncryptionConfiguration={"Rules": [kms]})
        got = self.s3.get_bucket_encryption(Bucket=self.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        self.assertEqual(got, [kms])
        self.error(lambda: self.s3.put_bucket_encryption(Bucket=self.bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256",
                                                              "KMSMasterKeyID": "alias/x"}}]}), "InvalidArgument")
        self.s3.delete_bucket_encryption(Bucket=self.bucket)
        got = self.s3.get_bucket_encryption(Bucket=self.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        self.assertEqual(got, [default])

    def test_settings_stored_and_returned(self):
        b = self.bucket
        # AWS's defaults for a new bucket.
        self.assertEqual(self.s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"],
                         {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                          "RestrictPublicBuckets": True})
        self.assertEqual(self.s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"],
                         {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        self.assertEqual(self.s3.get_bucket_request_payment(Bucket=b)["Payer"], "BucketOwner")
        self.assertNotIn("Status", self.s3.get_bucket_accelerate_configuration(Bucket=b))
        self.error(lambda: self.s3.get_bucket_replication(Bucket=b), "ReplicationConfigurationNotFoundError", 404)

        pab = {"BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
               "RestrictPublicBuckets": False}
        self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=pab)
        self.assertEqual(self.s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"], pab)
        self.s3.delete_public_access_block(Bucket=b)
        self.error(lambda: self.s3.get_public_access_block(Bucket=b), "NoSuchPublicAccessBlockConfiguration", 404)
        self.s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [
            {"ObjectOwnership": "ObjectWriter"}]})
        self.assertEqual(self.s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"],
                         [{"ObjectOwnership": "ObjectWriter"}])
        self.s3.delete_bucket_ownership_controls(Bucket=b)
        self.error(lambda: self.s3.get_bucket_ownership_controls(Bucket=b), "OwnershipControlsNotFoundError", 404)
        self.s3.put_bucket_request_payment(Bucket=b, RequestPaymentConfiguration={"Payer": "Requester"})
        self.assertEqual(self.s3.get_bucket_request_payment(Bucket=b)["Payer"], "Requester")
        self.s3.put_bucket_accelerate_configuration(Bucket=b, AccelerateConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.get_bucket_accelerate_configuration(Bucket=b)["Status"], "Enabled")
        self.error(lambda: self.s3.put_bucket_accelerate_configuration(
            Bucket=b, AccelerateConfiguration={"Status": "Sometimes"}), "MalformedXML")
        dotted = "dot.%s" % b[:40]
        self.s3.create_bucket(Bucket=dotted)
        self.error(lambda: self.s3.put_bucket_accelerate_configuration(
            Bucket=dotted, AccelerateConfiguration={"Status": "Enabled"}), "InvalidRequest")
        message = self.error(lambda: self.s3.put_bucket_replication(Bucket=b, ReplicationConfiguration={
            "Role": "arn:aws:iam::%s:role/r" % ACCOUNT,
            "Rules": [{"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::other"}}]}), "InvalidRequest")
        self.assertEqual(message, "Versioning must be 'Enabled' on the bucket to apply a replication configuration")
        self.server.stop()
        self.server.start()
        self.s3 = self.server.client("s3")
        self.assertEqual(self.s3.get_bucket_request_payment(Bucket=b)["Payer"], "Requester")
        self.error(lambda: self.s3.get_public_access_block(Bucket=b), "NoSuchPublicAccessBlockConfiguration", 404)

    def test_logging_configuration(self):
        logs = fh.unique_bucket("logs")
        self.s3.create_bucket(Bucket=logs)
        self.assertNotIn("LoggingEnabled", self.s3.get_bucket_logging(Bucket=self.bucket))
        enabled = {"TargetBucket": logs, "TargetPrefix": "access/"}
        self.s3.put_bucket_logging(Bucket=self.bucket, BucketLoggingStatus={"LoggingEnabled": enabled})
        self.assertEqual(self.s3.get_bucket_logging(Bucket=self.bucket)["LoggingEnabled"], enabled)
        message = self.error(lambda: self.s3.put_bucket_logging(Bucket=self.bucket, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": fh.unique_bucket("none"), "TargetPrefix": "x/"}}),
            "InvalidTargetBucketForLogging")
        self.assertEqual(message, "The target bucket for logging does not exist")
        self.assertEqual(self.s3.get_bucket_logging(Bucket=self.bucket)["LoggingEnabled"], enabled)

        # Everything set survives a restart.
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(deny_unencrypted(self.bucket)))
        self.server.stop()
        self.server.start()
        self.s3 = self.server.client("s3")
        self.assertEqual(self.s3.get_bucket_logging(Bucket=self.bucket)["LoggingEnabled"], enabled)
        self.error(lambda: self.s3.put_object(Bucket=self.bucket, Key="a", Body=b"x"), "AccessDenied", 403)
        self.s3.put_bucket_logging(Bucket=self.bucket, BucketLoggingStatus={})
        self.assertNotIn("LoggingEnabled", self.s3.get_bucket_logging(Bucket=self.bucket))

    def test_configurations_by_id(self):
        dest = "arn:aws:s3:::%s" % self.bucket
        families = {
            "inventory": ("InventoryConfiguration", lambda i: {
                "Id": i, "IsEnabled": True, "IncludedObjectVersions": "Current", "Schedule": {"Frequency": "Daily"},
                "Destination": {"S3BucketDestination": {"Bucket": dest, "Format": "CSV", "Prefix": "inv"}}}),
            "analytics": ("AnalyticsConfiguration", lambda i: {
                "Id": i, "Filter": {"Prefix": "logs/"}, "StorageClassAnalysis": {}}),
            "metrics": ("MetricsConfiguration", lambda i: {"Id": i, "Filter": {"Prefix": "img/"}}),
            "intelligent_tiering": ("IntelligentTieringConfiguration", lambda i: {
                "Id": i, "Status": "Enabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}),
        }
        for family, (member, make) in families.items():
            put = getattr(self.s3, "put_bucket_%s_configuration" % family)
            get = getattr(self.s3, "get_bucket_%s_configuration" % family)
            delete = getattr(self.s3, "delete_bucket_%s_configuration" % family)
            listing = getattr(self.s3, "list_bucket_%s_configurations" % family)
            list_key = member + "List"
            self.assertNotIn(list_key, listing(Bucket=self.bucket), family)
            self.error(lambda: get(Bucket=self.bucket, Id="a"), "NoSuchConfiguration", 404)
            for i in ("b", "a"):
                put(Bucket=self.bucket, Id=i, **{member: make(i)})
            self.assertEqual(get(Bucket=self.bucket, Id="a")[member], make("a"), family)
            self.assertEqual([c["Id"] for c in listing(Bucket=self.bucket)[list_key]], ["a", "b"], family)
            self.error(lambda: put(Bucket=self.bucket, Id="c", **{member: make("d")}), "InvalidArgument")
            delete(Bucket=self.bucket, Id="a")
            self.error(lambda: get(Bucket=self.bucket, Id="a"), "NoSuchConfiguration", 404)
            self.error(lambda: delete(Bucket=self.bucket, Id="a"), "NoSuchConfiguration", 404)
            self.assertEqual([c["Id"] for c in listing(Bucket=self.bucket)[list_key]], ["b"], family)


if __name__ == "__main__":
    fh.main()
