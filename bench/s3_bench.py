#!/usr/bin/env python3
"""S3 throughput and latency: fogbank next to moto_server, measured in the same run.

    bench/s3_bench.py [--no-build] [--duration 10] [--moto-duration 5] [--connections 8]
                      [--large-size 1073741824] [--skip-moto]

Workloads (fogbank-load, SigV4-signed, keep-alive connections):
  s3-put / s3-get        4 KiB objects: requests/s, p50/p99 latency
  s3-put-large / -get    one 1 GiB object streamed: MB/s and the server's peak RSS (VmHWM)
  encrypted              the large PUT and GET on a plain and an --encrypt-at-rest all fogbank,
                         interleaved for --encrypted-rounds rounds; medians compared (its rows
                         put the unencrypted median in the peer column)
Targets: 4 KiB requests/s >= 50x moto's; large PUT >= 70% of this machine's single-core MD5
speed (openssl speed -evp md5, largest block); server memory flat during large transfers
(peak RSS grows by less than 64 MiB, whatever the object size); encrypted large PUT and GET
>= 80% of unencrypted.
Results go to bench/results/s3-<time>.json.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

import bench_common as bc

BUCKET = "bench"
SMALL = 4096
FLAT_MEMORY_MIB = 64


def md5_bytes_per_second():
    """Single-core MD5 speed at openssl's largest block size, bytes/s (None if unavailable)."""
    try:
        out = subprocess.run(["openssl", "speed", "-seconds", "2", "-evp", "md5"], capture_output=True,
                             text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        if line.startswith("md5"):
            # "md5  110406.80k ... 784746.11k": the last column is the largest block, in 1000s of bytes/s.
            columns = re.findall(r"([\d.]+)k", line)
            if columns:
                return float(columns[-1]) * 1000.0
    return None


def run_server(server, load, args, duration, large_size):
    results = {}
    try:
        server.client("s3").create_bucket(Bucket=BUCKET)
    except Exception as e:  # noqa: BLE001 - any failure means S3 is not usable on this server
        return {"unavailable": "CreateBucket failed: %s" % e}
    common = dict(connections=args.connections, duration=duration, warmup=args.warmup, bucket=BUCKET)
    print("  %s: s3-put" % server.name, flush=True)
    results["s3-put"] = bc.run_load(load, server, "s3-put", object_size=SMALL, **common)
    print("  %s: s3-get" % server.name, flush=True)
    results["s3-get"] = bc.run_load(load, server, "s3-get", object_size=SMALL, objects=256, **common)
    results.update(run_large(server, load, large_size))
    return results


def run_large(server, load, large_size):
    results = {}
    for workload in ("s3-put-large", "s3-get-large"):
        print("  %s: %s (%d MiB)" % (server.name, workload, large_size >> 20), flush=True)
        baseline = server.status_kib("VmRSS")
        reset = server.reset_peak_rss()
        r = bc.run_load(load, server, workload, object_size=large_size, bucket=BUCKET)
        r["rss_before_kib"] = baseline
        r["peak_rss_kib"] = server.status_kib("VmHWM")
        r["peak_rss_is_since_start"] = not reset  # without clear_refs, VmHWM is the lifetime peak
        r["rss_growth_mib"] = (r["peak_rss_kib"] - baseline) / 1024.0
        results[workload] = r
    return results


def run_encrypted(fogbank, load, large_size, rounds):
    """The large PUT and GET on a plain and an --encrypt-at-rest all server, alternating between
    them for `rounds` rounds: one large transfer is a single sample and a busy VM moves it by 30%,
    so the ratio is taken between medians of interleaved runs (both servers see the same noise)."""
    plain = bc.start_fogbank(fogbank)
    encrypted = bc.start_fogbank(fogbank, ["--encrypt-at-rest", "all"])
    try:
        print("fogbank plain on port %d, --encrypt-at-rest all on port %d, %d interleaved rounds"
              % (plain.port, encrypted.port, rounds), flush=True)
        for server in (plain, encrypted):
            server.client("s3").create_bucket(Bucket=BUCKET)
        samples = {kind: {w: [] for w in ("s3-put-large", "s3-get-large")} for kind in ("plain", "encrypted")}
        for _ in range(rounds):
            for w in ("s3-put-large", "s3-get-large"):
                for kind, server in (("plain", plain), ("encrypted", encrypted)):
                    r = bc.run_load(load, server, w, object_size=large_size, bucket=BUCKET)
                    samples[kind][w].append(bc.value(r, "mb_per_s"))
        out = {"rounds": rounds, "samples_mb_per_s": samples}
        for kind in ("plain", "encrypted"):
            out[kind] = {w: {"mb_per_s": statistics.median(v) if None not in v else None}
                         for w, v in samples[kind].items()}
        return out
    finally:
        plain.close()
        encrypted.close()


def rows_for(fog, moto, md5, encrypted=None):
    rows = []

    def add(metric, f, m, higher_is_better=True, target=None, met=None):
        rows.append({"metric": metric, "fogbank": f, "moto": m,
                     "ratio": bc.ratio(f, m, higher_is_better), "target": target, "met": met})

    for w in ("s3-put", "s3-get"):
        f_rate, m_rate = bc.value(fog.get(w), "ops_per_s"), bc.value(moto.get(w), "ops_per_s")
        r = bc.ratio(f_rate, m_rate)
        add("%s 4KiB req/s" % w, f_rate, m_rate, target=">= 50x moto", met=None if r is None else r >= 50)
        for q in ("p50", "p99"):
            add("%s %s ms" % (w, q), _ms(bc.value(fog.get(w), "latency_us", q)),
                _ms(bc.value(moto.get(w), "latency_us", q)), higher_is_better=False)
    put_mb = bc.value(fog.get("s3-put-large"), "mb_per_s")
    md5_mb = md5 / 1e6 if md5 else None
    add("s3-put-large MB/s", put_mb, bc.value(moto.get("s3-put-large"), "mb_per_s"),
        target=">= %s MB/s (70%% MD5)" % bc.fmt(0.7 * md5_mb) if md5_mb else "70% MD5",
        met=None if put_mb is None or md5_mb is None else put_mb >= 0.7 * md5_mb)
    add("s3-get-large MB/s", bc.value(fog.get("s3-get-large"), "mb_per_s"),
        bc.value(moto.get("s3-get-large"), "mb_per_s"))
    for w in ("s3-put-large", "s3-get-large"):
        if encrypted is None:
            break
        enc_mb = bc.value(encrypted["encrypted"].get(w), "mb_per_s")
        plain_mb = bc.value(encrypted["plain"].get(w), "mb_per_s")
        r = bc.ratio(enc_mb, plain_mb)
        add("%s MB/s encrypted, median (peer: unencrypted)" % w, enc_mb, plain_mb, target=">= 0.8x unencrypted",
            met=None if r is None else r >= 0.8)
    for w in ("s3-put-large", "s3-get-large"):
        f_peak, m_peak = _peak_mib(fog.get(w)), _peak_mib(moto.get(w))
        growth = bc.value(fog.get(w), "rss_growth_mib") if f_peak is not None else None
        add("%s peak RSS MiB" % w, f_peak, m_peak, higher_is_better=False,
            target="+< %d MiB" % FLAT_MEMORY_MIB, met=None if growth is None else growth < FLAT_MEMORY_MIB)
    return rows


def _ms(us):
    return None if us is None else us / 1000.0


def _peak_mib(result):
    if not result or "failed" in result or result.get("errors"):
        return None
    return result.get("peak_rss_kib", 0) / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(bc.REPO, "build-bench"))
    ap.add_argument("--no-build", action="store_true", help="use the binaries already in --build-dir")
    ap.add_argument("--duration", type=float, default=10, help="fogbank timed seconds per workload")
    ap.add_argument("--moto-duration", type=float, default=5, help="moto timed seconds per workload")
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--large-size", type=int, default=1 << 30)
    ap.add_argument("--skip-moto", action="store_true")
    ap.add_argument("--encrypted-rounds", type=int, default=5,
                    help="interleaved plain/encrypted rounds of the large PUT and GET (medians compared)")
    args = ap.parse_args()

    if args.no_build:
        fogbank = os.path.join(args.build_dir, "server", "fogbank")
        load = os.path.join(args.build_dir, "bench", "fogbank-load")
    else:
        fogbank, load = bc.build(args.build_dir)
    moto_bin = None if args.skip_moto else bc.find_moto()

    before = bc.machine_state()
    print("single-core MD5 speed (openssl speed -evp md5) ...", flush=True)
    md5 = md5_bytes_per_second()
    document = {"machine_before": before, "md5_bytes_per_s": md5, "connections": args.connections,
                "large_size": args.large_size}

    fog, moto = bc.measure_side_by_side(
        fogbank, moto_bin,
        lambda server, name: run_server(server, load, args,
                                        args.duration if name == "fogbank" else args.moto_duration,
                                        args.large_size))
    document["fogbank"], document["moto"] = fog, moto
    document["fogbank_encrypted"] = encrypted = run_encrypted(fogbank, load, args.large_size, args.encrypted_rounds)
    after = bc.machine_state()
    document["machine_after"] = after

    print()
    bc.print_failures("S3", fog, moto)
    document["rows"] = rows_for(fog if "unavailable" not in fog else {}, moto if "unavailable" not in moto else {}, md5,
                                encrypted)
    bc.print_table(document["rows"])
    print(bc.noise_note(before, after))
    print("results: %s" % bc.write_results("s3", document))


if __name__ == "__main__":
    sys.exit(main())
