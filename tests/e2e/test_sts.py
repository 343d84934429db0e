#!/usr/bin/env python3
"""STS end to end: boto3 over HTTP and HTTPS, SigV4 auth errors, presigned URLs, persistence."""

import datetime as dt
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import fogbank_harness as fh  # noqa: E402

ROOT_ARN = "arn:aws:iam::000000000000:root"


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


class StsMixin:
    """Value assertions shared by the HTTP and HTTPS variants."""

    https = False

    def sts(self, **kw):
        return self.server.client("sts", https=self.https, **kw)

    def assertExpiresIn(self, expiration, seconds, slack=15):
        delta = (expiration - utcnow()).total_seconds()
        self.assertAlmostEqual(delta, seconds, delta=slack,
                               msg=f"expiration {expiration} is {delta:.0f}s away, want {seconds}")

    def assertTempCreds(self, creds):
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"), creds["AccessKeyId"])
        self.assertGreaterEqual(len(creds["AccessKeyId"]), 16)
        self.assertGreaterEqual(len(creds["SecretAccessKey"]), 30)
        self.assertTrue(creds["SessionToken"])

    def temp_client(self, creds, **kw):
        return self.sts(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                        token=creds["SessionToken"], **kw)

    # ------------------------------------------------------------------ tests
    def test_get_caller_identity_root(self):
        r = self.sts().get_caller_identity()
        self.assertEqual(r["Account"], "000000000000")
        self.assertEqual(r["Arn"], ROOT_ARN)
        self.assertEqual(r["UserId"], "000000000000")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertTrue(r["ResponseMetadata"]["RequestId"])
        self.assertTrue(r["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-requestid"))

    def test_get_session_token_root_default_and_cap(self):
        sts = self.sts()
        r = sts.get_session_token()
        self.assertTempCreds(r["Credentials"])
        self.assertExpiresIn(r["Credentials"]["Expiration"], 3600)
        # Root sessions are capped at one hour even if more is asked for.
        r = sts.get_session_token(DurationSeconds=129600)
        self.assertExpiresIn(r["Credentials"]["Expiration"], 3600)
        r = sts.get_session_token(DurationSeconds=900)
        self.assertExpiresIn(r["Credentials"]["Expiration"], 900)

    def test_get_session_token_with_mfa_fields(self):
        r = self.sts().get_session_token(DurationSeconds=1200,
                                         SerialNumber="arn:aws:iam::000000000000:mfa/me",
                                         TokenCode="123456")
        self.assertTempCreds(r["Credentials"])
        self.assertExpiresIn(r["Credentials"]["Expiration"], 1200)

    def test_get_session_token_validation(self):
        sts = self.sts(validate=False)
        cases = [
            dict(DurationSeconds=899),
            dict(DurationSeconds=129601),
            dict(TokenCode="12345a"),
            dict(TokenCode="12345"),
            dict(SerialNumber="short"),
            dict(SerialNumber="has space in it"),
        ]
        for params in cases:
            with self.subTest(params=params):
                with self.assertRaises(ClientError) as cm:
                    sts.get_session_token(**params)
                self.assertClientError(cm, "ValidationError", 400)

    def test_session_token_creds_act_as_caller(self):
        creds = self.sts().get_session_token(DurationSeconds=900)["Credentials"]
        tsts = self.temp_client(creds)
        r = tsts.get_caller_identity()
        self.assertEqual(r["Account"], "000000000000")
        self.assertEqual(r["Arn"], ROOT_ARN)
        # Temporary credentials cannot mint more session tokens or federation tokens.
        with self.assertRaises(ClientError) as cm:
            tsts.get_session_token()
        self.assertClientError(cm, "AccessDenied", 403)
        with self.assertRaises(ClientError) as cm:
            tsts.get_federation_token(Name="fed-user")
        self.assertClientError(cm, "AccessDenied", 403)

    def test_assume_role(self):
        sts = self.sts()
        r = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/deployer",
                            RoleSessionName="ci-session@x.y")
        self.assertTempCreds(r["Credentials"])
        self.assertExpiresIn(r["Credentials"]["Expiration"], 3600)
        user = r["AssumedRoleUser"]
        self.assertEqual(user["Arn"], "arn:aws:sts::123456789012:assumed-role/deployer/ci-session@x.y")
        self.assertTrue(user["AssumedRoleId"].startswith("AROA"), user)
        self.assertTrue(user["AssumedRoleId"].endswith(":ci-session@x.y"), user)
        # The role id is stable per role.
        r2 = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/deployer", RoleSessionName="other",
                             DurationSeconds=43200)
        self.assertEqual(r2["AssumedRoleUser"]["AssumedRoleId"].split(":")[0], user["AssumedRoleId"].split(":")[0])
        self.assertExpiresIn(r2["Credentials"]["Expiration"], 43200)
        r3 = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/path/to/app", RoleSessionName="s3",
                             DurationSeconds=900)
        self.assertEqual(r3["AssumedRoleUser"]["Arn"], "arn:aws:sts::123456789012:assumed-role/app/s3")
        self.assertExpiresIn(r3["Credentials"]["Expiration"], 900)

        # The temporary credentials act as the assumed role, in the role's account.
        ident = self.temp_client(r["Credentials"]).get_caller_identity()
        self.assertEqual(ident["Account"], "123456789012")
        self.assertEqual(ident["Arn"], user["Arn"])
        self.assertEqual(ident["UserId"], user["AssumedRoleId"])

    def test_assume_role_chained(self):
        first = self.sts().assume_role(RoleArn="arn:aws:iam::111122223333:role/a",
                                       RoleSessionName="one")["Credentials"]
        second = self.temp_client(first).assume_role(RoleArn="arn:aws:iam::444455556666:role/b",
                                                     RoleSessionName="two")
        ident = self.temp_client(second["Credentials"]).get_caller_identity()
        self.assertEqual(ident["Account"], "444455556666")
        self.assertEqual(ident["Arn"], "arn:aws:sts::444455556666:assumed-role/b/two")

    def test_assume_role_validation(self):
        sts = self.sts(validate=False)
        good = "arn:aws:iam::123456789012:role/r"
        cases = [
            dict(RoleArn="arn:aws:iam::123:role/someone", RoleSessionName="ok"),
            dict(RoleArn="arn:aws:iam::123456789012:user/someone", RoleSessionName="ok"),
            dict(RoleArn="not-an-arn-at-all-but-long", RoleSessionName="ok"),
            dict(RoleArn=good, RoleSessionName="a"),
            dict(RoleArn=good, RoleSessionName="x" * 65),
            dict(RoleArn=good, RoleSessionName="bad name"),
            dict(RoleArn=good, RoleSessionName="ok", DurationSeconds=899),
            dict(RoleArn=good, RoleSessionName="ok", DurationSeconds=43201),
        ]
        for params in cases:
            with self.subTest(params=params):
                with self.assertRaises(ClientError) as cm:
                    sts.assume_role(**params)
                self.assertClientError(cm, "ValidationError", 400)

    def test_get_federation_token(self):
        r = self.sts().get_federation_token(Name="bob")
        self.assertTempCreds(r["Credentials"])
        self.assertExpiresIn(r["Credentials"]["Expiration"], 43200)
        fed = r["FederatedUser"]
        self.assertEqual(fed["Arn"], "arn:aws:sts::000000000000:federated-user/bob")
        self.assertEqual(fed["FederatedUserId"], "000000000000:bob")
        r = self.sts().get_federation_token(Name="carol", DurationSeconds=1000)
        self.assertExpiresIn(r["Credentials"]["Expiration"], 1000)
        ident = self.temp_client(r["Credentials"]).get_caller_identity()
        self.assertEqual(ident["Arn"], "arn:aws:sts::000000000000:federated-user/carol")
        self.assertEqual(ident["Account"], "000000000000")

    def test_get_federation_token_validation(self):
        sts = self.sts(validate=False)
        for params in (dict(Name="b"), dict(Name="x" * 33), dict(Name="no spaces"),
                       dict(Name="bob", DurationSeconds=899)):
            with self.subTest(params=params):
                with self.assertRaises(ClientError) as cm:
                    sts.get_federation_token(**params)
                self.assertClientError(cm, "ValidationError", 400)

    def test_get_access_key_info(self):
        sts = self.sts()
        creds = sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/r",
                                RoleSessionName="info")["Credentials"]
        r = sts.get_access_key_info(AccessKeyId=creds["AccessKeyId"])
        self.assertEqual(r["Account"], "210987654321")
        with self.assertRaises(ClientError) as cm:
            self.sts(validate=False).get_access_key_info(AccessKeyId="short")
        self.assertClientError(cm, "ValidationError", 400)

    def test_decode_authorization_message(self):
        with self.assertRaises(ClientError) as cm:
            self.sts().decode_authorization_message(EncodedMessage="abcdef")
        self.assertClientError(cm, "InvalidAuthorizationMessageException", 400)

    # ------------------------------------------------------------------ auth errors via boto3
    def test_wrong_secret(self):
        with self.assertRaises(ClientError) as cm:
            self.sts(secret="not-the-secret").get_caller_identity()
        err = self.assertClientError(cm, "SignatureDoesNotMatch", 403)
        self.assertTrue(err["ResponseMetadata"].get("RequestId"))

    def test_unknown_key(self):
        with self.assertRaises(ClientError) as cm:
            self.sts(key="AKIAUNKNOWNKEY000000", secret="x").get_caller_identity()
        self.assertClientError(cm, "InvalidClientTokenId", 403)

    def test_temp_key_token_errors(self):
        creds = self.sts().get_session_token(DurationSeconds=900)["Credentials"]
        # no token
        with self.assertRaises(ClientError) as cm:
            self.sts(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"]).get_caller_identity()
        self.assertClientError(cm, "InvalidClientTokenId", 403)
        # tampered token (same length, one character changed)
        tok = creds["SessionToken"]
        tampered = tok[:-5] + ("A" if tok[-5] != "A" else "B") + tok[-4:]
        with self.assertRaises(ClientError) as cm:
            self.sts(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                     token=tampered).get_caller_identity()
        self.assertClientError(cm, "InvalidClientTokenId", 403)
        # garbage token
        with self.assertRaises(ClientError) as cm:
            self.sts(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                     token="garbage").get_caller_identity()
        self.assertClientError(cm, "InvalidClientTokenId", 403)
        # long-term key with a token it never had
        with self.assertRaises(ClientError) as cm:
            self.sts(token=tok).get_caller_identity()
        self.assertClientError(cm, "InvalidClientTokenId", 403)
        # the right secret of a different temp key
        other = self.sts().get_session_token(DurationSeconds=900)["Credentials"]
        with self.assertRaises(ClientError) as cm:
            self.sts(key=creds["AccessKeyId"], secret=other["SecretAccessKey"],
                     token=creds["SessionToken"]).get_caller_identity()
        self.assertClientError(cm, "SignatureDoesNotMatch", 403)

    def test_unsigned_request(self):
        with self.assertRaises(ClientError) as cm:
            self.sts(unsigned=True).get_caller_identity()
        self.assertClientError(cm, "MissingAuthenticationToken", 403)


class StsHttpTest(StsMixin, fh.FogbankTestCase):
    https = False

    # ------------------------------------------------------------------ hand-signed requests
    def test_hand_signed_ok(self):
        status, headers, body = fh.signed_sts_request(self.server)
        self.assertEqual(status, 200, body)
        self.assertEqual(fh.xml_find(body, "Arn"), ROOT_ARN)
        self.assertEqual(fh.xml_find(body, "RequestId"), headers.get("x-amzn-requestid"))

    def test_hand_signed_within_skew(self):
        for offset in (-600, 600):
            with self.subTest(offset=offset):
                status, _, body = fh.signed_sts_request(self.server, when=time.time() + offset)
                self.assertEqual(status, 200, body)

    def test_date_in_past(self):
        status, headers, body = fh.signed_sts_request(self.server, when=time.time() - 20 * 60)
        self.assertEqual(status, 403, body)
        code, message, rid = fh.parse_error(body)
        self.assertEqual(code, "SignatureDoesNotMatch")
        self.assertIn("Signature expired", message)
        self.assertEqual(rid, headers.get("x-amzn-requestid"))

    def test_date_in_future(self):
        status, _, body = fh.signed_sts_request(self.server, when=time.time() + 20 * 60)
        self.assertEqual(status, 403, body)
        code, message, _ = fh.parse_error(body)
        self.assertEqual(code, "SignatureDoesNotMatch")
        self.assertIn("not yet current", message)

    def test_no_auth_raw(self):
        import http.client
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=5)
        try:
            conn.request("POST", "/", body=fh.sts_form(), headers={"Content-Type": fh.FORM})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        self.assertEqual(resp.status, 403, body)
        code, _, rid = fh.parse_error(body)
        self.assertEqual(code, "MissingAuthenticationToken")
        self.assertTrue(rid)
        self.assertEqual(resp.getheader("x-amzn-RequestId"), rid)

    # ------------------------------------------------------------------ presigned URLs
    def _get(self, url):
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def test_presigned_get_caller_identity(self):
        url = self.sts().generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
        self.assertIn("X-Amz-Signature=", url)
        status, body = self._get(url)
        self.assertEqual(status, 200, body)
        self.assertEqual(fh.xml_find(body, "Arn"), ROOT_ARN)
        self.assertEqual(fh.xml_find(body, "Account"), "000000000000")

    def test_presigned_for_post_used_with_get(self):
        # Without HttpMethod botocore signs the URL for POST (STS's default): a GET must not verify.
        url = self.sts().generate_presigned_url("get_caller_identity", ExpiresIn=300)
        status, body = self._get(url)
        self.assertEqual(status, 403, body)
        self.assertEqual(fh.parse_error(body)[0], "SignatureDoesNotMatch")

    def test_presigned_forged_signature(self):
        url = self.sts().generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
        parts = urllib.parse.urlsplit(url)
        q = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        forged = []
        for k, v in q:
            if k == "X-Amz-Signature":
                v = ("0" if v[0] != "0" else "1") + v[1:]
            forged.append((k, v))
        url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(forged)))
        status, body = self._get(url)
        self.assertEqual(status, 403, body)
        self.assertEqual(fh.parse_error(body)[0], "SignatureDoesNotMatch")

    def test_presigned_with_temp_creds(self):
        creds = self.sts().get_session_token(DurationSeconds=900)["Credentials"]
        url = self.temp_client(creds).generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
        status, body = self._get(url)
        self.assertEqual(status, 200, body)
        self.assertEqual(fh.xml_find(body, "Arn"), ROOT_ARN)


