#!/usr/bin/env python3
"""Generates tests/data/codec/<model>.json: golden wire fixtures for fogbank's model-driven codecs.

For every operation of the models below, a deterministic sample input is built from the
operation's input shape (every member filled, optional ones included; lists of 2 items, maps of
2 entries; enums, min/max lengths and values and the patterns of the models respected; blobs
b"\\x00\\x01binary\\xff"; timestamps alternating a whole second and one with milliseconds) and
serialised by botocore's own serializer, then prepared exactly as botocore would send it. The
sample outputs and modeled errors of each operation are recorded too.

    model       protocol(s) of the fixtures     which botocore
    sts         query                           pip's (the model file equals its sts model)
    sqs         json (1.0, awsQueryCompatible)  pip's
    sqs-query   query                           Debian's older botocore's SQS model, loaded from
                                                protocol/models/sqs-query.json (pip's serializer)
    sns         query                           pip's
    kinesis     json (1.1) and cbor             pip's; CBOR encoded here, the way the AWS SDK for
                                                Java (v1 and v2) writes application/x-amz-cbor-1.1

Every model is loaded from protocol/models/<model>.json (the same trimmed files the C++ codecs
embed) into botocore.model.ServiceModel. A warning is printed when the installed botocore's
model differs from the file (then refresh the models first: scripts/refresh_models.py).

Regenerate (needs pip's botocore, >= 1.36 for timestamp_precision; no network):

    python3 tests/tools/gen_codec_fixtures.py            # writes tests/data/codec/*.json
    python3 tests/tools/gen_codec_fixtures.py --check    # exits 1 when the files are stale

Fixture file layout (one per model):

    {"model", "protocol", "botocore", "conventions",
     "requests": [{"model", "operation", "protocol", "variant", "input",
                   "request": {"method", "url_path", "query_string", "headers",
                               "body" | "body_base64"}}],
     "outputs":  [{"model", "operation", "protocols", "output"}],
     "errors":   [{"model", "operation", "protocols", "shape", "code", "message",
                   "http_status", "sender_fault"}],
     "skipped":  [{"operation", "what", "why"}]}

"input" is the value a codec must decode the request into, "output" the value it is asked to
encode; both are JSON with two tags: {"$blob": "<base64>"} for blobs and {"$ts": <epoch seconds>}
for timestamps. Structures are objects keyed by member name (not wire name), in model order.

Request variants:
  "default"  botocore's defaults: Query timestamps are ISO 8601 with microseconds; JSON ones are
             integer epoch seconds (botocore truncates the milliseconds, so "input" has whole
             seconds there).
  "ms"       JSON only, for operations with a timestamp in their input: botocore's millisecond
             precision (fractional epoch seconds), as some clients send.
  "java"     CBOR as the Java SDK writes it (Jackson's CBORGenerator): maps and arrays of
             indefinite length, minimal integers, text strings, blobs as byte strings, and
             timestamps as tag 1 over an integer of epoch MILLISECONDS (the Java SDK's
             SdkCborGenerator writes Instant.toEpochMilli(), and its CBOR protocol factory reads
             payload timestamps as UNIX_TIMESTAMP_MILLIS).
  "definite" CBOR with definite-length maps and arrays and 64-bit longs, same values.
  "empty-lists"  Query only, for inputs with lists that may be empty: those lists are [], which
             botocore sends as "Name=" (an empty value); they decode to [].

Outputs and errors list the wire protocols their responses are checked in ("protocols": the
model's, plus "cbor" for Kinesis). "code" of an error is what a client reports as its code: the
Query code (the error trait's "code", else the shape name) for Query services and
awsQueryCompatible JSON services (which send it in x-amzn-query-error), else the shape name (JSON
"__type"). "http_status" and "sender_fault" come from the error trait, else from the shape's
"fault" flag (a server fault is 500/Receiver, anything else 400/Sender).

Strings without a pattern carry characters that need escaping on every wire (+ & = % / ? < > " '
tab CR LF, 2- and 3-byte UTF-8, a trailing space); patterned ones come from the PATTERNED table.
"""

import argparse
import base64
import datetime
import json
import os
import re
import struct
import sys
from urllib.parse import urlsplit

import botocore
import botocore.model
import botocore.serialize
import botocore.session
from botocore.awsrequest import create_request_object, prepare_request_dict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS_DIR = os.path.join(ROOT, "protocol", "models")
OUT_DIR = os.path.join(ROOT, "tests", "data", "codec")
ENDPOINT = "http://localhost:4566"

