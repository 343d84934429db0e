"""Shared plumbing for the benchmarks in bench/.

Builds fogbank and fogbank-load (Release, in build-bench/), starts fogbank and moto_server on free
ports, runs fogbank-load workloads against either, samples the server process (CPU time, RSS from
/proc), and prints a side-by-side table with ratios against moto_server, the anchor.
Standard library + boto3 only.
"""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS_DIR = os.path.join(HERE, "results")

# fogbank's default long-term key (README, --credentials test:test:000000000000).
ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"

# Processes whose presence means someone else is compiling: the numbers will be noisy.
BUSY_COMMANDS = ("cc1plus", "cc1", "ld", "ld.gold", "ninja", "make", "rustc", "javac")


# ----------------------------------------------------------------------------- a lean client
# boto3 spends about a millisecond of client CPU per call (serialisation, hooks, signing), more
# than many calls take on fogbank: a small SigV4 client keeps the client's share of the
# measurement low, and is the same for every server it drives.

class AwsError(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %d: %s" % (status, body[:300]))
        self.status = status
        self.body = body


class SigV4Client:
    """One keep-alive HTTP connection that signs POSTs to / (Query and JSON protocols)."""

    def __init__(self, port, timeout=30):
        self.host = "127.0.0.1:%d" % port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self._day = None
        self._keys = {}

    def close(self):
        self.conn.close()

    def _signing_key(self, day, service):
        if day != self._day:
            self._day, self._keys = day, {}
        key = self._keys.get(service)
        if key is None:
            k = hmac.new(("AWS4" + SECRET_KEY).encode(), day.encode(), hashlib.sha256).digest()
            for part in (REGION, service, "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            key = self._keys[service] = k
        return key

    def post(self, service, body, content_type, target=None):
        """The response body of a signed POST; AwsError unless it answers 200."""
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        payload_hash = hashlib.sha256(body).hexdigest()
        headers = [("content-type", content_type), ("host", self.host), ("x-amz-date", amz_date)]
        if target:
            headers.append(("x-amz-target", target))
        signed = ";".join(name for name, _ in headers)
        canonical = "POST\n/\n\n%s\n%s\n%s" % ("".join("%s:%s\n" % h for h in headers), signed, payload_hash)
        scope = "%s/%s/%s/aws4_request" % (day, REGION, service)
        to_sign = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest())
        signature = hmac.new(self._signing_key(day, service), to_sign.encode(), hashlib.sha256).hexdigest()
        out = {name: value for name, value in headers if name != "host"}
        out["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                                % (ACCESS_KEY, scope, signed, signature))
        self.conn.request("POST", "/", body=body, headers=out)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise AwsError(resp.status, data.decode("utf-8", "replace"))
        return data


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(build_dir, jobs=2):
    """Configures and builds fogbank + fogbank-load in Release (tests off: nothing else is built)."""
    subprocess.run(["cmake", "-S", REPO, "-B", build_dir, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                    "-DFOGBANK_TESTS=OFF"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, "-j", str(jobs), "--target", "fogbank", "fogbank-load"],
                   check=True)
    return os.path.join(build_dir, "server", "fogbank"), os.path.join(build_dir, "bench", "fogbank-load")


def find_moto():
    # The pyenv shim would put a bash process between us and the server; use the real script.
    beside = os.path.join(os.path.dirname(sys.executable), "moto_server")
    return beside if os.path.exists(beside) else shutil.which("moto_server")


class Server:
    """A server process on a free port, stopped by close()."""

    def __init__(self, name, argv, port, ready_path, env=None):
        self.name = name
        self.port = port
        self.endpoint = "http://127.0.0.1:%d" % port
        self.log = open(os.devnull, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=None if env is None else {**os.environ, **env})
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s at start" % (name, self.proc.returncode))
            try:
                with urllib.request.urlopen(self.endpoint + ready_path, timeout=2) as r:
                    r.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("%s did not answer on port %d" % (name, port))
                time.sleep(0.05)

    @property
    def pid(self):
        return self.proc.pid

    def status_kib(self, field):
        """VmRSS / VmHWM of the server process, in KiB."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def reset_peak_rss(self):
        # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
        try:
            with open("/proc/%d/clear_refs" % self.pid, "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    def client(self, service):
        import boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=Config(retries={"max_attempts": 1}))

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_fogbank(binary, extra_args=(), tmpdir=None, name="fogbank"):
    """fogbank with its state in a temporary directory under $TMPDIR, or under `tmpdir`."""
    port = free_port()
    return Server(name, [binary, "--port", str(port), "--ephemeral", "--log-level", "error",
                         "--access-log", "false", "--imds-address", "off", *extra_args],
                  port, "/_fogbank/health", env=None if tmpdir is None else {"TMPDIR": tmpdir})


def start_moto(binary):
    port = free_port()
    return Server("moto", [binary, "-p", str(port)], port, "/moto-api/")


def measure_side_by_side(fogbank_binary, moto_binary, measure):
    """Runs measure(server, name) against fogbank, then against moto_server when one was
    found (one at a time, so they never compete for the CPU). Returns (fogbank, moto) results."""
    results = {"fogbank": {}, "moto": {}}
    starters = [("fogbank", lambda: start_fogbank(fogbank_binary))]
    if moto_binary:
        starters.append(("moto", lambda: start_moto(moto_binary)))
    for name, start in starters:
        server = start()
        try:
            print("%s on port %d" % (name, server.port), flush=True)
            results[name] = measure(server, name)
        finally:
            server.close()
    return results["fogbank"], results["moto"]


def print_failures(service, fog, moto):
    """One line per server the service was unavailable on and per workload that had errors."""
    for name, res in (("fogbank", fog), ("moto", moto)):
        if "unavailable" in res:
            print("%s: %s unavailable (%s)" % (name, service, res["unavailable"]))
        for w, r in res.items():
            if isinstance(r, dict) and (r.get("failed") or r.get("errors")):
                print("%s %s: %s errors; first: %s" % (name, w, r.get("errors", "-"),
                                                      (r.get("failed") or r.get("first_error", ""))[:200]))
            if isinstance(r, dict) and r.get("drained"):
                print("%s %s: the queue ran dry before the end (rate is over the shorter time)" % (name, w))


def fogbank_services(server):
    with urllib.request.urlopen(server.endpoint + "/_fogbank/health", timeout=5) as r:
        return json.load(r).get("services", {})


def run_load(load_binary, server, workload, **options):
    """Runs one fogbank-load workload; returns its JSON result plus the server's CPU seconds."""
    argv = [load_binary, "--workload", workload, "--port", str(server.port),
            "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, "--region", REGION]
    for name, value in options.items():
        argv += ["--" + name.replace("_", "-"), str(value)]
    cpu_before = server.cpu_seconds()
    client_before = _children_cpu_seconds()
    done = subprocess.run(argv, capture_output=True, text=True)
    cpu = server.cpu_seconds() - cpu_before
    client_cpu = _children_cpu_seconds() - client_before
    if done.returncode != 0:
        return {"workload": workload, "failed": done.stderr.strip() or "exit %d" % done.returncode}
    result = json.loads(done.stdout)
    result["server_cpu_s"] = cpu
    # The load tool shares the machine's cores with the server; its CPU time shows how much of
    # them it took (on 2 cores a busy client caps the server).
    result["client_cpu_s"] = client_cpu
    if result.get("ops"):
        result["server_cpu_us_per_op"] = cpu * 1e6 / result["ops"]
    return result


def _children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def busy_processes():
    """Names of compiler/build processes running now (other engineers' builds)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in BUSY_COMMANDS:
            found.append(comm)
    return found


def machine_state():
    with open("/proc/loadavg") as f:
        load1 = float(f.read().split()[0])
    busy = busy_processes()
    return {"loadavg_1m": load1, "cpus": os.cpu_count(), "build_processes": len(busy),
            "noisy": bool(busy) or load1 > 0.5}


def noise_note(before, after):
    if before["noisy"] or after["noisy"]:
        return ("NOTE: the machine was busy (load %.2f -> %.2f, %d -> %d compiler/build processes): "
                "the numbers are noisy; take final numbers on an idle machine."
                % (before["loadavg_1m"], after["loadavg_1m"], before["build_processes"],
                   after["build_processes"]))
    return "machine idle during the run (load %.2f -> %.2f)" % (before["loadavg_1m"], after["loadavg_1m"])


def fmt(value, unit=""):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if value >= 100:
        return "%.0f%s" % (value, unit)
    if value >= 10:
        return "%.1f%s" % (value, unit)
    return "%.2f%s" % (value, unit)


def print_table(rows):
    """rows: dicts with metric, fogbank, moto, ratio, target, met (already formatted or None)."""
    header = ("metric", "fogbank", "moto", "vs moto", "target", "met")
    table = [header] + [(r["metric"], fmt(r.get("fogbank")), fmt(r.get("moto")),
                         fmt(r.get("ratio"), "x") if r.get("ratio") is not None else "-",
                         r.get("target") or "", {True: "yes", False: "NO", None: ""}[r.get("met")])
                        for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        print("  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                        for i, c in enumerate(row)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def write_results(kind, document):
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, "%s-%s.json" % (kind, time.strftime("%Y%m%d-%H%M%S")))
    with open(path, "w") as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.write("\n")
    return path


def value(result, *path):
    """result[path...] or None if the workload failed or errored."""
    if not result or "failed" in result or result.get("errors") and not result.get("ops"):
        return None
    for p in path:
        result = result.get(p) if isinstance(result, dict) else None
        if result is None:
            return None
    return result


def ratio(a, b, higher_is_better=True):
    if a is None or b is None or a == 0 or b == 0:
        return None
    return a / b if higher_is_better else b / a
