#!/usr/bin/env python3
"""SQS end to end over the JSON protocol (boto3 1.4x) and the AWS CLI: every operation, FIFO,
dead-letter queues, long polling, persistence across restarts."""

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402


def md5_of_attributes(attrs):
    """AWS's MD5OfMessageAttributes, written from the SQS developer guide (the SDKs' check)."""
    buf = b""
    for name in sorted(attrs):
        a = attrs[name]
        buf += struct.pack(">I", len(name.encode())) + name.encode()
        buf += struct.pack(">I", len(a["DataType"].encode())) + a["DataType"].encode()
        if "BinaryValue" in a:
            buf += b"\x02" + struct.pack(">I", len(a["BinaryValue"])) + a["BinaryValue"]
        else:
            v = a["StringValue"].encode()
            buf += b"\x01" + struct.pack(">I", len(v)) + v
    return hashlib.md5(buf).hexdigest()


class SqsTestBase(fh.FogbankTestCase):
    def setUp(self):
        self.server.reset()
        self.sqs = self.server.client("sqs")

    def queue(self, name="q", **attributes):
        return self.sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]

    def arn(self, url):
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def attrs(self, url, *names):
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"])["Attributes"]

    def assertSqsError(self, fn, query_code, status=400, json_code=None, **kwargs):
        with self.assertRaises(ClientError) as ctx:
            fn(**kwargs)
        err = ctx.exception.response
        # awsQueryCompatible: botocore reports the Query code from x-amzn-query-error.
        self.assertEqual(err["Error"]["Code"], query_code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        if json_code:
            self.assertEqual(err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"], json_code)
            self.assertEqual(err["Error"].get("QueryErrorCode"), json_code)
        return err


class SqsQueueTest(SqsTestBase):
    def test_create_get_list_delete(self):
        url = self.queue("orders")
        self.assertEqual(url, f"{self.server.http_url}/000000000000/orders")
        self.assertEqual(self.sqs.get_queue_url(QueueName="orders")["QueueUrl"], url)
        self.assertEqual(self.sqs.get_queue_url(QueueName="orders", QueueOwnerAWSAccountId="000000000000")["QueueUrl"], url)
        self.queue("orders-dlq")
        self.queue("billing")
        self.assertEqual(self.sqs.list_queues()["QueueUrls"],
                         [f"{self.server.http_url}/000000000000/{n}" for n in ("billing", "orders", "orders-dlq")])
        self.assertEqual(len(self.sqs.list_queues(QueueNamePrefix="orders")["QueueUrls"]), 2)
        page = self.sqs.list_queues(MaxResults=2)
        self.assertEqual(len(page["QueueUrls"]), 2)
        rest = self.sqs.list_queues(MaxResults=2, NextToken=page["NextToken"])
        self.assertEqual(rest["QueueUrls"], [f"{self.server.http_url}/000000000000/orders-dlq"])
        self.assertNotIn("NextToken", rest)
        self.sqs.delete_queue(QueueUrl=url)
        self.assertSqsError(self.sqs.get_queue_url, "AWS.SimpleQueueService.NonExistentQueue",
                            json_code="QueueDoesNotExist", QueueName="orders")
        self.assertSqsError(self.sqs.delete_queue, "AWS.SimpleQueueService.NonExistentQueue", QueueUrl=url)
        self.assertNotIn("QueueUrls", self.sqs.list_queues(QueueNamePrefix="zzz"))

    def test_create_is_idempotent_unless_attributes_differ(self):
        url = self.queue("idem", VisibilityTimeout=40)
        self.assertEqual(self.queue("idem", VisibilityTimeout=40), url)
        self.assertEqual(self.queue("idem"), url)
        err = self.assertSqsError(self.queue, "QueueAlreadyExists", json_code="QueueNameExists",
                                  name="idem", VisibilityTimeout=41)
        self.assertIn("VisibilityTimeout", err["Error"]["Message"])

    def test_queue_name_and_attribute_validation(self):
        self.assertSqsError(self.queue, "InvalidParameterValue", name="bad name")
        self.assertSqsError(self.queue, "InvalidParameterValue", name="x" * 81)
        self.assertSqsError(self.queue, "InvalidParameterValue", name="nofifo.fifo")
        self.assertSqsError(self.queue, "InvalidParameterValue", name="plain", FifoQueue="true")
        self.assertSqsError(self.queue, "InvalidAttributeValue", name="v", VisibilityTimeout=43201)
        self.assertSqsError(self.queue, "InvalidAttributeValue", name="v", MaximumMessageSize=1048577)
        self.assertSqsError(self.queue, "InvalidAttributeValue", name="v", DelaySeconds="abc")
        self.assertSqsError(self.queue, "InvalidAttributeName", name="v", Bogus="1")
        self.assertSqsError(self.queue, "InvalidAttributeName", name="v", ContentBasedDeduplication="true")

    def test_attributes_all_and_set(self):
        url = self.queue("attrs", DelaySeconds=2, MaximumMessageSize=2048)
        a = self.attrs(url)
        self.assertEqual(a["QueueArn"], "arn:aws:sqs:us-east-1:000000000000:attrs")
        self.assertEqual(a["DelaySeconds"], "2")
        self.assertEqual(a["MaximumMessageSize"], "2048")
        self.assertEqual(a["VisibilityTimeout"], "30")
        self.assertEqual(a["MessageRetentionPeriod"], "345600")
        self.assertEqual(a["ReceiveMessageWaitTimeSeconds"], "0")
        self.assertEqual(a["SqsManagedSseEnabled"], "true")
        for n in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                  "ApproximateNumberOfMessagesDelayed"):
            self.assertEqual(a[n], "0")
        self.assertAlmostEqual(int(a["CreatedTimestamp"]), time.time(), delta=30)
        self.assertNotIn("FifoQueue", a)
        policy = json.dumps({"Version": "2012-10-17", "Statement": []})
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5", "Policy": policy,
                                                                "KmsMasterKeyId": "alias/aws/sqs"})
        a = self.attrs(url, "VisibilityTimeout", "Policy", "KmsMasterKeyId", "SqsManagedSseEnabled",
                       "KmsDataKeyReusePeriodSeconds")
        self.assertEqual(a, {"VisibilityTimeout": "5", "Policy": policy, "KmsMasterKeyId": "alias/aws/sqs",
                             "SqsManagedSseEnabled": "false", "KmsDataKeyReusePeriodSeconds": "300"})
        self.assertSqsError(self.sqs.set_queue_attributes, "InvalidAttributeValue", QueueUrl=url,
                            Attributes={"ReceiveMessageWaitTimeSeconds": "21"})
        self.assertSqsError(self.sqs.get_queue_attributes, "InvalidAttributeName", QueueUrl=url,
                            AttributeNames=["Nope"])
        self.assertNotIn("Attributes", self.sqs.get_queue_attributes(QueueUrl=url))

    def test_tags(self):
        url = self.sqs.create_queue(QueueName="tagged", tags={"team": "a"})["QueueUrl"]
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"team": "a"})
        self.sqs.tag_queue(QueueUrl=url, Tags={"env": "dev", "team": "b"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"team": "b", "env": "dev"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"env": "dev"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
        self.assertNotIn("Tags", self.sqs.list_queue_tags(QueueUrl=url))

    def test_permissions(self):
        url = self.queue("perm")
        self.sqs.add_permission(QueueUrl=url, Label="send1", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
        policy = json.loads(self.attrs(url, "Policy")["Policy"])
        self.assertEqual(policy["Statement"][0]["Sid"], "send1")
        self.assertEqual(policy["Statement"][0]["Principal"], {"AWS": "arn:aws:iam::111122223333:root"})
        self.assertEqual(policy["Statement"][0]["Action"], "SQS:SendMessage")
        self.assertEqual(policy["Statement"][0]["Resource"], "arn:aws:sqs:us-east-1:000000000000:perm")
        self.assertSqsError(self.sqs.add_permission, "InvalidParameterValue", QueueUrl=url, Label="send1",
                            AWSAccountIds=["111122223333"], Actions=["SendMessage"])
        self.sqs.remove_permission(QueueUrl=url, Label="send1")
        self.assertNotIn("Policy", self.attrs(url))
        self.assertSqsError(self.sqs.remove_permission, "InvalidParameterValue", QueueUrl=url, Label="send1")

    def test_queue_url_forms(self):
        url = self.queue("forms")
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        # The sqs.<region>.<host> form and AWS's own host name reach the same queue.
        for other in (f"http://sqs.us-east-1.localhost.localstack.cloud:{self.server.port}/000000000000/forms",
                      "https://sqs.us-east-1.amazonaws.com/000000000000/forms"):
            self.assertEqual(self.attrs(other, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"], "1")
        self.assertSqsError(self.sqs.send_message, "InvalidAddress", status=404, QueueUrl="garbage", MessageBody="x")


class SqsMessageTest(SqsTestBase):
    def test_send_receive_delete_with_attributes_and_md5(self):
        url = self.queue()
        attrs = {"s": {"DataType": "String", "StringValue": "héllo"},
                 "n": {"DataType": "Number", "StringValue": "12.5"},
                 "b": {"DataType": "Binary", "BinaryValue": b"\x00\xffbin"},
                 "c": {"DataType": "String.custom", "StringValue": "x"}}
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="body ✓", MessageAttributes=attrs,
                                     MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}})
        self.assertEqual(sent["MD5OfMessageBody"], hashlib.md5("body ✓".encode()).hexdigest())
        self.assertEqual(sent["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        self.assertEqual(sent["MD5OfMessageSystemAttributes"],
                         md5_of_attributes({"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}}))
        got = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                                       MessageSystemAttributeNames=["All"])["Messages"]
        self.assertEqual(len(got), 1)
        m = got[0]
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["Body"], "body ✓")
        self.assertEqual(m["MessageAttributes"], attrs)
        self.assertEqual(m["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertEqual(m["Attributes"]["SenderId"], "000000000000")
        self.assertEqual(m["Attributes"]["AWSTraceHeader"], "Root=1-abc")
        self.assertAlmostEqual(int(m["Attributes"]["SentTimestamp"]) / 1000, time.time(), delta=30)
        self.assertGreaterEqual(int(m["Attributes"]["ApproximateFirstReceiveTimestamp"]),
                                int(m["Attributes"]["SentTimestamp"]))
        self.assertEqual(self.attrs(url, "ApproximateNumberOfMessagesNotVisible")["ApproximateNumberOfMessagesNotVisible"], "1")
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])  # again: still a success
        a = self.attrs(url)
        self.assertEqual((a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]), ("0", "0"))
        self.assertSqsError(self.sqs.delete_message, "ReceiptHandleIsInvalid", QueueUrl=url, ReceiptHandle="nonsense")

    def test_attribute_name_filters(self):
        url = self.queue()
        attrs = {"app.a": {"DataType": "String", "StringValue": "1"},
                 "app.b": {"DataType": "String", "StringValue": "2"},
                 "other": {"DataType": "Number", "StringValue": "3"}}
        for _ in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attrs)
        m = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["app.*"], AttributeNames=["SentTimestamp"])["Messages"][0]
        self.assertEqual(set(m["MessageAttributes"]), {"app.a", "app.b"})
        self.assertEqual(m["MD5OfMessageAttributes"], md5_of_attributes({k: attrs[k] for k in ("app.a", "app.b")}))
        self.assertEqual(set(m["Attributes"]), {"SentTimestamp"})
        m = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["other"])["Messages"][0]
        self.assertEqual(set(m["MessageAttributes"]), {"other"})
        self.assertNotIn("Attributes", m)
        m = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.assertNotIn("MessageAttributes", m)
        self.assertNotIn("MD5OfMessageAttributes", m)

    def test_message_validation(self):
        url = self.queue(MaximumMessageSize=1024)
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x" * 1025)
        self.assertSqsError(self.sqs.send_message, "InvalidMessageContents", QueueUrl=url, MessageBody="bad \x00 char")
        self.assertSqsError(self.sqs.send_message, "MissingParameter", QueueUrl=url, MessageBody="")
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x", DelaySeconds=901)
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                            MessageAttributes={"AWS.x": {"DataType": "String", "StringValue": "v"}})
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                            MessageAttributes={"a": {"DataType": "String", "StringValue": ""}})
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                            MessageAttributes={"a": {"DataType": "Float", "StringValue": "1"}})
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                            MessageAttributes={f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)})
        self.assertSqsError(self.sqs.receive_message, "InvalidParameterValue", QueueUrl=url, MaxNumberOfMessages=11)
        self.assertSqsError(self.sqs.receive_message, "InvalidParameterValue", QueueUrl=url, WaitTimeSeconds=21)
        self.assertSqsError(self.sqs.receive_message, "InvalidParameterValue", QueueUrl=url, VisibilityTimeout=43201)
        # AWS's current limit: 1 MiB messages on a default queue.
        big = self.queue("big")
        self.sqs.send_message(QueueUrl=big, MessageBody="x" * 1048576)
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=big, MessageBody="x" * 1048577)

    def test_visibility_timeout_and_receipt_handles(self):
        url = self.queue(VisibilityTimeout=60)
        self.sqs.send_message(QueueUrl=url, MessageBody="v")
        first = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        # ChangeMessageVisibility to 0 makes it receivable at once, with a new handle.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
        second = self.sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
        self.assertNotEqual(second["ReceiptHandle"], first["ReceiptHandle"])
        self.assertEqual(second["Attributes"]["ApproximateReceiveCount"], "2")
        # The older handle no longer changes visibility and deleting with it deletes nothing.
        self.assertSqsError(self.sqs.change_message_visibility, "InvalidParameterValue", QueueUrl=url,
                            ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=10)
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        self.assertEqual(self.attrs(url, "ApproximateNumberOfMessagesNotVisible")["ApproximateNumberOfMessagesNotVisible"], "1")
        # Per-receive VisibilityTimeout: 1 second, then the message is back.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
        self.sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        third = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)["Messages"][0]
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])
        self.assertSqsError(self.sqs.change_message_visibility, "InvalidParameterValue", QueueUrl=url,
                            ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=10)

    def test_message_not_inflight(self):
        url = self.queue()
        self.sqs.send_message(QueueUrl=url, MessageBody="v")
        m = self.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
        self.assertSqsError(self.sqs.change_message_visibility, "AWS.SimpleQueueService.MessageNotInflight",
                            json_code="MessageNotInflight", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                            VisibilityTimeout=5)

    def test_delay_seconds(self):
        url = self.queue(DelaySeconds=1)
        self.sqs.send_message(QueueUrl=url, MessageBody="queue-delayed")
        self.sqs.send_message(QueueUrl=url, MessageBody="now", DelaySeconds=0)
        a = self.attrs(url)
        self.assertEqual((a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesDelayed"]), ("1", "1"))
        self.assertEqual([m["Body"] for m in self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]], ["now"])
        got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
        self.assertEqual([m["Body"] for m in got], ["queue-delayed"])

    def test_max_number_of_messages_and_order(self):
        url = self.queue()
        for i in range(15):
            self.sqs.send_message(QueueUrl=url, MessageBody=str(i))
        first = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual(len(first), 10)
        rest = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual(sorted(int(m["Body"]) for m in first + rest), list(range(15)))

    def test_purge(self):
        url = self.queue()
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody=str(i))
        self.sqs.purge_queue(QueueUrl=url)
        self.assertEqual(self.attrs(url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"], "0")
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        self.assertSqsError(self.sqs.purge_queue, "AWS.SimpleQueueService.PurgeQueueInProgress", status=403,
                            json_code="PurgeQueueInProgress", QueueUrl=url)

    def test_retention(self):
        url = self.queue(MessageRetentionPeriod=60)
        self.sqs.send_message(QueueUrl=url, MessageBody="keep")
        self.assertEqual(self.attrs(url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"], "1")


class SqsBatchTest(SqsTestBase):
    def test_send_receive_delete_change_batches(self):
        url = self.queue()
        attrs = {"k": {"DataType": "String", "StringValue": "v"}}
        r = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "one", "MessageAttributes": attrs},
            {"Id": "b-2", "MessageBody": "two"},
            {"Id": "c_3", "MessageBody": "bad", "DelaySeconds": 9999}])
        self.assertEqual(sorted(e["Id"] for e in r["Successful"]), ["a", "b-2"])
        ok = {e["Id"]: e for e in r["Successful"]}
        self.assertEqual(ok["a"]["MD5OfMessageBody"], hashlib.md5(b"one").hexdigest())
        self.assertEqual(ok["a"]["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        self.assertEqual(r["Failed"], [{"Id": "c_3", "SenderFault": True, "Code": "InvalidParameterValue",
                                        "Message": r["Failed"][0]["Message"]}])
        msgs = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual(len(msgs), 2)
        c = self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": "x", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "y", "ReceiptHandle": "garbage", "VisibilityTimeout": 0}])
        self.assertEqual([e["Id"] for e in c["Successful"]], ["x"])
        self.assertEqual([(e["Id"], e["Code"]) for e in c["Failed"]], [("y", "ReceiptHandleIsInvalid")])
        again = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        d = self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": "1", "ReceiptHandle": again["ReceiptHandle"]},
            {"Id": "2", "ReceiptHandle": msgs[1]["ReceiptHandle"]}])
        self.assertEqual(sorted(e["Id"] for e in d["Successful"]), ["1", "2"])
        self.assertEqual(d.get("Failed", []), [])
        a = self.attrs(url)
        self.assertEqual((a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]), ("0", "0"))

    def test_batch_request_errors(self):
        url = self.queue()
        self.assertSqsError(self.sqs.send_message_batch, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                            json_code="TooManyEntriesInBatchRequest", QueueUrl=url,
                            Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])
        self.assertSqsError(self.sqs.send_message_batch, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                            QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
        self.assertSqsError(self.sqs.send_message_batch, "AWS.SimpleQueueService.InvalidBatchEntryId",
                            QueueUrl=url, Entries=[{"Id": "no spaces", "MessageBody": "x"}])
        self.assertSqsError(self.sqs.send_message_batch, "AWS.SimpleQueueService.EmptyBatchRequest",
                            QueueUrl=url, Entries=[])
        self.assertSqsError(self.sqs.send_message_batch, "AWS.SimpleQueueService.BatchRequestTooLong",
                            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x" * 300000} for i in range(4)])
        self.assertSqsError(self.sqs.delete_message_batch, "AWS.SimpleQueueService.EmptyBatchRequest",
                            QueueUrl=url, Entries=[])


class SqsFifoTest(SqsTestBase):
    def fifo(self, name="f.fifo", **attrs):
        return self.queue(name, FifoQueue="true", **attrs)

    def test_fifo_attributes_and_requirements(self):
        url = self.fifo(ContentBasedDeduplication="false", DeduplicationScope="messageGroup",
                        FifoThroughputLimit="perMessageGroupId")
        a = self.attrs(url)
        self.assertEqual((a["FifoQueue"], a["ContentBasedDeduplication"], a["DeduplicationScope"],
                          a["FifoThroughputLimit"]), ("true", "false", "messageGroup", "perMessageGroupId"))
        self.assertSqsError(self.sqs.send_message, "MissingParameter", QueueUrl=url, MessageBody="x",
                            MessageDeduplicationId="d")
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                            MessageGroupId="g")
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                            MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=5)
        std = self.queue("std")
        self.assertSqsError(self.sqs.send_message, "InvalidParameterValue", QueueUrl=std, MessageBody="x",
                            MessageDeduplicationId="d")
        # Fair queues: a MessageGroupId on a standard queue is accepted and reported back.
        self.sqs.send_message(QueueUrl=std, MessageBody="x", MessageGroupId="tenant-1")
        m = self.sqs.receive_message(QueueUrl=std, MessageSystemAttributeNames=["MessageGroupId"])["Messages"][0]
        self.assertEqual(m["Attributes"]["MessageGroupId"], "tenant-1")

    def test_order_group_lock_and_dedup(self):
        url = self.fifo(ContentBasedDeduplication="true")
        seqs = [self.sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="A")["SequenceNumber"]
                for i in range(3)]
        self.assertEqual(seqs, sorted(seqs))
        self.assertTrue(all(len(s) == 20 for s in seqs))
        dup = self.sqs.send_message(QueueUrl=url, MessageBody="a0", MessageGroupId="A")
        self.assertEqual(dup["SequenceNumber"], seqs[0])
        self.sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="B")
        self.assertEqual(self.attrs(url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"], "4")
        first = self.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        self.assertEqual([m["Body"] for m in first], ["a0"])
        self.assertEqual(first[0]["Attributes"]["MessageGroupId"], "A")
        self.assertEqual(first[0]["Attributes"]["SequenceNumber"], seqs[0])
        self.assertEqual(first[0]["Attributes"]["MessageDeduplicationId"], hashlib.sha256(b"a0").hexdigest())
        # Group A is locked while a0 is in flight: only B is available.
        self.assertEqual([m["Body"] for m in self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]], ["b0"])
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10))
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
        rest = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual([m["Body"] for m in rest], ["a1", "a2"])

    def test_explicit_dedup_ids_and_scope(self):
        url = self.fifo()
        a = self.sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g1", MessageDeduplicationId="d")
        b = self.sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="g2", MessageDeduplicationId="d")
        self.assertEqual(a["MessageId"], b["MessageId"])  # queue scope: same id anywhere is a duplicate
        grp = self.fifo("g.fifo", DeduplicationScope="messageGroup")
        a = self.sqs.send_message(QueueUrl=grp, MessageBody="x", MessageGroupId="g1", MessageDeduplicationId="d")
        b = self.sqs.send_message(QueueUrl=grp, MessageBody="x", MessageGroupId="g2", MessageDeduplicationId="d")
        self.assertNotEqual(a["MessageId"], b["MessageId"])

    def test_concurrent_consumers_keep_group_order(self):
        url = self.fifo(ContentBasedDeduplication="true", VisibilityTimeout=30)
        groups = ["g0", "g1", "g2"]
        for i in range(20):
            self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": g, "MessageBody": f"{g}:{i}", "MessageGroupId": g} for g in groups])
        seen = {g: [] for g in groups}
        lock = threading.Lock()
        errors = []

        def consume():
            client = self.server.client("sqs")
            idle = 0
            while idle < 3:
                msgs = client.receive_message(QueueUrl=url, MaxNumberOfMessages=4, WaitTimeSeconds=1).get("Messages", [])
                if not msgs:
                    idle += 1
                    continue
                idle = 0
                with lock:
                    for m in msgs:
                        g, i = m["Body"].split(":")
                        seen[g].append(int(i))
                try:
                    client.delete_message_batch(QueueUrl=url, Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(msgs)])
                except Exception as e:  # noqa: BLE001
                    errors.append(e)

        threads = [threading.Thread(target=consume) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        for g in groups:
            self.assertEqual(seen[g], list(range(20)), g)


class SqsDeadLetterTest(SqsTestBase):
    def test_redrive_to_dlq_and_back(self):
        dlq = self.queue("dlq")
        dlq_arn = self.arn(dlq)
        src = self.queue("src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}))
        self.assertEqual(json.loads(self.attrs(src, "RedrivePolicy")["RedrivePolicy"]),
                         {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
        self.sqs.send_message(QueueUrl=src, MessageBody="poison")
        for n in (1, 2):
            m = self.sqs.receive_message(QueueUrl=src, VisibilityTimeout=0, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
            self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], str(n))
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=src))
        moved = self.sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0, MessageSystemAttributeNames=["All"])["Messages"][0]
        self.assertEqual(moved["Body"], "poison")
        self.assertEqual(moved["MessageId"], m["MessageId"])
        self.assertEqual(moved["Attributes"]["DeadLetterQueueSourceArn"], self.arn(src))
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"], [src])
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=src)["queueUrls"], [])
        # Redrive back to the source with a message move task.
        handle = self.sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
        self.assertTrue(handle)
        tasks = self.sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
        self.assertEqual(tasks[0]["Status"], "COMPLETED")
        self.assertEqual(tasks[0]["ApproximateNumberOfMessagesMoved"], 1)
        self.assertEqual(tasks[0]["SourceArn"], dlq_arn)
        back = self.sqs.receive_message(QueueUrl=src, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
        self.assertEqual(back["Body"], "poison")
        self.assertEqual(back["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertEqual(self.attrs(dlq, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"], "0")
        self.assertSqsError(self.sqs.cancel_message_move_task, "ResourceNotFoundException", TaskHandle="bogus")
        self.assertSqsError(self.sqs.start_message_move_task, "InvalidParameterValue", SourceArn=self.arn(src))
        self.assertSqsError(self.sqs.start_message_move_task, "ResourceNotFoundException",
                            SourceArn="arn:aws:sqs:us-east-1:000000000000:nope")

    def test_redrive_policy_validation_and_allow_policy(self):
        dlq = self.queue("dlq2", RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
        arn = self.arn(dlq)
        self.assertSqsError(self.queue, "InvalidParameterValue", name="s1",
                            RedrivePolicy=json.dumps({"deadLetterTargetArn": arn + "x", "maxReceiveCount": 1}))
        self.assertSqsError(self.queue, "InvalidParameterValue", name="s1",
                            RedrivePolicy=json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 0}))
        src = self.queue("s1")
        self.assertSqsError(self.sqs.set_queue_attributes, "InvalidParameterValue", QueueUrl=src,
                            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})})
        self.sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
            {"redrivePermission": "byQueue", "sourceQueueArns": [self.arn(src)]})})
        self.sqs.set_queue_attributes(QueueUrl=src, Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})})
        self.sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
        self.assertNotIn("RedrivePolicy", self.attrs(src))


