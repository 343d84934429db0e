#!/usr/bin/env python3
"""Kinesis Data Streams: PutRecords ingest and GetRecords drain, fogbank next to moto_server and
kinesalite in one run (one server at a time, so they never share the CPU).

    bench/kinesis_bench.py [--fogbank build-rel/server/fogbank] [--batches 400] [--peer-batches 40]
                           [--shards 4] [--producers 2] [--record-size 1024] [--skip-moto]
                           [--skip-kinesalite] [--max-seconds 60]

Workloads (AWS JSON 1.1, SigV4-signed by bench_common's lean client on keep-alive connections;
the same client drives every server):
  put     `--producers` threads (one connection each) send PutRecords batches of 500 records of
          `--record-size` bytes with random partition keys into a stream of `--shards` shards;
          records/s = acknowledged records / time from the first call to the last answer.
  drain   one reader takes a TRIM_HORIZON iterator per shard and follows NextShardIterator with
          GetRecords(Limit=10000) until every shard came back empty; records/s over the drain.
Peers hold fewer records (`--peer-batches`): both are far slower, and a rate is a rate.
Target (issue #13): fogbank >= 20x the faster peer on both. kinesalite comes from npm
(bench/js/package.json, pinned; `npm ci` on first use). Results go to
bench/results/kinesis-<time>.json. Standard library only (plus bench_common's helpers).
"""
import argparse
import base64
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

import bench_common as bc

STREAM = "bench-stream"
JSON_11 = "application/x-amz-json-1.1"
BATCH = 500
JS_DIR = os.path.join(bc.HERE, "js")


class Client(bc.SigV4Client):
    def kinesis(self, operation, params):
        data = self.post("kinesis", json.dumps(params).encode(), JSON_11, "Kinesis_20131202." + operation)
        return json.loads(data) if data else {}


def kinesalite_binary():
    """bench/js/node_modules/.bin/kinesalite, installed from the pinned lock file if missing."""
    binary = os.path.join(JS_DIR, "node_modules", ".bin", "kinesalite")
    if not os.access(binary, os.X_OK):
        print("installing kinesalite (npm ci in bench/js)", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                       stdout=subprocess.DEVNULL)
    return binary


