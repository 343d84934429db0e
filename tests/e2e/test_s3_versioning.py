#!/usr/bin/env python3
"""S3 versioning and Object Lock through boto3 and the AWS CLI: version ids on every write,
the null version of unversioned and suspended buckets, delete markers (404 with the marker
header, 405 by version id), reads, copies, tagging and deletes by version, ListObjectVersions
paging, multipart uploads that complete into a version (and a repeated Complete answered with
the same result), retention and legal holds that refuse deletion until the virtual clock passes
them, lifecycle rules on noncurrent versions and delete markers, and all of it after a restart."""

import datetime
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

DAY = 86400


class S3VersioningTest(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        self.start = datetime.datetime(2031, 5, 10, 10, 0, tzinfo=datetime.timezone.utc)
        self.server.set_clock(self.start.timestamp())
        self.s3 = self.server.client("s3")
        self.bucket = fh.unique_bucket("ver")
        self.s3.create_bucket(Bucket=self.bucket)

    def error(self, fn, code, status):
        with self.assertRaises(ClientError) as cm:
            fn()
        return self.assertClientError(cm, code, status)

    def enable(self, status="Enabled", bucket=None):
        self.s3.put_bucket_versioning(Bucket=bucket or self.bucket, VersioningConfiguration={"Status": status})

    def versions(self, **kw):
        out = self.s3.list_object_versions(Bucket=self.bucket, **kw)
        entries = [("v", v["Key"], v["VersionId"], v["IsLatest"]) for v in out.get("Versions", [])]
        entries += [("m", m["Key"], m["VersionId"], m["IsLatest"]) for m in out.get("DeleteMarkers", [])]
        return out, entries

    def test_versioning_configuration(self):
        self.assertNotIn("Status", self.s3.get_bucket_versioning(Bucket=self.bucket))
        self.enable()
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.bucket)["Status"], "Enabled")
        self.enable("Suspended")
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.bucket)["Status"], "Suspended")
        self.s3.put_bucket_versioning(Bucket=self.bucket,
                                      VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
        got = self.s3.get_bucket_versioning(Bucket=self.bucket)
        self.assertEqual((got["Status"], got["MFADelete"]), ("Enabled", "Disabled"))
        with self.assertRaises(ClientError) as cm:
            self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "On"})
        self.assertClientError(cm, "MalformedXML", 400)

    def test_unversioned_bucket_has_only_the_null_version(self):
        put = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"1")
        self.assertNotIn("VersionId", put)  # no x-amz-version-id before versioning was ever on
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k", VersionId="null")["Body"].read(), b"1")
        err = self.error(lambda: self.s3.get_object(Bucket=self.bucket, Key="k", VersionId="bogus"),
                         "InvalidArgument", 400)
        self.assertEqual(err["Error"]["Message"], "Invalid version id specified")

    def test_versions_delete_markers_and_reads_by_id(self):
        self.s3.put_object(Bucket=self.bucket, Key="doc", Body=b"before")  # the null version
        self.enable()
        v1 = self.s3.put_object(Bucket=self.bucket, Key="doc", Body=b"one")["VersionId"]
        v2 = self.s3.put_object(Bucket=self.bucket, Key="doc", Body=b"two")["VersionId"]
        self.assertEqual(len(v1), 32)
        self.assertNotEqual(v1, v2)
        got = self.s3.get_object(Bucket=self.bucket, Key="doc")
        self.assertEqual((got["Body"].read(), got["VersionId"]), (b"two", v2))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="doc", VersionId=v1)["Body"].read(), b"one")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="doc", VersionId="null")["Body"].read(), b"before")
        head = self.s3.head_object(Bucket=self.bucket, Key="doc", VersionId=v1)
        self.assertEqual((head["ContentLength"], head["VersionId"]), (3, v1))

        # A delete without a version id puts a delete marker on top.
        deleted = self.s3.delete_object(Bucket=self.bucket, Key="doc")
        self.assertTrue(deleted["DeleteMarker"])
        marker = deleted["VersionId"]
        err = self.error(lambda: self.s3.get_object(Bucket=self.bucket, Key="doc"), "NoSuchKey", 404)
        self.assertEqual(err["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"], "true")
        self.assertEqual(err["ResponseMetadata"]["HTTPHeaders"]["x-amz-version-id"], marker)
        err = self.error(lambda: self.s3.get_object(Bucket=self.bucket, Key="doc", VersionId=marker),
                         "MethodNotAllowed", 405)
        self.assertEqual(err["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"], "true")
        with self.assertRaises(ClientError) as cm:
            self.s3.head_object(Bucket=self.bucket, Key="doc", VersionId=marker)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 405)
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket=self.bucket))
        self.error(lambda: self.s3.get_object(Bucket=self.bucket, Key="doc", VersionId="A" * 32),
                   "NoSuchVersion", 404)

        _, entries = self.versions()
        self.assertEqual(sorted(entries), sorted([
            ("m", "doc", marker, True), ("v", "doc", v2, False), ("v", "doc", v1, False),
            ("v", "doc", "null", False)]))
        raw = self.s3.list_object_versions(Bucket=self.bucket)["Versions"]
        self.assertEqual([v["VersionId"] for v in raw], [v2, v1, "null"])  # newest first

        # Deleting the marker by id brings v2 back; deleting v2 by id makes v1 current.
        gone = self.s3.delete_object(Bucket=self.bucket, Key="doc", VersionId=marker)
        self.assertTrue(gone["DeleteMarker"])
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="doc")["Body"].read(), b"two")
        self.s3.delete_object(Bucket=self.bucket, Key="doc", VersionId=v2)
        got = self.s3.get_object(Bucket=self.bucket, Key="doc")
        self.assertEqual((got["Body"].read(), got["VersionId"]), (b"one", v1))
        # A bucket with versions left is not empty.
        self.error(lambda: self.s3.delete_bucket(Bucket=self.bucket), "BucketNotEmpty", 409)

        # Everything survives a restart.
        self.server.restart()
        self.s3 = self.server.client("s3")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="doc", VersionId="null")["Body"].read(), b"before")
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.bucket)["Status"], "Enabled")
        for v in (v1, "null"):
            self.s3.delete_object(Bucket=self.bucket, Key="doc", VersionId=v)
        self.s3.delete_bucket(Bucket=self.bucket)

    def test_suspended_bucket_overwrites_the_null_version(self):
        self.enable()
        kept = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"versioned")["VersionId"]
        self.enable("Suspended")
        put = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"null-1")
        self.assertEqual(put["VersionId"], "null")
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"null-2")
        _, entries = self.versions()
        self.assertEqual(sorted(entries), sorted([("v", "k", "null", True), ("v", "k", kept, False)]))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"null-2")
        # A delete in a suspended bucket: a null delete marker replaces the null version.
        deleted = self.s3.delete_object(Bucket=self.bucket, Key="k")
        self.assertEqual((deleted["DeleteMarker"], deleted["VersionId"]), (True, "null"))
        _, entries = self.versions()
        self.assertEqual(sorted(entries), sorted([("m", "k", "null", True), ("v", "k", kept, False)]))

    def test_list_object_versions_pages(self):
        self.enable()
        ids = {}
        for key in ("a", "b", "c"):
            ids[key] = [self.s3.put_object(Bucket=self.bucket, Key=key, Body=key.encode() * n)["VersionId"]
                        for n in range(1, 4)]
        seen = []
        kw = {"MaxKeys": 2}
        while True:
            out, _ = self.versions(**kw)
            seen += [(v["Key"], v["VersionId"]) for v in out.get("Versions", [])]
            if not out["IsTruncated"]:
                break
            kw = {"MaxKeys": 2, "KeyMarker": out["NextKeyMarker"], "VersionIdMarker": out["NextVersionIdMarker"]}
        expected = [(k, v) for k in ("a", "b", "c") for v in reversed(ids[k])]
        self.assertEqual(seen, expected)
        paginator = self.s3.get_paginator("list_object_versions")
        pages = list(paginator.paginate(Bucket=self.bucket, Prefix="b", PaginationConfig={"PageSize": 1}))
        self.assertEqual([v["VersionId"] for p in pages for v in p.get("Versions", [])], list(reversed(ids["b"])))
        self.error(lambda: self.s3.list_object_versions(Bucket=self.bucket, VersionIdMarker=ids["a"][0]),
                   "InvalidArgument", 400)

    def test_copy_tagging_delete_objects_and_multipart_by_version(self):
        self.enable()
        v1 = self.s3.put_object(Bucket=self.bucket, Key="src", Body=b"first", Tagging="n=1")["VersionId"]
        self.s3.put_object(Bucket=self.bucket, Key="src", Body=b"second")
        copy = self.s3.copy_object(Bucket=self.bucket, Key="dst",
                                   CopySource={"Bucket": self.bucket, "Key": "src", "VersionId": v1})
        self.assertEqual(copy["CopySourceVersionId"], v1)
        self.assertTrue(copy["VersionId"])
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="dst")["Body"].read(), b"first")
        # Copying a key onto itself makes a new version; the old one keeps its own bytes.
        again = self.s3.copy_object(Bucket=self.bucket, Key="dst", CopySource={"Bucket": self.bucket, "Key": "dst"},
                                    MetadataDirective="REPLACE", Metadata={"m": "1"})
        self.s3.delete_object(Bucket=self.bucket, Key="dst", VersionId=again["VersionId"])
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="dst")["Body"].read(), b"first")

        # Restoring an old version: copy it onto its own key.
        restored = self.s3.copy_object(Bucket=self.bucket, Key="src",
                                       CopySource={"Bucket": self.bucket, "Key": "src", "VersionId": v1})
        self.assertEqual(restored["CopySourceVersionId"], v1)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="src")["Body"].read(), b"first")
        self.s3.delete_object(Bucket=self.bucket, Key="src", VersionId=restored["VersionId"])
        tags = self.s3.get_object_tagging(Bucket=self.bucket, Key="src", VersionId=v1)
        self.assertEqual((tags["TagSet"], tags["VersionId"]), ([{"Key": "n", "Value": "1"}], v1))
        self.s3.put_object_tagging(Bucket=self.bucket, Key="src", VersionId=v1,
                                   Tagging={"TagSet": [{"Key": "n", "Value": "2"}]})
        self.assertEqual(self.s3.get_object_tagging(Bucket=self.bucket, Key="src", VersionId=v1)["TagSet"],
                         [{"Key": "n", "Value": "2"}])
        self.assertEqual(self.s3.get_object_tagging(Bucket=self.bucket, Key="src")["TagSet"], [])
        attrs = self.s3.get_object_attributes(Bucket=self.bucket, Key="src", VersionId=v1, ObjectAttributes=["ObjectSize"])
        self.assertEqual((attrs["ObjectSize"], attrs["VersionId"]), (5, v1))

        result = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [
            {"Key": "src", "VersionId": v1}, {"Key": "dst"}]})
        deleted = {(d["Key"], d.get("VersionId")): d for d in result["Deleted"]}
        self.assertIn(("src", v1), deleted)
        self.assertTrue(deleted[("dst", None)]["DeleteMarker"])
        self.assertTrue(deleted[("dst", None)]["DeleteMarkerVersionId"])
        self.error(lambda: self.s3.get_object(Bucket=self.bucket, Key="src", VersionId=v1), "NoSuchVersion", 404)

        # Conditional deletes: If-Match on DeleteObject and an ETag per key in DeleteObjects.
        etag = self.s3.put_object(Bucket=self.bucket, Key="cond", Body=b"c")["ETag"]
        self.error(lambda: self.s3.delete_object(Bucket=self.bucket, Key="cond", IfMatch='"0000"'),
                   "PreconditionFailed", 412)
        result = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": "cond", "ETag": '"0000"'}]})
        self.assertEqual(result["Errors"][0]["Code"], "PreconditionFailed")
        result = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": "cond", "ETag": etag}]})
        self.assertTrue(result["Deleted"][0]["DeleteMarker"])
        # A write conditional on the key being absent succeeds over a delete marker.
        self.s3.put_object(Bucket=self.bucket, Key="cond", Body=b"again", IfNoneMatch="*")

        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key="mp")["UploadId"]
        part = self.s3.upload_part(Bucket=self.bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"p" * 100)
        parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        done = self.s3.complete_multipart_upload(Bucket=self.bucket, Key="mp", UploadId=up, MultipartUpload=parts)
        self.assertTrue(done["VersionId"])
        # An SDK retrying after a lost response gets the same answer.
        parts_unquoted = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"].strip('"')}]}
        again = self.s3.complete_multipart_upload(Bucket=self.bucket, Key="mp", UploadId=up,
                                                  MultipartUpload=parts_unquoted)
        self.assertEqual((again["ETag"], again["VersionId"]), (done["ETag"], done["VersionId"]))
        self.assertEqual(len(self.versions(Prefix="mp")[1]), 1)

    def test_cli_lists_versions(self):
        self.enable()
        self.s3.put_object(Bucket=self.bucket, Key="cli", Body=b"1")
        self.s3.put_object(Bucket=self.bucket, Key="cli", Body=b"2")
        env = dict(os.environ, AWS_ACCESS_KEY_ID=fh.DEFAULT_KEY, AWS_SECRET_ACCESS_KEY=fh.DEFAULT_SECRET,
                   AWS_DEFAULT_REGION="us-east-1")
        out = subprocess.run(["aws", "--endpoint-url", self.server.http_url, "s3api", "list-object-versions",
                              "--bucket", self.bucket, "--output", "json"],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(json.loads(out.stdout)["Versions"]), 2)


