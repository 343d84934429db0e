#!/usr/bin/env python3
"""Crash consistency: concurrent S3 PUT/DELETE, SQS send/receive/delete and Kinesis PutRecords
clients record what fogbank acknowledged; fogbank is killed with SIGKILL at random moments, restarted on the same data
directory, and checked byte for byte:
  - every acknowledged PUT is readable with exactly its bytes (or the bytes of a later write
    to the same key that was in flight at the kill);
  - every acknowledged DELETE stays deleted (unless a later in-flight PUT of that key landed);
  - every acknowledged SendMessage is still in the queue unless its deletion was acknowledged
    (or in flight), and no acknowledged deletion comes back;
  - every acknowledged Kinesis record is read back once, in its shard under its sequence number,
    in sequence order; a PutRecords call in flight at the kill landed whole or not at all.

    tests/e2e/test_crash_consistency.py                 # the short run CI does (3 kills)
    FOGBANK_CRASH_ROUNDS=50 tests/e2e/test_crash_consistency.py   # a long run (scripts/, bench/)

The server runs a virtual clock so that, after a restart, in-flight messages are released by an
advance instead of a wait. Every request loop is bounded in count and time and talks to
127.0.0.1 only.
"""

import hashlib
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

ROUNDS = int(os.environ.get("FOGBANK_CRASH_ROUNDS", "3"))
KEYS_PER_WRITER = 12
S3_WRITERS = 3
MAX_LOAD_SECONDS = 2.5
# Sizes cross the inline (< 64 KiB) and the chunked blob (1 MiB chunks) paths.
SIZES = (0, 100, 4096, 70_000, 1_100_000)


def md5(data):
    return hashlib.md5(data).hexdigest()


