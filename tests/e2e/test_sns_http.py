#!/usr/bin/env python3
"""SNS HTTP/HTTPS subscriptions end to end: a local HTTP endpoint (http.server on 127.0.0.1, in a
thread) receives the SubscriptionConfirmation, follows its SubscribeURL, receives notifications
and verifies their signatures with the certificate from SigningCertURL, checks AWS's headers,
answers 500 for a while and sees the retries at the delivery policy's times (fogbank runs with
--clock virtual; the test moves the clock instead of sleeping), exhausts them into a dead-letter
queue, survives a kill -9 between publish and delivery; raw delivery; the recorded-deliveries,
opt-out and pending-subscriptions admin endpoints."""

import collections
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from test_sns import http_get, verify_signature  # noqa: E402

USER_AGENT = "Amazon Simple Notification Service Agent"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Endpoint:
    """An HTTP endpoint that records every request and answers with the next status of
    `statuses` (200 once they run out). stop() closes its port; start() opens it again."""

    def __init__(self):
        self.requests = []
        self.statuses = collections.deque()
        self.cond = threading.Condition()
        self.port = None
        self.httpd = None
        self.thread = None
        self.start()

    def start(self):
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with endpoint.cond:
                    status = endpoint.statuses.popleft() if endpoint.statuses else 200
                    endpoint.requests.append({
                        "method": self.command, "path": self.path, "body": body.decode(),
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "raw_headers": list(self.headers.keys()), "status": status})
                    endpoint.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, count, timeout=10.0):
        """The first `count` requests, once they have arrived."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {len(self.requests)} of {count} requests arrived: "
                                         f"{[r['headers'].get('x-amz-sns-message-type') for r in self.requests]}")
                self.cond.wait(left)
            return list(self.requests[:count])

    def quiet(self, count, seconds=0.4):
        """Asserts that no request beyond the first `count` arrives within `seconds`."""
        time.sleep(seconds)
        with self.cond:
            if len(self.requests) != count:
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")


class SnsHttpTestBase(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        self.server.reset()
        self.sns = self.server.client("sns")
        self.sqs = self.server.client("sqs")
        self.endpoint = Endpoint()
        self.addCleanup(self.endpoint.stop)

    def advance(self, seconds):
        self.server.advance_clock(seconds)

    def deliveries(self, **filters):
        query = urllib.parse.urlencode(filters)
        status, body, _ = self.server.admin("/_fogbank/sns/deliveries" + ("?" + query if query else ""))
        self.assertEqual(status, 200, body)
        return body["deliveries"]

    def wait_deliveries(self, count, timeout=10.0, **filters):
        deadline = time.monotonic() + timeout
        while True:
            got = self.deliveries(**filters)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(got)} of {count} deliveries recorded: {got}")
            time.sleep(0.02)

    def attempts(self, sub, count):
        """The Notification attempts recorded for `sub`, once there are `count`: the next retry is
        scheduled by then, so moving the clock cannot overtake it."""
        deadline = time.monotonic() + 10
        while True:
            got = [d for d in self.deliveries(subscription=sub) if d["type"] == "Notification"]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(got)} of {count} attempts recorded: {got}")
            time.sleep(0.02)

    def subscribe(self, topic, raw=False, path="/hook", **attributes):
        """Subscribes the endpoint and confirms it through the SubscribeURL it was sent."""
        before = len(self.endpoint.requests)
        if raw:
            attributes["RawMessageDelivery"] = "true"
        self.assertEqual(self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=self.endpoint.url(path),
                                            Attributes=attributes)["SubscriptionArn"], "pending confirmation")
        confirmation = json.loads(self.endpoint.wait(before + 1)[before]["body"])
        status, _, body = http_get(confirmation["SubscribeURL"])
        self.assertEqual(status, 200, body)
        return fh.xml_find(body, "SubscriptionArn")

    def queue(self, name):
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn


class SnsHttpDeliveryTest(SnsHttpTestBase):
    def test_confirmation_and_notification_are_signed_with_aws_headers(self):
        topic = self.sns.create_topic(Name="web")["TopicArn"]
        self.assertEqual(self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=self.endpoint.url("/hook?x=1"))
                         ["SubscriptionArn"], "pending confirmation")
        request = self.endpoint.wait(1)[0]
        confirmation = json.loads(request["body"])
        headers = request["headers"]
        self.assertEqual((request["method"], request["path"]), ("POST", "/hook?x=1"))
        self.assertEqual(headers["x-amz-sns-message-type"], "SubscriptionConfirmation")
        self.assertEqual(headers["x-amz-sns-message-id"], confirmation["MessageId"])
        self.assertEqual(headers["x-amz-sns-topic-arn"], topic)
        self.assertNotIn("x-amz-sns-subscription-arn", headers)
        self.assertEqual(headers["content-type"], "text/plain; charset=UTF-8")
        self.assertEqual(headers["user-agent"], USER_AGENT)
        self.assertEqual(confirmation["Type"], "SubscriptionConfirmation")
        self.assertEqual(confirmation["TopicArn"], topic)
        pem = http_get(confirmation["SigningCertURL"])[2]
        self.assertTrue(verify_signature(confirmation, pem))

        # The pending subscription is listed with the URL that confirms it.
        status, listed, _ = self.server.admin("/_fogbank/sns/pending-subscriptions")
        self.assertEqual(status, 200)
        [pending] = listed["subscriptions"]
        self.assertEqual(pending["SubscribeURL"], confirmation["SubscribeURL"])
        self.assertEqual(pending["Endpoint"], self.endpoint.url("/hook?x=1"))
        status, _, body = http_get(confirmation["SubscribeURL"])
        self.assertEqual(status, 200)
        sub = fh.xml_find(body, "SubscriptionArn")
        self.assertRegex(sub, "^" + topic + ":" + UUID + "$")
        self.assertEqual(self.server.admin("/_fogbank/sns/pending-subscriptions")[1]["subscriptions"], [])

        published = self.sns.publish(TopicArn=topic, Message="hello\nworld", Subject="Greeting",
                                     MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
        request = self.endpoint.wait(2)[1]
        note = json.loads(request["body"])
        headers = request["headers"]
        self.assertEqual(headers["x-amz-sns-message-type"], "Notification")
        self.assertEqual(headers["x-amz-sns-message-id"], published["MessageId"])
        self.assertEqual(headers["x-amz-sns-topic-arn"], topic)
        self.assertEqual(headers["x-amz-sns-subscription-arn"], sub)
        self.assertEqual(headers["content-type"], "text/plain; charset=UTF-8")
        self.assertEqual(headers["user-agent"], USER_AGENT)
        self.assertNotIn("x-amz-sns-rawdelivery", headers)
        self.assertEqual((note["Type"], note["MessageId"], note["Message"], note["Subject"]),
                         ("Notification", published["MessageId"], "hello\nworld", "Greeting"))
        self.assertEqual(note["MessageAttributes"], {"k": {"Type": "String", "Value": "v"}})
        self.assertEqual(note["UnsubscribeURL"], self.server.http_url + "/?Action=Unsubscribe&SubscriptionArn=" + sub)
        self.assertTrue(verify_signature(note, http_get(note["SigningCertURL"])[2]))

        recorded = self.wait_deliveries(2, subscription=sub)
        self.assertEqual([(d["type"], d["status"], d["attempt"], d["httpStatus"]) for d in recorded],
                         [("SubscriptionConfirmation", "delivered", 1, 200), ("Notification", "delivered", 1, 200)])
        self.assertEqual(recorded[1]["message"], request["body"])

        # Unsubscribing sends an UnsubscribeConfirmation, with the subscription's ARN.
        self.sns.unsubscribe(SubscriptionArn=sub)
        request = self.endpoint.wait(3)[2]
        self.assertEqual(request["headers"]["x-amz-sns-message-type"], "UnsubscribeConfirmation")
        self.assertEqual(request["headers"]["x-amz-sns-subscription-arn"], sub)
        gone = json.loads(request["body"])
        self.assertEqual(gone["Type"], "UnsubscribeConfirmation")
        self.assertTrue(verify_signature(gone, pem))

    def test_retries_follow_the_delivery_policy(self):
        topic = self.sns.create_topic(Name="flaky")["TopicArn"]
        policy = {"healthyRetryPolicy": {"minDelayTarget": 10, "maxDelayTarget": 30, "numRetries": 3,
                                         "numNoDelayRetries": 1}}
        sub = self.subscribe(topic, DeliveryPolicy=json.dumps(policy))
        effective = json.loads(self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
                               ["EffectiveDeliveryPolicy"])
        self.assertEqual(effective["healthyRetryPolicy"]["numNoDelayRetries"], 1)
        self.endpoint.statuses.extend([500, 500, 500])
        published = self.sns.publish(TopicArn=topic, Message="try again")
        # The first attempt and the immediate retry, then 10 s (the minimum), then 30 (the maximum).
        self.attempts(sub, 2)
        self.endpoint.quiet(3)
        self.advance(9.9)
        self.endpoint.quiet(3)
        self.advance(0.1)
        self.attempts(sub, 3)
        self.advance(29.9)
        self.endpoint.quiet(4)
        self.advance(0.1)
        attempts = self.endpoint.wait(5)[1:]
        self.assertEqual([a["status"] for a in attempts], [500, 500, 500, 200])
        self.assertEqual({a["headers"]["x-amz-sns-message-id"] for a in attempts}, {published["MessageId"]})
        records = self.attempts(sub, 4)
        self.assertEqual([(d["attempt"], d["status"], d["httpStatus"]) for d in records],
                         [(1, "retrying", 500), (2, "retrying", 500), (3, "retrying", 500), (4, "delivered", 200)])
        # Each retry started when the one before said it would.
        for before, after in zip(records, records[1:]):
            self.assertEqual(before["nextAttemptAt"], after["timestamp"])
        self.endpoint.quiet(5)

    def test_exhausted_retries_go_to_the_dead_letter_queue(self):
        topic = self.sns.create_topic(Name="doomed")["TopicArn"]
        dlq_url, dlq_arn = self.queue("http-dlq")
        policy = {"healthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 5, "numRetries": 1}}
        sub = self.subscribe(topic, DeliveryPolicy=json.dumps(policy),
                             RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}))
        self.endpoint.statuses.extend([503, 503])
        published = self.sns.publish(TopicArn=topic, Message="undeliverable")
        self.attempts(sub, 1)
        self.advance(5)
        self.endpoint.wait(3)
        got = self.sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"], WaitTimeSeconds=5)
        [message] = got["Messages"]
        body = json.loads(message["Body"])
        self.assertEqual((body["Type"], body["MessageId"], body["Message"]),
                         ("Notification", published["MessageId"], "undeliverable"))
        attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        self.assertEqual(attributes["ErrorCode"], "503")
        self.assertIn("503", attributes["ErrorMessage"])
        self.assertRegex(attributes["RequestID"], "^" + UUID + "$")
        [dead] = [d for d in self.wait_deliveries(3, subscription=sub) if d["status"] == "dead-lettered"]
        self.assertEqual((dead["attempt"], dead["deadLetterQueue"]), (2, dlq_arn))
        outbox = self.server.admin("/_fogbank/sns/deliveries")[1]["outbox"]
        self.assertEqual((outbox["pending"], outbox["deadLettered"]), (0, 1))

    def test_client_errors_are_not_retried(self):
        topic = self.sns.create_topic(Name="gone")["TopicArn"]
        sub = self.subscribe(topic)
        self.endpoint.statuses.append(410)
        self.sns.publish(TopicArn=topic, Message="x")
        self.endpoint.wait(2)
        self.advance(3600)
        self.endpoint.quiet(2)
        failed = [d for d in self.wait_deliveries(2, subscription=sub) if d["type"] == "Notification"]
        self.assertEqual([(d["status"], d["httpStatus"]) for d in failed], [("failed", 410)])

    def test_raw_delivery_posts_the_bare_message(self):
        topic = self.sns.create_topic(Name="raw")["TopicArn"]
        sub = self.subscribe(topic, raw=True)
        self.sns.publish(TopicArn=topic, Message='{"order": 7}',
                         MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
        request = self.endpoint.wait(2)[1]
        self.assertEqual(request["body"], '{"order": 7}')
        self.assertEqual(request["headers"]["x-amz-sns-rawdelivery"], "true")
        self.assertEqual(request["headers"]["x-amz-sns-subscription-arn"], sub)
        self.assertEqual(request["headers"]["content-type"], "text/plain; charset=UTF-8")

    def test_delivery_policy_errors(self):
        topic = self.sns.create_topic(Name="policies")["TopicArn"]
        bad = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 10, "maxDelayTarget": 20, "numRetries": 300}}}
        with self.assertRaises(self.sns.exceptions.InvalidParameterException) as ctx:
            self.sns.create_topic(Name="bad-policy", Attributes={"DeliveryPolicy": json.dumps(bad)})
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "Invalid parameter: Attributes Reason: DeliveryPolicy: "
                         "http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100")
        with self.assertRaises(self.sns.exceptions.InvalidParameterException) as ctx:
            self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=self.endpoint.url(), Attributes={
                "DeliveryPolicy": json.dumps({"healthyRetryPolicy": {"minDelayTarget": 0, "maxDelayTarget": 0,
                                                                     "numRetries": 0}})})
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "Invalid parameter: Attributes Reason: DeliveryPolicy: "
                         "healthyRetryPolicy.minDelayTarget must be greater than or equal to 1")


class SnsAdminEndpointsTest(SnsHttpTestBase):
    PHONE = "+15555550123"

    def test_deliveries_are_listed_and_filtered(self):
        topic = self.sns.create_topic(Name="alerts")["TopicArn"]
        other = self.sns.create_topic(Name="other")["TopicArn"]
        sms = self.sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=self.PHONE,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
        lam = self.sns.subscribe(TopicArn=other, Protocol="lambda",
                                 Endpoint="arn:aws:lambda:us-east-1:000000000000:function:f",
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.sns.publish(TopicArn=topic, Message="site down", Subject="Alert")
        self.sns.publish(TopicArn=other, Message="to lambda")
        self.sns.publish(PhoneNumber="+15555550100", Message="direct text",
                         MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String",
                                                                    "StringValue": "Transactional"}})
        everything = self.deliveries()
        self.assertEqual([d["id"] for d in everything], sorted(d["id"] for d in everything))  # newest last
        self.assertEqual([(d["protocol"], d["type"], d["status"]) for d in everything], [
            ("email", "SubscriptionConfirmation", "recorded"), ("sms", "Notification", "recorded"),
            ("lambda", "Notification", "recorded"), ("sms", "Notification", "recorded")])
        [sent] = self.deliveries(subscription=sms)
        self.assertEqual((sent["message"], sent["phoneNumber"], sent["topicArn"]), ("site down", self.PHONE, topic))
        [direct] = self.deliveries(phone="+15555550100")
        self.assertEqual((direct["message"], direct["attributes"]), ("direct text",
                                                                     {"AWS.SNS.SMS.SMSType": "Transactional"}))
        self.assertNotIn("topicArn", direct)
        self.assertEqual(len(self.deliveries(protocol="sms")), 2)
        self.assertEqual(len(self.deliveries(topic="alerts")), 2)
        self.assertEqual(len(self.deliveries(topic=other)), 1)
        [mail] = self.deliveries(endpoint="oncall@example.com")
        self.assertEqual(json.loads(mail["message"])["Type"], "SubscriptionConfirmation")
        [event] = self.deliveries(subscription=lam)
        self.assertEqual(json.loads(event["message"])["Records"][0]["Sns"]["Message"], "to lambda")

        status, body, _ = self.server.admin("/_fogbank/sns/deliveries?color=red")
        self.assertEqual(status, 400, body)
        status, body, headers = self.server.admin("/_fogbank/sns/deliveries", "POST", {})
        self.assertEqual((status, headers.get("allow")), (405, "GET, DELETE"), body)
        self.assertEqual(self.server.admin("/_fogbank/sns/nope")[0], 404)
        self.assertEqual(self.server.admin("/_fogbank/sns/deliveries", "DELETE")[0], 200)
        self.assertEqual(self.deliveries(), [])

    def test_opt_out_endpoint_is_a_stop_reply(self):
        topic = self.sns.create_topic(Name="pager")["TopicArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=self.PHONE)
        self.assertFalse(self.sns.check_if_phone_number_is_opted_out(phoneNumber=self.PHONE)["isOptedOut"])
        status, body, _ = self.server.admin("/_fogbank/sns/opt-out", "POST", {"phoneNumber": self.PHONE})
        self.assertEqual(status, 200, body)
        self.assertIn("000000000000", body["accounts"])
        self.assertTrue(self.sns.check_if_phone_number_is_opted_out(phoneNumber=self.PHONE)["isOptedOut"])
        self.assertEqual(self.sns.list_phone_numbers_opted_out()["phoneNumbers"], [self.PHONE])
        self.sns.publish(TopicArn=topic, Message="wake up")
        [refused] = self.deliveries(phone=self.PHONE)
        self.assertEqual((refused["status"], refused["error"]), ("refused", "Phone is currently opted out"))
        self.sns.opt_in_phone_number(phoneNumber=self.PHONE)
        self.assertFalse(self.sns.check_if_phone_number_is_opted_out(phoneNumber=self.PHONE)["isOptedOut"])
        for bad in ({}, {"phoneNumber": "555"}, {"phoneNumber": self.PHONE, "accountId": "x"}):
            self.assertEqual(self.server.admin("/_fogbank/sns/opt-out", "POST", bad)[0], 400, bad)
        status, _, headers = self.server.admin("/_fogbank/sns/opt-out")
        self.assertEqual((status, headers.get("allow")), (405, "POST"))

    def sandbox_numbers(self, sns=None):
        return (sns or self.sns).list_sms_sandbox_phone_numbers()["PhoneNumbers"]

    def sent_code(self, phone):
        sent = [d for d in self.deliveries(phone=phone) if d["type"] == "SandboxVerification"]
        self.assertTrue(sent, "no verification SMS recorded")
        return sent[-1]["attributes"]["OneTimePassword"]

    def test_sms_sandbox_destination_numbers(self):
        other = "+15555550199"
        self.assertEqual(self.sandbox_numbers(), [])
        self.sns.create_sms_sandbox_phone_number(PhoneNumber=self.PHONE, LanguageCode="en-US")
        self.sns.create_sms_sandbox_phone_number(PhoneNumber=other)
        self.assertEqual(self.sandbox_numbers(), [{"PhoneNumber": self.PHONE, "Status": "Pending"},
                                                  {"PhoneNumber": other, "Status": "Pending"}])
        code = self.sent_code(self.PHONE)
        self.assertRegex(code, r"^[0-9]{6}$")
        wrong = "000000" if code != "000000" else "111111"
        with self.assertRaises(ClientError) as ctx:
            self.sns.verify_sms_sandbox_phone_number(PhoneNumber=self.PHONE, OneTimePassword=wrong)
        err = ctx.exception.response
        self.assertEqual((err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]),
                         ("VerificationException", 400))
        self.sns.verify_sms_sandbox_phone_number(PhoneNumber=self.PHONE, OneTimePassword=code)
        self.assertEqual(self.sandbox_numbers()[0], {"PhoneNumber": self.PHONE, "Status": "Verified"})
        # Pages of one, then the state survives a restart.
        first = self.sns.list_sms_sandbox_phone_numbers(MaxResults=1)
        self.assertEqual(len(first["PhoneNumbers"]), 1)
        rest = self.sns.list_sms_sandbox_phone_numbers(MaxResults=1, NextToken=first["NextToken"])
        self.assertEqual(rest["PhoneNumbers"], [{"PhoneNumber": other, "Status": "Pending"}])
        self.assertNotIn("NextToken", rest)
        self.server.restart()
        sns = self.server.client("sns")
        self.assertEqual(self.sandbox_numbers(sns), [{"PhoneNumber": self.PHONE, "Status": "Verified"},
                                                     {"PhoneNumber": other, "Status": "Pending"}])
        sns.delete_sms_sandbox_phone_number(PhoneNumber=other)
        self.assertEqual(self.sandbox_numbers(sns), [{"PhoneNumber": self.PHONE, "Status": "Verified"}])
        # Numbers are per region.
        self.assertEqual(self.sandbox_numbers(self.server.client("sns", region="eu-west-1")), [])

    def test_sms_sandbox_errors(self):
        def error(fn, **kwargs):
            with self.assertRaises(ClientError) as ctx:
                fn(**kwargs)
            e = ctx.exception.response
            return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]

        self.assertEqual(error(self.sns.delete_sms_sandbox_phone_number, PhoneNumber=self.PHONE),
                         ("ResourceNotFound", 404))
        self.assertEqual(error(self.sns.verify_sms_sandbox_phone_number, PhoneNumber=self.PHONE,
                               OneTimePassword="123456"), ("ResourceNotFound", 404))
        self.assertEqual(error(self.sns.create_sms_sandbox_phone_number, PhoneNumber="5551234"),
                         ("InvalidParameter", 400))
        self.assertEqual(error(self.sns.create_sms_sandbox_phone_number, PhoneNumber=self.PHONE,
                               LanguageCode="xx-XX"), ("InvalidParameter", 400))
        self.sns.create_sms_sandbox_phone_number(PhoneNumber=self.PHONE)
        self.assertEqual(error(self.sns.verify_sms_sandbox_phone_number, PhoneNumber=self.PHONE,
                               OneTimePassword="12ab56"), ("InvalidParameter", 400))
        self.assertEqual(error(self.sns.list_sms_sandbox_phone_numbers, NextToken="!!!"), ("InvalidParameter", 400))
        # A number that replied STOP cannot be added.
        opted = "+15555550177"
        self.assertEqual(self.server.admin("/_fogbank/sns/opt-out", "POST", {"phoneNumber": opted})[0], 200)
        self.assertEqual(error(self.sns.create_sms_sandbox_phone_number, PhoneNumber=opted), ("OptedOut", 400))


class SnsHttpRestartTest(SnsHttpTestBase):
    def test_a_pending_delivery_survives_kill_9(self):
        topic = self.sns.create_topic(Name="durable")["TopicArn"]
        sub = self.subscribe(topic)
        self.endpoint.stop()  # the endpoint goes down: connections are refused
        published = self.sns.publish(TopicArn=topic, Message="survive")
        [first] = self.attempts(sub, 1)
        self.assertEqual((first["status"], first["httpStatus"]), ("retrying", 0))
        due = self.server.clock()["now_ms"] + 20000
        self.assertEqual(self.server.kill9(), -9)
        self.server.start()
        self.endpoint.start()  # same port
        self.sns = self.server.client("sns")
        self.advance(max(0, (due - self.server.clock()["now_ms"]) / 1000 - 1))
        self.endpoint.quiet(1)
        self.advance(1.5)
        request = self.endpoint.wait(2)[1]
        self.assertEqual(request["headers"]["x-amz-sns-message-id"], published["MessageId"])
        self.assertEqual(json.loads(request["body"])["Message"], "survive")
        self.advance(300)
        self.endpoint.quiet(2)  # delivered once, and removed from the outbox


if __name__ == "__main__":
    fh.main()
