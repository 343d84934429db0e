#!/usr/bin/env python3
"""HTTP/2 on the API port: h2c with prior knowledge (curl, Node's http2, the JavaScript SDK v3's
NodeHttp2Handler) and h2 over TLS through ALPN, next to HTTP/1.1 on the same port; several
streams of one connection in flight at once (a long poll does not hold up the others), large
bodies both ways, errors per stream, and a broken connection that leaves the server serving."""

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402
from test_sns_clients import JS_DIR, ensure_js_sdk  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_SETTINGS = 0x4
FRAME_GOAWAY = 0x7
SQS_JSON = "application/x-amz-json-1.0"


def curl_bin():
    curl = shutil.which("curl")
    if curl is None:
        raise AssertionError("curl not found on PATH")
    return curl


def read_frames(sock, timeout=5.0):
    """Every HTTP/2 frame the server sends until it closes: [(type, flags, stream, payload)]."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    frames = []
    while len(data) >= 9:
        length = int.from_bytes(data[0:3], "big")
        if len(data) < 9 + length:
            break
        frames.append((data[3], data[4], int.from_bytes(data[5:9], "big") & 0x7FFFFFFF, data[9:9 + length]))
        data = data[9 + length:]
    return frames


class Http2Test(fh.FogbankTestCase):

    @classmethod
    def setUpClass(cls):
        cls.node = ensure_js_sdk()
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="fogbank-h2-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def host(self):
        return f"{self.server.host}:{self.server.port}"

    # ------------------------------------------------------------------ helpers
    def curl(self, *args, timeout=30):
        """Runs curl; returns (http_version, status, body bytes, response header lines)."""
        head = os.path.join(self.tmp, "head.txt")
        body = os.path.join(self.tmp, "body.bin")
        r = subprocess.run([curl_bin(), "-sS", "-D", head, "-o", body, "-w", "%{http_version} %{http_code}", *args],
                           capture_output=True, text=True, timeout=timeout)
        self.assertEqual(r.returncode, 0, f"curl failed: {r.stderr}")
        version, status = r.stdout.split()
        with open(body, "rb") as f:
            data = f.read()
        with open(head, encoding="latin-1") as f:
            lines = [line.rstrip("\r\n") for line in f if line.strip()]
        return version, int(status), data, lines

    def signed(self, method, path, headers, body=b"", service="sqs", query=None, **kw):
        hdrs = fh.sigv4_headers(method, self.host(), path, query, headers, body, service=service, **kw)
        return {k: v for k, v in hdrs.items() if k.lower() != "host"}  # :authority carries it

    def sqs_spec(self, name, action, payload, **extra):
        body = json.dumps(payload)
        headers = self.signed("POST", "/", {"Content-Type": SQS_JSON, "X-Amz-Target": f"AmazonSQS.{action}"}, body)
        return {"name": name, "method": "POST", "path": "/", "headers": headers, "body": body, **extra}

    def raw_h2(self, specs, https=False, timeout=60):
        """Runs `specs` at once on one HTTP/2 session of Node's http2 client."""
        spec_file = os.path.join(self.tmp, f"spec-{time.monotonic_ns()}.json")
        with open(spec_file, "w") as f:
            json.dump(specs, f)
        args = [self.node, os.path.join(JS_DIR, "h2_flow.mjs"), "raw", self.server.endpoint(https), spec_file]
        if https:
            args.append(self.server.ca)
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=JS_DIR)
        self.assertEqual(r.returncode, 0, f"node failed:\n{r.stdout}\n{r.stderr}")
        out = json.loads(r.stdout)
        return out, {res["name"]: res for res in out["results"]}

    def create_queue(self, name):
        return self.server.client("sqs").create_queue(QueueName=name)["QueueUrl"]

    def assertNoConnectionHeaders(self, lines):
        for line in lines:
            name = line.split(":", 1)[0].strip().lower()
            self.assertNotIn(name, ("connection", "keep-alive", "transfer-encoding", "upgrade"), lines)

    def assertServing(self):
        status, body, _ = self.server.admin("/_fogbank/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ok")
        version, status, _, _ = self.curl("--http2-prior-knowledge", self.server.http_url + "/_fogbank/health")
        self.assertEqual((version, status), ("2", 200))

    # ------------------------------------------------------------------ curl
    def test_curl_supports_http2(self):
        r = subprocess.run([curl_bin(), "-V"], capture_output=True, text=True, timeout=10)
        self.assertIn("HTTP2", r.stdout, "this curl has no HTTP/2: the tests below would prove nothing")

    def test_h2c_prior_knowledge_health(self):
        version, status, body, lines = self.curl("--http2-prior-knowledge", self.server.http_url + "/_fogbank/health")
        self.assertEqual(version, "2")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        self.assertTrue(lines[0].startswith("HTTP/2 200"), lines)
        self.assertNoConnectionHeaders(lines)

    def test_h2c_signed_sqs_and_s3(self):
        name = f"h2curl{os.getpid()}"
        body = json.dumps({"QueueName": name})
        hdrs = fh.sigv4_headers("POST", self.host(), "/", None,
                                {"Content-Type": SQS_JSON, "X-Amz-Target": "AmazonSQS.CreateQueue"}, body,
                                service="sqs")
        args = ["--http2-prior-knowledge", "-X", "POST", "--data-binary", body]
        for k, v in hdrs.items():
            args += ["-H", f"{k}: {v}"]
        version, status, data, lines = self.curl(*args, self.server.http_url + "/")
        self.assertEqual((version, status), ("2", 200), data)
        self.assertTrue(json.loads(data)["QueueUrl"].endswith("/" + name), data)
        self.assertTrue(any(line.lower().startswith("x-amzn-requestid:") for line in lines), lines)
        self.assertNoConnectionHeaders(lines)

        bucket = fh.unique_bucket("h2")
        self.server.client("s3").create_bucket(Bucket=bucket)
        payload = b"object over h2c"
        put = fh.sigv4_headers("PUT", self.host(), f"/{bucket}/k", None, {}, payload, service="s3",
                               include_content_sha=True)
        args = ["--http2-prior-knowledge", "-X", "PUT", "--data-binary", payload.decode()]
        for k, v in put.items():
            args += ["-H", f"{k}: {v}"]
        version, status, data, _ = self.curl(*args, f"{self.server.http_url}/{bucket}/k")
        self.assertEqual((version, status), ("2", 200), data)
        self.assertEqual(self.server.client("s3").get_object(Bucket=bucket, Key="k")["Body"].read(), payload)

        # An unsigned request is refused in S3's own error format, with its request id.
        version, status, data, lines = self.curl("--http2-prior-knowledge", f"{self.server.http_url}/{bucket}/k")
        self.assertEqual((version, status), ("2", 403), data)
        code, _, rid = fh.parse_error(data)
        self.assertEqual(code, "AccessDenied")
        self.assertTrue(rid)

    def test_tls_alpn_h2_and_https11(self):
        url = self.server.https_url + "/_fogbank/health"
        version, status, body, lines = self.curl("--http2", "--cacert", self.server.ca, url)
        self.assertEqual((version, status), ("2", 200))
        self.assertEqual(json.loads(body)["status"], "ok")
        self.assertNoConnectionHeaders(lines)
        version, status, _, _ = self.curl("--http1.1", "--cacert", self.server.ca, url)
        self.assertEqual((version, status), ("1.1", 200))

    def test_http11_still_works_on_the_same_port(self):
        version, status, _, _ = self.curl("--http1.1", self.server.http_url + "/_fogbank/health")
        self.assertEqual((version, status), ("1.1", 200))
        arn = self.server.client("sts").get_caller_identity()["Arn"]
        self.assertEqual(arn, "arn:aws:iam::000000000000:root")
        # A request line that starts like the preface but is not one stays HTTP/1.1.
        r = fh.raw_exchange(self.server, b"PRI / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r.raw_head.split(b" ")[0], b"HTTP/1.1")

    # ------------------------------------------------------------------ one connection, many streams
    def test_long_poll_does_not_block_other_streams(self):
        url = self.create_queue(f"h2poll{os.getpid()}")
        other = self.create_queue(f"h2other{os.getpid()}")
        since = self.server.line_count()
        specs = [self.sqs_spec("poll", "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 8,
                                                           "MaxNumberOfMessages": 1})]
        for i in range(4):
            specs.append(self.sqs_spec(f"send{i}", "SendMessage", {"QueueUrl": other, "MessageBody": f"m{i}"},
                                       delay_ms=300))
            specs.append({"name": f"health{i}", "path": "/_fogbank/health", "delay_ms": 300})
        specs.append(self.sqs_spec("wake", "SendMessage", {"QueueUrl": url, "MessageBody": "wake"}, delay_ms=2000))
        out, res = self.raw_h2(specs)
        self.assertIn(out["alpn"], ("h2c", None))
        for name, r in res.items():
            self.assertEqual(r["status"], 200, r)
            self.assertIsNone(r["error"], r)
        for i in range(4):
            self.assertLess(res[f"send{i}"]["done_ms"], 1800, res[f"send{i}"])
            self.assertLess(res[f"health{i}"]["done_ms"], 1800, res[f"health{i}"])
        poll = res["poll"]
        self.assertEqual([m["Body"] for m in json.loads(poll["body"])["Messages"]], ["wake"], poll)
        self.assertGreaterEqual(poll["done_ms"], 1900, "the poll ended before the message was sent")
        self.assertLess(poll["done_ms"], 7000, "the poll ran to its deadline: the wake was not seen")
        # One access-log line per stream, marked HTTP/2.
        lines = [line for line in self.server.lines_since(since) if " HTTP/2 " in line]
        self.assertGreaterEqual(sum("op=ReceiveMessage" in line for line in lines), 1, lines)
        self.assertGreaterEqual(sum("op=SendMessage" in line for line in lines), 5, lines)

    def test_early_error_resets_only_its_stream(self):
        bucket = fh.unique_bucket("h2e")
        self.server.client("s3").create_bucket(Bucket=bucket)
        big = os.path.join(self.tmp, "unsigned.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(2 * 1024 * 1024))
        specs = [{"name": "unsigned", "method": "PUT", "path": f"/{bucket}/x", "body_file": big,
                  "headers": {"content-length": str(2 * 1024 * 1024)}},
                 {"name": "after", "path": "/_fogbank/health", "delay_ms": 500}]
        # Buffered bodies over --max-body-bytes (10 MiB): refused from the announced length, or
        # counted as the DATA frames arrive when no length was announced.
        over = os.path.join(self.tmp, "over.bin")
        payload = b'{"QueueName":"' + b"q" * (11 * 1024 * 1024) + b'"}'
        with open(over, "wb") as f:
            f.write(payload)
        for name, length in (("announced", True), ("counted", False)):
            hdrs = self.signed("POST", "/", {"Content-Type": SQS_JSON, "X-Amz-Target": "AmazonSQS.CreateQueue"},
                               payload)
            if length:
                hdrs["content-length"] = str(len(payload))
            specs.append({"name": name, "method": "POST", "path": "/", "headers": hdrs, "body_file": over})
        _, res = self.raw_h2(specs)
        for name in ("announced", "counted"):
            self.assertEqual(res[name]["status"], 413, res[name])
            self.assertIn("RequestEntityTooLarge", res[name]["body"], res[name])
        self.assertEqual(res["unsigned"]["status"], 403, res["unsigned"])
        self.assertEqual(fh.parse_error(res["unsigned"]["body"])[0], "AccessDenied")
        self.assertEqual(res["after"]["status"], 200, res["after"])

    def test_client_cancels_a_long_poll(self):
        url = self.create_queue(f"h2cancel{os.getpid()}")
        specs = [self.sqs_spec("poll", "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 10}, cancel_ms=500),
                 {"name": "after", "path": "/_fogbank/health", "delay_ms": 1000}]
        _, res = self.raw_h2(specs)
        self.assertEqual(res["poll"]["status"], 0, res["poll"])
        self.assertLess(res["poll"]["done_ms"], 3000, res["poll"])
        self.assertEqual(res["after"]["status"], 200, res["after"])
        # The abandoned poll took nothing: a message sent now is there for the next receive.
        sqs = self.server.client("sqs")
        sqs.send_message(QueueUrl=url, MessageBody="kept")
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", [])
        self.assertEqual([m["Body"] for m in got], ["kept"])
        self.assertTrue(self.server.alive())

    # ------------------------------------------------------------------ large bodies
    def test_large_put_and_get(self):
        bucket = fh.unique_bucket("h2big")
        self.server.client("s3").create_bucket(Bucket=bucket)
        data = os.urandom(8 * 1024 * 1024 + 123)
        path = os.path.join(self.tmp, "big.bin")
        with open(path, "wb") as f:
            f.write(data)
        digest = hashlib.sha256(data).hexdigest()
        put_headers = self.signed("PUT", f"/{bucket}/big", {}, data, service="s3", include_content_sha=True)
        put_headers["content-length"] = str(len(data))
        _, res = self.raw_h2([{"name": "put", "method": "PUT", "path": f"/{bucket}/big", "headers": put_headers,
                               "body_file": path}])
        self.assertEqual(res["put"]["status"], 200, res["put"])
        self.assertEqual(res["put"]["headers"].get("etag"), f'"{fh.md5_hex(data)}"')

        get_headers = self.signed("GET", f"/{bucket}/big", {}, b"", service="s3", include_content_sha=True)
        head_headers = self.signed("HEAD", f"/{bucket}/big", {}, b"", service="s3", include_content_sha=True)
        _, res = self.raw_h2([{"name": "get", "path": f"/{bucket}/big", "headers": get_headers},
                              {"name": "head", "method": "HEAD", "path": f"/{bucket}/big", "headers": head_headers},
                              {"name": "health", "path": "/_fogbank/health"}])
        self.assertEqual(res["get"]["status"], 200, res["get"]["headers"])
        self.assertEqual(res["get"]["body_len"], len(data))
        self.assertEqual(res["get"]["body_sha256"], digest)
        self.assertEqual(res["head"]["status"], 200)
        self.assertEqual(res["head"]["body_len"], 0)
        self.assertEqual(res["head"]["headers"]["content-length"], str(len(data)))
        self.assertEqual(res["health"]["status"], 200)

        # The same object over TLS (ALPN h2), and an upload too large for a buffered operation.
        out, res = self.raw_h2([{"name": "get", "path": f"/{bucket}/big", "headers": get_headers}], https=True)
        self.assertEqual(out["alpn"], "h2")
        self.assertEqual(res["get"]["body_sha256"], digest)

    # ------------------------------------------------------------------ broken connections
    def test_garbage_after_preface(self):
        with self.server.connect() as s:
            s.sendall(PREFACE + b"\x00\x00\x08\xfe\x00garbage!!" * 4 + b"\xff" * 64)
            frames = read_frames(s)
        types = [f[0] for f in frames]
        self.assertIn(FRAME_SETTINGS, types, frames)
        self.assertIn(FRAME_GOAWAY, types, frames)
        self.assertServing()
        # ALPN chose h2 but no preface follows: GOAWAY too.
        ctx = self.server.ssl_context()
        ctx.set_alpn_protocols(["h2"])
        with ctx.wrap_socket(self.server.connect(), server_hostname="127.0.0.1") as s:
            self.assertEqual(s.selected_alpn_protocol(), "h2")
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            frames = read_frames(s)
        self.assertIn(FRAME_GOAWAY, [f[0] for f in frames], frames)
        self.assertServing()
        # A preface cut short, then silence and a close: the server lets go.
        with self.server.connect() as s:
            s.sendall(PREFACE[:10])
        # A connection that says nothing after its preface is served until the client leaves.
        with self.server.connect() as s:
            s.sendall(PREFACE)
            s.shutdown(socket.SHUT_WR)
            read_frames(s, timeout=2)
        self.assertServing()
        self.assertTrue(self.server.alive())

    def test_header_list_too_large(self):
        huge = "x" * 20000
        args = ["--http2-prior-knowledge"]
        for i in range(4):
            args += ["-H", f"x-big-{i}: {huge}"]
        r = subprocess.run([curl_bin(), "-sS", "-o", "/dev/null", "-w", "%{http_code}", *args,
                            self.server.http_url + "/_fogbank/health"], capture_output=True, text=True, timeout=30)
        # Refused either by our 431 or by the client honouring SETTINGS_MAX_HEADER_LIST_SIZE.
        self.assertTrue(r.returncode != 0 or r.stdout == "431", (r.returncode, r.stdout, r.stderr))
        self.assertServing()

    # ------------------------------------------------------------------ the JavaScript SDK v3
    def run_sdk(self, https):
        args = [self.node, os.path.join(JS_DIR, "h2_flow.mjs"), "sdk", self.server.endpoint(https)]
        if https:
            args.append(self.server.ca)
        r = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=JS_DIR,
                           env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
        self.assertEqual(r.returncode, 0, f"node failed:\n{r.stdout}\n{r.stderr}")
        out = json.loads(r.stdout)
        self.assertEqual(out["protocol"], "h2")
        self.assertEqual(out["received"], [{"id": out["sentId"], "body": "hello over h2"}])
        self.assertEqual(out["poll"]["bodies"], ["wake up"], out)
        for t in out["othersDoneMs"]:
            self.assertLess(t, out["poll"]["done_ms"], out)
        self.assertLess(out["poll"]["done_ms"], 9000, out)
        return out

    def test_js_sdk_h2c(self):
        since = self.server.line_count()
        self.run_sdk(https=False)
        lines = [line for line in self.server.lines_since(since) if re.search(r"POST / HTTP/2 service=sqs", line)]
        self.assertGreaterEqual(len(lines), 10, "the SDK's calls did not arrive over HTTP/2")

    def test_js_sdk_h2_tls(self):
        self.run_sdk(https=True)


class Http2LifecycleTest(unittest.TestCase):
    """Idle HTTP/2 connections time out, a stalled upload loses its stream (not its connection),
    SIGTERM answers a long poll in flight on a stream."""

    def setUp(self):
        self.node = ensure_js_sdk()
        self.server = fh.FogbankServer(["--idle-timeout", "2", "--read-timeout", "2"])
        self.server.start()
        self.tmp = tempfile.mkdtemp(prefix="fogbank-h2-")

    def tearDown(self):
        self.server.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_idle_connection_gets_goaway(self):
        with self.server.connect(10) as s:
            s.sendall(PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")  # an empty SETTINGS
            started = time.monotonic()
            frames = read_frames(s, timeout=8)
            elapsed = time.monotonic() - started
        self.assertIn(FRAME_GOAWAY, [f[0] for f in frames], frames)
        self.assertGreaterEqual(elapsed, 1.5)
        self.assertLess(elapsed, 6.0, "the idle connection was not closed")

    def test_stalled_body_resets_its_stream_only(self):
        bucket = fh.unique_bucket("h2stall")
        self.server.client("s3").create_bucket(Bucket=bucket)
        host = f"{self.server.host}:{self.server.port}"
        headers = fh.sigv4_headers("PUT", host, f"/{bucket}/k", None, {}, b"", service="s3",
                                   payload_hash="UNSIGNED-PAYLOAD", include_content_sha=True)
        headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        headers["content-length"] = str(1024 * 1024)
        spec_file = os.path.join(self.tmp, "spec.json")
        with open(spec_file, "w") as f:
            json.dump([{"name": "stalled", "method": "PUT", "path": f"/{bucket}/k", "headers": headers,
                        "stall_after_bytes": 1000},
                       {"name": "later", "path": "/_fogbank/health", "delay_ms": 5000}], f)
        r = subprocess.run([self.node, os.path.join(JS_DIR, "h2_flow.mjs"), "raw", self.server.http_url, spec_file],
                           capture_output=True, text=True, timeout=60, cwd=JS_DIR)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        res = {x["name"]: x for x in json.loads(r.stdout)["results"]}
        # Reset without an answer (as HTTP/1.1 drops such a connection), after read_timeout.
        self.assertEqual(res["stalled"]["status"], 0, res["stalled"])
        self.assertGreaterEqual(res["stalled"]["done_ms"], 1900, res["stalled"])
        self.assertLess(res["stalled"]["done_ms"], 5000, res["stalled"])
        self.assertEqual(res["later"]["status"], 200, res["later"])
        self.assertTrue(self.server.alive())

    def test_sigterm_answers_a_long_poll(self):
        url = self.server.client("sqs").create_queue(QueueName="h2term")["QueueUrl"]
        host = f"{self.server.host}:{self.server.port}"
        body = json.dumps({"QueueUrl": url, "WaitTimeSeconds": 15})
        headers = fh.sigv4_headers("POST", host, "/", None,
                                   {"Content-Type": SQS_JSON, "X-Amz-Target": "AmazonSQS.ReceiveMessage"}, body,
                                   service="sqs")
        headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        spec_file = os.path.join(self.tmp, "spec.json")
        with open(spec_file, "w") as f:
            json.dump([{"name": "poll", "method": "POST", "path": "/", "headers": headers, "body": body}], f)
        node = subprocess.Popen([self.node, os.path.join(JS_DIR, "h2_flow.mjs"), "raw", self.server.http_url,
                                 spec_file], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=JS_DIR)
        try:
            time.sleep(1.5)  # the poll is waiting on the server
            started = time.monotonic()
            self.assertEqual(self.server.stop(), 0)
            self.assertLess(time.monotonic() - started, 5.0)
            out, err = node.communicate(timeout=20)
        finally:
            if node.poll() is None:
                node.kill()
        res = json.loads(out)["results"][0]
        self.assertEqual(res["status"], 200, (res, err))
        self.assertEqual(json.loads(res["body"]).get("Messages", []), [], res)
        self.assertLess(res["done_ms"], 8000, res)


class Http2SlowBodyTest(fh.FogbankTestCase):
    """--min-body-rate per stream: a trickled upload is answered RequestTimeout on its stream."""

    server_args = ["--min-body-rate", "100000", "--min-body-rate-window", "2"]

    def test_slow_body_gets_request_timeout(self):
        node = ensure_js_sdk()
        bucket = fh.unique_bucket("h2slow")
        self.server.client("s3").create_bucket(Bucket=bucket)
        host = f"{self.server.host}:{self.server.port}"
        headers = fh.sigv4_headers("PUT", host, f"/{bucket}/k", None, {}, b"", service="s3",
                                   payload_hash="UNSIGNED-PAYLOAD", include_content_sha=True)
        headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        headers["content-length"] = str(1024 * 1024)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump([{"name": "slow", "method": "PUT", "path": f"/{bucket}/k", "headers": headers,
                        "stall_after_bytes": 1000},
                       {"name": "later", "path": "/_fogbank/health", "delay_ms": 4500}], f)
        try:
            r = subprocess.run([node, os.path.join(JS_DIR, "h2_flow.mjs"), "raw", self.server.http_url, f.name],
                               capture_output=True, text=True, timeout=60, cwd=JS_DIR)
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        res = {x["name"]: x for x in json.loads(r.stdout)["results"]}
        self.assertEqual(res["slow"]["status"], 400, res["slow"])
        self.assertEqual(fh.parse_error(res["slow"]["body"])[0], "RequestTimeout")
        self.assertLess(res["slow"]["done_ms"], 4500, res["slow"])
        self.assertEqual(res["later"]["status"], 200, res["later"])
        self.assertIsNotNone(self.server.wait_for_line(r"slower than 100000 bytes/s", timeout=2))


if __name__ == "__main__":
    fh.main()
