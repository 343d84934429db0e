#!/usr/bin/env python3
"""SNS end to end through boto3 (Query protocol): every implemented operation and its AWS errors,
delivery to SQS (envelope fields, order and layout, raw delivery, FIFO ordering, deduplication and
sequence numbers, filter policies), signatures verified with the certificate fetched from
SigningCertURL, unsigned SubscribeURL/UnsubscribeURL, account isolation and persistence across a
restart. Expected values come from AWS's documentation and responses recorded against AWS."""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SNS_SENDER_ID = "AIDAIT2UOQQY3AUEKVGXU"
STANDARD_ENVELOPE_KEYS = ["Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion",
                          "Signature", "SigningCertURL", "UnsubscribeURL"]
DEFAULT_EFFECTIVE_DELIVERY_POLICY = (
    '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,'
    '"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},'
    '"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}')


def default_policy(topic_arn, account):
    return ('{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID",'
            '"Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes",'
            '"SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe",'
            '"SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"' + topic_arn + '","Condition":'
            '{"StringEquals":{"AWS:SourceOwner":"' + account + '"}}}]}')


def ordered_keys(body):
    """Top-level keys of a JSON object in document order."""
    return [k for k, _ in json.loads(body, object_pairs_hook=lambda pairs: pairs)]


def string_to_sign(message):
    if message["Type"] == "Notification":
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{f}\n{message[f]}\n" for f in fields if f in message)


