#!/usr/bin/env python3
"""Kinesis Data Streams end to end: boto3 (JSON 1.1), a hand-rolled CBOR client
(application/x-amz-cbor-1.1, the AWS SDK for Java's wire) and the AWS CLI against a fogbank
running on a virtual clock, so lifecycle delays, iterator expiry and retention pass by advancing
the clock, never by sleeping."""

import datetime
import hashlib
import http.client
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402

ACCOUNT = fh.ROOT_ACCOUNT
REGION = fh.REGION
MAX_HASH = 2 ** 128 - 1


def shard_id(i):
    return "shardId-%012d" % i


def code_of(ctx):
    return ctx.exception.response["Error"]["Code"]


def message_of(ctx):
    return ctx.exception.response["Error"]["Message"]


class KinesisCase(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def setUp(self):
        self.server.reset()
        self.server.sync_clock()
        self.k = self.server.client("kinesis")

    def settle(self):
        """Lets the lifecycle delay (500 ms) pass."""
        self.server.advance_clock(1)

    def create(self, name, shards=1, **kw):
        self.k.create_stream(StreamName=name, ShardCount=shards, **kw)
        self.settle()
        return self.k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    def iterator(self, name, shard=0, kind="TRIM_HORIZON", **kw):
        return self.k.get_shard_iterator(StreamName=name, ShardId=shard_id(shard), ShardIteratorType=kind,
                                         **kw)["ShardIterator"]

    def read(self, it, limit=10000):
        """Follows NextShardIterator until caught up (open shard) or the shard's end."""
        records, last = [], None
        for _ in range(1000):
            last = self.k.get_records(ShardIterator=it, Limit=limit)
            records.extend(last["Records"])
            it = last.get("NextShardIterator")
            if not it or (not last["Records"] and last["MillisBehindLatest"] == 0):
                break
        return records, last


class StreamLifecycleTest(KinesisCase):
    def test_create_describe_list_delete(self):
        self.k.create_stream(StreamName="life", ShardCount=2, Tags={"team": "data"})
        d = self.k.describe_stream(StreamName="life")["StreamDescription"]
        self.assertEqual(d["StreamStatus"], "CREATING")
        with self.assertRaises(self.k.exceptions.ResourceInUseException) as ctx:
            self.k.split_shard(StreamName="life", ShardToSplit=shard_id(0), NewStartingHashKey="5")
        self.assertEqual(message_of(ctx), f"Stream life under account {ACCOUNT} not ACTIVE, instead in state CREATING")
        self.settle()
        d = self.k.describe_stream(StreamName="life")["StreamDescription"]
        self.assertEqual(d["StreamStatus"], "ACTIVE")
        self.assertEqual(d["StreamARN"], f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/life")
        self.assertEqual(d["RetentionPeriodHours"], 24)
        self.assertEqual(d["EncryptionType"], "NONE")
        self.assertEqual(d["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])
        self.assertFalse(d["HasMoreShards"])
        self.assertEqual(d["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
        self.assertEqual([s["HashKeyRange"] for s in d["Shards"]],
                         [{"StartingHashKey": "0", "EndingHashKey": str(2 ** 127 - 1)},
                          {"StartingHashKey": str(2 ** 127), "EndingHashKey": str(MAX_HASH)}])
        for s in d["Shards"]:
            self.assertRegex(s["SequenceNumberRange"]["StartingSequenceNumber"], r"^\d{56}$")
            self.assertNotIn("EndingSequenceNumber", s["SequenceNumberRange"])
        page = self.k.describe_stream(StreamName="life", Limit=1)["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in page["Shards"]], [shard_id(0)])
        self.assertTrue(page["HasMoreShards"])
        page = self.k.describe_stream(StreamName="life", ExclusiveStartShardId=shard_id(0))["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in page["Shards"]], [shard_id(1)])

        summary = self.k.describe_stream_summary(StreamARN=d["StreamARN"])["StreamDescriptionSummary"]
        self.assertEqual(summary["OpenShardCount"], 2)
        self.assertEqual(summary["ConsumerCount"], 0)
        self.assertRegex(summary["StreamId"], r"^[a-z0-9]{20}-[a-z0-9]{3}$")

        with self.assertRaises(self.k.exceptions.ResourceInUseException) as ctx:
            self.k.create_stream(StreamName="life", ShardCount=1)
        self.assertEqual(message_of(ctx), f"Stream life under account {ACCOUNT} already exists.")
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException) as ctx:
            self.k.describe_stream(StreamName="nope")
        self.assertEqual(message_of(ctx), f"Stream nope under account {ACCOUNT} not found.")

        for name in ("b-stream", "a-stream"):
            self.k.create_stream(StreamName=name, ShardCount=1)
        listed = self.k.list_streams()
        self.assertEqual(listed["StreamNames"], ["a-stream", "b-stream", "life"])
        self.assertEqual(listed["StreamSummaries"][0]["StreamStatus"], "CREATING")
        self.assertFalse(listed["HasMoreStreams"])
        first = self.k.list_streams(Limit=2)
        self.assertTrue(first["HasMoreStreams"])
        rest = self.k.list_streams(NextToken=first["NextToken"])
        self.assertEqual(first["StreamNames"] + rest["StreamNames"], ["a-stream", "b-stream", "life"])
        self.assertEqual(self.k.list_streams(ExclusiveStartStreamName="a-stream")["StreamNames"], ["b-stream", "life"])

        self.k.delete_stream(StreamName="life")
        self.assertEqual(self.k.describe_stream(StreamName="life")["StreamDescription"]["StreamStatus"], "DELETING")
        self.settle()
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException):
            self.k.describe_stream(StreamName="life")

    def test_validation_and_limits(self):
        with self.assertRaises(self.k.exceptions.ClientError) as ctx:
            self.k.create_stream(StreamName="bad name", ShardCount=1)
        self.assertEqual(code_of(ctx), "ValidationException")
        self.assertEqual(message_of(ctx), "1 validation error detected: Value 'bad name' at 'streamName' failed to "
                                          "satisfy constraint: Member must satisfy regular expression pattern: "
                                          "[a-zA-Z0-9_.-]+")
        with self.assertRaises(self.k.exceptions.LimitExceededException) as ctx:
            self.k.create_stream(StreamName="huge", ShardCount=201)
        self.assertIn("Limit: 200.", message_of(ctx))
        limits = self.k.describe_limits()
        self.assertEqual((limits["ShardLimit"], limits["OpenShardCount"], limits["OnDemandStreamCountLimit"]),
                         (200, 0, 50))
        self.k.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
        self.settle()
        self.assertEqual(len(self.k.list_shards(StreamName="od")["Shards"]), 4)
        limits = self.k.describe_limits()
        self.assertEqual((limits["OpenShardCount"], limits["OnDemandStreamCount"]), (4, 1))
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException) as ctx:
            self.k.subscribe_to_shard(ConsumerARN=f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/od/consumer/c:1",
                                      ShardId=shard_id(0), StartingPosition={"Type": "LATEST"})
        self.assertEqual(message_of(ctx), f"Consumer c under stream od under account {ACCOUNT} not found.")

    def test_five_streams_at_most_creating_or_deleting(self):
        limit = ("This request would have exceed the limit on the number of streams that can simultaneously be in "
                 f"CREATING or DELETING for the account {ACCOUNT}. Limit: 5.")
        for i in range(5):
            self.k.create_stream(StreamName="c%d" % i, ShardCount=1)
        with self.assertRaises(self.k.exceptions.LimitExceededException) as ctx:
            self.k.create_stream(StreamName="c5", ShardCount=1)
        self.assertEqual(message_of(ctx), limit)
        self.settle()
        self.k.create_stream(StreamName="c5", ShardCount=1)
        self.settle()
        for i in range(5):
            self.k.delete_stream(StreamName="c%d" % i)
        with self.assertRaises(self.k.exceptions.LimitExceededException) as ctx:
            self.k.delete_stream(StreamName="c5")
        self.assertEqual(message_of(ctx), limit)
        self.settle()
        self.k.delete_stream(StreamName="c5")

    def test_health_reports_kinesis(self):
        status, body, _ = self.server.admin("/_fogbank/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["services"]["kinesis"], "running")


class AccountIsolationTest(KinesisCase):
    server_args = ["--clock", "virtual", "--credentials", "test:test:000000000000,other:other:111111111111"]

    def test_accounts_are_isolated(self):
        arn = self.create("mine")
        self.k.put_record(StreamName="mine", Data=b"secret", PartitionKey="k")
        it = self.iterator("mine")
        other = self.server.client("kinesis", key="other", secret="other")
        self.assertEqual(other.list_streams()["StreamNames"], [])
        with self.assertRaises(other.exceptions.ResourceNotFoundException) as ctx:
            other.describe_stream(StreamName="mine")
        self.assertEqual(message_of(ctx), "Stream mine under account 111111111111 not found.")
        with self.assertRaises(other.exceptions.ResourceNotFoundException):
            other.describe_stream_summary(StreamARN=arn)
        with self.assertRaises(other.exceptions.InvalidArgumentException):
            other.get_records(ShardIterator=it)
        # The same name is free in the other account, and stays separate.
        other.create_stream(StreamName="mine", ShardCount=2)
        self.settle()
        self.assertEqual(other.describe_stream_summary(StreamName="mine")["StreamDescriptionSummary"]["StreamARN"],
                         f"arn:aws:kinesis:{REGION}:111111111111:stream/mine")
        self.assertEqual(self.k.describe_stream_summary(StreamName="mine")["StreamDescriptionSummary"][
            "OpenShardCount"], 1)


class RecordsTest(KinesisCase):
    def test_put_and_read_with_every_iterator_type(self):
        self.create("rec")
        early_latest = self.iterator("rec", kind="LATEST")
        seqs, arrivals = [], []
        for i in range(6):
            r = self.k.put_record(StreamName="rec", Data=b"d%d" % i, PartitionKey="k")
            self.assertEqual(r["ShardId"], shard_id(0))
            self.assertRegex(r["SequenceNumber"], r"^\d{56}$")
            seqs.append(r["SequenceNumber"])
            self.server.advance_clock(1)
        self.assertEqual([int(s) for s in seqs], sorted(int(s) for s in seqs))
        records, last = self.read(self.iterator("rec"), limit=4)
        self.assertEqual([r["Data"] for r in records], [b"d%d" % i for i in range(6)])
        self.assertEqual([r["SequenceNumber"] for r in records], seqs)
        self.assertEqual({r["PartitionKey"] for r in records}, {"k"})
        self.assertEqual(last["MillisBehindLatest"], 0)
        self.assertIn("NextShardIterator", last)
        arrivals = [r["ApproximateArrivalTimestamp"] for r in records]
        self.assertEqual(arrivals, sorted(arrivals))
        self.assertEqual([r["SequenceNumber"] for r in self.read(early_latest)[0]], seqs)
        self.assertEqual(self.read(self.iterator("rec", kind="LATEST"))[0], [])
        at = self.iterator("rec", kind="AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])
        self.assertEqual([r["SequenceNumber"] for r in self.read(at)[0]], seqs[2:])
        after = self.iterator("rec", kind="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])
        self.assertEqual([r["SequenceNumber"] for r in self.read(after)[0]], seqs[3:])
        ts = self.iterator("rec", kind="AT_TIMESTAMP", Timestamp=arrivals[4])
        self.assertEqual([r["SequenceNumber"] for r in self.read(ts)[0]], seqs[4:])
        start = self.k.describe_stream(StreamName="rec")["StreamDescription"]["Shards"][0][
            "SequenceNumberRange"]["StartingSequenceNumber"]
        from_start = self.iterator("rec", kind="AT_SEQUENCE_NUMBER", StartingSequenceNumber=start)
        self.assertEqual(len(self.read(from_start)[0]), 6)
        # A partial read reports how far behind it is.
        part = self.k.get_records(ShardIterator=self.iterator("rec"), Limit=2)
        self.assertGreater(part["MillisBehindLatest"], 0)

    def test_iterator_errors(self):
        self.create("errs")
        self.k.put_record(StreamName="errs", Data=b"x", PartitionKey="k")
        it = self.iterator("errs")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.iterator("errs", kind="AT_SEQUENCE_NUMBER", StartingSequenceNumber="12345")
        self.assertEqual(message_of(ctx), f"StartingSequenceNumber 12345 used in GetShardIterator on shard "
                                          f"{shard_id(0)} in stream errs under account {ACCOUNT} is invalid.")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.iterator("errs", kind="AT_SEQUENCE_NUMBER")
        self.assertIn("Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.", message_of(ctx))
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException) as ctx:
            self.iterator("errs", shard=5)
        self.assertEqual(message_of(ctx), f"Shard {shard_id(5)} in stream errs under account {ACCOUNT} does not exist")
        forged = it[:-6] + ("AAAAAA" if not it.endswith("AAAAAA") else "BBBBBB")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.k.get_records(ShardIterator=forged)
        self.assertEqual(message_of(ctx), "Invalid ShardIterator.")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.get_records(ShardIterator="garbage")
        self.server.advance_clock(301)
        with self.assertRaises(self.k.exceptions.ExpiredIteratorException) as ctx:
            self.k.get_records(ShardIterator=it)
        self.assertRegex(message_of(ctx), r"^Iterator expired. The iterator was created at time \w{3} \w{3} \d\d "
                                          r"\d\d:\d\d:\d\d UTC \d{4} while right now it is .* which is further in the "
                                          r"future than the tolerated delay of 300000 milliseconds.$")
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException):
            self.k.put_record(StreamName="nope", Data=b"x", PartitionKey="k")

    def test_routing_put_records_and_limits(self):
        arn = self.create("four", 4)
        keys = ["sensor-%d" % i for i in range(40)]
        quarter = 2 ** 126
        resp = self.k.put_records(StreamARN=arn, Records=[{"Data": k.encode(), "PartitionKey": k} for k in keys])
        self.assertEqual(resp["FailedRecordCount"], 0)
        for k, r in zip(keys, resp["Records"]):
            self.assertEqual(r["ShardId"], shard_id(int(hashlib.md5(k.encode()).hexdigest(), 16) // quarter))
        r = self.k.put_record(StreamName="four", Data=b"e", PartitionKey="x", ExplicitHashKey=str(2 * quarter + 5))
        self.assertEqual(r["ShardId"], shard_id(2))
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.k.put_record(StreamName="four", Data=b"e", PartitionKey="x", ExplicitHashKey=str(2 ** 128))
        self.assertIn("Invalid ExplicitHashKey", message_of(ctx))
        with self.assertRaises(self.k.exceptions.ClientError) as ctx:
            self.k.put_record(StreamName="four", Data=b"x" * (1024 * 1024 + 1), PartitionKey="x")
        self.assertEqual(code_of(ctx), "ValidationException")
        self.assertEqual(message_of(ctx), "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 "
                                          "lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: Member "
                                          "must have length less than or equal to 1048576")
        ok = self.k.put_record(StreamName="four", Data=b"x" * (1024 * 1024), PartitionKey="x")
        self.assertIn("SequenceNumber", ok)
        with self.assertRaises(self.k.exceptions.ClientError) as ctx:
            self.k.put_records(StreamName="four", Records=[{"Data": b"x", "PartitionKey": "k"}] * 501)
        self.assertEqual(code_of(ctx), "ValidationException")
        unchecked = self.server.client("kinesis", validate=False)  # botocore would refuse it first
        with self.assertRaises(unchecked.exceptions.ClientError) as ctx:
            unchecked.put_record(StreamName="four", Data=b"x", PartitionKey="")
        self.assertEqual(code_of(ctx), "ValidationException")
        self.assertEqual(message_of(ctx), "1 validation error detected: Value '' at 'partitionKey' failed to "
                                          "satisfy constraint: Member must have length greater than or equal to 1")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.put_records(StreamName="four", Records=[{"Data": b"x" * 1000000, "PartitionKey": "k"}] * 6)

    def test_retention_hides_and_trims_old_records(self):
        self.create("ret")
        self.k.put_record(StreamName="ret", Data=b"old", PartitionKey="k")
        self.server.advance_clock(23 * 3600)
        self.k.put_record(StreamName="ret", Data=b"new", PartitionKey="k")
        self.server.advance_clock(3600 + 1)
        self.assertEqual([r["Data"] for r in self.read(self.iterator("ret"))[0]], [b"new"])

    def test_closed_shards_are_dropped_after_retention(self):
        self.create("drop")
        self.k.split_shard(StreamName="drop", ShardToSplit=shard_id(0), NewStartingHashKey=str(2 ** 127))
        self.settle()
        ids = lambda: [s["ShardId"] for s in self.k.list_shards(StreamName="drop")["Shards"]]  # noqa: E731
        self.assertEqual(ids(), [shard_id(0), shard_id(1), shard_id(2)])
        self.server.advance_clock(24 * 3600 + 2)
        self.assertEqual(ids(), [shard_id(1), shard_id(2)])
        d = self.k.describe_stream(StreamName="drop")["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in d["Shards"]], [shard_id(1), shard_id(2)])
        self.assertFalse(d["HasMoreShards"])
        self.assertEqual(self.k.describe_stream(StreamName="drop", Limit=1)["StreamDescription"]["HasMoreShards"],
                         True)
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException):
            self.iterator("drop", 0)

    def test_retention_encryption_monitoring(self):
        self.create("cfg")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.k.increase_stream_retention_period(StreamName="cfg", RetentionPeriodHours=9000)
        self.assertEqual(message_of(ctx), "Maximum allowed retention period is 8760 hours. Requested retention "
                                          "period (9000 hours) is too long.")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.k.decrease_stream_retention_period(StreamName="cfg", RetentionPeriodHours=12)
        self.assertEqual(message_of(ctx), "Minimum allowed retention period is 24 hours. Requested retention "
                                          "period (12 hours) is too short.")
        self.k.increase_stream_retention_period(StreamName="cfg", RetentionPeriodHours=48)
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.k.increase_stream_retention_period(StreamName="cfg", RetentionPeriodHours=30)
        self.assertEqual(message_of(ctx), "Requested retention period (30 hours) for stream cfg can not be shorter "
                                          "than existing retention period (48 hours). Use DecreaseRetentionPeriod "
                                          "API.")
        self.k.decrease_stream_retention_period(StreamName="cfg", RetentionPeriodHours=36)
        self.assertEqual(self.k.describe_stream(StreamName="cfg")["StreamDescription"]["RetentionPeriodHours"], 36)

        self.k.start_stream_encryption(StreamName="cfg", EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.assertEqual(self.k.describe_stream(StreamName="cfg")["StreamDescription"]["StreamStatus"], "UPDATING")
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.k.start_stream_encryption(StreamName="cfg", EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.settle()
        d = self.k.describe_stream(StreamName="cfg")["StreamDescription"]
        self.assertEqual((d["EncryptionType"], d["KeyId"]), ("KMS", "alias/aws/kinesis"))
        self.assertEqual(self.k.put_record(StreamName="cfg", Data=b"s", PartitionKey="k")["EncryptionType"], "KMS")
        self.assertEqual(self.k.put_records(StreamName="cfg", Records=[{"Data": b"s", "PartitionKey": "k"}])[
            "EncryptionType"], "KMS")
        self.assertEqual({r["EncryptionType"] for r in self.read(self.iterator("cfg"))[0]}, {"KMS"})
        self.k.stop_stream_encryption(StreamName="cfg", EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.settle()
        self.assertNotIn("EncryptionType", self.k.put_record(StreamName="cfg", Data=b"p", PartitionKey="k"))

        out = self.k.enable_enhanced_monitoring(StreamName="cfg", ShardLevelMetrics=["IncomingBytes"])
        self.assertEqual((out["CurrentShardLevelMetrics"], out["DesiredShardLevelMetrics"]), ([], ["IncomingBytes"]))
        out = self.k.enable_enhanced_monitoring(StreamName="cfg", ShardLevelMetrics=["ALL"])
        self.assertEqual(len(out["DesiredShardLevelMetrics"]), 7)
        out = self.k.disable_enhanced_monitoring(StreamName="cfg", ShardLevelMetrics=["IncomingBytes"])
        self.assertEqual(len(out["DesiredShardLevelMetrics"]), 6)
        self.assertEqual(len(self.k.describe_stream(StreamName="cfg")["StreamDescription"]["EnhancedMonitoring"][0][
            "ShardLevelMetrics"]), 6)

        self.k.update_stream_mode(StreamARN=d["StreamARN"], StreamModeDetails={"StreamMode": "ON_DEMAND"})
        self.assertEqual(self.k.describe_stream_summary(StreamName="cfg")["StreamDescriptionSummary"]["StreamStatus"],
                         "UPDATING")
        self.settle()
        self.assertEqual(self.k.describe_stream_summary(StreamName="cfg")["StreamDescriptionSummary"][
            "StreamModeDetails"], {"StreamMode": "ON_DEMAND"})


class ShardsTest(KinesisCase):
    def test_list_shards_pagination_and_filters(self):
        self.create("ls", 4)
        page = self.k.list_shards(StreamName="ls", MaxResults=3)
        self.assertEqual([s["ShardId"] for s in page["Shards"]], [shard_id(i) for i in range(3)])
        rest = self.k.list_shards(NextToken=page["NextToken"])
        self.assertEqual([s["ShardId"] for s in rest["Shards"]], [shard_id(3)])
        self.assertNotIn("NextToken", rest)
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.k.list_shards(StreamName="ls", NextToken=page["NextToken"])
        self.assertEqual(message_of(ctx), "NextToken and StreamName cannot be provided together.")
        self.server.advance_clock(301)
        with self.assertRaises(self.k.exceptions.ExpiredNextTokenException):
            self.k.list_shards(NextToken=page["NextToken"])
        after = self.k.list_shards(StreamName="ls", ExclusiveStartShardId=shard_id(1))
        self.assertEqual([s["ShardId"] for s in after["Shards"]], [shard_id(2), shard_id(3)])
        self.k.split_shard(StreamName="ls", ShardToSplit=shard_id(0), NewStartingHashKey=str(2 ** 125))
        self.settle()
        latest = self.k.list_shards(StreamName="ls", ShardFilter={"Type": "AT_LATEST"})
        self.assertEqual([s["ShardId"] for s in latest["Shards"]],
                         [shard_id(i) for i in (1, 2, 3, 4, 5)])
        horizon = self.k.list_shards(StreamName="ls", ShardFilter={"Type": "AT_TRIM_HORIZON"})
        self.assertEqual([s["ShardId"] for s in horizon["Shards"]], [shard_id(i) for i in range(4)])
        everything = self.k.list_shards(StreamName="ls", ShardFilter={"Type": "FROM_TRIM_HORIZON"})
        self.assertEqual(len(everything["Shards"]), 6)
        after_id = self.k.list_shards(StreamName="ls", ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": shard_id(3)})
        self.assertEqual([s["ShardId"] for s in after_id["Shards"]], [shard_id(4), shard_id(5)])

    def test_resharding_errors(self):
        self.create("rs", 2)
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.k.merge_shards(StreamName="rs", ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(0))
        self.assertIn("are not an adjacent pair of shards eligible for merging", message_of(ctx))
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.k.split_shard(StreamName="rs", ShardToSplit=shard_id(1), NewStartingHashKey="5")
        self.assertIn("used in SplitShard() on shard shardId-000000000001", message_of(ctx))
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException):
            self.k.split_shard(StreamName="rs", ShardToSplit=shard_id(9), NewStartingHashKey="5")
        with self.assertRaises(self.k.exceptions.LimitExceededException):
            self.k.update_shard_count(StreamName="rs", TargetShardCount=5, ScalingType="UNIFORM_SCALING")
        out = self.k.update_shard_count(StreamName="rs", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
        self.assertEqual((out["CurrentShardCount"], out["TargetShardCount"]), (2, 3))
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.k.update_shard_count(StreamName="rs", TargetShardCount=4, ScalingType="UNIFORM_SCALING")
        self.settle()
        self.assertEqual(self.k.describe_stream_summary(StreamName="rs")["StreamDescriptionSummary"][
            "OpenShardCount"], 3)

    def test_consumer_following_lineage_reads_every_record_once(self):
        self.create("lin", 2)
        written = []

        def produce(n, tag):
            batch = [{"Data": ("%s-%d" % (tag, i)).encode(), "PartitionKey": "key-%d" % (i % 7)} for i in range(n)]
            self.k.put_records(StreamName="lin", Records=batch)
            written.extend((b["PartitionKey"], b["Data"]) for b in batch)
            self.server.advance_clock(0.01)

        produce(30, "a")
        self.k.split_shard(StreamName="lin", ShardToSplit=shard_id(0), NewStartingHashKey=str(2 ** 126))
        self.settle()
        produce(30, "b")
        self.k.merge_shards(StreamName="lin", ShardToMerge=shard_id(2), AdjacentShardToMerge=shard_id(3))
        self.settle()
        produce(30, "c")
        self.k.update_shard_count(StreamName="lin", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
        self.settle()
        produce(30, "d")

        # A consumer that starts at the roots, reads each shard to its end and moves on to a child
        # once all of the child's parents are done (the KCL's rule).
        shards = {s["ShardId"]: s for s in self.k.list_shards(StreamName="lin")["Shards"]}
        parents = {sid: [p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")) if p]
                   for sid, s in shards.items()}
        done, seen, queue = set(), [], [sid for sid, ps in parents.items() if not ps]
        while queue:
            sid = queue.pop(0)
            if sid in done:
                continue
            it = self.k.get_shard_iterator(StreamName="lin", ShardId=sid, ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"]
            records, last = self.read(it, limit=7)
            seen.extend((r["PartitionKey"], r["Data"]) for r in records)
            done.add(sid)
            for child in last.get("ChildShards", []):
                parents[child["ShardId"]] = child["ParentShards"]
                if all(p in done for p in child["ParentShards"]):
                    queue.append(child["ShardId"])
        self.assertEqual(len(seen), len(written))
        self.assertEqual(sorted(seen), sorted(written))
        for key in {k for k, _ in written}:
            self.assertEqual([d for k, d in seen if k == key], [d for k, d in written if k == key], key)


class ExtrasTest(KinesisCase):
    def test_tags(self):
        arn = self.create("tags")
        self.k.add_tags_to_stream(StreamName="tags", Tags={"b": "2", "a": "1", "c": "3"})
        out = self.k.list_tags_for_stream(StreamName="tags", Limit=2)
        self.assertEqual(out["Tags"], [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        self.assertTrue(out["HasMoreTags"])
        out = self.k.list_tags_for_stream(StreamName="tags", ExclusiveStartTagKey="b")
        self.assertEqual((out["Tags"], out["HasMoreTags"]), ([{"Key": "c", "Value": "3"}], False))
        self.k.remove_tags_from_stream(StreamName="tags", TagKeys=["a"])
        self.k.tag_resource(ResourceARN=arn, Tags={"d": "4"})
        self.k.untag_resource(ResourceARN=arn, TagKeys=["b"])
        self.assertEqual(self.k.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "c", "Value": "3"}, {"Key": "d", "Value": "4"}])
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.k.add_tags_to_stream(StreamName="tags", Tags={"t%d" % i: "v" for i in range(49)})
        self.assertIn("cannot have more than 50 tags", message_of(ctx))

    def test_consumers(self):
        arn = self.create("cons")
        c = self.k.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]
        self.assertEqual(c["ConsumerStatus"], "CREATING")
        self.assertRegex(c["ConsumerARN"], r"^%s/consumer/app:\d+$" % arn)
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.k.register_stream_consumer(StreamARN=arn, ConsumerName="app")
        self.settle()
        d = self.k.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]
        self.assertEqual((d["ConsumerStatus"], d["StreamARN"]), ("ACTIVE", arn))
        d = self.k.describe_stream_consumer(StreamARN=arn, ConsumerName="app")["ConsumerDescription"]
        self.assertEqual(d["ConsumerARN"], c["ConsumerARN"])
        for i in range(19):
            self.k.register_stream_consumer(StreamARN=arn, ConsumerName="c%d" % i)
        with self.assertRaises(self.k.exceptions.LimitExceededException):
            self.k.register_stream_consumer(StreamARN=arn, ConsumerName="one-too-many")
        page = self.k.list_stream_consumers(StreamARN=arn, MaxResults=15)
        rest = self.k.list_stream_consumers(StreamARN=arn, NextToken=page["NextToken"])
        self.assertEqual(len(page["Consumers"]) + len(rest["Consumers"]), 20)
        self.k.tag_resource(ResourceARN=c["ConsumerARN"], Tags={"x": "y"})
        self.assertEqual(self.k.list_tags_for_resource(ResourceARN=c["ConsumerARN"])["Tags"], [{"Key": "x", "Value": "y"}])
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.k.delete_stream(StreamName="cons")
        self.k.deregister_stream_consumer(ConsumerARN=c["ConsumerARN"])
        self.assertEqual(self.k.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"][
            "ConsumerStatus"], "DELETING")
        self.settle()
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException):
            self.k.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])
        self.k.delete_stream(StreamName="cons", EnforceConsumerDeletion=True)

    def test_policies_and_account_settings(self):
        arn = self.create("pol")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "kinesis:GetRecords", "Resource": arn}]})
        self.k.put_resource_policy(ResourceARN=arn, Policy=policy)
        self.assertEqual(self.k.get_resource_policy(ResourceARN=arn)["Policy"], policy)
        self.k.delete_resource_policy(ResourceARN=arn)
        self.assertEqual(self.k.get_resource_policy(ResourceARN=arn)["Policy"], "{}")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.put_resource_policy(ResourceARN=arn, Policy="not json")
        self.assertEqual(self.k.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"],
                         "DISABLED")
        out = self.k.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
        self.assertEqual(out["MinimumThroughputBillingCommitment"]["Status"], "ENABLED")
        self.assertEqual(self.k.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"],
                         "ENABLED")


class SubscribeToShardTest(KinesisCase):
    """Enhanced fan-out over HTTP/1.1, read by botocore's event-stream parser. The virtual clock
    drives the quiet-shard events (every 5 s) and the 5-minute end of a subscription."""
    server_args = AccountIsolationTest.server_args

    def consumer(self, arn, name="efo"):
        c = self.k.register_stream_consumer(StreamARN=arn, ConsumerName=name)["Consumer"]
        self.settle()
        return c["ConsumerARN"]

    def subscribe(self, consumer, shard=0, **position):
        r = self.k.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard_id(shard),
                                      StartingPosition=position or {"Type": "TRIM_HORIZON"})
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["content-type"], "application/vnd.amazon.eventstream")
        return iter(r["EventStream"])

    def test_records_are_pushed_as_they_arrive(self):
        arn = self.create("efo")
        c = self.k.register_stream_consumer(StreamARN=arn, ConsumerName="early")["Consumer"]["ConsumerARN"]
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.subscribe(c)  # still CREATING
        self.settle()
        sent = [self.k.put_record(StreamName="efo", Data=b"r%d" % i, PartitionKey="p")["SequenceNumber"]
                for i in range(3)]
        events = self.subscribe(c)
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.subscribe(c)  # one subscription per consumer and shard every 5 s
        first = next(events)["SubscribeToShardEvent"]
        self.assertEqual([r["Data"] for r in first["Records"]], [b"r0", b"r1", b"r2"])
        self.assertEqual([r["SequenceNumber"] for r in first["Records"]], sent)
        self.assertEqual(first["ContinuationSequenceNumber"], sent[-1])
        self.assertEqual(first["MillisBehindLatest"], 0)
        self.assertNotIn("ChildShards", first)

        late = self.k.put_records(StreamName="efo", Records=[{"Data": b"x\x00y", "PartitionKey": "p"}])
        second = next(events)["SubscribeToShardEvent"]
        self.assertEqual([r["Data"] for r in second["Records"]], [b"x\x00y"])
        self.assertEqual(second["ContinuationSequenceNumber"], late["Records"][0]["SequenceNumber"])

        # A quiet shard still hears from the subscription every 5 s, continuation unchanged.
        self.server.advance_clock(5)
        quiet = next(events)["SubscribeToShardEvent"]
        self.assertEqual((quiet["Records"], quiet["ContinuationSequenceNumber"]),
                         ([], late["Records"][0]["SequenceNumber"]))

        # Resuming after the continuation skips what was read.
        self.server.advance_clock(300)
        self.assertEqual(list(events), [])  # ends after 5 minutes
        self.k.put_record(StreamName="efo", Data=b"after", PartitionKey="p")
        resumed = next(self.subscribe(c, Type="AFTER_SEQUENCE_NUMBER",
                                      SequenceNumber=quiet["ContinuationSequenceNumber"]))
        self.assertEqual([r["Data"] for r in resumed["SubscribeToShardEvent"]["Records"]], [b"after"])

    def test_starting_positions_and_errors(self):
        arn = self.create("pos", 2)
        c = self.consumer(arn)
        seqs = [self.k.put_record(StreamName="pos", Data=b"%d" % i, PartitionKey="k",
                                  ExplicitHashKey="0")["SequenceNumber"] for i in range(4)]
        at = next(self.subscribe(c, Type="AT_SEQUENCE_NUMBER", SequenceNumber=seqs[2]))
        self.assertEqual([r["Data"] for r in at["SubscribeToShardEvent"]["Records"]], [b"2", b"3"])
        self.server.advance_clock(5)
        latest = next(self.subscribe(c, Type="LATEST"))["SubscribeToShardEvent"]
        self.assertEqual(latest["Records"], [])
        self.server.advance_clock(5)
        stamp = self.k.get_records(ShardIterator=self.iterator("pos"))["Records"][1]["ApproximateArrivalTimestamp"]
        ts = next(self.subscribe(c, Type="AT_TIMESTAMP", Timestamp=stamp))["SubscribeToShardEvent"]
        self.assertGreaterEqual(len(ts["Records"]), 3)

        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.subscribe(c, shard=1, Type="AT_SEQUENCE_NUMBER")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as ctx:
            self.subscribe(c, shard=1, Type="AT_SEQUENCE_NUMBER", SequenceNumber=seqs[0])
        self.assertIn("Invalid StartingSequenceNumber", message_of(ctx))
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException) as ctx:
            self.subscribe(c, shard=7)
        self.assertEqual(message_of(ctx), f"Shard {shard_id(7)} in stream pos under account {ACCOUNT} does not exist")
        other = self.server.client("kinesis", key="other", secret="other")
        with self.assertRaises(other.exceptions.ResourceNotFoundException):
            other.subscribe_to_shard(ConsumerARN=c, ShardId=shard_id(0), StartingPosition={"Type": "LATEST"})

    def test_a_closed_shard_ends_with_its_children(self):
        arn = self.create("split")
        c = self.consumer(arn)
        self.k.put_record(StreamName="split", Data=b"before", PartitionKey="p")
        events = self.subscribe(c)
        self.assertEqual(len(next(events)["SubscribeToShardEvent"]["Records"]), 1)
        self.k.split_shard(StreamName="split", ShardToSplit=shard_id(0), NewStartingHashKey=str(2 ** 127))
        last = next(events)["SubscribeToShardEvent"]
        self.assertEqual(last["Records"], [])
        self.assertEqual(sorted(ch["ShardId"] for ch in last["ChildShards"]), [shard_id(1), shard_id(2)])
        self.assertEqual(last["ChildShards"][0]["ParentShards"], [shard_id(0)])
        self.assertNotIn("ContinuationSequenceNumber", last)
        self.assertEqual(list(events), [])

    def test_a_deleted_stream_ends_the_subscription_with_an_exception_event(self):
        from botocore.exceptions import EventStreamError
        arn = self.create("gone")
        c = self.consumer(arn)
        events = self.subscribe(c, Type="LATEST")
        next(events)
        self.k.delete_stream(StreamName="gone", EnforceConsumerDeletion=True)
        self.settle()
        with self.assertRaises(EventStreamError) as ctx:
            next(events)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ResourceNotFoundException")


class ThroughputLimitTest(KinesisCase):
    """--kinesis-limits: AWS's per-shard rates on the virtual clock, which stands still between
    calls unless the test moves it."""
    server_args = ["--clock", "virtual", "--kinesis-limits", "on", "--kinesis-shard-limit", "3"]

    def test_writes_past_the_shard_rate_fail_per_record(self):
        self.create("w")
        tiny = [{"Data": b"x", "PartitionKey": "p"} for _ in range(500)]
        for _ in range(2):
            self.assertEqual(self.k.put_records(StreamName="w", Records=tiny)["FailedRecordCount"], 0)
        out = self.k.put_records(StreamName="w", Records=tiny[:10])
        self.assertEqual(out["FailedRecordCount"], 10)
        self.assertEqual(out["Records"][0]["ErrorCode"], "ProvisionedThroughputExceededException")
        self.assertEqual(out["Records"][0]["ErrorMessage"],
                         f"Rate exceeded for shard {shard_id(0)} in stream w under account {ACCOUNT}.")
        with self.assertRaises(self.k.exceptions.ProvisionedThroughputExceededException):
            self.k.put_record(StreamName="w", Data=b"x", PartitionKey="p")
        self.server.advance_clock(0.5)  # half a second refills 500 records
        self.assertEqual(self.k.put_records(StreamName="w", Records=tiny[:400])["FailedRecordCount"], 0)
        out = self.k.put_records(StreamName="w", Records=tiny[:200])
        self.assertEqual(out["FailedRecordCount"], 100)
        self.assertEqual([("ErrorCode" in r) for r in out["Records"]], [False] * 100 + [True] * 100)

        # 1 MiB/s of data: one full-size record (its key counts too, so it overdraws the second's
        # allowance), then nothing until the clock moves.
        self.server.advance_clock(1)
        big = b"b" * (1024 * 1024)
        self.k.put_record(StreamName="w", Data=big, PartitionKey="p")
        with self.assertRaises(self.k.exceptions.ProvisionedThroughputExceededException):
            self.k.put_record(StreamName="w", Data=b"more", PartitionKey="p")
        self.server.advance_clock(1)
        self.k.put_record(StreamName="w", Data=b"more", PartitionKey="p")
        # Only written records are readable: 1000 + 500 + 1 + 1.
        self.server.advance_clock(1)
        records, _ = self.read(self.iterator("w"))
        self.assertEqual(len(records), 1502)
        self.assertEqual(self.k.describe_limits()["ShardLimit"], 3)

    def test_reads_past_five_calls_or_2_mib_per_second_are_refused(self):
        self.create("r")
        it = self.iterator("r")
        for _ in range(5):
            self.k.get_records(ShardIterator=it)
        with self.assertRaises(self.k.exceptions.ProvisionedThroughputExceededException) as ctx:
            self.k.get_records(ShardIterator=it)
        self.assertEqual(message_of(ctx), f"Rate exceeded for shard {shard_id(0)} in stream r under account {ACCOUNT}.")
        self.server.advance_clock(1)
        self.k.get_records(ShardIterator=it)

        # Reading 5 MiB at once overdraws the 2 MiB/s allowance: the next calls wait it out.
        chunk = b"d" * (1000 * 1024)
        for _ in range(5):
            self.k.put_record(StreamName="r", Data=chunk, PartitionKey="p")
            self.server.advance_clock(1)
        self.assertEqual(len(self.k.get_records(ShardIterator=it)["Records"]), 5)
        with self.assertRaises(self.k.exceptions.ProvisionedThroughputExceededException):
            self.k.get_records(ShardIterator=it)
        self.server.advance_clock(1)
        with self.assertRaises(self.k.exceptions.ProvisionedThroughputExceededException):
            self.k.get_records(ShardIterator=it)
        self.server.advance_clock(2)
        self.k.get_records(ShardIterator=it)


class RestartTest(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]

    def test_records_and_iterators_survive_a_restart(self):
        self.server.sync_clock()
        k = self.server.client("kinesis")
        k.create_stream(StreamName="durable", ShardCount=2)
        self.server.advance_clock(1)
        k.put_records(StreamName="durable", Records=[{"Data": b"r%d" % i, "PartitionKey": "p%d" % i}
                                                     for i in range(20)])
        k.add_tags_to_stream(StreamName="durable", Tags={"keep": "me"})
        it = k.get_shard_iterator(StreamName="durable", ShardId=shard_id(0),
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        first = k.get_records(ShardIterator=it, Limit=3)
        k.create_stream(StreamName="pending", ShardCount=1)  # still CREATING at the restart
        self.server.restart(graceful=False)
        self.server.sync_clock()
        k = self.server.client("kinesis")
        rest = k.get_records(ShardIterator=first["NextShardIterator"])
        again = k.get_records(ShardIterator=it)
        self.assertEqual(first["Records"] + rest["Records"], again["Records"])
        total = 0
        for i in range(2):
            sit = k.get_shard_iterator(StreamName="durable", ShardId=shard_id(i),
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            total += len(k.get_records(ShardIterator=sit)["Records"])
        self.assertEqual(total, 20)
        seq = k.put_record(StreamName="durable", Data=b"after", PartitionKey="p0")["SequenceNumber"]
        self.assertGreater(int(seq), int(again["Records"][-1]["SequenceNumber"]) if again["Records"] else 0)
        self.assertEqual(k.list_tags_for_stream(StreamName="durable")["Tags"], [{"Key": "keep", "Value": "me"}])
        # The restarted clock starts at the real time, which may still be before the due time
        # (the first run's clock was advanced): move well past it.
        self.server.advance_clock(10)
        self.assertEqual(k.describe_stream(StreamName="pending")["StreamDescription"]["StreamStatus"], "ACTIVE")


# ---------------------------------------------------------------------------- CBOR
def cbor_encode(v):
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(fmt)):
                return bytes([major << 5 | extra]) + struct.pack(fmt, n)
        raise ValueError(n)
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor_encode(x) for x in v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor_encode(k) + cbor_encode(x) for k, x in v.items())
    raise TypeError(type(v))


def cbor_decode(data):
    def item(i):
        ib = data[i]
        major, info = ib >> 5, ib & 31
        i += 1
        if major == 7:
            if info == 20:
                return False, i
            if info == 21:
                return True, i
            if info in (22, 23):
                return None, i
            if info == 25:
                h = struct.unpack(">e", data[i:i + 2])[0]
                return h, i + 2
            if info == 26:
                return struct.unpack(">f", data[i:i + 4])[0], i + 4
            if info == 27:
                return struct.unpack(">d", data[i:i + 8])[0], i + 8
            raise ValueError("simple %d" % info)
        if info < 24:
            n = info
        elif info == 31:
            n = None
        else:
            size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
            n = int.from_bytes(data[i:i + size], "big")
            i += size
        if major == 0:
            return n, i
        if major == 1:
            return -1 - n, i
        if major in (2, 3):
            if n is None:
                parts = []
                while data[i] != 0xFF:
                    part, i = item(i)
                    parts.append(part)
                return (b"" if major == 2 else "").join(parts), i + 1
            raw = data[i:i + n]
            return (raw if major == 2 else raw.decode()), i + n
        if major == 4:
            out = []
            while (n is None and data[i] != 0xFF) or (n is not None and len(out) < n):
                x, i = item(i)
                out.append(x)
            return out, i + (1 if n is None else 0)
        if major == 5:
            out, count = {}, 0
            while (n is None and data[i] != 0xFF) or (n is not None and count < n):
                key, i = item(i)
                out[key], i = item(i)
                count += 1
            return out, i + (1 if n is None else 0)
        if major == 6:
            x, i = item(i)
            return ("tag", n, x), i
        raise ValueError(major)
    v, end = item(0)
    assert end == len(data), (end, len(data))
    return v


class CborClientTest(KinesisCase):
    def cbor_call(self, operation, params):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        body = cbor_encode(params)
        url = self.server.http_url + "/"
        req = AWSRequest("POST", url, data=body, headers={
            "Content-Type": "application/x-amz-cbor-1.1",
            "X-Amz-Target": "Kinesis_20131202." + operation})
        SigV4Auth(Credentials(fh.DEFAULT_KEY, fh.DEFAULT_SECRET), "kinesis", REGION).add_auth(req)
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
            resp = conn.getresponse()
            raw = resp.read()
            self.assertEqual(resp.getheader("Content-Type"), "application/x-amz-cbor-1.1")
            return resp.status, cbor_decode(raw) if raw else {}
        finally:
            conn.close()

    def test_cbor_answers_match_json(self):
        self.create("cbor", 2)
        status, out = self.cbor_call("PutRecord", {"StreamName": "cbor", "Data": b"\x00\x01binary\xff",
                                                   "PartitionKey": "pk"})
        self.assertEqual(status, 200, out)
        self.assertRegex(out["SequenceNumber"], r"^\d{56}$")
        shard = out["ShardId"]
        it = self.k.get_shard_iterator(StreamName="cbor", ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"]
        status, cbor_records = self.cbor_call("GetRecords", {"ShardIterator": it})
        self.assertEqual(status, 200, cbor_records)
        json_records = self.k.get_records(ShardIterator=it)
        self.assertEqual(len(cbor_records["Records"]), 1)
        c, j = cbor_records["Records"][0], json_records["Records"][0]
        self.assertEqual(c["Data"], j["Data"])
        self.assertEqual(c["Data"], b"\x00\x01binary\xff")
        self.assertEqual(c["SequenceNumber"], j["SequenceNumber"])
        self.assertEqual(c["PartitionKey"], j["PartitionKey"])
        tag, number, value = c["ApproximateArrivalTimestamp"]
        self.assertEqual((tag, number), ("tag", 1))
        # Kinesis' CBOR timestamps are epoch milliseconds (the Java SDK reads them so).
        self.assertAlmostEqual(value / 1000.0, j["ApproximateArrivalTimestamp"].timestamp(), places=3)
        self.assertEqual(cbor_records["MillisBehindLatest"], json_records["MillisBehindLatest"])

        status, summary = self.cbor_call("DescribeStreamSummary", {"StreamName": "cbor"})
        self.assertEqual(status, 200)
        expected = self.k.describe_stream_summary(StreamName="cbor")["StreamDescriptionSummary"]
        for field in ("StreamName", "StreamARN", "StreamId", "StreamStatus", "RetentionPeriodHours",
                      "OpenShardCount", "EncryptionType", "StreamModeDetails"):
            self.assertEqual(summary["StreamDescriptionSummary"][field], expected[field], field)
        status, shards = self.cbor_call("ListShards", {"StreamName": "cbor"})
        self.assertEqual(shards["Shards"], self.k.list_shards(StreamName="cbor")["Shards"])

        status, err = self.cbor_call("DescribeStream", {"StreamName": "missing"})
        self.assertEqual(status, 400)
        self.assertEqual(err["__type"], "ResourceNotFoundException")
        self.assertEqual(err["message"], f"Stream missing under account {ACCOUNT} not found.")


# ---------------------------------------------------------------------------- AWS CLI
def find_cli():
    for cmd in (["/usr/bin/aws"], [sys.executable, "-m", "awscli"], [shutil.which("aws") or "aws"]):
        try:
            r = subprocess.run(cmd + ["--version"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return cmd
    return None


class CliTest(KinesisCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cli = find_cli()
        cls.home = tempfile.mkdtemp(prefix="fogbank-kinesis-cli-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.home, ignore_errors=True)
        super().tearDownClass()

    def aws(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": REGION,
                    "AWS_CONFIG_FILE": os.path.join(self.home, "config"), "AWS_PAGER": "",
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "credentials"),
                    "AWS_MAX_ATTEMPTS": "1", "HOME": self.home})
        cmd = self.cli + list(args) + ["--endpoint-url", self.server.http_url, "--output", "json"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)

    def test_cli_calls(self):
        if not self.cli:
            self.skipTest("no AWS CLI installed")
        r = self.aws("kinesis", "create-stream", "--stream-name", "cli", "--shard-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.settle()
        r = self.aws("kinesis", "describe-stream-summary", "--stream-name", "cli")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["StreamDescriptionSummary"]["StreamStatus"], "ACTIVE")
        # CLI v2 reads blobs as base64 by default, v1 as text: pass base64 and say so for v2.
        extra = ["--cli-binary-format", "raw-in-base64-out"] if self.cli == ["/usr/bin/aws"] else []
        r = self.aws("kinesis", "put-record", "--stream-name", "cli", "--partition-key", "k", "--data", "hello", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["ShardId"], shard_id(0))
        r = self.aws("kinesis", "list-shards", "--stream-name", "cli")
        self.assertEqual([s["ShardId"] for s in json.loads(r.stdout)["Shards"]], [shard_id(0)])
        r = self.aws("kinesis", "describe-stream", "--stream-name", "missing")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ResourceNotFoundException", r.stderr)


if __name__ == "__main__":
    unittest.main()
