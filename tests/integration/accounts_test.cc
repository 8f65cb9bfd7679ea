// Connection and accounts: hello, ping, auth.register / login / resume / logout,
// devices.list / devices.revoke (docs/protocol.md, "Connection and accounts").
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

class AccountsTest : public ModuTest {};

bool is_base64url_token(const std::string& token) {
  return std::regex_match(token, std::regex("[A-Za-z0-9_-]{43}"));
}

TEST_F(AccountsTest, HelloAnnouncesProtocolAndDefaultLimits) {
  auto client = connect();
  JsonRef data = client->hello()["data"];
  EXPECT_EQ(data["protocol"].i64(), 1);
  EXPECT_EQ(data["server"].str().rfind("modu", 0), 0u) << data.dump();
  EXPECT_EQ(data["max_frame_bytes"].i64(), 65536);
  EXPECT_EQ(data["max_text_bytes"].i64(), 16384);
  EXPECT_FALSE(client->hello().has("pos")) << "hello has no stream position";
}

class AccountsLimitsTest : public ModuTest {
  std::vector<std::string> server_args() const override {
    return {"--max-frame-bytes", "8192", "--max-text-bytes", "1000"};
  }
};

TEST_F(AccountsLimitsTest, HelloReflectsConfiguredLimits) {
  auto client = connect();
  EXPECT_EQ(client->hello()["data"]["max_frame_bytes"].i64(), 8192);
  EXPECT_EQ(client->hello()["data"]["max_text_bytes"].i64(), 1000);
}

TEST_F(AccountsTest, PingReturnsEmptyObject) {
  auto alice = new_user("alice");
  JsonRef result = alice->ok("ping");
  EXPECT_TRUE(result.is_object());
  EXPECT_EQ(result.size(), 0u);
}

TEST_F(AccountsTest, RegisterReturnsTokenDeviceAndProfile) {
  auto client = connect();
  JsonRef result = client->ok(
      "auth.register", JsonObj()
                           .set("handle", "minji")
                           .set("password", "correct horse")
                           .set("display_name", "민지")
                           .set("device", JsonObj().set("kind", "web").set("name", "Chrome")));
  EXPECT_TRUE(is_base64url_token(result["token"].str())) << result["token"].str();
  EXPECT_GT(result["device_id"].i64(), 0);
  JsonRef profile = result["profile"];
  EXPECT_GT(profile["user_id"].i64(), 0);
  EXPECT_EQ(profile["handle"].str(), "minji");
  EXPECT_EQ(profile["display_name"].str(), "민지");
  EXPECT_EQ(profile["status_message"].str(), "");
  EXPECT_EQ(profile["avatar"].str(), "");
}

TEST_F(AccountsTest, DeviceIsRequiredWithKnownKindAndName) {
  // The error code for auth.register / auth.login with the given raw `device` value (or
  // none), or "<no response>".
  auto error_for = [&](const std::string& op, const std::optional<std::string>& device_json) {
    auto client = connect();
    std::string args = "{\"handle\":\"alice\",\"password\":\"long enough\"";
    if (device_json) args += ",\"device\":" + *device_json;
    client->send_text("{\"id\":1,\"op\":\"" + op + "\",\"args\":" + args + "}}");
    auto r = client->try_wait_any_response({"1", "null"}, 2s);
    return r ? r->error_code() : std::string("<no response>");
  };
  for (const char* op : {"auth.register", "auth.login"}) {
    EXPECT_EQ(error_for(op, std::nullopt), "bad_request") << op << " without device";
    EXPECT_EQ(error_for(op, "null"), "bad_request") << op << " with device null";
    EXPECT_EQ(error_for(op, "\"phone\""), "bad_request") << op << " with device a string";
    EXPECT_EQ(error_for(op, R"({"kind":"toaster","name":"x"})"), "bad_request") << op << " with an unknown kind";
    EXPECT_EQ(error_for(op, R"({"name":"x"})"), "bad_request") << op << " without device.kind";
    EXPECT_EQ(error_for(op, R"({"kind":"pc"})"), "bad_request") << op << " without device.name";
  }
  for (const char* kind : {"phone", "tablet", "pc", "web"}) {
    auto client = connect();
    Account account = client->register_user(std::string("user_") + kind, "", "", kind);
    JsonRef devices = client->ok("devices.list")["devices"];
    ASSERT_EQ(devices.size(), 1u);
    EXPECT_EQ(devices[0]["kind"].str(), kind);
  }
}

