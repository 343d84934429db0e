#!/usr/bin/env python3
"""SQS throughput and long-poll latency (JSON protocol): fogbank next to moto_server, one run.

    bench/sqs_bench.py [--no-build] [--duration 10] [--moto-duration 5] [--connections 8]
                       [--iterations 30] [--skip-moto]

Workloads (fogbank-load, SigV4-signed, X-Amz-Target AmazonSQS.*, keep-alive connections):
  sqs-send, sqs-send-batch (10 per call)                         messages/s
  sqs-recv-delete (1 + DeleteMessage), sqs-recv-delete-batch (10 + DeleteMessageBatch)
                                                                 messages/s, the queue prefilled
  sqs-longpoll-latency   a receiver parked in ReceiveMessage(WaitTimeSeconds=20), a sender sends:
                         time from the send to the receive, p50/p99
Target: messages/s >= 50x moto's. If fogbank does not serve SQS yet, it is reported unavailable.
Results go to bench/results/sqs-<time>.json.
"""
import argparse
import os
import sys

import bench_common as bc

QUEUE = "bench"
LONGPOLL_QUEUE = "bench-longpoll"
# Upper bound on messages put in the queue before a receive workload.
MAX_PREFILL = 2_000_000


def queue_depth(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def run_server(server, load, args, duration, iterations):
    if server.name == "fogbank":
        services = bc.fogbank_services(server)
        if "sqs" not in services:
            return {"unavailable": "fogbank's /_fogbank/health lists no sqs service (%s)"
                                   % ", ".join(sorted(services))}
    sqs = server.client("sqs")
    try:
        url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        longpoll_url = sqs.create_queue(QueueName=LONGPOLL_QUEUE)["QueueUrl"]
    except Exception as e:  # noqa: BLE001 - any failure means SQS is not usable on this server
        return {"unavailable": "CreateQueue failed: %s" % e}
    common = dict(connections=args.connections, duration=duration, warmup=args.warmup, queue_url=url,
                  message_size=args.message_size)
    results = {}
    for workload in ("sqs-send", "sqs-send-batch"):
        print("  %s: %s" % (server.name, workload), flush=True)
        results[workload] = bc.run_load(load, server, workload, **common)
    # Receive workloads drain the queue: top it up to what the fastest send rate could deliver in
    # the workload's time, with margin, so it does not run dry (fogbank-load reports "drained").
    send_rate = max(bc.value(results[w], "items_per_s") or 0 for w in ("sqs-send", "sqs-send-batch"))
    for workload in ("sqs-recv-delete", "sqs-recv-delete-batch"):
        want = min(MAX_PREFILL, int(send_rate * (duration + args.warmup) * 1.5))
        try:
            prefill = max(0, want - queue_depth(sqs, url))
        except Exception:  # noqa: BLE001 - depth unknown: fill what we want
            prefill = want
        print("  %s: %s (prefill %d)" % (server.name, workload, prefill), flush=True)
        results[workload] = bc.run_load(load, server, workload, prefill=prefill, **common)
    print("  %s: sqs-longpoll-latency (%d rounds)" % (server.name, iterations), flush=True)
    results["sqs-longpoll-latency"] = bc.run_load(load, server, "sqs-longpoll-latency", queue_url=longpoll_url,
                                                  iterations=iterations, message_size=args.message_size)
    return results


def rows_for(fog, moto):
    rows = []

    def add(metric, f, m, higher_is_better=True, target=None, met=None):
        rows.append({"metric": metric, "fogbank": f, "moto": m,
                     "ratio": bc.ratio(f, m, higher_is_better), "target": target, "met": met})

    for w in ("sqs-send", "sqs-send-batch", "sqs-recv-delete", "sqs-recv-delete-batch"):
        f_rate, m_rate = bc.value(fog.get(w), "items_per_s"), bc.value(moto.get(w), "items_per_s")
        r = bc.ratio(f_rate, m_rate)
        add("%s msg/s" % w, f_rate, m_rate, target=">= 50x moto", met=None if r is None else r >= 50)
        add("%s p99 ms" % w, _ms(bc.value(fog.get(w), "latency_us", "p99")),
            _ms(bc.value(moto.get(w), "latency_us", "p99")), higher_is_better=False)
    for q in ("p50", "p99"):
        w = "sqs-longpoll-latency"
        add("long-poll wake %s ms" % q, _ms(bc.value(fog.get(w), "latency_us", q)),
            _ms(bc.value(moto.get(w), "latency_us", q)), higher_is_better=False)
    return rows


def _ms(us):
    return None if us is None else us / 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(bc.REPO, "build-bench"))
    ap.add_argument("--no-build", action="store_true", help="use the binaries already in --build-dir")
    ap.add_argument("--duration", type=float, default=10, help="fogbank timed seconds per workload")
    ap.add_argument("--moto-duration", type=float, default=5, help="moto timed seconds per workload")
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--message-size", type=int, default=256)
    ap.add_argument("--iterations", type=int, default=30, help="long-poll rounds on fogbank")
    ap.add_argument("--moto-iterations", type=int, default=10, help="long-poll rounds on moto")
    ap.add_argument("--skip-moto", action="store_true")
    args = ap.parse_args()

    if args.no_build:
        fogbank = os.path.join(args.build_dir, "server", "fogbank")
        load = os.path.join(args.build_dir, "bench", "fogbank-load")
    else:
        fogbank, load = bc.build(args.build_dir)
    moto_bin = None if args.skip_moto else bc.find_moto()

    before = bc.machine_state()
    document = {"machine_before": before, "connections": args.connections, "message_size": args.message_size}
    fog, moto = bc.measure_side_by_side(
        fogbank, moto_bin,
        lambda server, name: run_server(server, load, args,
                                        args.duration if name == "fogbank" else args.moto_duration,
                                        args.iterations if name == "fogbank" else args.moto_iterations))
    document["fogbank"], document["moto"] = fog, moto
    after = bc.machine_state()
    document["machine_after"] = after

    print()
    bc.print_failures("SQS", fog, moto)
    document["rows"] = rows_for(fog if "unavailable" not in fog else {}, moto if "unavailable" not in moto else {})
    bc.print_table(document["rows"])
    print(bc.noise_note(before, after))
    print("results: %s" % bc.write_results("sqs", document))


if __name__ == "__main__":
    sys.exit(main())