class SqsLongPollTest(SqsTestBase):
    def test_send_wakes_waiting_receiver(self):
        url = self.queue("lp")
        result = {}

        def receive():
            result["r"] = self.server.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=15)
            result["t"] = time.monotonic()

        t = threading.Thread(target=receive)
        t.start()
        time.sleep(0.3)
        self.sqs.send_message(QueueUrl=url, MessageBody="ping")
        sent = time.monotonic()
        t.join(20)
        self.assertEqual(result["r"]["Messages"][0]["Body"], "ping")
        self.assertLess(result["t"] - sent, 0.25)

    def test_empty_wait_and_queue_default(self):
        url = self.queue("lp2", ReceiveMessageWaitTimeSeconds=1)
        start = time.monotonic()
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        self.assertGreaterEqual(time.monotonic() - start, 0.9)
        start = time.monotonic()
        self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
        self.assertLess(time.monotonic() - start, 0.5)

    def test_many_concurrent_long_polls(self):
        # Far more waiting receivers than server threads (2): none may block a thread.
        url = self.queue("lp3")
        n = 64
        got = []
        lock = threading.Lock()

        def receive(client):
            r = client.receive_message(QueueUrl=url, WaitTimeSeconds=10)
            with lock:
                got.extend(m["Body"] for m in r.get("Messages", []))

        # Clients are built up front: building 64 in threads takes longer than the wait itself.
        clients = [self.server.client("sqs") for _ in range(n)]
        threads = [threading.Thread(target=receive, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        time.sleep(1.0)
        start = time.monotonic()
        self.assertEqual(self.sqs.list_queues()["QueueUrls"], [url])  # the server still answers
        self.assertLess(time.monotonic() - start, 1.0)
        for i in range(0, n, 10):
            self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(j), "MessageBody": str(j)} for j in range(i, min(i + 10, n))])
        for t in threads:
            t.join(20)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(sorted(got, key=int), [str(i) for i in range(n)])


