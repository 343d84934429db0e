#!/usr/bin/env python3
"""Response direction of the codec golden fixtures: botocore must parse what our codecs write.

Every sample output and modeled error in tests/data/codec/*.json (made by
tests/tools/gen_codec_fixtures.py) goes through codec_tool (tests/tools/codec_tool.cpp: our
encode_query_response / encode_json / encode_cbor and render_error), and the result is parsed by
botocore's own response parser, botocore.parsers.create_parser(protocol), against the operation's
output shape; it must give back the sample. Errors must come back with the modeled code (the
Query code for Query and awsQueryCompatible JSON services), message, HTTP status and fault, and
botocore's error factory must map the code to the modeled exception class.

Kinesis' CBOR responses are read the way the AWS SDK for Java reads application/x-amz-cbor-1.1
(botocore has no parser for that protocol): a CBOR decoder here, blobs as byte strings and
timestamps as integers of epoch milliseconds (tag 1).

Runs under ctest (FOGBANK_CODEC_TOOL is set by tests/CMakeLists.txt), or by hand:
    FOGBANK_CODEC_TOOL=build/tests/codec_tool python3 tests/e2e/test_codec_botocore.py
Prints the first mismatches, then "N passed, M failed"; exits 1 on any mismatch that is not a
known failure listed in KNOWN_FAILURES.
"""

import base64
import datetime
import json
import os
import struct
import subprocess
import sys

import botocore
import botocore.errorfactory
import botocore.model
import botocore.parsers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "data", "codec")
MODELS_DIR = os.path.join(ROOT, "protocol", "models")
MODEL_IDS = ["sts", "sqs", "sqs-query", "sns", "kinesis"]
BOTOCORE_SERVICE = {"sqs-query": "sqs"}
TS_TOLERANCE = 0.0015  # seconds
SHOW = 25              # mismatches printed in full

# Mismatches that are codec bugs known today, keyed like the case ids printed below
# ("output:<model>/<operation>/<protocol>", "error:<model>/<operation>/<protocol>/<shape>").
# Each entry is a known codec bug: the test reports when an entry passes again (delete it then).
# Any mismatch not listed here fails the test.
KNOWN_FAILURES: dict[str, str] = {}


# --------------------------------------------------------------------------- CBOR (Java SDK view)

class Tag:
    def __init__(self, number, value):
        self.number = number
        self.value = value

    def __repr__(self):
        return f"Tag({self.number}, {self.value!r})"


class CborError(ValueError):
    pass


