#!/usr/bin/env python3
"""Two fogbank builds side by side: the same fogbank-load workloads against build A and build B,
alternating A B A B ... so drift of this shared machine hits both alike. Reports each build's
median rate and the ratio B/A per workload (1.00 = no change). For "did this change slow it
down?" questions, where the ratio against moto_server (sqs_bench.py, s3_bench.py) moves with the
machine.

    bench/compare_builds.py --a /path/to/old/build --b build-rel [--rounds 4] [--duration 5]
                            [--workloads s3-put,s3-get,sqs-send,sqs-send-batch]

Each build dir must hold server/fogbank and bench/fogbank-load (Release). Build an older commit
with `git worktree add /tmp/old <commit>` and cmake there.
"""
import argparse
import os
import statistics
import sys

import bench_common as bc

QUEUE = "compare"


def queue_url(server):
    sqs = server.client("sqs")
    return sqs.create_queue(QueueName=QUEUE)["QueueUrl"]


def measure(build, workload, duration, connections):
    fogbank = os.path.join(build, "server", "fogbank")
    load = os.path.join(build, "bench", "fogbank-load")
    server = bc.start_fogbank(fogbank)
    try:
        options = {"duration": duration, "connections": connections}
        if workload.startswith("sqs-"):
            options["queue_url"] = queue_url(server)
        else:
            server.client("s3").create_bucket(Bucket="bench")
        if workload == "s3-get":
            options["objects"] = 256
        result = bc.run_load(load, server, workload, **options)
        if "failed" in result or result.get("errors"):
            sys.exit("%s %s failed: %s" % (build, workload, result.get("failed") or result.get("first_error")))
        return result["ops_per_s"], result.get("server_cpu_us_per_op")
    finally:
        server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="build dir of the baseline")
    ap.add_argument("--b", required=True, help="build dir of the change")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--workloads", default="s3-put,s3-get,sqs-send,sqs-send-batch")
    args = ap.parse_args()
    before = bc.machine_state()
    rows = []
    for workload in args.workloads.split(","):
        rates = {"a": [], "b": []}
        cpu = {"a": [], "b": []}
        for _ in range(args.rounds):
            for side in ("a", "b"):
                rate, us = measure(getattr(args, side), workload, args.duration, args.connections)
                rates[side].append(rate)
                if us is not None:
                    cpu[side].append(us)
        a, b = statistics.median(rates["a"]), statistics.median(rates["b"])
        rows.append((workload, a, b, b / a,
                     statistics.median(cpu["a"]) if cpu["a"] else None,
                     statistics.median(cpu["b"]) if cpu["b"] else None,
                     min(rates["a"]), max(rates["a"]), min(rates["b"]), max(rates["b"])))
    print("%-16s %10s %10s %7s %12s %12s   %s" % ("workload", "A ops/s", "B ops/s", "B/A",
                                                  "A cpu us/op", "B cpu us/op", "A range | B range"))
    for w, a, b, r, ca, cb, amin, amax, bmin, bmax in rows:
        print("%-16s %10.0f %10.0f %7.3f %12s %12s   %.0f-%.0f | %.0f-%.0f" % (
            w, a, b, r, "-" if ca is None else "%.1f" % ca, "-" if cb is None else "%.1f" % cb,
            amin, amax, bmin, bmax))
    note = bc.noise_note(before, bc.machine_state())
    if note:
        print(note)


if __name__ == "__main__":
    main()