class Ledger:
    """What the clients know: per key the acknowledged state and any operation in flight."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}        # key -> md5 of bytes, or None for deleted
        self.in_flight = {}    # key -> md5 or None: the op sent but not yet answered
        self.sent = set()      # message bodies whose SendMessage was acknowledged
        self.sending = set()   # bodies sent, not yet acknowledged
        self.deleted = set()   # bodies whose DeleteMessage was acknowledged
        self.deleting = set()  # bodies whose DeleteMessage was sent, not acknowledged
        self.records = {}      # Kinesis record data -> (shard id, sequence number) acknowledged
        self.putting = []      # PutRecords calls sent, not yet answered: lists of record data


def client(server, service):
    # The harness's clients never retry: a retry after the kill would blur what was acknowledged.
    return server.client(service, connect_timeout=2, read_timeout=5)


def s3_writer(server, bucket, prefix, ledger, rng, stop):
    s3 = client(server, "s3")
    keys = [f"{prefix}/k{i}" for i in range(KEYS_PER_WRITER)]
    while not stop.is_set():
        key = rng.choice(keys)
        if rng.random() < 0.25:
            with ledger.lock:
                ledger.in_flight[key] = None
            try:
                s3.delete_object(Bucket=bucket, Key=key)
            except (BotoCoreError, ClientError):
                return  # the server is gone: the op stays in flight
            with ledger.lock:
                ledger.acked[key] = None
                ledger.in_flight.pop(key, None)
        else:
            body = rng.randbytes(rng.choice(SIZES))
            with ledger.lock:
                ledger.in_flight[key] = md5(body)
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body)
            except (BotoCoreError, ClientError):
                return
            with ledger.lock:
                ledger.acked[key] = md5(body)
                ledger.in_flight.pop(key, None)


def sqs_sender(server, url, tag, ledger, stop):
    sqs = client(server, "sqs")
    n = 0
    while not stop.is_set():
        body = f"{tag}-{n}"
        n += 1
        with ledger.lock:
            ledger.sending.add(body)
        try:
            sqs.send_message(QueueUrl=url, MessageBody=body)
        except (BotoCoreError, ClientError):
            return
        with ledger.lock:
            ledger.sent.add(body)
            ledger.sending.discard(body)


def sqs_consumer(server, url, ledger, stop):
    sqs = client(server, "sqs")
    while not stop.is_set():
        try:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        except (BotoCoreError, ClientError):
            return
        for m in got.get("Messages", []):
            with ledger.lock:
                ledger.deleting.add(m["Body"])
            try:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            except (BotoCoreError, ClientError):
                return
            with ledger.lock:
                ledger.deleted.add(m["Body"])
                ledger.deleting.discard(m["Body"])


def kinesis_producer(server, stream, tag, ledger, rng, stop):
    kinesis = client(server, "kinesis")
    n = 0
    while not stop.is_set():
        batch = [f"{tag}-{n + i}".encode() for i in range(rng.choice((1, 7, 60)))]
        n += len(batch)
        with ledger.lock:
            ledger.putting.append(batch)
        try:
            out = kinesis.put_records(StreamName=stream, Records=[{"Data": d, "PartitionKey": d.decode()[-3:]}
                                                                   for d in batch])
        except (BotoCoreError, ClientError):
            return
        with ledger.lock:
            for d, r in zip(batch, out["Records"]):
                ledger.records[d] = (r.get("ShardId"), r.get("SequenceNumber"))
            ledger.putting.remove(batch)


class CrashConsistencyTest(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def test_acknowledged_writes_survive_kill_9(self):
        rng = random.Random(int(os.environ.get("FOGBANK_CRASH_SEED", str(time.time_ns()))))
        for round_no in range(ROUNDS):
            with self.subTest(round=round_no):
                self.one_round(round_no, rng)

    def one_round(self, round_no, rng):
        server = self.server
        bucket = f"crash-{round_no}-{rng.randrange(1 << 30)}"
        server.client("s3").create_bucket(Bucket=bucket)
        url = server.client("sqs").create_queue(QueueName=f"crash-{round_no}")["QueueUrl"]
        stream = f"crash-{round_no}"
        kinesis = server.client("kinesis")
        kinesis.create_stream(StreamName=stream, ShardCount=2)
        server.advance_clock(1)  # CREATING ends on the virtual clock
        kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
        ledger = Ledger()
        stop = threading.Event()
        threads = [threading.Thread(target=s3_writer, args=(server, bucket, f"w{i}", ledger,
                                                            random.Random(rng.random()), stop))
                   for i in range(S3_WRITERS)]
        threads += [threading.Thread(target=sqs_sender, args=(server, url, f"r{round_no}s{i}", ledger, stop))
                    for i in range(2)]
        threads.append(threading.Thread(target=sqs_consumer, args=(server, url, ledger, stop)))
        threads += [threading.Thread(target=kinesis_producer, args=(server, stream, f"r{round_no}p{i}", ledger,
                                                                    random.Random(rng.random()), stop))
                    for i in range(2)]
        for t in threads:
            t.start()
        # The kill must land after work was acknowledged, or there is nothing to check: wait for
        # the first S3 and SQS acknowledgements (slow under sanitizers), then pick a random moment.
        deadline = time.monotonic() + 30
        while not (ledger.acked and ledger.sent and ledger.records) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, MAX_LOAD_SECONDS))  # a random moment under load
        before_kill_ms = server.clock()["now_ms"]
        server.kill9()
        stop.set()
        for t in threads:
            t.join(10)
        self.assertFalse(any(t.is_alive() for t in threads))
        server.start()
        # A virtual clock starts from the real time again: move it past every visibility timeout
        # (12 h at most) counted from the clock the killed server had, which earlier rounds
        # advanced.
        server.set_clock((before_kill_ms + 13 * 3600 * 1000) / 1000.0)
        self.check_objects(bucket, ledger)
        self.check_messages(url, ledger)
        self.check_records(stream, ledger)

    def check_objects(self, bucket, ledger):
        s3 = self.server.client("s3")
        checked = 0
        for key, want in ledger.acked.items():
            allowed = {want}
            if key in ledger.in_flight:
                allowed.add(ledger.in_flight[key])
            try:
                got = md5(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "NoSuchKey")
                got = None
            self.assertIn(got, allowed, f"{key}: acknowledged {want}, in flight {ledger.in_flight.get(key, '-')}")
            checked += 1
        self.assertGreater(checked, 0, "no S3 write was acknowledged before the kill")

    def check_messages(self, url, ledger):
        sqs = self.server.client("sqs")
        seen = set()
        for _ in range(10_000):  # bounded drain
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
            msgs = got.get("Messages", [])
            if not msgs:
                break
            for m in msgs:
                self.assertNotIn(m["Body"], seen, "a message was received twice after the restart")
                seen.add(m["Body"])
        resurrected = seen & (ledger.deleted - ledger.deleting)
        self.assertFalse(resurrected, f"acknowledged deletions came back: {sorted(resurrected)[:5]}")
        lost = (ledger.sent - ledger.deleted - ledger.deleting) - seen
        self.assertFalse(lost, f"acknowledged sends were lost: {sorted(lost)[:5]}")
        unknown = seen - ledger.sent - ledger.sending
        self.assertFalse(unknown, f"messages nobody sent: {sorted(unknown)[:5]}")
        self.assertGreater(len(ledger.sent), 0, "no SendMessage was acknowledged before the kill")

    def check_records(self, stream, ledger):
        kinesis = self.server.client("kinesis")
        seen = {}
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            last = 0
            for _ in range(10_000):  # bounded: nothing is written any more
                out = kinesis.get_records(ShardIterator=it, Limit=500)
                for r in out["Records"]:
                    self.assertNotIn(r["Data"], seen, "a record was read twice after the restart")
                    self.assertGreater(int(r["SequenceNumber"]), last, "records out of sequence order")
                    last = int(r["SequenceNumber"])
                    seen[r["Data"]] = (shard["ShardId"], r["SequenceNumber"])
                if not out["Records"]:
                    break
                it = out["NextShardIterator"]
        lost = {d: where for d, where in ledger.records.items() if seen.get(d) != where}
        self.assertFalse(lost, f"acknowledged records lost or moved: {sorted(lost.items())[:5]}")
        in_flight = {d for batch in ledger.putting for d in batch}
        unknown = set(seen) - set(ledger.records) - in_flight
        self.assertFalse(unknown, f"records nobody put: {sorted(unknown)[:5]}")
        for batch in ledger.putting:
            landed = [d in seen for d in batch]
            self.assertTrue(all(landed) or not any(landed), f"a PutRecords call landed in part: {batch[:3]}")
        self.assertGreater(len(ledger.records), 0, "no PutRecords was acknowledged before the kill")


if __name__ == "__main__":
    fh.main()
