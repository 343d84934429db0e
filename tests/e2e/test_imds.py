#!/usr/bin/env python3
"""EC2 Instance Metadata Service end to end: IMDSv1/v2 tokens, the meta-data tree, user-data,
--imds-config overrides, the signed identity document, role credentials (and botocore's
credential chain finding them), admin-triggered events, --imds-address off, and a network
namespace run on the real 169.254.169.254:80 with botocore's built-in endpoint.

Run: FOGBANK_BIN=build/server/fogbank python3 tests/e2e/test_imds.py
"""

import base64
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fogbank_harness as fh  # noqa: E402

PROBE = os.path.join(HERE, "imds_netns_probe.py")
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
ACCOUNT = "000000000000"
DEFAULT_INSTANCE_ID = "i-0fb1c3d5e7a9b2c4d"
DEFAULT_ROLE = "fogbank-instance-role"
ENTRY_RE = re.compile(r"[a-z0-9][a-z0-9-]*/?")

_API_RE = re.compile(r"listening on http://(?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)")
_IMDS_RE = re.compile(r"instance metadata service on http://(?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)")


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def parse_time(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def clean_env(extra=None):
    """The current environment without AWS_*/FOGBANK_*/proxy variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "FOGBANK_", "BOTO_")) and k.lower() not in
           ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update(extra or {})
    return env


class ImdsServer:
    """One fogbank process with the IMDS listener on (the harness's FogbankServer always passes
    --imds-address off, and the flag may be given only once)."""

    def __init__(self, args=(), data_dir=None, imds_address="127.0.0.1:0"):
        self.bin = fh.fogbank_bin()
        self.args = list(args)
        self.imds_address = imds_address
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="fogbank-imds-")
        self.proc = None
        self.port = None
        self.imds_port = None
        self.lines = []
        self._cond = threading.Condition()

    def start(self, timeout=15.0):
        args = [self.bin, "--host", "127.0.0.1", "--port", "0", "--io-threads", "2",
                "--imds-address", self.imds_address, "--data-dir", self.data_dir] + self.args
        with self._cond:
            self.lines = []
        self.port = self.imds_port = None
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=clean_env())
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    m = _API_RE.search(line)
                    if m:
                        self.port = int(m.group("port"))
                    m = _IMDS_RE.search(line)
                    if m:
                        self.imds_port = int(m.group("port"))
                if self.port is not None:
                    break
                if self.proc.poll() is not None:
                    raise fh.ServerStartError("fogbank exited with %s:\n%s"
                                              % (self.proc.returncode, "\n".join(self.lines)))
                left = deadline - time.monotonic()
                if left <= 0:
                    self.proc.kill()
                    raise fh.ServerStartError("no listening line:\n" + "\n".join(self.lines))
                self._cond.wait(min(left, 0.1))
        while True:  # the log line comes before the event loop runs
            try:
                if self.admin("/_fogbank/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise fh.ServerStartError("no health answer:\n" + "\n".join(self.lines))
            time.sleep(0.02)
        return self

    def _read(self, proc):
        for raw in iter(proc.stderr.readline, b""):
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        proc.stderr.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def close(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def imds_endpoint(self):
        return "http://127.0.0.1:%d" % self.imds_port

    def admin(self, path, method="GET", body=None, timeout=5):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body)
            conn.request(method, path, body=data,
                         headers={"Content-Type": "application/json"} if data else {})
            resp = conn.getresponse()
            raw = resp.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            return resp.status, parsed
        finally:
            conn.close()

    def request(self, method, path, headers=None, timeout=5):
        """One IMDS request; returns (status, lower-case headers, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.imds_port, timeout=timeout)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()


def _sts_client(endpoint, key, secret, token, region=fh.REGION):
    import boto3
    from botocore.config import Config
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                    aws_session_token=token, region_name=region)
    return session.client("sts", endpoint_url=endpoint,
                          config=Config(retries={"max_attempts": 1, "mode": "standard"},
                                        connect_timeout=5, read_timeout=10))


