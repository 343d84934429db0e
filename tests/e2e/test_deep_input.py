#!/usr/bin/env python3
"""Deeply nested client input never takes the server down: JSON documents nested 100,000 levels
inside SQS queue attributes and an S3 browser-POST policy are refused with AWS's error for the
value, and Query parameter names of 30,000 dots are answered (400 or 200), for SQS and STS."""

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import sys
import unittest
import urllib.parse
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

LEVELS = 100_000


def deep(levels=LEVELS, inner="1"):
    return "[" * levels + inner + "]" * levels


class DeepInputTest(fh.FogbankTestCase):

    def assert_alive(self):
        self.assertTrue(self.server.alive(), "fogbank died:\n" + "\n".join(self.server.run_lines[-20:]))
        self.assertEqual(self.server.admin("/_fogbank/health")[0], 200)

    def sqs_error(self, fn, **kw):
        try:
            fn(**kw)
        except ClientError as e:
            return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
        self.fail(f"{fn.__name__} succeeded")

    # ------------------------------------------------------------------ SQS attributes
    def test_sqs_redrive_policy_nested_100000_levels(self):
        sqs = self.server.client("sqs")
        dlq = sqs.create_queue(QueueName="deep-dlq")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        value = '{"deadLetterTargetArn": "%s", "maxReceiveCount": %s}' % (arn, deep())
        self.assertEqual(self.sqs_error(sqs.create_queue, QueueName="deep-src", Attributes={"RedrivePolicy": value}),
                         ("InvalidAttributeValue", 400))
        self.assert_alive()
        url = sqs.create_queue(QueueName="deep-src2")["QueueUrl"]
        self.assertEqual(self.sqs_error(sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedrivePolicy": value}),
                         ("InvalidAttributeValue", 400))
        allow = '{"redrivePermission": "byQueue", "sourceQueueArns": %s}' % deep()
        self.assertEqual(self.sqs_error(sqs.set_queue_attributes, QueueUrl=dlq,
                                        Attributes={"RedriveAllowPolicy": allow}),
                         ("InvalidAttributeValue", 400))
        policy = '{"Version": "2012-10-17", "Statement": %s}' % deep(inner="{}")
        self.assertEqual(self.sqs_error(sqs.set_queue_attributes, QueueUrl=url, Attributes={"Policy": policy}),
                         ("InvalidAttributeValue", 400))
        self.assert_alive()
        # Ordinary values still work.
        ok = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ok})
        got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
        self.assertEqual(json.loads(got["RedrivePolicy"])["maxReceiveCount"], 3)

    def test_sqs_redrive_policy_over_query(self):
        # The same value in a Query form (the legacy protocol's own decoding path).
        sqs = self.server.client("sqs")
        dlq = sqs.create_queue(QueueName="deep-q-dlq")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        value = '{"deadLetterTargetArn": "%s", "maxReceiveCount": %s}' % (arn, deep())
        status, body = self.form_post("sqs", {"Action": "CreateQueue", "Version": "2012-11-05",
                                              "QueueName": "deep-q-src", "Attribute.1.Name": "RedrivePolicy",
                                              "Attribute.1.Value": value})
        self.assertEqual(status, 400, body[:500])
        self.assertEqual(fh.parse_error(body)[0], "InvalidAttributeValue")
        self.assert_alive()

    # ------------------------------------------------------------------ S3 browser POST
    def post_policy(self, bucket, policy_text):
        now = dt.datetime.now(dt.timezone.utc)
        date = now.strftime("%Y%m%d")
        credential = f"{fh.DEFAULT_KEY}/{date}/{fh.REGION}/s3/aws4_request"
        policy_b64 = base64.b64encode(policy_text.encode()).decode()
        k = hmac.new(("AWS4" + fh.DEFAULT_SECRET).encode(), date.encode(), hashlib.sha256).digest()
        for part in (fh.REGION, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(k, policy_b64.encode(), hashlib.sha256).hexdigest()
        fields = {"key": "deep.txt", "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential,
                  "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"), "policy": policy_b64,
                  "x-amz-signature": signature}
        boundary = "----fogbank" + uuid.uuid4().hex
        body = b""
        for name, value in fields.items():
            body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
                 f'Content-Type: text/plain\r\n\r\nbytes\r\n--{boundary}--\r\n').encode()
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            conn.request("POST", f"/{bucket}", body=body,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def test_s3_post_policy_condition_nested_100000_levels(self):
        s3 = self.server.client("s3")
        bucket = fh.unique_bucket("deep")
        s3.create_bucket(Bucket=bucket)
        expiration = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for condition in ('["eq", "$key", %s]' % deep(), '{"key": %s}' % deep(), deep()):
            policy = '{"expiration": "%s", "conditions": [{"bucket": "%s"}, %s]}' % (expiration, bucket, condition)
            status, body = self.post_policy(bucket, policy)
            self.assertEqual(status, 400, body[:300])
            self.assertEqual(fh.parse_error(body)[:2], ("InvalidPolicyDocument", "Invalid Policy: Invalid JSON."))
            self.assert_alive()
        # A policy of ordinary depth still uploads.
        policy = json.dumps({"expiration": expiration,
                             "conditions": [{"bucket": bucket}, ["starts-with", "$key", "deep"]]})
        status, body = self.post_policy(bucket, policy)
        self.assertEqual(status, 204, body)
        self.assertEqual(s3.get_object(Bucket=bucket, Key="deep.txt")["Body"].read(), b"bytes")

    # ------------------------------------------------------------------ Query parameter names
    def form_post(self, service, params, raw_tail=""):
        body = urllib.parse.urlencode(params).encode() + raw_tail.encode()
        host = f"{self.server.host}:{self.server.port}"
        headers = fh.sigv4_headers("POST", host, "/", None, {"Content-Type": fh.FORM}, body, service=service)
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            conn.request("POST", "/", body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def test_query_names_with_30000_dots(self):
        url = self.server.client("sqs").create_queue(QueueName="dots")["QueueUrl"]
        names = ["." * 30_000, "MessageAttribute" + ".1" * 15_000, "a" + ".a" * 30_000,
                 "MessageAttribute.1.Value" + "." * 30_000 + "StringValue"]
        for name in names:
            with self.subTest(service="sqs", name=name[:30]):
                status, body = self.form_post("sqs", {"Action": "SendMessage", "Version": "2012-11-05",
                                                      "QueueUrl": url, "MessageBody": "x"}, "&" + name + "=1")
                self.assertIn(status, (200, 400), body[:300])
                self.assert_alive()
            with self.subTest(service="sts", name=name[:30]):
                status, body = self.form_post("sts", {"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                                              "&" + name + "=1")
                self.assertIn(status, (200, 400), body[:300])
                self.assert_alive()
        # Still serving.
        status, _, body = fh.signed_sts_request(self.server)
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