class StsVirtualClockTest(fh.FogbankTestCase):
    """Expiry without sleeping: this fogbank's clock stands still until the test moves it."""

    server_args = ["--clock", "virtual"]

    def setUp(self):
        # Clients sign with the real time; the virtual clock has stood still since fogbank started.
        # One second more, so X-Amz-Date (whole seconds) is never ahead of it.
        self.server.sync_clock()
        self.server.advance_clock(1)

    def sts(self, **kw):
        return self.server.client("sts", **kw)

    def _get(self, url):
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def test_presigned_expired(self):
        url = self.sts().generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
        status, body = self._get(url)
        self.assertEqual(status, 200, body)
        self.server.advance_clock(120)
        status, body = self._get(url)
        self.assertEqual(status, 403, body)
        code = fh.parse_error(body)[0]
        self.assertIn(code, ("SignatureDoesNotMatch", "AccessDenied", "ExpiredToken"), body)

    def test_session_credentials_expire(self):
        creds = self.sts().get_session_token(DurationSeconds=900)["Credentials"]
        temp = self.sts(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                        token=creds["SessionToken"])
        self.assertEqual(temp.get_caller_identity()["Arn"], ROOT_ARN)
        self.server.advance_clock(899)
        self.assertEqual(temp.get_caller_identity()["Arn"], ROOT_ARN)
        # Past the expiry: refused, though the request is signed with the real time (the skew
        # check stays on real time).
        self.server.advance_clock(2)
        with self.assertRaises(ClientError) as cm:
            temp.get_caller_identity()
        self.assertClientError(cm, "ExpiredToken", 403)
        # Long-term keys do not expire.
        self.assertEqual(self.sts().get_caller_identity()["Arn"], ROOT_ARN)

    def test_expiration_is_in_clock_time(self):
        self.server.set_clock("2031-05-01T00:00:00Z")
        creds = self.sts().get_session_token(DurationSeconds=900)["Credentials"]
        self.assertEqual(creds["Expiration"], dt.datetime(2031, 5, 1, 0, 15, tzinfo=dt.timezone.utc))