class S3ObjectLockTest(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        self.start = datetime.datetime(2031, 5, 10, 10, 0, tzinfo=datetime.timezone.utc)
        self.server.set_clock(self.start.timestamp())
        self.s3 = self.server.client("s3")
        self.bucket = fh.unique_bucket("lock")
        self.s3.create_bucket(Bucket=self.bucket, ObjectLockEnabledForBucket=True)

    def error(self, fn, code, status):
        with self.assertRaises(ClientError) as cm:
            fn()
        return self.assertClientError(cm, code, status)

    def test_configuration(self):
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.bucket)["Status"], "Enabled")
        got = self.s3.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
        self.assertEqual(got, {"ObjectLockEnabled": "Enabled"})
        rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
        self.s3.put_object_lock_configuration(Bucket=self.bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": rule})
        got = self.s3.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
        self.assertEqual(got["Rule"], rule)
        # Versioning cannot be suspended once Object Lock is on.
        err = self.error(lambda: self.s3.put_bucket_versioning(Bucket=self.bucket,
                                                               VersioningConfiguration={"Status": "Suspended"}),
                         "InvalidBucketState", 409)
        self.assertIn("Object Lock configuration is present", err["Error"]["Message"])
        # A new version gets the default retention.
        v = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")["VersionId"]
        head = self.s3.head_object(Bucket=self.bucket, Key="k")
        self.assertEqual(head["ObjectLockMode"], "GOVERNANCE")
        self.assertEqual(head["ObjectLockRetainUntilDate"].timestamp(), self.start.timestamp() + DAY)
        self.error(lambda: self.s3.delete_object(Bucket=self.bucket, Key="k", VersionId=v), "AccessDenied", 403)
        self.s3.delete_object(Bucket=self.bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)

        plain = fh.unique_bucket("plain")
        self.s3.create_bucket(Bucket=plain)
        self.error(lambda: self.s3.get_object_lock_configuration(Bucket=plain),
                   "ObjectLockConfigurationNotFoundError", 404)
        self.error(lambda: self.s3.put_object_lock_configuration(
            Bucket=plain, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}), "InvalidBucketState", 409)
        err = self.error(lambda: self.s3.put_object(Bucket=plain, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON"),
                         "InvalidRequest", 400)
        self.assertEqual(err["Error"]["Message"], "Bucket is missing Object Lock Configuration")

    def test_compliance_retention_holds_until_the_clock_passes_it(self):
        until = self.start + datetime.timedelta(days=2)
        v = self.s3.put_object(Bucket=self.bucket, Key="c", Body=b"keep", ObjectLockMode="COMPLIANCE",
                               ObjectLockRetainUntilDate=until)["VersionId"]
        got = self.s3.get_object_retention(Bucket=self.bucket, Key="c", VersionId=v)["Retention"]
        self.assertEqual((got["Mode"], got["RetainUntilDate"]), ("COMPLIANCE", until))
        for bypass in (False, True):
            self.error(lambda: self.s3.delete_object(Bucket=self.bucket, Key="c", VersionId=v,
                                                     BypassGovernanceRetention=bypass), "AccessDenied", 403)
        # Shortening compliance retention is refused, lengthening is allowed.
        self.error(lambda: self.s3.put_object_retention(
            Bucket=self.bucket, Key="c", VersionId=v, BypassGovernanceRetention=True,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until - datetime.timedelta(days=1)}),
            "AccessDenied", 403)
        longer = until + datetime.timedelta(days=1)
        self.s3.put_object_retention(Bucket=self.bucket, Key="c", VersionId=v,
                                     Retention={"Mode": "COMPLIANCE", "RetainUntilDate": longer})
        result = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": "c", "VersionId": v}]})
        self.assertEqual(result["Errors"][0]["Code"], "AccessDenied")
        # A plain delete only adds a marker, which Object Lock allows.
        self.assertTrue(self.s3.delete_object(Bucket=self.bucket, Key="c")["DeleteMarker"])
        self.server.set_clock(longer.timestamp() + 1)
        self.s3.delete_object(Bucket=self.bucket, Key="c", VersionId=v)
        self.error(lambda: self.s3.get_object(Bucket=self.bucket, Key="c", VersionId=v), "NoSuchVersion", 404)

    def test_legal_hold(self):
        v = self.s3.put_object(Bucket=self.bucket, Key="h", Body=b"x")["VersionId"]
        self.error(lambda: self.s3.get_object_legal_hold(Bucket=self.bucket, Key="h"),
                   "NoSuchObjectLockConfiguration", 404)
        self.s3.put_object_legal_hold(Bucket=self.bucket, Key="h", LegalHold={"Status": "ON"})
        self.assertEqual(self.s3.get_object_legal_hold(Bucket=self.bucket, Key="h")["LegalHold"]["Status"], "ON")
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="h")["ObjectLockLegalHoldStatus"], "ON")
        self.error(lambda: self.s3.delete_object(Bucket=self.bucket, Key="h", VersionId=v,
                                                 BypassGovernanceRetention=True), "AccessDenied", 403)
        self.s3.put_object_legal_hold(Bucket=self.bucket, Key="h", VersionId=v, LegalHold={"Status": "OFF"})
        self.s3.delete_object(Bucket=self.bucket, Key="h", VersionId=v)


