"""Shared helpers for fogbank's end-to-end tests (stdlib unittest + boto3/botocore only).

A FogbankServer runs one real fogbank process on a free port with a temporary data dir.
Its stderr is read on a thread and kept (``server.lines``) so tests can assert on log lines.

Typical use, one server per TestCase class:

    class MyTest(FogbankTestCase):
        server_args = ["--credentials", "test:test:000000000000"]

        def test_x(self):
            sts = self.server.client("sts")
            ...

Tests about expiry never sleep: they run a fogbank started with ``--clock virtual`` and move its
clock (``server.sync_clock()``, ``server.advance_clock(seconds)``, ``server.set_clock(when)``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import itertools
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET

DEFAULT_BIN = "/work/main/build/server/fogbank"
REGION = "us-east-1"
ROOT_ACCOUNT = "000000000000"
DEFAULT_KEY = "test"
DEFAULT_SECRET = "test"


def _sanitize_aws_env():
    """Ambient AWS configuration (profiles, CA bundles, endpoint overrides, config files) must not
    leak into boto3 clients built by these tests."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    empty = os.path.join(tempfile.gettempdir(), "fogbank-e2e-no-aws-config")
    os.environ["AWS_CONFIG_FILE"] = empty
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = empty
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


_sanitize_aws_env()

_LISTEN_RE = re.compile(r"listening on http://(?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)")
_CA_RE = re.compile(r"CA (?P<ca>\S+\.pem)")
_IMDS_RE = re.compile(r"instance metadata service on http://(?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)")


def fogbank_bin() -> str:
    path = os.environ.get("FOGBANK_BIN", DEFAULT_BIN)
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"fogbank binary not found at {path!r} (set FOGBANK_BIN)")
    return path


class ServerStartError(RuntimeError):
    pass


