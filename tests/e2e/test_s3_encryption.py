#!/usr/bin/env python3
"""S3 server-side encryption through boto3: SSE-S3, SSE-KMS (key id and bucket key recorded) and
bucket default encryption keep object data encrypted at rest (the bytes are looked for in the
data directory's files after a clean stop: found for a plain object, absent for encrypted ones);
SSE-C with S3's checks (no key: 400, wrong key: 403), ranged reads, copies and multipart uploads of
encrypted objects; `--encrypt-at-rest all`; everything readable after a restart."""

import base64
import hashlib
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402


def data_dir_holds(server, needle):
    """Whether any file under the server's data directory contains `needle` (after a stop, so
    RocksDB has flushed its memtables)."""
    for root, _, files in os.walk(server.data_dir):
        for name in files:
            try:
                with open(os.path.join(root, name), "rb") as f:
                    if needle in f.read():
                        return True
            except OSError:
                pass
    return False


class S3EncryptionTest(fh.FogbankTestCase):
    def setUp(self):
        self.s3 = self.server.client("s3")
        self.bucket = fh.unique_bucket("enc")
        self.s3.create_bucket(Bucket=self.bucket)

    def error(self, fn, code, status):
        with self.assertRaises(ClientError) as cm:
            fn()
        return self.assertClientError(cm, code, status)

    def test_encrypted_at_rest_only_where_asked(self):
        plain = os.urandom(64 * 1024)
        secret = os.urandom(64 * 1024)
        kms = os.urandom(300 * 1024)
        self.s3.put_object(Bucket=self.bucket, Key="plain", Body=plain)
        put = self.s3.put_object(Bucket=self.bucket, Key="secret", Body=secret, ServerSideEncryption="AES256")
        self.assertEqual(put["ServerSideEncryption"], "AES256")
        put = self.s3.put_object(Bucket=self.bucket, Key="kms", Body=kms, ServerSideEncryption="aws:kms",
                                 SSEKMSKeyId="alias/app", BucketKeyEnabled=True)
        self.assertEqual((put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]),
                         ("aws:kms", "alias/app", True))
        head = self.s3.head_object(Bucket=self.bucket, Key="kms")
        self.assertEqual((head["ServerSideEncryption"], head["SSEKMSKeyId"]), ("aws:kms", "alias/app"))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="plain")["ServerSideEncryption"], "AES256")

        # The bucket's default encryption applies to objects that ask for none.
        self.s3.put_bucket_encryption(Bucket=self.bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/default"}}]})
        defaulted = os.urandom(64 * 1024)
        put = self.s3.put_object(Bucket=self.bucket, Key="defaulted", Body=defaulted)
        self.assertEqual((put["ServerSideEncryption"], put["SSEKMSKeyId"]), ("aws:kms", "alias/default"))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="defaulted")["Body"].read(), defaulted)

        # A ranged read decrypts from the middle.
        got = self.s3.get_object(Bucket=self.bucket, Key="kms", Range="bytes=1000-270000")["Body"].read()
        self.assertEqual(got, kms[1000:270001])

        self.server.stop()
        self.assertTrue(data_dir_holds(self.server, plain[5000:5064]), "the control object should be in plain text")
        for body in (secret, kms, defaulted):
            self.assertFalse(data_dir_holds(self.server, body[5000:5064]), "encrypted data found in plain text")
        self.server.start()
        self.s3 = self.server.client("s3")
        for key, body in (("plain", plain), ("secret", secret), ("kms", kms), ("defaulted", defaulted)):
            self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), body, key)

    def test_customer_keys(self):
        key = os.urandom(32)
        other = os.urandom(32)
        body = os.urandom(400 * 1024)
        sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
        put = self.s3.put_object(Bucket=self.bucket, Key="c", Body=body, **sse)
        md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
        self.assertEqual((put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]), ("AES256", md5))
        self.assertNotIn("ServerSideEncryption", put)
        err = self.error(lambda: self.s3.get_object(Bucket=self.bucket, Key="c"), "InvalidRequest", 400)
        self.assertIn("Server Side Encryption", err["Error"]["Message"])
        self.error(lambda: self.s3.get_object(Bucket=self.bucket, Key="c", SSECustomerAlgorithm="AES256",
                                              SSECustomerKey=other), "AccessDenied", 403)
        with self.assertRaises(ClientError) as cm:
            self.s3.head_object(Bucket=self.bucket, Key="c")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        got = self.s3.get_object(Bucket=self.bucket, Key="c", **sse)
        self.assertEqual((got["Body"].read(), got["SSECustomerKeyMD5"]), (body, md5))
        part = self.s3.get_object(Bucket=self.bucket, Key="c", Range="bytes=17-100016", **sse)["Body"].read()
        self.assertEqual(part, body[17:100017])
        # A key whose MD5 does not match: S3's InvalidArgument, checked before anything is stored.
        self.error(lambda: self.s3.put_object(Bucket=self.bucket, Key="bad", Body=b"x", SSECustomerAlgorithm="AES256",
                                              SSECustomerKey=base64.b64encode(key).decode(),
                                              SSECustomerKeyMD5=base64.b64encode(b"0" * 16).decode()),
                   "InvalidArgument", 400)

        # Copy an SSE-C object to an SSE-S3 one; the source needs its key.
        self.error(lambda: self.s3.copy_object(Bucket=self.bucket, Key="copy",
                                               CopySource={"Bucket": self.bucket, "Key": "c"}), "InvalidRequest", 400)
        copy = self.s3.copy_object(Bucket=self.bucket, Key="copy", CopySource={"Bucket": self.bucket, "Key": "c"},
                                   CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=key,
                                   ServerSideEncryption="AES256")
        self.assertEqual(copy["ServerSideEncryption"], "AES256")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="copy")["Body"].read(), body)

        # A multipart upload under a customer key: every part brings it.
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key="mp", **sse)["UploadId"]
        first = os.urandom(5 * 1024 * 1024)
        second = os.urandom(1024 * 1024)
        self.error(lambda: self.s3.upload_part(Bucket=self.bucket, Key="mp", UploadId=up, PartNumber=1, Body=first),
                   "InvalidRequest", 400)
        etags = [self.s3.upload_part(Bucket=self.bucket, Key="mp", UploadId=up, PartNumber=n, Body=b, **sse)["ETag"]
                 for n, b in ((1, first), (2, second))]
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key="mp", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
        whole = first + second
        across = self.s3.get_object(Bucket=self.bucket, Key="mp", Range="bytes=5242000-5243000", **sse)["Body"].read()
        self.assertEqual(across, whole[5242000:5243001])

        self.server.stop()
        self.assertFalse(data_dir_holds(self.server, body[9000:9064]))
        self.assertFalse(data_dir_holds(self.server, first[9000:9064]))
        self.server.start()
        self.s3 = self.server.client("s3")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="mp", **sse)["Body"].read(), whole)