class CborReader:
    """RFC 8949 decoder: every major type, definite and indefinite lengths, half/single/double
    floats. Maps become dicts, tags Tag objects, byte strings bytes, text strings str."""

    BREAK = object()

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise CborError(f"truncated CBOR at byte {self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def argument(self, info):
        if info < 24:
            return info
        if info == 24:
            return self.take(1)[0]
        if info == 25:
            return struct.unpack(">H", self.take(2))[0]
        if info == 26:
            return struct.unpack(">I", self.take(4))[0]
        if info == 27:
            return struct.unpack(">Q", self.take(8))[0]
        raise CborError(f"bad additional info {info} at byte {self.pos - 1}")

    def item(self, allow_break=False):
        initial = self.take(1)[0]
        major, info = initial >> 5, initial & 31
        if initial == 0xFF:
            if allow_break:
                return self.BREAK
            raise CborError(f"unexpected break at byte {self.pos - 1}")
        if major == 0:
            return self.argument(info)
        if major == 1:
            return -1 - self.argument(info)
        if major in (2, 3):
            if info == 31:
                parts = []
                while True:
                    part = self.item(allow_break=True)
                    if part is self.BREAK:
                        break
                    if (major == 2) != isinstance(part, bytes):
                        raise CborError("mixed chunks in an indefinite string")
                    parts.append(part)
                return b"".join(parts) if major == 2 else "".join(parts)
            raw = self.take(self.argument(info))
            return bytes(raw) if major == 2 else raw.decode("utf-8")
        if major == 4:
            out = []
            if info == 31:
                while (v := self.item(allow_break=True)) is not self.BREAK:
                    out.append(v)
            else:
                for _ in range(self.argument(info)):
                    out.append(self.item())
            return out
        if major == 5:
            out = {}
            if info == 31:
                while (k := self.item(allow_break=True)) is not self.BREAK:
                    out[k] = self.item()
            else:
                for _ in range(self.argument(info)):
                    k = self.item()
                    out[k] = self.item()
            return out
        if major == 6:
            number = self.argument(info)
            return Tag(number, self.item())
        # major 7
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 25:
            return struct.unpack(">e", self.take(2))[0]
        if info == 26:
            return struct.unpack(">f", self.take(4))[0]
        if info == 27:
            return struct.unpack(">d", self.take(8))[0]
        raise CborError(f"unsupported simple value {info}")

    def document(self):
        v = self.item()
        if self.pos != len(self.data):
            raise CborError(f"{len(self.data) - self.pos} trailing bytes after the CBOR item")
        return v


UTC = datetime.timezone.utc


def java_cbor_value(shape, v, path, problems):
    """What the Java SDK makes of a CBOR value for `shape` (its JSON-RPC unmarshaller over a
    Jackson CBOR parser): structures by member wire name, blobs from byte strings, timestamps
    from integers of epoch milliseconds (tag 1)."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(v, dict):
            problems.append(f"{path}: map expected, got {v!r:.80}")
            return None
        out = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire in v and v[wire] is not None:
                out[name] = java_cbor_value(member, v[wire], f"{path}.{name}", problems)
        for key in v:
            if not any(m.serialization.get("name", n) == key for n, m in shape.members.items()):
                problems.append(f"{path}: unknown key {key!r} in the CBOR map")
        return out
    if kind == "list":
        if not isinstance(v, list):
            problems.append(f"{path}: array expected, got {v!r:.80}")
            return None
        return [java_cbor_value(shape.member, x, f"{path}[{i}]", problems) for i, x in enumerate(v)]
    if kind == "map":
        if not isinstance(v, dict):
            problems.append(f"{path}: map expected, got {v!r:.80}")
            return None
        return {k: java_cbor_value(shape.value, x, f"{path}.{k}", problems) for k, x in v.items()}
    if kind == "timestamp":
        if isinstance(v, Tag):
            if v.number != 1:
                problems.append(f"{path}: timestamp under tag {v.number}, not 1")
            v = v.value
        if isinstance(v, bool) or not isinstance(v, int):
            problems.append(f"{path}: timestamp must be an integer of epoch milliseconds (the Java "
                            f"SDK reads UNIX_TIMESTAMP_MILLIS), got {v!r}")
            if not isinstance(v, (int, float)):
                return None
        return datetime.datetime.fromtimestamp(v / 1000.0, UTC)
    if kind == "blob":
        if not isinstance(v, bytes):
            problems.append(f"{path}: blob must be a CBOR byte string, got {v!r:.80}")
        return v
    if isinstance(v, Tag):
        problems.append(f"{path}: unexpected tag {v.number}")
        return v.value
    return v


# --------------------------------------------------------------------------- comparison

def epoch(dt):
    return dt.timestamp()


def compare(want, got, path, diffs):
    where = path or "<root>"
    if isinstance(want, dict) and set(want) == {"$ts"}:
        if not isinstance(got, datetime.datetime):
            diffs.append(f"{where}: timestamp {want['$ts']} expected, got {got!r}")
        elif abs(epoch(got) - want["$ts"]) > TS_TOLERANCE:
            diffs.append(f"{where}: timestamp {want['$ts']} expected, got {epoch(got)} ({got})")
        return
    if isinstance(want, dict) and set(want) == {"$blob"}:
        expected = base64.b64decode(want["$blob"])
        if got != expected:
            diffs.append(f"{where}: blob {expected!r} expected, got {got!r:.80}")
        return
    if isinstance(want, dict):
        if not isinstance(got, dict):
            diffs.append(f"{where}: object expected, got {got!r:.80}")
            return
        for k, v in want.items():
            if k not in got:
                diffs.append(f"{where}: missing member {k!r} (expected {json.dumps(v)[:80]})")
            else:
                compare(v, got[k], f"{path}.{k}", diffs)
        for k in got:
            if k not in want:
                diffs.append(f"{where}: unexpected member {k!r} = {got[k]!r:.80}")
        return
    if isinstance(want, list):
        if not isinstance(got, list):
            diffs.append(f"{where}: list expected, got {got!r:.80}")
            return
        if len(want) != len(got):
            diffs.append(f"{where}: {len(want)} items expected, got {len(got)}")
        for i, (w, g) in enumerate(zip(want, got)):
            compare(w, g, f"{path}[{i}]", diffs)
        return
    if isinstance(want, bool) or isinstance(got, bool):
        if want is not got:
            diffs.append(f"{where}: {want!r} expected, got {got!r}")
        return
    if isinstance(want, (int, float)):
        if not isinstance(got, (int, float)) or float(got) != float(want):
            diffs.append(f"{where}: {want!r} expected, got {got!r:.80}")
        return
    if want != got:
        diffs.append(f"{where}: {want!r:.80} expected, got {got!r:.80}")


# --------------------------------------------------------------------------- cases

def load_service_model(model_id):
    with open(os.path.join(MODELS_DIR, model_id + ".json"), encoding="utf-8") as f:
        data = json.load(f)
    return botocore.model.ServiceModel(data, service_name=BOTOCORE_SERVICE.get(model_id, model_id))


def build_cases():
    cases = []
    for model_id in MODEL_IDS:
        with open(os.path.join(FIXTURES, model_id + ".json"), encoding="utf-8") as f:
            fx = json.load(f)
        for rec in fx["outputs"]:
            for proto in rec["protocols"]:
                cases.append({"id": f"output:{model_id}/{rec['operation']}/{proto}",
                              "kind": "output", "protocol": proto, "fixture": rec,
                              "line": {"model": model_id, "operation": rec["operation"],
                                       "protocol": proto, "output": rec["output"]}})
        for rec in fx["errors"]:
            for proto in rec["protocols"]:
                cases.append({"id": f"error:{model_id}/{rec['operation']}/{proto}/{rec['shape']}",
                              "kind": "error", "protocol": proto, "fixture": rec,
                              "line": {"model": model_id, "operation": rec["operation"],
                                       "protocol": proto,
                                       "error": {"code": rec["shape"], "message": rec["message"]}}})
    return cases


def http_response(reply):
    if "body_base64" in reply:
        body = base64.b64decode(reply["body_base64"])
    else:
        body = reply.get("body", "").encode("utf-8")
    headers = {k.lower(): v for k, v in reply.get("headers", {}).items()}
    return {"body": body, "headers": headers, "status_code": reply.get("status", 0)}


def check_output(case, reply, service_model):
    rec = case["fixture"]
    op = service_model.operation_model(rec["operation"])
    resp = http_response(reply)
    diffs = []
    if resp["status_code"] != 200:
        diffs.append(f"status {resp['status_code']}, expected 200")
    if case["protocol"] == "cbor":
        try:
            doc = CborReader(resp["body"]).document()
        except (CborError, UnicodeDecodeError) as e:
            return diffs + [f"body is not CBOR: {e}; body={resp['body'][:60]!r}"]
        parsed = java_cbor_value(op.output_shape, doc, "", diffs)
    else:
        parser = botocore.parsers.create_parser(case["protocol"])
        try:
            parsed = parser.parse(resp, op.output_shape)
        except Exception as e:  # noqa: BLE001 - any parser failure is a mismatch
            return diffs + [f"botocore could not parse: {type(e).__name__}: {e}; "
                            f"body={resp['body'][:300]!r}"]
        parsed.pop("ResponseMetadata", None)
        if "Error" in parsed:
            return diffs + [f"botocore read an error: {parsed['Error']}"]
    compare(rec["output"], parsed, "", diffs)
    return diffs


def java_cbor_error(resp, diffs):
    """Error code and message as the Java SDK reads a CBOR error: the code from x-amzn-ErrorType,
    else the body's "__type" (namespace before '#' dropped); the message from "message"."""
    try:
        doc = CborReader(resp["body"]).document()
    except (CborError, UnicodeDecodeError) as e:
        diffs.append(f"error body is not CBOR: {e}; body={resp['body'][:60]!r}")
        return {}
    if not isinstance(doc, dict):
        diffs.append(f"error body is not a CBOR map: {doc!r:.80}")
        return {}
    body_code = str(doc.get("__type", "")).rsplit("#", 1)[-1]
    header = resp["headers"].get("x-amzn-errortype")
    if header is not None and header.split(":", 1)[0] != body_code:
        diffs.append(f"x-amzn-ErrorType {header!r} and __type {doc.get('__type')!r} disagree")
    code = header.split(":", 1)[0] if header else body_code
    return {"Code": code, "Message": doc.get("message", doc.get("Message"))}


def check_error(case, reply, service_model, exceptions):
    rec = case["fixture"]
    op = service_model.operation_model(rec["operation"])
    resp = http_response(reply)
    diffs = []
    if resp["status_code"] != rec["http_status"]:
        diffs.append(f"status {resp['status_code']}, expected {rec['http_status']}")
    if case["protocol"] == "cbor":
        err = java_cbor_error(resp, diffs)
    else:
        parser = botocore.parsers.create_parser(case["protocol"])
        try:
            parsed = parser.parse(resp, op.output_shape)
        except Exception as e:  # noqa: BLE001
            return diffs + [f"botocore could not parse: {type(e).__name__}: {e}; "
                            f"body={resp['body'][:300]!r}"]
        err = parsed.get("Error", {})
    if err.get("Code") != rec["code"]:
        diffs.append(f"Error.Code {err.get('Code')!r}, expected {rec['code']!r}")
    if err.get("Message") != rec["message"]:
        diffs.append(f"Error.Message {err.get('Message')!r}, expected {rec['message']!r}")
    fault = "Sender" if rec["sender_fault"] else "Receiver"
    if case["protocol"] == "query" and err.get("Type") != fault:
        diffs.append(f"Error.Type {err.get('Type')!r}, expected {fault!r}")
    if case["protocol"] == "json" and service_model.metadata.get("awsQueryCompatible") is not None:
        header = resp["headers"].get("x-amzn-query-error")
        if header != f"{rec['code']};{fault}":
            diffs.append(f"x-amzn-query-error {header!r}, expected {rec['code']};{fault}")
    cls = exceptions.from_code(err.get("Code"))
    if cls is None or cls.__name__ != rec["shape"]:
        diffs.append(f"botocore maps code {err.get('Code')!r} to "
                     f"{getattr(cls, '__name__', None)}, expected the modeled {rec['shape']}")
    return diffs


def main():
    tool = os.environ.get("FOGBANK_CODEC_TOOL")
    if not tool or not os.path.exists(tool):
        print("FOGBANK_CODEC_TOOL must name the built codec_tool (tests/tools/codec_tool.cpp)",
              file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    cases = build_cases()
    stdin = "".join(json.dumps(c["line"], ensure_ascii=False) + "\n" for c in cases)
    run = subprocess.run([tool], input=stdin.encode("utf-8"), capture_output=True, timeout=300)
    replies = [json.loads(line) for line in run.stdout.decode("utf-8").splitlines() if line]
    if run.returncode != 0 or len(replies) != len(cases):
        print(f"codec_tool exited {run.returncode} with {len(replies)} replies for {len(cases)} "
              f"cases; stderr: {run.stderr.decode(errors='replace')[-2000:]}", file=sys.stderr)
        print(f"0 passed, {len(cases)} failed")
        return 1

    models = {m: load_service_model(m) for m in MODEL_IDS}
    factories = {m: botocore.errorfactory.ClientExceptionsFactory().create_client_exceptions(sm)
                 for m, sm in models.items()}
    passed, failed, known, fixed = 0, [], [], []
    for case, reply in zip(cases, replies):
        model_id = case["line"]["model"]
        if "exception" in reply:
            diffs = [f"codec_tool: {reply['exception']}"]
        elif case["kind"] == "output":
            diffs = check_output(case, reply, models[model_id])
        else:
            diffs = check_error(case, reply, models[model_id], factories[model_id])
        if not diffs:
            passed += 1
            if case["id"] in KNOWN_FAILURES:
                fixed.append(case["id"])
        elif case["id"] in KNOWN_FAILURES:
            known.append(case["id"])
        else:
            failed.append((case, reply, diffs))

    print(f"botocore {botocore.__version__}; {len(cases)} cases from {FIXTURES}")
    for case, reply, diffs in failed[:SHOW]:
        print(f"FAIL {case['id']}: {len(diffs)} difference(s)")
        for d in diffs[:6]:
            print(f"    {d}")
    if len(failed) > SHOW:
        print(f"... and {len(failed) - SHOW} more failures:")
        for case, _, diffs in failed[SHOW:]:
            print(f"    {case['id']}: {diffs[0][:160]}")
    for case_id in fixed:
        print(f"NOTE known failure passes now, remove it from KNOWN_FAILURES: {case_id}")
    if known:
        print(f"known failures (TODO in KNOWN_FAILURES): {len(known)}")
        for reason in sorted({KNOWN_FAILURES[k] for k in known}):
            print(f"    {sum(KNOWN_FAILURES[k] == reason for k in known)} x {reason}")
    summary = f"{passed} passed, {len(failed)} failed"
    if known:
        summary += f", {len(known)} skipped"
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
