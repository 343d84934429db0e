#!/usr/bin/env python3
"""SNS through real clients other than boto3: the AWS CLI v2 (Debian's awscli, /usr/bin/aws), the
AWS CLI v1 (python3 -m awscli) and the AWS SDK for JavaScript v3 (@aws-sdk/client-sns and
@aws-sdk/client-sqs run by node, tests/js/sns_flow.mjs).

Each client creates a topic, subscribes an SQS queue, publishes with message attributes (envelope
and raw delivery), lists, reads attributes, unsubscribes, deletes and meets AWS's errors; the
assertions are on exact values (ARNs, attribute documents, received bodies and attributes, error
codes, HTTP statuses, exit codes).

The JavaScript SDK is installed from tests/js/package-lock.json with `npm ci` when
tests/js/node_modules is missing or holds other versions; a failing npm fails the test."""

import base64
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(os.path.dirname(HERE), "js")
ACCOUNT = "000000000000"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UUID_RE = re.compile("^" + UUID + "$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SNS_SENDER_ID = "AIDAIT2UOQQY3AUEKVGXU"
DEFAULT_EFFECTIVE_DELIVERY_POLICY = (
    '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,'
    '"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},'
    '"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}')


def topic_arn(name):
    return f"arn:aws:sns:us-east-1:{ACCOUNT}:{name}"


def queue_arn(name):
    return f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


def default_policy(arn):
    return ('{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID",'
            '"Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes",'
            '"SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe",'
            '"SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"' + arn + '","Condition":'
            '{"StringEquals":{"AWS:SourceOwner":"' + ACCOUNT + '"}}}]}')


def topic_attributes(arn, display_name="", confirmed=0, deleted=0):
    return {
        "DisplayName": display_name,
        "EffectiveDeliveryPolicy": DEFAULT_EFFECTIVE_DELIVERY_POLICY,
        "Owner": ACCOUNT,
        "Policy": default_policy(arn),
        "SubscriptionsConfirmed": str(confirmed),
        "SubscriptionsDeleted": str(deleted),
        "SubscriptionsPending": "0",
        "TopicArn": arn,
    }


def md5_of_attributes(attrs):
    """SQS's MD5OfMessageAttributes (SQS developer guide): attrs maps name to DataType and
    StringValue or BinaryValue (bytes)."""
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


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class EnvelopeChecks:
    """Assertions on an SNS notification envelope delivered to SQS."""

    def assertEnvelope(self, body, *, message_id, topic, message, subject, attributes, subscription):
        env = json.loads(body)
        expected_keys = ["Type", "MessageId", "TopicArn"] + (["Subject"] if subject is not None else []) + [
            "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"] + (
            ["MessageAttributes"] if attributes else [])
        self.assertEqual(list(env), expected_keys, body)
        self.assertEqual(env["Type"], "Notification")
        self.assertEqual(env["MessageId"], message_id)
        self.assertEqual(env["TopicArn"], topic)
        if subject is not None:
            self.assertEqual(env["Subject"], subject)
        self.assertEqual(env["Message"], message)
        self.assertRegex(env["Timestamp"], TIMESTAMP_RE)
        self.assertEqual(env["SignatureVersion"], "1")
        self.assertEqual(len(base64.b64decode(env["Signature"], validate=True)), 256)  # RSA-2048, SHA1withRSA
        self.assertRegex(env["SigningCertURL"], "^" + re.escape(self.server.http_url) +
                         r"/SimpleNotificationService-[0-9a-f]{32}\.pem$")
        self.assertEqual(env["UnsubscribeURL"],
                         f"{self.server.http_url}/?Action=Unsubscribe&SubscriptionArn={subscription}")
        if attributes:
            self.assertEqual(env["MessageAttributes"], attributes)


# --------------------------------------------------------------------------------- AWS CLI

def cli_v2():
    """Debian's AWS CLI v2, or None."""
    exe = "/usr/bin/aws"
    if not os.access(exe, os.X_OK):
        return None
    try:
        r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [exe] if r.returncode == 0 and r.stdout.startswith("aws-cli/2.") else None


def cli_v1():
    """The AWS CLI v1 as a module of this python, or None."""
    try:
        r = subprocess.run([sys.executable, "-m", "awscli", "--version"], capture_output=True, text=True,
                           timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = r.stdout + r.stderr  # v1 printed its version on stderr before 1.20
    return [sys.executable, "-m", "awscli"] if r.returncode == 0 and out.startswith("aws-cli/1.") else None


class CliSnsFlow(EnvelopeChecks):
    """The flow, shared by the v1 and v2 test classes. Subclasses set `cli`, `service_error_exit`
    (v2 exits 254 when the service answered an error, v1 255) and `binary_in` / `binary_bytes`:
    a Binary attribute's BinaryValue as typed on the command line and the bytes that go on the wire
    (v2 reads blobs as base64; v1 takes the text itself)."""

    cli: list
    service_error_exit: int
    binary_in = "AAEC/f7/"
    binary_bytes: bytes

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.home = tempfile.mkdtemp(prefix="fogbank-sns-cli-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.home, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        self.server.reset()

    def env(self, secret):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.path.join(self.home, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "credentials"),
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "AWS_PAGER": "",
            "HOME": self.home,
        })
        return env

    def aws(self, *args, secret="test"):
        cmd = self.cli + list(args) + ["--endpoint-url", self.server.http_url, "--output", "json"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=self.env(secret))

    def aws_json(self, *args):
        r = self.aws(*args)
        self.assertEqual(r.returncode, 0, f"aws {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
        return json.loads(r.stdout) if r.stdout.strip() else None

    def aws_error(self, *args, secret="test"):
        r = self.aws(*args, secret=secret)
        self.assertEqual(r.returncode, self.service_error_exit, f"aws {' '.join(args)}:\n{r.stdout}\n{r.stderr}")
        self.assertEqual(r.stdout, "")
        return r.stderr

    def receive_one(self, url):
        out = self.aws_json("sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "5",
                            "--max-number-of-messages", "10", "--attribute-names", "All",
                            "--message-attribute-names", "All")
        messages = (out or {}).get("Messages", [])
        self.assertEqual(len(messages), 1, out)
        m = messages[0]
        self.aws_json("sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
        self.assertEqual(m["MD5OfBody"], md5(m["Body"]))
        self.assertEqual(m["Attributes"]["SenderId"], SNS_SENDER_ID)
        return m

    def message_attributes_arg(self):
        return json.dumps({
            "text": {"DataType": "String", "StringValue": "héllo wörld"},
            "count": {"DataType": "Number", "StringValue": "-1250.75"},
            "blob": {"DataType": "Binary", "BinaryValue": self.binary_in},
            "tags": {"DataType": "String.Array", "StringValue": '["a", "b", 3]'},
        })

    def test_topic_subscription_publish_flow(self):
        name = "cli-orders"
        arn = topic_arn(name)
        out = self.aws_json("sns", "create-topic", "--name", name, "--attributes", "DisplayName=Orders",
                            "--tags", "Key=team,Value=cli")
        self.assertEqual(out, {"TopicArn": arn})
        self.assertEqual(self.aws_json("sns", "list-topics"), {"Topics": [{"TopicArn": arn}]})
        self.assertEqual(self.aws_json("sns", "list-tags-for-resource", "--resource-arn", arn),
                         {"Tags": [{"Key": "team", "Value": "cli"}]})

        url = self.aws_json("sqs", "create-queue", "--queue-name", "cli-orders-q")["QueueUrl"]
        self.assertEqual(url, f"{self.server.http_url}/{ACCOUNT}/cli-orders-q")
        qarn = queue_arn("cli-orders-q")

        sub = self.aws_json("sns", "subscribe", "--topic-arn", arn, "--protocol", "sqs",
                            "--notification-endpoint", qarn)["SubscriptionArn"]
        self.assertRegex(sub, "^" + re.escape(arn) + ":" + UUID + "$")
        listed = {"SubscriptionArn": sub, "Owner": ACCOUNT, "Protocol": "sqs", "Endpoint": qarn, "TopicArn": arn}
        self.assertEqual(self.aws_json("sns", "list-subscriptions-by-topic", "--topic-arn", arn),
                         {"Subscriptions": [listed]})
        self.assertEqual(self.aws_json("sns", "list-subscriptions"), {"Subscriptions": [listed]})
        self.assertEqual(self.aws_json("sns", "get-topic-attributes", "--topic-arn", arn),
                         {"Attributes": topic_attributes(arn, "Orders", confirmed=1)})

        # Envelope delivery: the attributes travel inside the JSON envelope only.
        out = self.aws_json("sns", "publish", "--topic-arn", arn, "--message", "order #1 \"paid\"",
                            "--subject", "Order update", "--message-attributes", self.message_attributes_arg())
        self.assertEqual(list(out), ["MessageId"])
        self.assertRegex(out["MessageId"], UUID_RE)
        m = self.receive_one(url)
        self.assertNotIn("MessageAttributes", m)
        self.assertEnvelope(m["Body"], message_id=out["MessageId"], topic=arn, message="order #1 \"paid\"",
                            subject="Order update", subscription=sub, attributes={
                                "blob": {"Type": "Binary", "Value": base64.b64encode(self.binary_bytes).decode()},
                                "count": {"Type": "Number", "Value": "-1250.75"},
                                "tags": {"Type": "String.Array", "Value": '["a", "b", 3]'},
                                "text": {"Type": "String", "Value": "héllo wörld"},
                            })

        # Raw delivery: the body as published, the attributes as SQS message attributes
        # (String.Array becomes String: SQS has no array type).
        self.assertEqual(self.aws_json("sns", "set-subscription-attributes", "--subscription-arn", sub,
                                       "--attribute-name", "RawMessageDelivery", "--attribute-value", "true"), None)
        attrs = self.aws_json("sns", "get-subscription-attributes", "--subscription-arn", sub)["Attributes"]
        self.assertEqual(attrs, {
            "ConfirmationWasAuthenticated": "true", "Endpoint": qarn, "Owner": ACCOUNT, "PendingConfirmation": "false",
            "Protocol": "sqs", "RawMessageDelivery": "true", "SubscriptionArn": sub,
            "SubscriptionPrincipal": f"arn:aws:iam::{ACCOUNT}:root", "TopicArn": arn})
        out = self.aws_json("sns", "publish", "--topic-arn", arn, "--message", "raw order #2",
                            "--subject", "ignored when raw", "--message-attributes", self.message_attributes_arg())
        m = self.receive_one(url)
        self.assertEqual(m["Body"], "raw order #2")
        self.assertEqual(m["MessageAttributes"], {
            "blob": {"BinaryValue": base64.b64encode(self.binary_bytes).decode(), "DataType": "Binary"},
            "count": {"StringValue": "-1250.75", "DataType": "Number"},
            "tags": {"StringValue": '["a", "b", 3]', "DataType": "String"},
            "text": {"StringValue": "héllo wörld", "DataType": "String"},
        })
        self.assertEqual(m["MD5OfMessageAttributes"], md5_of_attributes({
            "blob": {"DataType": "Binary", "BinaryValue": self.binary_bytes},
            "count": {"DataType": "Number", "StringValue": "-1250.75"},
            "tags": {"DataType": "String", "StringValue": '["a", "b", 3]'},
            "text": {"DataType": "String", "StringValue": "héllo wörld"},
        }))

        # Unsubscribe: nothing is delivered any more, the topic counts the deletion.
        self.assertEqual(self.aws_json("sns", "unsubscribe", "--subscription-arn", sub), None)
        self.assertEqual(self.aws_json("sns", "list-subscriptions-by-topic", "--topic-arn", arn),
                         {"Subscriptions": []})
        self.assertEqual(self.aws_json("sns", "get-topic-attributes", "--topic-arn", arn),
                         {"Attributes": topic_attributes(arn, "Orders", deleted=1)})
        self.aws_json("sns", "publish", "--topic-arn", arn, "--message", "to nobody")
        self.assertEqual(self.aws_json("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names",
                                       "ApproximateNumberOfMessages"),
                         {"Attributes": {"ApproximateNumberOfMessages": "0"}})
        stderr = self.aws_error("sns", "get-subscription-attributes", "--subscription-arn", sub)
        self.assertIn("An error occurred (NotFound) when calling the GetSubscriptionAttributes operation", stderr)
        self.assertIn(": Subscription does not exist", stderr)

        # DeleteTopic, twice (idempotent, as on AWS).
        self.assertEqual(self.aws_json("sns", "delete-topic", "--topic-arn", arn), None)
        self.assertEqual(self.aws_json("sns", "delete-topic", "--topic-arn", arn), None)
        self.assertEqual(self.aws_json("sns", "list-topics"), {"Topics": []})

    def test_errors(self):
        missing = topic_arn("cli-never-created")
        stderr = self.aws_error("sns", "get-topic-attributes", "--topic-arn", missing)
        self.assertIn("An error occurred (NotFound) when calling the GetTopicAttributes operation", stderr)
        self.assertTrue(stderr.rstrip().endswith(": Topic does not exist"), stderr)
        stderr = self.aws_error("sns", "publish", "--topic-arn", missing, "--message", "m")
        self.assertIn("An error occurred (NotFound) when calling the Publish operation", stderr)

        arn = self.aws_json("sns", "create-topic", "--name", "cli-errors")["TopicArn"]
        stderr = self.aws_error("sns", "subscribe", "--topic-arn", arn, "--protocol", "carrier-pigeon",
                                "--notification-endpoint", "coop-7")
        self.assertIn("An error occurred (InvalidParameter) when calling the Subscribe operation", stderr)
        self.assertTrue(stderr.rstrip().endswith(
            ": Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"), stderr)
        stderr = self.aws_error("sns", "create-topic", "--name", "bad name")
        self.assertIn("An error occurred (InvalidParameter) when calling the CreateTopic operation", stderr)
        self.assertTrue(stderr.rstrip().endswith(": Invalid parameter: Topic Name"), stderr)
        stderr = self.aws_error("sns", "set-subscription-attributes", "--subscription-arn",
                                arn + ":00000000-0000-0000-0000-000000000000", "--attribute-name",
                                "RawMessageDelivery", "--attribute-value", "true")
        self.assertIn("An error occurred (NotFound) when calling the SetSubscriptionAttributes operation", stderr)
        self.assertTrue(stderr.rstrip().endswith(": Subscription does not exist"), stderr)

        # A wrong secret is refused before any SNS code runs.
        stderr = self.aws_error("sns", "list-topics", secret="wrong")
        self.assertIn("An error occurred (SignatureDoesNotMatch) when calling the ListTopics operation", stderr)


CLI_V2 = cli_v2()
CLI_V1 = cli_v1()


@unittest.skipIf(CLI_V2 is None, "AWS CLI v2 not installed at /usr/bin/aws (Debian: apt-get install awscli)")
class AwsCliV2SnsTest(CliSnsFlow, fh.FogbankTestCase):
    cli = CLI_V2
    service_error_exit = 254
    binary_bytes = bytes([0, 1, 2, 253, 254, 255])  # --cli-binary-format base64 (v2's default)


@unittest.skipIf(CLI_V1 is None, "AWS CLI v1 not importable by this python (pip install awscli)")
class AwsCliV1SnsTest(CliSnsFlow, fh.FogbankTestCase):
    cli = CLI_V1
    service_error_exit = 255
    binary_bytes = b"AAEC/f7/"  # v1 sends the text as typed


# ------------------------------------------------------------------------- JavaScript SDK v3

def _pinned_versions():
    with open(os.path.join(JS_DIR, "package.json")) as f:
        return json.load(f)["dependencies"]


def _installed_version(package):
    try:
        with open(os.path.join(JS_DIR, "node_modules", *package.split("/"), "package.json")) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return None


def ensure_js_sdk():
    """Installs tests/js/node_modules from the lock file unless it already holds the pinned
    versions. Raises (the test fails) if node or npm is missing or npm fails."""
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node not found on PATH: the JavaScript SDK test needs Node.js >= 20")
    pinned = _pinned_versions()
    if all(_installed_version(p) == v for p, v in pinned.items()):
        return node
    # ctest runs several JavaScript tests at once: one installs, the others wait and reuse it.
    import fcntl
    with open(os.path.join(JS_DIR, ".install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _install_js_sdk(node, pinned)


def _install_js_sdk(node, pinned):
    if all(_installed_version(p) == v for p, v in pinned.items()):
        return node
    npm = shutil.which("npm")
    if npm is None:
        raise AssertionError("npm not found on PATH: cannot install tests/js/node_modules")
    r = subprocess.run([npm, "ci", "--prefix", JS_DIR, "--no-audit", "--no-fund"], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        raise AssertionError(f"npm ci --prefix {JS_DIR} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    wrong = {p: _installed_version(p) for p, v in pinned.items() if _installed_version(p) != v}
    if wrong:
        raise AssertionError(f"npm ci installed {wrong}, package.json pins {pinned}")
    return node


class JsSdkSnsTest(EnvelopeChecks, fh.FogbankTestCase):
    """tests/js/sns_flow.mjs against one fogbank; every assertion is on its JSON output."""

    @classmethod
    def setUpClass(cls):
        cls.node = ensure_js_sdk()
        super().setUpClass()
        try:
            r = subprocess.run([cls.node, os.path.join(JS_DIR, "sns_flow.mjs"), cls.server.http_url, "js"],
                               capture_output=True, text=True, timeout=120, cwd=JS_DIR,
                               env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
        except BaseException:
            cls.server.close()
            raise
        cls.stderr = r.stderr
        try:
            cls.out = json.loads(r.stdout)
        except ValueError:
            cls.out = None
        cls.exit_code = r.returncode
        cls.stdout = r.stdout

    def setUp(self):
        self.assertEqual(self.exit_code, 0, f"node exited {self.exit_code}:\n{self.stdout}\n{self.stderr}")
        self.assertIsNotNone(self.out, f"node printed no JSON:\n{self.stdout}\n{self.stderr}")
        self.assertTrue(self.out.get("ok"), json.dumps(self.out.get("fatal"), indent=2) + "\n" + self.stderr)

    @property
    def arn(self):
        return topic_arn("js-topic")

    def test_create_topic_and_subscribe(self):
        o = self.out
        self.assertEqual(o["createTopic"]["TopicArn"], self.arn)
        self.assertEqual(o["createTopic"]["httpStatusCode"], 200)
        self.assertRegex(o["createTopic"]["requestId"], UUID_RE)
        self.assertEqual(o["queues"], {
            "envelope": {"url": f"{self.server.http_url}/{ACCOUNT}/js-envelope", "arn": queue_arn("js-envelope")},
            "raw": {"url": f"{self.server.http_url}/{ACCOUNT}/js-raw", "arn": queue_arn("js-raw")},
        })
        for kind in ("envelope", "raw"):
            self.assertRegex(o["subscribe"][kind], "^" + re.escape(self.arn) + ":" + UUID + "$")
        self.assertNotEqual(o["subscribe"]["envelope"], o["subscribe"]["raw"])
        self.assertEqual(o["rawSubscriptionAttributes"], {
            "ConfirmationWasAuthenticated": "true", "Endpoint": queue_arn("js-raw"), "Owner": ACCOUNT,
            "PendingConfirmation": "false", "Protocol": "sqs", "RawMessageDelivery": "true",
            "SubscriptionArn": o["subscribe"]["raw"], "SubscriptionPrincipal": f"arn:aws:iam::{ACCOUNT}:root",
            "TopicArn": self.arn})

    def test_publish_with_message_attributes(self):
        o = self.out
        message_id = o["publish"]["MessageId"]
        self.assertRegex(message_id, UUID_RE)
        self.assertIsNone(o["publish"]["SequenceNumber"])
        blob = bytes([0, 1, 2, 253, 254, 255])
        [env] = o["publishReceived"]["envelope"]
        self.assertEqual(env["MD5OfBody"], md5(env["Body"]))
        self.assertEqual(env["SenderId"], SNS_SENDER_ID)
        self.assertIsNone(env["MessageAttributes"])
        self.assertIsNone(env["MD5OfMessageAttributes"])
        self.assertEnvelope(env["Body"], message_id=message_id, topic=self.arn, message="hello from js",
                            subject="js subject", subscription=o["subscribe"]["envelope"], attributes={
                                "blob": {"Type": "Binary", "Value": base64.b64encode(blob).decode()},
                                "count": {"Type": "Number", "Value": "42.5"},
                                "tags": {"Type": "String.Array", "Value": '["red", "green", 7]'},
                                "text": {"Type": "String", "Value": "héllo"},
                            })
        [raw] = o["publishReceived"]["raw"]
        self.assertEqual(raw["Body"], "hello from js")
        self.assertEqual(raw["MD5OfBody"], md5("hello from js"))
        self.assertEqual(raw["SenderId"], SNS_SENDER_ID)
        self.assertEqual(raw["MessageAttributes"], {
            "blob": {"DataType": "Binary", "BinaryValue": {"base64": base64.b64encode(blob).decode()}},
            "count": {"DataType": "Number", "StringValue": "42.5"},
            "tags": {"DataType": "String", "StringValue": '["red", "green", 7]'},
            "text": {"DataType": "String", "StringValue": "héllo"},
        })
        self.assertEqual(raw["MD5OfMessageAttributes"], md5_of_attributes({
            "blob": {"DataType": "Binary", "BinaryValue": blob},
            "count": {"DataType": "Number", "StringValue": "42.5"},
            "tags": {"DataType": "String", "StringValue": '["red", "green", 7]'},
            "text": {"DataType": "String", "StringValue": "héllo"},
        }))

    def test_publish_batch(self):
        o = self.out
        ok = o["publishBatch"]["Successful"]
        self.assertEqual([e["Id"] for e in ok], ["first", "second"])
        for e in ok:
            self.assertEqual(sorted(e), ["Id", "MessageId"])
            self.assertRegex(e["MessageId"], UUID_RE)
        self.assertEqual(o["publishBatch"]["Failed"], [
            {"Id": "bad", "Code": "InvalidParameter", "SenderFault": True,
             "Message": "Invalid parameter: Empty message"}])
        ids = {e["Id"]: e["MessageId"] for e in ok}
        envelopes = {json.loads(m["Body"])["MessageId"]: m for m in o["batchReceived"]["envelope"]}
        self.assertEqual(sorted(envelopes), sorted(ids.values()))
        self.assertEnvelope(envelopes[ids["first"]]["Body"], message_id=ids["first"], topic=self.arn,
                            message="batch one", subject=None, attributes=None,
                            subscription=o["subscribe"]["envelope"])
        self.assertEnvelope(envelopes[ids["second"]]["Body"], message_id=ids["second"], topic=self.arn,
                            message="batch two", subject="s2", subscription=o["subscribe"]["envelope"],
                            attributes={"kind": {"Type": "String", "Value": "b"}})
        raw = sorted(o["batchReceived"]["raw"], key=lambda m: m["Body"])
        self.assertEqual([(m["Body"], m["MessageAttributes"]) for m in raw], [
            ("batch one", None),
            ("batch two", {"kind": {"DataType": "String", "StringValue": "b"}}),
        ])
        self.assertEqual(raw[1]["MD5OfMessageAttributes"],
                         md5_of_attributes({"kind": {"DataType": "String", "StringValue": "b"}}))

    def test_list_and_get_attributes(self):
        o = self.out
        self.assertEqual(o["listTopics"], {"Topics": [{"TopicArn": self.arn}]})
        self.assertEqual(o["topicAttributes"], topic_attributes(self.arn, "JS topic", confirmed=2))
        subs = o["subscribe"]
        self.assertEqual(o["subscriptionsByTopic"], [
            {"SubscriptionArn": subs["envelope"], "Owner": ACCOUNT, "Protocol": "sqs",
             "Endpoint": queue_arn("js-envelope"), "TopicArn": self.arn},
            {"SubscriptionArn": subs["raw"], "Owner": ACCOUNT, "Protocol": "sqs",
             "Endpoint": queue_arn("js-raw"), "TopicArn": self.arn},
        ])

    def test_unsubscribe_and_delete_topic(self):
        o = self.out
        self.assertEqual(o["unsubscribe"], {"httpStatusCode": 200})
        self.assertEqual([s["SubscriptionArn"] for s in o["subscriptionsAfterUnsubscribe"]], [o["subscribe"]["raw"]])
        self.assertEqual(o["deleteTopic"], {"httpStatusCode": 200})
        self.assertEqual(o["listTopicsAfterDelete"], {"Topics": []})

    def assertSdkError(self, got, name, message, status):
        self.assertEqual((got.get("name"), got.get("message"), got.get("fault"), got.get("httpStatusCode")),
                         (name, message, "client", status), got)
        self.assertEqual(got["isSnsException"], name)  # the modeled exception class, not a generic one
        self.assertRegex(got["requestId"], UUID_RE)

    def test_errors(self):
        o = self.out
        self.assertSdkError(o["unsubscribedAttributes"], "NotFoundException", "Subscription does not exist", 404)
        self.assertSdkError(o["getMissingTopic"], "NotFoundException", "Topic does not exist", 404)
        self.assertSdkError(o["publishMissingTopic"], "NotFoundException", "Topic does not exist", 404)
        self.assertSdkError(o["invalidTopicName"], "InvalidParameterException", "Invalid parameter: Topic Name", 400)
        self.assertSdkError(o["publishEmptyMessage"], "InvalidParameterException",
                            "Invalid parameter: Empty message", 400)


if __name__ == "__main__":
    fh.main()