class StsHttpsTest(StsMixin, fh.FogbankTestCase):
    https = True

    def test_ca_file_exists(self):
        self.assertTrue(self.server.ca and os.path.exists(self.server.ca), self.server.ca)
        self.assertEqual(self.server.ca, os.path.join(self.server.data_dir, "tls", "ca.pem"))

    def test_untrusted_without_ca(self):
        # Without the generated CA, the certificate must not verify (the harness clears
        # AWS_CA_BUNDLE from the environment).
        import boto3
        from botocore.config import Config
        from botocore.exceptions import SSLError
        c = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                  region_name="us-east-1").client(
            "sts", endpoint_url=self.server.https_url,
            config=Config(retries={"max_attempts": 1}))
        with self.assertRaises(SSLError):
            c.get_caller_identity()


class PersistenceTest(fh.FogbankTestCase):
    """Temporary credentials live in RocksDB: they survive restarts and die with /_fogbank/reset."""

    def _ident(self, creds):
        return self.server.client(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                                  token=creds["SessionToken"]).get_caller_identity()

    def test_survive_sigterm_restart(self):
        creds = self.server.client().assume_role(RoleArn="arn:aws:iam::123456789012:role/keep",
                                                 RoleSessionName="persist")["Credentials"]
        self.assertEqual(self.server.stop(), 0)
        self.server.start()
        ident = self._ident(creds)
        self.assertEqual(ident["Arn"], "arn:aws:sts::123456789012:assumed-role/keep/persist")

    def test_survive_kill9_restart(self):
        creds = self.server.client().get_session_token(DurationSeconds=900)["Credentials"]
        rc = self.server.kill9()
        self.assertEqual(rc, -9)
        self.server.start()
        self.assertEqual(self._ident(creds)["Arn"], ROOT_ARN)

    def test_gone_after_reset(self):
        creds = self.server.client().get_session_token(DurationSeconds=900)["Credentials"]
        self.assertEqual(self._ident(creds)["Arn"], ROOT_ARN)
        self.server.reset()
        with self.assertRaises(ClientError) as cm:
            self._ident(creds)
        self.assertClientError(cm, "InvalidClientTokenId", 403)
        # Long-term keys still work after a reset.
        self.assertEqual(self.server.client().get_caller_identity()["Arn"], ROOT_ARN)

    def test_reset_then_restart_stays_gone(self):
        creds = self.server.client().get_session_token(DurationSeconds=900)["Credentials"]
        self.server.reset()
        self.server.restart(graceful=True)
        with self.assertRaises(ClientError) as cm:
            self._ident(creds)
        self.assertClientError(cm, "InvalidClientTokenId", 403)


