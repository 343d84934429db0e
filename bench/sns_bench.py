#!/usr/bin/env python3
"""SNS → SQS delivery: latency and fan-out throughput, fogbank next to moto_server in one run.

    bench/sns_bench.py [--fogbank build-rel/server/fogbank] [--rounds 1000] [--moto-rounds 200]
                       [--messages 20000] [--moto-messages 500] [--publishers 4]
                       [--max-seconds 60] [--message-size 1024] [--skip-moto]

Workloads (SNS over the Query protocol, SQS over AWS JSON 1.0, SigV4-signed by a small client of
this script on keep-alive connections; the same client drives both servers):
  publish→receive    one topic, one subscribed queue (envelope delivery). One round: Publish a
                     1 KiB message, then ReceiveMessage(WaitTimeSeconds=5) until it is there; the
                     time from the start of the Publish call to the message in hand, p50/p99.
                     The message is deleted after the clock stops.
  parked receiver    the same, but the receiver is already waiting in ReceiveMessage
                     (WaitTimeSeconds=20) on its own connection when the Publish starts (how a
                     consumer sees it): Publish start → message received, p50/p99.
  fan-out            one topic, 10 subscribed queues; `--publishers` threads (one connection each)
                     publish `--messages` 1 KiB messages; deliveries/s = 10 × published / time from
                     the first Publish until all 10 queues report ApproximateNumberOfMessages = N.
The rate depends on N: fogbank's 10 queues end up holding N envelopes of ~2.2 KiB each, and
RocksDB's flushes and compactions of them grow with N (20,000 is a sustained rate over ~20 s;
`--messages 500` compares at moto's N). Every workload stops after `--max-seconds` (what was
done by then is measured). Targets (issue):
publish→receive p50 <= 1 ms; fan-out deliveries/s >= 100x moto's. fogbank must be a Release
build (the script says so when its CMakeCache says otherwise). Results go to
bench/results/sns-<time>.json. Standard library only (plus bench_common's helpers).
"""
import argparse
import http.client
import json
import os
import re
import resource
import statistics
import sys
import threading
import time
import urllib.parse

import bench_common as bc

TOPIC = "bench-topic"
LATENCY_QUEUE = "bench-latency"
FANOUT_TOPIC = "bench-fanout"
FANOUT_QUEUES = 10
SNS_VERSION = "2010-03-31"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
JSON_10 = "application/x-amz-json-1.0"


# ----------------------------------------------------------------------------- the client
AwsError = bc.AwsError


