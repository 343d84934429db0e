#!/usr/bin/env python3
"""The AWS CLI against fogbank: env credentials, session tokens, auth failures, HTTPS."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fogbank_harness as fh  # noqa: E402


def find_cli():
    """The command prefix that runs the AWS CLI, or None."""
    exe = shutil.which("aws")
    if exe:
        try:
            if subprocess.run([exe, "--version"], capture_output=True, timeout=60).returncode == 0:
                return [exe]
        except (OSError, subprocess.TimeoutExpired):
            pass
    try:
        r = subprocess.run([sys.executable, "-m", "awscli", "--version"], capture_output=True, timeout=60)
        if r.returncode == 0:
            return [sys.executable, "-m", "awscli"]
    except (OSError, subprocess.TimeoutExpired):
        pass
    return None


CLI = find_cli()


@unittest.skipIf(CLI is None, "AWS CLI not available: neither `aws` on PATH nor `python3 -m awscli` works")
class CliTest(fh.FogbankTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.home = tempfile.mkdtemp(prefix="fogbank-cli-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.home, ignore_errors=True)
        super().tearDownClass()

    def env(self, key="test", secret="test", token=None, ca=None):
        # No ambient AWS configuration may leak in: profiles, env keys, CA bundles, endpoints.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.path.join(self.home, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "credentials"),
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "AWS_PAGER": "",
            "HOME": self.home,
        })
        if token:
            env["AWS_SESSION_TOKEN"] = token
        if ca:
            env["AWS_CA_BUNDLE"] = ca
        return env

    def aws(self, *args, https=False, **env_kw):
        cmd = CLI + list(args) + ["--endpoint-url", self.server.endpoint(https), "--output", "json"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env=self.env(**env_kw))

    def aws_json(self, *args, **kw):
        r = self.aws(*args, **kw)
        self.assertEqual(r.returncode, 0, f"aws {' '.join(args)} failed:\n{r.stderr}")
        return json.loads(r.stdout)

    def test_get_caller_identity(self):
        out = self.aws_json("sts", "get-caller-identity")
        self.assertEqual(out, {"UserId": "000000000000", "Account": "000000000000",
                               "Arn": "arn:aws:iam::000000000000:root"})

    def test_session_token_then_use_it(self):
        out = self.aws_json("sts", "get-session-token", "--duration-seconds", "900")
        creds = out["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"), creds)
        exp = dt.datetime.fromisoformat(creds["Expiration"].replace("Z", "+00:00"))
        delta = (exp - dt.datetime.now(dt.timezone.utc)).total_seconds()
        self.assertAlmostEqual(delta, 900, delta=30)
        ident = self.aws_json("sts", "get-caller-identity", key=creds["AccessKeyId"],
                              secret=creds["SecretAccessKey"], token=creds["SessionToken"])
        self.assertEqual(ident["Arn"], "arn:aws:iam::000000000000:root")
        self.assertEqual(ident["Account"], "000000000000")

    def test_assume_role(self):
        out = self.aws_json("sts", "assume-role", "--role-arn", "arn:aws:iam::123456789012:role/cli",
                            "--role-session-name", "from-cli")
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::123456789012:assumed-role/cli/from-cli")
        c = out["Credentials"]
        ident = self.aws_json("sts", "get-caller-identity", key=c["AccessKeyId"],
                              secret=c["SecretAccessKey"], token=c["SessionToken"])
        self.assertEqual(ident["Account"], "123456789012")

    def test_wrong_secret(self):
        r = self.aws("sts", "get-caller-identity", secret="wrong")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("SignatureDoesNotMatch", r.stderr)

    def test_validation_error(self):
        r = self.aws("sts", "assume-role", "--role-arn", "arn:aws:iam::123:role/nope",
                     "--role-session-name", "x1")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("ValidationError", r.stderr)

    def test_https_with_ca_bundle(self):
        out = self.aws_json("sts", "get-caller-identity", https=True, ca=self.server.ca)
        self.assertEqual(out["Arn"], "arn:aws:iam::000000000000:root")

    def test_https_without_ca_fails(self):
        r = self.aws("sts", "get-caller-identity", https=True)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("SSL", r.stderr.upper())


if __name__ == "__main__":
    fh.main()