TEST_F(AccountsTest, RegisterTakenHandleIsRefused) {
  auto alice = new_user("alice");
  auto client = connect();
  EXPECT_EQ(client->error("auth.register", JsonObj()
                                               .set("handle", "alice")
                                               .set("password", "another password")
                                               .set("device", JsonObj().set("kind", "pc").set("name", "x"))),
            "handle_taken");
}

TEST_F(AccountsTest, RegisterValidatesHandle) {
  // One connection per attempt: a success signs the connection in.
  auto attempt = [&](const std::string& handle) {
    return connect()->call("auth.register", JsonObj()
                                                .set("handle", handle)
                                                .set("password", "long enough password")
                                                .set("device", JsonObj().set("kind", "pc").set("name", "x")));
  };
  for (std::string bad : {std::string("ab"), std::string(33, 'a'), std::string("Minji"), std::string("min-ji"),
                          std::string("민지민지"), std::string("min ji")}) {
    Response r = attempt(bad);
    EXPECT_EQ(r.error_code(), "invalid_handle") << "handle '" << bad << "': " << r.dump();
  }
  for (std::string good : {std::string("abc"), std::string(32, 'z'), std::string("a_b.c9")}) {
    Response r = attempt(good);
    EXPECT_TRUE(r.ok()) << "handle '" << good << "': " << r.dump();
    if (r.ok()) {
      EXPECT_EQ(r.result()["profile"]["handle"].str(), good);
    }
  }
}

TEST_F(AccountsTest, RegisterValidatesPasswordLengthInBytes) {
  auto attempt = [&](const std::string& handle, const std::string& password) {
    auto client = connect();
    return client->call("auth.register", JsonObj()
                                             .set("handle", handle)
                                             .set("password", password)
                                             .set("device", JsonObj().set("kind", "pc").set("name", "x")));
  };
  EXPECT_EQ(attempt("user_a", "1234567").error_code(), "weak_password");
  EXPECT_EQ(attempt("user_b", std::string(257, 'p')).error_code(), "weak_password");
  EXPECT_TRUE(attempt("user_c", "12345678").ok());
  EXPECT_TRUE(attempt("user_d", std::string(256, 'p')).ok());
  // 3 Hangul syllables are 9 UTF-8 bytes: long enough although only 3 characters.
  EXPECT_TRUE(attempt("user_e", "비밀번").ok());
}

TEST_F(AccountsTest, SecondSignInOnSameConnectionIsAlreadyAuthenticated) {
  auto alice = new_user("alice");
  EXPECT_EQ(alice->error("auth.login", JsonObj()
                                           .set("handle", "alice")
                                           .set("password", alice.account.password)
                                           .set("device", JsonObj().set("kind", "pc").set("name", "x"))),
            "already_authenticated");
  EXPECT_EQ(alice->error("auth.register", JsonObj()
                                              .set("handle", "alice2")
                                              .set("password", "password-alice2")
                                              .set("device", JsonObj().set("kind", "pc").set("name", "x"))),
            "already_authenticated");
  EXPECT_EQ(alice->error("auth.resume", JsonObj().set("token", alice.account.token)), "already_authenticated");
  alice->ok("ping");
}

TEST_F(AccountsTest, LoginCreatesNewDeviceWithNewToken) {
  auto alice = new_user("alice", "앨리스");
  auto phone = new_device(alice.account, "phone");
  EXPECT_EQ(phone.account.user_id, alice.account.user_id);
  EXPECT_NE(phone.account.device_id, alice.account.device_id);
  EXPECT_NE(phone.account.token, alice.account.token);
  EXPECT_TRUE(is_base64url_token(phone.account.token));
  // Both tokens keep working.
  auto again = resume(alice.account);
  auto again_phone = resume(phone.account);
  again->ok("ping");
  again_phone->ok("ping");
}

