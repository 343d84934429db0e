#!/usr/bin/env python3
"""S3 bucket CORS end to end: Put/Get/DeleteBucketCors through boto3 with S3's validation,
preflight OPTIONS requests answered without credentials as S3 evaluates the rules, the
Access-Control-* headers of actual cross-origin requests (and of their errors), rules surviving a
restart, and headless Chromium uploading with a presigned PUT and reading back from a page of
another origin."""

import http.client
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

SITE1 = "http://www.mywebsite1.com"
SITE2 = "http://www.mywebsite2.com"
RULES = [
    {"ID": "site1", "AllowedOrigins": [SITE1], "AllowedMethods": ["GET", "POST"], "AllowedHeaders": ["*"],
     "ExposeHeaders": ["x-amz-request-id", "ETag"], "MaxAgeSeconds": 3000},
    {"AllowedOrigins": [SITE2, "https://*.example.org"], "AllowedMethods": ["GET"],
     "AllowedHeaders": ["x-amz-*", "Authorization"]},
]
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
               "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
               "whitelisted by the resource's CORS spec.")


def header_set(value):
    return {p.strip().lower() for p in (value or "").split(",") if p.strip()}


class S3CorsTest(fh.FogbankTestCase):
    def setUp(self):
        self.s3 = self.server.client("s3")
        self.bucket = fh.unique_bucket("cors")
        self.s3.create_bucket(Bucket=self.bucket)
        self.s3.put_object(Bucket=self.bucket, Key="a b.txt", Body=b"hello")

    def raw(self, method, path, headers=None):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()

    def preflight(self, origin, method, request_headers=None, key="a%20b.txt"):
        headers = {"Access-Control-Request-Method": method}
        if origin:
            headers["Origin"] = origin
        if request_headers:
            headers["Access-Control-Request-Headers"] = request_headers
        return self.raw("OPTIONS", "/%s/%s" % (self.bucket, key), headers)

    def assert_code(self, body, code):
        self.assertIn(b"<Code>%s</Code>" % code.encode(), body, body)

    def test_configuration_round_trip_and_validation(self):
        with self.assertRaises(ClientError) as cm:
            self.s3.get_bucket_cors(Bucket=self.bucket)
        self.assertClientError(cm, "NoSuchCORSConfiguration", 404)
        self.s3.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": RULES})
        self.assertEqual(self.s3.get_bucket_cors(Bucket=self.bucket)["CORSRules"], RULES)

        bad = [
            ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}, "InvalidRequest",
             "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
            ({"AllowedOrigins": ["http://*.*.com"], "AllowedMethods": ["GET"]}, "InvalidRequest",
             'AllowedOrigin "http://*.*.com" can not have more than one wildcard.'),
            ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["*"]}, "InvalidRequest",
             'ExposeHeader "*" contains wildcard. We currently do not support wildcard for ExposeHeader.'),
        ]
        for rule, code, message in bad:
            with self.assertRaises(ClientError) as cm:
                self.s3.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [rule]})
            self.assertClientError(cm, code, 400)
            self.assertEqual(cm.exception.response["Error"]["Message"], message)
        with self.assertRaises(ClientError) as cm:
            self.s3.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [
                {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101})
        self.assertClientError(cm, "InvalidRequest", 400)
        self.assertEqual(self.s3.get_bucket_cors(Bucket=self.bucket)["CORSRules"], RULES)  # unchanged

        self.s3.delete_bucket_cors(Bucket=self.bucket)
        with self.assertRaises(ClientError) as cm:
            self.s3.get_bucket_cors(Bucket=self.bucket)
        self.assertClientError(cm, "NoSuchCORSConfiguration", 404)

    def test_preflight_is_evaluated_as_s3_does(self):
        status, _, body = self.preflight(SITE1, "GET")
        self.assertEqual(status, 403)
        self.assert_code(body, "AccessForbidden")
        self.assertIn(b"CORS is not enabled for this bucket.", body)
        self.s3.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": RULES})

        status, h, _ = self.preflight(SITE1, "POST", "Content-Type, X-Custom")
        self.assertEqual(status, 200)
        self.assertEqual(h["access-control-allow-origin"], SITE1)
        self.assertEqual(h["access-control-allow-credentials"], "true")
        self.assertEqual(header_set(h["access-control-allow-methods"]), {"get", "post"})
        self.assertEqual(header_set(h["access-control-allow-headers"]), {"content-type", "x-custom"})
        self.assertEqual(header_set(h["access-control-expose-headers"]), {"x-amz-request-id", "etag"})
        self.assertEqual(h["access-control-max-age"], "3000")
        self.assertIn("origin", header_set(h["vary"]))

        # Rules are tried in order; the second admits a wildcard origin and listed headers only.
        status, h, _ = self.preflight("https://app.example.org", "GET", "x-amz-date,authorization")
        self.assertEqual((status, h["access-control-allow-origin"]), (200, "https://app.example.org"))
        self.assertNotIn("access-control-max-age", h)
        for origin, method, hdrs in ((SITE2, "POST", None), (SITE2, "GET", "content-type"),
                                     ("http://evil.example", "GET", None), (SITE1, "DELETE", None),
                                     ("https://example.org", "GET", None)):
            status, _, body = self.preflight(origin, method, hdrs)
            self.assertEqual(status, 403, (origin, method, hdrs))
            self.assert_code(body, "AccessForbidden")
            self.assertIn(NOT_ALLOWED.replace("'", "&apos;").encode(), body)

        status, _, body = self.preflight(None, "GET")
        self.assertEqual(status, 400)
        self.assert_code(body, "BadRequest")
        status, _, body = self.raw("OPTIONS", "/%s" % self.bucket, {"Origin": SITE1})
        self.assertEqual(status, 400)
        status, _, body = self.raw("OPTIONS", "/%s" % fh.unique_bucket("none"),
                                   {"Origin": SITE1, "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 404)
        self.assert_code(body, "NoSuchBucket")

    def test_actual_requests_carry_the_headers_of_their_rule(self):
        self.s3.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": RULES})
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": "a b.txt"})
        path = url[len(self.server.http_url):]
        status, h, body = self.raw("GET", path, {"Origin": SITE1})
        self.assertEqual((status, body), (200, b"hello"))
        self.assertEqual(h["access-control-allow-origin"], SITE1)
        self.assertIn("x-amz-request-id", header_set(h["access-control-expose-headers"]))
        status, h, _ = self.raw("GET", path, {"Origin": "http://evil.example"})
        self.assertEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", h)
        # An error answered to an allowed origin carries them too, so the page can read it.
        missing = self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": "nope"})
        status, h, body = self.raw("GET", missing[len(self.server.http_url):], {"Origin": SITE2})
        self.assertEqual(status, 404)
        self.assertEqual(h["access-control-allow-origin"], SITE2)
        # Signed SDK calls with an Origin as well (a browser app using the SDK).
        seen = {}
        s3 = self.server.client("s3")
        s3.meta.events.register("before-sign.s3.GetObject",
                                lambda request, **_: request.headers.__setitem__("Origin", SITE1))
        s3.meta.events.register("after-call.s3.GetObject",
                                lambda http_response, **_: seen.update(http_response.headers))
        s3.get_object(Bucket=self.bucket, Key="a b.txt")
        self.assertEqual(seen.get("Access-Control-Allow-Origin"), SITE1)

    def test_rules_survive_a_restart(self):
        self.s3.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": RULES})
        self.server.stop()
        self.server.start()
        self.s3 = self.server.client("s3")
        self.assertEqual(self.s3.get_bucket_cors(Bucket=self.bucket)["CORSRules"], RULES)
        status, h, _ = self.preflight(SITE2, "GET")
        self.assertEqual((status, h.get("access-control-allow-origin")), (200, SITE2))


PAGE = """<!doctype html><title>pending</title><script>
(async () => {
  const out = {};
  try {
    const put = await fetch(%(put)s, {method: "PUT", body: "from the browser",
                                      headers: {"Content-Type": "text/plain"}});
    out.putStatus = put.status;
    out.etag = put.headers.get("ETag");
    const get = await fetch(%(get)s);
    out.getStatus = get.status;
    out.body = await get.text();
    try {
      await fetch(%(denied)s, {method: "PUT", body: "x"});
      out.denied = "sent";
    } catch (e) {
      out.denied = "blocked";
    }
  } catch (e) {
    out.error = String(e);
  }
  document.title = "done";
  document.body.textContent = JSON.stringify(out);
})();
</script><body></body>"""


class S3CorsBrowserTest(fh.FogbankTestCase):
    """Headless Chromium on a page of another origin (a local port, so fogbank's cross-site guard
    lets it change state) uploads with a presigned PUT and reads the object back."""

    def test_browser_presigned_put_and_get_cross_origin(self):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        self.assertIsNotNone(chromium, "chromium is not installed (scripts/deps.sh test installs it)")
        page_dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, page_dir, True)
        handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=page_dir, **kw)  # noqa: E731
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.addCleanup(httpd.shutdown)
        page_origin = "http://127.0.0.1:%d" % httpd.server_address[1]

        s3 = self.server.client("s3")
        bucket, denied_bucket = fh.unique_bucket("web"), fh.unique_bucket("noweb")
        s3.create_bucket(Bucket=bucket)
        s3.create_bucket(Bucket=denied_bucket)
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": [page_origin], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
             "ExposeHeaders": ["ETag"]}]})
        put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "upload.txt",
                                                              "ContentType": "text/plain"})
        get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "upload.txt"})
        denied = s3.generate_presigned_url("put_object", Params={"Bucket": denied_bucket, "Key": "x"})
        with open(os.path.join(page_dir, "index.html"), "w") as f:
            f.write(PAGE % {"put": json.dumps(put), "get": json.dumps(get), "denied": json.dumps(denied)})

        profile = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, profile, True)
        r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--user-data-dir=" + profile, "--virtual-time-budget=15000", "--dump-dom",
                            page_origin + "/index.html"], capture_output=True, text=True, timeout=90)
        self.assertIn("<title>done</title>", r.stdout, r.stderr[-2000:])
        body = r.stdout.split("<body>", 1)[1].split("</body>", 1)[0]
        out = json.loads(body)
        self.assertEqual(out.get("putStatus"), 200, out)
        self.assertTrue(out.get("etag"), out)  # exposed by the rule
        self.assertEqual((out.get("getStatus"), out.get("body")), (200, "from the browser"), out)
        self.assertEqual(out.get("denied"), "blocked", out)  # no CORS rules: the browser refuses
        self.assertEqual(s3.get_object(Bucket=bucket, Key="upload.txt")["Body"].read(), b"from the browser")


if __name__ == "__main__":
    fh.main()