class Client(bc.SigV4Client):
    """bench_common's lean SigV4 client with the SNS (Query) and SQS (JSON 1.0) calls used here."""

    def sns(self, action, params):
        body = urllib.parse.urlencode(dict(params, Action=action, Version=SNS_VERSION)).encode()
        return self.post("sns", body, FORM)

    def sqs(self, operation, params):
        data = self.post("sqs", json.dumps(params).encode(), JSON_10, "AmazonSQS." + operation)
        return json.loads(data) if data else {}

    # the calls the workloads make
    def create_topic(self, name):
        return _xml_text(self.sns("CreateTopic", {"Name": name}), "TopicArn")

    def create_queue(self, name):
        url = self.sqs("CreateQueue", {"QueueName": name})["QueueUrl"]
        attrs = self.sqs("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]})
        return url, attrs["Attributes"]["QueueArn"]

    def subscribe(self, topic_arn, queue_arn):
        return _xml_text(self.sns("Subscribe", {"TopicArn": topic_arn, "Protocol": "sqs", "Endpoint": queue_arn}),
                         "SubscriptionArn")

    def publish(self, topic_arn, message):
        return self.sns("Publish", {"TopicArn": topic_arn, "Message": message})

    def receive(self, url, wait, max_messages=1):
        return self.sqs("ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": wait,
                                           "MaxNumberOfMessages": max_messages}).get("Messages", [])

    def delete(self, url, receipt_handle):
        self.sqs("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": receipt_handle})

    def depth(self, url):
        attrs = self.sqs("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["ApproximateNumberOfMessages"]})
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def _xml_text(body, name):
    m = re.search(rb"<%s>([^<]*)</%s>" % (name.encode(), name.encode()), body)
    if not m:
        raise AwsError(200, "no <%s> in %s" % (name, body[:300]))
    return m.group(1).decode()


def message_text(size, n):
    """`size` ASCII characters, unique per n (so nothing can be deduplicated or cached)."""
    head = "m%08d-" % n
    return head + "x" * max(0, size - len(head))


def envelope_message(body):
    """The Message of an SNS envelope (the body of a non-raw SQS delivery)."""
    return json.loads(body)["Message"]


def client_cpu_seconds():
    """CPU seconds of this process (all its threads): the client's share of the 2 cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentiles(samples_ms):
    if not samples_ms:
        return {}
    s = sorted(samples_ms)

    def q(p):
        return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]

    return {"p50": q(50), "p90": q(90), "p99": q(99), "max": s[-1], "mean": statistics.fmean(s), "n": len(s)}


# ----------------------------------------------------------------------------- workloads

def latency_sequential(server, topic_arn, url, rounds, size, max_seconds, warmup):
    """Publish, then long-poll receive the message; Publish start → message in hand."""
    c = Client(server.port)
    samples = []
    deadline = time.monotonic() + max_seconds
    try:
        for n in range(warmup + rounds):
            if time.monotonic() > deadline:
                break
            text = message_text(size, n)
            t0 = time.perf_counter()
            c.publish(topic_arn, text)
            got = []
            while not got:
                got = c.receive(url, 5)
                if not got and time.monotonic() > deadline + 10:
                    raise RuntimeError("round %d: message not delivered within the time bound" % n)
            t1 = time.perf_counter()
            if envelope_message(got[0]["Body"]) != text:
                raise RuntimeError("round %d: received another message: %s" % (n, got[0]["Body"][:200]))
            c.delete(url, got[0]["ReceiptHandle"])
            if n >= warmup:
                samples.append((t1 - t0) * 1000.0)
    finally:
        c.close()
    return {"latency_ms": percentiles(samples), "rounds": len(samples)}


def latency_parked(server, topic_arn, url, rounds, size, max_seconds, warmup, settle_s=0.005):
    """A receiver thread waits in ReceiveMessage(WaitTimeSeconds=20) before each Publish starts;
    Publish start (publisher thread) → message received (receiver thread)."""
    publisher, receiver = Client(server.port), Client(server.port)
    parked = threading.Event()
    received = threading.Event()
    state = {"t1": None, "body": None, "error": None, "stop": False}

    def receive_loop():
        try:
            while not state["stop"]:
                parked.set()
                got = receiver.receive(url, 20)
                if not got:
                    continue
                state["t1"] = time.perf_counter()
                parked.clear()
                state["body"] = got[0]["Body"]
                receiver.delete(url, got[0]["ReceiptHandle"])
                received.set()
        except Exception as e:  # noqa: BLE001 - reported by the publisher side
            state["error"] = repr(e)
            received.set()

    thread = threading.Thread(target=receive_loop, daemon=True)
    samples = []
    deadline = time.monotonic() + max_seconds
    thread.start()
    try:
        for n in range(warmup + rounds):
            if time.monotonic() > deadline:
                break
            if not parked.wait(30):
                raise RuntimeError("the receiver never got back to ReceiveMessage")
            time.sleep(settle_s)  # the ReceiveMessage request reaches the server and waits there
            received.clear()
            text = message_text(size, n)
            t0 = time.perf_counter()
            publisher.publish(topic_arn, text)
            if not received.wait(30):
                raise RuntimeError("round %d: no message within 30 s" % n)
            if state["error"]:
                raise RuntimeError("receiver: " + state["error"])
            if envelope_message(state["body"]) != text:
                raise RuntimeError("round %d: received another message: %s" % (n, state["body"][:200]))
            if n >= warmup:
                samples.append((state["t1"] - t0) * 1000.0)
    finally:
        state["stop"] = True
        # The receiver's last poll ends with one more message (or after its 20 s wait).
        try:
            publisher.publish(topic_arn, "stop")
        except Exception:  # noqa: BLE001
            pass
        thread.join(25)
        publisher.close()
        receiver.close()
    return {"latency_ms": percentiles(samples), "rounds": len(samples)}


def fanout(server, messages, publishers, size, max_seconds):
    """1 topic → 10 queues; publishers publish `messages` in total; deliveries/s until every
    queue holds all of them."""
    setup = Client(server.port)
    topic_arn = setup.create_topic(FANOUT_TOPIC)
    urls = []
    for i in range(FANOUT_QUEUES):
        url, arn = setup.create_queue("bench-fanout-%02d" % i)
        setup.subscribe(topic_arn, arn)
        urls.append(url)
    counter = {"next": 0, "published": 0, "errors": 0, "first_error": None}
    lock = threading.Lock()
    stop_at = [None]

    def publish_loop():
        c = Client(server.port)
        try:
            while True:
                with lock:
                    n = counter["next"]
                    if n >= messages or time.monotonic() > stop_at[0]:
                        return
                    counter["next"] = n + 1
                try:
                    c.publish(topic_arn, message_text(size, n))
                    ok = True
                except (AwsError, OSError, http.client.HTTPException) as e:
                    ok = False
                    with lock:
                        counter["errors"] += 1
                        counter["first_error"] = counter["first_error"] or repr(e)
                    c.close()
                    c = Client(server.port)
                if ok:
                    with lock:
                        counter["published"] += 1
        finally:
            c.close()

    threads = [threading.Thread(target=publish_loop) for _ in range(publishers)]
    cpu0, client0 = server.cpu_seconds(), client_cpu_seconds()
    t0 = time.perf_counter()
    stop_at[0] = time.monotonic() + max_seconds
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_published = time.perf_counter()
    published = counter["published"]
    want = published
    # Poll the queue depths until every queue holds every message (or the time bound runs out).
    depths = [0] * FANOUT_QUEUES
    wait_deadline = time.monotonic() + max_seconds
    t_all = None
    while True:
        depths = [setup.depth(u) for u in urls]
        if all(d >= want for d in depths):
            t_all = time.perf_counter()
            break
        if time.monotonic() > wait_deadline:
            break
        time.sleep(0.002)
    cpu, client_cpu = server.cpu_seconds() - cpu0, client_cpu_seconds() - client0
    result = {"published": published, "publish_errors": counter["errors"], "first_error": counter["first_error"],
              "publishers": publishers, "queues": FANOUT_QUEUES, "depths": depths,
              "publish_s": t_published - t0, "publish_per_s": published / (t_published - t0),
              "server_cpu_s": cpu, "client_cpu_s": client_cpu,
              "server_cpu_us_per_publish": cpu * 1e6 / max(1, published)}
    if t_all is None:
        result["failed"] = "not every delivery was receivable within %.0f s: depths %s, want %d" % (
            max_seconds, depths, want)
        return result
    if any(d != want for d in depths):
        result["failed"] = "queues hold more messages than were published: %s, want %d" % (depths, want)
    elapsed = t_all - t0
    result.update({"elapsed_s": elapsed, "deliveries": want * FANOUT_QUEUES,
                   "deliveries_per_s": want * FANOUT_QUEUES / elapsed,
                   "visible_after_publish_ms": (t_all - t_published) * 1000.0})
    # A sample delivery: an SNS envelope around the published text.
    got = setup.receive(urls[0], 1)
    if not got or len(envelope_message(got[0]["Body"])) != size:
        result["failed"] = "a delivered message is not the published one: %s" % (
            got[0]["Body"][:200] if got else "none")
    setup.close()
    return result


def run_server(server, name, args):
    if name == "fogbank":
        services = bc.fogbank_services(server)
        if "sns" not in services or "sqs" not in services:
            return {"unavailable": "fogbank's /_fogbank/health lists %s" % ", ".join(sorted(services))}
    moto = name == "moto"
    rounds = args.moto_rounds if moto else args.rounds
    c = Client(server.port)
    try:
        topic_arn = c.create_topic(TOPIC)
        url, arn = c.create_queue(LATENCY_QUEUE)
        c.subscribe(topic_arn, arn)
    except Exception as e:  # noqa: BLE001 - any failure means SNS → SQS is not usable here
        return {"unavailable": "setup failed: %s" % e}
    finally:
        c.close()
    results = {}
    for workload, fn in (("publish-receive", latency_sequential), ("publish-receive-parked", latency_parked)):
        print("  %s: %s (%d rounds)" % (name, workload, rounds), flush=True)
        cpu0, client0 = server.cpu_seconds(), client_cpu_seconds()
        try:
            results[workload] = fn(server, topic_arn, url, rounds, args.message_size, args.max_seconds, args.warmup)
            results[workload].update(server_cpu_s=server.cpu_seconds() - cpu0,
                                     client_cpu_s=client_cpu_seconds() - client0)
        except Exception as e:  # noqa: BLE001
            results[workload] = {"failed": repr(e)}
    messages = args.moto_messages if moto else args.messages
    print("  %s: fan-out (%d messages x %d queues, %d publishers)" % (name, messages, FANOUT_QUEUES,
                                                                       args.publishers), flush=True)
    try:
        results["fanout"] = fanout(server, messages, args.publishers, args.message_size, args.max_seconds)
    except Exception as e:  # noqa: BLE001
        results["fanout"] = {"failed": repr(e)}
    return results


def rows_for(fog, moto, target_ms):
    rows = []

    def add(metric, f, m, higher_is_better=True, target=None, met=None):
        rows.append({"metric": metric, "fogbank": f, "moto": m,
                     "ratio": bc.ratio(f, m, higher_is_better), "target": target, "met": met})

    for w, label in (("publish-receive", "publish→receive"), ("publish-receive-parked", "publish→parked receiver")):
        for q in ("p50", "p99"):
            f, m = bc.value(fog.get(w), "latency_ms", q), bc.value(moto.get(w), "latency_ms", q)
            target = met = None
            if w == "publish-receive" and q == "p50":
                target, met = "<= %g ms" % target_ms, None if f is None else f <= target_ms
            add("%s %s ms" % (label, q), f, m, higher_is_better=False, target=target, met=met)
    f, m = bc.value(fog.get("fanout"), "deliveries_per_s"), bc.value(moto.get("fanout"), "deliveries_per_s")
    r = bc.ratio(f, m)
    add("fan-out 1→%d deliveries/s" % FANOUT_QUEUES, f, m, target=">= 100x moto", met=None if r is None else r >= 100)
    add("fan-out publishes/s", bc.value(fog.get("fanout"), "publish_per_s"),
        bc.value(moto.get("fanout"), "publish_per_s"))
    return rows


def print_failures(fog, moto):
    for name, res in (("fogbank", fog), ("moto", moto)):
        if "unavailable" in res:
            print("%s: SNS unavailable (%s)" % (name, res["unavailable"]))
        for w, r in res.items():
            if isinstance(r, dict) and r.get("failed"):
                print("%s %s FAILED: %s" % (name, w, r["failed"][:300]))
            if isinstance(r, dict) and r.get("publish_errors"):
                print("%s %s: %d publish errors; first: %s" % (name, w, r["publish_errors"], r["first_error"]))


def build_type(binary):
    cache = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(binary))), "CMakeCache.txt")
    try:
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip() or "(none)"
    except OSError:
        pass
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fogbank", default=os.path.join(bc.REPO, "build-rel", "server", "fogbank"),
                    help="fogbank binary (a Release build)")
    ap.add_argument("--rounds", type=int, default=1000, help="latency rounds on fogbank")
    ap.add_argument("--moto-rounds", type=int, default=200, help="latency rounds on moto")
    ap.add_argument("--warmup", type=int, default=20, help="latency rounds not measured")
    ap.add_argument("--messages", type=int, default=20000, help="fan-out messages on fogbank")
    ap.add_argument("--moto-messages", type=int, default=500, help="fan-out messages on moto")
    ap.add_argument("--publishers", type=int, default=4, help="fan-out publisher threads (one connection each)")
    ap.add_argument("--message-size", type=int, default=1024)
    ap.add_argument("--max-seconds", type=float, default=60, help="time bound of each workload")
    ap.add_argument("--target-ms", type=float, default=1.0, help="publish→receive p50 target")
    ap.add_argument("--skip-moto", action="store_true")
    args = ap.parse_args()

    if not os.access(args.fogbank, os.X_OK):
        sys.exit("no fogbank binary at %s (build: cmake --build build-rel --target fogbank)" % args.fogbank)
    kind = build_type(args.fogbank)
    if kind != "Release":
        print("WARNING: %s is a %s build, not Release: the numbers say little" % (args.fogbank, kind))
    moto_bin = None if args.skip_moto else bc.find_moto()

    before = bc.machine_state()
    document = {"machine_before": before, "fogbank_binary": args.fogbank, "build_type": kind,
                "message_size": args.message_size, "publishers": args.publishers}
    fog, moto = bc.measure_side_by_side(args.fogbank, moto_bin, lambda server, name: run_server(server, name, args))
    document["fogbank"], document["moto"] = fog, moto
    after = bc.machine_state()
    document["machine_after"] = after

    print()
    print_failures(fog, moto)
    document["rows"] = rows_for(fog if "unavailable" not in fog else {}, moto if "unavailable" not in moto else {},
                                args.target_ms)
    print("fogbank build: %s (%s)" % (kind, args.fogbank))
    bc.print_table(document["rows"])
    print(bc.noise_note(before, after))
    print("results: %s" % bc.write_results("sns", document))
    failed = any(isinstance(r, dict) and r.get("failed") for res in (fog, moto) for r in res.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
