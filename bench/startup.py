#!/usr/bin/env python3
"""Cold start and idle memory: fogbank next to moto_server, measured in the same run.

    bench/startup.py [--fogbank build-rel/server/fogbank] [--runs 5]

For each server: time from exec to the first answered HTTP request (polling a TCP connect +
GET every 0.2 ms), then the resident set size after one idle second. fogbank is measured on a
fresh data dir (first start: creates the database and the TLS files) and on a warm one. Results
are printed as absolute numbers and as ratios against moto_server, the anchor.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_answer(port, path, deadline):
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode()
    while time.perf_counter() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(request)
                if s.recv(64).startswith(b"HTTP/1."):
                    return time.perf_counter()
        except OSError:
            time.sleep(0.0002)
    raise RuntimeError("no answer on port %d" % port)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(argv, port, path):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = first_answer(port, path, start + 60)
        time.sleep(1.0)
        return (ready - start) * 1000.0, rss_kib(proc.pid) / 1024.0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fogbank", default=os.path.join(here, "..", "build-rel", "server", "fogbank"))
    ap.add_argument("--moto", default=shutil.which("moto_server"))
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    results = {}
    data = tempfile.mkdtemp(prefix="fogbank-bench-")
    try:
        cold, warm = [], []
        for i in range(args.runs):
            d = os.path.join(data, "cold%d" % i)
            port = free_port()
            cold.append(measure([args.fogbank, "--port", str(port), "--data-dir", d,
                                 "--log-level", "error", "--imds-address", "off"], port, "/_fogbank/health"))
        d = os.path.join(data, "warm")
        for i in range(args.runs + 1):
            port = free_port()
            m = measure([args.fogbank, "--port", str(port), "--data-dir", d,
                         "--log-level", "error", "--imds-address", "off"], port, "/_fogbank/health")
            if i > 0:  # the first run creates the data dir
                warm.append(m)
        results["fogbank (fresh data dir)"] = cold
        results["fogbank (existing data dir)"] = warm
    finally:
        shutil.rmtree(data, ignore_errors=True)
    if args.moto:
        moto = []
        for _ in range(max(1, args.runs // 2)):
            port = free_port()
            moto.append(measure([args.moto, "-p", str(port)], port, "/moto-api/"))
        results["moto_server (anchor)"] = moto

    anchor = results.get("moto_server (anchor)")
    a_start = statistics.median(m[0] for m in anchor) if anchor else None
    a_rss = statistics.median(m[1] for m in anchor) if anchor else None
    print("%-30s %12s %12s %14s %14s" % ("server", "start ms", "idle RSS MiB", "start vs moto", "RSS vs moto"))
    for name, ms in results.items():
        start = statistics.median(m[0] for m in ms)
        rss = statistics.median(m[1] for m in ms)
        ratio_s = "%.3fx" % (start / a_start) if a_start else "-"
        ratio_r = "%.3fx" % (rss / a_rss) if a_rss else "-"
        print("%-30s %12.1f %12.1f %14s %14s" % (name, start, rss, ratio_s, ratio_r))
    print("targets: start < 20 ms, idle RSS < 12 MiB (median of %d runs)" % args.runs)


if __name__ == "__main__":
    main()
