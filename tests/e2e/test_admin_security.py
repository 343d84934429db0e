#!/usr/bin/env python3
"""What a web page in the user's browser may do to fogbank: the admin API refuses cross-site
requests and undocumented methods, every listener refuses Host names outside the allow-list (DNS
rebinding), and wrongly typed admin JSON is a 400, not a dropped connection."""

import http.client
import json
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

ATTACKER = "http://attacker.example"


def request(port, method, path, body=None, headers=None, conn=None):
    """(status, parsed JSON or raw bytes, lower-cased headers); reuses `conn` when given."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        return resp.status, parsed, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        if own:
            conn.close()


class AdminCrossSiteTest(fh.FogbankTestCase):
    server_args = ["--clock", "virtual"]
    server_kwargs = {"imds_address": "127.0.0.1:0"}

    def admin(self, method, path, body=None, **headers):
        return request(self.server.port, method, path, body, {k.replace("_", "-"): v for k, v in headers.items()})

    def make_bucket(self):
        name = fh.unique_bucket("adm")
        self.server.client("s3").create_bucket(Bucket=name)
        return name

    def assertBucketExists(self, name):
        names = [b["Name"] for b in self.server.client("s3").list_buckets()["Buckets"]]
        self.assertIn(name, names)

    def assertRefused(self, answer, status=403):
        st, body, headers = answer
        self.assertEqual(st, status, body)
        self.assertIn("application/json", headers.get("content-type", ""))
        self.assertIn("error", body)
        return body["error"]

    # ------------------------------------------------------------------ cross-site
    def test_cross_origin_simple_post_cannot_reset(self):
        # What a page on any site can send without a CORS preflight.
        name = self.make_bucket()
        err = self.assertRefused(self.admin("POST", "/_fogbank/reset", "{}", Origin=ATTACKER,
                                            Content_Type="text/plain"))
        self.assertIn("Origin", err)
        self.assertBucketExists(name)
        # The form-encoded variant, as an auto-submitted <form> sends it.
        self.assertRefused(self.admin("POST", "/_fogbank/reset", "a=b", Origin=ATTACKER,
                                      Content_Type="application/x-www-form-urlencoded",
                                      Sec_Fetch_Site="cross-site"))
        self.assertBucketExists(name)

    def test_sec_fetch_site_cross_site_refused_without_origin(self):
        name = self.make_bucket()
        self.assertRefused(self.admin("POST", "/_fogbank/reset", Sec_Fetch_Site="cross-site"))
        self.assertBucketExists(name)
        self.assertRefused(self.admin("POST", "/_fogbank/clock", {"advance_seconds": 60}, Sec_Fetch_Site="cross-site"))

    def test_same_site_needs_this_servers_origin(self):
        # Another port on localhost is the same site, not the same origin: a dev server there is
        # still somebody else's page.
        port = self.server.port
        self.assertRefused(self.admin("POST", "/_fogbank/request-log", {"enabled": True}, Sec_Fetch_Site="same-site"))
        self.assertRefused(self.admin("POST", "/_fogbank/request-log", {"enabled": True}, Sec_Fetch_Site="same-site",
                                      Origin="http://localhost:3000"))
        st, body, _ = self.admin("POST", "/_fogbank/request-log", {"enabled": True}, Sec_Fetch_Site="same-site",
                                 Origin=f"http://localhost:{port}")
        self.assertEqual(st, 200, body)

    def test_every_endpoint_refuses_foreign_origins(self):
        for method, path in (("GET", "/_fogbank/health"), ("GET", "/_fogbank/clock"),
                             ("GET", "/_fogbank/request-log"), ("GET", "/_fogbank/imds/certificate"),
                             ("DELETE", "/_fogbank/imds/events"), ("GET", "/_fogbank/nope")):
            for origin in (ATTACKER, "null", "http://127.0.0.1:1", f"http://evil.localhost:{self.server.port}"):
                with self.subTest(method=method, path=path, origin=origin):
                    self.assertRefused(self.admin(method, path, Origin=origin))

    def test_own_origins_and_tools_are_served(self):
        port = self.server.port
        for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"https://[::1]:{port}"):
            with self.subTest(origin=origin):
                st, body, _ = self.admin("GET", "/_fogbank/health", Origin=origin, Sec_Fetch_Site="same-origin")
                self.assertEqual(st, 200, body)
        st, body, _ = self.admin("GET", "/_fogbank/health", Sec_Fetch_Site="none")  # typed into the address bar
        self.assertEqual(st, 200, body)
        st, body, _ = self.admin("GET", "/_fogbank/clock")  # curl
        self.assertEqual(st, 200, body)

    # ------------------------------------------------------------------ methods
    def test_undocumented_methods_are_405_with_allow(self):
        cases = [("BREW", "/_fogbank/health", "GET, HEAD"),
                 ("POST", "/_fogbank/health", "GET, HEAD"),
                 ("GET", "/_fogbank/reset", "POST"),
                 ("PUT", "/_fogbank/reset", "POST"),
                 ("DELETE", "/_fogbank/clock", "GET, POST"),
                 ("HEAD", "/_fogbank/clock", "GET, POST"),
                 ("DELETE", "/_fogbank/request-log", "GET, POST, PUT"),
                 ("GET", "/_fogbank/imds/events", "POST, DELETE"),
                 ("PUT", "/_fogbank/imds/events", "POST, DELETE"),
                 ("POST", "/_fogbank/imds/certificate", "GET")]
        for method, path, allow in cases:
            with self.subTest(method=method, path=path):
                st, body, headers = self.admin(method, path)
                self.assertEqual(st, 405, body)
                self.assertEqual(headers.get("allow"), allow)
                if method != "HEAD":
                    self.assertIn(method, self.assertRefused((st, body, headers), 405))
        name = self.make_bucket()
        self.assertBucketExists(name)  # GET/PUT /_fogbank/reset above wiped nothing
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        try:
            conn.request("HEAD", "/_fogbank/health")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
        finally:
            conn.close()

    # ------------------------------------------------------------------ wrongly typed JSON
    def test_wrong_types_are_400_on_a_live_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        try:
            st, before, _ = request(self.server.port, "GET", "/_fogbank/request-log", conn=conn)
            self.assertEqual(st, 200)
            bad = [("/_fogbank/request-log", {"enabled": "yes"}),
                   ("/_fogbank/request-log", {"enabled": 1}),
                   ("/_fogbank/request-log", "[true]"),
                   ("/_fogbank/request-log", "{not json"),
                   ("/_fogbank/imds/events", {"kind": "rebalance", "delay_seconds": "5"}),
                   ("/_fogbank/imds/events", {"kind": "rebalance", "delay_seconds": -1}),
                   ("/_fogbank/imds/events", {"kind": "rebalance", "delay_seconds": 1e300}),
                   ("/_fogbank/imds/events", {"kind": "spot-interruption", "value": 5}),
                   ("/_fogbank/imds/events", {"kind": "lifecycle", "value": ["a"]}),
                   ("/_fogbank/imds/events", {"kind": 3}),
                   ("/_fogbank/imds/events", "{not json")]
            for path, body in bad:
                with self.subTest(path=path, body=body):
                    self.assertRefused(request(self.server.port, "POST", path, body,
                                               {"Content-Type": "application/json"}, conn=conn), 400)
            st, after, _ = request(self.server.port, "GET", "/_fogbank/request-log", conn=conn)
            self.assertEqual(after, before, "a refused request changed the access log setting")
            st, body, _ = request(self.server.port, "POST", "/_fogbank/imds/events",
                                  {"kind": "rebalance", "delay_seconds": 1.5}, conn=conn)
            self.assertEqual(st, 200, body)
        finally:
            conn.close()
        request(self.server.port, "DELETE", "/_fogbank/imds/events")


class BadAdminJsonShutdownTest(unittest.TestCase):
    def test_server_stops_promptly_after_bad_admin_json(self):
        # A handler exception used to kill the connection and leave it counted as busy, so the
        # next graceful stop waited out its full 5 s.
        server = fh.FogbankServer(imds_address="127.0.0.1:0").start()
        try:
            for body in ({"kind": "rebalance", "delay_seconds": "soon"}, {"kind": "spot-interruption", "value": 7}):
                st, parsed, _ = request(server.port, "POST", "/_fogbank/imds/events", body)
                self.assertEqual(st, 400, parsed)
            started = time.monotonic()
            self.assertEqual(server.stop(), 0)
            self.assertLess(time.monotonic() - started, 3.0)
        finally:
            server.close()


# ---------------------------------------------------------------------- Host allow-list

class HostAllowListTest(fh.FogbankTestCase):
    server_kwargs = {"imds_address": "127.0.0.1:0"}

    def host(self, name):
        return f"{name}:{self.server.port}"

    def test_rebound_name_refused_on_admin(self):
        name = fh.unique_bucket("rb")
        self.server.client("s3").create_bucket(Bucket=name)
        for method, path in (("GET", "/_fogbank/health"), ("POST", "/_fogbank/reset")):
            st, body, _ = request(self.server.port, method, path, headers={"Host": self.host("attacker.example")})
            self.assertEqual(st, 403, body)
            self.assertIn("attacker.example", body["error"])
        self.assertIn(name, [b["Name"] for b in self.server.client("s3").list_buckets()["Buckets"]])

    def test_rebound_name_refused_on_apis_in_their_protocol(self):
        evil = self.host("attacker.example")
        # STS, Query protocol: an XML ErrorResponse.
        body = fh.sts_form()
        headers = fh.sigv4_headers("POST", evil, "/", None, {"Content-Type": fh.FORM}, body)
        st, parsed, hdrs = request(self.server.port, "POST", "/", body, headers)
        self.assertEqual(st, 403, parsed)
        code, message, rid = fh.parse_error(parsed)
        self.assertEqual(code, "AccessDenied")
        self.assertIn("--allowed-hosts", message)
        self.assertEqual(hdrs.get("x-amzn-requestid"), rid)
        # SQS over JSON 1.0: a JSON error.
        body = b"{}"
        headers = fh.sigv4_headers("POST", evil, "/", None,
                                   {"Content-Type": "application/x-amz-json-1.0",
                                    "X-Amz-Target": "AmazonSQS.ListQueues"}, body, service="sqs")
        st, parsed, _ = request(self.server.port, "POST", "/", body, headers)
        self.assertEqual(st, 403, parsed)
        self.assertIn("AccessDenied", parsed["__type"])
        # S3 path style: an S3 <Error>, even for a name that looks virtual-hosted.
        for h in (evil, self.host("bucket.s3.attacker.example")):
            headers = fh.sigv4_headers("GET", h, "/", None, {}, b"", service="s3", include_content_sha=True)
            st, parsed, hdrs = request(self.server.port, "GET", "/", None, headers)
            self.assertEqual(st, 403, parsed)
            self.assertEqual(fh.parse_error(parsed)[0], "AccessDenied")
            self.assertTrue(hdrs.get("x-amz-request-id") or hdrs.get("x-amzn-requestid"))

    def test_local_and_aws_names_are_served(self):
        for name in ("localhost", "LocalHost.", "b.localhost", "b.s3.us-east-1.localhost", "127.0.0.1",
                     "[::1]", "s3.amazonaws.com", "b.s3.us-west-2.amazonaws.com"):
            with self.subTest(host=name):
                st, body, _ = request(self.server.port, "GET", "/_fogbank/health", headers={"Host": self.host(name)})
                self.assertEqual(st, 200, body)
        # A signed API call through a local name.
        body = fh.sts_form()
        headers = fh.sigv4_headers("POST", self.host("localhost"), "/", None, {"Content-Type": fh.FORM}, body)
        st, parsed, _ = request(self.server.port, "POST", "/", body, headers)
        self.assertEqual(st, 200, parsed)

    def test_imds_refuses_rebound_names(self):
        self.assertIsNotNone(self.server.imds_port)
        path = "/latest/meta-data/iam/security-credentials/"
        st, body, _ = request(self.server.imds_port, "GET", path,
                              headers={"Host": f"attacker.example:{self.server.imds_port}"})
        self.assertEqual(st, 403, body)
        st, body, _ = request(self.server.imds_port, "GET", path)
        self.assertEqual(st, 200, body)


def with_origin(client, origin=None, sec_fetch_site=None):
    """Makes `client` send the headers a browser adds to a page's request (after signing: a page
    could sign with the public default keys, but the browser sets these, not the page)."""
    def add(request, **_):
        if origin is not None:
            request.headers["Origin"] = origin
        if sec_fetch_site is not None:
            request.headers["Sec-Fetch-Site"] = sec_fetch_site
    client.meta.events.register("before-send", add)
    return client


def multipart(fields, file_field, data):
    boundary = "----fogbank" + os.urandom(8).hex()
    parts = []
    for name, value in list(fields.items()) + [(file_field, data)]:
        extra = '; filename="f.txt"' if name == file_field else ""
        value = value if isinstance(value, bytes) else str(value).encode()
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode()
                     + value + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class ApiCrossSiteTest(fh.FogbankTestCase):
    """The default keys are public, so a page could sign requests itself: requests that can change
    state are refused when a browser says they come from a page that is not local."""

    def test_signed_json_and_rest_calls_from_a_foreign_page_are_refused(self):
        sqs = self.server.client("sqs")
        url = sqs.create_queue(QueueName="xsite")["QueueUrl"]
        evil = with_origin(self.server.client("sqs"), ATTACKER)
        with self.assertRaises(ClientError) as cm:
            evil.send_message(QueueUrl=url, MessageBody="from a web page")
        self.assertClientError(cm, "AccessDenied", 403)
        self.assertIn("--allowed-origins", cm.exception.response["Error"]["Message"])
        for origin, site in (("null", None), (None, "cross-site")):
            with self.assertRaises(ClientError) as cm:
                with_origin(self.server.client("sqs"), origin, site).purge_queue(QueueUrl=url)
            self.assertClientError(cm, "AccessDenied", 403)
        # Nothing was sent; a local page (any port) and plain SDK calls are served.
        self.assertEqual(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                         ["Attributes"]["ApproximateNumberOfMessages"], "0")
        with_origin(self.server.client("sqs"), "http://localhost:3000", "same-site").send_message(
            QueueUrl=url, MessageBody="from the app under development")
        s3 = self.server.client("s3")
        bucket = fh.unique_bucket("xs")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"kept")
        with self.assertRaises(ClientError) as cm:
            with_origin(self.server.client("s3"), ATTACKER).delete_object(Bucket=bucket, Key="k")
        self.assertClientError(cm, "AccessDenied", 403)
        # Reads change nothing and are served to any page (<img src>, public objects).
        got = with_origin(self.server.client("s3"), ATTACKER, "cross-site").get_object(Bucket=bucket, Key="k")
        self.assertEqual(got["Body"].read(), b"kept")

    def test_presigned_form_post_and_query_get_from_a_foreign_page(self):
        s3 = self.server.client("s3", signature_version="s3v4")
        bucket = fh.unique_bucket("xp")
        s3.create_bucket(Bucket=bucket)
        post = s3.generate_presigned_post(bucket, "upload.txt")
        body, ctype = multipart(post["fields"], "file", b"planted")
        path = "/" + bucket
        st, parsed, _ = request(self.server.port, "POST", path, body,
                                {"Content-Type": ctype, "Origin": ATTACKER, "Sec-Fetch-Site": "cross-site"})
        self.assertEqual(st, 403, parsed)
        self.assertEqual(fh.parse_error(parsed)[0], "AccessDenied")
        self.assertNotIn("Contents", s3.list_objects_v2(Bucket=bucket))
        st, parsed, _ = request(self.server.port, "POST", path, body,
                                {"Content-Type": ctype, "Origin": f"http://127.0.0.1:{self.server.port}"})
        self.assertEqual(st, 204, parsed)
        # A presigned Query-protocol GET (?Action=...) is a call like any other.
        url = self.server.client("sts").generate_presigned_url("get_caller_identity", HttpMethod="GET")
        target = url.split(str(self.server.port), 1)[1]
        st, parsed, _ = request(self.server.port, "GET", target, headers={"Origin": ATTACKER})
        self.assertEqual(st, 403, parsed)
        st, parsed, _ = request(self.server.port, "GET", target)
        self.assertEqual(st, 200, parsed)

    def test_pages_opened_from_fogbank_are_sandboxed(self):
        s3 = self.server.client("s3")
        bucket = fh.unique_bucket("sb")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="page.html", Body=b"<script>fetch('/_fogbank/reset',{method:'POST'})</script>",
                      ContentType="text/html")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "page.html"})
        target = url.split(str(self.server.port), 1)[1]
        for dest in ("document", "iframe"):
            st, _, headers = request(self.server.port, "GET", target, headers={"Sec-Fetch-Dest": dest})
            self.assertEqual(st, 200)
            self.assertTrue(headers.get("content-security-policy", "").startswith("sandbox"), headers)
            self.assertNotIn("allow-same-origin", headers["content-security-policy"])
        st, _, headers = request(self.server.port, "GET", target, headers={"Sec-Fetch-Dest": "image"})
        self.assertEqual(st, 200)
        self.assertNotIn("content-security-policy", headers)
        st, _, headers = request(self.server.port, "GET", target)
        self.assertNotIn("content-security-policy", headers)


class AllowedOriginsFlagTest(unittest.TestCase):
    def test_listed_origins_and_wildcard(self):
        for args, env, page, allowed in ((["--allowed-origins", "http://app.test:8080"], None, "http://app.test:8080", True),
                                         (["--allowed-origins", "http://app.test:8080"], None, "http://app.test:9999", False),
                                         ([], {"FOGBANK_ALLOWED_ORIGINS": "app.test"}, "https://x.app.test", True),
                                         (["--allowed-origins", "*"], None, ATTACKER, True)):
            server = fh.FogbankServer(args, env=env).start()
            try:
                sqs = server.client("sqs")
                url = sqs.create_queue(QueueName="q")["QueueUrl"]
                page_client = with_origin(server.client("sqs"), page)
                if allowed:
                    page_client.send_message(QueueUrl=url, MessageBody="m")
                else:
                    with self.assertRaises(ClientError):
                        page_client.send_message(QueueUrl=url, MessageBody="m")
            finally:
                server.close()


class AllowedHostsFlagTest(unittest.TestCase):
    def served(self, server, host):
        return request(server.port, "GET", "/_fogbank/health", headers={"Host": f"{host}:{server.port}"})[0]

    def test_flag_env_and_wildcard(self):
        server = fh.FogbankServer(["--allowed-hosts", "devbox.test,CI.Example"]).start()
        try:
            self.assertEqual(self.served(server, "devbox.test"), 200)
            self.assertEqual(self.served(server, "bucket.s3.devbox.test"), 200)
            self.assertEqual(self.served(server, "ci.example"), 200)
            self.assertEqual(self.served(server, "other.example"), 403)
            self.assertEqual(self.served(server, "xdevbox.test"), 403)
        finally:
            server.close()
        server = fh.FogbankServer(env={"FOGBANK_ALLOWED_HOSTS": "env.test,second.test"}).start()
        try:
            self.assertEqual(self.served(server, "env.test"), 200)
            self.assertEqual(self.served(server, "second.test"), 200)
            self.assertEqual(self.served(server, "other.example"), 403)
        finally:
            server.close()
        server = fh.FogbankServer(["--allowed-hosts", "*"]).start()
        try:
            self.assertEqual(self.served(server, "anything.example"), 200)
            # "*" turns off the Host check only: the admin API still refuses foreign origins.
            st, _, _ = request(server.port, "POST", "/_fogbank/reset",
                               headers={"Host": f"anything.example:{server.port}",
                                        "Origin": f"http://anything.example:{server.port}"})
            self.assertEqual(st, 403)
        finally:
            server.close()


if __name__ == "__main__":
    fh.main()
