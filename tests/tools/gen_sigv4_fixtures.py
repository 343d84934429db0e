#!/usr/bin/env python3
"""Generates tests/data/sigv4/botocore_fixtures.json: requests signed by botocore itself.

Real botocore clients build and sign each request; a 'before-send' hook captures the request
exactly as it would go on the wire and short-circuits the network. The clock is pinned so the
output is reproducible. The C++ unit test (tests/unit/protocol/sigv4_test.cpp) feeds every
fixture to sigv4::parse() + sigv4::verify() at the fixture's time.

Usage: python3 tests/tools/gen_sigv4_fixtures.py > tests/data/sigv4/botocore_fixtures.json
"""

import base64
import datetime
import hashlib
import json
import sys
from unittest import mock
from urllib.parse import urlsplit

import botocore
import botocore.auth
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config

FIXED_NOW = datetime.datetime(2025, 3, 14, 15, 9, 26, tzinfo=datetime.timezone.utc)
ENDPOINT = "http://localhost:4566"
REGION = "eu-west-1"
ACCESS_KEY = "AKIAFOGBANKEXAMPLE01"
SECRET_KEY = "fogbank/SECRET+key/for/TESTS/only/0123456"
TEMP_ACCESS_KEY = "ASIAFOGBANKEXAMPLE02"
TEMP_SECRET_KEY = "temporary/secret/key+for+tests/abcdefghij"
SESSION_TOKEN = "FwoGZXIvYXdzEFogbankSessionToken//+/==example"


class _FakeRaw:
    """Enough of a urllib3 response for botocore to read an empty body."""

    def stream(self, *args, **kwargs):
        return iter([b""])

    def read(self, *args, **kwargs):
        return b""


def _body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, "read"):
        data = body.read()
        return data if isinstance(data, bytes) else data.encode()
    return bytes(body)


def _host(url):
    parts = urlsplit(url)
    return parts.netloc


def _fixture(name, service, method, url, headers, body, payload_hash, style, token):
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    header_list = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in headers.items()]
    if not any(k.lower() == "host" for k, _ in header_list):
        header_list.insert(0, ["Host", _host(url)])
    return {
        "name": name,
        "service": service,
        "method": method,
        "target": target,
        "headers": header_list,
        "body_base64": base64.b64encode(body).decode(),
        "payload_hash": payload_hash,
        "path_style": style,
        "temporary": bool(token),
    }


def _client(service, temporary=False, **config):
    session = botocore.session.get_session()
    return session.create_client(
        service,
        region_name=REGION,
        endpoint_url=ENDPOINT,
        aws_access_key_id=TEMP_ACCESS_KEY if temporary else ACCESS_KEY,
        aws_secret_access_key=TEMP_SECRET_KEY if temporary else SECRET_KEY,
        aws_session_token=SESSION_TOKEN if temporary else None,
        config=Config(s3={"addressing_style": "path"}, signature_version="v4" if service != "s3" else "s3v4",
                      retries={"max_attempts": 1}, **config),
    )


def capture(client, name, call, style, temporary=False):
    captured = {}

    def before_send(request, **kwargs):
        captured["request"] = request
        captured["body"] = _body_bytes(request.body)
        return AWSResponse(request.url, 200, {}, _FakeRaw())

    client.meta.events.register("before-send", before_send)
    try:
        call(client)
    except Exception:  # parsing our empty fake response may fail; the request is what we want
        pass
    request = captured["request"]
    body = captured["body"]
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    service = client.meta.service_model.signing_name
    if style == "s3":
        payload_hash = headers.get("X-Amz-Content-SHA256", headers.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))
    else:
        payload_hash = hashlib.sha256(body).hexdigest()
    return _fixture(name, service, request.method, request.url, headers, body, payload_hash, style, temporary)


def presigned(client, name, method, params, expires, temporary=False):
    url = client.generate_presigned_url(method, Params=params, ExpiresIn=expires)
    return _fixture(name, "s3", "GET", url, {"Host": _host(url)}, b"", "UNSIGNED-PAYLOAD", "s3", temporary)


def main():
    fixtures = []
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=FIXED_NOW):
        sts = _client("sts")
        fixtures.append(capture(sts, "sts-get-caller-identity", lambda c: c.get_caller_identity(), "double"))
        sts_temp = _client("sts", temporary=True)
        fixtures.append(capture(sts_temp, "sts-get-caller-identity-temporary",
                                lambda c: c.get_caller_identity(), "double", temporary=True))
        fixtures.append(capture(sts, "sts-assume-role-form-body",
                                lambda c: c.assume_role(RoleArn="arn:aws:iam::000000000000:role/r x+y",
                                                        RoleSessionName="s=1&2 ~!*'()"), "double"))
        sqs = _client("sqs")
        fixtures.append(capture(sqs, "sqs-send-message-json",
                                lambda c: c.send_message(QueueUrl=ENDPOINT + "/000000000000/q1",
                                                         MessageBody="héllo wörld {\"a\": 1} +&="), "double"))

        s3 = _client("s3", request_checksum_calculation="when_required")
        s3_keys = ["plain.txt", "dir/with space.txt", "unicode/ünïcödé-日本.bin", "plus+sign&amp=eq.txt",
                   "tilde~star*quote'paren(1).txt", "double//slash/./dot/../x"]
        for i, key in enumerate(s3_keys):
            fixtures.append(capture(s3, f"s3-get-object-{i}",
                                    lambda c, k=key: c.get_object(Bucket="bucket-1", Key=k, Range="bytes=0-9"),
                                    "s3"))
        fixtures.append(capture(s3, "s3-put-object-signed-body",
                                lambda c: c.put_object(Bucket="bucket-1", Key="a b/c+d.txt", Body=b"hello fogbank",
                                                       Metadata={"Note": "  spaced   value  "}), "s3"))
        fixtures.append(capture(s3, "s3-list-objects-v2-query",
                                lambda c: c.list_objects_v2(Bucket="bucket-1", Prefix="dir/with space", Delimiter="/",
                                                            StartAfter="a+b=c&d"), "s3"))
        s3_default = _client("s3")
        fixtures.append(capture(s3_default, "s3-put-object-default-checksum",
                                lambda c: c.put_object(Bucket="bucket-1", Key="chk.txt", Body=b"checksummed body"),
                                "s3"))
        s3_temp = _client("s3", temporary=True, request_checksum_calculation="when_required")
        fixtures.append(capture(s3_temp, "s3-head-object-temporary",
                                lambda c: c.head_object(Bucket="bucket-1", Key="k"), "s3", temporary=True))
        fixtures.append(presigned(s3, "s3-presigned-get", "get_object",
                                  {"Bucket": "bucket-1", "Key": "dir/with space/ü+.txt"}, 3600))
        fixtures.append(presigned(s3_temp, "s3-presigned-get-temporary", "get_object",
                                  {"Bucket": "bucket-1", "Key": "k"}, 600, temporary=True))

    doc = {
        "generator": "tests/tools/gen_sigv4_fixtures.py",
        "botocore_version": botocore.__version__,
        "now": FIXED_NOW.strftime("%Y%m%dT%H%M%SZ"),
        "region": REGION,
        "credentials": {
            "long_term": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
            "temporary": {"access_key": TEMP_ACCESS_KEY, "secret_key": TEMP_SECRET_KEY,
                          "session_token": SESSION_TOKEN},
        },
        "fixtures": fixtures,
    }
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
