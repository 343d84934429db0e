#!/usr/bin/env python3
"""S3 static website hosting end to end: Put/Get/DeleteBucketWebsite through boto3 with S3's
checks, and the website endpoint (the `<bucket>.s3-website-<region>.localhost` Host form, AWS's
dotted form, and fogbank's `/_website/<bucket>/` path form) answering unsigned GET and HEAD with
index documents, folder redirects, error documents, routing rules, per-object redirects and S3's
HTML error pages."""

import http.client
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402


class S3WebsiteTest(fh.FogbankTestCase):
    def setUp(self):
        self.s3 = self.server.client("s3")
        self.bucket = fh.unique_bucket("site")
        self.s3.create_bucket(Bucket=self.bucket)
        for key, body, extra in (("index.html", b"<h1>home</h1>", {}),
                                 ("docs/index.html", b"<h1>docs</h1>", {}),
                                 ("404.html", b"<h1>missing</h1>", {}),
                                 ("old.html", b"", {"WebsiteRedirectLocation": "/new.html"}),
                                 ("style.css", b"body{}", {"ContentType": "text/css"})):
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body,
                               ContentType=extra.pop("ContentType", "text/html"), **extra)

    def get(self, path, host=None, method="GET"):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            conn.request(method, path, headers={"Host": host or "%s:%d" % (self.server.host, self.server.port)})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def site(self, key="", method="GET"):
        return self.get("/" + key, host="%s.s3-website-us-east-1.localhost:%d" % (self.bucket, self.server.port),
                        method=method)

    def configure(self, **config):
        self.s3.put_bucket_website(Bucket=self.bucket, WebsiteConfiguration=config)

    def test_configuration_round_trip_and_validation(self):
        with self.assertRaises(ClientError) as cm:
            self.s3.get_bucket_website(Bucket=self.bucket)
        self.assertClientError(cm, "NoSuchWebsiteConfiguration", 404)
        config = {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"},
                  "RoutingRules": [{"Condition": {"KeyPrefixEquals": "blog/"},
                                    "Redirect": {"ReplaceKeyPrefixWith": "news/", "HttpRedirectCode": "302"}}]}
        self.configure(**config)
        got = self.s3.get_bucket_website(Bucket=self.bucket)
        self.assertEqual({k: got[k] for k in config}, config)
        for bad, code in (({"ErrorDocument": {"Key": "e.html"}}, "InvalidArgument"),
                          ({"IndexDocument": {"Suffix": "a/b.html"}}, "InvalidArgument"),
                          ({"RedirectAllRequestsTo": {"HostName": "x.example"},
                            "IndexDocument": {"Suffix": "index.html"}}, "InvalidArgument"),
                          ({"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [
                              {"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}]}, "InvalidRequest")):
            with self.assertRaises(ClientError) as cm:
                self.configure(**bad)
            self.assertClientError(cm, code, 400)
        self.s3.delete_bucket_website(Bucket=self.bucket)
        with self.assertRaises(ClientError) as cm:
            self.s3.get_bucket_website(Bucket=self.bucket)
        self.assertClientError(cm, "NoSuchWebsiteConfiguration", 404)

    def test_pages_redirects_and_errors(self):
        status, _, body = self.site()
        self.assertEqual(status, 404)
        self.assertIn(b"NoSuchWebsiteConfiguration", body)
        self.configure(IndexDocument={"Suffix": "index.html"}, ErrorDocument={"Key": "404.html"},
                       RoutingRules=[{"Condition": {"KeyPrefixEquals": "blog/"},
                                      "Redirect": {"ReplaceKeyPrefixWith": "news/", "HttpRedirectCode": "302"}},
                                     {"Condition": {"HttpErrorCodeReturnedEquals": "404", "KeyPrefixEquals": "img/"},
                                      "Redirect": {"HostName": "cdn.example", "Protocol": "https"}}])
        status, h, body = self.site()
        self.assertEqual((status, body), (200, b"<h1>home</h1>"))
        self.assertEqual(h["content-type"], "text/html")
        self.assertEqual(self.site("docs/")[2], b"<h1>docs</h1>")
        status, h, _ = self.site("docs")
        self.assertEqual((status, h["location"]), (302, "/docs/"))
        self.assertEqual(self.site("style.css")[1]["content-type"], "text/css")
        status, h, body = self.site("nope.html")
        self.assertEqual((status, body), (404, b"<h1>missing</h1>"))
        status, h, _ = self.site("old.html")
        self.assertEqual((status, h["location"]), (301, "/new.html"))
        status, h, _ = self.site("blog/2024/post.html")
        self.assertEqual((status, h["location"]), (302, "/news/2024/post.html"))
        status, h, _ = self.site("img/missing.png")
        self.assertEqual((status, h["location"]), (301, "https://cdn.example/img/missing.png"))
        status, h, body = self.site("index.html", method="HEAD")
        self.assertEqual((status, body, h["content-length"]), (200, b"", "13"))
        status, h, body = self.site("index.html", method="PUT")
        self.assertEqual(status, 405)
        self.assertIn(b"MethodNotAllowed", body)

        # No error document: S3's HTML page.
        self.configure(IndexDocument={"Suffix": "index.html"})
        status, h, body = self.site("gone")
        self.assertEqual(status, 404)
        self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertIn(b"<li>Code: NoSuchKey</li>", body)
        self.assertIn(b"<li>Key: gone</li>", body)

        # AWS's dotted endpoint form and fogbank's path form serve the same site.
        dotted = "%s.s3-website.us-east-1.localhost:%d" % (self.bucket, self.server.port)
        self.assertEqual(self.get("/", host=dotted)[2], b"<h1>home</h1>")
        self.assertEqual(self.get("/_website/%s/" % self.bucket)[2], b"<h1>home</h1>")
        status, h, _ = self.get("/_website/%s/docs" % self.bucket)
        self.assertEqual((status, h["location"]), (302, "/_website/%s/docs/" % self.bucket))
        status, _, body = self.get("/_website/%s/" % fh.unique_bucket("none"))
        self.assertEqual(status, 404)
        self.assertIn(b"NoSuchBucket", body)

        # The S3 API itself still needs signatures.
        status, _, _ = self.get("/%s/index.html" % self.bucket)
        self.assertEqual(status, 403)

    def test_redirect_all_requests(self):
        self.configure(RedirectAllRequestsTo={"HostName": "www.example.com", "Protocol": "https"})
        status, h, _ = self.site("a/b.html")
        self.assertEqual((status, h["location"]), (301, "https://www.example.com/a/b.html"))


if __name__ == "__main__":
    fh.main()