class SqsPersistenceTest(SqsTestBase):
    def test_restart_keeps_queues_messages_and_in_flight_state(self):
        url = self.queue("durable", VisibilityTimeout=120)
        fifo = self.queue("durable.fifo", FifoQueue="true", ContentBasedDeduplication="true")
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"m{i}",
                                  MessageAttributes={"i": {"DataType": "Number", "StringValue": str(i)}})
        self.sqs.send_message(QueueUrl=fifo, MessageBody="f0", MessageGroupId="g")
        self.sqs.send_message(QueueUrl=fifo, MessageBody="f1", MessageGroupId="g")
        in_flight = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        deleted = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=deleted["ReceiptHandle"])
        f0 = self.sqs.receive_message(QueueUrl=fifo)["Messages"][0]
        self.server.kill9()  # acknowledged state must survive a crash, not just a clean stop
        self.server.start()
        sqs = self.sqs = self.server.client("sqs")
        urls = sqs.list_queues()["QueueUrls"]
        self.assertEqual(sorted(u.rsplit("/", 1)[1] for u in urls), ["durable", "durable.fifo"])
        a = self.attrs(url)
        self.assertEqual((a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]), ("1", "1"))
        self.assertEqual(a["VisibilityTimeout"], "120")
        left = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
        self.assertEqual(len(left), 1)
        self.assertNotIn(left[0]["Body"], (in_flight["Body"], deleted["Body"]))
        self.assertEqual(left[0]["MD5OfMessageAttributes"], md5_of_attributes(left[0]["MessageAttributes"]))
        # The in-flight message's receipt handle still works after the restart.
        sqs.delete_message(QueueUrl=url, ReceiptHandle=in_flight["ReceiptHandle"])
        self.assertEqual(self.attrs(url, "ApproximateNumberOfMessagesNotVisible")["ApproximateNumberOfMessagesNotVisible"], "1")
        # FIFO: the group is still locked by f0; its dedup window survived too.
        self.assertNotIn("Messages", sqs.receive_message(QueueUrl=fifo))
        dup = sqs.send_message(QueueUrl=fifo, MessageBody="f0", MessageGroupId="g")
        self.assertEqual(dup["MessageId"], f0["MessageId"])
        sqs.delete_message(QueueUrl=fifo, ReceiptHandle=f0["ReceiptHandle"])
        self.assertEqual(sqs.receive_message(QueueUrl=fifo)["Messages"][0]["Body"], "f1")