# our model id -> (botocore service name, compare with the installed botocore's model)
MODELS = {
    "sts": ("sts", True),
    "sqs": ("sqs", True),
    "sqs-query": ("sqs", False),
    "sns": ("sns", True),
    "kinesis": ("kinesis", True),
}
CBOR_MODELS = {"kinesis"}

SAMPLE_BLOB = b"\x00\x01binary\xff"
# Timestamps alternate: a whole second, then one with milliseconds (125 ms: exact in binary).
TS_WHOLE = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
TS_MILLIS = datetime.datetime(2024, 1, 2, 3, 4, 6, 125000, tzinfo=datetime.timezone.utc)

# Samples for the shapes whose pattern a generic string cannot satisfy (index -> value).
PATTERNED = {
    # STS
    "accessKeyIdType": lambda i: f"ASIAFOGBANKSAMPLE{i:03d}",
    "arnType": lambda i: f"arn:aws:iam::123456789012:role/fogbank-role-{i}",
    "assumedRoleIdType": lambda i: f"AROAFOGBANK{i}:session-{i}",
    "externalIdType": lambda i: f"external+id=,.@:/-{i}",
    "federatedIdType": lambda i: f"123456789012:fed-user-{i}",
    "roleSessionNameType": lambda i: f"session.name-{i}@fogbank",
    "serialNumberType": lambda i: f"arn:aws:iam::123456789012:mfa/user-{i}",
    "sessionPolicyDocumentType":
        lambda i: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",'
                  f'"Resource":"*","Sid":"s {i} & <x>"}}]}}',
    "sourceIdentityType": lambda i: f"source-id.{i}@fogbank",
    "tagKeyType": lambda i: f"Project:Key-{i}",
    "tagValueType": lambda i: f"fogbank value {i}",
    "tokenCodeType": lambda i: f"12345{i % 10}",
    "unrestrictedSessionPolicyDocumentType":
        lambda i: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*",'
                  f'"Resource":"*","Sid":"u{i}"}}]}}',
    "userNameType": lambda i: f"user.name-{i}",
    # SNS
    "Iso2CountryCode": lambda i: ["US", "DE"][i % 2],
    "OTPCode": lambda i: f"12345{i % 10}",
    "PhoneNumberString": lambda i: f"+1555555010{i % 10}",
    # Kinesis
    "ConsumerARN": lambda i: ("arn:aws:kinesis:us-east-1:123456789012:stream/fogbank-stream/"
                              f"consumer/consumer-{i}:1704164645"),
    "ConsumerName": lambda i: f"consumer_{i}.name-x",
    "HashKey": lambda i: ["170141183460469231731687303715884105728", "0"][i % 2],
    "ResourceARN": lambda i: f"arn:aws:kinesis:us-east-1:123456789012:stream/fogbank-stream-{i}",
    "SequenceNumber": lambda i: f"4954698668313554428650745793632162567570019247115678515{i % 10}",
    "ShardId": lambda i: f"shardId-00000000000{i % 10}",
    "StreamARN": lambda i: f"arn:aws:kinesis:us-east-1:123456789012:stream/fogbank-stream-{i}",
    "StreamId": lambda i: f"abcdefghij0123456789-ab{i % 10}",
    "StreamName": lambda i: f"fogbank_stream.{i}-x",
}


def warn(msg):
    print(f"gen_codec_fixtures: {msg}", file=sys.stderr)


# --------------------------------------------------------------------------- sample values