TEST_F(AccountsTest, LoginWithWrongPasswordOrUnknownHandleIsInvalidCredentials) {
  auto alice = new_user("alice");
  auto client = connect();
  auto device = JsonObj().set("kind", "pc").set("name", "x");
  EXPECT_EQ(client->error("auth.login", JsonObj().set("handle", "alice").set("password", "wrong password").set("device", device)),
            "invalid_credentials");
  EXPECT_EQ(client->error("auth.login", JsonObj().set("handle", "nobody").set("password", "whatever123").set("device", device)),
            "invalid_credentials");
  // The connection is still usable and not signed in.
  EXPECT_EQ(client->error("chats.list"), "unauthenticated");
  client->login("alice", alice.account.password);
}

TEST_F(AccountsTest, ResumeReturnsDeviceAndProfile) {
  auto alice = new_user("alice", "앨리스");
  auto client = connect();
  JsonRef result = client->resume(alice.account);
  EXPECT_EQ(result["device_id"].i64(), alice.account.device_id);
  EXPECT_EQ(result["profile"]["user_id"].i64(), alice.account.user_id);
  EXPECT_EQ(result["profile"]["handle"].str(), "alice");
  EXPECT_EQ(result["profile"]["display_name"].str(), "앨리스");
  client->ok("chats.list");
}

TEST_F(AccountsTest, ResumeWithUnknownTokenIsInvalidCredentials) {
  auto alice = new_user("alice");
  auto client = connect();
  std::string forged = alice.account.token;
  forged[0] = forged[0] == 'A' ? 'B' : 'A';
  EXPECT_EQ(client->error("auth.resume", JsonObj().set("token", forged)), "invalid_credentials");
  EXPECT_EQ(client->error("auth.resume", JsonObj().set("token", "short")), "invalid_credentials");
  EXPECT_EQ(client->error("chats.list"), "unauthenticated");
}

TEST_F(AccountsTest, RequestsBeforeSignInAreUnauthenticated) {
  auto client = connect();
  for (const char* op : {"chats.list", "chats.memo", "devices.list", "friends.list", "profile.update",
                         "auth.logout"}) {
    EXPECT_EQ(client->error(op), "unauthenticated") << op;
  }
  EXPECT_EQ(client->error("messages.send", JsonObj().set("chat_id", 1).set("client_id", "c1").set("text", "x")),
            "unauthenticated");
  EXPECT_EQ(client->error("sync", JsonObj().set("since", 0)), "unauthenticated");
  // The connection stays usable.
  client->register_user("alice");
  client->ok("chats.list");
}

TEST_F(AccountsTest, LogoutRevokesSessionAndClosesSocket) {
  auto alice = new_user("alice");
  auto other = new_device(alice.account);
  EXPECT_TRUE(alice->ok("auth.logout").is_object());
  CloseInfo closed = alice->wait_closed();
  EXPECT_TRUE(closed.closed) << "the server closes the socket after auth.logout";
  auto client = connect();
  EXPECT_EQ(client->error("auth.resume", JsonObj().set("token", alice.account.token)), "session_revoked");
  // The other device is unaffected.
  other->ok("ping");
  resume(other.account)->ok("ping");
}

// "The server keeps only its hash": neither tokens nor passwords appear in the data files.
TEST_F(AccountsTest, TokensAndPasswordsAreNotStoredInPlaintext) {
  auto alice = new_user("alice");
  auto phone = new_device(alice.account);
  const std::vector<std::string> secrets{alice.account.token, phone.account.token, alice.account.password};
  auto scan = [&](const std::string& when) {
    int files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(server().data_dir())) {
      if (!entry.is_regular_file()) continue;
      ++files;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (const auto& secret : secrets)
        EXPECT_EQ(content.find(secret), std::string::npos)
            << "a secret (" << secret.substr(0, 6) << "…) is stored in plaintext in " << entry.path() << " " << when;
    }
    EXPECT_GT(files, 0) << "no data files " << when;
  };
  alice->ok("ping");
  scan("while running");
  alice.client.reset();
  phone.client.reset();
  server().stop();
  scan("after stopping");
}