class SqsCliTest(SqsTestBase):
    def aws(self, *args):
        exe = shutil.which("aws")
        if exe is None:
            self.skipTest("AWS CLI not installed")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
        out = subprocess.run([exe, "--endpoint-url", self.server.http_url, "--output", "json", "sqs", *args],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout) if out.stdout.strip() else None

    def test_cli_round_trip(self):
        url = self.aws("create-queue", "--queue-name", "cli")["QueueUrl"]
        self.assertTrue(url.endswith("/000000000000/cli"))
        sent = self.aws("send-message", "--queue-url", url, "--message-body", "from cli",
                        "--message-attributes", '{"k":{"DataType":"String","StringValue":"v"}}')
        self.assertEqual(sent["MD5OfMessageBody"], hashlib.md5(b"from cli").hexdigest())
        got = self.aws("receive-message", "--queue-url", url, "--message-attribute-names", "All")["Messages"][0]
        self.assertEqual(got["Body"], "from cli")
        self.assertEqual(got["MessageAttributes"]["k"]["StringValue"], "v")
        self.aws("delete-message", "--queue-url", url, "--receipt-handle", got["ReceiptHandle"])
        self.assertEqual(self.aws("list-queues")["QueueUrls"], [url])
        self.aws("delete-queue", "--queue-url", url)


if __name__ == "__main__":
    fh.main()