def verify_signature(message, pem):
    """True when the message's Signature verifies with the certificate (SHA1 for version 1,
    SHA256 for 2), with `cryptography` when present, else the openssl command."""
    data = string_to_sign(message).encode()
    signature = base64.b64decode(message["Signature"])
    sha = "sha1" if message["SignatureVersion"] == "1" else "sha256"
    try:
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError:
        with tempfile.TemporaryDirectory() as d:
            paths = {n: os.path.join(d, n) for n in ("cert.pem", "key.pem", "data", "sig")}
            for name, content in (("cert.pem", pem), ("data", data), ("sig", signature)):
                with open(paths[name], "wb") as f:
                    f.write(content)
            key = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", paths["cert.pem"]],
                                 check=True, capture_output=True).stdout
            with open(paths["key.pem"], "wb") as f:
                f.write(key)
            r = subprocess.run(["openssl", "dgst", "-" + sha, "-verify", paths["key.pem"], "-signature",
                                paths["sig"], paths["data"]], capture_output=True)
            return r.returncode == 0
    cert = x509.load_pem_x509_certificate(pem)
    try:
        cert.public_key().verify(signature, data, padding.PKCS1v15(),
                                 hashes.SHA1() if sha == "sha1" else hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def http_get(url):
    """Unsigned GET (a browser opening SubscribeURL): (status, headers, body)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


class SnsTestBase(fh.FogbankTestCase):
    def setUp(self):
        self.server.reset()
        self.sns = self.server.client("sns")
        self.sqs = self.server.client("sqs")

    def error(self, fn, *args, **kwargs):
        """(Code, Message, HTTP status) of the error `fn(*args, **kwargs)` raises."""
        with self.assertRaises(ClientError) as ctx:
            fn(*args, **kwargs)
        e = ctx.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]

    def invalid(self, message, fn, *args, **kwargs):
        self.assertEqual(self.error(fn, *args, **kwargs), ("InvalidParameter", message, 400))

    def topic(self, name="t", **attributes):
        return self.sns.create_topic(Name=name, Attributes={k: str(v) for k, v in attributes.items()})["TopicArn"]

    def queue(self, name="q", **attributes):
        url = self.sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def subscribe_queue(self, topic_arn, queue_arn, **attributes):
        return self.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                                  Attributes={k: str(v) for k, v in attributes.items()})["SubscriptionArn"]

    def receive(self, url, n=10):
        return self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, AttributeNames=["All"],
                                        MessageAttributeNames=["All"]).get("Messages", [])

    def bodies(self, url):
        return [m["Body"] for m in self.receive(url)]


class SnsTopicsTest(SnsTestBase):
    def test_create_topic_and_its_attributes(self):
        arn = self.sns.create_topic(Name="orders")["TopicArn"]
        self.assertEqual(arn, "arn:aws:sns:us-east-1:000000000000:orders")
        attrs = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(attrs, {
            "DisplayName": "",
            "EffectiveDeliveryPolicy": DEFAULT_EFFECTIVE_DELIVERY_POLICY,
            "Owner": "000000000000",
            "Policy": default_policy(arn, "000000000000"),
            "SubscriptionsConfirmed": "0",
            "SubscriptionsDeleted": "0",
            "SubscriptionsPending": "0",
            "TopicArn": arn,
        })

    def test_create_topic_is_idempotent_unless_it_contradicts(self):
        arn = self.sns.create_topic(Name="same", Attributes={"DisplayName": "d"}, Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
        self.assertEqual(self.sns.create_topic(Name="same")["TopicArn"], arn)
        self.assertEqual(self.sns.create_topic(Name="same", Attributes={"DisplayName": "d"},
                                               Tags=[{"Key": "k", "Value": "v"}])["TopicArn"], arn)
        self.invalid("Invalid parameter: Attributes Reason: Topic already exists with different attributes",
                     self.sns.create_topic, Name="same", Attributes={"DisplayName": "other"})
        self.invalid("Invalid parameter: Tags Reason: Topic already exists with different tags",
                     self.sns.create_topic, Name="same", Tags=[{"Key": "k", "Value": "w"}])
        self.assertEqual(len(self.sns.list_topics()["Topics"]), 1)

    def test_topic_name_constraints(self):
        self.sns.create_topic(Name="a" * 256)
        for name, attributes in (("", {}), ("a" * 257, {}), ("test.fifo", {}), ("test", {"FifoTopic": "true"}),
                                 ("bad:name", {}), ("bad name", {}), ("bad!name", {})):
            self.invalid("Invalid parameter: Topic Name", self.sns.create_topic, Name=name, Attributes=attributes)

    def test_fifo_topic_attributes(self):
        arn = self.sns.create_topic(Name="f.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
        attrs = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(attrs["FifoTopic"], "true")
        self.assertEqual(attrs["ContentBasedDeduplication"], "false")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="ArchivePolicy",
                                      AttributeValue='{"MessageRetentionPeriod":"30"}')
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="FifoThroughputScope", AttributeValue="MessageGroup")
        attrs = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(attrs["ContentBasedDeduplication"], "true")
        self.assertEqual(attrs["ArchivePolicy"], '{"MessageRetentionPeriod":"30"}')
        self.assertEqual(attrs["FifoThroughputScope"], "MessageGroup")
        self.invalid("Invalid parameter: AttributeName", self.sns.set_topic_attributes,
                     TopicArn=arn, AttributeName="FifoTopic", AttributeValue="false")
        standard = self.topic("standard")
        self.assertNotIn("FifoTopic", self.sns.get_topic_attributes(TopicArn=standard)["Attributes"])
        self.invalid("Invalid parameter: ArchivePolicy", self.sns.set_topic_attributes,
                     TopicArn=standard, AttributeName="ArchivePolicy", AttributeValue='{"MessageRetentionPeriod":"30"}')
        self.invalid("Invalid parameter: ContentBasedDeduplication", self.sns.set_topic_attributes,
                     TopicArn=standard, AttributeName="ContentBasedDeduplication", AttributeValue="true")

    def test_set_topic_attributes(self):
        arn = self.topic("settings")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="My Topic")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="TracingConfig", AttributeValue="Active")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns")
        policy = '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":6,"numRetries":1}}}'
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=policy)
        attrs = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(attrs["DisplayName"], "My Topic")
        self.assertEqual(attrs["SignatureVersion"], "2")
        self.assertEqual(attrs["TracingConfig"], "Active")
        self.assertEqual(attrs["KmsMasterKeyId"], "alias/aws/sns")
        self.assertEqual(attrs["DeliveryPolicy"], policy)
        self.assertEqual(json.loads(attrs["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"], {
            "minDelayTarget": 5, "maxDelayTarget": 6, "numRetries": 1, "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear"})
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue="")
        attrs = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertNotIn("DeliveryPolicy", attrs)
        self.assertEqual(attrs["EffectiveDeliveryPolicy"], DEFAULT_EFFECTIVE_DELIVERY_POLICY)
        self.invalid("Invalid parameter: SignatureVersion", self.sns.set_topic_attributes,
                     TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="3")
        self.invalid("Invalid parameter: TracingConfig", self.sns.set_topic_attributes,
                     TopicArn=arn, AttributeName="TracingConfig", AttributeValue="On")
        self.invalid("Invalid parameter: Policy Error: null", self.sns.set_topic_attributes,
                     TopicArn=arn, AttributeName="Policy", AttributeValue="{not json")
        self.invalid("Invalid parameter: AttributeName", self.sns.set_topic_attributes,
                     TopicArn=arn, AttributeName="Owner", AttributeValue="x")
        custom = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"SNS:Publish"}]}'
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=custom)
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"], custom)

    def test_topic_arn_errors(self):
        self.invalid("Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1",
                     self.sns.get_topic_attributes, TopicArn="randomstring")
        self.invalid("Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 5",
                     self.sns.get_topic_attributes, TopicArn="arn:aws:sns:us-east-1:000000000000")
        self.invalid("Invalid parameter: TopicArn", self.sns.get_topic_attributes,
                     TopicArn="arn:aws:sns:eu-west-1:000000000000:t")
        self.assertEqual(self.error(self.sns.get_topic_attributes, TopicArn="arn:aws:sns:us-east-1:000000000000:nope"),
                         ("NotFound", "Topic does not exist", 404))
        self.assertEqual(self.error(self.sns.set_topic_attributes, TopicArn="arn:aws:sns:us-east-1:000000000000:nope",
                                    AttributeName="DisplayName", AttributeValue="x"),
                         ("NotFound", "Topic does not exist", 404))

    def test_delete_topic_is_idempotent_and_deletes_subscriptions(self):
        arn = self.topic("doomed")
        _, qarn = self.queue("doomed-q")
        sub = self.subscribe_queue(arn, qarn)
        self.sns.delete_topic(TopicArn=arn)
        self.sns.delete_topic(TopicArn=arn)
        self.assertEqual(self.sns.list_topics()["Topics"], [])
        self.assertEqual(self.sns.list_subscriptions()["Subscriptions"], [])
        self.assertEqual(self.error(self.sns.get_subscription_attributes, SubscriptionArn=sub),
                         ("NotFound", "Subscription does not exist", 404))
        self.invalid("Invalid parameter: TopicArn", self.sns.delete_topic, TopicArn="arn:aws:sns:eu-west-1:000000000000:t")

    def test_list_topics_pages_of_100(self):
        arns = sorted(self.topic(f"t{i:03d}") for i in range(101))
        first = self.sns.list_topics()
        self.assertEqual(len(first["Topics"]), 100)
        self.assertIn("NextToken", first)
        second = self.sns.list_topics(NextToken=first["NextToken"])
        self.assertNotIn("NextToken", second)
        self.assertEqual(sorted(t["TopicArn"] for t in first["Topics"] + second["Topics"]), arns)
        paginated = [t["TopicArn"] for page in self.sns.get_paginator("list_topics").paginate() for t in page["Topics"]]
        self.assertEqual(sorted(paginated), arns)

    def test_tags(self):
        arn = self.sns.create_topic(Name="tagged", Tags=[{"Key": "k1", "Value": "v1"}])["TopicArn"]
        self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2"}])
        self.assertEqual(self.sns.list_tags_for_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])
        self.sns.untag_resource(ResourceArn=arn, TagKeys=["k1"])
        self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2b"}])
        self.assertEqual(self.sns.list_tags_for_resource(ResourceArn=arn)["Tags"], [{"Key": "k2", "Value": "v2b"}])
        self.invalid("Invalid parameter: Duplicated keys are not allowed.", self.sns.tag_resource, ResourceArn=arn,
                     Tags=[{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}])
        self.assertEqual(self.error(self.sns.tag_resource, ResourceArn=arn,
                                    Tags=[{"Key": f"n{i}", "Value": "x"} for i in range(50)]),
                         ("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded", 400))
        self.assertEqual(self.error(self.sns.list_tags_for_resource, ResourceArn=arn + "-missing"),
                         ("ResourceNotFound", "Resource does not exist", 404))
        self.sns.delete_topic(TopicArn=arn)
        self.sns.create_topic(Name="tagged")
        self.assertEqual(self.sns.list_tags_for_resource(ResourceArn=arn)["Tags"], [])

    def test_add_and_remove_permission(self):
        arn = self.topic("shared")
        self.sns.add_permission(TopicArn=arn, Label="pub", AWSAccountId=["111111111111"], ActionName=["Publish"])
        self.sns.add_permission(TopicArn=arn, Label="two", AWSAccountId=["111111111111", "222222222222"],
                                ActionName=["Publish", "Subscribe"])
        policy = json.loads(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
        self.assertEqual(policy["Statement"][1], {"Sid": "pub", "Effect": "Allow",
                                                  "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                                                  "Action": "SNS:Publish", "Resource": arn})
        self.assertEqual(policy["Statement"][2]["Principal"],
                         {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]})
        self.assertEqual(policy["Statement"][2]["Action"], ["SNS:Publish", "SNS:Subscribe"])
        self.invalid("Invalid parameter: Statement already exists", self.sns.add_permission, TopicArn=arn,
                     Label="pub", AWSAccountId=["111111111111"], ActionName=["Publish"])
        self.invalid("Invalid parameter: Policy statement action out of service scope!", self.sns.add_permission,
                     TopicArn=arn, Label="bad", AWSAccountId=["111111111111"], ActionName=["CreateTopic"])
        self.sns.remove_permission(TopicArn=arn, Label="pub")
        self.sns.remove_permission(TopicArn=arn, Label="never-there")
        policy = json.loads(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
        self.assertEqual([s["Sid"] for s in policy["Statement"]], ["__default_statement_ID", "two"])
        missing = arn + "-missing"
        self.assertEqual(self.error(self.sns.add_permission, TopicArn=missing, Label="x", AWSAccountId=["1"],
                                    ActionName=["Publish"]), ("NotFound", "Topic does not exist", 404))
        self.assertEqual(self.error(self.sns.remove_permission, TopicArn=missing, Label="x"),
                         ("NotFound", "Topic does not exist", 404))

    def test_data_protection_policy(self):
        arn = self.topic("dpp")
        self.assertNotIn("DataProtectionPolicy", self.sns.get_data_protection_policy(ResourceArn=arn))
        policy = json.dumps({"Name": "p", "Description": "d", "Version": "2021-06-01", "Statement": []})
        self.sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy=policy)
        self.assertEqual(self.sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"], policy)
        self.assertEqual(self.error(self.sns.get_data_protection_policy, ResourceArn=arn + "x"),
                         ("NotFound", "Topic does not exist", 404))

    def test_mobile_push_operations_are_not_implemented(self):
        self.assertEqual(self.error(self.sns.list_platform_applications)[::2], ("NotImplemented", 501))

    def test_reset_drops_topics(self):
        self.topic("before-reset")
        self.server.reset()
        self.assertEqual(self.sns.list_topics()["Topics"], [])


class SnsSubscriptionsTest(SnsTestBase):
    def test_sqs_subscription_is_confirmed_at_once(self):
        topic = self.topic("subs")
        _, qarn = self.queue("subs-q")
        sub = self.subscribe_queue(topic, qarn)
        self.assertTrue(sub.startswith(topic + ":"))
        self.assertRegex(sub.rsplit(":", 1)[1], UUID_RE)
        self.assertEqual(self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"], {
            "ConfirmationWasAuthenticated": "true",
            "Endpoint": qarn,
            "Owner": "000000000000",
            "PendingConfirmation": "false",
            "Protocol": "sqs",
            "RawMessageDelivery": "false",
            "SubscriptionArn": sub,
            "SubscriptionPrincipal": "arn:aws:iam::000000000000:root",
            "TopicArn": topic,
        })
        self.assertEqual(self.sns.list_subscriptions()["Subscriptions"],
                         [{"SubscriptionArn": sub, "Owner": "000000000000", "Protocol": "sqs", "Endpoint": qarn,
                           "TopicArn": topic}])
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"], "1")
        # An unknown queue may be subscribed (AWS checks nothing until delivery).
        self.subscribe_queue(topic, "arn:aws:sqs:us-east-1:000000000000:not-yet")

    def test_other_protocols(self):
        topic = self.topic("protocols")
        for protocol, endpoint in (("sms", "+12/34-567.890"), ("lambda", "arn:aws:lambda:us-east-1:000000000000:function:f"),
                                   ("firehose", "arn:aws:firehose:us-east-1:000000000000:deliverystream/s"),
                                   ("application", "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/1")):
            arn = self.sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)["SubscriptionArn"]
            self.assertTrue(arn.startswith(topic + ":"), protocol)
            attrs = self.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
            self.assertEqual((attrs["PendingConfirmation"], attrs["Protocol"], attrs["Endpoint"]),
                             ("false", protocol, endpoint))
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"], "4")

    def test_http_and_email_subscriptions_wait_for_confirmation(self):
        topic = self.topic("pending")
        self.assertEqual(self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/hook")
                         ["SubscriptionArn"], "pending confirmation")
        self.assertEqual(self.sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="me@example.com")
                         ["SubscriptionArn"], "pending confirmation")
        arn = self.sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://127.0.0.1:9/hook",
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertTrue(arn.startswith(topic + ":"))
        attrs = self.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        self.assertEqual((attrs["PendingConfirmation"], attrs["ConfirmationWasAuthenticated"]), ("true", "false"))
        self.assertEqual(json.loads(attrs["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"], 3)
        listed = self.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual([s["SubscriptionArn"] for s in listed], ["PendingConfirmation"] * 3)
        topic_attrs = self.sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        self.assertEqual((topic_attrs["SubscriptionsPending"], topic_attrs["SubscriptionsConfirmed"]), ("3", "0"))

    def test_subscribe_validation(self):
        topic = self.topic("validation")
        fifo_topic = self.sns.create_topic(Name="v.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
        self.invalid("Invalid parameter: Amazon SNS does not support this protocol string: test-protocol",
                     self.sns.subscribe, TopicArn=topic, Protocol="test-protocol", Endpoint="x")
        self.invalid("Invalid parameter: Endpoint must match the specified protocol", self.sns.subscribe,
                     TopicArn=topic, Protocol="https", Endpoint="http://example.com")
        for number in ("+15--551234567", "NAA+15551234567", "+15551234567.", "/+15551234567"):
            self.invalid("Invalid SMS endpoint: " + number, self.sns.subscribe, TopicArn=topic, Protocol="sms",
                         Endpoint=number)
        self.invalid("Invalid parameter: SQS endpoint ARN", self.sns.subscribe, TopicArn=topic, Protocol="sqs",
                     Endpoint="http://127.0.0.1:4566/000000000000/q")
        self.invalid("Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed "
                     "to standard SNS topics", self.sns.subscribe, TopicArn=topic, Protocol="sqs",
                     Endpoint="arn:aws:sqs:us-east-1:000000000000:q.fifo")
        self.invalid("Invalid parameter: Invalid protocol type: sms", self.sns.subscribe, TopicArn=fifo_topic,
                     Protocol="sms", Endpoint="+15551234567")
        self.invalid("Invalid parameter: Delivery protocol [lambda] does not support raw message delivery.",
                     self.sns.subscribe, TopicArn=topic, Protocol="lambda",
                     Endpoint="arn:aws:lambda:us-east-1:000000000000:function:f",
                     Attributes={"RawMessageDelivery": "true"})
        self.invalid("Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be "
                     "true or false.", self.sns.subscribe, TopicArn=topic, Protocol="sqs",
                     Endpoint="arn:aws:sqs:us-east-1:000000000000:q", Attributes={"RawMessageDelivery": "wrongvalue"})
        self.invalid("Invalid parameter: Attributes Reason: AttributeName", self.sns.subscribe, TopicArn=topic,
                     Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:q", Attributes={"Owner": "x"})
        self.invalid("Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 5",
                     self.sns.subscribe, TopicArn="arn:aws:sns:us-east-1:random", Protocol="email",
                     Endpoint="a@example.com")
        self.assertEqual(self.error(self.sns.subscribe, TopicArn=topic + "aaa", Protocol="email",
                                    Endpoint="a@example.com"), ("NotFound", "Topic does not exist", 404))
        self.assertEqual(self.sns.list_subscriptions()["Subscriptions"], [])

    def test_resubscribing_is_idempotent(self):
        topic = self.topic("idem")
        _, qarn = self.queue("idem-q")
        sub = self.subscribe_queue(topic, qarn, RawMessageDelivery="true")
        self.assertEqual(self.subscribe_queue(topic, qarn, RawMessageDelivery="true"), sub)
        self.assertEqual(self.subscribe_queue(topic, qarn), sub)
        self.invalid("Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
                     self.subscribe_queue, topic, qarn, RawMessageDelivery="false")
        self.assertEqual(len(self.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]), 1)

    def test_subscription_attributes(self):
        topic = self.topic("sattrs")
        _, qarn = self.queue("sattrs-q")
        _, dlq = self.queue("sattrs-dlq")
        sub = self.subscribe_queue(topic, qarn)
        set_attr = self.sns.set_subscription_attributes
        set_attr(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="TRUE")
        set_attr(SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="MessageBody")
        attrs = self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual(attrs["RawMessageDelivery"], "true")
        self.assertNotIn("FilterPolicyScope", attrs)  # shown only next to a FilterPolicy, as on AWS
        set_attr(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue='{"a":{"b":["c"]}}')
        set_attr(SubscriptionArn=sub, AttributeName="RedrivePolicy",
                 AttributeValue=json.dumps({"deadLetterTargetArn": dlq}))
        set_attr(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue='{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":3}}')
        set_attr(SubscriptionArn=sub, AttributeName="SubscriptionRoleArn", AttributeValue="arn:aws:iam::000000000000:role/r")
        attrs = self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual(attrs["FilterPolicy"], '{"a":{"b":["c"]}}')
        self.assertEqual(attrs["FilterPolicyScope"], "MessageBody")
        self.assertEqual(attrs["RedrivePolicy"], json.dumps({"deadLetterTargetArn": dlq}))
        self.assertEqual(attrs["SubscriptionRoleArn"], "arn:aws:iam::000000000000:role/r")
        # The nested policy cannot go back to attribute scope.
        self.invalid("Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy",
                     set_attr, SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                     AttributeValue="MessageAttributes")
        set_attr(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="")
        self.assertNotIn("FilterPolicy", self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"])
        self.invalid("Invalid parameter: AttributeName", set_attr, SubscriptionArn=sub, AttributeName="Endpoint",
                     AttributeValue="x")
        self.invalid("Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false.",
                     set_attr, SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="test-ValUe")
        self.invalid("Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody "
                     "or MessageAttributes", set_attr, SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                     AttributeValue="RandomValue")
        self.invalid("Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn", set_attr,
                     SubscriptionArn=sub, AttributeName="RedrivePolicy",
                     AttributeValue=json.dumps({"deadLetterTargetArn": "fake-arn"}))
        self.invalid("Invalid parameter: RedrivePolicy: failed to parse JSON. Unexpected character ('i' (code 105)): "
                     "was expecting double-quote to start field name\n at [Source: REDACTED "
                     "(`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]", set_attr,
                     SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue="{invalidjson}")
        missing = topic + ":00000000-0000-0000-0000-000000000000"
        self.assertEqual(self.error(self.sns.get_subscription_attributes, SubscriptionArn=missing),
                         ("NotFound", "Subscription does not exist", 404))
        self.assertEqual(self.error(set_attr, SubscriptionArn=missing, AttributeName="RawMessageDelivery",
                                    AttributeValue="true"), ("NotFound", "Subscription does not exist", 404))

    def test_fifo_subscription_redrive_policy_needs_a_fifo_dlq(self):
        topic = self.sns.create_topic(Name="r.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
        _, qarn = self.queue("r-q.fifo", FifoQueue="true")
        self.invalid("Invalid parameter: Attributes Reason: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO "
                     "Subscription to a FIFO Topic.", self.subscribe_queue, topic, qarn,
                     RedrivePolicy=json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:plain"}))

    def test_unsubscribe(self):
        topic = self.topic("unsub")
        _, qarn = self.queue("unsub-q")
        sub = self.subscribe_queue(topic, qarn)
        self.sns.unsubscribe(SubscriptionArn=sub)
        self.sns.unsubscribe(SubscriptionArn=sub)
        self.assertEqual(self.sns.list_subscriptions()["Subscriptions"], [])
        attrs = self.sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        self.assertEqual((attrs["SubscriptionsConfirmed"], attrs["SubscriptionsDeleted"]), ("0", "1"))
        loose = self.server.client("sns", validate=False)
        self.invalid("Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1",
                     loose.unsubscribe, SubscriptionArn="randomstring")
        self.invalid("Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5",
                     loose.unsubscribe, SubscriptionArn="arn:aws:sns:us-east-1:random")
        self.invalid("Invalid parameter: SubscriptionId", loose.unsubscribe,
                     SubscriptionArn="arn:aws:sns:us-east-1:000000000000:random")
        self.invalid("Invalid parameter: SubscriptionArn Reason: no value for required parameter", loose.unsubscribe)

    def test_list_subscriptions_by_topic_pages_of_100(self):
        topic = self.topic("many")
        arns = [self.sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=f"+12312312{i}")["SubscriptionArn"]
                for i in range(101)]
        first = self.sns.list_subscriptions_by_topic(TopicArn=topic)
        self.assertEqual([s["SubscriptionArn"] for s in first["Subscriptions"]], arns[:100])
        second = self.sns.list_subscriptions_by_topic(TopicArn=topic, NextToken=first["NextToken"])
        self.assertEqual([s["SubscriptionArn"] for s in second["Subscriptions"]], arns[100:])
        self.assertNotIn("NextToken", second)
        everything = self.sns.list_subscriptions()
        self.assertEqual(len(everything["Subscriptions"]), 100)
        rest = self.sns.list_subscriptions(NextToken=everything["NextToken"])
        self.assertEqual([s["SubscriptionArn"] for s in rest["Subscriptions"]], arns[100:])

    def test_confirm_subscription_errors(self):
        topic = self.topic("confirm")
        token = "51b2ff3edb475b7d" * 18
        self.invalid("Invalid parameter: Token", self.sns.confirm_subscription, TopicArn=topic[:-1] + "i", Token=token)
        self.invalid("Invalid token", self.sns.confirm_subscription, TopicArn=topic, Token="randomtoken")
        self.invalid("Invalid parameter: Token", self.sns.confirm_subscription, TopicArn=topic, Token=token)
        self.invalid("Invalid parameter: Topic", self.sns.confirm_subscription, TopicArn="not-an-arn", Token=token)


class SnsPublishTest(SnsTestBase):
    def setUp(self):
        super().setUp()
        self.topic_arn = self.topic("news")
        self.url, self.qarn = self.queue("news-q")
        self.sub = self.subscribe_queue(self.topic_arn, self.qarn)

    def test_envelope_fields_layout_and_values(self):
        out = self.sns.publish(TopicArn=self.topic_arn, Message="Hello \"world\"\nö", Subject="Greetings",
                               MessageAttributes={"a": {"DataType": "String", "StringValue": "x"},
                                                  "b": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
                                                  "n": {"DataType": "Number", "StringValue": "100.12"}})
        messages = self.receive(self.url)
        self.assertEqual(len(messages), 1)
        m = messages[0]
        body = m["Body"]
        self.assertTrue(body.startswith('{\n  "Type" : "Notification",\n  "MessageId" : "' + out["MessageId"] + '",\n'))
        self.assertIn('\n  "Message" : "Hello \\"world\\"\\nö",\n', body)
        self.assertTrue(body.endswith('  "MessageAttributes" : {\n'
                                      '    "a" : {"Type":"String","Value":"x"},\n'
                                      '    "b" : {"Type":"Binary","Value":"AgME"},\n'
                                      '    "n" : {"Type":"Number","Value":"100.12"}\n'
                                      '  }\n}'))
        self.assertEqual(ordered_keys(body), ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                                              "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL",
                                              "MessageAttributes"])
        env = json.loads(body)
        self.assertEqual(env["Type"], "Notification")
        self.assertEqual(env["MessageId"], out["MessageId"])
        self.assertEqual(env["TopicArn"], self.topic_arn)
        self.assertEqual(env["Subject"], "Greetings")
        self.assertEqual(env["Message"], "Hello \"world\"\nö")
        self.assertRegex(env["Timestamp"], TIMESTAMP_RE)
        self.assertEqual(env["SignatureVersion"], "1")
        self.assertRegex(env["SigningCertURL"], r"^" + re.escape(self.server.http_url) +
                         r"/SimpleNotificationService-[0-9a-f]{32}\.pem$")
        self.assertEqual(env["UnsubscribeURL"],
                         self.server.http_url + "/?Action=Unsubscribe&SubscriptionArn=" + self.sub)
        # Without raw delivery the SNS attributes travel in the envelope only.
        self.assertNotIn("MessageAttributes", m)
        self.assertEqual(m["Attributes"]["SenderId"], SNS_SENDER_ID)
        self.assertRegex(out["MessageId"], UUID_RE)

    def test_envelope_without_subject_or_attributes(self):
        self.sns.publish(TopicArn=self.topic_arn, Message="plain")
        body = self.bodies(self.url)[0]
        self.assertEqual(ordered_keys(body), STANDARD_ENVELOPE_KEYS)

    def test_signatures_verify_with_the_certificate_at_signing_cert_url(self):
        for version in ("1", "2"):
            self.sns.set_topic_attributes(TopicArn=self.topic_arn, AttributeName="SignatureVersion",
                                          AttributeValue=version)
            self.sns.publish(TopicArn=self.topic_arn, Message=f"signed v{version}", Subject="s")
            env = json.loads(self.bodies(self.url)[0])
            self.assertEqual(env["SignatureVersion"], version)
            status, headers, pem = http_get(env["SigningCertURL"])
            self.assertEqual(status, 200)
            self.assertEqual(headers["content-type"], "application/x-pem-file")
            self.assertTrue(pem.startswith(b"-----BEGIN CERTIFICATE-----"))
            self.assertTrue(verify_signature(env, pem))
            tampered = dict(env, Message=env["Message"] + "!")
            self.assertFalse(verify_signature(tampered, pem))
            for m in self.receive(self.url):
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])

    def test_urls_follow_the_scheme_and_host_of_the_publish_request(self):
        tls = self.server.client("sns", https=True)
        tls.publish(TopicArn=self.topic_arn, Message="over https")
        env = json.loads(self.bodies(self.url)[0])
        self.assertTrue(env["SigningCertURL"].startswith(self.server.https_url + "/SimpleNotificationService-"))
        self.assertTrue(env["UnsubscribeURL"].startswith(self.server.https_url + "/?Action=Unsubscribe&"))
        with urllib.request.urlopen(env["SigningCertURL"], context=self.server.ssl_context(), timeout=10) as r:
            self.assertTrue(verify_signature(env, r.read()))

    def test_raw_delivery_maps_message_attributes(self):
        self.sns.set_subscription_attributes(SubscriptionArn=self.sub, AttributeName="RawMessageDelivery",
                                             AttributeValue="true")
        self.sns.publish(TopicArn=self.topic_arn, Message="raw body", Subject="ignored",
                         MessageAttributes={"s": {"DataType": "String", "StringValue": "v"},
                                            "arr": {"DataType": "String.Array", "StringValue": '["a", 1]'},
                                            "n": {"DataType": "Number", "StringValue": "99.12"},
                                            "b": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
                                            "c": {"DataType": "String.custom", "StringValue": "x"}})
        m = self.receive(self.url)[0]
        self.assertEqual(m["Body"], "raw body")
        self.assertEqual(m["MessageAttributes"], {
            "s": {"StringValue": "v", "DataType": "String"},
            "arr": {"StringValue": '["a", 1]', "DataType": "String"},
            "n": {"StringValue": "99.12", "DataType": "Number"},
            "b": {"BinaryValue": b"\x02\x03\x04", "DataType": "Binary"},
            "c": {"StringValue": "x", "DataType": "String.custom"},
        })
        self.assertEqual(m["Attributes"]["SenderId"], SNS_SENDER_ID)

    def test_message_structure_json(self):
        message = json.dumps({"default": "default field", "sqs": json.dumps({"field": "value"}), "email": 3})
        self.sns.publish(TopicArn=self.topic_arn, Message=message, MessageStructure="json")
        self.assertEqual(json.loads(self.bodies(self.url)[0])["Message"], '{"field": "value"}')
        self.invalid("Invalid parameter: Message Structure - No default entry in JSON message body",
                     self.sns.publish, TopicArn=self.topic_arn, Message='{"sqs": "x"}', MessageStructure="json")
        self.invalid("Invalid parameter: Message Structure - JSON message body failed to parse",
                     self.sns.publish, TopicArn=self.topic_arn, Message="not json", MessageStructure="json")

    def test_publish_errors(self):
        t = self.topic_arn
        self.invalid("Invalid parameter: Empty message", self.sns.publish, TopicArn=t, Message="")
        self.invalid("Invalid parameter: Subject", self.sns.publish, TopicArn=t, Message="m", Subject="")
        self.invalid("Invalid parameter: Subject", self.sns.publish, TopicArn=t, Message="m", Subject="a" * 101)
        self.invalid("Invalid parameter: Subject", self.sns.publish, TopicArn=t, Message="m", Subject="two\nlines")
        self.invalid("Invalid parameter: Message too long", self.sns.publish, TopicArn=t, Message="x" * 262145)
        self.invalid("Invalid parameter: Message too long", self.sns.publish, TopicArn=t, Message="x" * 262140,
                     MessageAttributes={"attr": {"DataType": "String", "StringValue": "yy"}})
        self.sns.publish(TopicArn=t, Message="x" * 262144)
        self.invalid("Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 2",
                     self.sns.publish, TopicArn="randomstring:1", Message="m")
        self.assertEqual(self.error(self.sns.publish, TopicArn=t + "-gone", Message="m"),
                         ("NotFound", "Topic does not exist", 404))
        self.invalid("Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified",
                     self.sns.publish, TargetArn="arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/1", Message="m")
        self.invalid("Invalid parameter: PhoneNumber Reason: +1a234 is not valid to publish to",
                     self.sns.publish, PhoneNumber="+1a234", Message="m")
        self.invalid("Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                     "parameter that is not valid for this topic type", self.sns.publish, TopicArn=t, Message="m",
                     MessageDeduplicationId="d")
        self.invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
                     self.sns.publish, Message="m")

    def test_message_attribute_errors(self):
        def attr_error(attributes, validate=True):
            client = self.sns if validate else self.server.client("sns", validate=False)
            return self.error(client.publish, TopicArn=self.topic_arn, Message="m", MessageAttributes=attributes)

        def pvi(message):
            return ("ParameterValueInvalid", message, 400)

        self.assertEqual(attr_error({"attr1": {"DataType": "String", "StringValue": ""}}),
                         pvi("The message attribute 'attr1' must contain non-empty message attribute value for "
                             "message attribute type 'String'."))
        self.assertEqual(attr_error({"attr1": {"DataType": "String", "BinaryValue": b"x"}}),
                         pvi("The message attribute 'attr1' with type 'String' must use field 'String'."))
        self.assertEqual(attr_error({"attr1": {"DataType": "Binary", "StringValue": "x"}}),
                         pvi("The message attribute 'attr1' with type 'Binary' must use field 'Binary'."))
        for bad_type in ("Integer", "String.", "Stringprefixed"):
            self.assertEqual(attr_error({"attr1": {"DataType": bad_type, "StringValue": "x"}}),
                             pvi("The message attribute 'attr1' has an invalid message attribute type, the set of "
                                 "supported type prefixes is Binary, Number, and String."))
        for not_a_number in ("abc", "1.2.3", "1e", "--1"):
            self.assertEqual(attr_error({"n": {"DataType": "Number", "StringValue": not_a_number}}),
                             pvi("Could not cast message attribute 'n' value to number."))
        self.assertEqual(attr_error({"n": {"DataType": "Number.float", "StringValue": "x1"}}),
                         pvi("Could not cast message attribute 'n' value to number."))
        self.assertEqual(attr_error({"a^b": {"DataType": "String", "StringValue": "x"}}),
                         pvi("Invalid non-alphanumeric character '#x5E' was found in the message attribute name. "
                             "Can only include alphanumeric characters, hyphens, underscores, or dots."))
        self.assertEqual(attr_error({".a": {"DataType": "String", "StringValue": "x"}}),
                         pvi("Invalid message attribute name starting with character '.' was found."))
        self.assertEqual(attr_error({"a.": {"DataType": "String", "StringValue": "x"}}),
                         pvi("Invalid message attribute name ending with character '.' was found."))
        self.assertEqual(attr_error({"a..b": {"DataType": "String", "StringValue": "x"}}),
                         pvi("Message attribute name can not have successive '.' character."))
        self.assertEqual(attr_error({"a" * 257: {"DataType": "String", "StringValue": "x"}}),
                         pvi("Length of message attribute name must be less than 256 bytes."))
        self.assertEqual(attr_error({f"a{i}": {"DataType": "String", "StringValue": "x"} for i in range(11)}),
                         pvi("Number of message attributes [11] exceeds the allowed maximum [10]."))
        self.assertEqual(attr_error({"attr1": {"StringValue": "x"}}, validate=False),
                         ("ValidationError", "1 validation error detected: Value null at "
                          "'messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not "
                          "be null", 400))
        self.sns.publish(TopicArn=self.topic_arn, Message="m",
                         MessageAttributes={"ok": {"DataType": "String.  prefixed.", "StringValue": "x"}})

    def test_publish_to_a_phone_number_and_by_target_arn(self):
        self.assertRegex(self.sns.publish(PhoneNumber="+15551234567", Message="sms")["MessageId"], UUID_RE)
        out = self.sns.publish(TargetArn=self.topic_arn, Message="via target")
        self.assertEqual(json.loads(self.bodies(self.url)[0])["MessageId"], out["MessageId"])

    def test_a_missing_queue_does_not_fail_the_publish(self):
        self.subscribe_queue(self.topic_arn, "arn:aws:sqs:us-east-1:000000000000:deleted-queue")
        self.sns.publish(TopicArn=self.topic_arn, Message="still delivered")
        self.assertEqual(json.loads(self.bodies(self.url)[0])["Message"], "still delivered")

    def test_filter_policies_on_attributes_and_body(self):
        t = self.topic("filtered")
        queues = {}
        policies = {
            "exact": ({"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}]}, None),
            "numeric": ({"price": [{"numeric": [">=", 100, "<", 200]}]}, None),
            "prefix": ({"customer": [{"prefix": "vip-"}], "$or": [{"region": ["eu"]}, {"tier": [{"exists": True}]}]}, None),
            "body": ({"order": {"status": ["paid"]}, "items": {"sku": [{"suffix": "-X"}]}}, "MessageBody"),
            "cidr": ({"ip": [{"cidr": "10.0.0.0/8"}], "tags": ["red"]}, None),
        }
        for name, (policy, scope) in policies.items():
            url, arn = self.queue("f-" + name)
            attrs = {"FilterPolicy": json.dumps(policy)}
            if scope:
                attrs["FilterPolicyScope"] = scope
            self.subscribe_queue(t, arn, **attrs)
            queues[name] = url

        def publish(message, **attributes):
            typed = {}
            for k, v in attributes.items():
                if isinstance(v, list):
                    typed[k] = {"DataType": "String.Array", "StringValue": json.dumps(v)}
                elif isinstance(v, (int, float)):
                    typed[k] = {"DataType": "Number", "StringValue": str(v)}
                else:
                    typed[k] = {"DataType": "String", "StringValue": v}
            self.sns.publish(TopicArn=t, Message=message, MessageAttributes=typed)

        publish("1", store="example_corp", event="order_placed")
        publish("2", store="example_corp", event="order_cancelled")
        publish("3", price=150)
        publish("4", price=200)
        publish("5", customer="vip-1", region="eu")
        publish("6", customer="vip-2", tier="gold")
        publish("7", customer="vip-3", region="us")
        publish(json.dumps({"order": {"status": "paid"}, "items": [{"sku": "A-1"}, {"sku": "B-X"}]}))
        publish(json.dumps({"order": {"status": "open"}, "items": [{"sku": "B-X"}]}))
        publish("not json")
        publish("8", ip="10.1.2.3", tags=["blue", "red"])
        publish("9", ip="11.1.2.3", tags=["red"])

        def received(name):
            return sorted(json.loads(b)["Message"] for b in self.bodies(queues[name]))

        self.assertEqual(received("exact"), ["1"])
        self.assertEqual(received("numeric"), ["3"])
        self.assertEqual(received("prefix"), ["5", "6"])
        self.assertEqual(received("body"), [json.dumps({"order": {"status": "paid"},
                                                        "items": [{"sku": "A-1"}, {"sku": "B-X"}]})])
        self.assertEqual(received("cidr"), ["8"])

    def test_filter_policy_errors(self):
        def sub_error(policy, **extra):
            attrs = dict(extra, FilterPolicy=policy if isinstance(policy, str) else json.dumps(policy))
            return self.error(self.sns.subscribe, TopicArn=self.topic_arn, Protocol="sms", Endpoint="+123123123",
                              Attributes=attrs)

        prefix = "Invalid parameter: Attributes Reason: FilterPolicy: "
        self.assertEqual(sub_error({"key": [["value"]]})[1],
                         prefix + 'Match value must be String, number, true, false, or null\n at [Source: '
                                  '(String)"{"key":[["value"]]}"; line: 1, column: 10]')
        self.assertEqual(sub_error({"key": [{"numeric": [">", 3, "<", 1]}]})[1],
                         prefix + 'Bottom must be less than top\n at [Source: (String)"{"key":[{"numeric":[">",3,'
                                  '"<",1]}]}"; line: 1, column: 33]')
        self.assertEqual(sub_error("invalid-json")[1],
                         prefix + "failed to parse JSON. Unrecognized token 'invalid': was expecting (JSON String, "
                                  "Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: REDACTED "
                                  "(`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 8]")
        self.assertEqual(sub_error({"key": [f"value{i}" for i in range(151)]}),
                         ("InvalidParameter", prefix + "Filter policy is too complex", 400))
        self.assertEqual(sub_error({f"key{i}": ["v"] for i in range(6)})[1],
                         prefix + "Filter policy can not have more than 5 keys")
        self.assertEqual(sub_error({"key": [{"cidr": "bad-filter"}]})[1], prefix + "Malformed CIDR, one '/' required")
        self.assertEqual(sub_error({"object": {"key": ["v"]}})[1],
                         "Invalid parameter: Attributes Reason: Filter policy scope MessageAttributes does not support "
                         "nested filter policy")
        self.invalid('Invalid parameter: FilterPolicy: "key_a" must be an object or an array\n at [Source: (String)'
                     '"{"key_a":"value_one"}"; line: 1, column: 11]', self.sns.set_subscription_attributes,
                     SubscriptionArn=self.sub, AttributeName="FilterPolicy", AttributeValue='{"key_a": "value_one"}')

    def test_publish_batch(self):
        out = self.sns.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=[
            {"Id": "1", "Message": "one", "Subject": "s"},
            {"Id": "2", "Message": "two", "MessageAttributes": {"a": {"DataType": "String", "StringValue": "b"}}},
            {"Id": "bad", "Message": "three", "Subject": ""},
        ])
        self.assertEqual([e["Id"] for e in out["Successful"]], ["1", "2"])
        self.assertTrue(all(UUID_RE.match(e["MessageId"]) and "SequenceNumber" not in e for e in out["Successful"]))
        self.assertEqual(out["Failed"], [{"Id": "bad", "Code": "InvalidParameter", "Message": "Invalid parameter: Subject",
                                          "SenderFault": True}])
        self.assertEqual(sorted(json.loads(b)["Message"] for b in self.bodies(self.url)), ["one", "two"])
        entries = [{"Id": str(i), "Message": "m"} for i in range(11)]
        self.assertEqual(self.error(self.sns.publish_batch, TopicArn=self.topic_arn, PublishBatchRequestEntries=entries),
                         ("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.", 400))
        self.assertEqual(self.error(self.sns.publish_batch, TopicArn=self.topic_arn,
                                    PublishBatchRequestEntries=[{"Id": "1", "Message": "a"}, {"Id": "1", "Message": "b"}]),
                         ("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.", 400))
        self.assertEqual(self.error(self.server.client("sns", validate=False).publish_batch, TopicArn=self.topic_arn,
                                    PublishBatchRequestEntries=[]),
                         ("EmptyBatchRequest", "The batch request doesn't contain any entries.", 400))
        self.assertEqual(self.error(self.sns.publish_batch, TopicArn=self.topic_arn,
                                    PublishBatchRequestEntries=[{"Id": "message.id", "Message": "a"}]),
                         ("InvalidBatchEntryId", "The Id of a batch entry in the batch request contains an "
                                                 "impermissible character: message.id", 400))
        self.assertEqual(self.error(self.sns.publish_batch, TopicArn=self.topic_arn,
                                    PublishBatchRequestEntries=[{"Id": "a" * 81, "Message": "a"}]),
                         ("InvalidBatchEntryId", "The Id of a batch entry in the batch request is too long: " + "a" * 81, 400))
        big = [{"Id": str(i), "Message": "x" * 100000} for i in range(3)]
        self.assertEqual(self.error(self.sns.publish_batch, TopicArn=self.topic_arn, PublishBatchRequestEntries=big),
                         ("BatchRequestTooLong", "The length of all the messages put together is more than the limit.", 400))
        self.invalid("Invalid parameter: Message Structure - No default entry in JSON message body",
                     self.sns.publish_batch, TopicArn=self.topic_arn,
                     PublishBatchRequestEntries=[{"Id": "1", "Message": '{"x": "y"}', "MessageStructure": "json"}])
        self.assertEqual(self.error(self.sns.publish_batch, TopicArn=self.topic_arn + "x",
                                    PublishBatchRequestEntries=[{"Id": "1", "Message": "a"}]),
                         ("NotFound", "Topic does not exist", 404))


class SnsFifoTest(SnsTestBase):
    def setUp(self):
        super().setUp()
        self.topic_arn = self.sns.create_topic(Name="events.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
        self.url, self.qarn = self.queue("events-q.fifo", FifoQueue="true")
        self.sub = self.subscribe_queue(self.topic_arn, self.qarn)

    def publish(self, message, group="g", dedup=None):
        kwargs = {"MessageDeduplicationId": dedup} if dedup else {}
        return self.sns.publish(TopicArn=self.topic_arn, Message=message, MessageGroupId=group, **kwargs)

    def test_order_sequence_numbers_and_envelope(self):
        seqs = [self.publish(f"m{i}", dedup=f"d{i}")["SequenceNumber"] for i in range(5)]
        self.assertEqual(seqs, [f"1000000000000000{3000 + 1000 * i:04d}" for i in range(5)])
        self.assertTrue(all(len(s) == 20 for s in seqs))
        received = self.receive(self.url)
        self.assertEqual([json.loads(m["Body"])["Message"] for m in received], [f"m{i}" for i in range(5)])
        first = received[0]
        self.assertEqual(ordered_keys(first["Body"]),
                         ["Type", "MessageId", "SequenceNumber", "TopicArn", "Message", "Timestamp", "UnsubscribeURL"])
        self.assertEqual(json.loads(first["Body"])["SequenceNumber"], seqs[0])
        self.assertEqual(first["Attributes"]["MessageGroupId"], "g")
        self.assertEqual(first["Attributes"]["MessageDeduplicationId"], "d0")
        self.assertEqual(first["Attributes"]["SenderId"], SNS_SENDER_ID)

    def test_deduplication_at_topic_level(self):
        self.sns.set_topic_attributes(TopicArn=self.topic_arn, AttributeName="ContentBasedDeduplication",
                                      AttributeValue="true")
        first = self.publish("Test", group="message-group-id-1")
        again = self.publish("Test", group="message-group-id-2")
        self.assertEqual((again["MessageId"], again["SequenceNumber"]), (first["MessageId"], first["SequenceNumber"]))
        explicit = self.publish("Test", dedup="explicit")
        self.assertNotEqual(explicit["MessageId"], first["MessageId"])
        received = self.receive(self.url)
        self.assertEqual(len(received), 2)
        self.assertEqual(received[0]["Attributes"]["MessageDeduplicationId"], hashlib.sha256(b"Test").hexdigest())

    def test_fifo_rules(self):
        self.invalid("Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
                     self.sns.publish, TopicArn=self.topic_arn, Message="m")
        self.invalid("Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
                     "MessageDeduplicationId provided explicitly", self.sns.publish, TopicArn=self.topic_arn,
                     Message="m", MessageGroupId="g")
        self.invalid("Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
                     self.sns.publish_batch, TopicArn=self.topic_arn,
                     PublishBatchRequestEntries=[{"Id": "1", "Message": "m", "MessageDeduplicationId": "d"}])

    def test_standard_queue_under_a_fifo_topic(self):
        url, arn = self.queue("plain-under-fifo")
        self.subscribe_queue(self.topic_arn, arn)
        out = self.publish("to both", dedup="x")
        m = self.receive(url)[0]
        env = json.loads(m["Body"])
        self.assertEqual(env["SequenceNumber"], out["SequenceNumber"])
        self.assertNotIn("Signature", env)
        self.assertNotIn("MessageGroupId", m["Attributes"])

    def test_publish_batch_sequence_numbers(self):
        out = self.sns.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=[
            {"Id": str(i), "Message": f"b{i}", "MessageGroupId": "g", "MessageDeduplicationId": f"b{i}"}
            for i in range(3)])
        self.assertEqual([e["SequenceNumber"] for e in out["Successful"]],
                         ["10000000000000003000", "10000000000000004000", "10000000000000005000"])
        self.assertEqual(out["Failed"], [])
        self.assertEqual([json.loads(b)["Message"] for b in self.bodies(self.url)], ["b0", "b1", "b2"])


class SnsSmsTest(SnsTestBase):
    def test_sms_attributes(self):
        self.assertEqual(self.sns.get_sms_attributes()["attributes"], {"MonthlySpendLimit": "1"})
        self.sns.set_sms_attributes(attributes={"DefaultSMSType": "Promotional", "DefaultSenderID": "LSTest",
                                                "DeliveryStatusSuccessSamplingRate": "100"})
        self.assertEqual(self.sns.get_sms_attributes()["attributes"],
                         {"DefaultSMSType": "Promotional", "DefaultSenderID": "LSTest",
                          "DeliveryStatusSuccessSamplingRate": "100", "MonthlySpendLimit": "1"})
        self.assertEqual(self.sns.get_sms_attributes(attributes=["DefaultSMSType", "DefaultSenderID"])["attributes"],
                         {"DefaultSMSType": "Promotional", "DefaultSenderID": "LSTest"})
        self.invalid("InvalidAttribute is not a valid attribute", self.sns.set_sms_attributes,
                     attributes={"InvalidAttribute": "x"})
        self.invalid("DefaultSendID is not a valid attribute", self.sns.set_sms_attributes,
                     attributes={"DefaultSenderID": "a" * 12})
        self.invalid("DefaultSendID is not a valid attribute", self.sns.set_sms_attributes,
                     attributes={"DefaultSenderID": "123"})
        self.invalid("DefaultSMSType is invalid", self.sns.set_sms_attributes, attributes={"DefaultSMSType": "Other"})

    def test_opt_outs(self):
        self.assertEqual(self.sns.check_if_phone_number_is_opted_out(phoneNumber="+15551234567")["isOptedOut"], False)
        self.assertEqual(self.sns.list_phone_numbers_opted_out()["phoneNumbers"], [])
        self.sns.opt_in_phone_number(phoneNumber="+15551234567")
        for op in (self.sns.check_if_phone_number_is_opted_out, self.sns.opt_in_phone_number):
            self.invalid("Invalid parameter: PhoneNumber Reason: input incorrectly formatted", op, phoneNumber="invalid")

    def test_sandbox_status_and_origination_numbers(self):
        self.assertEqual(self.sns.get_sms_sandbox_account_status()["IsInSandbox"], False)
        self.assertEqual(self.sns.list_origination_numbers()["PhoneNumbers"], [])


class SnsPersistenceTest(SnsTestBase):
    def test_state_survives_a_restart(self):
        topic = self.sns.create_topic(Name="durable.fifo", Attributes={"FifoTopic": "true", "DisplayName": "D"},
                                      Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
        url, qarn = self.queue("durable-q.fifo", FifoQueue="true")
        sub = self.subscribe_queue(topic, qarn, RawMessageDelivery="true", FilterPolicy='{"keep":["yes"]}')
        pending = self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:999999999999:x",
                                     ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional"})
        yes = {"keep": {"DataType": "String", "StringValue": "yes"}}
        first = self.sns.publish(TopicArn=topic, Message="before", MessageGroupId="g", MessageDeduplicationId="a",
                                 MessageAttributes=yes)
        std = self.topic("durable-standard")
        std_url, std_q = self.queue("durable-std-q")
        self.subscribe_queue(std, std_q)
        self.sns.publish(TopicArn=std, Message="signed before")
        cert_url = json.loads(self.bodies(std_url)[0])["SigningCertURL"]
        pem_before = http_get(cert_url)[2]

        self.server.restart()
        sns = self.server.client("sns")
        attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        self.assertEqual((attrs["DisplayName"], attrs["FifoTopic"], attrs["SubscriptionsConfirmed"],
                          attrs["SubscriptionsPending"]), ("D", "true", "1", "1"))
        self.assertEqual(sns.list_tags_for_resource(ResourceArn=topic)["Tags"], [{"Key": "k", "Value": "v"}])
        sattrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual((sattrs["RawMessageDelivery"], sattrs["FilterPolicy"]), ("true", '{"keep":["yes"]}'))
        self.assertEqual(sns.get_subscription_attributes(SubscriptionArn=pending)["Attributes"]["PendingConfirmation"],
                         "true")
        self.assertEqual(sns.get_sms_attributes()["attributes"]["DefaultSMSType"], "Transactional")
        # The deduplication window, the sequence and the filter policy all came back.
        dup = sns.publish(TopicArn=topic, Message="again", MessageGroupId="g", MessageDeduplicationId="a")
        self.assertEqual(dup["MessageId"], first["MessageId"])
        nxt = sns.publish(TopicArn=topic, Message="after", MessageGroupId="g", MessageDeduplicationId="b",
                          MessageAttributes=yes)
        self.assertEqual(nxt["SequenceNumber"], "10000000000000004000")
        sns.publish(TopicArn=topic, Message="filtered", MessageGroupId="g", MessageDeduplicationId="c")
        sqs = self.server.client("sqs")
        url = sqs.get_queue_url(QueueName="durable-q.fifo")["QueueUrl"]
        bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
        self.assertEqual(bodies, ["before", "after"])
        # The signing key is the same: the old SigningCertURL (on the new port) serves the same certificate.
        path = cert_url.split("/", 3)[3]
        status, _, pem_after = http_get(self.server.http_url + "/" + path)
        self.assertEqual((status, pem_after), (200, pem_before))


OWNER, OWNER_KEY = "111111111111", "ownerkey"
OTHER, OTHER_KEY = "222222222222", "otherkey"
CREDENTIALS = ",".join(f"{k}:{k}-secret:{a}" for k, a in ((OWNER_KEY, OWNER), (OTHER_KEY, OTHER)))


class SnsAccountsTest(SnsTestBase):
    """Signed requests from two accounts (auth enforced)."""

    server_args = ["--credentials", CREDENTIALS]

    def setUp(self):
        self.server.reset()
        self.owner = self.server.client("sns", key=OWNER_KEY, secret=OWNER_KEY + "-secret")
        self.other = self.server.client("sns", key=OTHER_KEY, secret=OTHER_KEY + "-secret")
        self.other_sqs = self.server.client("sqs", key=OTHER_KEY, secret=OTHER_KEY + "-secret")
        self.topic_arn = self.owner.create_topic(Name="private")["TopicArn"]

    def denied(self, action, fn, **kwargs):
        self.assertEqual(self.error(fn, **kwargs),
                         ("AuthorizationError", f"User: arn:aws:iam::{OTHER}:root is not authorized to perform: "
                                                f"SNS:{action} on resource: {self.topic_arn} because no "
                                                f"resource-based policy allows the SNS:{action} action", 403))

    def test_another_account_sees_and_touches_nothing(self):
        t = self.topic_arn
        self.assertEqual(self.other.list_topics()["Topics"], [])
        self.denied("GetTopicAttributes", self.other.get_topic_attributes, TopicArn=t)
        self.denied("SetTopicAttributes", self.other.set_topic_attributes, TopicArn=t, AttributeName="DisplayName",
                    AttributeValue="x")
        self.denied("Publish", self.other.publish, TopicArn=t, Message="m")
        self.denied("Publish", self.other.publish_batch, TopicArn=t, PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}])
        self.denied("Subscribe", self.other.subscribe, TopicArn=t, Protocol="email", Endpoint="a@example.com")
        self.denied("ListSubscriptionsByTopic", self.other.list_subscriptions_by_topic, TopicArn=t)
        self.denied("DeleteTopic", self.other.delete_topic, TopicArn=t)
        self.denied("AddPermission", self.other.add_permission, TopicArn=t, Label="l", AWSAccountId=[OTHER],
                    ActionName=["Publish"])
        self.denied("ListTagsForResource", self.other.list_tags_for_resource, ResourceArn=t)
        self.assertEqual(self.error(self.other.get_topic_attributes, TopicArn=f"arn:aws:sns:us-east-1:{OWNER}:none"),
                         ("NotFound", "Topic does not exist", 404))
        # The same name is a different topic in the other account.
        mine = self.other.create_topic(Name="private")["TopicArn"]
        self.assertEqual(mine, f"arn:aws:sns:us-east-1:{OTHER}:private")
        self.assertEqual([x["TopicArn"] for x in self.owner.list_topics()["Topics"]], [t])

    def test_add_permission_grants_exactly_what_it_names(self):
        self.owner.add_permission(TopicArn=self.topic_arn, Label="pub", AWSAccountId=[OTHER], ActionName=["Publish"])
        self.assertIn("MessageId", self.other.publish(TopicArn=self.topic_arn, Message="granted"))
        self.denied("Subscribe", self.other.subscribe, TopicArn=self.topic_arn, Protocol="email",
                    Endpoint="a@example.com")
        self.owner.remove_permission(TopicArn=self.topic_arn, Label="pub")
        self.denied("Publish", self.other.publish, TopicArn=self.topic_arn, Message="revoked")

    def test_cross_account_queue_confirms_through_the_unsigned_subscribe_url(self):
        url = self.other_sqs.create_queue(QueueName="theirs")["QueueUrl"]
        qarn = f"arn:aws:sqs:us-east-1:{OTHER}:theirs"
        self.assertEqual(self.owner.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"],
                         "pending confirmation")
        messages = self.other_sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        confirmation = json.loads(messages[0]["Body"])
        self.assertEqual(ordered_keys(messages[0]["Body"]),
                         ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp",
                          "SignatureVersion", "Signature", "SigningCertURL"])
        self.assertEqual(confirmation["Type"], "SubscriptionConfirmation")
        self.assertEqual(confirmation["Message"],
                         f"You have chosen to subscribe to the topic {self.topic_arn}.\nTo confirm the subscription, "
                         "visit the SubscribeURL included in this message.")
        self.assertRegex(confirmation["Token"], r"^[0-9a-f]{288}$")
        self.assertEqual(confirmation["SubscribeURL"],
                         f"{self.server.http_url}/?Action=ConfirmSubscription&TopicArn={self.topic_arn}"
                         f"&Token={confirmation['Token']}")
        self.assertTrue(verify_signature(confirmation, http_get(confirmation["SigningCertURL"])[2]))
        self.other_sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        self.owner.publish(TopicArn=self.topic_arn, Message="not yet")
        self.assertNotIn("Messages", self.other_sqs.receive_message(QueueUrl=url))

        status, _, body = http_get(confirmation["SubscribeURL"])
        self.assertEqual(status, 200, body)
        sub = fh.xml_find(body, "SubscriptionArn")
        self.assertTrue(sub.startswith(self.topic_arn + ":"))
        attrs = self.owner.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual((attrs["PendingConfirmation"], attrs["ConfirmationWasAuthenticated"]), ("false", "false"))
        self.assertEqual(http_get(confirmation["SubscribeURL"])[0], 200)  # confirming twice is fine

        self.owner.publish(TopicArn=self.topic_arn, Message="now")
        notification = json.loads(self.other_sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
        self.assertEqual(notification["Message"], "now")
        status, _, body = http_get(notification["UnsubscribeURL"])
        self.assertEqual(status, 200, body)
        self.assertEqual(self.owner.list_subscriptions_by_topic(TopicArn=self.topic_arn)["Subscriptions"], [])

    def test_signed_confirmation_by_the_queue_owner(self):
        url = self.other_sqs.create_queue(QueueName="signed")["QueueUrl"]
        qarn = f"arn:aws:sqs:us-east-1:{OTHER}:signed"
        arn = self.owner.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=qarn,
                                   ReturnSubscriptionArn=True)["SubscriptionArn"]
        token = json.loads(self.other_sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])["Token"]
        self.assertEqual(self.other.confirm_subscription(TopicArn=self.topic_arn, Token=token,
                                                         AuthenticateOnUnsubscribe="true")["SubscriptionArn"], arn)
        attrs = self.owner.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        self.assertEqual((attrs["PendingConfirmation"], attrs["ConfirmationWasAuthenticated"], attrs["Owner"]),
                         ("false", "true", OWNER))
        # AuthenticateOnUnsubscribe: the UnsubscribeURL alone no longer unsubscribes.
        self.owner.publish(TopicArn=self.topic_arn, Message="hello")
        notification = json.loads(self.other_sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
        self.assertEqual(http_get(notification["UnsubscribeURL"])[0], 403)
        self.owner.unsubscribe(SubscriptionArn=arn)
        self.assertEqual(self.owner.list_subscriptions()["Subscriptions"], [])

    def test_unsigned_requests_reach_only_the_url_actions(self):
        status, _, body = http_get(self.server.http_url + "/?Action=ListTopics&Version=2010-03-31")
        self.assertEqual(status, 403, body)
        status, _, body = http_get(self.server.http_url + "/?Action=ConfirmSubscription&TopicArn=" + self.topic_arn +
                                   "&Token=" + "ab" * 144)
        self.assertEqual((status, fh.parse_error(body)[:2]), (400, ("InvalidParameter", "Invalid parameter: Token")))


class SnsAuthOffAccountsTest(SnsTestBase):
    """With --auth off a 12-digit access key is the account."""

    server_args = ["--auth", "off"]

    def test_twelve_digit_keys_are_separate_accounts(self):
        a = self.server.client("sns", key="333333333333", secret="x")
        b = self.server.client("sns", key="444444444444", secret="x")
        topic = a.create_topic(Name="mine")["TopicArn"]
        self.assertEqual(topic, "arn:aws:sns:us-east-1:333333333333:mine")
        self.assertEqual(b.list_topics()["Topics"], [])
        self.assertEqual(self.error(b.publish, TopicArn=topic, Message="m")[::2], ("AuthorizationError", 403))


if __name__ == "__main__":
    fh.main()
