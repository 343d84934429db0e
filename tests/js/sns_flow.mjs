// SNS through the AWS SDK for JavaScript v3 against fogbank: one flow of real client calls whose
// results are printed as one JSON document on stdout, asserted on by
// tests/e2e/test_sns_clients.py (this script asserts nothing itself).
//
//   node tests/js/sns_flow.mjs ENDPOINT [PREFIX]
//
// SNS speaks the Query protocol (awsQuery); SQS's client speaks AWS JSON 1.0 and validates the
// MD5 digests of what it sends and receives. Both are configured explicitly: endpoint, region and
// static credentials (test/test), so nothing is read from the environment or ~/.aws.
import {
  SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand, PublishBatchCommand,
  ListTopicsCommand, GetTopicAttributesCommand, ListSubscriptionsByTopicCommand,
  GetSubscriptionAttributesCommand, UnsubscribeCommand, DeleteTopicCommand,
} from "@aws-sdk/client-sns";
import {
  SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand,
  DeleteMessageCommand,
} from "@aws-sdk/client-sqs";

const endpoint = process.argv[2];
const prefix = process.argv[3] ?? "js";
if (!endpoint) {
  console.error("usage: node sns_flow.mjs ENDPOINT [PREFIX]");
  process.exit(2);
}
const common = {
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
};
const sns = new SNSClient(common);
const sqs = new SQSClient(common);

const out = {};

// Binary attribute values come back as Uint8Array: make them JSON-printable.
function plain(value) {
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString("base64") };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    const o = {};
    for (const [k, v] of Object.entries(value)) if (k !== "$metadata") o[k] = plain(v);
    return o;
  }
  return value;
}

function errorOf(err) {
  return {
    name: err.name,
    message: err.message,
    fault: err.$fault,
    httpStatusCode: err.$metadata?.httpStatusCode,
    requestId: err.$metadata?.requestId,
    isSnsException: err.constructor?.name ?? null,
  };
}

async function expectError(label, fn) {
  try {
    const r = await fn();
    out[label] = { unexpectedSuccess: plain(r) };
  } catch (err) {
    out[label] = errorOf(err);
  }
}

async function queue(name) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  return { url: QueueUrl, arn: attrs.Attributes.QueueArn };
}

// Receives until `want` messages arrived (or 5 s of long polls found none), deleting each.
async function drain(url, want) {
  const got = [];
  const deadline = Date.now() + 10000;
  while (got.length < want && Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
      MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"],
    }));
    for (const m of r.Messages ?? []) {
      got.push({ Body: m.Body, MD5OfBody: m.MD5OfBody, MessageAttributes: plain(m.MessageAttributes ?? null),
                 MD5OfMessageAttributes: m.MD5OfMessageAttributes ?? null,
                 SenderId: m.Attributes?.SenderId ?? null });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return got;
}

const attributes = {
  text: { DataType: "String", StringValue: "héllo" },
  count: { DataType: "Number", StringValue: "42.5" },
  blob: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 2, 253, 254, 255]) },
  tags: { DataType: "String.Array", StringValue: '["red", "green", 7]' },
};

async function main() {
  const topicName = `${prefix}-topic`;
  const created = await sns.send(new CreateTopicCommand({
    Name: topicName, Attributes: { DisplayName: "JS topic" }, Tags: [{ Key: "team", Value: "js" }],
  }));
  out.createTopic = { TopicArn: created.TopicArn, httpStatusCode: created.$metadata.httpStatusCode,
                      requestId: created.$metadata.requestId };
  const topicArn = created.TopicArn;

  const enveloped = await queue(`${prefix}-envelope`);
  const raw = await queue(`${prefix}-raw`);
  out.queues = { envelope: enveloped, raw };

  const sub = await sns.send(new SubscribeCommand({
    TopicArn: topicArn, Protocol: "sqs", Endpoint: enveloped.arn, ReturnSubscriptionArn: true,
  }));
  const rawSub = await sns.send(new SubscribeCommand({
    TopicArn: topicArn, Protocol: "sqs", Endpoint: raw.arn, Attributes: { RawMessageDelivery: "true" },
  }));
  out.subscribe = { envelope: sub.SubscriptionArn, raw: rawSub.SubscriptionArn };
  out.rawSubscriptionAttributes = plain((await sns.send(new GetSubscriptionAttributesCommand({
    SubscriptionArn: rawSub.SubscriptionArn }))).Attributes);

  const published = await sns.send(new PublishCommand({
    TopicArn: topicArn, Message: "hello from js", Subject: "js subject", MessageAttributes: attributes,
  }));
  out.publish = { MessageId: published.MessageId, SequenceNumber: published.SequenceNumber ?? null };
  out.publishReceived = { envelope: await drain(enveloped.url, 1), raw: await drain(raw.url, 1) };

  const batch = await sns.send(new PublishBatchCommand({
    TopicArn: topicArn,
    PublishBatchRequestEntries: [
      { Id: "first", Message: "batch one" },
      { Id: "second", Message: "batch two", Subject: "s2",
        MessageAttributes: { kind: { DataType: "String", StringValue: "b" } } },
      { Id: "bad", Message: "" },
    ],
  }));
  out.publishBatch = { Successful: plain(batch.Successful ?? []), Failed: plain(batch.Failed ?? []) };
  out.batchReceived = { envelope: await drain(enveloped.url, 2), raw: await drain(raw.url, 2) };

  out.listTopics = plain(await sns.send(new ListTopicsCommand({})));
  out.topicAttributes = plain((await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }))).Attributes);
  out.subscriptionsByTopic = plain((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn })))
    .Subscriptions);

  const unsub = await sns.send(new UnsubscribeCommand({ SubscriptionArn: sub.SubscriptionArn }));
  out.unsubscribe = { httpStatusCode: unsub.$metadata.httpStatusCode };
  out.subscriptionsAfterUnsubscribe = plain((await sns.send(new ListSubscriptionsByTopicCommand({
    TopicArn: topicArn }))).Subscriptions);
  await expectError("unsubscribedAttributes", () => sns.send(new GetSubscriptionAttributesCommand({
    SubscriptionArn: sub.SubscriptionArn })));

  const deleted = await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
  out.deleteTopic = { httpStatusCode: deleted.$metadata.httpStatusCode };
  out.listTopicsAfterDelete = plain(await sns.send(new ListTopicsCommand({})));

  await expectError("getMissingTopic", () => sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn })));
  await expectError("publishMissingTopic", () => sns.send(new PublishCommand({ TopicArn: topicArn, Message: "x" })));
  await expectError("invalidTopicName", () => sns.send(new CreateTopicCommand({ Name: "bad name!" })));
  await expectError("publishEmptyMessage", async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${prefix}-other` }));
    return sns.send(new PublishCommand({ TopicArn, Message: "" }));
  });
}

try {
  await main();
  out.ok = true;
} catch (err) {
  out.ok = false;
  out.fatal = { ...errorOf(err), stack: err.stack };
}
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