class S3EncryptionResetTest(fh.FogbankTestCase):
    def test_objects_encrypted_after_a_reset_survive_a_restart(self):
        self.server.reset()  # wipes every stored key, the S3 master key included
        s3 = self.server.client("s3")
        bucket = fh.unique_bucket("reset")
        s3.create_bucket(Bucket=bucket)
        body = os.urandom(4096)
        s3.put_object(Bucket=bucket, Key="k", Body=body, ServerSideEncryption="AES256")
        self.server.restart()
        self.assertEqual(self.server.client("s3").get_object(Bucket=bucket, Key="k")["Body"].read(), body)


class S3EncryptAllTest(fh.FogbankTestCase):
    server_args = ["--encrypt-at-rest", "all"]

    def test_every_object_is_encrypted_at_rest(self):
        s3 = self.server.client("s3")
        bucket = fh.unique_bucket("all")
        s3.create_bucket(Bucket=bucket)
        body = os.urandom(64 * 1024)
        s3.put_object(Bucket=bucket, Key="k", Body=body)
        self.assertEqual(s3.get_object(Bucket=bucket, Key="k")["Body"].read(), body)
        self.server.stop()
        self.assertFalse(data_dir_holds(self.server, body[100:164]))
        self.server.start()
        self.assertEqual(self.server.client("s3").get_object(Bucket=bucket, Key="k")["Body"].read(), body)


if __name__ == "__main__":
    fh.main()
