#!/usr/bin/env python3
"""The AWS CLI's S3 commands against fogbank: aws s3 mb/cp/mv/sync/ls/rm/rb/presign and
aws s3api put-object/get-object/head-object/list-objects-v2, over HTTP and HTTPS."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402
from test_cli import CLI  # noqa: E402

MiB = 1024 * 1024


def bname(tag="c"):
    return fh.unique_bucket("cli-" + tag)


def tree(root):
    """{relative path: sha256} of every file below root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh_:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh_.read()).hexdigest()
    return out


@unittest.skipIf(CLI is None, "AWS CLI not available: neither `aws` on PATH nor `python3 -m awscli` works")
class S3CliTest(fh.FogbankTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.home = tempfile.mkdtemp(prefix="fogbank-s3cli-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.home, ignore_errors=True)
        super().tearDownClass()

    def env(self, ca=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.path.join(self.home, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "credentials"),
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "AWS_PAGER": "",
            "HOME": self.home,
        })
        if ca:
            env["AWS_CA_BUNDLE"] = ca
        return env

    def aws(self, *args, https=False, ca=None, stdin=None, output="json"):
        cmd = CLI + list(args) + ["--endpoint-url", self.server.endpoint(https), "--output", output]
        return subprocess.run(cmd, capture_output=True, timeout=120, env=self.env(ca), input=stdin)

    def ok(self, *args, **kw):
        r = self.aws(*args, **kw)
        self.assertEqual(r.returncode, 0, f"aws {' '.join(args)} failed:\n{r.stderr.decode()}")
        return r.stdout.decode()

    def ok_json(self, *args, **kw):
        out = self.ok(*args, **kw)
        return json.loads(out) if out.strip() else {}

    def boto_bucket(self, tag):
        """Setup outside the CLI (CLI start-up is slow): a bucket made with boto3."""
        b = bname(tag)
        self.server.client("s3").create_bucket(Bucket=b)
        return b

    def fail(self, *args, **kw):
        r = self.aws(*args, **kw)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        return r.stderr.decode()

    # ------------------------------------------------------------------ tests
    def test_mb_ls_rb(self):
        b = bname("mb")
        self.assertIn(f"make_bucket: {b}", self.ok("s3", "mb", f"s3://{b}"))
        listing = self.ok("s3", "ls")
        self.assertIn(b, [line.split()[-1] for line in listing.splitlines() if line.strip()])
        self.ok("s3api", "put-object", "--bucket", b, "--key", "x", "--body", __file__)
        self.assertIn("BucketNotEmpty", self.fail("s3", "rb", f"s3://{b}"))
        out = self.ok("s3", "rb", f"s3://{b}", "--force")
        self.assertIn(f"remove_bucket: {b}", out)
        self.assertIn("NoSuchBucket", self.fail("s3", "ls", f"s3://{b}"))

    def test_cp_sync_ls_rm(self):
        b = self.boto_bucket("sync")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "src")
            files = {"a.txt": b"alpha\n", "dir/b.bin": os.urandom(3000), "dir/sub/c d.txt": b"space name",
                     "ünï/日本.txt": "unicode".encode(), "empty": b""}
            for rel, data in files.items():
                p = os.path.join(src, rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(data)
                # S3's LastModified has one-second resolution: a file written in the same second
                # as its upload would look newer than the object and be uploaded again.
                old = time.time() - 60
                os.utime(p, (old, old))
            out = self.ok("s3", "sync", src, f"s3://{b}/pre/")
            self.assertEqual(out.count("upload:"), len(files), out)
            # Second sync: nothing to do.
            self.assertEqual(self.ok("s3", "sync", src, f"s3://{b}/pre/").strip(), "")
            # Change one file (size differs): only it is uploaded.
            with open(os.path.join(src, "a.txt"), "wb") as f:
                f.write(b"alpha changed\n")
            out = self.ok("s3", "sync", src, f"s3://{b}/pre/")
            self.assertEqual(out.count("upload:"), 1, out)
            self.assertIn("a.txt", out)
            listing = self.ok("s3", "ls", f"s3://{b}/pre/", "--recursive")
            keys = sorted(line.split(None, 3)[3] for line in listing.splitlines() if line.strip())
            self.assertEqual(keys, sorted("pre/" + k for k in files))
            top = self.ok("s3", "ls", f"s3://{b}/pre/")
            self.assertIn("PRE dir/", top)
            self.assertIn("PRE ünï/", top)
            # Download everything back.
            dst = os.path.join(d, "dst")
            self.ok("s3", "sync", f"s3://{b}/pre/", dst)
            self.assertEqual(tree(dst), tree(src))
            # cp of one object, and mv.
            one = os.path.join(d, "one")
            self.ok("s3", "cp", f"s3://{b}/pre/dir/sub/c d.txt", one)
            with open(one, "rb") as f:
                self.assertEqual(f.read(), b"space name")
            self.ok("s3", "mv", f"s3://{b}/pre/a.txt", f"s3://{b}/moved/a.txt")
            s3 = self.server.client("s3")
            self.assertEqual(s3.head_object(Bucket=b, Key="moved/a.txt")["ContentLength"], 14)
            self.assertNotIn("pre/a.txt", [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]])
            # sync --delete removes what is gone locally.
            os.remove(os.path.join(src, "empty"))
            out = self.ok("s3", "sync", src, f"s3://{b}/pre/", "--delete")
            self.assertIn("delete: s3://%s/pre/empty" % b, out)
            out = self.ok("s3", "rm", f"s3://{b}/", "--recursive")
            # pre/ minus "empty" (a.txt was uploaded again by the last sync), plus moved/a.txt.
            self.assertEqual(out.count("delete:"), len(files), out)
            self.assertEqual(s3.list_objects_v2(Bucket=b)["KeyCount"], 0)

    def test_large_cp_multipart_and_stdin(self):
        b = self.boto_bucket("big")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "big")
            data = os.urandom(10 * MiB)
            with open(src, "wb") as f:
                f.write(data)
            self.ok("s3", "cp", src, f"s3://{b}/big")
            head = self.server.client("s3").head_object(Bucket=b, Key="big")
            self.assertEqual(head["ContentLength"], len(data))
            self.assertTrue(head["ETag"].endswith('-2"'), head["ETag"])  # 8 MiB chunks by default
            dst = os.path.join(d, "back")
            self.ok("s3", "cp", f"s3://{b}/big", dst)
            with open(dst, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest())
        # Streams: stdin to S3 and S3 to stdout.
        r = self.aws("s3", "cp", "-", f"s3://{b}/stream", stdin=b"from stdin\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.aws("s3", "cp", f"s3://{b}/stream", "-")
        self.assertEqual((r.returncode, r.stdout), (0, b"from stdin\n"))

    def test_s3api_calls(self):
        b = bname("api")
        self.ok_json("s3api", "create-bucket", "--bucket", b)
        with tempfile.TemporaryDirectory() as d:
            body = os.path.join(d, "body")
            with open(body, "wb") as f:
                f.write(b"s3api body")
            put = self.ok_json("s3api", "put-object", "--bucket", b, "--key", "dir/obj.txt", "--body", body,
                               "--content-type", "text/plain", "--metadata", "owner=cli,team=qa")
            self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(b"s3api body").hexdigest())
            head = self.ok_json("s3api", "head-object", "--bucket", b, "--key", "dir/obj.txt")
            self.assertEqual(head["ContentLength"], 10)
            self.assertEqual(head["ContentType"], "text/plain")
            self.assertEqual(head["Metadata"], {"owner": "cli", "team": "qa"})
            out = os.path.join(d, "out")
            got = self.ok_json("s3api", "get-object", "--bucket", b, "--key", "dir/obj.txt", "--range", "bytes=0-4", out)
            self.assertEqual(got["ContentRange"], "bytes 0-4/10")
            with open(out, "rb") as f:
                self.assertEqual(f.read(), b"s3api")
        for k in ("dir/a", "dir/b", "z"):
            self.server.client("s3").put_object(Bucket=b, Key=k, Body=b"")
        lst = self.ok_json("s3api", "list-objects-v2", "--bucket", b, "--delimiter", "/")
        self.assertEqual([p["Prefix"] for p in lst["CommonPrefixes"]], ["dir/"])
        # The CLI paginates by itself with --page-size.
        lst = self.ok_json("s3api", "list-objects-v2", "--bucket", b, "--prefix", "", "--page-size", "1")
        self.assertEqual([o["Key"] for o in lst["Contents"]], ["dir/a", "dir/b", "dir/obj.txt", "z"])
        err = self.fail("s3api", "get-object", "--bucket", b, "--key", "missing", os.devnull)
        self.assertIn("NoSuchKey", err)

    def test_https_and_presign(self):
        b = self.boto_bucket("tls")
        r = self.aws("s3", "cp", "-", f"s3://{b}/tls.txt", https=True, ca=self.server.ca, stdin=b"over tls")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.aws("s3", "cp", f"s3://{b}/tls.txt", "-", https=True, ca=self.server.ca)
        self.assertEqual((r.returncode, r.stdout), (0, b"over tls"))
        self.assertIn("SSL", self.fail("s3", "ls", f"s3://{b}", https=True).upper())
        url = self.ok("s3", "presign", f"s3://{b}/tls.txt", "--expires-in", "120", output="text").strip()
        self.assertIn("X-Amz-Signature=", url)
        with urllib.request.urlopen(url, timeout=10) as resp:
            self.assertEqual((resp.status, resp.read()), (200, b"over tls"))


if __name__ == "__main__":
    fh.main()
