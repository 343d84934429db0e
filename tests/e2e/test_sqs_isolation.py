#!/usr/bin/env python3
"""SQS account isolation: a queue URL of another account is no capability. Without a grant in the
queue's resource policy (Policy attribute, AddPermission) another account can neither use the
queue nor find it by name; with one it can do exactly what was granted. Driven over JSON (current
boto3) and over Query (Debian's boto3, in a subprocess)."""

import json
import os
import subprocess
import sys
import textwrap
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

DEBIAN_PYTHON = "/usr/bin/python3"
OWNER, OWNER_KEY = "111111111111", "ownerkey"
OTHER, OTHER_KEY = "222222222222", "otherkey"
THIRD, THIRD_KEY = "333333333333", "thirdkey"
CREDENTIALS = ",".join(f"{k}:{k}-secret:{a}" for k, a in
                       ((OWNER_KEY, OWNER), (OTHER_KEY, OTHER), (THIRD_KEY, THIRD)))


def error_of(fn, **kw):
    """(code, HTTP status) of the ClientError `fn(**kw)` raises; fails when it succeeds."""
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{fn.__name__} succeeded")


class SqsIsolationJsonTest(fh.FogbankTestCase):
    server_args = ["--credentials", CREDENTIALS]

    def client(self, key):
        return self.server.client("sqs", key=key, secret=key + "-secret")

    def setUp(self):
        self.owner = self.client(OWNER_KEY)
        self.other = self.client(OTHER_KEY)
        self.third = self.client(THIRD_KEY)
        self.name = "iso-" + self.id().rsplit(".", 1)[-1].replace("_", "-")[:60]
        self.url = self.owner.create_queue(QueueName=self.name)["QueueUrl"]
        self.arn = self.owner.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.owner.send_message(QueueUrl=self.url, MessageBody="owner's")

    def assert_denied(self, fn, **kw):
        self.assertEqual(error_of(fn, QueueUrl=self.url, **kw), ("AccessDenied", 403))

    def owner_message_count(self):
        return int(self.owner.get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])

    def test_other_account_is_denied_everything(self):
        o = self.other
        self.assert_denied(o.send_message, MessageBody="intruder")
        self.assert_denied(o.send_message_batch, Entries=[{"Id": "a", "MessageBody": "intruder"}])
        self.assert_denied(o.receive_message)
        self.assert_denied(o.delete_message, ReceiptHandle="x")
        self.assert_denied(o.delete_message_batch, Entries=[{"Id": "a", "ReceiptHandle": "x"}])
        self.assert_denied(o.change_message_visibility, ReceiptHandle="x", VisibilityTimeout=0)
        self.assert_denied(o.purge_queue)
        self.assert_denied(o.get_queue_attributes, AttributeNames=["All"])
        self.assert_denied(o.set_queue_attributes, Attributes={"DelaySeconds": "5"})
        self.assert_denied(o.tag_queue, Tags={"x": "y"})
        self.assert_denied(o.list_queue_tags)
        self.assert_denied(o.list_dead_letter_source_queues)
        self.assert_denied(o.add_permission, Label="me", AWSAccountIds=[OTHER], Actions=["*"])
        self.assert_denied(o.delete_queue)
        # Found by name neither: AWS answers as if the queue did not exist.
        self.assertEqual(error_of(o.get_queue_url, QueueName=self.name, QueueOwnerAWSAccountId=OWNER),
                         ("AWS.SimpleQueueService.NonExistentQueue", 400))
        self.assertNotIn(self.url, o.list_queues().get("QueueUrls", []))
        # Nothing happened to the queue.
        self.assertEqual(self.owner_message_count(), 1)
        self.assertEqual(self.owner.get_queue_url(QueueName=self.name)["QueueUrl"], self.url)

    def test_missing_queue_of_other_account_does_not_exist(self):
        missing = self.url.rsplit("/", 1)[0] + "/no-such-queue"
        code = error_of(self.other.send_message, QueueUrl=missing, MessageBody="x")
        self.assertEqual(code, ("AWS.SimpleQueueService.NonExistentQueue", 400))

    def test_add_permission_grants_only_what_it_names(self):
        self.owner.add_permission(QueueUrl=self.url, Label="other-sends", AWSAccountIds=[OTHER],
                                  Actions=["SendMessage", "GetQueueUrl"])
        sent = self.other.send_message(QueueUrl=self.url, MessageBody="granted")
        self.assertIn("MessageId", sent)
        r = self.other.send_message_batch(QueueUrl=self.url, Entries=[{"Id": "a", "MessageBody": "b"}])
        self.assertEqual([e["Id"] for e in r.get("Successful", [])], ["a"])
        self.assertEqual(self.other.get_queue_url(QueueName=self.name, QueueOwnerAWSAccountId=OWNER)["QueueUrl"],
                         self.url)
        self.assertEqual(self.owner_message_count(), 3)
        # Only those actions, and only for that account.
        self.assert_denied(self.other.receive_message)
        self.assert_denied(self.other.purge_queue)
        self.assert_denied(self.third.send_message, MessageBody="not granted")
        # A policy cannot hand out what only the owner may do.
        self.owner.add_permission(QueueUrl=self.url, Label="other-all", AWSAccountIds=[OTHER], Actions=["*"])
        self.assert_denied(self.other.delete_queue)
        self.assert_denied(self.other.set_queue_attributes, Attributes={"DelaySeconds": "5"})
        self.other.purge_queue(QueueUrl=self.url)
        # Removing the grants takes access away again.
        self.owner.remove_permission(QueueUrl=self.url, Label="other-sends")
        self.owner.remove_permission(QueueUrl=self.url, Label="other-all")
        self.assert_denied(self.other.send_message, MessageBody="revoked")

    def test_policy_attribute_grants_and_denies(self):
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
             "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": self.arn},
            {"Effect": "Allow", "Principal": {"AWS": THIRD}, "Action": "SQS:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": {"AWS": [THIRD]}, "Action": "sqs:Purge*", "Resource": self.arn},
            # Conditions cannot be evaluated here, so such a statement grants nothing.
            {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": self.arn,
             "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:1:t"}}},
        ]}
        self.owner.set_queue_attributes(QueueUrl=self.url, Attributes={"Policy": json.dumps(policy)})
        got = self.other.receive_message(QueueUrl=self.url)["Messages"]
        self.assertEqual([m["Body"] for m in got], ["owner's"])
        self.other.delete_message(QueueUrl=self.url, ReceiptHandle=got[0]["ReceiptHandle"])
        self.assert_denied(self.other.send_message, MessageBody="x")
        self.third.send_message(QueueUrl=self.url, MessageBody="third")
        self.assertEqual(self.third.get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"], "1")
        self.assert_denied(self.third.purge_queue)

    def test_cross_account_dead_letter_queue_and_move_tasks(self):
        other_dlq = self.other.create_queue(QueueName=self.name + "-dlq")["QueueUrl"]
        other_arn = self.other.get_queue_attributes(
            QueueUrl=other_dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": other_arn, "maxReceiveCount": 1})
        # A dead-letter queue must be in the source queue's account.
        self.assertEqual(error_of(self.owner.create_queue, QueueName=self.name + "-src",
                                  Attributes={"RedrivePolicy": redrive})[0], "InvalidParameterValue")
        self.assertEqual(error_of(self.owner.set_queue_attributes, QueueUrl=self.url,
                                  Attributes={"RedrivePolicy": redrive})[0], "InvalidParameterValue")
        # Message move tasks work on one's own queues only.
        own_dlq = self.owner.create_queue(QueueName=self.name + "-odlq")["QueueUrl"]
        own_arn = self.owner.get_queue_attributes(
            QueueUrl=own_dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.owner.set_queue_attributes(QueueUrl=self.url, Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": own_arn, "maxReceiveCount": 1})})
        self.assertEqual(error_of(self.other.start_message_move_task, SourceArn=own_arn)[0],
                         "ResourceNotFoundException")
        self.assertEqual(error_of(self.other.list_message_move_tasks, SourceArn=own_arn)[0],
                         "ResourceNotFoundException")
        self.assertEqual(error_of(self.owner.start_message_move_task, SourceArn=own_arn,
                                  DestinationArn=other_arn)[0], "ResourceNotFoundException")


# Runs inside Debian's python3 (botocore 1.29: SQS over Query). argv: endpoint, owner account.
QUERY_SCRIPT = textwrap.dedent(r'''
    import json, sys
    import boto3, botocore
    from botocore.exceptions import ClientError
    endpoint, owner_account, other_account = sys.argv[1:4]
    def client(key):
        c = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                         aws_access_key_id=key, aws_secret_access_key=key + "-secret",
                         config=botocore.config.Config(retries={"max_attempts": 1}))
        assert c.meta.service_model.protocol == "query", c.meta.service_model.protocol
        return c
    owner, other = client("ownerkey"), client("otherkey")
    def err(fn, **kw):
        try:
            fn(**kw)
        except ClientError as e:
            return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
        return None
    out = {}
    url = owner.create_queue(QueueName="iso-query")["QueueUrl"]
    out["send"] = err(other.send_message, QueueUrl=url, MessageBody="intruder")
    out["receive"] = err(other.receive_message, QueueUrl=url)
    out["purge"] = err(other.purge_queue, QueueUrl=url)
    out["delete"] = err(other.delete_queue, QueueUrl=url)
    out["get_url"] = err(other.get_queue_url, QueueName="iso-query", QueueOwnerAWSAccountId=owner_account)
    owner.add_permission(QueueUrl=url, Label="q", AWSAccountIds=[other_account], Actions=["SendMessage"])
    out["granted_send"] = "MessageId" in other.send_message(QueueUrl=url, MessageBody="granted")
    out["still_no_receive"] = err(other.receive_message, QueueUrl=url)
    out["owner_sees"] = [m["Body"] for m in owner.receive_message(QueueUrl=url).get("Messages", [])]
    print(json.dumps(out))
''')


class SqsIsolationQueryTest(fh.FogbankTestCase):
    server_args = ["--credentials", CREDENTIALS]

    def test_query_protocol_isolation(self):
        if not os.path.exists(DEBIAN_PYTHON):
            self.skipTest("Debian's python3 with boto3 is not installed")
        p = subprocess.run([DEBIAN_PYTHON, "-c", QUERY_SCRIPT, self.server.http_url, OWNER, OTHER],
                           capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        for op in ("send", "receive", "purge", "delete"):
            self.assertEqual(out[op], ["AccessDenied", 403], op)
        self.assertEqual(out["get_url"], ["AWS.SimpleQueueService.NonExistentQueue", 400])
        self.assertTrue(out["granted_send"])
        self.assertEqual(out["still_no_receive"], ["AccessDenied", 403])
        self.assertEqual(out["owner_sees"], ["granted"])


if __name__ == "__main__":
    unittest.main()
