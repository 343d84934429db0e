#!/usr/bin/env python3
"""Clients that try to exhaust fogbank: more connections than it has file descriptors, more than
--max-connections, and request bodies trickled slower than --min-body-rate."""

import os
import resource
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def health_within(server, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if server.admin("/_fogbank/health", timeout=1)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


class DescriptorExhaustionTest(unittest.TestCase):
    def test_accept_backs_off_when_out_of_descriptors(self):
        # Find what an idle fogbank needs, then restart it with a limit a few dozen above that.
        probe = fh.FogbankServer(ephemeral=True).start()
        try:
            baseline = open_fds(probe.proc.pid)
        finally:
            probe.close()
        limit = baseline + 24

        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        server = fh.FogbankServer(ephemeral=True, preexec_fn=low_limit).start()
        socks = []
        try:
            # Far more than the server can accept: the rest wait in the listen backlog.
            for _ in range(limit + 40):
                socks.append(socket.create_connection((server.host, server.port), timeout=2))
            deadline = time.monotonic() + 5
            while open_fds(server.proc.pid) < limit and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertGreaterEqual(open_fds(server.proc.pid), limit - 2, "the server never ran out")
            time.sleep(0.3)
            before = cpu_seconds(server.proc.pid)
            time.sleep(1.0)
            used = cpu_seconds(server.proc.pid) - before
            self.assertLess(used, 0.25, f"the server burnt {used:.2f} s of CPU in 1 s while out of descriptors")
            self.assertTrue(server.alive())
            self.assertTrue(server.wait_for_line(r"cannot accept connections", timeout=1))
        finally:
            for s in socks:
                s.close()
        try:
            self.assertTrue(health_within(server, 10), "health did not answer once the connections closed")
            self.assertEqual(server.stop(), 0)
        finally:
            server.close()


class MaxConnectionsTest(fh.FogbankTestCase):
    server_args = ["--max-connections", "4"]

    def test_connections_beyond_the_limit_are_closed(self):
        held = [self.server.connect() for _ in range(4)]
        try:
            time.sleep(0.2)  # let the server accept all four
            extra = self.server.connect()
            try:
                self.assertTrue(fh.wait_closed(extra, 2.0), "the fifth connection was kept open")
            finally:
                extra.close()
            self.assertTrue(self.server.wait_for_line(r"--max-connections 4 reached", timeout=2))
        finally:
            held.pop().close()
        try:
            self.assertTrue(health_within(self.server, 5))
        finally:
            for s in held:
                s.close()
        self.assertTrue(health_within(self.server, 5))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def probes(server):
    """(name, bytes to send, tls?) for one round of malformed and abusive requests."""
    health = b"GET /_fogbank/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
    return [
        ("garbage", b"\x00\xff\xfe GARBAGE \x01\x02\r\n\r\n", False),
        ("http/0.9", b"GET /\r\n\r\n", False),
        ("long request line", b"GET /" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", False),
        ("long header", b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"v" * 200_000 + b"\r\n\r\n", False),
        ("many headers", b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"".join(
            b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n", False),
        ("length and chunked", b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", False),
        ("two lengths", b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n"
                        b"hello!!", False),
        ("negative length", b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n", False),
        ("bad chunk size", b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", False),
        ("chunk overflow", b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"ffffffffffffffffffff\r\nx", False),
        ("truncated body", b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nshort", False),
        ("nul in header", b"GET / HTTP/1.1\r\nHost: localhost\r\nX-A\x00b: c\r\n\r\n", False),
        ("pipelined", health * 8, False),
        ("pipelined then garbage", health * 2 + b"\x00\x00garbage\r\n\r\n", False),
        ("tls garbage", b"\x16\x03\x01\x02\x00" + os.urandom(512), False),
        ("tls hello then nonsense", b"\x16\x03\x01\x00\x05hello" * 4, False),
        ("half a head", b"GET /_fogbank/health HTTP/1.1\r\nHost: loc", False),
    ]


def run_probe(server, data):
    """Sends `data` on a fresh connection, reads whatever comes back for a moment, closes."""
    with socket.create_connection((server.host, server.port), timeout=2) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            return b""  # the server closed first (header too large): fine
        got = b""
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
        return got


class ProbeBarrageTest(unittest.TestCase):
    """Rounds of malformed requests, pipelining, TLS garbage and 500 idle connections: the server
    keeps answering, every descriptor is given back, and it exits cleanly (LeakSanitizer, on in
    the test build, fails the exit on a leak)."""

    def test_barrage_leaves_no_descriptor_behind(self):
        server = fh.FogbankServer(ephemeral=True, extra_args=["--idle-timeout", "30"]).start()
        try:
            self.assertTrue(health_within(server, 5))
            baseline = open_fds(server.proc.pid)
            pipelined = run_probe(server, probes(server)[12][1])
            self.assertEqual(pipelined.count(b"HTTP/1.1 200"), 8, pipelined[:400])
            for round_ in range(3):
                for name, data, _ in probes(server):
                    with self.subTest(round=round_, probe=name):
                        run_probe(server, data)
                        self.assertTrue(server.alive(), f"the server died on {name}")
            rss_after_warmup = rss_kib(server.proc.pid)
            for _ in range(3):
                for _, data, _ in probes(server):
                    run_probe(server, data)
            # 500 idle connections at once: all held, health still answers, the SDK still works.
            idle = []
            try:
                for _ in range(500):
                    idle.append(socket.create_connection((server.host, server.port), timeout=5))
                deadline = time.monotonic() + 5
                while open_fds(server.proc.pid) < baseline + 490 and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertGreaterEqual(open_fds(server.proc.pid), baseline + 490)
                self.assertTrue(health_within(server, 5), "health did not answer with 500 idle connections")
                self.assertIn("Account", server.client("sts").get_caller_identity())
            finally:
                for s in idle:
                    s.close()
            deadline = time.monotonic() + 10
            while open_fds(server.proc.pid) > baseline + 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertLessEqual(open_fds(server.proc.pid), baseline + 2, "descriptors leaked")
            grown_mib = (rss_kib(server.proc.pid) - rss_after_warmup) / 1024
            # Sanitizer builds keep freed memory in quarantine; a leak per probe would show as growth
            # with every round in a Release build, and as a LeakSanitizer failure at exit here.
            self.assertLess(grown_mib, 300, f"RSS grew by {grown_mib:.0f} MiB over three more rounds")
            self.assertEqual(server.stop(), 0, server.diagnostics("exit after the barrage"))
        finally:
            server.close()


class MinBodyRateTest(fh.FogbankTestCase):
    # A 2 s window instead of the default 60 s, so a trickle is caught in seconds.
    server_args = ["--min-body-rate", "1024", "--min-body-rate-window", "2", "--read-timeout", "30"]

    def trickle(self, head: bytes, body: bytes, interval: float, limit: float):
        """Sends `head`, then `body` in small pieces every `interval` s, until the server answers
        or `limit` s pass; returns (response or None, seconds taken)."""
        started = time.monotonic()
        with self.server.connect(timeout=limit) as s:
            s.sendall(head)
            s.settimeout(interval)
            sent = 0
            while time.monotonic() - started < limit:
                try:
                    s.recv(65536, socket.MSG_PEEK)
                    break  # an answer, or the server closed
                except socket.timeout:
                    pass
                if sent < len(body):
                    try:
                        s.sendall(body[sent:sent + 1])
                    except OSError:
                        break
                    sent += 1
            s.settimeout(5)
            try:
                return fh.RawReader(s).read_response("POST"), time.monotonic() - started
            except (ConnectionError, OSError):
                return None, time.monotonic() - started

    def test_content_length_trickle_is_cut_with_request_timeout(self):
        body = fh.sts_form() + b"&" + b"x" * 4000
        host = f"{self.server.host}:{self.server.port}"
        headers = fh.sigv4_headers("POST", host, "/", None, {"Content-Type": fh.FORM}, body)
        headers["Content-Length"] = str(len(body))
        resp, took = self.trickle(fh.build_request("POST", "/", headers), body, 0.2, 10)
        self.assertIsNotNone(resp, f"connection closed without an answer after {took:.1f} s")
        self.assertEqual(resp.status, 400, resp)
        code, message, rid = fh.parse_error(resp.body)
        self.assertEqual(code, "RequestTimeout")
        self.assertIn("Idle connections will be closed", message)
        self.assertEqual(resp.header("x-amzn-requestid"), rid)  # STS's protocol, STS's request id
        self.assertLess(took, 8)
        self.assertTrue(self.server.alive())

    def test_chunked_trickle_is_cut(self):
        host = f"{self.server.host}:{self.server.port}"
        form = fh.sts_form()
        headers = fh.sigv4_headers("POST", host, "/", None, {"Content-Type": fh.FORM}, form)
        headers["Transfer-Encoding"] = "chunked"
        body = b"%x\r\n" % 4000 + b"y" * 4000
        resp, took = self.trickle(fh.build_request("POST", "/", headers), body, 0.2, 10)
        self.assertIsNotNone(resp, f"connection closed without an answer after {took:.1f} s")
        self.assertEqual(resp.status, 400, resp)
        self.assertEqual(fh.parse_error(resp.body)[0], "RequestTimeout")
        self.assertLess(took, 8)

    def test_slow_but_steady_upload_is_served(self):
        # 4 KiB/s over three windows: above the rate, so never cut.
        s3 = self.server.client("s3")
        bucket = fh.unique_bucket("rate")
        s3.create_bucket(Bucket=bucket)
        data = os.urandom(12 * 1024)
        host = f"{self.server.host}:{self.server.port}"
        headers = fh.sigv4_headers("PUT", host, f"/{bucket}/slow", None, {}, b"", service="s3",
                                   payload_hash="UNSIGNED-PAYLOAD", include_content_sha=True)
        headers["Content-Length"] = str(len(data))
        with self.server.connect(timeout=15) as s:
            s.sendall(fh.build_request("PUT", f"/{bucket}/slow", headers))
            for i in range(0, len(data), 1024):
                s.sendall(data[i:i + 1024])
                time.sleep(0.25)
            resp = fh.RawReader(s).read_response("PUT")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(s3.get_object(Bucket=bucket, Key="slow")["Body"].read(), data)


if __name__ == "__main__":
    fh.main()
