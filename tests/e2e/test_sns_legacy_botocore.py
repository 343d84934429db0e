#!/usr/bin/env python3
"""SNS publish → SQS receive with Debian's older boto3 (python3-boto3, botocore 1.29, SQS over the
Query protocol), in a subprocess: what a user with distribution packages runs."""

import json
import os
import subprocess
import sys
import textwrap
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402

DEBIAN_PYTHON = "/usr/bin/python3"

# Runs inside Debian's python3; prints one JSON object of results.
CLIENT_SCRIPT = textwrap.dedent(r'''
    import json, sys
    import boto3, botocore
    from botocore.exceptions import ClientError
    endpoint = sys.argv[1]
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test", config=botocore.config.Config(retries={"max_attempts": 1}))
    sns = boto3.client("sns", **kw)
    sqs = boto3.client("sqs", **kw)
    out = {"botocore": botocore.__version__, "sqs_protocol": sqs.meta.service_model.protocol}
    topic = sns.create_topic(Name="legacy")["TopicArn"]
    url = sqs.create_queue(QueueName="legacy-q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    raw_url = sqs.create_queue(QueueName="legacy-raw")["QueueUrl"]
    raw_arn = sqs.get_queue_attributes(QueueUrl=raw_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=raw_arn, Attributes={"RawMessageDelivery": "true"})
    out["subscriptions"] = sorted(s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"])
    published = sns.publish(TopicArn=topic, Message="hello <&> \u00e9", Subject="Hi",
                            MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"}})
    out["message_id"] = published["MessageId"]
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"][0]
    out["envelope"] = json.loads(got["Body"])
    raw = sqs.receive_message(QueueUrl=raw_url, WaitTimeSeconds=5, MessageAttributeNames=["All"])["Messages"][0]
    out["raw"] = [raw["Body"], raw["MessageAttributes"]["color"]["StringValue"]]
    batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one"}, {"Id": "b", "Message": "two"}])
    out["batch"] = sorted(e["Id"] for e in batch["Successful"])
    bodies = []
    for _ in range(5):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            bodies.append(json.loads(m["Body"])["Message"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(bodies) >= 2:
            break
    out["batch_bodies"] = sorted(bodies)
    try:
        sns.publish(TopicArn=topic + "-missing", Message="x")
    except ClientError as e:
        out["missing"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
    sns.unsubscribe(SubscriptionArn=sub)
    out["after_unsubscribe"] = len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"])
    print(json.dumps(out))
''')


class SnsLegacyBotocoreTest(fh.FogbankTestCase):
    def test_publish_to_queue_with_debian_boto3(self):
        if not os.path.exists(DEBIAN_PYTHON):
            raise unittest.SkipTest(f"{DEBIAN_PYTHON} not found")
        if subprocess.run([DEBIAN_PYTHON, "-c", "import boto3"], capture_output=True).returncode != 0:
            raise unittest.SkipTest("Debian's python3 has no boto3 (apt-get install python3-boto3)")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        proc = subprocess.run([DEBIAN_PYTHON, "-c", CLIENT_SCRIPT, self.server.http_url],
                              capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = json.loads(proc.stdout)
        self.assertEqual(out["sqs_protocol"], "query", out["botocore"])
        self.assertEqual(len(out["subscriptions"]), 2)
        env = out["envelope"]
        self.assertEqual((env["Type"], env["MessageId"], env["Message"], env["Subject"]),
                         ("Notification", out["message_id"], "hello <&> \u00e9", "Hi"))
        self.assertEqual(env["MessageAttributes"], {"color": {"Type": "String", "Value": "blue"}})
        self.assertEqual(out["raw"], ["hello <&> \u00e9", "blue"])
        self.assertEqual(out["batch"], ["a", "b"])
        self.assertEqual(out["batch_bodies"], ["one", "two"])
        self.assertEqual(out["missing"], ["NotFound", 404])
        self.assertEqual(out["after_unsubscribe"], 1)


if __name__ == "__main__":
    fh.main()