class Sampler:
    """Builds deterministic sample values for shapes. Booleans and timestamps alternate so both
    forms show up; the state is per operation, so one operation's sample never depends on
    another's."""

    def __init__(self, ms_first=False):
        self.bools = 0
        self.stamps = 1 if ms_first else 0

    def value(self, shape, name, idx, stack=()):
        kind = shape.type_name
        if kind == "structure":
            return self.structure(shape, idx, stack)
        if kind == "list":
            count = clamp_count(shape, 2)
            return [self.value(shape.member, name, idx * 2 + i, stack) for i in range(count)]
        if kind == "map":
            count = clamp_count(shape, 2)
            out = {}
            for i in range(count):
                key = self.key(shape.key, name, idx * 2 + i)
                out[key] = self.value(shape.value, name, idx * 2 + i, stack)
            return out
        if kind == "string":
            return self.string(shape, name, idx)
        if kind in ("integer", "long"):
            return self.integer(shape, idx)
        if kind in ("float", "double"):
            return 1.5 + idx
        if kind == "boolean":
            self.bools += 1
            return self.bools % 2 == 1
        if kind == "blob":
            return SAMPLE_BLOB if idx == 0 else SAMPLE_BLOB + bytes([idx % 256])
        if kind == "timestamp":
            self.stamps += 1
            fmt = shape.serialization.get("timestampFormat")
            if fmt == "rfc822" or self.stamps % 2 == 1:
                return TS_WHOLE
            return TS_MILLIS
        raise ValueError(f"no sample for shape type {kind} ({shape.name})")

    def structure(self, shape, idx, stack):
        if shape.name in stack:
            return None  # recursive shape: stop here
        stack = stack + (shape.name,)
        out = {}
        members = list(shape.members.items())
        if shape.is_tagged_union:
            members = members[idx % len(members):][:1]
        for member_name, member_shape in members:
            if member_shape.serialization.get("location"):
                continue  # headers / URI members: none in the RPC protocols sampled here
            if member_shape.serialization.get("eventstream"):
                continue
            v = self.value(member_shape, member_name, idx, stack)
            if v is not None:
                out[member_name] = v
        return out

    def key(self, shape, name, idx):
        if shape.enum:
            return shape.enum[idx % len(shape.enum)]
        if shape.name in PATTERNED:
            return PATTERNED[shape.name](idx)
        return fit_length(shape, f"{name}.key-{idx}")

    def string(self, shape, name, idx):
        if shape.enum:
            return shape.enum[idx % len(shape.enum)]
        if shape.name in PATTERNED:
            v = PATTERNED[shape.name](idx)
        else:
            # Characters that need escaping in forms (+ & = % / ?), XML (< > & " ') and JSON,
            # and 2- and 3-byte UTF-8.
            v = f"{name}-{idx} a+b=c&d/e?f%g<h>\"i'j~k*\u00e9\u20ac\ttab\r\nline2 "
        v = fit_length(shape, v)
        pattern = shape.metadata.get("pattern")
        if pattern:
            try:
                rx = re.compile(pattern)
            except re.error:
                rx = None  # Java-only syntax (\p{L}...): trust the PATTERNED table
            if rx is not None and not rx.fullmatch(v):
                warn(f"sample {v!r} of {shape.name} does not match {pattern!r}")
        return v

    @staticmethod
    def integer(shape, idx):
        lo = shape.metadata.get("min")
        hi = shape.metadata.get("max")
        if lo is None and hi is None:
            # Longs get a value past 32 bits.
            return (1234567890123 if shape.type_name == "long" else 42) + idx
        if hi is None:
            return int(lo) + 7 + idx
        if lo is None:
            lo = min(0, hi)
        v = int(lo + (hi - lo) // 2) + idx
        return max(int(lo), min(int(hi), v))


def clamp_count(shape, want):
    lo = shape.metadata.get("min")
    hi = shape.metadata.get("max")
    if lo is not None:
        want = max(want, int(lo))
    if hi is not None:
        want = min(want, int(hi))
    return want


def fit_length(shape, v):
    lo = shape.metadata.get("min")
    hi = shape.metadata.get("max")
    if hi is not None and len(v) > hi:
        v = v[: int(hi)].rstrip()
    if lo is not None and len(v) < lo:
        v = v + "x" * (int(lo) - len(v))
    return v


def with_empty_lists(shape, params):
    """`params` with every top-level list that may be empty set to [] (botocore sends "Name="
    for it in Query requests), or None when the input has no such list."""
    if shape is None:
        return None
    out = dict(params)
    changed = False
    for name, member in shape.members.items():
        if member.type_name == "list" and name in out and not member.metadata.get("min"):
            out[name] = []
            changed = True
    return out if changed else None


# --------------------------------------------------------------------------- tagging

def epoch(dt):
    delta = dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return delta.days * 86400 + delta.seconds + delta.microseconds / 1e6


def tagged(value, truncate_ts=False):
    """The JSON form of a sample: blobs and timestamps tagged. `truncate_ts` drops the
    sub-second part, as botocore's default JSON serializer does."""
    if isinstance(value, dict):
        return {k: tagged(v, truncate_ts) for k, v in value.items()}
    if isinstance(value, list):
        return [tagged(v, truncate_ts) for v in value]
    if isinstance(value, bytes):
        return {"$blob": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime.datetime):
        secs = epoch(value)
        if truncate_ts or secs == int(secs):
            secs = int(secs)
        return {"$ts": secs}
    return value


def has_timestamp(value):
    if isinstance(value, dict):
        return any(has_timestamp(v) for v in value.values())
    if isinstance(value, list):
        return any(has_timestamp(v) for v in value)
    return isinstance(value, datetime.datetime)


# --------------------------------------------------------------------------- CBOR (Java SDK style)

class Cbor:
    """A small CBOR (RFC 8949) encoder that writes a shape's value the way the Java SDK does."""

    def __init__(self, indefinite=True, minimal_longs=True):
        self.indefinite = indefinite
        self.minimal_longs = minimal_longs
        self.out = bytearray()

    def head(self, major, arg, force8=False):
        if force8:
            self.out += bytes([(major << 5) | 27]) + struct.pack(">Q", arg)
        elif arg < 24:
            self.out.append((major << 5) | arg)
        elif arg < 0x100:
            self.out += bytes([(major << 5) | 24, arg])
        elif arg < 0x10000:
            self.out += bytes([(major << 5) | 25]) + struct.pack(">H", arg)
        elif arg < 0x100000000:
            self.out += bytes([(major << 5) | 26]) + struct.pack(">I", arg)
        else:
            self.out += bytes([(major << 5) | 27]) + struct.pack(">Q", arg)

    def integer(self, v, force8=False):
        if v >= 0:
            self.head(0, v, force8)
        else:
            self.head(1, -1 - v, force8)

    def text(self, s):
        raw = s.encode("utf-8")
        self.head(3, len(raw))
        self.out += raw

    def begin(self, major, count):
        if self.indefinite:
            self.out.append((major << 5) | 31)
        else:
            self.head(major, count)

    def end(self):
        if self.indefinite:
            self.out.append(0xFF)

    def value(self, shape, v):
        kind = shape.type_name
        if kind == "structure":
            present = [(n, s) for n, s in shape.members.items() if n in v]
            self.begin(5, len(present))
            for n, s in present:
                self.text(s.serialization.get("name", n))
                self.value(s, v[n])
            self.end()
        elif kind == "list":
            self.begin(4, len(v))
            for item in v:
                self.value(shape.member, item)
            self.end()
        elif kind == "map":
            self.begin(5, len(v))
            for k, item in v.items():
                self.text(k)
                self.value(shape.value, item)
            self.end()
        elif kind == "string":
            self.text(v)
        elif kind == "boolean":
            self.out.append(0xF5 if v else 0xF4)
        elif kind == "integer":
            self.integer(v)
        elif kind == "long":
            self.integer(v, force8=not self.minimal_longs)
        elif kind in ("float", "double"):
            self.out += b"\xfb" + struct.pack(">d", float(v))
        elif kind == "blob":
            self.head(2, len(v))
            self.out += v
        elif kind == "timestamp":
            # Tag 1 (epoch-based date/time) over integer epoch milliseconds: the Java SDK's form.
            self.head(6, 1)
            self.integer(round(epoch(v) * 1000))
        else:
            raise ValueError(f"no CBOR form for {kind}")


# --------------------------------------------------------------------------- requests

def wire_request(prepared, headers_wanted=("Content-Type", "X-Amz-Target", "x-amzn-query-mode")):
    url = urlsplit(prepared.url)
    headers = {}
    for name in headers_wanted:
        if name in prepared.headers:
            v = prepared.headers[name]
            headers[name] = v.decode() if isinstance(v, bytes) else v
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return {"method": prepared.method, "url_path": url.path, "query_string": url.query,
            "headers": headers, "body": body.decode("utf-8")}


def botocore_request(service_model, op_model, params, precision):
    serializer = botocore.serialize.create_serializer(
        service_model.protocol, include_validation=True, timestamp_precision=precision)
    req = serializer.serialize_to_request(params, op_model)
    prepare_request_dict(req, endpoint_url=ENDPOINT)
    return wire_request(create_request_object(req).prepare())


def cbor_request(service_model, op_model, params, indefinite):
    enc = Cbor(indefinite=indefinite, minimal_longs=indefinite)
    if op_model.input_shape is not None:
        enc.value(op_model.input_shape, params)
    else:
        enc.begin(5, 0)
        enc.end()
    target = f"{service_model.metadata['targetPrefix']}.{op_model.name}"
    return {"method": "POST", "url_path": "/", "query_string": "",
            "headers": {"Content-Type": "application/x-amz-cbor-1.1", "X-Amz-Target": target},
            "body_base64": base64.b64encode(bytes(enc.out)).decode("ascii")}


# --------------------------------------------------------------------------- per model

def load_model(model_id):
    with open(os.path.join(MODELS_DIR, model_id + ".json"), encoding="utf-8") as f:
        data = json.load(f)
    service, compare = MODELS[model_id]
    if compare:
        installed = botocore.session.get_session().get_service_model(service)
        if sorted(installed.operation_names) != sorted(data["operations"]) or \
                installed.metadata.get("apiVersion") != data["metadata"].get("apiVersion"):
            warn(f"{model_id}: protocol/models/{model_id}.json differs from botocore "
                 f"{botocore.__version__}'s model; run scripts/refresh_models.py")
    return botocore.model.ServiceModel(data, service_name=service), data


def error_code(service_model, shape):
    trait = shape.metadata.get("error") or {}
    if service_model.protocol == "query" or service_model.metadata.get("awsQueryCompatible") \
            is not None:
        return trait.get("code") or shape.name
    return shape.name


def generate(model_id):
    sm, raw = load_model(model_id)
    raw_shapes = raw["shapes"]  # botocore's Shape does not keep "fault"
    protocol = sm.protocol
    fx = {"model": model_id, "protocol": protocol, "botocore": botocore.__version__,
          "conventions": "see tests/tools/gen_codec_fixtures.py",
          "requests": [], "outputs": [], "errors": [], "skipped": []}
    for op_name in sorted(sm.operation_names):
        op = sm.operation_model(op_name)

        def sample(shape, ms_first):
            s = Sampler(ms_first)
            return s.structure(shape, 0, ()) if shape is not None else {}

        # Which timestamp comes first alternates between variants, so that an input with a
        # single timestamp is seen both whole and with milliseconds.
        base = {"model": model_id, "operation": op_name}
        if protocol == "query":
            params = sample(op.input_shape, True)
            fx["requests"].append({**base, "protocol": "query", "variant": "default",
                                   "input": tagged(params),
                                   "request": botocore_request(sm, op, params, "default")})
            empty = with_empty_lists(op.input_shape, params)
            if empty is not None:
                fx["requests"].append({**base, "protocol": "query", "variant": "empty-lists",
                                       "input": tagged(empty),
                                       "request": botocore_request(sm, op, empty, "default")})
        else:
            params = sample(op.input_shape, False)
            fx["requests"].append({**base, "protocol": "json", "variant": "default",
                                   "input": tagged(params, truncate_ts=True),
                                   "request": botocore_request(sm, op, params, "default")})
            params_ms = sample(op.input_shape, True)
            if has_timestamp(params_ms):
                fx["requests"].append({**base, "protocol": "json", "variant": "ms",
                                       "input": tagged(params_ms),
                                       "request": botocore_request(sm, op, params_ms,
                                                                   "millisecond")})
            if model_id in CBOR_MODELS:
                for variant, values, indefinite in (("java", params_ms, True),
                                                    ("definite", params, False)):
                    fx["requests"].append({**base, "protocol": "cbor", "variant": variant,
                                           "input": tagged(values),
                                           "request": cbor_request(sm, op, values, indefinite)})

        # The wire protocols the responses are checked in: the model's, plus CBOR for Kinesis.
        protocols = (["query"] if protocol == "query" else ["json"]) + \
            (["cbor"] if model_id in CBOR_MODELS else [])
        out = op.output_shape
        if out is not None:
            if any(m.serialization.get("eventstream") for m in out.members.values()):
                fx["skipped"].append({"operation": op_name, "what": "output",
                                      "why": "event stream output (not a single document)"})
            else:
                fx["outputs"].append({**base, "protocols": protocols,
                                      "output": tagged(sample(out, True))})
        for err in op.error_shapes:
            # A server fault ("fault": true, Smithy's @error("server")) is a 500 and a Receiver
            # error unless the error trait says otherwise.
            trait = err.metadata.get("error") or {}
            fault = bool(raw_shapes[err.name].get("fault"))
            fx["errors"].append({
                **base, "protocols": protocols, "shape": err.name,
                "code": error_code(sm, err),
                "message": f"{err.name} for {op_name}: <bad> & \"quoted\" \u00e9",
                "http_status": trait.get("httpStatusCode", 500 if fault else 400),
                "sender_fault": trait.get("senderFault", not fault)})
    return fx


def render(fx):
    return json.dumps(fx, indent=1, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files")
    ap.add_argument("--out", default=OUT_DIR)
    args = ap.parse_args()
    if not hasattr(botocore.serialize, "TIMESTAMP_PRECISION_MILLISECOND"):
        sys.exit(f"botocore {botocore.__version__} has no timestamp_precision: use pip's botocore")
    stale = []
    os.makedirs(args.out, exist_ok=True)
    for model_id in MODELS:
        fx = generate(model_id)
        text = render(fx)
        path = os.path.join(args.out, model_id + ".json")
        if args.check:
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
            if old != text:
                stale.append(path)
            continue
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"{path}: {len(fx['requests'])} requests, {len(fx['outputs'])} outputs, "
              f"{len(fx['errors'])} errors, {len(text)} bytes")
    if stale:
        sys.exit("stale fixtures: " + ", ".join(stale))


if __name__ == "__main__":
    main()