TEST_F(AccountsTest, DevicesListShowsEveryDeviceAndMarksCurrent) {
  auto alice = new_user("alice");  // kind "pc", name "test pc"
  auto phone = new_device(alice.account, "phone");
  JsonRef devices = phone->ok("devices.list")["devices"];
  ASSERT_EQ(devices.size(), 2u) << devices.dump();
  int current = 0;
  for (const auto& d : devices.items()) {
    EXPECT_GT(d["created_at"].i64(), 1600000000000) << d.dump();
    EXPECT_TRUE(d["last_seen_at"].is_int()) << d.dump();
    if (d["device_id"].i64() == phone.account.device_id) {
      EXPECT_TRUE(d["current"].boolean());
      EXPECT_EQ(d["kind"].str(), "phone");
      EXPECT_EQ(d["name"].str(), "second phone");
      ++current;
    } else {
      EXPECT_EQ(d["device_id"].i64(), alice.account.device_id);
      EXPECT_FALSE(d["current"].boolean());
      EXPECT_EQ(d["kind"].str(), "pc");
      EXPECT_EQ(d["name"].str(), "test pc");
    }
  }
  EXPECT_EQ(current, 1);
}

// "Last seen" is written in batches (services/accounts/last_seen.h): soon after a resume,
// and before a clean stop ends the server.
TEST_F(AccountsTest, ResumeRecordsWhenTheDeviceWasLastSeen) {
  auto alice = new_user("alice");
  auto phone = new_device(alice.account, "phone");
  auto seen_at = [&](const Session& by, std::int64_t device) {
    for (const auto& d : by->ok("devices.list")["devices"].items())
      if (d["device_id"].i64() == device) return d["last_seen_at"].i64();
    ADD_FAILURE() << "device " << device << " is not listed";
    return std::int64_t{0};
  };
  const std::int64_t before = seen_at(phone, alice.account.device_id);
  std::this_thread::sleep_for(20ms);
  auto again = resume(alice.account);
  std::int64_t after = before;
  for (int i = 0; i < 300 && after == before; ++i) {
    std::this_thread::sleep_for(10ms);
    after = seen_at(phone, alice.account.device_id);
  }
  EXPECT_GT(after, before) << "the resume is not recorded within 3 s";

  std::this_thread::sleep_for(20ms);
  auto last = resume(alice.account);
  last.client.reset();
  again.client.reset();
  phone.client.reset();
  server().restart();  // a clean stop, then the same data
  auto check = new_device(alice.account, "tablet");  // a login does not touch the other devices
  EXPECT_GT(seen_at(check, alice.account.device_id), after) << "the resume just before the stop is lost";
}

TEST_F(AccountsTest, RevokedDeviceGetsSessionRevokedAndCannotResume) {
  auto alice = new_user("alice");
  auto phone = new_device(alice.account, "phone");
  EXPECT_TRUE(alice->ok("devices.revoke", JsonObj().set("device_id", phone.account.device_id)).is_object());

  JsonRef event = phone->expect_event("session.revoked");
  EXPECT_EQ(event["data"]["device_id"].i64(), phone.account.device_id);
  EXPECT_TRUE(phone->wait_closed().closed) << "the revoked device's socket is closed";

  auto client = connect();
  EXPECT_EQ(client->error("auth.resume", JsonObj().set("token", phone.account.token)), "session_revoked");
  // The revoking device is unaffected.
  alice->ok("ping");
  resume(alice.account)->ok("ping");
}

TEST_F(AccountsTest, RevokeClosesEverySocketOfThatDevice) {
  auto alice = new_user("alice");
  auto phone = new_device(alice.account, "phone");
  auto phone_again = resume(phone.account);  // the same device on a second socket
  alice->ok("devices.revoke", JsonObj().set("device_id", phone.account.device_id));
  for (Client* c : {phone.client.get(), phone_again.client.get()}) {
    EXPECT_EQ(c->expect_event("session.revoked")["data"]["device_id"].i64(), phone.account.device_id);
    EXPECT_TRUE(c->wait_closed().closed);
  }
  alice->ok("ping");
}

TEST_F(AccountsTest, CannotRevokeAnotherUsersDevice) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  Response r = alice->call("devices.revoke", JsonObj().set("device_id", bob.account.device_id));
  EXPECT_FALSE(r.ok()) << r.dump();
  // Bob's session still works, on the open socket and for resume.
  bob->ok("ping");
  EXPECT_FALSE(bob->next_event("session.revoked", 300ms).has_value());
  resume(bob.account)->ok("ping");
}

TEST_F(AccountsTest, RevokeUnknownDeviceFails) {
  auto alice = new_user("alice");
  Response r = alice->call("devices.revoke", JsonObj().set("device_id", 987654));
  EXPECT_FALSE(r.ok()) << r.dump();
  alice->ok("ping");
}

}  // namespace
}  // namespace modu_it
