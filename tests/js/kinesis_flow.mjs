// Kinesis through the JavaScript SDK v3 (@aws-sdk/client-kinesis) with its DEFAULT request handler,
// driven by tests/e2e/test_kinesis_js.py. That handler is NodeHttp2Handler: h2c with prior
// knowledge for an http:// endpoint, ALPN h2 for https:// (the CA comes from NODE_EXTRA_CA_CERTS).
//
//   node tests/js/kinesis_flow.mjs ENDPOINT
//
// Checks the flow itself (a failed check throws) and prints one JSON summary on stdout; any
// failure prints {"error", "message", "stack"} and exits 1. SubscribeToShard is read through the
// SDK's own event-stream parser (for await over response.EventStream).
import assert from "node:assert/strict";
import crypto from "node:crypto";
import {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordCommand, PutRecordsCommand,
  ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand, RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand, SubscribeToShardCommand, DeleteStreamCommand, ResourceNotFoundException,
} from "@aws-sdk/client-kinesis";

const [endpoint] = process.argv.slice(2);
if (!endpoint) {
  console.error("usage: node kinesis_flow.mjs ENDPOINT");
  process.exit(2);
}
const t0 = Date.now();
const ms = () => Date.now() - t0;
const sleep = (n) => new Promise((r) => setTimeout(r, n));
const hex = (u8) => Buffer.from(u8).toString("hex");

