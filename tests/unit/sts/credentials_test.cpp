#include "fogbank/sts/credentials.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <stdexcept>
#include <string>

#include "fogbank/storage/store.hpp"

namespace fogbank::sts {
namespace {

constexpr std::int64_t kNow = 1700000000;

std::unique_ptr<storage::Store> open_memory_store() {
  storage::Options options;
  options.in_memory = true;
  storage::Status status;
  auto store = storage::Store::open(options, status);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return store;
}

bool all_upper_alnum(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// ---- parse_static_keys ----

TEST(CredentialsTest, ParsesCommaSeparatedList) {
  auto keys = parse_static_keys("AKID1:secret1:111122223333,AKID2:secret2:444455556666:alice");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].access_key, "AKID1");
  EXPECT_EQ(keys[0].secret_key, "secret1");
  EXPECT_EQ(keys[0].account_id, "111122223333");
  EXPECT_EQ(keys[0].user, "");
  EXPECT_EQ(keys[1].access_key, "AKID2");
  EXPECT_EQ(keys[1].secret_key, "secret2");
  EXPECT_EQ(keys[1].account_id, "444455556666");
  EXPECT_EQ(keys[1].user, "alice");
}

TEST(CredentialsTest, ParsesNewlinesCommentsAndWhitespace) {
  auto keys = parse_static_keys(
      "# fogbank keys\n"
      "  AKID1:s/1+x=:111122223333  \n"
      "\n"
      "\tAKID2:s2:444455556666:bob\r\n"
      "#AKID3:s3:777788889999\n"
      "AKID4:s4:777788889999,\n");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].access_key, "AKID1");
  EXPECT_EQ(keys[0].secret_key, "s/1+x=");
  EXPECT_EQ(keys[1].access_key, "AKID2");
  EXPECT_EQ(keys[1].user, "bob");  // trailing CR trimmed
  EXPECT_EQ(keys[2].access_key, "AKID4");
  EXPECT_EQ(keys[2].account_id, "777788889999");
}

TEST(CredentialsTest, EmptyTextGivesNoKeys) {
  EXPECT_TRUE(parse_static_keys("").empty());
  EXPECT_TRUE(parse_static_keys(" \n,\n# only a comment\n").empty());
}

TEST(CredentialsTest, CommentLineMayContainComma) {
  // A comment is a whole line: a comma inside it must not start a new entry.
  std::vector<StaticKey> keys;
  EXPECT_NO_THROW(keys = parse_static_keys("# dev keys, do not use in prod\nAKID1:s1:111122223333\n"));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].access_key, "AKID1");
}

TEST(CredentialsTest, RejectsInvalidEntries) {
  for (std::string_view bad : {"AKID:secret", "AKID", "AKID:secret:12345", "AKID:secret:1111222233334",
                               "AKID:secret:11112222333a", ":secret:111122223333", "AKID::111122223333",
                               "AKID:secret:111122223333:user:extra",
                               "AKID1:s1:111122223333,broken"}) {
    EXPECT_THROW((void)parse_static_keys(bad), std::invalid_argument) << bad;
  }
}

TEST(CredentialsTest, ErrorNamesTheBadEntry) {
  try {
    (void)parse_static_keys("GOOD:s:111122223333\nBAD:entry");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("BAD:entry"), std::string::npos) << e.what();
  }
}

// ---- identity_of ----

TEST(CredentialsTest, IdentityOfRoot) {
  auto c = identity_of({"AKID", "secret", "111122223333", ""});
  EXPECT_EQ(c.access_key, "AKID");
  EXPECT_EQ(c.secret_key, "secret");
  EXPECT_EQ(c.account_id, "111122223333");
  EXPECT_EQ(c.arn, "arn:aws:iam::111122223333:root");
  EXPECT_EQ(c.user_id, "111122223333");
  EXPECT_TRUE(c.session_token.empty());
  EXPECT_FALSE(c.temporary());
  EXPECT_EQ(c.expires_at, 0);
}

TEST(CredentialsTest, IdentityOfUser) {
  auto c = identity_of({"AKID", "secret", "111122223333", "alice"});
  EXPECT_EQ(c.arn, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(c.account_id, "111122223333");
  ASSERT_EQ(c.user_id.size(), 21u);
  EXPECT_EQ(c.user_id.substr(0, 4), "AIDA");
  EXPECT_TRUE(all_upper_alnum(c.user_id)) << c.user_id;
  // Stable for the same user (even under another key) and distinct for another user/account.
  EXPECT_EQ(identity_of({"OTHER", "x", "111122223333", "alice"}).user_id, c.user_id);
  EXPECT_NE(identity_of({"AKID", "secret", "111122223333", "bob"}).user_id, c.user_id);
  EXPECT_NE(identity_of({"AKID", "secret", "444455556666", "alice"}).user_id, c.user_id);
}

// ---- CredentialStore ----

TEST(CredentialsTest, StoreFindsStaticKeys) {
  auto store = open_memory_store();
  ASSERT_NE(store, nullptr);
  CredentialStore creds(*store, parse_static_keys("AKID1:s1:111122223333,AKID2:s2:444455556666:carol"));
  auto a = creds.find("AKID1");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->secret_key, "s1");
  EXPECT_EQ(a->arn, "arn:aws:iam::111122223333:root");
  auto b = creds.find("AKID2");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->arn, "arn:aws:iam::444455556666:user/carol");
  EXPECT_FALSE(creds.find("AKID3").has_value());
  EXPECT_FALSE(creds.find("").has_value());
  EXPECT_EQ(creds.static_keys().size(), 2u);
}

