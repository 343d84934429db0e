#!/usr/bin/env python3
"""S3 multipart uploads end to end: create/upload/complete, ETags, part errors, abort,
UploadPartCopy, part replacement, subsets, composite and full-object checksums, conditional
complete, and boto3's managed transfers."""

import hashlib
import os
import sys
import tempfile
import unittest
import uuid
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from boto3.s3.transfer import TransferConfig  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

MiB = 1024 * 1024


def bname(tag="m"):
    return fh.unique_bucket(tag)


md5_hex = fh.md5_hex


def multipart_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))


def crc32_raw(data):
    return (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")


b64 = fh.b64


class S3MultipartTest(fh.FogbankTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = bname("mp")
        cls.server.client("s3").create_bucket(Bucket=cls.bucket)
        cls.big1 = os.urandom(5 * MiB)
        cls.big2 = os.urandom(5 * MiB + 123)

    def s3(self, **kw):
        return self.server.client("s3", **kw)

    def upload(self, key, parts, s3=None, **create_kw):
        """Creates an upload and uploads `parts` (list of bytes) as parts 1..n; returns (id, etags)."""
        s3 = s3 or self.s3()
        up = s3.create_multipart_upload(Bucket=self.bucket, Key=key, **create_kw)["UploadId"]
        etags = []
        for n, body in enumerate(parts, 1):
            r = s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=n, Body=body)
            self.assertEqual(r["ETag"], f'"{md5_hex(body)}"')
            etags.append(r["ETag"])
        return up, etags

    def complete(self, key, up, numbered_etags, s3=None, **kw):
        s3 = s3 or self.s3()
        return s3.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in numbered_etags]}, **kw)

    # ------------------------------------------------------------------ happy path
    def test_complete_etag_and_content(self):
        s3 = self.s3()
        parts = [self.big1, self.big2, b"last small part"]
        key = "mp/complete"
        create = s3.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType="text/x-mp",
                                            Metadata={"k": "v"})
        self.assertEqual(create["Bucket"], self.bucket)
        self.assertEqual(create["Key"], key)
        up = create["UploadId"]
        etags = [s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=n, Body=p)["ETag"]
                 for n, p in enumerate(parts, 1)]
        r = self.complete(key, up, list(enumerate(etags, 1)))
        self.assertEqual(r["ETag"], multipart_etag(parts))
        self.assertEqual(r["Key"], key)
        self.assertEqual(r["Bucket"], self.bucket)
        self.assertTrue(r["Location"].endswith(f"/{self.bucket}/mp/complete"), r["Location"])
        g = s3.get_object(Bucket=self.bucket, Key=key)
        self.assertEqual(hashlib.sha256(g["Body"].read()).digest(), hashlib.sha256(b"".join(parts)).digest())
        self.assertEqual(g["ETag"], multipart_etag(parts))
        self.assertEqual(g["ContentType"], "text/x-mp")
        self.assertEqual(g["Metadata"], {"k": "v"})
        self.assertEqual(g["ContentLength"], sum(map(len, parts)))
        # The upload is gone.
        with self.assertRaises(ClientError) as cm:
            s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=4, Body=b"x")
        self.assertClientError(cm, "NoSuchUpload", 404)
        with self.assertRaises(ClientError) as cm:
            s3.list_parts(Bucket=self.bucket, Key=key, UploadId=up)
        self.assertClientError(cm, "NoSuchUpload", 404)

    def test_single_small_part(self):
        up, etags = self.upload("mp/single", [b"only part"])
        r = self.complete("mp/single", up, [(1, etags[0])])
        self.assertEqual(r["ETag"], multipart_etag([b"only part"]))
        self.assertEqual(self.s3().get_object(Bucket=self.bucket, Key="mp/single")["Body"].read(), b"only part")

    def test_etag_without_quotes_accepted(self):
        up, etags = self.upload("mp/noquote", [b"abc"])
        r = self.complete("mp/noquote", up, [(1, etags[0].strip('"'))])
        self.assertEqual(r["ETag"], multipart_etag([b"abc"]))

    # ------------------------------------------------------------------ errors
    def test_entity_too_small(self):
        s3 = self.s3()
        small = os.urandom(MiB)
        up, etags = self.upload("mp/small", [small, b"tail"])
        with self.assertRaises(ClientError) as cm:
            self.complete("mp/small", up, list(enumerate(etags, 1)))
        err = self.assertClientError(cm, "EntityTooSmall", 400)
        self.assertEqual(err["Error"].get("ProposedSize"), str(MiB))
        # The upload survives a failed complete.
        self.assertEqual(len(s3.list_parts(Bucket=self.bucket, Key="mp/small", UploadId=up)["Parts"]), 2)
        s3.abort_multipart_upload(Bucket=self.bucket, Key="mp/small", UploadId=up)

    def test_invalid_part_and_order(self):
        s3 = self.s3()
        up, etags = self.upload("mp/invalid", [self.big1, self.big2, b"tail"])
        wrong = '"0123456789abcdef0123456789abcdef"'
        with self.assertRaises(ClientError) as cm:
            self.complete("mp/invalid", up, [(1, etags[0]), (2, etags[1]), (3, wrong)])
        self.assertClientError(cm, "InvalidPart", 400)
        with self.assertRaises(ClientError) as cm:
            self.complete("mp/invalid", up, [(1, etags[0]), (2, etags[1]), (4, etags[2])])
        self.assertClientError(cm, "InvalidPart", 400)
        with self.assertRaises(ClientError) as cm:
            self.complete("mp/invalid", up, [(2, etags[1]), (1, etags[0]), (3, etags[2])])
        self.assertClientError(cm, "InvalidPartOrder", 400)
        with self.assertRaises(ClientError) as cm:
            self.complete("mp/invalid", up, [(1, etags[0]), (1, etags[0])])
        self.assertClientError(cm, "InvalidPartOrder", 400)
        with self.assertRaises(ClientError) as cm:
            s3.complete_multipart_upload(Bucket=self.bucket, Key="mp/invalid", UploadId=up,
                                         MultipartUpload={"Parts": []})
        self.assertClientError(cm, "MalformedXML", 400)
        # Still completable after all those failures.
        r = self.complete("mp/invalid", up, list(enumerate(etags, 1)))
        self.assertEqual(r["ETag"], multipart_etag([self.big1, self.big2, b"tail"]))

    def test_part_number_bounds(self):
        s3 = self.s3(validate=False)
        up = s3.create_multipart_upload(Bucket=self.bucket, Key="mp/bounds")["UploadId"]
        for n in (0, 10001):
            with self.subTest(part=n):
                with self.assertRaises(ClientError) as cm:
                    s3.upload_part(Bucket=self.bucket, Key="mp/bounds", UploadId=up, PartNumber=n, Body=b"x")
                self.assertClientError(cm, "InvalidArgument", 400)
        r = s3.upload_part(Bucket=self.bucket, Key="mp/bounds", UploadId=up, PartNumber=10000, Body=b"x")
        self.assertEqual(r["ETag"], f'"{md5_hex(b"x")}"')
        s3.abort_multipart_upload(Bucket=self.bucket, Key="mp/bounds", UploadId=up)

    def test_abort(self):
        s3 = self.s3()
        up, _ = self.upload("mp/abort", [b"data"])
        r = s3.abort_multipart_upload(Bucket=self.bucket, Key="mp/abort", UploadId=up)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        for call in (lambda: s3.upload_part(Bucket=self.bucket, Key="mp/abort", UploadId=up, PartNumber=1, Body=b"x"),
                     lambda: s3.list_parts(Bucket=self.bucket, Key="mp/abort", UploadId=up),
                     lambda: s3.complete_multipart_upload(Bucket=self.bucket, Key="mp/abort", UploadId=up,
                                                          MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]}),
                     lambda: s3.abort_multipart_upload(Bucket=self.bucket, Key="mp/abort", UploadId=up)):
            with self.assertRaises(ClientError) as cm:
                call()
            err = self.assertClientError(cm, "NoSuchUpload", 404)
            self.assertEqual(err["Error"].get("UploadId"), up)
        with self.assertRaises(ClientError):
            s3.head_object(Bucket=self.bucket, Key="mp/abort")

    def test_upload_to_missing_bucket(self):
        with self.assertRaises(ClientError) as cm:
            self.s3().create_multipart_upload(Bucket=bname("nob"), Key="k")
        self.assertClientError(cm, "NoSuchBucket", 404)

    # ------------------------------------------------------------------ parts
    def test_replace_part_and_subset(self):
        s3 = self.s3()
        key = "mp/replace"
        up, etags = self.upload(key, [os.urandom(5 * MiB), b"second", b"third"])
        # Replace part 1.
        new1 = s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=1, Body=self.big1)["ETag"]
        parts = s3.list_parts(Bucket=self.bucket, Key=key, UploadId=up)["Parts"]
        self.assertEqual([(p["PartNumber"], p["ETag"], p["Size"]) for p in parts],
                         [(1, new1, len(self.big1)), (2, etags[1], 6), (3, etags[2], 5)])
        # The replaced part's old ETag is no longer valid.
        with self.assertRaises(ClientError) as cm:
            self.complete(key, up, [(1, etags[0]), (3, etags[2])])
        self.assertClientError(cm, "InvalidPart", 400)
        # Complete with parts 1 and 3 only.
        r = self.complete(key, up, [(1, new1), (3, etags[2])])
        self.assertEqual(r["ETag"], multipart_etag([self.big1, b"third"]))
        body = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        self.assertEqual(len(body), len(self.big1) + 5)
        self.assertEqual(body[-5:], b"third")
        self.assertEqual(body[:len(self.big1)], self.big1)
        h = s3.head_object(Bucket=self.bucket, Key=key, PartNumber=2)
        self.assertEqual(h["PartsCount"], 2)
        self.assertEqual(h["ContentLength"], 5)

    def test_upload_part_copy(self):
        s3 = self.s3()
        src_key = "mp/copy source ü"
        src = self.big2 + b"ABCDEFGHIJ"
        s3.put_object(Bucket=self.bucket, Key=src_key, Body=src)
        key = "mp/copied"
        up = s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        r1 = s3.upload_part_copy(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=1,
                                 CopySource={"Bucket": self.bucket, "Key": src_key},
                                 CopySourceRange=f"bytes=0-{5 * MiB - 1}")
        self.assertEqual(r1["CopyPartResult"]["ETag"], f'"{md5_hex(src[:5 * MiB])}"')
        self.assertIsNotNone(r1["CopyPartResult"]["LastModified"])
        r2 = s3.upload_part_copy(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=2,
                                 CopySource={"Bucket": self.bucket, "Key": src_key},
                                 CopySourceRange=f"bytes={len(src) - 10}-{len(src) - 1}")
        self.assertEqual(r2["CopyPartResult"]["ETag"], f'"{md5_hex(b"ABCDEFGHIJ")}"')
        # Whole-object part copy (no range).
        r3 = s3.upload_part_copy(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=3,
                                 CopySource={"Bucket": self.bucket, "Key": src_key})
        self.assertEqual(r3["CopyPartResult"]["ETag"], f'"{md5_hex(src)}"')
        r = self.complete(key, up, [(1, r1["CopyPartResult"]["ETag"]), (2, r2["CopyPartResult"]["ETag"])])
        self.assertEqual(r["ETag"], multipart_etag([src[:5 * MiB], b"ABCDEFGHIJ"]))
        body = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        self.assertEqual(body, src[:5 * MiB] + b"ABCDEFGHIJ")

    def test_upload_part_copy_errors(self):
        s3 = self.s3()
        s3.put_object(Bucket=self.bucket, Key="mp/csrc", Body=b"0123456789")
        up = s3.create_multipart_upload(Bucket=self.bucket, Key="mp/cerr")["UploadId"]
        src = {"Bucket": self.bucket, "Key": "mp/csrc"}
        with self.assertRaises(ClientError) as cm:
            s3.upload_part_copy(Bucket=self.bucket, Key="mp/cerr", UploadId=up, PartNumber=1, CopySource=src,
                                CopySourceRange="bytes=5-20")
        err = self.assertClientError(cm, "InvalidArgument", 400)
        self.assertEqual(err["Error"].get("ArgumentName"), "x-amz-copy-source-range")
        with self.assertRaises(ClientError) as cm:
            s3.upload_part_copy(Bucket=self.bucket, Key="mp/cerr", UploadId=up, PartNumber=1,
                                CopySource={"Bucket": self.bucket, "Key": "mp/none"})
        self.assertClientError(cm, "NoSuchKey", 404)
        with self.assertRaises(ClientError) as cm:
            s3.upload_part_copy(Bucket=self.bucket, Key="mp/cerr", UploadId="nope", PartNumber=1, CopySource=src)
        self.assertClientError(cm, "NoSuchUpload", 404)
        with self.assertRaises(ClientError) as cm:
            s3.upload_part_copy(Bucket=self.bucket, Key="mp/cerr", UploadId=up, PartNumber=1, CopySource=src,
                                CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')
        self.assertClientError(cm, "PreconditionFailed", 412)
        s3.abort_multipart_upload(Bucket=self.bucket, Key="mp/cerr", UploadId=up)

    # ------------------------------------------------------------------ checksums
    def test_composite_crc32(self):
        s3 = self.s3()
        key = "mp/crc-composite"
        parts = [self.big1, b"crc tail"]
        create = s3.create_multipart_upload(Bucket=self.bucket, Key=key, ChecksumAlgorithm="CRC32")
        self.assertEqual(create.get("ChecksumAlgorithm"), "CRC32")
        up = create["UploadId"]
        done = []
        for n, p in enumerate(parts, 1):
            r = s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=n, Body=p,
                               ChecksumAlgorithm="CRC32")
            self.assertEqual(r["ChecksumCRC32"], b64(crc32_raw(p)))
            done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
        lp = s3.list_parts(Bucket=self.bucket, Key=key, UploadId=up)
        self.assertEqual([p.get("ChecksumCRC32") for p in lp["Parts"]], [d["ChecksumCRC32"] for d in done])
        r = s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up, MultipartUpload={"Parts": done})
        want = b64(crc32_raw(b"".join(crc32_raw(p) for p in parts))) + "-2"
        self.assertEqual(r["ChecksumCRC32"], want)
        self.assertEqual(r.get("ChecksumType"), "COMPOSITE")
        h = s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        self.assertEqual(h["ChecksumCRC32"], want)
        self.assertEqual(h.get("ChecksumType"), "COMPOSITE")

    def test_composite_missing_part_checksum(self):
        # AWS: "The upload was created using a crc32 checksum. The complete request must include the
        # checksum for each part. It was missing for part 1 in the request." (400 InvalidRequest)
        s3 = self.s3()
        key = "mp/crc-missing"
        up = s3.create_multipart_upload(Bucket=self.bucket, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
        e = s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=1, Body=b"x",
                           ChecksumAlgorithm="CRC32")["ETag"]
        with self.assertRaises(ClientError) as cm:
            self.complete(key, up, [(1, e)])
        self.assertClientError(cm, "InvalidRequest", 400)

    def test_full_object_crc32(self):
        s3 = self.s3()
        key = "mp/crc-full"
        parts = [self.big2, b"full object tail"]
        create = s3.create_multipart_upload(Bucket=self.bucket, Key=key, ChecksumAlgorithm="CRC32",
                                            ChecksumType="FULL_OBJECT")
        self.assertEqual(create.get("ChecksumType"), "FULL_OBJECT")
        up = create["UploadId"]
        done = []
        for n, p in enumerate(parts, 1):
            r = s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=n, Body=p,
                               ChecksumAlgorithm="CRC32")
            done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
        whole = b"".join(parts)
        want = b64(crc32_raw(whole))
        r = s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up,
                                         MultipartUpload={"Parts": done}, ChecksumCRC32=want,
                                         ChecksumType="FULL_OBJECT")
        self.assertEqual(r["ChecksumCRC32"], want)
        self.assertEqual(r.get("ChecksumType"), "FULL_OBJECT")
        self.assertEqual(r["ETag"], multipart_etag(parts))
        g = s3.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        self.assertEqual(g["ChecksumCRC32"], want)
        self.assertEqual(g["Body"].read(), whole)

    def test_full_object_crc32_wrong_value(self):
        s3 = self.s3()
        key = "mp/crc-full-bad"
        up = s3.create_multipart_upload(Bucket=self.bucket, Key=key, ChecksumAlgorithm="CRC32",
                                        ChecksumType="FULL_OBJECT")["UploadId"]
        r = s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=1, Body=b"abc",
                           ChecksumAlgorithm="CRC32")
        with self.assertRaises(ClientError) as cm:
            s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up,
                                         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"],
                                                                     "ChecksumCRC32": r["ChecksumCRC32"]}]},
                                         ChecksumCRC32=b64(crc32_raw(b"xyz")), ChecksumType="FULL_OBJECT")
        self.assertClientError(cm, "BadDigest", 400)

    def test_default_full_object_crc64nvme(self):
        # An upload created without an algorithm gets a full-object CRC64NVME (AWS's default since 2025).
        s3 = self.s3(request_checksum_calculation="when_required")
        parts = [self.big1, b"nvme tail"]
        up, etags = self.upload("mp/nvme", parts, s3=s3)
        self.complete("mp/nvme", up, list(enumerate(etags, 1)), s3=s3)
        h = s3.head_object(Bucket=self.bucket, Key="mp/nvme", ChecksumMode="ENABLED")
        self.assertTrue(h["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-crc64nvme"))
        self.assertEqual(h.get("ChecksumType"), "FULL_OBJECT")
        # A single PUT of the same bytes has the same CRC64NVME.
        s3.put_object(Bucket=self.bucket, Key="mp/nvme-single", Body=b"".join(parts))
        h2 = s3.head_object(Bucket=self.bucket, Key="mp/nvme-single", ChecksumMode="ENABLED")
        self.assertEqual(h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc64nvme"],
                         h2["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc64nvme"])

    # ------------------------------------------------------------------ conditional complete
    def test_conditional_complete(self):
        s3 = self.s3()
        key = "mp/cond-" + uuid.uuid4().hex[:6]
        up, etags = self.upload(key, [b"first"])
        r = self.complete(key, up, [(1, etags[0])], IfNoneMatch="*")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        up2, etags2 = self.upload(key, [b"second"])
        with self.assertRaises(ClientError) as cm:
            self.complete(key, up2, [(1, etags2[0])], IfNoneMatch="*")
        self.assertClientError(cm, "PreconditionFailed", 412)
        self.assertEqual(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), b"first")
        with self.assertRaises(ClientError) as cm:
            self.complete(key, up2, [(1, etags2[0])], IfMatch='"0123456789abcdef0123456789abcdef"')
        self.assertClientError(cm, "PreconditionFailed", 412)
        self.complete(key, up2, [(1, etags2[0])], IfMatch=r["ETag"])
        self.assertEqual(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), b"second")

    def test_two_uploads_same_key_last_complete_wins(self):
        s3 = self.s3()
        key = "mp/race"
        up1, e1 = self.upload(key, [b"one"])
        up2, e2 = self.upload(key, [b"two"])
        self.complete(key, up2, [(1, e2[0])])
        self.complete(key, up1, [(1, e1[0])])
        self.assertEqual(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), b"one")

    # ------------------------------------------------------------------ managed transfers
    def test_upload_download_file_multipart(self):
        s3 = self.s3()
        data = os.urandom(11 * MiB + 7)
        cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=3)
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
            with open(src, "wb") as f:
                f.write(data)
            s3.upload_file(src, self.bucket, "mp/transfer", Config=cfg, ExtraArgs={"Metadata": {"via": "tm"}})
            h = s3.head_object(Bucket=self.bucket, Key="mp/transfer")
            self.assertEqual(h["ContentLength"], len(data))
            self.assertEqual(h["ETag"], multipart_etag([data[:5 * MiB], data[5 * MiB:10 * MiB], data[10 * MiB:]]))
            self.assertEqual(h["Metadata"], {"via": "tm"})
            s3.download_file(self.bucket, "mp/transfer", dst, Config=cfg)
            with open(dst, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest())
        self.assertNotIn("Uploads", s3.list_multipart_uploads(Bucket=self.bucket, Prefix="mp/transfer"))


if __name__ == "__main__":
    fh.main()
