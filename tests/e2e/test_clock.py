#!/usr/bin/env python3
"""/_fogbank/clock end to end: reading the clock, moving a virtual one (advance, set), the errors
(409 on the system clock, 400 for bad bodies on a connection that stays usable, 405 for other
methods), choosing the clock by flag, environment and config file, signing with real time while
the clock is elsewhere, and long polls answered as soon as the clock passes their deadline."""

import datetime as dt
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402

CLOCK = "/_fogbank/clock"


def parse_now(text):
    """The endpoint's "now": ISO-8601 UTC with milliseconds."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def unix_ms(when):
    return round(when.timestamp() * 1000)


class ClockShape:
    def assertClockAnswer(self, body, mode):
        self.assertEqual(set(body), {"mode", "now", "now_ms"}, body)
        self.assertEqual(body["mode"], mode)
        self.assertIsInstance(body["now_ms"], int)
        self.assertRegex(body["now"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(unix_ms(parse_now(body["now"])), body["now_ms"])

    def assertJsonError(self, status, body, headers, want):
        self.assertEqual(status, want, body)
        self.assertIsInstance(body, dict, body)
        self.assertIsInstance(body.get("error"), str, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)

    def test_other_methods_are_refused(self):
        for method in ("PUT", "DELETE", "PATCH"):
            status, body, headers = self.server.admin(CLOCK, method, {"advance_seconds": 1})
            self.assertJsonError(status, body, headers, 405)
            self.assertEqual(headers.get("allow"), "GET, POST")
        status, _, headers = self.server.admin(CLOCK, "HEAD")
        self.assertEqual(status, 405)


class SystemClockTest(ClockShape, fh.FogbankTestCase):
    def test_get_reads_real_time(self):
        before = time.time()
        body = self.server.clock()
        after = time.time()
        self.assertClockAnswer(body, "system")
        self.assertGreaterEqual(body["now_ms"], int(before * 1000) - 1000)
        self.assertLessEqual(body["now_ms"], int(after * 1000) + 1000)

    def test_post_conflicts(self):
        for request in ({"advance_seconds": 5}, {"set": "2030-01-01T00:00:00Z"}, "not json"):
            status, body, headers = self.server.admin(CLOCK, "POST", request)
            self.assertJsonError(status, body, headers, 409)
            self.assertIn("--clock virtual", body["error"])

    def test_health_names_the_clock(self):
        self.assertEqual(self.server.admin("/_fogbank/health")[1]["clock"], "system")


class VirtualClockTest(ClockShape, fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        self.server.sync_clock()

    def test_starts_near_real_time_and_stands_still(self):
        body = self.server.clock()
        self.assertClockAnswer(body, "virtual")
        self.assertLess(abs(body["now_ms"] - time.time() * 1000), 5000)
        time.sleep(0.02)
        self.assertEqual(self.server.clock()["now_ms"], body["now_ms"])

    def test_advance(self):
        start = self.server.clock()["now_ms"]
        body = self.server.advance_clock(1.5)
        self.assertClockAnswer(body, "virtual")
        self.assertEqual(body["now_ms"], start + 1500)
        self.assertEqual(self.server.advance_clock(0)["now_ms"], start + 1500)
        self.assertEqual(self.server.advance_clock(0.0004)["now_ms"], start + 1500)  # rounds to ms
        self.assertEqual(self.server.advance_clock(365 * 86400)["now_ms"], start + 1500 + 365 * 86400 * 1000)
        self.assertEqual(self.server.clock()["now_ms"], start + 1500 + 365 * 86400 * 1000)

    def test_set(self):
        body = self.server.set_clock("2030-01-01T00:00:00Z")
        self.assertClockAnswer(body, "virtual")
        self.assertEqual(body["now"], "2030-01-01T00:00:00.000Z")
        self.assertEqual(body["now_ms"], 1893456000000)
        # Backwards, with an offset and a fraction.
        self.assertEqual(self.server.set_clock("2001-02-03T04:05:06.789+01:00")["now"], "2001-02-03T03:05:06.789Z")
        # X-Amz-Date's basic format.
        self.assertEqual(self.server.set_clock("20300101T000000Z")["now_ms"], 1893456000000)
        # What the harness sends for a datetime: Python's isoformat().
        when = dt.datetime(2029, 6, 30, 23, 59, 59, 250000, tzinfo=dt.timezone.utc)
        self.assertEqual(self.server.set_clock(when)["now_ms"], unix_ms(when))

    def test_bad_requests_answer_400_and_keep_the_connection(self):
        start = self.server.clock()["now_ms"]
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=5)
        try:
            bad = ["", "{", "not json", "[]", "7", '{"advance_seconds": "5"}', '{"advance_seconds": true}',
                   '{"advance_seconds": null}', '{"advance_seconds": -1}', '{"advance_seconds": -0.5}',
                   '{"advance_seconds": 1e300}', '{"set": 1700000000}', '{"set": "tomorrow"}',
                   '{"set": "2030-02-30T00:00:00Z"}', '{"set": "1969-12-31T23:59:59Z"}',
                   '{"advance": 5}', '{"advance_seconds": 1, "set": "2030-01-01T00:00:00Z"}', "{}"]
            for body in bad:
                conn.request("POST", CLOCK, body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                raw = resp.read()
                self.assertEqual(resp.status, 400, (body, raw))
                self.assertIsInstance(json.loads(raw)["error"], str, body)
                self.assertEqual(resp.getheader("Content-Type"), "application/json")
            # Same connection, still usable, clock untouched by all of the above.
            conn.request("GET", CLOCK)
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertEqual(json.loads(resp.read())["now_ms"], start)
        finally:
            conn.close()

    def test_health_names_the_clock(self):
        self.assertEqual(self.server.admin("/_fogbank/health")[1]["clock"], "virtual")

    def test_requests_signed_with_real_time_work_at_any_clock_time(self):
        # The 15-minute skew check compares the signature's date with real time, not the clock.
        sts = self.server.client("sts")
        for when in ("2035-01-01T00:00:00Z", "2005-01-01T00:00:00Z"):
            self.server.set_clock(when)
            self.assertEqual(sts.get_caller_identity()["Account"], fh.ROOT_ACCOUNT)

    def test_long_poll_answers_when_the_clock_passes_its_deadline(self):
        sqs = self.server.client("sqs")
        url = sqs.create_queue(QueueName="clock-poll-%d" % os.getpid())["QueueUrl"]
        result = {}

        def receive():
            started = time.monotonic()
            try:
                result["messages"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
            except Exception as e:  # reported by the assertions below
                result["error"] = e
            result["took"] = time.monotonic() - started

        t = threading.Thread(target=receive, daemon=True)
        t.start()
        t.join(0.3)
        self.assertTrue(t.is_alive(), "the receive did not wait: %r" % result)
        # The poll's deadline is 20 s from the clock time it was parked at, which the test cannot
        # see; every advance passes any deadline set before it.
        deadline = time.monotonic() + 10
        while t.is_alive() and time.monotonic() < deadline:
            self.server.advance_clock(20)
            t.join(0.2)
        self.assertFalse(t.is_alive(), "the receive still waits after the clock passed its deadline")
        self.assertNotIn("error", result)
        self.assertEqual(result["messages"], [])
        self.assertLess(result["took"], 10)


class ClockSelectionTest(unittest.TestCase):
    def _mode(self, server):
        try:
            server.start()
            return server.clock()["mode"]
        finally:
            server.close()

    def test_environment(self):
        self.assertEqual(self._mode(fh.FogbankServer(env={"FOGBANK_CLOCK": "virtual"})), "virtual")
        self.assertEqual(self._mode(fh.FogbankServer(env={"FOGBANK_CLOCK": "system"})), "system")

    def test_flag_wins_over_environment(self):
        server = fh.FogbankServer(["--clock", "system"], env={"FOGBANK_CLOCK": "virtual"})
        self.assertEqual(self._mode(server), "system")

    def test_config_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write('clock = "virtual"\n')
        try:
            self.assertEqual(self._mode(fh.FogbankServer(["--config", f.name])), "virtual")
        finally:
            os.unlink(f.name)

    def test_unknown_value_is_refused(self):
        server = fh.FogbankServer(["--clock", "sideways"])
        try:
            with self.assertRaises(fh.ServerStartError) as cm:
                server.start()
            self.assertIn("--clock", str(cm.exception))
            self.assertNotEqual(server.proc.returncode, 0)
        finally:
            server.close()


if __name__ == "__main__":
    fh.main()