class S3VersionLifecycleTest(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        self.start = datetime.datetime(2031, 6, 10, 10, 0, tzinfo=datetime.timezone.utc)
        self.server.set_clock(self.start.timestamp())
        self.s3 = self.server.client("s3")
        self.bucket = fh.unique_bucket("vlife")
        self.s3.create_bucket(Bucket=self.bucket)
        self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})

    def at(self, days):
        midnight = self.start.replace(hour=0)
        self.server.set_clock((midnight + datetime.timedelta(days=days, hours=1)).timestamp())
        status, body, _ = self.server.admin("/_fogbank/s3/lifecycle", method="POST")
        self.assertEqual(status, 200, body)

    def entries(self):
        out = self.s3.list_object_versions(Bucket=self.bucket)
        return (sorted(v["VersionId"] for v in out.get("Versions", [])),
                sorted(m["VersionId"] for m in out.get("DeleteMarkers", [])))

    def test_noncurrent_expiration_keeps_newer_versions_and_cleans_markers(self):
        self.s3.put_bucket_lifecycle_configuration(Bucket=self.bucket, LifecycleConfiguration={"Rules": [
            {"ID": "old", "Filter": {"Prefix": ""}, "Status": "Enabled",
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}},
            {"ID": "markers", "Filter": {"Prefix": ""}, "Status": "Enabled",
             "Expiration": {"ExpiredObjectDeleteMarker": True}}]})
        ids = [self.s3.put_object(Bucket=self.bucket, Key="k", Body=str(i).encode())["VersionId"] for i in range(3)]
        self.at(1)  # only now one day noncurrent, due at the next midnight
        self.assertEqual(self.entries()[0], sorted(ids))
        self.at(2)
        # The current version and the newest noncurrent one stay.
        self.assertEqual(self.entries()[0], sorted(ids[1:]))

        marker = self.s3.delete_object(Bucket=self.bucket, Key="k")["VersionId"]
        for v in ids[1:]:
            self.s3.delete_object(Bucket=self.bucket, Key="k", VersionId=v)
        self.assertEqual(self.entries(), ([], [marker]))
        self.at(3)
        self.assertEqual(self.entries(), ([], []))

    def test_expiration_in_a_versioned_bucket_adds_a_delete_marker(self):
        self.s3.put_bucket_lifecycle_configuration(Bucket=self.bucket, LifecycleConfiguration={"Rules": [
            {"ID": "exp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
        v = self.s3.put_object(Bucket=self.bucket, Key="tmp/a", Body=b"a")["VersionId"]
        self.at(2)
        versions, markers = self.entries()
        self.assertEqual((versions, len(markers)), ([v], 1))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="tmp/a", VersionId=v)["Body"].read(), b"a")


if __name__ == "__main__":
    fh.main()
