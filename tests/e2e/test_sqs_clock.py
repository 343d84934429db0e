#!/usr/bin/env python3
"""SQS on a virtual clock (fogbank --clock virtual): visibility timeouts, delays, retention and
long-poll deadlines pass when the test advances the clock through /_fogbank/clock, never by
sleeping; over JSON (boto3) and the Query protocol (Debian's botocore speaks it)."""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402


class SqsVirtualClockTest(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        self.sqs = self.server.client("sqs")

    def advance(self, seconds):
        status, body, _ = self.server.admin("/_fogbank/clock", "POST", {"advance_seconds": seconds})
        self.assertEqual(status, 200, body)
        return body

    def queue(self, name, **attributes):
        attrs = {k: str(v) for k, v in attributes.items()}
        return self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]

    def test_visibility_timeout_passes_with_the_clock(self):
        url = self.queue("vis", VisibilityTimeout=30)
        self.sqs.send_message(QueueUrl=url, MessageBody="m")
        first = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        self.advance(29)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        self.advance(1)
        again = self.sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
        self.assertEqual(again["MessageId"], first["MessageId"])
        self.assertEqual(again["Attributes"]["ApproximateReceiveCount"], "2")

    def test_delay_passes_with_the_clock(self):
        url = self.queue("delay", DelaySeconds=900)
        self.sqs.send_message(QueueUrl=url, MessageBody="later")
        self.sqs.send_message(QueueUrl=url, MessageBody="later too", DelaySeconds=5)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        self.advance(5)
        got = self.sqs.receive_message(QueueUrl=url)["Messages"]
        self.assertEqual([m["Body"] for m in got], ["later too"])
        self.advance(895)
        self.assertEqual(self.sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"], "later")

    def test_retention_expires_messages(self):
        url = self.queue("retention", MessageRetentionPeriod=60)
        self.sqs.send_message(QueueUrl=url, MessageBody="old")
        self.advance(61)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))

    def test_long_poll_answers_when_the_clock_reaches_its_deadline(self):
        url = self.queue("lp-deadline")
        result = {}

        def receive():
            client = self.server.client("sqs")
            result["r"] = client.receive_message(QueueUrl=url, WaitTimeSeconds=20)
            result["t"] = time.monotonic()

        t = threading.Thread(target=receive)
        t.start()
        # The poll is parked once the clock's advance is the only thing that can answer it: retry
        # the advance until the receiver returns (a real 20 s would fail the join below).
        start = time.monotonic()
        while t.is_alive() and time.monotonic() - start < 10:
            self.advance(20)
            t.join(0.2)
        self.assertFalse(t.is_alive())
        self.assertNotIn("Messages", result["r"])

    def test_delayed_message_wakes_a_long_poll_when_the_clock_moves(self):
        url = self.queue("lp-delay")
        self.sqs.send_message(QueueUrl=url, MessageBody="soon", DelaySeconds=10)
        result = {}

        def receive():
            client = self.server.client("sqs")
            result["r"] = client.receive_message(QueueUrl=url, WaitTimeSeconds=20)

        t = threading.Thread(target=receive)
        t.start()
        start = time.monotonic()
        while t.is_alive() and time.monotonic() - start < 10:
            self.advance(10)  # the first advance makes the message visible
            t.join(0.2)
        self.assertFalse(t.is_alive())
        self.assertEqual(result["r"]["Messages"][0]["Body"], "soon")

    def test_query_protocol_follows_the_same_clock(self):
        url = self.queue("query-vis", VisibilityTimeout=40)
        body, status = self.query("SendMessage", QueueUrl=url, MessageBody="q")
        self.assertEqual(status, 200, body)
        body, _ = self.query("ReceiveMessage", QueueUrl=url)
        self.assertIsNotNone(fh.xml_find(body, "ReceiptHandle"), body)
        body, _ = self.query("ReceiveMessage", QueueUrl=url)
        self.assertIsNone(fh.xml_find(body, "ReceiptHandle"), body)
        self.advance(40)
        body, _ = self.query("ReceiveMessage", QueueUrl=url)
        self.assertIsNotNone(fh.xml_find(body, "ReceiptHandle"), body)

    def query(self, action, **params):
        """A signed Query-protocol request (form body), as legacy SQS clients send."""
        import urllib.parse
        import http.client
        form = {"Action": action, "Version": "2012-11-05", **params}
        body = urllib.parse.urlencode(form).encode()
        host = f"{self.server.host}:{self.server.port}"
        headers = fh.sigv4_headers("POST", host, "/", body=body, service="sqs",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            conn.request("POST", "/", body=body, headers=headers)
            resp = conn.getresponse()
            return resp.read(), resp.status
        finally:
            conn.close()


if __name__ == "__main__":
    fh.main()