class ImdsCase(unittest.TestCase):
    server_args = []
    server: ImdsServer

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ImdsServer(cls.server_args)
        try:
            cls.server.start()
        except Exception:
            cls.server.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        super().tearDownClass()

    # ---------------------------------------------------------------- helpers
    def token(self, ttl="21600"):
        status, headers, body = self.server.request("PUT", "/latest/api/token", {TTL_HEADER: ttl})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get(TTL_HEADER.lower()), ttl)
        tok = body.decode()
        self.assertTrue(tok.strip())
        return tok

    def get(self, path, token=None, headers=None):
        h = dict(headers or {})
        if token:
            h[TOKEN_HEADER] = token
        return self.server.request("GET", path, h)

    def text(self, path, token=None):
        """GETs `path` (with a fresh token unless given), asserts 200, returns the text."""
        status, _, body = self.get(path, token or self.tok)
        self.assertEqual(status, 200, "GET %s: %s %r" % (path, status, body[:300]))
        return body.decode("utf-8")

    def lines(self, path, token=None):
        return self.text(path, token).split("\n")

    def assertNotFoundHtml(self, path, token=None):
        status, headers, body = self.get(path, token or self.tok)
        self.assertEqual(status, 404, "GET %s" % path)
        text = body.decode("utf-8", "replace")
        self.assertIn("<html", text)
        self.assertIn("404 - Not Found", text)
        self.assertNotIn("<Error>", text)
        self.assertTrue(headers.get("content-type", "").startswith("text/html"), headers)

    def setUp(self):
        self.tok = self.token()

    def chain_probe(self, extra_env=None, imds_endpoint=None):
        """botocore's default chain in a clean subprocess, pointed at this server's IMDS."""
        with tempfile.TemporaryDirectory(prefix="fogbank-imds-chain-") as work:
            for name in ("config", "credentials"):
                open(os.path.join(work, name), "w").close()
            env = clean_env({
                "AWS_CONFIG_FILE": os.path.join(work, "config"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "credentials"),
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": (imds_endpoint or self.server.imds_endpoint) + "/",
                "AWS_METADATA_SERVICE_TIMEOUT": "3",
                "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2",
                "HOME": work,
            })
            env.update(extra_env or {})
            proc = subprocess.run([sys.executable, PROBE, "chain", self.server.endpoint, fh.REGION],
                                  env=env, capture_output=True, text=True, timeout=30)
        self.assertTrue(proc.stdout.strip(), "probe printed nothing; stderr:\n" + proc.stderr[-2000:])
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def role_credentials(self):
        roles = [r for r in self.lines("/latest/meta-data/iam/security-credentials/") if r]
        self.assertEqual(len(roles), 1, roles)
        creds = json.loads(self.text("/latest/meta-data/iam/security-credentials/" + roles[0]))
        return roles[0], creds

    def assertChainWorks(self, out, role, instance_id, access_key):
        self.assertNotIn("error", out)
        self.assertEqual(out.get("method"), "iam-role", out)
        self.assertEqual(out.get("access_key"), access_key, out)
        self.assertTrue(out.get("has_token"), out)
        self.assertNotIn("sts_error", out)
        self.assertEqual(out["identity"]["Account"], ACCOUNT, out)
        self.assertEqual(out["identity"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCOUNT, role, instance_id), out)


