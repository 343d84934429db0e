"""S3 request forms signed outside the SigV4 header path: browser form uploads (PostObject, the
policy document boto3's generate_presigned_post makes) and SigV2 presigned URLs (what boto3's
generate_presigned_url makes unless signature_version="s3v4" is set)."""

import os
import sys
import unittest
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fogbank_harness as fh  # noqa: E402


def fetch(url, method="GET", data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def error_code(body):
    return ET.fromstring(body).findtext("Code")


def form_body(fields, file_name, file_data, content_type="text/plain"):
    """multipart/form-data with the fields first and the file last, as browsers send it."""
    boundary = "----fogbank" + uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                % (boundary, name, value)).encode()
    out += ('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
            'Content-Type: %s\r\n\r\n' % (boundary, file_name, content_type)).encode()
    out += file_data + ("\r\n--%s--\r\n" % boundary).encode()
    return out, "multipart/form-data; boundary=" + boundary


class PostObjectTest(fh.FogbankTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.server.client("s3", signature_version="s3v4")
        cls.bucket = "post-" + uuid.uuid4().hex[:10]
        cls.s3.create_bucket(Bucket=cls.bucket)

    def post(self, presigned, file_name="photo.txt", data=b"posted bytes", extra=None):
        fields = dict(presigned["fields"])
        fields.update(extra or {})
        body, ctype = form_body(fields, file_name, data)
        return fetch(presigned["url"], "POST", body, {"Content-Type": ctype})

    def test_upload_with_filename_substitution_and_201(self):
        presigned = self.s3.generate_presigned_post(
            self.bucket, "uploads/${filename}", Fields={"success_action_status": "201"},
            Conditions=[["starts-with", "$key", "uploads/"], {"success_action_status": "201"},
                        ["content-length-range", 1, 1000]], ExpiresIn=600)
        status, headers, body = self.post(presigned, "hello.txt", b"hello post")
        self.assertEqual(status, 201, body)
        doc = ET.fromstring(body)
        self.assertEqual(doc.findtext("Key"), "uploads/hello.txt")
        self.assertEqual(doc.findtext("Bucket"), self.bucket)
        got = self.s3.get_object(Bucket=self.bucket, Key="uploads/hello.txt")
        self.assertEqual(got["Body"].read(), b"hello post")
        self.assertEqual(got["ETag"], doc.findtext("ETag"))

    def test_default_status_is_204(self):
        presigned = self.s3.generate_presigned_post(self.bucket, "plain.bin", ExpiresIn=600)
        status, headers, body = self.post(presigned, data=b"x" * 100)
        self.assertEqual(status, 204, body)
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="plain.bin")["ContentLength"], 100)

    def test_tampered_policy_signature_is_refused(self):
        presigned = self.s3.generate_presigned_post(self.bucket, "forged.txt", ExpiresIn=600)
        presigned["fields"]["x-amz-signature"] = "0" * 64
        status, _, body = self.post(presigned)
        self.assertEqual(status, 403)
        self.assertEqual(error_code(body), "SignatureDoesNotMatch")
        with self.assertRaises(Exception):
            self.s3.head_object(Bucket=self.bucket, Key="forged.txt")

    def test_policy_conditions_are_enforced(self):
        presigned = self.s3.generate_presigned_post(
            self.bucket, "limited.txt", Conditions=[["content-length-range", 1, 10]], ExpiresIn=600)
        status, _, body = self.post(presigned, data=b"y" * 11)
        self.assertEqual(status, 400)
        self.assertEqual(error_code(body), "EntityTooLarge")
        # A field the policy does not mention.
        status, _, body = self.post(presigned, data=b"ok", extra={"x-amz-meta-extra": "1"})
        self.assertEqual(status, 403)
        self.assertEqual(error_code(body), "AccessDenied")
        self.assertIn("Extra input fields", ET.fromstring(body).findtext("Message"))

    def test_unsigned_form_is_refused(self):
        body, ctype = form_body({"key": "anon.txt"}, "anon.txt", b"anonymous")
        status, _, resp = fetch("%s/%s" % (self.server.endpoint(), self.bucket), "POST", body,
                                {"Content-Type": ctype})
        self.assertEqual(status, 403)
        self.assertEqual(error_code(resp), "AccessDenied")