TEST(CredentialsTest, IssueTemporaryCredentials) {
  auto store = open_memory_store();
  ASSERT_NE(store, nullptr);
  CredentialStore creds(*store, {});
  auto c = creds.issue("111122223333", "arn:aws:iam::111122223333:user/alice", "AIDAXYZ", kNow, 900);
  ASSERT_EQ(c.access_key.size(), 20u);
  EXPECT_EQ(c.access_key.substr(0, 4), "ASIA");
  EXPECT_TRUE(all_upper_alnum(c.access_key)) << c.access_key;
  EXPECT_EQ(c.secret_key.size(), 40u);
  EXPECT_FALSE(c.session_token.empty());
  EXPECT_TRUE(c.temporary());
  EXPECT_EQ(c.expires_at, kNow + 900);
  EXPECT_EQ(c.account_id, "111122223333");
  EXPECT_EQ(c.arn, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(c.user_id, "AIDAXYZ");

  auto found = creds.find(c.access_key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->access_key, c.access_key);
  EXPECT_EQ(found->secret_key, c.secret_key);
  EXPECT_EQ(found->session_token, c.session_token);
  EXPECT_EQ(found->account_id, c.account_id);
  EXPECT_EQ(found->arn, c.arn);
  EXPECT_EQ(found->user_id, c.user_id);
  EXPECT_EQ(found->expires_at, kNow + 900);
}

TEST(CredentialsTest, IssuedCredentialsAreUnique) {
  auto store = open_memory_store();
  ASSERT_NE(store, nullptr);
  CredentialStore creds(*store, {});
  auto a = creds.issue("111122223333", "arn", "id", kNow, 3600);
  auto b = creds.issue("111122223333", "arn", "id", kNow, 3600);
  EXPECT_NE(a.access_key, b.access_key);
  EXPECT_NE(a.secret_key, b.secret_key);
  EXPECT_NE(a.session_token, b.session_token);
}

TEST(CredentialsTest, IssuedCredentialsArePersisted) {
  auto store = open_memory_store();
  ASSERT_NE(store, nullptr);
  std::string key;
  std::string token;
  {
    CredentialStore first(*store, {});
    auto c = first.issue("111122223333", "arn:aws:sts::111122223333:assumed-role/r/s", "AROAX:s", kNow, 3600);
    key = c.access_key;
    token = c.session_token;
  }
  CredentialStore second(*store, {});
  auto found = second.find(key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->session_token, token);
  EXPECT_EQ(found->arn, "arn:aws:sts::111122223333:assumed-role/r/s");
  EXPECT_EQ(found->expires_at, kNow + 3600);
}

TEST(CredentialsTest, PurgeExpiredKeepsRecentOnes) {
  auto store = open_memory_store();
  ASSERT_NE(store, nullptr);
  CredentialStore creds(*store, parse_static_keys("AKID1:s1:111122223333"));
  const std::int64_t day = 86400;
  // Expired two days before kNow: purged.
  auto old = creds.issue("111122223333", "a", "u", kNow - 2 * day - 3600, 3600);
  // Expired an hour ago: kept (still within the day of grace).
  auto recent = creds.issue("111122223333", "a", "u", kNow - 7200, 3600);
  // Still valid: kept.
  auto live = creds.issue("111122223333", "a", "u", kNow, 3600);
  ASSERT_TRUE(creds.find(old.access_key).has_value());

  creds.purge_expired(kNow);
  EXPECT_FALSE(creds.find(old.access_key).has_value());
  EXPECT_TRUE(creds.find(recent.access_key).has_value());
  EXPECT_TRUE(creds.find(live.access_key).has_value());
  EXPECT_TRUE(creds.find("AKID1").has_value());  // static keys are never purged

  // A day later the recent one goes too; the live one (expired 23h ago at that point) stays.
  creds.purge_expired(kNow + day + 1);
  EXPECT_FALSE(creds.find(recent.access_key).has_value());
  EXPECT_TRUE(creds.find(live.access_key).has_value());
}

}  // namespace
}  // namespace fogbank::sts