class Kinesalite(bc.Server):
    """kinesalite has no health URL: ready once its port accepts connections."""

    def __init__(self, binary):
        port = bc.free_port()
        self.name, self.port = "kinesalite", port
        self.endpoint = "http://127.0.0.1:%d" % port
        self.log = open(os.devnull, "wb")
        # Its default shard limit (10) and creation delay would only slow the setup.
        self.proc = subprocess.Popen([binary, "--port", str(port), "--shardLimit", "1000",
                                      "--createStreamMs", "0", "--deleteStreamMs", "0"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("kinesalite exited with %s at start" % self.proc.returncode)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("kinesalite did not listen on port %d" % port)
                time.sleep(0.05)


def wait_active(c, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = c.kinesis("DescribeStreamSummary", {"StreamName": STREAM})["StreamDescriptionSummary"]
        if d["StreamStatus"] == "ACTIVE":
            return
        time.sleep(0.05)
    raise RuntimeError("stream not ACTIVE within %d s" % timeout)


def put(server, batches, producers, size, max_seconds):
    payload = base64.b64encode(os.urandom(size)).decode()
    lock = threading.Lock()
    state = {"next": 0, "acked": 0, "failed_records": 0, "errors": 0, "first_error": None}
    deadline = time.monotonic() + max_seconds

    def producer():
        c = Client(server.port)
        rng = random.Random()
        try:
            while time.monotonic() < deadline:
                with lock:
                    if state["next"] >= batches:
                        return
                    state["next"] += 1
                records = [{"Data": payload, "PartitionKey": "%016x" % rng.getrandbits(64)} for _ in range(BATCH)]
                try:
                    out = c.kinesis("PutRecords", {"StreamName": STREAM, "Records": records})
                except (bc.AwsError, OSError) as e:
                    with lock:
                        state["errors"] += 1
                        state["first_error"] = state["first_error"] or repr(e)[:300]
                    c.close()
                    c = Client(server.port)
                    continue
                with lock:
                    state["failed_records"] += out.get("FailedRecordCount", 0)
                    state["acked"] += BATCH - out.get("FailedRecordCount", 0)
        finally:
            c.close()

    threads = [threading.Thread(target=producer) for _ in range(producers)]
    cpu0 = server.cpu_seconds()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"records": state["acked"], "elapsed_s": elapsed, "records_per_s": state["acked"] / elapsed,
            "mib_per_s": state["acked"] * size / elapsed / (1 << 20), "failed_records": state["failed_records"],
            "errors": state["errors"], "first_error": state["first_error"],
            "server_cpu_s": server.cpu_seconds() - cpu0}


def drain(server, expected, max_seconds):
    c = Client(server.port)
    try:
        shards = c.kinesis("ListShards", {"StreamName": STREAM})["Shards"]
        cpu0 = server.cpu_seconds()
        t0 = time.perf_counter()
        deadline = time.monotonic() + max_seconds
        records = calls = 0
        for shard in shards:
            iterator = c.kinesis("GetShardIterator", {"StreamName": STREAM, "ShardId": shard["ShardId"],
                                                      "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
            while iterator and time.monotonic() < deadline:
                out = c.kinesis("GetRecords", {"ShardIterator": iterator, "Limit": 10000})
                calls += 1
                got = len(out.get("Records", []))
                records += got
                iterator = out.get("NextShardIterator")
                if got == 0 and out.get("MillisBehindLatest", 0) == 0:
                    break
        elapsed = time.perf_counter() - t0
        result = {"records": records, "calls": calls, "elapsed_s": elapsed, "records_per_s": records / elapsed,
                  "server_cpu_s": server.cpu_seconds() - cpu0}
        if records != expected:
            result["failed"] = "drained %d records, %d were acknowledged" % (records, expected)
        return result
    finally:
        c.close()


def run_server(server, name, args):
    batches = args.batches if name == "fogbank" else args.peer_batches
    c = Client(server.port)
    try:
        c.kinesis("CreateStream", {"StreamName": STREAM, "ShardCount": args.shards})
        wait_active(c)
    except Exception as e:  # noqa: BLE001 - any failure means Kinesis is not usable here
        return {"unavailable": "setup failed: %s" % e}
    finally:
        c.close()
    results = {}
    print("  %s: put (%d batches of %d x %d B, %d producers)" % (name, batches, BATCH, args.record_size,
                                                                   args.producers), flush=True)
    results["put"] = put(server, batches, args.producers, args.record_size, args.max_seconds)
    print("  %s: drain (%d records)" % (name, results["put"]["records"]), flush=True)
    results["drain"] = drain(server, results["put"]["records"], args.max_seconds)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fogbank", default=os.path.join(bc.REPO, "build-rel", "server", "fogbank"))
    ap.add_argument("--batches", type=int, default=400, help="PutRecords batches on fogbank")
    ap.add_argument("--peer-batches", type=int, default=40, help="PutRecords batches on moto and kinesalite")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--producers", type=int, default=2)
    ap.add_argument("--record-size", type=int, default=1024)
    ap.add_argument("--max-seconds", type=float, default=60)
    ap.add_argument("--skip-moto", action="store_true")
    ap.add_argument("--skip-kinesalite", action="store_true")
    args = ap.parse_args()
    if not os.access(args.fogbank, os.X_OK):
        sys.exit("no fogbank binary at %s (build: cmake --build build-rel --target fogbank)" % args.fogbank)

    before = bc.machine_state()
    starters = [("fogbank", lambda: bc.start_fogbank(args.fogbank))]
    moto_bin = None if args.skip_moto else bc.find_moto()
    if moto_bin:
        starters.append(("moto", lambda: bc.start_moto(moto_bin)))
    if not args.skip_kinesalite:
        starters.append(("kinesalite", lambda: Kinesalite(kinesalite_binary())))
    results = {}
    for name, start in starters:
        server = start()
        try:
            print("%s on port %d" % (name, server.port), flush=True)
            results[name] = run_server(server, name, args)
        finally:
            server.close()
    after = bc.machine_state()

    rows = []
    for workload, label in (("put", "PutRecords records/s"), ("drain", "GetRecords drain records/s")):
        fog = bc.value(results.get("fogbank", {}).get(workload), "records_per_s")
        peers = {n: bc.value(r.get(workload), "records_per_s") for n, r in results.items() if n != "fogbank"}
        best = max((v for v in peers.values() if v), default=None)
        ratio = bc.ratio(fog, best)
        rows.append({"metric": label, "fogbank": fog, **peers, "vs faster peer": ratio,
                     "target": ">= 20x", "met": None if ratio is None else ratio >= 20})
    print()
    for name, r in results.items():
        for w, v in r.items():
            if isinstance(v, dict) and (v.get("failed") or v.get("errors")):
                print("%s %s: %s" % (name, w, v.get("failed") or "%d errors, first: %s" % (v["errors"], v["first_error"])))
        if "unavailable" in r:
            print("%s: unavailable (%s)" % (name, r["unavailable"]))
    columns = ["metric", "fogbank"] + [n for n, _ in starters if n != "fogbank"] + ["vs faster peer", "target", "met"]

    def cell(row, c):
        v = row.get(c)
        if c == "met":
            return "" if v is None else ("yes" if v else "NO")
        if c == "vs faster peer":
            return "-" if v is None else "%.1fx" % v
        return bc.fmt(v)

    table = [columns] + [[cell(row, c) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    for r in table:
        print("  ".join(x.ljust(w) for x, w in zip(r, widths)))
    note = bc.noise_note(before, after)
    if note:
        print(note)
    path = bc.write_results("kinesis", {"machine_before": before, "machine_after": after, "args": vars(args),
                                        "results": results, "rows": rows})
    print("results: %s" % path)


if __name__ == "__main__":
    main()