class SigV2PresignedTest(fh.FogbankTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.server.client("s3")  # boto3's default presigner: SigV2 query strings
        cls.bucket = "sigv2-" + uuid.uuid4().hex[:10]
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.s3.put_object(Bucket=cls.bucket, Key="dir/a b+c.txt", Body=b"signed v2")

    def test_get_with_response_override(self):
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "dir/a b+c.txt",
                                  "ResponseContentType": "text/x-fogbank"}, ExpiresIn=60)
        self.assertIn("AWSAccessKeyId=", url)
        self.assertIn("Signature=", url)
        status, headers, body = fetch(url)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b"signed v2")
        self.assertEqual(headers.get("Content-Type"), "text/x-fogbank")

    def test_put_then_head_and_delete(self):
        put = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": "up.txt"}, ExpiresIn=60)
        status, _, body = fetch(put, "PUT", b"uploaded via v2", {"Content-Type": ""})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="up.txt")["Body"].read(),
                         b"uploaded via v2")
        head = self.s3.generate_presigned_url(
            "head_object", Params={"Bucket": self.bucket, "Key": "up.txt"}, ExpiresIn=60)
        status, headers, _ = fetch(head, "HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Length"), "15")
        delete = self.s3.generate_presigned_url(
            "delete_object", Params={"Bucket": self.bucket, "Key": "up.txt"}, ExpiresIn=60)
        status, _, _ = fetch(delete, "DELETE")
        self.assertEqual(status, 204)
        with self.assertRaises(Exception):
            self.s3.head_object(Bucket=self.bucket, Key="up.txt")

    def test_tampered_signature_and_other_key(self):
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "dir/a b+c.txt"}, ExpiresIn=60)
        status, _, body = fetch(url.replace("Signature=", "Signature=A"))
        self.assertEqual(status, 403)
        self.assertEqual(error_code(body), "SignatureDoesNotMatch")
        other = url.replace("dir/a%20b%2Bc.txt", "dir/other.txt")
        status, _, body = fetch(other)
        self.assertEqual(status, 403)
        self.assertEqual(error_code(body), "SignatureDoesNotMatch")

    def test_unknown_key(self):
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "dir/a b+c.txt"}, ExpiresIn=60)
        status, _, body = fetch(url.replace("AWSAccessKeyId=test", "AWSAccessKeyId=NOPE"))
        self.assertEqual(status, 403)
        self.assertEqual(error_code(body), "InvalidAccessKeyId")


class VirtualClockExpiryTest(fh.FogbankTestCase):
    """Expiry without sleeping: this fogbank's clock stands still until the test moves it."""

    server_args = ["--clock", "virtual"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3v4 = cls.server.client("s3", signature_version="s3v4")
        cls.s3v2 = cls.server.client("s3")
        cls.bucket = "expiry-" + uuid.uuid4().hex[:10]
        cls.s3v4.create_bucket(Bucket=cls.bucket)
        cls.s3v4.put_object(Bucket=cls.bucket, Key="dir/a b+c.txt", Body=b"signed v2")

    def setUp(self):
        # Clients sign and date policies with the real time; the virtual clock has stood still
        # since fogbank started.
        self.server.sync_clock()

    def post(self, presigned, data=b"posted bytes"):
        body, ctype = form_body(dict(presigned["fields"]), "late.txt", data)
        return fetch(presigned["url"], "POST", body, {"Content-Type": ctype})

    def test_expired_policy_is_refused(self):
        early = self.s3v4.generate_presigned_post(self.bucket, "early.txt", ExpiresIn=60)
        late = self.s3v4.generate_presigned_post(self.bucket, "late.txt", ExpiresIn=60)
        status, _, body = self.post(early)
        self.assertEqual(status, 204, body)
        self.server.advance_clock(120)
        status, _, body = self.post(late)
        self.assertEqual(status, 403, body)
        self.assertEqual(error_code(body), "AccessDenied")
        with self.assertRaises(Exception):
            self.s3v4.head_object(Bucket=self.bucket, Key="late.txt")

    def test_sigv2_presigned_expired(self):
        url = self.s3v2.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "dir/a b+c.txt"}, ExpiresIn=60)
        status, _, body = fetch(url)
        self.assertEqual(status, 200, body)
        self.server.advance_clock(120)
        status, _, body = fetch(url)
        self.assertEqual(status, 403)
        self.assertEqual(error_code(body), "AccessDenied")
        self.assertEqual(ET.fromstring(body).findtext("Message"), "Request has expired")


if __name__ == "__main__":
    unittest.main()
