#!/usr/bin/env python3
"""Probe run in a clean child process by test_imds.py (not a test module itself).

    python3 imds_netns_probe.py chain API_ENDPOINT REGION
        botocore's default credential chain only (the caller sets the environment: no AWS keys,
        empty config files, and optionally AWS_EC2_METADATA_SERVICE_ENDPOINT), then STS
        GetCallerIdentity on API_ENDPOINT with whatever the chain found.

    python3 imds_netns_probe.py netns API_ENDPOINT REGION
        Run inside a network namespace where the IMDS listens on 169.254.169.254:80: first the
        IMDSv2 token PUT and GET instance-id against http://169.254.169.254 by hand (bounded
        retries while fogbank finishes starting), then the same as `chain` with botocore's
        built-in default IMDS endpoint (no endpoint override in the environment).

Prints one JSON object on the last line of stdout.
"""

import http.client
import json
import sys
import time

IMDS_HOST = "169.254.169.254"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"


def raw(method, path, headers, host=IMDS_HOST, port=80, timeout=3):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace"), resp.getheader(TTL_HEADER)
    finally:
        conn.close()


def wait_api(endpoint, deadline):
    """Waits (bounded) until the API answers /_fogbank/health."""
    hostport = endpoint.split("://", 1)[1].rstrip("/")
    host, port = hostport.rsplit(":", 1)
    last = None
    while time.monotonic() < deadline:
        try:
            status, _, _ = raw("GET", "/_fogbank/health", {}, host=host, port=int(port), timeout=2)
            if status == 200:
                return None
            last = "HTTP %s" % status
        except OSError as exc:
            last = "%s: %s" % (type(exc).__name__, exc)
        time.sleep(0.05)
    return last or "timeout"


def chain(endpoint, region, out):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=region)
    creds = session.get_credentials()
    if creds is None:
        out["error"] = "no credentials found by the default chain"
        return
    frozen = creds.get_frozen_credentials()
    out.update(method=creds.method, access_key=frozen.access_key, has_token=bool(frozen.token))
    try:
        sts = session.client("sts", endpoint_url=endpoint,
                             config=Config(retries={"max_attempts": 1, "mode": "standard"},
                                           connect_timeout=5, read_timeout=10))
        ident = sts.get_caller_identity()
        out["identity"] = {k: ident.get(k) for k in ("Account", "Arn", "UserId")}
    except Exception as exc:  # reported to the test, which asserts on it
        out["sts_error"] = "%s: %s" % (type(exc).__name__, exc)


def netns(endpoint, region, out):
    deadline = time.monotonic() + 10
    err = wait_api(endpoint, deadline)
    if err:
        out["error"] = "API at %s never answered: %s" % (endpoint, err)
        return
    status, body, ttl = raw("PUT", "/latest/api/token", {TTL_HEADER: "300"})
    out["token_status"] = status
    out["token_ttl"] = ttl
    if status != 200:
        out["error"] = "token PUT got HTTP %s: %r" % (status, body[:200])
        return
    status, body, _ = raw("GET", "/latest/meta-data/instance-id", {TOKEN_HEADER: body})
    out["instance_id_status"] = status
    out["instance_id"] = body
    chain(endpoint, region, out)


def main():
    mode, endpoint, region = sys.argv[1], sys.argv[2], sys.argv[3]
    out = {}
    try:
        if mode == "chain":
            chain(endpoint, region, out)
        elif mode == "netns":
            netns(endpoint, region, out)
        else:
            out["error"] = "unknown mode %r" % mode
    except Exception as exc:
        out["error"] = "%s: %s" % (type(exc).__name__, exc)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
