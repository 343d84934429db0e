#!/usr/bin/env python3
"""Kinesis through the JavaScript SDK v3 (@aws-sdk/client-kinesis) with its default request
handler, NodeHttp2Handler: h2c with prior knowledge on http://, ALPN h2 on https://. The flow
(tests/js/kinesis_flow.mjs) creates a stream, writes with PutRecord and PutRecords, reads with
GetRecords and with SubscribeToShard through the SDK's own event-stream parser (a record written
while subscribed arrives on the open subscription), leaves the subscription and exits; a missing
stream is the SDK's ResourceNotFoundException. fogbank runs on the real clock: the flow polls
through the 500 ms CREATING and consumer CREATING phases as an SDK user would."""

import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402
from test_sns_clients import JS_DIR, ensure_js_sdk  # noqa: E402

# What the flow calls; each must reach fogbank over HTTP/2.
FLOW_OPS = ("CreateStream", "DescribeStreamSummary", "PutRecord", "PutRecords", "ListShards", "GetShardIterator",
            "GetRecords", "RegisterStreamConsumer", "DescribeStreamConsumer", "DeleteStream", "SubscribeToShard")
ACCESS_LINE = re.compile(r"INFO (?P<method>\S+) (?P<target>\S+)(?P<h2> HTTP/2)? service=(?P<service>\S+) "
                         r"op=(?P<op>\S+) status=(?P<status>\d+) .* id=(?P<id>\S+)")


class KinesisJsSdkTest(fh.FogbankTestCase):
    """tests/js/kinesis_flow.mjs against one fogbank, over h2c and over h2 on TLS; every
    assertion is on its JSON summary and on fogbank's access log."""

    @classmethod
    def setUpClass(cls):
        cls.node = ensure_js_sdk()
        super().setUpClass()

    def run_flow(self, https):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") and k not in ("NODE_TLS_REJECT_UNAUTHORIZED", "NODE_EXTRA_CA_CERTS")}
        if https:
            self.assertTrue(self.server.ca, "fogbank reported no CA: no TLS on its port")
            env["NODE_EXTRA_CA_CERTS"] = self.server.ca  # the default handler takes no `ca`: Node's trust store
        since = self.server.line_count()
        started = time.monotonic()
        r = subprocess.run([self.node, os.path.join(JS_DIR, "kinesis_flow.mjs"), self.server.endpoint(https)],
                           capture_output=True, text=True, timeout=90, cwd=JS_DIR, env=env)
        wall = time.monotonic() - started
        self.assertEqual(r.returncode, 0, f"node exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        out = json.loads(r.stdout)
        self.assertNotIn("error", out, out)
        # The flow's last call is DeleteStream: its line marks the end of the flow in the log.
        self.assertIsNotNone(self.server.wait_for_line(r"service=kinesis op=DeleteStream ", timeout=5, since=since))
        # The SDK drops the whole session under the subscription; the exchange is still logged.
        self.assertIsNotNone(self.server.wait_for_line(r"service=kinesis op=SubscribeToShard status=200 ",
                                                       timeout=5, since=since))
        return out, wall, self.server.lines_since(since)

    def check(self, out, wall, lines):
        # The SDK's default handler, unchanged: HTTP/2 only.
        self.assertEqual(out["handler"], "NodeHttp2Handler", out)
        self.assertEqual(out["protocol"], "h2", out)
        with open(os.path.join(JS_DIR, "package.json")) as f:
            self.assertEqual(out["sdkVersion"], json.load(f)["dependencies"]["@aws-sdk/client-kinesis"])

        # An error is the SDK's modeled exception class.
        missing = out["missing"]
        self.assertEqual(missing["name"], "ResourceNotFoundException", missing)
        self.assertEqual(missing["status"], 400, missing)
        self.assertEqual(missing["fault"], "client", missing)
        self.assertIn("not found", missing["message"], missing)
        self.assertIn(out["stream"] + "-missing", missing["message"], missing)

        self.assertEqual(out["openShardCount"], 1, out)
        self.assertEqual(out["shards"], ["shardId-000000000000"], out)
        self.assertGreaterEqual(out["activeAfterMs"], 300, "ACTIVE before the lifecycle delay passed")
        self.assertEqual(out["consumerStatusAtRegister"], "CREATING", out)

        written = out["written"]
        self.assertEqual(len(written), 4, written)
        seqs = [int(w["seq"]) for w in written]
        self.assertEqual(seqs, sorted(set(seqs)), "sequence numbers do not grow")
        self.assertEqual(written[0]["dataHex"], "00fffe800a0d00")
        self.assertEqual(bytes.fromhex(written[1]["dataHex"]).decode(), "héllo kinesis ✓")
        want = [[w["seq"], w["key"], w["dataHex"]] for w in written]

        # GetRecords: byte for byte, as Uint8Array.
        got = out["getRecords"]
        self.assertEqual([[g["seq"], g["key"], g["dataHex"]] for g in got], want)
        self.assertTrue(all(g["dataIsUint8Array"] for g in got), got)

        # SubscribeToShard: the first event holds what was written, the next ones the record put
        # while subscribed.
        sub = out["subscribe"]
        self.assertEqual(sub["status"], 200, sub)
        self.assertTrue(sub["requestId"], sub)
        events = sub["events"]
        self.assertGreaterEqual(len(events), 2, events)
        first = events[0]
        self.assertEqual([[r["seq"], r["key"], r["dataHex"]] for r in first["records"]], want)
        self.assertTrue(all(r["arrival"] for r in first["records"]), first)
        self.assertEqual(first["continuation"], written[-1]["seq"], first)
        self.assertIsInstance(first["millisBehindLatest"], int, first)
        self.assertGreaterEqual(first["millisBehindLatest"], 0, first)
        later = out["later"]
        arrived = [(i, r) for i, e in enumerate(events) for r in e["records"] if r["seq"] == later["seq"]]
        self.assertEqual(len(arrived), 1, events)
        index, record = arrived[0]
        self.assertGreater(index, 0, "the record put while subscribed came in the first event")
        self.assertEqual((record["key"], record["dataHex"]), (later["key"], later["dataHex"]))
        self.assertEqual(events[index]["continuation"], later["seq"], events[index])
        self.assertGreater(int(later["seq"]), seqs[-1])
        for e in events[1:index]:  # only keep-alives in between
            self.assertEqual(e["records"], [], events)
        # Pushed as it was written, not on the next 5-second keep-alive.
        self.assertLess(later["seen_ms"] - later["put_ms"], 4000, later)
        self.assertTrue(out["deleted"])

        # Leaving the loop ends the subscription: node exits at once, not after 5 minutes.
        self.assertLess(wall, 45, f"node took {wall:.1f}s")

        # fogbank saw every call over HTTP/2, none over HTTP/1.1.
        access = [m for m in map(ACCESS_LINE.search, lines) if m and m["service"] == "kinesis"]
        self.assertTrue(access, lines)
        self.assertEqual([m.group(0) for m in access if not m["h2"]], [], "Kinesis calls over HTTP/1.1")
        self.assertEqual(set(FLOW_OPS) - {m["op"] for m in access}, set(), "calls missing from the access log")
        errors = [m for m in access if m["id"] == missing["requestId"]]
        self.assertEqual([(m["op"], m["status"]) for m in errors], [("DescribeStreamSummary", "400")], access)
        self.assertTrue(self.server.alive())

    def test_js_sdk_default_handler_h2c(self):
        self.check(*self.run_flow(https=False))

    def test_js_sdk_default_handler_h2_tls(self):
        self.check(*self.run_flow(https=True))


if __name__ == "__main__":
    fh.main()
