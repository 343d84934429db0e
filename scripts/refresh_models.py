#!/usr/bin/env python3
"""Refreshes protocol/models/*.json, the trimmed AWS service models fogbank's codecs are built
from, out of an installed botocore (pip's botocore for the current models; Debian's
python3-botocore for SQS's legacy Query model, which newer botocore no longer ships).

Trimming keeps what the wire needs (shapes, members, locations, traits, constraints, errors) and
drops documentation, examples and endpoint rules, so the copies stay small enough to embed.

    python3 scripts/refresh_models.py [--botocore DIR] [--legacy-botocore DIR]
"""
import argparse
import gzip
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "protocol", "models")

# our id -> (botocore service dir, which botocore)
MODELS = {
    "sts": ("sts", "current"),
    "sqs": ("sqs", "current"),
    "sqs-query": ("sqs", "legacy"),
    "sns": ("sns", "current"),
    "kinesis": ("kinesis", "current"),
    "firehose": ("firehose", "current"),
    "s3": ("s3", "current"),
}

DROP_KEYS = {"documentation", "documentationUrl", "examples", "deprecatedMessage", "box",
             "contextParam", "staticContextParams", "endpointdiscovery", "endpointoperation",
             "requestcompression", "httpChecksum", "authtype", "auth", "unsignedPayload",
             "operationContextParams", "alias"}


def trim(node):
    if isinstance(node, dict):
        return {k: trim(v) for k, v in node.items() if k not in DROP_KEYS}
    if isinstance(node, list):
        return [trim(v) for v in node]
    return node


def load(data_dir, service):
    svc_dir = os.path.join(data_dir, service)
    version = sorted(os.listdir(svc_dir))[-1]
    base = os.path.join(svc_dir, version, "service-2.json")
    if os.path.exists(base + ".gz"):
        with gzip.open(base + ".gz", "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(base, encoding="utf-8") as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--botocore", help="botocore package dir (default: the imported one)")
    ap.add_argument("--legacy-botocore", default="/usr/lib/python3/dist-packages/botocore")
    args = ap.parse_args()
    current = args.botocore
    if current is None:
        import botocore
        current = os.path.dirname(botocore.__file__)
    dirs = {"current": os.path.join(current, "data"),
            "legacy": os.path.join(args.legacy_botocore, "data")}
    os.makedirs(OUT, exist_ok=True)
    for model_id, (service, which) in MODELS.items():
        model = trim(load(dirs[which], service))
        if model_id == "sqs-query" and model["metadata"].get("protocol") != "query":
            sys.exit("the legacy botocore's SQS model is not the Query one: pass --legacy-botocore")
        path = os.path.join(OUT, model_id + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(model, f, separators=(",", ":"), ensure_ascii=True)
            f.write("\n")
        print(f"{path}: {len(model['operations'])} operations, {len(model['shapes'])} shapes")


if __name__ == "__main__":
    main()