class FogbankServer:
    """One fogbank process. ``start()`` may be called again after ``stop()``/``kill()``
    to restart on the same data dir (the port changes: fogbank is started with --port 0)."""

    def __init__(self, extra_args=None, data_dir=None, ephemeral=False, io_threads=2, env=None,
                 imds_address="off", preexec_fn=None):
        """`imds_address` "127.0.0.1:0" runs the IMDS listener too (its port: ``imds_port``);
        `preexec_fn` runs in the child before exec (resource limits, umask)."""
        self.bin = fogbank_bin()
        self.imds_address = imds_address
        self.imds_port: int | None = None
        self.preexec_fn = preexec_fn
        self.extra_args = list(extra_args or [])
        self.env = dict(env or {})  # added to fogbank's environment (FOGBANK_* included)
        self.ephemeral = ephemeral
        self.io_threads = io_threads
        self._own_dir = data_dir is None and not ephemeral
        self.data_dir = data_dir or (None if ephemeral else tempfile.mkdtemp(prefix="fogbank-e2e-"))
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.host = "127.0.0.1"
        self.ca: str | None = None
        self.lines: list[str] = []          # every stderr line of every run, in order
        self.run_lines: list[str] = []      # stderr lines of the current run only
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._reader: threading.Thread | None = None
        self.returncode: int | None = None
        self._death_reported = False

    # ------------------------------------------------------------------ lifecycle
    def start(self, extra_args=None, timeout=15.0, wait_ready=True):
        """Starts fogbank and waits for its "listening on" line. With `wait_ready` it also waits
        for /_fogbank/health to answer, i.e. until the event loop (and its SIGTERM/SIGINT
        handling) runs: the log line is printed before that."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("fogbank already running")
        if extra_args is not None:
            self.extra_args = list(extra_args)
        args = [self.bin, "--host", "127.0.0.1", "--port", "0", "--imds-address", self.imds_address,
                "--io-threads", str(self.io_threads)]
        if self.ephemeral:
            args.append("--ephemeral")
        else:
            args += ["--data-dir", self.data_dir]
        args += self.extra_args
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOGBANK_")}
        env.update(self.env)
        with self._lock:
            self.run_lines = []
        self.port = None
        self.returncode = None
        self._death_reported = False
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env, preexec_fn=self.preexec_fn)
        self._reader = threading.Thread(target=self._read_stderr, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.run_lines:
                    mi = _IMDS_RE.search(line)
                    if mi:
                        self.imds_port = int(mi.group("port"))
                    m = _LISTEN_RE.search(line)
                    if m:
                        self.port = int(m.group("port"))
                        c = _CA_RE.search(line)
                        self.ca = c.group("ca") if c else None
                        break
                if self.port is not None:
                    break
                if self.proc.poll() is not None:
                    raise ServerStartError(
                        f"fogbank exited with {self.proc.returncode} before listening:\n"
                        + "\n".join(self.run_lines))
                left = deadline - time.monotonic()
                if left <= 0:
                    self.proc.kill()
                    raise ServerStartError("fogbank did not report its port in time:\n"
                                           + "\n".join(self.run_lines))
                self._cond.wait(min(left, 0.1))
        if self.ca is None and self.data_dir:
            candidate = os.path.join(self.data_dir, "tls", "ca.pem")
            if os.path.exists(candidate):
                self.ca = candidate
        if wait_ready:
            while True:
                try:
                    if self.admin("/_fogbank/health", timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise ServerStartError("fogbank never answered /_fogbank/health:\n"
                                           + "\n".join(self.run_lines))
                time.sleep(0.01)
        return self

    def _read_stderr(self, proc):
        for raw in iter(proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if os.environ.get("FOGBANK_E2E_ECHO"):
                sys.stderr.write("[fogbank] " + line + "\n")
            with self._cond:
                self.lines.append(line)
                self.run_lines.append(line)
                self._cond.notify_all()
        proc.stderr.close()
        with self._cond:
            self._cond.notify_all()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, sig=signal.SIGTERM, timeout=10.0) -> int:
        """Sends `sig` and waits for the exit code (raises if it does not exit in time)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        if self._reader:
            self._reader.join(5)
        return self.returncode

    def stop(self, timeout=10.0) -> int:
        return self.terminate(signal.SIGTERM, timeout)

    def kill9(self) -> int:
        assert self.proc is not None
        self.proc.kill()
        self.returncode = self.proc.wait(10)
        if self._reader:
            self._reader.join(5)
        return self.returncode

    def restart(self, graceful=True, extra_args=None):
        if self.alive():
            if graceful:
                rc = self.stop()
                if rc != 0:
                    raise AssertionError(f"fogbank exited with {rc} on SIGTERM")
            else:
                self.kill9()
        return self.start(extra_args)

    def exit_status(self) -> str:
        """How the process ended ("running", "exit code 3", "killed by SIGSEGV")."""
        if self.proc is None:
            return "not started"
        rc = self.proc.poll()
        if rc is None:
            return "running"
        if rc < 0:
            try:
                return f"killed by {signal.Signals(-rc).name}"
            except ValueError:
                return f"killed by signal {-rc}"
        return f"exit code {rc}"

    def diagnostics(self, why, lines=40) -> str:
        """A report for a failed test or a dead server: status and the tail of this run's stderr,
        so a crash shows as a crash rather than as "connection refused" in some later test."""
        if self._reader is not None and self.proc is not None and self.proc.poll() is not None:
            self._reader.join(2)  # the last lines of a dead process are the interesting ones
        with self._lock:
            tail = list(self.run_lines[-lines:])
        bar = "-" * 70
        return (f"\n{bar}\nfogbank ({self.bin}, port {self.port}): {why}; process {self.exit_status()}\n"
                f"last {len(tail)} stderr lines:\n" + "\n".join("  " + line for line in tail) + f"\n{bar}\n")

    def close(self):
        """Stops the process (kill if needed) and removes the data dir the harness created. If the
        process had died by itself with a failure, or fails to shut down cleanly, says so."""
        if self.proc is not None:
            died = self.proc.poll()
            if died is not None and died != 0 and not self._death_reported:
                sys.stderr.write(self.diagnostics("the server had died"))
                self._death_reported = True
            elif died is None:
                try:
                    rc = self.terminate(signal.SIGTERM, 5)
                    if rc != 0:
                        sys.stderr.write(self.diagnostics("the server failed on SIGTERM"))
                except Exception:
                    self.proc.kill()
                    self.proc.wait()
                    sys.stderr.write(self.diagnostics("the server did not stop on SIGTERM within 5 s"))
        if self._own_dir and self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ------------------------------------------------------------------ log lines
    def wait_for_line(self, pattern, timeout=5.0, since=0):
        """Waits for a stderr line (of all runs, from index `since`) matching regex `pattern`."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[since:]:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.1))

    def line_count(self) -> int:
        with self._lock:
            return len(self.lines)

    def lines_since(self, index):
        with self._lock:
            return list(self.lines[index:])

    # ------------------------------------------------------------------ endpoints / clients
    @property
    def http_url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def https_url(self):
        return f"https://{self.host}:{self.port}"

    def endpoint(self, https=False):
        return self.https_url if https else self.http_url

    def client(self, service="sts", https=False, key=DEFAULT_KEY, secret=DEFAULT_SECRET, token=None,
               region=REGION, validate=True, unsigned=False, **config_kwargs):
        import boto3
        import botocore
        from botocore.config import Config

        cfg = dict(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                   read_timeout=15, parameter_validation=validate)
        if unsigned:
            cfg["signature_version"] = botocore.UNSIGNED
        cfg.update(config_kwargs)
        session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                        aws_session_token=token, region_name=region)
        return session.client(service, endpoint_url=self.endpoint(https),
                              verify=(self.ca if https else None), config=Config(**cfg))

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        return ctx

    def admin(self, path, method="GET", body=None, timeout=5):
        """Calls an admin endpoint; returns (status, parsed JSON or raw text, headers)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            return resp.status, parsed, {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def reset(self):
        status, body, _ = self.admin("/_fogbank/reset", "POST")
        if status != 200:
            raise AssertionError(f"reset failed: {status} {body}")
        return body

    # ------------------------------------------------------------------ the clock
    def clock(self):
        """GET /_fogbank/clock: {"mode": ..., "now": ..., "now_ms": ...}."""
        return clock(self)

    def advance_clock(self, seconds):
        """Moves a virtual clock forward (fogbank started with --clock virtual)."""
        return advance_clock(self, seconds)

    def set_clock(self, when):
        """Sets a virtual clock to `when`: a datetime, unix seconds or an ISO-8601 string."""
        return set_clock(self, when)

    def sync_clock(self):
        """Sets a virtual clock to the real time: it stood still since fogbank started, while
        clients sign with the real time."""
        return set_clock(self, time.time())

    def connect(self, timeout=5.0) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=timeout)


