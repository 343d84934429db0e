#!/usr/bin/env python3
"""S3 buckets end to end: create/delete/head/list, locations, name rules, accounts, tagging,
virtual-hosted-style addressing (raw signed requests with a Host header)."""

import http.client
import os
import sys
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

OTHER_KEY = "111111111111"  # with --credentials below: a second account
OTHER_ACCOUNT = "111111111111"


def bname(tag="b"):
    return fh.unique_bucket(tag)


class S3BucketTest(fh.FogbankTestCase):
    server_args = ["--credentials",
                   f"test:test:000000000000,{OTHER_KEY}:othersecret:{OTHER_ACCOUNT}"]

    def s3(self, region="us-east-1", **kw):
        return self.server.client("s3", region=region, **kw)

    def other(self, region="us-east-1"):
        return self.server.client("s3", region=region, key=OTHER_KEY, secret="othersecret")

    def raw(self, method, path, host=None, query=None, body=b"", headers=None, key="test", secret="test",
            region="us-east-1"):
        """Hand-signed S3 request; `path` is the decoded path (encoded on the wire)."""
        host = host or f"{self.server.host}:{self.server.port}"
        if isinstance(body, str):
            body = body.encode()
        hdrs = fh.sigv4_headers(method, host, path, query, dict(headers or {}), body, key=key,
                                secret=secret, region=region, service="s3", include_content_sha=True)
        target = fh._uri_encode(path, safe="/-_.~")
        if query:
            target += "?" + fh.canonical_query(query)
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            conn.request(method, target, body=body or None, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    # ------------------------------------------------------------------ CreateBucket
    def test_create_bucket_returns_location(self):
        name = bname()
        r = self.s3().create_bucket(Bucket=name)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(r["Location"], "/" + name)
        self.assertTrue(r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id"))

    def test_invalid_bucket_names(self):
        s3 = self.s3()
        bad = ["ab", "a" * 64, "UpperCase-bucket", "under_score", "-leading-dash", "trailing-dash-",
               ".leading-dot", "trailing-dot.", "double..dots", "192.168.5.4", "xn--punycode",
               "sthree-reserved", "bucket-s3alias", "bucket--ol-s3", "dash.-dot", "dot-.dash"]
        for name in bad:
            with self.subTest(name=name):
                with self.assertRaises(ClientError) as cm:
                    s3.create_bucket(Bucket=name)
                err = self.assertClientError(cm, "InvalidBucketName", 400)
                self.assertEqual(err["Error"].get("BucketName"), name)

    def test_valid_edge_bucket_names(self):
        s3 = self.s3()
        suffix = uuid.uuid4().hex[:8]
        for name in ["a" * 55 + suffix, f"{suffix[:3]}", f"my.dotted.{suffix}", f"1-{suffix}-9"]:
            with self.subTest(name=name):
                self.assertEqual(s3.create_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"], 200)
                s3.head_bucket(Bucket=name)
                s3.delete_bucket(Bucket=name)

    def test_location_constraint_rules(self):
        use1 = self.s3("us-east-1")
        euw1 = self.s3("eu-west-1")
        # us-east-1 is never a valid explicit constraint.
        with self.assertRaises(ClientError) as cm:
            use1.create_bucket(Bucket=bname(), CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
        self.assertClientError(cm, "InvalidLocationConstraint", 400)
        # A regional endpoint without a constraint.
        with self.assertRaises(ClientError) as cm:
            euw1.create_bucket(Bucket=bname())
        self.assertClientError(cm, "IllegalLocationConstraintException", 400)
        # A constraint that differs from the endpoint's region.
        with self.assertRaises(ClientError) as cm:
            euw1.create_bucket(Bucket=bname(), CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        err = self.assertClientError(cm, "IllegalLocationConstraintException", 400)
        self.assertIn("us-west-2", err["Error"]["Message"])
        # Matching constraint: created in that region.
        name = bname()
        r = euw1.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(use1.get_bucket_location(Bucket=name)["LocationConstraint"], "eu-west-1")
        h = use1.head_bucket(Bucket=name)
        self.assertEqual(h["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"], "eu-west-1")
        self.assertEqual(h["BucketRegion"], "eu-west-1")

    def test_unknown_location_constraint(self):
        with self.assertRaises(ClientError) as cm:
            self.s3().create_bucket(Bucket=bname(), CreateBucketConfiguration={"LocationConstraint": "mars-north-1"})
        self.assertClientError(cm, "InvalidLocationConstraint", 400)

    def test_get_bucket_location_us_east_1_is_empty(self):
        name = bname()
        s3 = self.s3()
        s3.create_bucket(Bucket=name)
        self.assertIsNone(s3.get_bucket_location(Bucket=name)["LocationConstraint"])
        st, _, body = self.raw("GET", "/" + name, query={"location": ""})
        self.assertEqual(st, 200)
        self.assertIsNone(fh.xml_find(body, "LocationConstraint"))
        self.assertEqual(fh.strip_ns(fh.ET.fromstring(body).tag), "LocationConstraint")
        with self.assertRaises(ClientError) as cm:
            s3.get_bucket_location(Bucket=bname("missing"))
        self.assertClientError(cm, "NoSuchBucket", 404)

    def test_recreate_own_bucket(self):
        name = bname()
        use1 = self.s3()
        use1.create_bucket(Bucket=name)
        # us-east-1 legacy behaviour: 200 again.
        r = use1.create_bucket(Bucket=name)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        # Outside us-east-1: BucketAlreadyOwnedByYou.
        euw1 = self.s3("eu-west-1")
        name2 = bname()
        euw1.create_bucket(Bucket=name2, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        with self.assertRaises(ClientError) as cm:
            euw1.create_bucket(Bucket=name2, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        err = self.assertClientError(cm, "BucketAlreadyOwnedByYou", 409)
        self.assertEqual(err["Error"].get("BucketName"), name2)

    def test_bucket_already_exists_other_account(self):
        name = bname()
        self.s3().create_bucket(Bucket=name)
        with self.assertRaises(ClientError) as cm:
            self.other().create_bucket(Bucket=name)
        self.assertClientError(cm, "BucketAlreadyExists", 409)
        euw1_name = bname()
        self.s3("eu-west-1").create_bucket(Bucket=euw1_name,
                                           CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        with self.assertRaises(ClientError) as cm:
            self.other("eu-west-1").create_bucket(
                Bucket=euw1_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertClientError(cm, "BucketAlreadyExists", 409)

    def test_other_account_cannot_use_bucket(self):
        name = bname()
        s3 = self.s3()
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=b"secret")
        other = self.other()
        with self.assertRaises(ClientError) as cm:
            other.get_object(Bucket=name, Key="k")
        self.assertClientError(cm, "AccessDenied", 403)
        with self.assertRaises(ClientError) as cm:
            other.head_bucket(Bucket=name)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        with self.assertRaises(ClientError) as cm:
            other.delete_bucket(Bucket=name)
        self.assertClientError(cm, "AccessDenied", 403)
        names = [b["Name"] for b in other.list_buckets()["Buckets"]]
        self.assertNotIn(name, names)

    # ------------------------------------------------------------------ DeleteBucket
    def test_delete_bucket(self):
        s3 = self.s3()
        name = bname()
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="x", Body=b"1")
        with self.assertRaises(ClientError) as cm:
            s3.delete_bucket(Bucket=name)
        err = self.assertClientError(cm, "BucketNotEmpty", 409)
        self.assertEqual(err["Error"].get("BucketName"), name)
        s3.delete_object(Bucket=name, Key="x")
        r = s3.delete_bucket(Bucket=name)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        with self.assertRaises(ClientError) as cm:
            s3.delete_bucket(Bucket=name)
        err = self.assertClientError(cm, "NoSuchBucket", 404)
        self.assertEqual(err["Error"].get("BucketName"), name)
        with self.assertRaises(ClientError) as cm:
            s3.head_bucket(Bucket=name)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_delete_bucket_with_multipart_upload_in_progress(self):
        # AWS deletes a bucket whose only content is incomplete multipart uploads (they go with it).
        s3 = self.s3()
        name = bname()
        s3.create_bucket(Bucket=name)
        up = s3.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
        s3.upload_part(Bucket=name, Key="mp", UploadId=up, PartNumber=1, Body=b"x" * 100)
        self.assertEqual(s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"], 204)
        s3.create_bucket(Bucket=name)
        self.assertEqual(s3.list_multipart_uploads(Bucket=name).get("Uploads", []), [])
        with self.assertRaises(ClientError) as cm:
            s3.list_parts(Bucket=name, Key="mp", UploadId=up)
        self.assertClientError(cm, "NoSuchUpload", 404)

    def test_recreate_after_delete_is_empty(self):
        s3 = self.s3()
        name = bname()
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="old", Body=b"1")
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
        s3.delete_object(Bucket=name, Key="old")
        s3.delete_bucket(Bucket=name)
        s3.create_bucket(Bucket=name)
        self.assertEqual(s3.list_objects_v2(Bucket=name)["KeyCount"], 0)
        with self.assertRaises(ClientError) as cm:
            s3.get_bucket_tagging(Bucket=name)
        self.assertClientError(cm, "NoSuchTagSet", 404)

    # ------------------------------------------------------------------ HeadBucket
    def test_head_bucket(self):
        s3 = self.s3()
        name = bname()
        s3.create_bucket(Bucket=name)
        r = s3.head_bucket(Bucket=name)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"], "us-east-1")
        st, hdrs, body = self.raw("HEAD", "/" + bname("missing"))
        self.assertEqual(st, 404)
        self.assertEqual(body, b"")
        with self.assertRaises(ClientError) as cm:
            s3.head_bucket(Bucket=bname("missing"))
        self.assertEqual(cm.exception.response["Error"]["Code"], "404")

    # ------------------------------------------------------------------ ListBuckets
    def test_list_buckets_prefix_and_pagination(self):
        s3 = self.s3()
        prefix = "fb-pg-" + uuid.uuid4().hex[:8] + "-"
        names = sorted(prefix + f"{i:02d}" for i in range(7))
        for n in reversed(names):
            s3.create_bucket(Bucket=n)
        r = s3.list_buckets(Prefix=prefix)
        self.assertEqual([b["Name"] for b in r["Buckets"]], names)
        self.assertEqual(r.get("Prefix"), prefix)
        for b in r["Buckets"]:
            self.assertEqual(b["BucketRegion"], "us-east-1")
            self.assertIsNotNone(b["CreationDate"])
        self.assertNotIn("ContinuationToken", r)
        self.assertTrue(r["Owner"]["ID"])
        seen = []
        token = None
        pages = 0
        while True:
            kw = dict(Prefix=prefix, MaxBuckets=3)
            if token:
                kw["ContinuationToken"] = token
            r = s3.list_buckets(**kw)
            pages += 1
            self.assertLessEqual(len(r["Buckets"]), 3)
            seen += [b["Name"] for b in r["Buckets"]]
            token = r.get("ContinuationToken")
            if not token:
                break
            self.assertLess(pages, 10)
        self.assertEqual(seen, names)
        self.assertEqual(pages, 3)
        # The paginator agrees.
        pg = s3.get_paginator("list_buckets")
        got = [b["Name"] for p in pg.paginate(Prefix=prefix, PaginationConfig={"PageSize": 2})
               for b in p["Buckets"]]
        self.assertEqual(got, names)

    def test_list_buckets_region_filter(self):
        s3 = self.s3()
        euw1 = self.s3("eu-west-1")
        prefix = "fb-rg-" + uuid.uuid4().hex[:8] + "-"
        s3.create_bucket(Bucket=prefix + "a")
        euw1.create_bucket(Bucket=prefix + "b", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        r = s3.list_buckets(Prefix=prefix, BucketRegion="eu-west-1")
        self.assertEqual([(b["Name"], b["BucketRegion"]) for b in r["Buckets"]], [(prefix + "b", "eu-west-1")])
        r = s3.list_buckets(Prefix=prefix)
        self.assertEqual([(b["Name"], b["BucketRegion"]) for b in r["Buckets"]],
                         [(prefix + "a", "us-east-1"), (prefix + "b", "eu-west-1")])

    def test_list_buckets_invalid_max(self):
        s3 = self.s3(validate=False)
        for bad in (0, 10001):
            with self.subTest(max=bad):
                with self.assertRaises(ClientError) as cm:
                    s3.list_buckets(MaxBuckets=bad)
                self.assertClientError(cm, "InvalidArgument", 400)

    # ------------------------------------------------------------------ tagging
    def test_bucket_tagging(self):
        s3 = self.s3()
        name = bname()
        s3.create_bucket(Bucket=name)
        with self.assertRaises(ClientError) as cm:
            s3.get_bucket_tagging(Bucket=name)
        err = self.assertClientError(cm, "NoSuchTagSet", 404)
        tags = [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "storage & co"},
                {"Key": "empty", "Value": ""}]
        r = s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        got = s3.get_bucket_tagging(Bucket=name)["TagSet"]
        self.assertEqual(sorted(got, key=lambda t: t["Key"]), sorted(tags, key=lambda t: t["Key"]))
        # Put replaces the whole set.
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
        self.assertEqual(s3.get_bucket_tagging(Bucket=name)["TagSet"], [{"Key": "only", "Value": "one"}])
        r = s3.delete_bucket_tagging(Bucket=name)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        with self.assertRaises(ClientError) as cm:
            s3.get_bucket_tagging(Bucket=name)
        self.assertClientError(cm, "NoSuchTagSet", 404)
        with self.assertRaises(ClientError) as cm:
            s3.get_bucket_tagging(Bucket=bname("missing"))
        self.assertClientError(cm, "NoSuchBucket", 404)

    def test_bucket_tagging_duplicate_keys(self):
        s3 = self.s3()
        name = bname()
        s3.create_bucket(Bucket=name)
        with self.assertRaises(ClientError) as cm:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "a", "Value": "1"},
                                                                    {"Key": "a", "Value": "2"}]})
        self.assertClientError(cm, "InvalidTag", 400)

    # ------------------------------------------------------------------ virtual-hosted style
    def test_virtual_hosted_style(self):
        name = bname("vh")
        self.s3().create_bucket(Bucket=name)
        port = self.server.port
        for host in (f"{name}.localhost:{port}", f"{name}.s3.localhost:{port}",
                     f"{name}.s3.us-east-1.localhost:{port}"):
            with self.subTest(host=host):
                key = "dir/hello world.txt"
                st, hdrs, body = self.raw("PUT", "/" + key, host=host, body=b"virtual!",
                                          headers={"Content-Type": "text/plain"})
                self.assertEqual(st, 200, body)
                self.assertEqual(hdrs["etag"], '"%s"' % fh.hashlib.md5(b"virtual!").hexdigest())
                st, hdrs, body = self.raw("GET", "/" + key, host=host)
                self.assertEqual((st, body), (200, b"virtual!"))
                self.assertEqual(hdrs["content-type"], "text/plain")
                # Bucket-level request: ListObjectsV2 on "/".
                st, _, body = self.raw("GET", "/", host=host, query={"list-type": "2"})
                self.assertEqual(st, 200, body)
                self.assertEqual(fh.xml_find(body, "Name"), name)
                self.assertEqual(fh.xml_find(body, "Key"), key)
                st, hdrs, _ = self.raw("HEAD", "/", host=host)
                self.assertEqual(st, 200)
                self.assertEqual(hdrs.get("x-amz-bucket-region"), "us-east-1")
                st, _, _ = self.raw("DELETE", "/" + key, host=host)
                self.assertEqual(st, 204)
        # The path-style view sees the same bucket.
        self.assertEqual(self.s3().list_objects_v2(Bucket=name)["KeyCount"], 0)

    def test_virtual_hosted_missing_bucket(self):
        host = f"{bname('nobkt')}.localhost:{self.server.port}"
        st, _, body = self.raw("GET", "/k", host=host)
        self.assertEqual(st, 404)
        self.assertEqual(fh.parse_error(body)[0], "NoSuchBucket")

    def test_path_style_service_root_lists(self):
        st, _, body = self.raw("GET", "/")
        self.assertEqual(st, 200)
        self.assertEqual(fh.strip_ns(fh.ET.fromstring(body).tag), "ListAllMyBucketsResult")


class S3BucketSettingsTest(fh.FogbankTestCase):
    """The read-only bucket settings SDKs and tools probe, and settings fogbank does not have."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3c = cls.server.client("s3")
        cls.bucket = bname("set")
        cls.s3c.create_bucket(Bucket=cls.bucket)

    def test_acl_is_owner_full_control(self):
        acl = self.s3c.get_bucket_acl(Bucket=self.bucket)
        owner = acl["Owner"]["ID"]
        self.assertEqual(len(owner), 64)
        self.assertEqual(len(acl["Grants"]), 1)
        self.assertEqual(acl["Grants"][0]["Permission"], "FULL_CONTROL")
        self.assertEqual(acl["Grants"][0]["Grantee"]["Type"], "CanonicalUser")
        self.assertEqual(acl["Grants"][0]["Grantee"]["ID"], owner)
        self.assertEqual(self.s3c.list_buckets()["Owner"]["ID"], owner)

    def test_no_policy(self):
        with self.assertRaises(ClientError) as cm:
            self.s3c.get_bucket_policy(Bucket=self.bucket)
        self.assertClientError(cm, "NoSuchBucketPolicy", 404)

    def test_default_encryption_is_sse_s3(self):
        rules = self.s3c.get_bucket_encryption(Bucket=self.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        self.assertEqual(rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")
        self.assertIs(rules[0]["BucketKeyEnabled"], False)

    def test_a_new_bucket_was_never_versioned(self):
        self.assertNotIn("Status", self.s3c.get_bucket_versioning(Bucket=self.bucket))

    def test_unsupported_subresources_answer_not_implemented(self):
        self.s3c.put_object(Bucket=self.bucket, Key="t", Body=b"x")
        with self.assertRaises(ClientError) as cm:
            self.s3c.get_object_torrent(Bucket=self.bucket, Key="t")
        self.assertClientError(cm, "NotImplemented", 501)

    def test_anonymous_requests_learn_only_whether_a_bucket_exists(self):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            for method, path, status, code in (("GET", "/%s/k" % bname("nope"), 404, b"NoSuchBucket"),
                                               ("PUT", "/%s/k" % bname("nope"), 404, b"NoSuchBucket"),
                                               ("GET", "/%s/k" % self.bucket, 403, b"AccessDenied"),
                                               ("PUT", "/%s" % bname("new"), 403, b"AccessDenied")):
                conn.request(method, path, body=b"" if method == "PUT" else None)
                resp = conn.getresponse()
                body = resp.read()
                self.assertEqual(resp.status, status, (method, path, body))
                self.assertIn(b"<Code>" + code + b"</Code>", body)
                self.assertEqual(resp.getheader("Content-Type"), "application/xml")
        finally:
            conn.close()

    def test_settings_of_a_missing_bucket(self):
        with self.assertRaises(ClientError) as cm:
            self.s3c.get_bucket_acl(Bucket=bname("missing"))
        self.assertClientError(cm, "NoSuchBucket", 404)


if __name__ == "__main__":
    fh.main()