// Polls `probe` until it returns a truthy value, for at most `limitMs`.
async function until(what, probe, limitMs = 15000) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function flow(client, out) {
  const tls = endpoint.startsWith("https:");
  const name = `kjs-${tls ? "s" : "c"}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  out.stream = name;

  // A missing stream maps to the SDK's modeled exception class.
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: `${name}-missing` }));
    throw new Error("DescribeStreamSummary of a missing stream succeeded");
  } catch (e) {
    assert.ok(e instanceof ResourceNotFoundException, `not a ResourceNotFoundException: ${e?.name}: ${e?.message}`);
    out.missing = { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode, fault: e.$fault,
                    requestId: e.$metadata?.requestId ?? null };
    assert.match(e.message, /not found/, "the message of ResourceNotFoundException");
  }

  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  const created = ms();
  const summary = await until("the stream to be ACTIVE", async () => {
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary;
    return s.StreamStatus === "ACTIVE" ? s : null;
  });
  out.activeAfterMs = ms() - created;
  out.streamArn = summary.StreamARN;
  out.openShardCount = summary.OpenShardCount;

  // Bytes that are not UTF-8, bytes that are, and random ones.
  const payloads = [
    Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x0d, 0x00]),
    Buffer.from("héllo kinesis ✓", "utf8"),
    crypto.randomBytes(256),
    crypto.randomBytes(37),
  ];
  const keys = ["pk-0", "pk-1", "pk-2", "pk-3"];
  const written = [];
  const first = await client.send(new PutRecordCommand({ StreamName: name, Data: payloads[0], PartitionKey: keys[0] }));
  written.push({ seq: first.SequenceNumber, shard: first.ShardId, key: keys[0], data: payloads[0] });
  const batch = await client.send(new PutRecordsCommand({
    StreamName: name,
    Records: payloads.slice(1).map((d, i) => ({ Data: d, PartitionKey: keys[i + 1] })),
  }));
  assert.equal(batch.FailedRecordCount ?? 0, 0, `PutRecords failed: ${JSON.stringify(batch)}`);
  batch.Records.forEach((r, i) => written.push({ seq: r.SequenceNumber, shard: r.ShardId, key: keys[i + 1],
                                                  data: payloads[i + 1] }));
  out.written = written.map((w) => ({ seq: w.seq, shard: w.shard, key: w.key, dataHex: hex(w.data) }));

  const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards;
  out.shards = shards.map((s) => s.ShardId);
  const shardId = shards[0].ShardId;
  assert.ok(written.every((w) => w.shard === shardId), "a record landed outside the only shard");

  // Polling read: every record, bytes intact.
  let iterator = (await client.send(new GetShardIteratorCommand({
    StreamName: name, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON",
  }))).ShardIterator;
  const polled = [];
  for (let i = 0; i < 10 && polled.length < written.length; i++) {
    const got = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
    polled.push(...got.Records);
    iterator = got.NextShardIterator;
  }
  out.getRecords = polled.map((r) => ({ seq: r.SequenceNumber, key: r.PartitionKey, dataHex: hex(r.Data),
                                         dataIsUint8Array: r.Data instanceof Uint8Array }));
  assert.deepEqual(out.getRecords.map((r) => [r.seq, r.key, r.dataHex]),
                   out.written.map((w) => [w.seq, w.key, w.dataHex]), "GetRecords did not return what was put");

  // An enhanced fan-out consumer, ACTIVE before it subscribes.
  const consumer = (await client.send(new RegisterStreamConsumerCommand({
    StreamARN: summary.StreamARN, ConsumerName: `c-${process.pid}`,
  }))).Consumer;
  out.consumerArn = consumer.ConsumerARN;
  out.consumerStatusAtRegister = consumer.ConsumerStatus;
  const registered = ms();
  await until("the consumer to be ACTIVE", async () => {
    const d = (await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumer.ConsumerARN })))
      .ConsumerDescription;
    return d.ConsumerStatus === "ACTIVE";
  });
  out.consumerActiveAfterMs = ms() - registered;

  // SubscribeToShard, read through the SDK's event-stream parser.
  const abort = new AbortController();
  const subscribeStarted = ms();
  const sub = await client.send(new SubscribeToShardCommand({
    ConsumerARN: consumer.ConsumerARN, ShardId: shardId, StartingPosition: { Type: "TRIM_HORIZON" },
  }), { abortSignal: abort.signal });
  out.subscribe = {
    status: sub.$metadata.httpStatusCode, requestId: sub.$metadata.requestId ?? null,
    outputKeys: Object.keys(sub).filter((k) => k !== "$metadata" && k !== "EventStream").sort(),
    headersMs: ms() - subscribeStarted, events: [],
  };
  const later = { data: crypto.randomBytes(64), key: "pk-later" };
  let laterPut = null;
  let laterSeenMs = null;
  // Should the awaited event never come, the subscription is aborted and the loop throws.
  const watchdog = setTimeout(() => abort.abort(), 20000);
  for await (const event of sub.EventStream) {
    const kinds = Object.keys(event);
    const e = event.SubscribeToShardEvent;
    out.subscribe.events.push(e ? {
      at_ms: ms() - subscribeStarted,
      records: e.Records.map((r) => ({ seq: r.SequenceNumber, key: r.PartitionKey, dataHex: hex(r.Data),
                                       arrival: r.ApproximateArrivalTimestamp instanceof Date })),
      continuation: e.ContinuationSequenceNumber, millisBehindLatest: e.MillisBehindLatest,
      childShards: e.ChildShards ?? null,
    } : { at_ms: ms() - subscribeStarted, kinds, raw: String(JSON.stringify(event)).slice(0, 500) });
    if (!e) throw new Error(`an event that is not a SubscribeToShardEvent: ${kinds}`);
    if (laterPut === null) {
      // The first event: every record already written, in order, bytes intact.
      const got = out.subscribe.events[0];
      assert.deepEqual(got.records.map((r) => [r.seq, r.key, r.dataHex]),
                       out.written.map((w) => [w.seq, w.key, w.dataHex]), "the first event is not the records written");
      assert.equal(got.continuation, written[written.length - 1].seq, "ContinuationSequenceNumber");
      // The records already written came first; now one more while subscribed.
      const r = await client.send(new PutRecordCommand({ StreamName: name, Data: later.data, PartitionKey: later.key }));
      laterPut = { seq: r.SequenceNumber, at_ms: ms() - subscribeStarted };
      out.later = { seq: r.SequenceNumber, key: later.key, dataHex: hex(later.data), put_ms: laterPut.at_ms };
      continue;
    }
    if (e.Records.some((r) => r.SequenceNumber === laterPut.seq)) {
      laterSeenMs = ms() - subscribeStarted;
      break;  // leaves the subscription: the SDK's iterator returns, and we abort the stream
    }
  }
  clearTimeout(watchdog);
  if (laterSeenMs === null) throw new Error("the event stream ended before the record put while subscribed arrived");
  out.later.seen_ms = laterSeenMs;
  abort.abort();
  const seen = out.subscribe.events.flatMap((ev) => ev.records ?? []).find((r) => r.seq === laterPut.seq);
  assert.deepEqual([seen.key, seen.dataHex], [later.key, hex(later.data)], "the record put while subscribed");

  await client.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true }));
  out.deleted = true;
}

const client = new KinesisClient({
  endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1,
});
const handler = client.config.requestHandler;
const out = {
  handler: handler?.constructor?.name ?? null,
  protocol: handler?.metadata?.handlerProtocol ?? null,
  sdkVersion: null,
};
try {
  const { createRequire } = await import("node:module");
  out.sdkVersion = createRequire(import.meta.url)("@aws-sdk/client-kinesis/package.json").version;
} catch {
  // not needed for the flow
}
try {
  await flow(client, out);
  out.total_ms = ms();
  client.destroy();
  console.log(JSON.stringify(out));
} catch (e) {
  client.destroy();
  console.log(JSON.stringify({ ...out, error: String(e?.name ?? e), message: String(e?.message ?? ""),
                               stack: String(e?.stack ?? "") }));
  process.exit(1);
}
