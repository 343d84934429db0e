#!/usr/bin/env python3
"""S3 access control lists through boto3 and the AWS CLI: Put/GetBucketAcl and Put/GetObjectAcl
with canned ACLs, grant headers and AccessControlPolicy documents, by versionId; AWS's default
Object Ownership (BucketOwnerEnforced) refusing ACLs, ObjectWriter buckets keeping them, Block
Public Access refusing public grants, ACLs set at upload time, and everything kept across a
restart."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402
from test_cli import CLI  # noqa: E402

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"


def encode_form(fields, data):
    boundary = "----fogbank" + uuid.uuid4().hex
    out = b""
    for name, value in list(fields.items()) + [("file", None)]:
        out += b"--" + boundary.encode() + b"\r\n"
        if value is None:
            out += b'Content-Disposition: form-data; name="file"; filename="f"\r\n\r\n' + data + b"\r\n"
        else:
            out += ('Content-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (name, value)).encode()
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


def grants_of(acl):
    out = []
    for g in acl["Grants"]:
        grantee = g["Grantee"]
        out.append((grantee["Type"], grantee.get("ID") or grantee.get("URI"), g["Permission"]))
    return sorted(out)


class S3AclTest(fh.FogbankTestCase):
    def setUp(self):
        self.s3 = self.server.client("s3")
        self.owner = self.s3.list_buckets()["Owner"]["ID"]

    def error(self, fn, code, status=400):
        with self.assertRaises(ClientError) as cm:
            fn()
        self.assertClientError(cm, code, status)
        return cm.exception.response

    def acl_bucket(self, tag="acl", versioned=False):
        """A bucket whose ownership lets ACLs work, with public ACLs allowed."""
        b = fh.unique_bucket(tag)
        self.s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter")
        self.s3.delete_public_access_block(Bucket=b)
        if versioned:
            self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        return b

    def test_default_ownership_refuses_acls(self):
        b = fh.unique_bucket("enf")
        self.s3.create_bucket(Bucket=b)
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        owner_only = [("CanonicalUser", self.owner, "FULL_CONTROL")]
        self.assertEqual(grants_of(self.s3.get_bucket_acl(Bucket=b)), owner_only)
        acl = self.s3.get_object_acl(Bucket=b, Key="k")
        self.assertEqual(grants_of(acl), owner_only)
        self.assertEqual(acl["Owner"]["ID"], self.owner)
        for fn in (lambda: self.s3.put_bucket_acl(Bucket=b, ACL="public-read"),
                   lambda: self.s3.put_object_acl(Bucket=b, Key="k", ACL="public-read"),
                   lambda: self.s3.put_object(Bucket=b, Key="k2", Body=b"y", ACL="authenticated-read"),
                   lambda: self.s3.put_object_acl(Bucket=b, Key="k", GrantRead='uri="%s"' % AUTH_USERS)):
            r = self.error(fn, "AccessControlListNotSupported")
            self.assertEqual(r["Error"]["Message"], "The bucket does not allow ACLs")
        # What still works: ACLs that only give the bucket owner full control.
        self.s3.put_object(Bucket=b, Key="k3", Body=b"z", ACL="bucket-owner-full-control")
        self.s3.put_bucket_acl(Bucket=b, ACL="private")
        self.s3.put_object_acl(Bucket=b, Key="k", GrantFullControl='id="%s"' % self.owner)
        self.assertEqual(grants_of(self.s3.get_object_acl(Bucket=b, Key="k")), owner_only)
        r = self.error(lambda: self.s3.create_bucket(Bucket=fh.unique_bucket("enf2"), ACL="public-read"),
                       "InvalidBucketAclWithObjectOwnership")

    def test_canned_acls(self):
        b = self.acl_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        cases = {
            "private": [],
            "public-read": [("Group", ALL_USERS, "READ")],
            "public-read-write": [("Group", ALL_USERS, "READ"), ("Group", ALL_USERS, "WRITE")],
            "authenticated-read": [("Group", AUTH_USERS, "READ")],
            "bucket-owner-full-control": [],
        }
        for canned, extra in cases.items():
            with self.subTest(canned=canned):
                self.s3.put_object_acl(Bucket=b, Key="k", ACL=canned)
                want = sorted([("CanonicalUser", self.owner, "FULL_CONTROL")] + extra)
                self.assertEqual(grants_of(self.s3.get_object_acl(Bucket=b, Key="k")), want)
        self.s3.put_bucket_acl(Bucket=b, ACL="log-delivery-write")
        self.assertEqual(grants_of(self.s3.get_bucket_acl(Bucket=b)),
                         sorted([("CanonicalUser", self.owner, "FULL_CONTROL"), ("Group", LOG_DELIVERY, "READ_ACP"),
                                 ("Group", LOG_DELIVERY, "WRITE")]))
        r = self.error(lambda: self.s3.put_object_acl(Bucket=b, Key="k", ACL="log-delivery-write"), "InvalidArgument")
        self.assertEqual(r["Error"]["ArgumentName"], "x-amz-acl")

    def test_grant_headers_and_documents(self):
        b = self.acl_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        other = "a" * 64
        self.s3.put_object_acl(Bucket=b, Key="k", GrantRead='id="%s", uri="%s"' % (other, ALL_USERS),
                               GrantFullControl='id="%s"' % self.owner)
        self.assertEqual(grants_of(self.s3.get_object_acl(Bucket=b, Key="k")),
                         sorted([("CanonicalUser", self.owner, "FULL_CONTROL"), ("CanonicalUser", other, "READ"),
                                 ("Group", ALL_USERS, "READ")]))
        # A whole document, as GetObjectAcl returned it (DisplayName and all).
        policy = self.s3.get_bucket_acl(Bucket=b)
        policy.pop("ResponseMetadata")
        policy["Grants"].append({"Grantee": {"Type": "Group", "URI": AUTH_USERS}, "Permission": "READ_ACP"})
        self.s3.put_bucket_acl(Bucket=b, AccessControlPolicy=policy)
        self.assertIn(("Group", AUTH_USERS, "READ_ACP"), grants_of(self.s3.get_bucket_acl(Bucket=b)))
        # AWS's refusals.
        self.error(lambda: self.s3.put_object_acl(Bucket=b, Key="k", ACL="private", GrantRead='id="%s"' % other),
                   "InvalidRequest")
        self.error(lambda: self.s3.put_object_acl(Bucket=b, Key="k", GrantRead='id="nope"'), "InvalidArgument")
        self.error(lambda: self.s3.put_object_acl(Bucket=b, Key="k", GrantRead='uri="http://example.com/g"'),
                   "InvalidArgument")
        self.error(lambda: self.s3.put_object_acl(Bucket=b, Key="k", GrantRead='emailAddress="a@example.com"'),
                   "UnresolvableGrantByEmailAddress")
        bad = {"Owner": {"ID": self.owner}, "Grants": [{"Grantee": {"Type": "Group", "URI": ALL_USERS},
                                                        "Permission": "EVERYTHING"}]}
        self.error(lambda: self.server.client("s3", validate=False).put_object_acl(
            Bucket=b, Key="k", AccessControlPolicy=bad), "MalformedACLError")
        stranger = {"Owner": {"ID": other}, "Grants": []}
        self.error(lambda: self.s3.put_object_acl(Bucket=b, Key="k", AccessControlPolicy=stranger), "AccessDenied", 403)
        r = self.error(lambda: self.s3.put_object_acl(Bucket=b, Key="k"), "MissingSecurityHeader")
        self.error(lambda: self.s3.put_object_acl(Bucket=b, Key="missing", ACL="private"), "NoSuchKey", 404)

    def test_block_public_access_refuses_public_acls(self):
        b = fh.unique_bucket("bpa")
        self.s3.create_bucket(Bucket=b, ObjectOwnership="BucketOwnerPreferred")
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.error(lambda: self.s3.put_object_acl(Bucket=b, Key="k", ACL="public-read"), "AccessDenied", 403)
        self.error(lambda: self.s3.put_bucket_acl(Bucket=b, ACL="authenticated-read"), "AccessDenied", 403)
        self.s3.put_object_acl(Bucket=b, Key="k", GrantRead='id="%s"' % ("b" * 64))  # not public: fine
        self.error(lambda: self.s3.create_bucket(Bucket=fh.unique_bucket("bpa2"), ACL="public-read",
                                                 ObjectOwnership="ObjectWriter"),
                   "InvalidBucketAclWithBlockPublicAccessError")

    def test_acls_at_upload_and_by_version(self):
        b = self.acl_bucket("ver", versioned=True)
        v1 = self.s3.put_object(Bucket=b, Key="k", Body=b"1", ACL="public-read")["VersionId"]
        v2 = self.s3.put_object(Bucket=b, Key="k", Body=b"2")["VersionId"]
        self.assertIn(("Group", ALL_USERS, "READ"), grants_of(self.s3.get_object_acl(Bucket=b, Key="k", VersionId=v1)))
        self.assertEqual(len(self.s3.get_object_acl(Bucket=b, Key="k")["Grants"]), 1)
        r = self.s3.put_object_acl(Bucket=b, Key="k", VersionId=v1, ACL="authenticated-read")
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-version-id"], v1)
        self.assertEqual(grants_of(self.s3.get_object_acl(Bucket=b, Key="k", VersionId=v1)),
                         sorted([("CanonicalUser", self.owner, "FULL_CONTROL"), ("Group", AUTH_USERS, "READ")]))
        self.assertEqual(len(self.s3.get_object_acl(Bucket=b, Key="k", VersionId=v2)["Grants"]), 1)
        # A copy gets the ACL its request sets, never the source's; so does a multipart upload.
        self.s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "k", "VersionId": v1})
        self.assertEqual(len(self.s3.get_object_acl(Bucket=b, Key="copy")["Grants"]), 1)
        self.s3.copy_object(Bucket=b, Key="copy2", CopySource={"Bucket": b, "Key": "k"}, ACL="public-read")
        self.assertIn(("Group", ALL_USERS, "READ"), grants_of(self.s3.get_object_acl(Bucket=b, Key="copy2")))
        up = self.s3.create_multipart_upload(Bucket=b, Key="mp", ACL="public-read")["UploadId"]
        e = self.s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=b"p")["ETag"]
        self.s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                          MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
        self.assertIn(("Group", ALL_USERS, "READ"), grants_of(self.s3.get_object_acl(Bucket=b, Key="mp")))
        # A delete marker has no ACL.
        marker = self.s3.delete_object(Bucket=b, Key="k")["VersionId"]
        self.error(lambda: self.s3.get_object_acl(Bucket=b, Key="k", VersionId=marker), "MethodNotAllowed", 405)
        self.error(lambda: self.s3.get_object_acl(Bucket=b, Key="k"), "NoSuchKey", 404)
        # Kept across a restart.
        self.server.restart()
        s3 = self.server.client("s3")
        self.assertEqual(grants_of(s3.get_object_acl(Bucket=b, Key="k", VersionId=v1)),
                         sorted([("CanonicalUser", self.owner, "FULL_CONTROL"), ("Group", AUTH_USERS, "READ")]))
        self.assertIn(("Group", ALL_USERS, "READ"), grants_of(s3.get_object_acl(Bucket=b, Key="mp")))

    def test_post_object_acl_field(self):
        b = self.acl_bucket("post")
        s3 = self.server.client("s3", signature_version="s3v4")
        post = s3.generate_presigned_post(b, "posted", Fields={"acl": "public-read"},
                                          Conditions=[{"acl": "public-read"}])
        body, ctype = encode_form(post["fields"], b"posted bytes")
        req = urllib.request.Request(post["url"], data=body, method="POST", headers={"Content-Type": ctype})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                self.assertEqual(r.status, 204)
        except urllib.error.HTTPError as e:
            self.fail(e.read())
        self.assertIn(("Group", ALL_USERS, "READ"), grants_of(self.s3.get_object_acl(Bucket=b, Key="posted")))

    @unittest.skipIf(CLI is None, "AWS CLI not available")
    def test_cli(self):
        b = self.acl_bucket("cli")
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        with tempfile.TemporaryDirectory() as home:
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_CONFIG_FILE": os.path.join(home, "config"), "HOME": home, "AWS_PAGER": "",
                        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials")})

            def aws(*args):
                r = subprocess.run(CLI + list(args) + ["--endpoint-url", self.server.endpoint(), "--output", "json"],
                                   capture_output=True, timeout=120, env=env)
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                return r.stdout.decode()

            aws("s3api", "put-object-acl", "--bucket", b, "--key", "k", "--acl", "public-read")
            self.assertIn(("Group", ALL_USERS, "READ"),
                          grants_of(json.loads(aws("s3api", "get-object-acl", "--bucket", b, "--key", "k"))))
            aws("s3api", "put-bucket-acl", "--bucket", b, "--grant-read", 'uri="%s"' % AUTH_USERS)
            self.assertEqual(grants_of(json.loads(aws("s3api", "get-bucket-acl", "--bucket", b))),
                             [("Group", AUTH_USERS, "READ")])


if __name__ == "__main__":
    fh.main()