class AuthOffTest(fh.FogbankTestCase):
    server_args = ["--auth", "off"]

    def test_wrong_secret_accepted(self):
        r = self.server.client(secret="wrong").get_caller_identity()
        self.assertEqual(r["Arn"], ROOT_ARN)
        self.assertEqual(r["Account"], "000000000000")

    def test_twelve_digit_key_selects_account(self):
        r = self.server.client(key="123456789012", secret="whatever").get_caller_identity()
        self.assertEqual(r["Account"], "123456789012")
        self.assertEqual(r["Arn"], "arn:aws:iam::123456789012:root")
        self.assertEqual(r["UserId"], "123456789012")

    def test_unsigned_accepted(self):
        r = self.server.client(unsigned=True).get_caller_identity()
        self.assertEqual(r["Account"], "000000000000")

    def test_health_reports_auth_off(self):
        status, body, _ = self.server.admin("/_fogbank/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["auth"], "off")


class ExtraCredentialsTest(fh.FogbankTestCase):
    server_args = ["--credentials", "k1:s1:111111111111,k2:s2:222222222222:alice"]

    def test_root_key(self):
        r = self.server.client(key="k1", secret="s1").get_caller_identity()
        self.assertEqual(r["Account"], "111111111111")
        self.assertEqual(r["Arn"], "arn:aws:iam::111111111111:root")
        self.assertEqual(r["UserId"], "111111111111")

    def test_user_key(self):
        r = self.server.client(key="k2", secret="s2").get_caller_identity()
        self.assertEqual(r["Account"], "222222222222")
        self.assertEqual(r["Arn"], "arn:aws:iam::222222222222:user/alice")
        self.assertTrue(r["UserId"].startswith("AIDA"), r["UserId"])
        self.assertEqual(len(r["UserId"]), 21)

    def test_user_session_token_defaults_to_12h(self):
        r = self.server.client(key="k2", secret="s2").get_session_token()
        delta = (r["Credentials"]["Expiration"] - utcnow()).total_seconds()
        self.assertAlmostEqual(delta, 43200, delta=15)
        r = self.server.client(key="k2", secret="s2").get_session_token(DurationSeconds=129600)
        delta = (r["Credentials"]["Expiration"] - utcnow()).total_seconds()
        self.assertAlmostEqual(delta, 129600, delta=15)
        c = r["Credentials"]
        ident = self.server.client(key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                                   token=c["SessionToken"]).get_caller_identity()
        self.assertEqual(ident["Arn"], "arn:aws:iam::222222222222:user/alice")
        self.assertEqual(ident["Account"], "222222222222")

    def test_default_key_not_configured(self):
        with self.assertRaises(ClientError) as cm:
            self.server.client(key="test", secret="test").get_caller_identity()
        self.assertClientError(cm, "InvalidClientTokenId", 403)

    def test_wrong_secret_of_extra_key(self):
        with self.assertRaises(ClientError) as cm:
            self.server.client(key="k1", secret="s2").get_caller_identity()
        self.assertClientError(cm, "SignatureDoesNotMatch", 403)


if __name__ == "__main__":
    fh.main()