# ==================================================================== default instance
class DefaultInstanceTest(ImdsCase):
    """IMDSv1 allowed, no user-data, default instance values."""

    # ---------------------------------------------------------------- tokens
    def test_token_ttl_bounds_and_echo(self):
        for ttl in ("1", "60", "21600"):
            self.token(ttl)
        status, _, _ = self.server.request("PUT", "/latest/api/token")
        self.assertEqual(status, 400, "PUT without a TTL header")
        for ttl in ("0", "21601", "soon", "-5", ""):
            status, _, body = self.server.request("PUT", "/latest/api/token", {TTL_HEADER: ttl})
            self.assertEqual(status, 400, "TTL %r: %r" % (ttl, body[:200]))

    def test_token_refused_when_forwarded(self):
        status, _, body = self.server.request("PUT", "/latest/api/token",
                                              {TTL_HEADER: "60", "X-Forwarded-For": "203.0.113.9"})
        self.assertEqual(status, 403, body[:200])

    def test_tokens_are_distinct(self):
        self.assertNotEqual(self.token("60"), self.token("60"))

    def test_invalid_token_unauthorized(self):
        status, headers, body = self.get("/latest/meta-data/", token="not-a-real-token")
        self.assertEqual(status, 401)
        self.assertIn("401 - Unauthorized", body.decode())
        self.assertNotIn("<Error>", body.decode())

    def test_valid_token_echoes_remaining_ttl(self):
        tok = self.token("21600")
        status, headers, body = self.get("/latest/meta-data/instance-id", tok)
        self.assertEqual(status, 200)
        self.assertEqual(body.decode(), DEFAULT_INSTANCE_ID)
        remaining = int(headers[TTL_HEADER.lower()])
        self.assertTrue(21590 <= remaining <= 21600, remaining)

    def test_imdsv1_get_without_token(self):
        status, headers, body = self.get("/latest/meta-data/instance-id")
        self.assertEqual(status, 200)
        self.assertEqual(body.decode(), DEFAULT_INSTANCE_ID)
        self.assertNotIn(TTL_HEADER.lower(), headers, "no token, no TTL header")

    def test_health_reports_imds_running(self):
        status, body = self.server.admin("/_fogbank/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["services"]["imds"], "running")

    # ---------------------------------------------------------------- listings
    def test_root_lists_versions(self):
        versions = self.lines("/")
        self.assertIn("latest", versions)
        self.assertIn("1.0", versions)
        self.assertIn("2021-01-03", versions)
        for v in versions:
            self.assertRegex(v, r"^(latest|1\.0|\d{4}-\d{2}-\d{2})$")

    def test_version_root_listing(self):
        self.assertEqual(sorted(self.lines("/latest/")), ["dynamic", "meta-data"])
        self.assertEqual(sorted(self.lines("/latest")), ["dynamic", "meta-data"])
        self.assertEqual(self.lines("/latest/dynamic/"), ["instance-identity/"])
        self.assertEqual(sorted(self.lines("/latest/dynamic/instance-identity/")),
                         ["document", "pkcs7", "rsa2048", "signature"])

    def test_meta_data_listing(self):
        entries = self.lines("/latest/meta-data/")
        wanted = {"ami-id", "ami-launch-index", "hostname", "iam/", "instance-id", "instance-type",
                  "local-hostname", "local-ipv4", "mac", "network/", "placement/", "public-ipv4",
                  "public-hostname", "public-keys/", "security-groups", "block-device-mapping/",
                  "reservation-id", "services/", "events/"}
        self.assertLessEqual(wanted, set(entries), sorted(wanted - set(entries)))
        for e in entries:
            self.assertRegex(e, ENTRY_RE)
            self.assertTrue(ENTRY_RE.fullmatch(e), e)
        self.assertEqual(len(entries), len(set(entries)), "duplicate entries")
        self.assertNotIn("spot/", entries, "no spot notice before one is triggered")
        self.assertNotIn("tags/", entries, "no tags configured")
        # The same listing without the trailing slash.
        self.assertEqual(self.lines("/latest/meta-data"), entries)

    def test_meta_data_values(self):
        self.assertEqual(self.text("/latest/meta-data/instance-id"), DEFAULT_INSTANCE_ID)
        self.assertRegex(self.text("/latest/meta-data/ami-id"), r"^ami-[0-9a-f]{17}$")
        self.assertEqual(self.text("/latest/meta-data/instance-type"), "t3.micro")
        self.assertEqual(self.text("/latest/meta-data/local-ipv4"), "10.0.1.23")
        self.assertEqual(self.text("/latest/meta-data/public-ipv4"), "203.0.113.25")
        self.assertEqual(self.text("/latest/meta-data/hostname"), "ip-10-0-1-23.ec2.internal")
        self.assertEqual(self.text("/latest/meta-data/local-hostname"), "ip-10-0-1-23.ec2.internal")
        self.assertEqual(self.text("/latest/meta-data/public-hostname"),
                         "ec2-203-0-113-25.compute-1.amazonaws.com")
        self.assertRegex(self.text("/latest/meta-data/mac"), r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
        self.assertEqual(self.text("/latest/meta-data/services/partition"), "aws")
        self.assertEqual(self.text("/latest/meta-data/services/domain"), "amazonaws.com")
        self.assertEqual(self.text("/latest/meta-data/ami-launch-index"), "0")

    def test_network_interfaces(self):
        mac = self.text("/latest/meta-data/mac")
        self.assertEqual(self.lines("/latest/meta-data/network/"), ["interfaces/"])
        self.assertEqual(self.lines("/latest/meta-data/network/interfaces/"), ["macs/"])
        self.assertEqual(self.lines("/latest/meta-data/network/interfaces/macs/"), [mac + "/"])
        base = "/latest/meta-data/network/interfaces/macs/%s/" % mac
        keys = self.lines(base)
        for k in ("device-number", "interface-id", "local-hostname", "local-ipv4s", "mac",
                  "owner-id", "public-ipv4s", "security-group-ids", "security-groups",
                  "subnet-id", "subnet-ipv4-cidr-block", "vpc-id", "vpc-ipv4-cidr-block"):
            self.assertIn(k, keys)
        for k in keys:
            self.assertTrue(ENTRY_RE.fullmatch(k), k)
        self.assertEqual(self.text(base + "mac"), mac)
        self.assertEqual(self.text(base + "owner-id"), ACCOUNT)
        self.assertEqual(self.text(base + "device-number"), "0")
        self.assertEqual(self.text(base + "local-ipv4s"), self.text("/latest/meta-data/local-ipv4"))
        self.assertEqual(self.text(base + "public-ipv4s"), self.text("/latest/meta-data/public-ipv4"))
        self.assertRegex(self.text(base + "vpc-id"), r"^vpc-[0-9a-f]{17}$")
        self.assertRegex(self.text(base + "subnet-id"), r"^subnet-[0-9a-f]{17}$")
        self.assertRegex(self.text(base + "interface-id"), r"^eni-[0-9a-f]{17}$")
        self.assertRegex(self.text(base + "security-group-ids"), r"^sg-[0-9a-f]{17}$")

    def test_placement(self):
        self.assertEqual(sorted(self.lines("/latest/meta-data/placement/")),
                         ["availability-zone", "availability-zone-id", "region"])
        self.assertEqual(self.text("/latest/meta-data/placement/region"), "us-east-1")
        self.assertEqual(self.text("/latest/meta-data/placement/availability-zone"), "us-east-1a")
        self.assertEqual(self.text("/latest/meta-data/placement/availability-zone-id"), "use1-az1")

    def test_public_keys(self):
        listing = self.lines("/latest/meta-data/public-keys/")
        self.assertEqual(len(listing), 1, listing)
        self.assertRegex(listing[0], r"^0=\S+$")
        self.assertEqual(self.lines("/latest/meta-data/public-keys/0/"), ["openssh-key"])
        key = self.text("/latest/meta-data/public-keys/0/openssh-key")
        self.assertRegex(key, r"^ssh-(ed25519|rsa) [A-Za-z0-9+/=]+ \S+$")
        self.assertTrue(key.endswith(" " + listing[0].split("=", 1)[1]), (key, listing))

    def test_dated_version(self):
        self.assertEqual(self.text("/2021-01-03/meta-data/instance-id"), DEFAULT_INSTANCE_ID)
        self.assertEqual(self.text("/1.0/meta-data/instance-id"), DEFAULT_INSTANCE_ID)
        self.assertEqual(sorted(self.lines("/2021-01-03/")), ["dynamic", "meta-data"])

    def test_unknown_paths_not_found_html(self):
        for path in ("/latest/meta-data/no-such-category", "/latest/meta-data/no-such-category/",
                     "/latest/meta-data/placement/nope", "/nope/", "/nope/meta-data/instance-id",
                     "/latest/nope", "/latest/dynamic/instance-identity/nope"):
            with self.subTest(path=path):
                self.assertNotFoundHtml(path)

    def test_user_data_absent(self):
        self.assertNotFoundHtml("/latest/user-data")
        self.assertNotIn("user-data", self.lines("/latest/"))

    # ---------------------------------------------------------------- identity document
    def test_identity_document_matches_meta_data(self):
        raw = self.text("/latest/dynamic/instance-identity/document")
        doc = json.loads(raw)
        md = lambda p: self.text("/latest/meta-data/" + p)  # noqa: E731
        expected = {"instanceId": md("instance-id"), "imageId": md("ami-id"),
                    "instanceType": md("instance-type"), "privateIp": md("local-ipv4"),
                    "region": md("placement/region"),
                    "availabilityZone": md("placement/availability-zone"),
                    "accountId": ACCOUNT, "architecture": "x86_64", "version": "2017-09-30"}
        self.assertEqual({k: doc.get(k) for k in expected}, expected)
        pending = parse_time(doc["pendingTime"])
        self.assertLessEqual(pending, utcnow() + dt.timedelta(seconds=5))
        self.assertGreater(pending, utcnow() - dt.timedelta(hours=1))
        for k in ("billingProducts", "devpayProductCodes", "marketplaceProductCodes", "kernelId",
                  "ramdiskId"):
            self.assertIn(k, doc)
        # Stable bytes: a signature is only checkable if the document does not change.
        self.assertEqual(self.text("/latest/dynamic/instance-identity/document"), raw)

    def test_identity_document_signatures_verify(self):
        status, cert = self.server.admin("/_fogbank/imds/certificate")
        self.assertEqual(status, 200)
        verify_identity(self, self.text, cert)

    # ---------------------------------------------------------------- role credentials
    def test_iam_info(self):
        self.assertEqual(sorted(self.lines("/latest/meta-data/iam/")), ["info", "security-credentials/"])
        info = json.loads(self.text("/latest/meta-data/iam/info"))
        self.assertEqual(info["Code"], "Success")
        self.assertRegex(info["InstanceProfileArn"], r"^arn:aws:iam::\d{12}:instance-profile/.+$")
        self.assertEqual(info["InstanceProfileArn"],
                         "arn:aws:iam::%s:instance-profile/%s" % (ACCOUNT, DEFAULT_ROLE))
        parse_time(info["LastUpdated"])
        # IAM unique ids are 21 characters of upper-case letters and digits (AIPA + 17).
        self.assertRegex(info["InstanceProfileId"], r"^AIPA[A-Z0-9]{17}$")

    def test_role_credentials(self):
        role, creds = self.role_credentials()
        self.assertEqual(role, DEFAULT_ROLE)
        self.assertEqual(creds["Code"], "Success")
        self.assertEqual(creds["Type"], "AWS-HMAC")
        self.assertRegex(creds["AccessKeyId"], r"^ASIA[A-Z0-9]{12,}$")
        self.assertGreaterEqual(len(creds["SecretAccessKey"]), 30)
        self.assertTrue(creds["Token"])
        expires = parse_time(creds["Expiration"])
        self.assertGreater(expires, utcnow() + dt.timedelta(minutes=5))
        self.assertLess(expires, utcnow() + dt.timedelta(hours=12))
        updated = parse_time(creds["LastUpdated"])
        self.assertLessEqual(updated, utcnow() + dt.timedelta(seconds=2))
        # EC2 serves the same credentials until it rotates them.
        _, again = self.role_credentials()
        self.assertEqual(again["AccessKeyId"], creds["AccessKeyId"])
        self.assertEqual(again["Token"], creds["Token"])
        # The trailing-slash form of the role leaf answers too.
        self.assertEqual(json.loads(self.text("/latest/meta-data/iam/security-credentials/%s/" % role))
                         ["AccessKeyId"], creds["AccessKeyId"])
        # Those credentials are accepted by the API.
        ident = _sts_client(self.server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                            creds["Token"]).get_caller_identity()
        self.assertEqual(ident["Account"], ACCOUNT)
        self.assertEqual(ident["Arn"], "arn:aws:sts::%s:assumed-role/%s/%s"
                         % (ACCOUNT, DEFAULT_ROLE, DEFAULT_INSTANCE_ID))
        self.assertRegex(ident["UserId"], r"^AROA[A-Z0-9]+:%s$" % DEFAULT_INSTANCE_ID)

    def test_credential_chain(self):
        role, creds = self.role_credentials()
        out = self.chain_probe()
        self.assertChainWorks(out, role, DEFAULT_INSTANCE_ID, creds["AccessKeyId"])

    def test_credential_chain_v1_disabled(self):
        role, creds = self.role_credentials()
        out = self.chain_probe({"AWS_EC2_METADATA_V1_DISABLED": "true"})
        self.assertChainWorks(out, role, DEFAULT_INSTANCE_ID, creds["AccessKeyId"])

    # ---------------------------------------------------------------- events
    def post_event(self, body):
        return self.server.admin("/_fogbank/imds/events", "POST", body)

    def test_events(self):
        self.assertEqual(self.server.admin("/_fogbank/imds/events", "DELETE")[0], 200)
        try:
            self.assertNotFoundHtml("/latest/meta-data/spot/instance-action")
            self.assertEqual(self.text("/latest/meta-data/events/maintenance/scheduled"), "[]")
            self.assertEqual(self.text("/latest/meta-data/autoscaling/target-lifecycle-state"),
                             "InService")
            self.assertNotFoundHtml("/latest/meta-data/events/recommendations/rebalance")

            # Rebalance recommendation, two seconds from now (scheduled first so the wait overlaps).
            status, body = self.post_event({"kind": "rebalance", "delay_seconds": 2})
            self.assertEqual(status, 200, body)
            scheduled = time.monotonic()

            # Spot interruption: instance-action JSON and spot/ in the listing.
            before = utcnow()
            status, body = self.post_event({"kind": "spot-interruption"})
            self.assertEqual(status, 200, body)
            action = json.loads(self.text("/latest/meta-data/spot/instance-action"))
            self.assertEqual(set(action), {"action", "time"})
            self.assertIn(action["action"], ("terminate", "stop", "hibernate"))
            when = parse_time(action["time"])
            self.assertTrue(before + dt.timedelta(seconds=60) < when < before + dt.timedelta(seconds=180),
                            action)
            self.assertIn("spot/", self.lines("/latest/meta-data/"))
            self.assertIn("instance-action", self.lines("/latest/meta-data/spot/"))
            self.assertEqual(parse_time(self.text("/latest/meta-data/spot/termination-time")), when)

            # Maintenance: a non-empty JSON list of scheduled events.
            status, body = self.post_event({"kind": "maintenance"})
            self.assertEqual(status, 200, body)
            events = json.loads(self.text("/latest/meta-data/events/maintenance/scheduled"))
            self.assertIsInstance(events, list)
            self.assertEqual(len(events), 1)
            for k in ("Code", "Description", "EventId", "NotBefore", "NotAfter", "State"):
                self.assertIn(k, events[0])
            self.assertGreater(parse_time(events[0]["NotBefore"]), utcnow())

            # Auto Scaling lifecycle state.
            status, body = self.post_event({"kind": "lifecycle", "value": "Terminated"})
            self.assertEqual(status, 200, body)
            self.assertEqual(self.text("/latest/meta-data/autoscaling/target-lifecycle-state"),
                             "Terminated")

            # Unknown kinds and malformed bodies.
            self.assertEqual(self.post_event({"kind": "meteor-strike"})[0], 400)
            self.assertEqual(self.post_event({"value": "x"})[0], 400)
            self.assertEqual(self.server.admin("/_fogbank/imds/events", "POST", [1, 2])[0], 400)

            # The rebalance notice shows up only once its delay has passed.
            path = "/latest/meta-data/events/recommendations/rebalance"
            if time.monotonic() - scheduled < 0.9:
                self.assertEqual(self.get(path, self.tok)[0], 404, "rebalance notice came early")
            deadline = scheduled + 5
            while True:
                status, _, body = self.get(path, self.tok)
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            elapsed = time.monotonic() - scheduled
            self.assertEqual(status, 200, "rebalance notice never appeared")
            self.assertGreater(elapsed, 0.9, "rebalance notice appeared after %.2fs" % elapsed)
            notice = json.loads(body)
            self.assertEqual(set(notice), {"noticeTime"})
            parse_time(notice["noticeTime"])

            # DELETE clears every event.
            status, body = self.server.admin("/_fogbank/imds/events", "DELETE")
            self.assertEqual(status, 200, body)
            self.assertNotFoundHtml("/latest/meta-data/spot/instance-action")
            self.assertNotFoundHtml(path)
            self.assertNotIn("spot/", self.lines("/latest/meta-data/"))
            self.assertEqual(self.text("/latest/meta-data/events/maintenance/scheduled"), "[]")
            self.assertEqual(self.text("/latest/meta-data/autoscaling/target-lifecycle-state"),
                             "InService")
        finally:
            self.server.admin("/_fogbank/imds/events", "DELETE")


def verify_identity(case, fetch_text, cert_pem):
    """Checks `signature` and `pkcs7`/`rsa2048` of the identity document with openssl."""
    if shutil.which("openssl") is None:
        case.skipTest("openssl not installed")
    doc = fetch_text("/latest/dynamic/instance-identity/document")
    with tempfile.TemporaryDirectory(prefix="fogbank-imds-sig-") as d:
        p = lambda n: os.path.join(d, n)  # noqa: E731
        with open(p("doc"), "wb") as f:
            f.write(doc.encode("utf-8"))
        with open(p("cert.pem"), "w") as f:
            f.write(cert_pem)
        run = lambda *a: subprocess.run(list(a), capture_output=True, timeout=20)  # noqa: E731
        r = run("openssl", "x509", "-in", p("cert.pem"), "-pubkey", "-noout")
        case.assertEqual(r.returncode, 0, r.stderr)
        with open(p("pub.pem"), "wb") as f:
            f.write(r.stdout)

        sig = base64.b64decode("".join(fetch_text("/latest/dynamic/instance-identity/signature").split()),
                               validate=True)
        case.assertEqual(len(sig), 256, "RSA-2048 signature length")
        with open(p("sig"), "wb") as f:
            f.write(sig)
        r = run("openssl", "dgst", "-sha256", "-verify", p("pub.pem"), "-signature", p("sig"), p("doc"))
        case.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        case.assertIn(b"Verified OK", r.stdout)
        # A tampered document must not verify.
        with open(p("bad"), "wb") as f:
            f.write(doc.replace('"x86_64"', '"arm64"').encode())
        r = run("openssl", "dgst", "-sha256", "-verify", p("pub.pem"), "-signature", p("sig"), p("bad"))
        case.assertNotEqual(r.returncode, 0, "tampered document verified")

        for name in ("pkcs7", "rsa2048"):
            body = fetch_text("/latest/dynamic/instance-identity/" + name).strip()
            case.assertNotIn("-----BEGIN", body, "EC2 serves the pkcs7 without PEM armour")
            base64.b64decode("".join(body.split()), validate=True)
            with open(p(name + ".pem"), "w") as f:
                f.write("-----BEGIN PKCS7-----\n" + body + "\n-----END PKCS7-----\n")
            r = run("openssl", "smime", "-verify", "-inform", "PEM", "-in", p(name + ".pem"),
                    "-certfile", p("cert.pem"), "-noverify", "-binary")
            case.assertEqual(r.returncode, 0, b"%s: " % name.encode() + r.stderr)
            case.assertEqual(r.stdout.decode("utf-8"), doc, name)
            r = run("openssl", "cms", "-verify", "-inform", "PEM", "-in", p(name + ".pem"),
                    "-certfile", p("cert.pem"), "-noverify", "-binary")
            case.assertEqual(r.returncode, 0, b"%s (cms): " % name.encode() + r.stderr)
            case.assertEqual(r.stdout.decode("utf-8"), doc, name + " (cms)")


# ==================================================================== IMDSv2 required
class VirtualClockTest(ImdsCase):
    """Token TTLs, event delays and credential rotation follow fogbank's clock: started with
    --clock virtual, it stands still until the test moves it, so nothing here sleeps."""

    server_args = ["--clock", "virtual"]

    def setUp(self):
        # Clients sign with the real time; the virtual clock has stood still since fogbank started.
        fh.set_clock(self.server, time.time())
        super().setUp()

    def test_token_expires(self):
        tok = self.token("1")
        status, _, _ = self.get("/latest/meta-data/instance-id", tok)
        self.assertEqual(status, 200, "a fresh TTL-1 token must work")
        fh.advance_clock(self.server, 0.999)
        status, _, _ = self.get("/latest/meta-data/instance-id", tok)
        self.assertEqual(status, 200, "a TTL-1 token is good for a whole second")
        fh.advance_clock(self.server, 0.001)
        status, _, body = self.get("/latest/meta-data/instance-id", tok)
        self.assertEqual(status, 401, "an expired token must be refused: %r" % body[:100])

    def test_remaining_ttl_follows_the_clock(self):
        tok = self.token("600")
        fh.advance_clock(self.server, 250)
        status, headers, _ = self.get("/latest/meta-data/instance-id", tok)
        self.assertEqual(status, 200)
        self.assertEqual(headers[TTL_HEADER.lower()], "350")

    def test_event_appears_after_its_delay(self):
        path = "/latest/meta-data/events/recommendations/rebalance"
        self.server.admin("/_fogbank/imds/events", "DELETE")
        try:
            status, body = self.server.admin("/_fogbank/imds/events", "POST",
                                             {"kind": "rebalance", "delay_seconds": 30})
            self.assertEqual(status, 200, body)
            scheduled = fh.clock(self.server)["now_ms"] // 1000
            self.assertEqual(self.get(path, self.tok)[0], 404)
            fh.advance_clock(self.server, 29)
            self.assertEqual(self.get(path, self.tok)[0], 404, "the notice came early")
            fh.advance_clock(self.server, 1)
            status, _, body = self.get(path, self.tok)
            self.assertEqual(status, 200, "the notice did not come when due")
            notice = parse_time(json.loads(body)["noticeTime"])
            self.assertEqual(notice, dt.datetime.fromtimestamp(scheduled + 30, dt.timezone.utc))
        finally:
            self.server.admin("/_fogbank/imds/events", "DELETE")

    def test_role_credentials_rotate_hourly_and_expire(self):
        _, first = self.role_credentials()
        # Earlier tests may have issued them at another clock time: count from their LastUpdated.
        issued = parse_time(first["LastUpdated"])
        fh.set_clock(self.server, issued + dt.timedelta(seconds=3599))
        _, same = self.role_credentials()
        self.assertEqual(same["AccessKeyId"], first["AccessKeyId"])
        fh.set_clock(self.server, issued + dt.timedelta(hours=1))
        _, rotated = self.role_credentials()
        self.assertNotEqual(rotated["AccessKeyId"], first["AccessKeyId"])
        self.assertEqual(parse_time(rotated["LastUpdated"]), issued + dt.timedelta(hours=1))
        self.assertEqual(parse_time(rotated["Expiration"]), issued + dt.timedelta(hours=7))
        # The old credentials stay valid until their own expiry, six hours after issue...
        old = _sts_client(self.server.endpoint, first["AccessKeyId"], first["SecretAccessKey"],
                          first["Token"])
        fh.set_clock(self.server, issued + dt.timedelta(hours=6, seconds=-1))
        self.assertEqual(old.get_caller_identity()["Account"], ACCOUNT)
        # ...and are refused after it, in clock time (requests are still signed with real time).
        fh.set_clock(self.server, issued + dt.timedelta(hours=6, seconds=1))
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            old.get_caller_identity()
        self.assertEqual(cm.exception.response["Error"]["Code"], "ExpiredToken")


class V2RequiredTest(ImdsCase):
    USER_DATA = "#!/bin/bash\necho 'hello from fogbank' > /tmp/hello\n"
    server_args = ["--imds-v2-required", "--imds-user-data", USER_DATA]

    def test_tokenless_get_refused(self):
        for path in ("/", "/latest/meta-data/", "/latest/meta-data/instance-id", "/latest/user-data",
                     "/latest/meta-data/iam/security-credentials/"):
            with self.subTest(path=path):
                status, headers, body = self.get(path)
                self.assertEqual(status, 401, body[:200])
                self.assertIn("401 - Unauthorized", body.decode())

    def test_token_get_works(self):
        self.assertEqual(self.text("/latest/meta-data/instance-id"), DEFAULT_INSTANCE_ID)
        status, _, _ = self.get("/latest/meta-data/instance-id", token="forged")
        self.assertEqual(status, 401)

    def test_inline_user_data(self):
        self.assertIn("user-data", self.lines("/latest/"))
        status, headers, body = self.get("/latest/user-data", self.tok)
        self.assertEqual(status, 200)
        self.assertEqual(body, self.USER_DATA.encode())

    def test_credential_chain_v2_required(self):
        role, creds = self.role_credentials()
        self.assertChainWorks(self.chain_probe(), role, DEFAULT_INSTANCE_ID, creds["AccessKeyId"])
        self.assertChainWorks(self.chain_probe({"AWS_EC2_METADATA_V1_DISABLED": "true"}),
                              role, DEFAULT_INSTANCE_ID, creds["AccessKeyId"])


# ==================================================================== --imds-config, @file user-data
class ConfiguredInstanceTest(ImdsCase):
    USER_DATA = b"#cloud-config\nruncmd:\n - echo caf\xc3\xa9\n\x00\x01\xff\xfe binary tail\r\n"
    CONFIG = {
        "instance_id": "i-0123456789abcdef0",
        "instance_type": "m5.large",
        "region": "eu-west-2",
        "role_name": "app-server-role",
        "local_ipv4": "172.31.5.9",
        "tags": {"Name": "web-1", "env": "staging"},
        "metadata": {"instance-life-cycle": "spot", "custom/answer": "42"},
    }

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="fogbank-imds-cfg-")
        cls.config_path = os.path.join(cls.work, "instance.json")
        cls.user_data_path = os.path.join(cls.work, "user-data.bin")
        with open(cls.config_path, "w") as f:
            json.dump(cls.CONFIG, f)
        with open(cls.user_data_path, "wb") as f:
            f.write(cls.USER_DATA)
        cls.server_args = ["--imds-config", cls.config_path, "--imds-user-data", "@" + cls.user_data_path]
        try:
            super().setUpClass()
        except Exception:
            shutil.rmtree(cls.work, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_file_user_data_exact_bytes(self):
        status, _, body = self.get("/latest/user-data", self.tok)
        self.assertEqual(status, 200)
        self.assertEqual(body, self.USER_DATA)
        self.assertEqual(sorted(self.lines("/latest/")), ["dynamic", "meta-data", "user-data"])

    def test_config_overrides(self):
        self.assertEqual(self.text("/latest/meta-data/instance-id"), "i-0123456789abcdef0")
        self.assertEqual(self.text("/latest/meta-data/instance-type"), "m5.large")
        self.assertEqual(self.text("/latest/meta-data/local-ipv4"), "172.31.5.9")
        self.assertEqual(self.text("/latest/meta-data/placement/region"), "eu-west-2")
        self.assertEqual(self.text("/latest/meta-data/placement/availability-zone"), "eu-west-2a")
        self.assertEqual(self.text("/latest/meta-data/placement/availability-zone-id"), "euw2-az1")
        self.assertEqual(self.text("/latest/meta-data/hostname"),
                         "ip-172-31-5-9.eu-west-2.compute.internal")
        self.assertEqual(self.text("/latest/meta-data/instance-life-cycle"), "spot")
        self.assertEqual(self.text("/latest/meta-data/custom/answer"), "42")
        entries = self.lines("/latest/meta-data/")
        self.assertIn("tags/", entries)
        self.assertIn("custom/", entries)
        self.assertEqual(self.lines("/latest/meta-data/tags/"), ["instance/"])
        self.assertEqual(sorted(self.lines("/latest/meta-data/tags/instance/")), ["Name", "env"])
        self.assertEqual(self.text("/latest/meta-data/tags/instance/Name"), "web-1")
        self.assertEqual(self.text("/latest/meta-data/tags/instance/env"), "staging")
        doc = json.loads(self.text("/latest/dynamic/instance-identity/document"))
        self.assertEqual((doc["instanceId"], doc["instanceType"], doc["region"],
                          doc["availabilityZone"], doc["privateIp"]),
                         ("i-0123456789abcdef0", "m5.large", "eu-west-2", "eu-west-2a", "172.31.5.9"))

    def test_configured_role(self):
        info = json.loads(self.text("/latest/meta-data/iam/info"))
        self.assertEqual(info["InstanceProfileArn"],
                         "arn:aws:iam::%s:instance-profile/app-server-role" % ACCOUNT)
        role, creds = self.role_credentials()
        self.assertEqual(role, "app-server-role")
        ident = _sts_client(self.server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                            creds["Token"]).get_caller_identity()
        self.assertEqual(ident["Arn"], "arn:aws:sts::%s:assumed-role/app-server-role/i-0123456789abcdef0"
                         % ACCOUNT)

    def test_signing_key_persists_across_restart(self):
        status, cert1 = self.server.admin("/_fogbank/imds/certificate")
        self.assertEqual(status, 200)
        self.assertIn("-----BEGIN CERTIFICATE-----", cert1)
        sig1 = self.text("/latest/dynamic/instance-identity/signature")
        verify_identity(self, self.text, cert1)
        self.server.stop()
        self.server.start()
        self.tok = self.token()
        status, cert2 = self.server.admin("/_fogbank/imds/certificate")
        self.assertEqual(status, 200)
        self.assertEqual(cert2, cert1, "the identity signing certificate changed across a restart")
        verify_identity(self, self.text, cert2)
        self.assertNotEqual(self.text("/latest/dynamic/instance-identity/signature"), "")
        self.assertTrue(sig1)


# ==================================================================== --imds-address off
class ImdsOffTest(unittest.TestCase):
    def test_no_listener(self):
        server = ImdsServer(imds_address="off")
        try:
            server.start()
            status, health = server.admin("/_fogbank/health")
            self.assertEqual(status, 200)
            self.assertEqual(health["services"]["imds"], "off")
            self.assertIsNone(server.imds_port)
            self.assertFalse([l for l in server.lines if "instance metadata service" in l], server.lines)
            status, body = server.admin("/_fogbank/imds/certificate")
            self.assertEqual(status, 404, body)
            status, body = server.admin("/_fogbank/imds/events", "POST", {"kind": "rebalance"})
            self.assertEqual(status, 404, body)
        finally:
            server.close()


# ==================================================================== network namespace
class NetnsTest(unittest.TestCase):
    """fogbank on the real IMDS address inside a private network namespace, reached by
    botocore's built-in default endpoint (no AWS_EC2_METADATA_SERVICE_ENDPOINT)."""

    def test_default_endpoint_in_namespace(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to create a network namespace")
        ip = shutil.which("ip")
        if ip is None:
            self.skipTest("iproute2 'ip' not installed")
        ns = "fogbank-imds-%d" % os.getpid()
        r = subprocess.run([ip, "netns", "add", ns], capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            self.skipTest("cannot create a network namespace: %s" % r.stderr.strip())
        data_dir = tempfile.mkdtemp(prefix="fogbank-imds-ns-")
        proc = drain = None
        try:
            for cmd in (["link", "set", "lo", "up"], ["addr", "add", "169.254.169.254/32", "dev", "lo"]):
                r = subprocess.run([ip, "netns", "exec", ns, ip] + cmd, capture_output=True,
                                   text=True, timeout=10)
                if r.returncode != 0:
                    self.skipTest("cannot configure the namespace (%s): %s" % (" ".join(cmd), r.stderr.strip()))
            proc = subprocess.Popen([ip, "netns", "exec", ns, fh.fogbank_bin(), "--host", "127.0.0.1",
                                     "--port", "0", "--io-threads", "2",
                                     "--imds-address", "169.254.169.254:80", "--data-dir", data_dir],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, env=clean_env())
            lines, port, imds = [], None, None
            deadline = time.monotonic() + 15
            while port is None and time.monotonic() < deadline:
                raw = proc.stderr.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\n")
                lines.append(line)
                if _IMDS_RE.search(line):
                    imds = _IMDS_RE.search(line).group(0)
                m = _API_RE.search(line)
                if m:
                    port = int(m.group("port"))
            self.assertIsNotNone(port, "fogbank in the namespace did not start:\n" + "\n".join(lines))
            self.assertEqual(imds, "instance metadata service on http://169.254.169.254:80")
            # Drain stderr so fogbank never blocks on a full pipe.
            drain = threading.Thread(target=proc.stderr.read, daemon=True)
            drain.start()

            with tempfile.TemporaryDirectory(prefix="fogbank-imds-ns-home-") as home:
                for name in ("config", "credentials"):
                    open(os.path.join(home, name), "w").close()
                env = clean_env({"AWS_CONFIG_FILE": os.path.join(home, "config"),
                                 "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
                                 "AWS_METADATA_SERVICE_TIMEOUT": "3",
                                 "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2",
                                 "HOME": home})
                r = subprocess.run([ip, "netns", "exec", ns, sys.executable, PROBE, "netns",
                                    "http://127.0.0.1:%d" % port, fh.REGION],
                                   env=env, capture_output=True, text=True, timeout=40)
            self.assertTrue(r.stdout.strip(), "probe printed nothing:\n" + r.stderr[-2000:])
            out = json.loads(r.stdout.strip().splitlines()[-1])
            self.assertNotIn("error", out, out)
            self.assertEqual(out["token_status"], 200, out)
            self.assertEqual(out["token_ttl"], "300", out)
            self.assertEqual(out["instance_id_status"], 200, out)
            self.assertEqual(out["instance_id"], DEFAULT_INSTANCE_ID, out)
            self.assertEqual(out.get("method"), "iam-role", out)
            self.assertTrue(out.get("has_token"), out)
            self.assertRegex(out.get("access_key", ""), r"^ASIA", out)
            self.assertNotIn("sts_error", out, out)
            self.assertEqual(out["identity"]["Arn"], "arn:aws:sts::%s:assumed-role/%s/%s"
                             % (ACCOUNT, DEFAULT_ROLE, DEFAULT_INSTANCE_ID), out)
        finally:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if drain is not None:
                drain.join(5)
            if proc is not None:
                proc.stderr.close()
            subprocess.run([ip, "netns", "del", ns], capture_output=True, timeout=10)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