# ---------------------------------------------------------------------- the clock
# Functions of any object whose admin(path, method, body) returns (status, parsed JSON, ...), so
# servers started outside FogbankServer (test_imds.py's) can move their clock too.

def clock(server):
    status, body = server.admin("/_fogbank/clock")[:2]
    if status != 200:
        raise AssertionError(f"GET /_fogbank/clock: {status} {body}")
    return body


def _move_clock(server, request):
    status, body = server.admin("/_fogbank/clock", "POST", request)[:2]
    if status != 200:
        raise AssertionError(f"POST /_fogbank/clock {request}: {status} {body}")
    return body


def advance_clock(server, seconds):
    """Moves the virtual clock of `server` forward by `seconds` (fractions allowed); returns the
    endpoint's answer. Timers that fell due (long-poll deadlines) have fired when it returns."""
    return _move_clock(server, {"advance_seconds": seconds})


def set_clock(server, when):
    """Sets the virtual clock of `server` to `when`: a datetime (naive = UTC), unix seconds or an
    ISO-8601 string."""
    if isinstance(when, (int, float)):
        when = _dt.datetime.fromtimestamp(when, _dt.timezone.utc)
    if isinstance(when, _dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        when = when.isoformat(timespec="milliseconds")
    return _move_clock(server, {"set": when})


# ---------------------------------------------------------------------- SigV4 (hand-written)

def _h(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _uri_encode(s: str, safe="-_.~") -> str:
    return urllib.parse.quote(s, safe=safe)


def amz_date(when: _dt.datetime | float | None = None) -> str:
    if when is None:
        when = _dt.datetime.now(_dt.timezone.utc)
    elif isinstance(when, (int, float)):
        when = _dt.datetime.fromtimestamp(when, _dt.timezone.utc)
    return when.strftime("%Y%m%dT%H%M%SZ")


def canonical_query(query) -> str:
    """`query` is a raw string (used verbatim after re-encoding each pair) or a list/dict of pairs."""
    if query is None or query == "":
        return ""
    if isinstance(query, str):
        pairs = []
        for piece in query.split("&"):
            if not piece:
                continue
            k, _, v = piece.partition("=")
            pairs.append((urllib.parse.unquote_plus(k), urllib.parse.unquote_plus(v)))
    elif isinstance(query, dict):
        pairs = list(query.items())
    else:
        pairs = list(query)
    enc = sorted((_uri_encode(str(k)), _uri_encode(str(v))) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in enc)


def sigv4_headers(method, host, path="/", query=None, headers=None, body=b"", *,
                  key=DEFAULT_KEY, secret=DEFAULT_SECRET, token=None, region=REGION, service="sts",
                  when=None, payload_hash=None, include_content_sha=False):
    """Returns the headers (including Authorization, X-Amz-Date, Host) for a SigV4 header-signed
    request. `when` may be a datetime or unix time so tests can sign with arbitrary dates.
    `payload_hash` overrides the hash of `body` (e.g. to sign a chunked body's whole hash)."""
    if isinstance(body, str):
        body = body.encode()
    date = amz_date(when)
    hdrs = {k: v for k, v in (headers or {}).items()}
    lower = {k.lower(): k for k in hdrs}
    if "host" not in lower:
        hdrs["Host"] = host
    hdrs["X-Amz-Date"] = date
    if token:
        hdrs["X-Amz-Security-Token"] = token
    phash = payload_hash or _h(body)
    if include_content_sha:
        hdrs["X-Amz-Content-Sha256"] = phash
    canon_headers = {}
    for k, v in hdrs.items():
        canon_headers.setdefault(k.lower().strip(), []).append(" ".join(str(v).strip().split()))
    signed = sorted(canon_headers)
    canonical = "\n".join([
        method.upper(),
        _uri_encode(path, safe="/-_.~") or "/",
        canonical_query(query),
        "".join(f"{k}:{','.join(canon_headers[k])}\n" for k in signed),
        ";".join(signed),
        phash,
    ])
    scope = f"{date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope, _h(canonical.encode())])
    k = _hmac(("AWS4" + secret).encode(), date[:8])
    k = _hmac(k, region)
    k = _hmac(k, service)
    k = _hmac(k, "aws4_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    hdrs["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={key}/{scope}, "
                             f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    return hdrs


FORM = "application/x-www-form-urlencoded; charset=utf-8"


def sts_form(action="GetCallerIdentity", **params) -> bytes:
    return urllib.parse.urlencode({"Action": action, "Version": "2011-06-15", **params}).encode()


def signed_sts_request(server: FogbankServer, action="GetCallerIdentity", params=None, *, when=None,
                       key=DEFAULT_KEY, secret=DEFAULT_SECRET, token=None, service="sts",
                       extra_headers=None):
    """Sends a hand-signed STS form POST with http.client; returns (status, headers, body bytes)."""
    body = sts_form(action, **(params or {}))
    host = f"{server.host}:{server.port}"
    headers = {"Content-Type": FORM, **(extra_headers or {})}
    headers = sigv4_headers("POST", host, "/", None, headers, body, key=key, secret=secret,
                            token=token, service=service, when=when)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


# ---------------------------------------------------------------------- XML helpers

def strip_ns(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def xml_find(body: bytes | str, name: str):
    """Text of the first element named `name` (namespace ignored), or None."""
    root = ET.fromstring(body)
    for el in root.iter():
        if strip_ns(el.tag) == name:
            return el.text
    return None


def parse_error(body: bytes | str):
    """(Code, Message, RequestId) of an AWS XML error body."""
    return xml_find(body, "Code"), xml_find(body, "Message"), xml_find(body, "RequestId")


# ---------------------------------------------------------------------- raw sockets

class RawResponse:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value (last wins)
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return f"RawResponse({self.status} {self.reason}, {self.headers}, {self.body[:200]!r})"


class RawReader:
    """Reads HTTP/1.1 responses off a socket, keeping leftover bytes between responses."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by server")
        self.buf += data

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, reason, headers, head

    def read_response(self, method="GET") -> RawResponse:
        status, reason, headers, head = self.read_head()
        if status // 100 == 1:
            return RawResponse(status, reason, headers, b"", head)
        body = b""
        if method != "HEAD" and status not in (204, 304):
            if headers.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    while b"\r\n" not in self.buf:
                        self._fill()
                    size_line, _, self.buf = self.buf.partition(b"\r\n")
                    size = int(size_line.split(b";")[0], 16)
                    while len(self.buf) < size + 2:
                        self._fill()
                    body += self.buf[:size]
                    self.buf = self.buf[size + 2:]
                    if size == 0:
                        break
            elif "content-length" in headers:
                n = int(headers["content-length"])
                while len(self.buf) < n:
                    self._fill()
                body, self.buf = self.buf[:n], self.buf[n:]
            else:
                try:
                    while True:
                        self._fill()
                except (ConnectionError, OSError):
                    pass
                body, self.buf = self.buf, b""
        return RawResponse(status, reason, headers, body, head)


def raw_exchange(server: FogbankServer, data: bytes, timeout=5.0, method="GET") -> RawResponse:
    """Opens a connection, sends `data` verbatim, reads one response, closes."""
    with server.connect(timeout) as s:
        s.sendall(data)
        return RawReader(s).read_response(method)


def wait_closed(sock: socket.socket, timeout: float) -> bool:
    """True if the peer closes (EOF or reset) within `timeout`; any data read is discarded."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
            if not data:
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def build_request(method, target, headers, body=b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def signed_raw_sts(server: FogbankServer, action="GetCallerIdentity", extra_headers=None, **kw) -> bytes:
    """Bytes of a complete, signed STS form POST (Content-Length framed)."""
    body = sts_form(action)
    host = f"{server.host}:{server.port}"
    headers = {"Content-Type": FORM, **(extra_headers or {})}
    headers = sigv4_headers("POST", host, "/", None, headers, body, **kw)
    headers["Content-Length"] = str(len(body))
    return build_request("POST", "/", headers, body)


# ---------------------------------------------------------------------- TestCase base

_bucket_counter = itertools.count()


def unique_bucket(tag="b"):
    """A bucket name no other test, test class or parallel test process uses."""
    return f"fb-{tag}-{os.getpid()}-{next(_bucket_counter)}-{uuid.uuid4().hex[:6]}"


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def b64(raw):
    return base64.b64encode(raw).decode()


class FogbankTestCase(unittest.TestCase):
    """Starts one fogbank per TestCase class. Override `server_args` (list of CLI flags)."""

    server_args: list[str] = []
    server_kwargs: dict = {}  # more FogbankServer arguments (imds_address, env, ...)
    ephemeral = False
    server: FogbankServer

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = FogbankServer(cls.server_args, ephemeral=cls.ephemeral, **cls.server_kwargs)
        try:
            cls.server.start()
        except Exception:
            cls.server.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        super().tearDownClass()

    def run(self, result=None):
        """Runs the test; when it failed, or the server is found dead afterwards, prints the
        server's exit status and stderr tail next to unittest's report."""
        if result is None:
            result = self.defaultTestResult()
            result.startTestRun()
            try:
                return self.run(result)
            finally:
                result.stopTestRun()
        before = len(result.failures) + len(result.errors)
        outcome = super().run(result)
        server = getattr(type(self), "server", None)
        if isinstance(server, FogbankServer) and server.proc is not None:
            failed = len(result.failures) + len(result.errors) > before
            dead = not server.alive() and server.returncode is None  # not stopped by the test
            if dead:
                if not server._death_reported:  # once: every later test fails the same way
                    server._death_reported = True
                    sys.stderr.write(server.diagnostics(f"found dead after {self.id()}"))
            elif failed:
                sys.stderr.write(server.diagnostics(f"{self.id()} failed"))
        return outcome

    # convenience assertions
    def assertClientError(self, exc_ctx, code, status):
        err = exc_ctx.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        return err

    def assertRequestId(self, headers):
        rid = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
        self.assertTrue(rid, f"no request id header in {headers}")
        return rid


def main():
    unittest.main(verbosity=2)
