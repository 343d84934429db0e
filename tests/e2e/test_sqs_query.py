#!/usr/bin/env python3
"""SQS over the Query protocol (Action=..., XML): Debian's older boto3, whose botocore speaks
Query to SQS, in a subprocess, plus hand-signed form requests for what it lacks (message move
tasks, legacy queue-URL paths, GET requests, auth errors)."""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402

DEBIAN_PYTHON = "/usr/bin/python3"
XMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"

# Runs inside Debian's python3 with its boto3 (botocore 1.29, SQS over Query). Prints one JSON
# object of results for the test to assert on.
QUERY_CLIENT_SCRIPT = textwrap.dedent(r'''
    import json, sys, hashlib, threading, time
    import boto3, botocore
    from botocore.exceptions import ClientError
    endpoint = sys.argv[1]
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=botocore.config.Config(retries={"max_attempts": 1}))
    assert sqs.meta.service_model.protocol == "query", sqs.meta.service_model.protocol
    out = {"botocore": botocore.__version__}
    def err(fn, **kw):
        try:
            fn(**kw)
        except ClientError as e:
            return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"],
                    e.response["Error"].get("Type")]
        return None
    url = sqs.create_queue(QueueName="qp", Attributes={"VisibilityTimeout": "45"}, tags={"team": "q"})["QueueUrl"]
    out["url"] = url
    out["same_url"] = sqs.create_queue(QueueName="qp", Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    out["exists"] = err(sqs.create_queue, QueueName="qp", Attributes={"VisibilityTimeout": "46"})
    out["get_url"] = sqs.get_queue_url(QueueName="qp")["QueueUrl"]
    out["missing"] = err(sqs.get_queue_url, QueueName="nope")
    out["list"] = sqs.list_queues(QueueNamePrefix="q").get("QueueUrls")
    attrs = {"s": {"DataType": "String", "StringValue": "v<&>"},
             "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello <xml> & \u00e9", MessageAttributes=attrs)
    out["sent"] = {k: sent.get(k) for k in ("MD5OfMessageBody", "MD5OfMessageAttributes", "MessageId")}
    got = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"][0]
    out["received"] = {"Body": got["Body"], "MessageId": got["MessageId"], "MD5OfBody": got["MD5OfBody"],
                       "MD5OfMessageAttributes": got.get("MD5OfMessageAttributes"),
                       "s": got["MessageAttributes"]["s"]["StringValue"],
                       "b": list(got["MessageAttributes"]["b"]["BinaryValue"]),
                       "ReceiveCount": got["Attributes"]["ApproximateReceiveCount"]}
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    out["receive_count_again"] = again["Attributes"]["ApproximateReceiveCount"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    out["bad_handle"] = err(sqs.delete_message, QueueUrl=url, ReceiptHandle="x")
    b = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "1"},
                                                      {"Id": "b", "MessageBody": "2", "DelaySeconds": 1000}])
    out["send_batch"] = [[e["Id"] for e in b.get("Successful", [])], [[e["Id"], e["Code"]] for e in b.get("Failed", [])]]
    out["batch_dup"] = err(sqs.send_message_batch, QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "a", "MessageBody": "2"}])
    out["batch_many"] = err(sqs.send_message_batch, QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "1"} for i in range(11)])
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    c = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[{"Id": "x", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 0}])
    out["change_batch"] = [e["Id"] for e in c.get("Successful", [])]
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    d = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "x", "ReceiptHandle": msgs[0]["ReceiptHandle"]}])
    out["delete_batch"] = [e["Id"] for e in d.get("Successful", [])]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "3"})
    out["attributes"] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    out["bad_attribute"] = err(sqs.set_queue_attributes, QueueUrl=url, Attributes={"Nope": "1"})
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    out["tags"] = sqs.list_queue_tags(QueueUrl=url).get("Tags")
    sqs.add_permission(QueueUrl=url, Label="l1", AWSAccountIds=["111122223333", "444455556666"], Actions=["SendMessage", "ReceiveMessage"])
    out["policy"] = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    sqs.remove_permission(QueueUrl=url, Label="l1")
    sqs.purge_queue(QueueUrl=url)
    out["purge_again"] = err(sqs.purge_queue, QueueUrl=url)
    dlq = sqs.create_queue(QueueName="qp-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = sqs.create_queue(QueueName="qp-src", Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
    out["dlq_sources"] = sqs.list_dead_letter_source_queues(QueueUrl=dlq).get("queueUrls")
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    out["after_max_receives"] = sqs.receive_message(QueueUrl=src).get("Messages")
    out["dlq_body"] = sqs.receive_message(QueueUrl=dlq)["Messages"][0]["Body"]
    fifo = sqs.create_queue(QueueName="qp.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    seqs = [sqs.send_message(QueueUrl=fifo, MessageBody=f"f{i}", MessageGroupId="g")["SequenceNumber"] for i in range(3)]
    out["fifo_seqs_sorted"] = seqs == sorted(seqs)
    out["fifo_first"] = [m["Body"] for m in sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=1)["Messages"]]
    out["fifo_locked"] = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10).get("Messages")
    out["fifo_missing_group"] = err(sqs.send_message, QueueUrl=fifo, MessageBody="x")
    # Long poll over Query: a send wakes the waiting receiver.
    lp = sqs.create_queue(QueueName="qp-lp")["QueueUrl"]
    res = {}
    def waiter():
        c2 = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        res["r"] = c2.receive_message(QueueUrl=lp, WaitTimeSeconds=10)
        res["t"] = time.monotonic()
    t = threading.Thread(target=waiter); t.start(); time.sleep(0.5)
    sqs.send_message(QueueUrl=lp, MessageBody="wake"); sent_at = time.monotonic()
    t.join(15)
    out["long_poll"] = [res["r"]["Messages"][0]["Body"], res["t"] - sent_at]
    sqs.delete_queue(QueueUrl=url)
    out["deleted"] = err(sqs.get_queue_url, QueueName="qp")
    print(json.dumps(out))
''')


