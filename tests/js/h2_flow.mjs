// HTTP/2 against fogbank, driven by tests/e2e/test_http2.py; prints one JSON document on stdout
// (this script asserts nothing itself).
//
//   node tests/js/h2_flow.mjs sdk ENDPOINT [CA_FILE]
//     SQS through the JavaScript SDK v3 with NodeHttp2Handler: h2c with prior knowledge for an
//     http:// endpoint, ALPN h2 for https://. A long poll runs while other calls share its session.
//   node tests/js/h2_flow.mjs raw ENDPOINT SPEC_FILE [CA_FILE]
//     Node's own http2 client: every request of SPEC_FILE (JSON: [{name, method, path, headers,
//     body_file?, body?, delay_ms?, cancel_ms?}]) at once on ONE session; their statuses, timings
//     and bodies. cancel_ms resets that stream (RST_STREAM CANCEL) after so many milliseconds;
//     stall_after_bytes sends that much of a body and then nothing more.
import fs from "node:fs";
import http2 from "node:http2";
import crypto from "node:crypto";
import { NodeHttp2Handler } from "@smithy/node-http-handler";
import {
  SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand, GetQueueUrlCommand,
  ListQueuesCommand,
} from "@aws-sdk/client-sqs";

const [mode, endpoint, ...rest] = process.argv.slice(2);
if (!mode || !endpoint) {
  console.error("usage: node h2_flow.mjs sdk|raw ENDPOINT ...");
  process.exit(2);
}
const t0 = Date.now();
const ms = () => Date.now() - t0;

async function sdkFlow(caFile) {
  const connectOptions = caFile ? { ca: fs.readFileSync(caFile) } : undefined;
  const handler = new NodeHttp2Handler({ requestTimeout: 20000, nodeHttp2ConnectOptions: connectOptions });
  const sqs = new SQSClient({
    endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1,
    requestHandler: handler,
  });
  const out = { protocol: handler.metadata.handlerProtocol };
  const tag = `h2${process.pid}${endpoint.startsWith("https") ? "s" : "c"}`;
  const a = (await sqs.send(new CreateQueueCommand({ QueueName: `${tag}-a` }))).QueueUrl;
  const b = (await sqs.send(new CreateQueueCommand({ QueueName: `${tag}-b` }))).QueueUrl;
  out.queueUrls = [a, b];
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl: a, MessageBody: "hello over h2" }));
  out.sentId = sent.MessageId;
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: a, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
  out.received = (got.Messages ?? []).map((m) => ({ id: m.MessageId, body: m.Body }));

  // A long poll on the empty queue b; the calls below share its session and must not wait for it.
  const pollStart = ms();
  const poll = sqs.send(new ReceiveMessageCommand({ QueueUrl: b, MaxNumberOfMessages: 1, WaitTimeSeconds: 10 }))
    .then((r) => ({ done_ms: ms() - pollStart, bodies: (r.Messages ?? []).map((m) => m.Body) }));
  await new Promise((r) => setTimeout(r, 300));  // the poll is in flight on the server
  const others = [];
  for (let i = 0; i < 5; i++) {
    others.push(sqs.send(new GetQueueUrlCommand({ QueueName: `${tag}-a` })).then(() => ms() - pollStart));
    others.push(sqs.send(new ListQueuesCommand({ QueueNamePrefix: tag })).then(() => ms() - pollStart));
  }
  out.othersDoneMs = await Promise.all(others);
  // The message that ends the long poll travels on the same session as well.
  await sqs.send(new SendMessageCommand({ QueueUrl: b, MessageBody: "wake up" }));
  out.poll = await poll;
  handler.destroy();
  return out;
}

function request(session, spec) {
  return new Promise((resolve) => {
    const started = ms();
    const headers = { ":method": spec.method ?? "GET", ":path": spec.path, ...(spec.headers ?? {}) };
    const req = session.request(headers, { endStream: false });
    const chunks = [];
    let status = 0;
    let responseHeaders = {};
    req.on("response", (h) => {
      status = h[":status"];
      responseHeaders = h;
    });
    req.on("data", (c) => chunks.push(c));
    let settled = false;
    const done = (error) => {
      if (settled) return;
      settled = true;
      const body = Buffer.concat(chunks);
      resolve({
        name: spec.name, status, error: error ? String(error.code ?? error) : null, started_ms: started,
        done_ms: ms(), headers: responseHeaders, body_len: body.length,
        body_sha256: crypto.createHash("sha256").update(body).digest("hex"),
        body: body.length <= 65536 ? body.toString("utf8") : null,
      });
    };
    req.on("end", () => done(null));
    req.on("error", (e) => done(e));
    req.on("close", () => done(req.rstCode ? `rst ${req.rstCode}` : null));
    if (spec.cancel_ms) setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), spec.cancel_ms);
    if (spec.stall_after_bytes) {
      req.write(Buffer.alloc(spec.stall_after_bytes, 97));  // and then nothing: a stalled upload
    } else if (spec.body_file) {
      fs.createReadStream(spec.body_file).pipe(req);
    } else {
      req.end(spec.body !== undefined ? Buffer.from(spec.body, "utf8") : undefined);
    }
  });
}

async function rawFlow(specFile, caFile) {
  const specs = JSON.parse(fs.readFileSync(specFile, "utf8"));
  const session = http2.connect(endpoint, caFile ? { ca: fs.readFileSync(caFile) } : {});
  session.on("error", () => {});
  await new Promise((resolve, reject) => {
    session.once("connect", resolve);
    session.once("error", reject);
  });
  const out = { alpn: session.alpnProtocol ?? null, results: [] };
  out.results = await Promise.all(specs.map(async (spec) => {
    if (spec.delay_ms) await new Promise((r) => setTimeout(r, spec.delay_ms));
    return request(session, spec);
  }));
  session.close();
  return out;
}

try {
  const out = mode === "sdk" ? await sdkFlow(rest[0]) : await rawFlow(rest[0], rest[1]);
  console.log(JSON.stringify(out));
} catch (e) {
  console.log(JSON.stringify({ error: String(e?.name ?? e), message: String(e?.message ?? ""), stack: String(e?.stack ?? "") }));
  process.exit(1);
}
