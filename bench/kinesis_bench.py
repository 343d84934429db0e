#!/usr/bin/env python3
"""Kinesis Data Streams: PutRecords ingest and GetRecords drain, fogbank next to moto_server and
kinesalite in one run (one server at a time, so they never share the CPU).

    bench/kinesis_bench.py [--fogbank build-rel/server/fogbank] [--load build-rel/bench/fogbank-load]
                           [--duration 10] [--shards 4] [--connections 2] [--record-size 1024]
                           [--skip-moto] [--skip-kinesalite] [--tmpfs]

Workloads, driven by the same C++ load tool (bench/load, SigV4-signed AWS JSON 1.1 on keep-alive
connections) against every server:
  put     `--connections` connections send PutRecords batches of 500 records of `--record-size`
          bytes (partition keys spread over `--shards` shards) for `--duration` s after 1 s of
          warm-up; records/s over the timed window.
  drain   one connection per shard takes a TRIM_HORIZON iterator and follows NextShardIterator with
          GetRecords(Limit=10000) until its shard is caught up; records/s over the drain of
          everything the put phase acknowledged.
fogbank keeps its RocksDB database in a temporary directory under $TMPDIR (the disk, WAL and
all); kinesalite and moto keep their streams in memory. --tmpfs adds a second fogbank run with
the database on /dev/shm ("fogbank-tmpfs"), in memory like its peers but still written through
RocksDB. Target (issue #13): fogbank >= 20x the faster peer on both. kinesalite comes from npm
(bench/js/package.json, pinned; `npm ci` on first use); fogbank-load is built with
`cmake --build build-rel --target fogbank-load`. Results go to bench/results/kinesis-<time>.json.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
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


def run_server(server, name, args):
    c = Client(server.port)
    try:
        c.kinesis("CreateStream", {"StreamName": STREAM, "ShardCount": args.shards})
        wait_active(c)
    except Exception as e:  # noqa: BLE001 - any failure means Kinesis is not usable here
        return {"unavailable": "setup failed: %s" % e}
    finally:
        c.close()
    results = {}
    print("  %s: put (%d s, batches of %d x %d B, %d connections)" % (name, args.duration, BATCH, args.record_size,
                                                                      args.connections), flush=True)
    results["put"] = bc.run_load(args.load, server, "kinesis-put-records", stream=STREAM,
                                 message_size=args.record_size, connections=args.connections,
                                 duration=args.duration)
    print("  %s: drain" % name, flush=True)
    results["drain"] = bc.run_load(args.load, server, "kinesis-get-records", stream=STREAM, warmup=0,
                                   duration=max(60, args.duration * 6))
    put_items = results["put"].get("items")
    drained = results["drain"].get("items")
    if put_items is not None and drained is not None and drained < put_items:
        results["drain"]["failed"] = "drained %d records, the timed puts alone acknowledged %d" % (drained, put_items)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fogbank", default=os.path.join(bc.REPO, "build-rel", "server", "fogbank"))
    ap.add_argument("--load", default=os.path.join(bc.REPO, "build-rel", "bench", "fogbank-load"))
    ap.add_argument("--duration", type=float, default=10, help="timed seconds of the put phase")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--connections", type=int, default=2, help="put connections")
    ap.add_argument("--record-size", type=int, default=1024)
    ap.add_argument("--skip-moto", action="store_true")
    ap.add_argument("--skip-kinesalite", action="store_true")
    ap.add_argument("--tmpfs", action="store_true", help="also run fogbank with its database on /dev/shm")
    args = ap.parse_args()
    for binary, target in ((args.fogbank, "fogbank"), (args.load, "fogbank-load")):
        if not os.access(binary, os.X_OK):
            sys.exit("no %s at %s (build: cmake --build build-rel --target %s)" % (target, binary, target))

    before = bc.machine_state()
    starters = [("fogbank", lambda: bc.start_fogbank(args.fogbank))]
    if args.tmpfs:
        starters.append(("fogbank-tmpfs", lambda: bc.start_fogbank(args.fogbank, tmpdir="/dev/shm",
                                                                   name="fogbank-tmpfs")))
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
        fogbanks = {n: bc.value(r.get(workload), "items_per_s") for n, r in results.items() if n.startswith("fogbank")}
        peers = {n: bc.value(r.get(workload), "items_per_s") for n, r in results.items() if n not in fogbanks}
        best = max((v for v in peers.values() if v), default=None)
        ratio = bc.ratio(fogbanks.get("fogbank"), best)
        row = {"metric": label, **fogbanks, **peers, "vs faster peer": ratio}
        if "fogbank-tmpfs" in fogbanks:
            row["tmpfs vs faster peer"] = bc.ratio(fogbanks["fogbank-tmpfs"], best)
        # The target is judged on the default (on-disk) run.
        rows.append({**row, "target": ">= 20x", "met": None if ratio is None else ratio >= 20})
    print()
    for name, r in results.items():
        for w, v in r.items():
            if isinstance(v, dict) and (v.get("failed") or v.get("errors")):
                print("%s %s: %s" % (name, w, v.get("failed") or "%d errors, first: %s" % (v["errors"], v.get("first_error"))))
        if "unavailable" in r:
            print("%s: unavailable (%s)" % (name, r["unavailable"]))
    columns = (["metric"] + [n for n, _ in starters] + ["vs faster peer"] +
               (["tmpfs vs faster peer"] if args.tmpfs else []) + ["target", "met"])

    def cell(row, c):
        v = row.get(c)
        if c == "met":
            return "" if v is None else ("yes" if v else "NO")
        if c.endswith("vs faster peer"):
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
