#!/usr/bin/env python3
"""S3 listings end to end: ListObjects v1/v2, delimiters and common prefixes, pagination,
encoding-type=url, UTF-8 byte order, ListObjectVersions (unversioned), ListMultipartUploads,
ListParts."""

import concurrent.futures
import http.client
import os
import re
import sys
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402


def bname(tag="l"):
    return fh.unique_bucket(tag)


def utf8_sorted(keys):
    return sorted(keys, key=lambda k: k.encode("utf-8"))


class S3ListingTest(fh.FogbankTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One bucket of 2500 keys shared by the pagination tests (created on 8 threads).
        cls.many = bname("many")
        s3 = cls.server.client("s3")
        s3.create_bucket(Bucket=cls.many)
        cls.many_keys = [f"dir{i % 7}/file-{i:05d}" for i in range(2500)]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda k: s3.put_object(Bucket=cls.many, Key=k, Body=b"x"), cls.many_keys))

    def s3(self, **kw):
        return self.server.client("s3", **kw)

    def bucket_with(self, keys, tag="l"):
        name = bname(tag)
        s3 = self.s3()
        s3.create_bucket(Bucket=name)
        for k in keys:
            s3.put_object(Bucket=name, Key=k, Body=k.encode()[:16])
        return name

    def raw_get(self, path, query):
        host = f"{self.server.host}:{self.server.port}"
        hdrs = fh.sigv4_headers("GET", host, path, query, {}, b"", service="s3", include_content_sha=True)
        target = fh._uri_encode(path, safe="/-_.~") + "?" + fh.canonical_query(query)
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            conn.request("GET", target, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    # ------------------------------------------------------------------ order, prefix, delimiter
    def test_utf8_byte_order(self):
        keys = ["a", "a/b", "a+b", "é", "z", "Z", "日本", "a b", "A", "0", "~", "a-b", "ab", "\u00ff", "😀"]
        b = self.bucket_with(keys)
        got = [o["Key"] for o in self.s3().list_objects_v2(Bucket=b)["Contents"]]
        self.assertEqual(got, utf8_sorted(keys))
        got = [o["Key"] for o in self.s3().list_objects(Bucket=b)["Contents"]]
        self.assertEqual(got, utf8_sorted(keys))

    def test_v2_fields(self):
        keys = ["photos/2023/a.jpg", "photos/2024/b.jpg", "photos/c.jpg", "readme.txt"]
        b = self.bucket_with(keys)
        r = self.s3().list_objects_v2(Bucket=b)
        self.assertEqual(r["Name"], b)
        self.assertEqual(r["KeyCount"], 4)
        self.assertEqual(r["MaxKeys"], 1000)
        self.assertFalse(r["IsTruncated"])
        self.assertNotIn("NextContinuationToken", r)
        c = r["Contents"][3]
        self.assertEqual(c["Key"], "readme.txt")
        self.assertEqual(c["Size"], len(b"readme.txt"))
        self.assertEqual(c["ETag"][0], '"')
        self.assertEqual(c["StorageClass"], "STANDARD")
        self.assertNotIn("Owner", c)  # V2 omits Owner unless FetchOwner
        r = self.s3().list_objects_v2(Bucket=b, FetchOwner=True)
        self.assertTrue(r["Contents"][0]["Owner"]["ID"])
        # V1 always includes Owner.
        r1 = self.s3().list_objects(Bucket=b)
        self.assertTrue(r1["Contents"][0]["Owner"]["ID"])
        self.assertEqual(r1["Marker"], "")
        with self.assertRaises(ClientError) as cm:
            self.s3().list_objects_v2(Bucket=bname("missing"))
        self.assertClientError(cm, "NoSuchBucket", 404)

    def test_prefix_and_delimiter(self):
        keys = ["photos/2023/a.jpg", "photos/2023/b.jpg", "photos/2024/c.jpg", "photos/top.jpg",
                "photosx", "docs/x.txt", "root.txt", "photos/2024/sub/deep.jpg"]
        b = self.bucket_with(keys)
        s3 = self.s3()
        r = s3.list_objects_v2(Bucket=b, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["docs/", "photos/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["photosx", "root.txt"])
        self.assertEqual(r["KeyCount"], 4)
        self.assertEqual(r["Delimiter"], "/")
        r = s3.list_objects_v2(Bucket=b, Prefix="photos/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["photos/2023/", "photos/2024/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["photos/top.jpg"])
        self.assertEqual(r["Prefix"], "photos/")
        r = s3.list_objects_v2(Bucket=b, Prefix="photos/2024/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["photos/2024/sub/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["photos/2024/c.jpg"])
        r = s3.list_objects_v2(Bucket=b, Prefix="photos")
        self.assertEqual([o["Key"] for o in r["Contents"]],
                         utf8_sorted([k for k in keys if k.startswith("photos")]))
        self.assertNotIn("CommonPrefixes", r)
        r = s3.list_objects_v2(Bucket=b, Prefix="nothing-here/")
        self.assertEqual(r["KeyCount"], 0)
        self.assertNotIn("Contents", r)
        # Prefix ending without delimiter: "photos" + "/" groups everything below it.
        r = s3.list_objects_v2(Bucket=b, Prefix="photos", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["photos/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["photosx"])

    def test_multichar_and_odd_delimiters(self):
        keys = ["a--b--c", "a--d", "a-e", "x--", "--lead", "plain"]
        b = self.bucket_with(keys)
        s3 = self.s3()
        r = s3.list_objects_v2(Bucket=b, Delimiter="--")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["--", "a--", "x--"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a-e", "plain"])
        r = s3.list_objects_v2(Bucket=b, Prefix="a--", Delimiter="--")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a--b--"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a--d"])
        r = s3.list_objects_v2(Bucket=b, Delimiter="e")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["--le", "a-e"])
        r = s3.list_objects(Bucket=b, Delimiter="--")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["--", "a--", "x--"])

    # ------------------------------------------------------------------ V1 pagination
    def test_v1_marker_and_next_marker(self):
        keys = ["a/1", "a/2", "b", "c/1", "c/2", "d", "e"]
        b = self.bucket_with(keys)
        s3 = self.s3()
        # Without delimiter: truncated, no NextMarker (clients use the last key).
        r = s3.list_objects(Bucket=b, MaxKeys=2)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a/1", "a/2"])
        self.assertNotIn("NextMarker", r)
        r = s3.list_objects(Bucket=b, MaxKeys=2, Marker="a/2")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b", "c/1"])
        self.assertEqual(r["Marker"], "a/2")
        # With delimiter: NextMarker is the last key or common prefix returned.
        seen, marker, pages = [], "", 0
        while True:
            r = s3.list_objects(Bucket=b, MaxKeys=2, Delimiter="/", Marker=marker)
            pages += 1
            items = [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            seen += items
            if not r["IsTruncated"]:
                self.assertNotIn("NextMarker", r)
                break
            self.assertEqual(r["NextMarker"], max(items, key=lambda s: s.encode()))
            marker = r["NextMarker"]
            self.assertLess(pages, 10)
        self.assertEqual(utf8_sorted(seen), ["a/", "b", "c/", "d", "e"])
        self.assertEqual(len(seen), 5)
        # Marker past everything.
        r = s3.list_objects(Bucket=b, Marker="zzz")
        self.assertNotIn("Contents", r)
        self.assertFalse(r["IsTruncated"])
        # The paginator (v1) collects everything.
        pg = s3.get_paginator("list_objects")
        got = [o["Key"] for p in pg.paginate(Bucket=b, PaginationConfig={"PageSize": 3}) for o in p.get("Contents", [])]
        self.assertEqual(got, keys)

    # ------------------------------------------------------------------ V2 pagination
    def test_v2_continuation_and_start_after(self):
        keys = [f"k{i:02d}" for i in range(10)]
        b = self.bucket_with(keys)
        s3 = self.s3()
        r = s3.list_objects_v2(Bucket=b, MaxKeys=4)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(r["KeyCount"], 4)
        self.assertEqual(r["MaxKeys"], 4)
        tok = r["NextContinuationToken"]
        r = s3.list_objects_v2(Bucket=b, MaxKeys=4, ContinuationToken=tok)
        self.assertEqual([o["Key"] for o in r["Contents"]], keys[4:8])
        self.assertEqual(r["ContinuationToken"], tok)
        r = s3.list_objects_v2(Bucket=b, StartAfter="k06")
        self.assertEqual([o["Key"] for o in r["Contents"]], keys[7:])
        self.assertEqual(r["StartAfter"], "k06")
        r = s3.list_objects_v2(Bucket=b, StartAfter="k0")
        self.assertEqual([o["Key"] for o in r["Contents"]], keys)
        # The continuation token wins over StartAfter.
        r = s3.list_objects_v2(Bucket=b, MaxKeys=2, StartAfter="k01")
        r2 = s3.list_objects_v2(Bucket=b, MaxKeys=2, StartAfter="k00", ContinuationToken=r["NextContinuationToken"])
        self.assertEqual([o["Key"] for o in r2["Contents"]], ["k04", "k05"])
        with self.assertRaises(ClientError) as cm:
            s3.list_objects_v2(Bucket=b, ContinuationToken="not-a-real-token")
        self.assertClientError(cm, "InvalidArgument", 400)

    def test_v2_pagination_with_delimiter(self):
        keys = ["a/1", "a/2", "a/3", "b", "c/1", "d/1", "d/2", "e"]
        b = self.bucket_with(keys)
        pg = self.s3().get_paginator("list_objects_v2")
        objs, prefixes, counts = [], [], []
        for p in pg.paginate(Bucket=b, Delimiter="/", PaginationConfig={"PageSize": 2}):
            objs += [o["Key"] for o in p.get("Contents", [])]
            prefixes += [c["Prefix"] for c in p.get("CommonPrefixes", [])]
            counts.append(p["KeyCount"])
        self.assertEqual(objs, ["b", "e"])
        self.assertEqual(prefixes, ["a/", "c/", "d/"])
        self.assertEqual(counts, [2, 2, 1])

    def test_max_keys_zero_and_cap(self):
        b = self.many
        s3 = self.s3()
        keys = sorted(self.many_keys)
        r = s3.list_objects_v2(Bucket=b, MaxKeys=0)
        self.assertEqual(r["KeyCount"], 0)
        self.assertNotIn("Contents", r)
        self.assertEqual(r["MaxKeys"], 0)
        r = s3.list_objects_v2(Bucket=b, MaxKeys=2000)
        self.assertEqual(r["KeyCount"], 1000)
        self.assertEqual(len(r["Contents"]), 1000)
        self.assertTrue(r["IsTruncated"])
        r2 = s3.list_objects_v2(Bucket=b, ContinuationToken=r["NextContinuationToken"])
        self.assertEqual([o["Key"] for o in r2["Contents"]], keys[1000:2000])
        r = s3.list_objects(Bucket=b)
        self.assertEqual(len(r["Contents"]), 1000)
        self.assertTrue(r["IsTruncated"])
        with self.assertRaises(ClientError) as cm:
            self.s3(validate=False).list_objects_v2(Bucket=b, MaxKeys=-1)
        self.assertClientError(cm, "InvalidArgument", 400)

    def test_paginator_2500_keys(self):
        b = self.many
        s3 = self.s3()
        keys = self.many_keys
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=b))
        self.assertEqual([p["KeyCount"] for p in pages], [1000, 1000, 500])
        got = [o["Key"] for p in pages for o in p["Contents"]]
        self.assertEqual(got, sorted(keys))
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=b, Prefix="dir3/",
                                                                  PaginationConfig={"PageSize": 100}))
        got = [o["Key"] for p in pages for o in p["Contents"]]
        self.assertEqual(got, sorted(k for k in keys if k.startswith("dir3/")))
        r = s3.list_objects_v2(Bucket=b, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], [f"dir{i}/" for i in range(7)])
        self.assertEqual(r["KeyCount"], 7)

    def test_pagination_stable_under_writes(self):
        keys = ["b1", "b2", "b3", "b4", "b5", "b6"]
        b = self.bucket_with(keys)
        s3 = self.s3()
        r = s3.list_objects_v2(Bucket=b, MaxKeys=3)
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b1", "b2", "b3"])
        # Keys added before and after the position, and one deleted ahead of it.
        s3.put_object(Bucket=b, Key="a0", Body=b"")
        s3.put_object(Bucket=b, Key="b2x", Body=b"")
        s3.put_object(Bucket=b, Key="b45", Body=b"")
        s3.delete_object(Bucket=b, Key="b5")
        r = s3.list_objects_v2(Bucket=b, MaxKeys=10, ContinuationToken=r["NextContinuationToken"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b4", "b45", "b6"])
        # v1 with a marker of a deleted key continues after it.
        r = s3.list_objects(Bucket=b, Marker="b5")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b6"])
        # The token survives deletion of the last key it returned.
        r = s3.list_objects_v2(Bucket=b, MaxKeys=2)
        s3.delete_object(Bucket=b, Key="b1")
        r = s3.list_objects_v2(Bucket=b, MaxKeys=10, ContinuationToken=r["NextContinuationToken"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b2", "b2x", "b3", "b4", "b45", "b6"])

    # ------------------------------------------------------------------ encoding-type=url
    def test_encoding_type_url(self):
        keys = ["ctl\x01char", "sp ace", "pl+us", "pct%", "uni-é", "amp&lt", "nl\nline"]
        b = self.bucket_with(keys)
        s3 = self.s3()
        # botocore asks for encoding-type=url by itself and decodes: keys come back intact.
        r = s3.list_objects_v2(Bucket=b)
        self.assertEqual([o["Key"] for o in r["Contents"]], utf8_sorted(keys))
        self.assertEqual(r["EncodingType"], "url")
        r = s3.list_objects(Bucket=b, Delimiter="\x01")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["ctl\x01"])
        r = s3.list_object_versions(Bucket=b, Prefix="nl\n")
        self.assertEqual([v["Key"] for v in r["Versions"]], ["nl\nline"])
        # Asked for explicitly, botocore leaves the values encoded.
        r = s3.list_objects_v2(Bucket=b, EncodingType="url")
        self.assertEqual([urllib.parse.unquote_plus(o["Key"]) for o in r["Contents"]], utf8_sorted(keys))
        self.assertIn("pl%2Bus", [o["Key"] for o in r["Contents"]])
        # On the wire the key text is percent-encoded.
        st, body = self.raw_get(f"/{b}", {"list-type": "2", "encoding-type": "url", "prefix": "ctl"})
        self.assertEqual(st, 200, body)
        self.assertIn(b"<Key>ctl%01char</Key>", body)
        st, body = self.raw_get(f"/{b}", {"list-type": "2", "encoding-type": "url", "prefix": "uni"})
        self.assertIn(b"<Key>uni-%C3%A9</Key>", body)
        self.assertEqual(fh.xml_find(body, "Prefix"), "uni")
        st, body = self.raw_get(f"/{b}", {"list-type": "2", "encoding-type": "bogus"})
        self.assertEqual(st, 400)
        self.assertEqual(fh.parse_error(body)[0], "InvalidArgument")
        # Without encoding-type, XML escaping: & and < are escaped, not percent-encoded.
        st, body = self.raw_get(f"/{b}", {"list-type": "2", "prefix": "amp"})
        self.assertIn(b"<Key>amp&amp;lt</Key>", body)

    # ------------------------------------------------------------------ characters XML 1.0 lacks
    def raw_request(self, method, path, query=None, body=b""):
        """A signed request whose path may hold any bytes (pass `path` as bytes)."""
        host = f"{self.server.host}:{self.server.port}"
        hdrs = fh.sigv4_headers(method, host, path, query, {}, body, service="s3", include_content_sha=True)
        target = fh._uri_encode(path, safe="/-_.~") + ("?" + fh.canonical_query(query) if query else "")
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            conn.request(method, target, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def test_control_character_keys_list_as_aws_does(self):
        keys = ["c\x01one", "c\x1fus", "c\x00nul", "c\x7fdel", "c-plain"]
        b = self.bucket_with(keys)
        s3 = self.s3()
        # boto3 asks for encoding-type=url on its own for the three object listings, so keys with
        # control characters come back intact, NUL included; asked for explicitly, still encoded.
        self.assertEqual([o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]], utf8_sorted(keys))
        self.assertEqual([o["Key"] for o in s3.list_objects(Bucket=b)["Contents"]], utf8_sorted(keys))
        self.assertEqual([v["Key"] for v in s3.list_object_versions(Bucket=b)["Versions"]], utf8_sorted(keys))
        r = s3.list_objects_v2(Bucket=b, EncodingType="url")
        self.assertEqual([urllib.parse.unquote(o["Key"]) for o in r["Contents"]], utf8_sorted(keys))
        self.assertIn("c%01one", [o["Key"] for o in r["Contents"]])
        r = s3.list_objects(Bucket=b, Delimiter="\x1f", EncodingType="url")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["c%1F"])
        # Without encoding-type the document carries AWS's character references (&#x1;), never a
        # raw control byte, and is UTF-8 throughout.
        for query in ({"list-type": "2"}, {}, {"versions": ""}, {"list-type": "2", "delimiter": "\x1f"}):
            st, body = self.raw_get(f"/{b}", query)
            self.assertEqual(st, 200, body)
            body.decode("utf-8")
            self.assertFalse([c for c in body if c < 0x20 and c not in b"\t\n\r"], body)
            if "delimiter" in query:
                self.assertIn(b"<Prefix>c&#x1f;</Prefix>", body)
                self.assertIn(b"<Delimiter>&#x1f;</Delimiter>", body)
            else:
                for ref in (b"c&#x1;one", b"c&#x1f;us", b"c&#x0;nul", b"c\x7fdel"):
                    self.assertIn(b"<Key>" + ref + b"</Key>", body)
            # Apart from those references (which XML 1.0 parsers refuse, as they refuse AWS's),
            # the document is well-formed.
            ET.fromstring(re.sub(rb"&#x[0-9a-f]+;", b"?", body))

    def test_keys_must_be_utf8(self):
        b = self.bucket_with([])
        st, body = self.raw_request("PUT", f"/{b}/bad\xffkey".encode("latin-1"), body=b"x")
        self.assertEqual(st, 400, body)
        self.assertEqual(fh.parse_error(body)[:2], ("InvalidURI", "Couldn't parse the specified URI."))
        # Overlong and surrogate forms are not UTF-8 either.
        for raw in (b"/over\xc0\xafx", b"/surrogate\xed\xa0\x80x"):
            st, body = self.raw_request("PUT", b"/" + b.encode() + raw, body=b"x")
            self.assertEqual(st, 400, body)
        st, body = self.raw_request("POST", f"/{b}/up\xfe".encode("latin-1"), {"uploads": ""})
        self.assertEqual(st, 400, body)
        self.s3().put_object(Bucket=b, Key="src", Body=b"x")
        host = f"{self.server.host}:{self.server.port}"
        path = f"/{b}/copy\xff".encode("latin-1")
        hdrs = fh.sigv4_headers("PUT", host, path, None, {"x-amz-copy-source": f"/{b}/src"}, b"",
                                service="s3", include_content_sha=True)
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            conn.request("PUT", fh._uri_encode(path, safe="/-_.~"), headers=hdrs)
            resp = conn.getresponse()
            self.assertEqual(resp.status, 400, resp.read())
        finally:
            conn.close()
        # Nothing was stored, and the listing is still UTF-8 that boto3 parses.
        self.assertEqual([o["Key"] for o in self.s3().list_objects_v2(Bucket=b)["Contents"]], ["src"])
        self.assertEqual(self.s3().list_multipart_uploads(Bucket=b).get("Uploads", []), [])

    # ------------------------------------------------------------------ ListObjectVersions
    def test_list_object_versions_unversioned(self):
        keys = ["v/a", "v/b", "w"]
        b = self.bucket_with(keys)
        s3 = self.s3()
        r = s3.list_object_versions(Bucket=b)
        self.assertEqual([v["Key"] for v in r["Versions"]], keys)
        for v in r["Versions"]:
            self.assertEqual(v["VersionId"], "null")
            self.assertTrue(v["IsLatest"])
            self.assertEqual(v["ETag"][0], '"')
        self.assertNotIn("DeleteMarkers", r)
        r = s3.list_object_versions(Bucket=b, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["v/"])
        self.assertEqual([v["Key"] for v in r["Versions"]], ["w"])
        r = s3.list_object_versions(Bucket=b, MaxKeys=1)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(r["NextKeyMarker"], "v/a")
        r = s3.list_object_versions(Bucket=b, KeyMarker="v/a")
        self.assertEqual([v["Key"] for v in r["Versions"]], ["v/b", "w"])
        # Unversioned buckets: get_bucket_versioning has no Status.
        self.assertNotIn("Status", s3.get_bucket_versioning(Bucket=b))

    # ------------------------------------------------------------------ ListMultipartUploads
    def test_list_multipart_uploads(self):
        b = bname("mpu")
        s3 = self.s3()
        s3.create_bucket(Bucket=b)
        ids = {}
        for k in ["docs/a", "docs/b", "docs/sub/c", "img/x", "top"]:
            ids[k] = s3.create_multipart_upload(Bucket=b, Key=k)["UploadId"]
        second_a = s3.create_multipart_upload(Bucket=b, Key="docs/a")["UploadId"]
        r = s3.list_multipart_uploads(Bucket=b)
        self.assertEqual(r["Bucket"], b)
        ups = [(u["Key"], u["UploadId"]) for u in r["Uploads"]]
        self.assertEqual([k for k, _ in ups], ["docs/a", "docs/a", "docs/b", "docs/sub/c", "img/x", "top"])
        self.assertEqual({u for k, u in ups if k == "docs/a"}, {ids["docs/a"], second_a})
        self.assertFalse(r["IsTruncated"])
        u0 = r["Uploads"][0]
        self.assertEqual(u0["StorageClass"], "STANDARD")
        self.assertIsNotNone(u0["Initiated"])
        self.assertTrue(u0["Owner"]["ID"])
        r = s3.list_multipart_uploads(Bucket=b, Prefix="docs/", Delimiter="/")
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["docs/a", "docs/a", "docs/b"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["docs/sub/"])
        r = s3.list_multipart_uploads(Bucket=b, Delimiter="/")
        self.assertEqual([u["Key"] for u in r.get("Uploads", [])], ["top"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["docs/", "img/"])
        # Pagination with key and upload-id markers.
        r = s3.list_multipart_uploads(Bucket=b, MaxUploads=1)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(len(r["Uploads"]), 1)
        self.assertEqual(r["NextKeyMarker"], "docs/a")
        first = r["Uploads"][0]["UploadId"]
        self.assertEqual(r["NextUploadIdMarker"], first)
        r = s3.list_multipart_uploads(Bucket=b, KeyMarker="docs/a", UploadIdMarker=first)
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["docs/a", "docs/b", "docs/sub/c", "img/x", "top"])
        self.assertNotEqual(r["Uploads"][0]["UploadId"], first)
        # key-marker alone: uploads for keys strictly after it.
        r = s3.list_multipart_uploads(Bucket=b, KeyMarker="docs/a")
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["docs/b", "docs/sub/c", "img/x", "top"])
        pg = s3.get_paginator("list_multipart_uploads")
        got = [u["Key"] for p in pg.paginate(Bucket=b, PaginationConfig={"PageSize": 2}) for u in p.get("Uploads", [])]
        self.assertEqual(got, ["docs/a", "docs/a", "docs/b", "docs/sub/c", "img/x", "top"])
        # Completed/aborted uploads disappear.
        s3.abort_multipart_upload(Bucket=b, Key="top", UploadId=ids["top"])
        r = s3.list_multipart_uploads(Bucket=b, Prefix="top")
        self.assertNotIn("Uploads", r)

    # ------------------------------------------------------------------ ListParts
    def test_list_parts(self):
        b = bname("parts")
        s3 = self.s3()
        s3.create_bucket(Bucket=b)
        up = s3.create_multipart_upload(Bucket=b, Key="p", StorageClass="STANDARD_IA")["UploadId"]
        etags = {}
        for n in (1, 2, 3, 5, 8):
            body = bytes([n]) * (100 + n)
            etags[n] = s3.upload_part(Bucket=b, Key="p", UploadId=up, PartNumber=n, Body=body)["ETag"]
        r = s3.list_parts(Bucket=b, Key="p", UploadId=up)
        self.assertEqual([p["PartNumber"] for p in r["Parts"]], [1, 2, 3, 5, 8])
        self.assertEqual([p["Size"] for p in r["Parts"]], [101, 102, 103, 105, 108])
        self.assertEqual([p["ETag"] for p in r["Parts"]], [etags[n] for n in (1, 2, 3, 5, 8)])
        self.assertFalse(r["IsTruncated"])
        self.assertEqual(r["UploadId"], up)
        self.assertEqual(r["Key"], "p")
        self.assertEqual(r["StorageClass"], "STANDARD_IA")
        r = s3.list_parts(Bucket=b, Key="p", UploadId=up, MaxParts=2)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual([p["PartNumber"] for p in r["Parts"]], [1, 2])
        self.assertEqual(r["NextPartNumberMarker"], 2)
        self.assertEqual(r["MaxParts"], 2)
        r = s3.list_parts(Bucket=b, Key="p", UploadId=up, MaxParts=2, PartNumberMarker=2)
        self.assertEqual([p["PartNumber"] for p in r["Parts"]], [3, 5])
        self.assertEqual(r["PartNumberMarker"], 2)
        r = s3.list_parts(Bucket=b, Key="p", UploadId=up, PartNumberMarker=4)
        self.assertEqual([p["PartNumber"] for p in r["Parts"]], [5, 8])
        pg = s3.get_paginator("list_parts")
        got = [p["PartNumber"] for page in pg.paginate(Bucket=b, Key="p", UploadId=up,
                                                       PaginationConfig={"PageSize": 2}) for p in page["Parts"]]
        self.assertEqual(got, [1, 2, 3, 5, 8])
        with self.assertRaises(ClientError) as cm:
            s3.list_parts(Bucket=b, Key="p", UploadId="no-such-upload")
        self.assertClientError(cm, "NoSuchUpload", 404)
        with self.assertRaises(ClientError) as cm:
            s3.list_parts(Bucket=b, Key="other-key", UploadId=up)
        self.assertClientError(cm, "NoSuchUpload", 404)


if __name__ == "__main__":
    fh.main()