def body_md5(text):
    import hashlib
    return hashlib.md5(text.encode()).hexdigest()


class SqsQueryClientTest(fh.FogbankTestCase):
    """Debian's boto3 (Query protocol) end to end."""

    def test_query_protocol_client(self):
        if not os.path.exists(DEBIAN_PYTHON):
            self.skipTest("no Debian python3")
        check = subprocess.run([DEBIAN_PYTHON, "-c", "import boto3"], capture_output=True)
        if check.returncode != 0:
            self.skipTest("Debian python3-boto3 not installed")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        proc = subprocess.run([DEBIAN_PYTHON, "-c", QUERY_CLIENT_SCRIPT, self.server.http_url],
                              capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = json.loads(proc.stdout)
        base = f"{self.server.http_url}/000000000000"
        self.assertEqual(out["url"], f"{base}/qp")
        self.assertEqual(out["same_url"], out["url"])
        self.assertEqual(out["exists"], ["QueueAlreadyExists", 400, "Sender"])
        self.assertEqual(out["get_url"], out["url"])
        self.assertEqual(out["missing"], ["AWS.SimpleQueueService.NonExistentQueue", 400, "Sender"])
        self.assertEqual(out["list"], [f"{base}/qp"])
        body = "hello <xml> & \u00e9"
        self.assertEqual(out["sent"]["MD5OfMessageBody"], body_md5(body))
        self.assertEqual(out["received"]["Body"], body)
        self.assertEqual(out["received"]["MessageId"], out["sent"]["MessageId"])
        self.assertEqual(out["received"]["MD5OfMessageAttributes"], out["sent"]["MD5OfMessageAttributes"])
        self.assertEqual(out["received"]["s"], "v<&>")
        self.assertEqual(out["received"]["b"], [0, 1, 2])
        self.assertEqual(out["received"]["ReceiveCount"], "1")
        self.assertEqual(out["receive_count_again"], "2")
        self.assertEqual(out["bad_handle"], ["ReceiptHandleIsInvalid", 400, "Sender"])
        self.assertEqual(out["send_batch"], [["a"], [["b", "InvalidParameterValue"]]])
        self.assertEqual(out["batch_dup"], ["AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400, "Sender"])
        self.assertEqual(out["batch_many"], ["AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400, "Sender"])
        self.assertEqual(out["change_batch"], ["x"])
        self.assertEqual(out["delete_batch"], ["x"])
        self.assertEqual(out["attributes"]["DelaySeconds"], "3")
        self.assertEqual(out["attributes"]["VisibilityTimeout"], "45")
        self.assertEqual(out["attributes"]["QueueArn"], "arn:aws:sqs:us-east-1:000000000000:qp")
        self.assertEqual(out["bad_attribute"], ["InvalidAttributeName", 400, "Sender"])
        self.assertEqual(out["tags"], {"env": "dev"})
        stmt = out["policy"]["Statement"][0]
        self.assertEqual(stmt["Sid"], "l1")
        self.assertEqual(stmt["Principal"]["AWS"], ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"])
        self.assertEqual(stmt["Action"], ["SQS:SendMessage", "SQS:ReceiveMessage"])
        self.assertEqual(out["purge_again"], ["AWS.SimpleQueueService.PurgeQueueInProgress", 403, "Sender"])
        self.assertEqual(out["dlq_sources"], [f"{base}/qp-src"])
        self.assertIsNone(out["after_max_receives"])
        self.assertEqual(out["dlq_body"], "poison")
        self.assertTrue(out["fifo_seqs_sorted"])
        self.assertEqual(out["fifo_first"], ["f0"])
        self.assertIsNone(out["fifo_locked"])
        self.assertEqual(out["fifo_missing_group"], ["MissingParameter", 400, "Sender"])
        self.assertEqual(out["long_poll"][0], "wake")
        self.assertLess(out["long_poll"][1], 0.25)
        self.assertEqual(out["deleted"], ["AWS.SimpleQueueService.NonExistentQueue", 400, "Sender"])


class SqsRawQueryTest(fh.FogbankTestCase):
    """Hand-signed Query requests: the shapes on the wire, and what old SDKs lack."""

    def setUp(self):
        self.server.reset()

    def call(self, action, params=None, *, path="/", method="POST", secret=fh.DEFAULT_SECRET, extra_headers=None):
        form = {"Action": action, "Version": "2012-11-05", **(params or {})}
        body = urllib.parse.urlencode(form).encode()
        host = f"{self.server.host}:{self.server.port}"
        import http.client
        if method == "GET":
            query = body.decode()
            headers = fh.sigv4_headers("GET", host, path, query, dict(extra_headers or {}), b"",
                                       secret=secret, service="sqs")
            target, payload = f"{path}?{query}", None
        else:
            headers = fh.sigv4_headers("POST", host, path, None, {"Content-Type": fh.FORM, **(extra_headers or {})},
                                       body, secret=secret, service="sqs")
            target, payload = path, body
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            conn.request(method, target, body=payload, headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def test_response_shapes(self):
        status, headers, body = self.call("CreateQueue", {"QueueName": "raw", "Attribute.1.Name": "DelaySeconds",
                                                          "Attribute.1.Value": "0", "Tag.1.Key": "k", "Tag.1.Value": "v"})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "text/xml")
        root = ET.fromstring(body)
        self.assertEqual(root.tag, f"{{{XMLNS}}}CreateQueueResponse")
        url = root.find(f"{{{XMLNS}}}CreateQueueResult/{{{XMLNS}}}QueueUrl").text
        self.assertEqual(url, f"{self.server.http_url}/000000000000/raw")
        self.assertEqual(root.find(f"{{{XMLNS}}}ResponseMetadata/{{{XMLNS}}}RequestId").text, headers["x-amzn-requestid"])
        status, _, body = self.call("SendMessage", {"QueueUrl": url, "MessageBody": "raw body",
                                                    "MessageAttribute.1.Name": "a",
                                                    "MessageAttribute.1.Value.DataType": "String",
                                                    "MessageAttribute.1.Value.StringValue": "x"})
        self.assertEqual(status, 200, body)
        self.assertEqual(fh.xml_find(body, "MD5OfMessageBody"), body_md5("raw body"))
        status, _, body = self.call("ReceiveMessage", {"QueueUrl": url, "AttributeName.1": "All",
                                                       "MessageAttributeName.1": "All"})
        msg = ET.fromstring(body).find(f"{{{XMLNS}}}ReceiveMessageResult/{{{XMLNS}}}Message")
        self.assertEqual(msg.find(f"{{{XMLNS}}}Body").text, "raw body")
        names = [a.find(f"{{{XMLNS}}}Name").text for a in msg.findall(f"{{{XMLNS}}}Attribute")]
        self.assertIn("SentTimestamp", names)
        ma = msg.find(f"{{{XMLNS}}}MessageAttribute")
        self.assertEqual(ma.find(f"{{{XMLNS}}}Name").text, "a")
        self.assertEqual(ma.find(f"{{{XMLNS}}}Value/{{{XMLNS}}}StringValue").text, "x")
        # Operations without output have no Result element.
        handle = msg.find(f"{{{XMLNS}}}ReceiptHandle").text
        status, _, body = self.call("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": handle})
        root = ET.fromstring(body)
        self.assertEqual(root.tag, f"{{{XMLNS}}}DeleteMessageResponse")
        self.assertEqual([fh.strip_ns(c.tag) for c in root], ["ResponseMetadata"])

    def test_legacy_queue_url_path_and_get(self):
        self.call("CreateQueue", {"QueueName": "legacy"})
        # Old clients post to the queue URL itself, without a QueueUrl parameter.
        status, _, body = self.call("SendMessage", {"MessageBody": "via path"}, path="/000000000000/legacy")
        self.assertEqual(status, 200, body)
        status, _, body = self.call("GetQueueAttributes", {"AttributeName.1": "ApproximateNumberOfMessages"},
                                    path="/000000000000/legacy", method="GET")
        self.assertEqual(status, 200, body)
        self.assertEqual(fh.xml_find(body, "Value"), "1")

    def test_errors_are_query_xml(self):
        status, headers, body = self.call("GetQueueUrl", {"QueueName": "absent"})
        self.assertEqual(status, 400)
        self.assertEqual(headers["content-type"], "text/xml")
        self.assertNotIn("x-amzn-query-error", headers)
        code, message, rid = fh.parse_error(body)
        self.assertEqual(code, "AWS.SimpleQueueService.NonExistentQueue")
        self.assertEqual(message, "The specified queue does not exist.")
        self.assertEqual(rid, headers["x-amzn-requestid"])
        self.assertEqual(fh.xml_find(body, "Type"), "Sender")
        status, _, body = self.call("NoSuchAction")
        self.assertEqual(status, 400)
        self.assertEqual(fh.parse_error(body)[0], "InvalidAction")
        # A Query client's auth failure is a Query error, not a JSON one.
        status, headers, body = self.call("ListQueues", secret="wrong")
        self.assertEqual(status, 403, body)
        self.assertTrue(headers["content-type"].startswith("text/xml"))
        self.assertEqual(fh.parse_error(body)[0], "SignatureDoesNotMatch")
        status, _, body = self.call("ReceiveMessage", {"QueueUrl": "x", "MaxNumberOfMessages": "ten"})
        self.assertEqual(status, 400)
        self.assertEqual(fh.parse_error(body)[0], "InvalidParameterValue")

    def test_message_move_tasks(self):
        dlq_url = fh.xml_find(self.call("CreateQueue", {"QueueName": "mdlq"})[2], "QueueUrl")
        dlq_arn = "arn:aws:sqs:us-east-1:000000000000:mdlq"
        src_url = fh.xml_find(self.call("CreateQueue", {
            "QueueName": "msrc", "Attribute.1.Name": "RedrivePolicy",
            "Attribute.1.Value": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})[2], "QueueUrl")
        self.call("SendMessage", {"QueueUrl": src_url, "MessageBody": "m"})
        self.call("ReceiveMessage", {"QueueUrl": src_url, "VisibilityTimeout": "0"})
        self.call("ReceiveMessage", {"QueueUrl": src_url})  # moves it to the DLQ
        status, _, body = self.call("StartMessageMoveTask", {"SourceArn": dlq_arn})
        self.assertEqual(status, 200, body)
        self.assertTrue(fh.xml_find(body, "TaskHandle"))
        status, _, body = self.call("ListMessageMoveTasks", {"SourceArn": dlq_arn})
        self.assertEqual(status, 200, body)
        self.assertEqual(fh.xml_find(body, "Status"), "COMPLETED")
        self.assertEqual(fh.xml_find(body, "ApproximateNumberOfMessagesMoved"), "1")
        status, _, body = self.call("CancelMessageMoveTask", {"TaskHandle": "nope"})
        self.assertEqual(status, 400)
        self.assertEqual(fh.parse_error(body)[0], "ResourceNotFoundException")
        status, _, body = self.call("ReceiveMessage", {"QueueUrl": src_url})
        self.assertEqual(fh.xml_find(body, "Body"), "m")
        self.assertIsNone(fh.xml_find(self.call("ReceiveMessage", {"QueueUrl": dlq_url})[2], "Body"))

    def test_long_poll_is_answered_on_shutdown(self):
        # Graceful shutdown must not wait out a 20-second poll: it answers it (empty) at once.
        server = fh.FogbankServer()
        try:
            server.start()
            saved, self.server = self.server, server
            self.call("CreateQueue", {"QueueName": "shut"})
            result = {}

            def poll():
                result["r"] = self.call("ReceiveMessage", {"QueueUrl": f"{server.http_url}/000000000000/shut",
                                                           "WaitTimeSeconds": "20"})

            t = threading.Thread(target=poll)
            t.start()
            time.sleep(0.5)
            start = time.monotonic()
            self.assertEqual(server.stop(), 0)
            t.join(10)
            self.assertLess(time.monotonic() - start, 5)
            status, _, body = result["r"]
            self.assertEqual(status, 200, body)
            self.assertIsNone(fh.xml_find(body, "Message"))
        finally:
            self.server = saved
            server.close()


if __name__ == "__main__":
    fh.main()
