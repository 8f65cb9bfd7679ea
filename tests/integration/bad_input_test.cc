// Bad input: malformed frames, unknown operations, missing and mistyped fields, size limits,
// binary frames and rate limiting. Apart from the WebSocket-level violations (1009, 1003),
// the connection must stay usable afterwards (docs/protocol.md, "Frames", "Errors", "Limits").
#include <map>
#include <set>
#include <thread>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

class BadInputTest : public ModuTest {};

// Sends `raw` as one text message and returns the single response it provokes.
Response raw_request(Client& client, const std::string& raw, const std::string& id_json) {
  client.send_text(raw);
  return client.wait_response_raw(id_json);
}

TEST_F(BadInputTest, MalformedJsonIsBadJsonWithNullId) {
  auto alice = new_user("alice");
  for (std::string raw : {std::string("{not json"), std::string("{\"id\":1,\"op\":\"ping\""), std::string("\x01\x02garbage"),
                          std::string("{\"id\":1,,}")}) {
    Response r = raw_request(*alice, raw, "null");
    EXPECT_FALSE(r.ok()) << raw;
    EXPECT_EQ(r.error_code(), "bad_json") << raw << " -> " << r.dump();
  }
  alice->ok("ping");
}

TEST_F(BadInputTest, JsonThatIsNotAnObjectIsBadJson) {
  auto alice = new_user("alice");
  for (std::string raw : {"[1,2,3]", "42", "\"ping\"", "null", "true"}) {
    Response r = raw_request(*alice, raw, "null");
    EXPECT_EQ(r.error_code(), "bad_json") << raw << " -> " << r.dump();
  }
  alice->ok("ping");
}

TEST_F(BadInputTest, MalformedJsonBeforeSignInKeepsConnectionUsable) {
  auto client = connect();
  EXPECT_EQ(raw_request(*client, "}{", "null").error_code(), "bad_json");
  client->register_user("alice");
  client->ok("ping");
}

TEST_F(BadInputTest, DeeplyNestedJsonIsRefusedWithoutHarm) {
  auto alice = new_user("alice");
  std::string nested(30000, '[');
  nested += std::string(30000, ']');
  Response r = raw_request(*alice, nested, "null");
  EXPECT_EQ(r.error_code(), "bad_json") << r.dump();
  std::string nested_args = "{\"id\":5,\"op\":\"ping\",\"args\":" + std::string(20000, '[') + std::string(20000, ']') + "}";
  alice->send_text(nested_args);
  // Either the parser refuses it (bad_json, id null) or the envelope is read and args are
  // not an object (bad_request, id 5); the server must answer and stay up.
  auto answer = alice->try_wait_any_response({"5", "null"}, 3s);
  ASSERT_TRUE(answer.has_value()) << "no answer to deeply nested args";
  EXPECT_EQ(answer->error_code(), answer->frame["id"].is_null() ? "bad_json" : "bad_request") << answer->dump();
  alice->ok("ping");
}

TEST_F(BadInputTest, UnknownOpIsUnknownOpWithEchoedId) {
  auto alice = new_user("alice");
  Response r = raw_request(*alice, R"({"id":77,"op":"messages.explode","args":{}})", "77");
  EXPECT_EQ(r.error_code(), "unknown_op") << r.dump();
  EXPECT_TRUE(r.frame["error"]["message"].is_string());
  EXPECT_EQ(alice->error("nope"), "unknown_op");
  alice->ok("ping");
}

TEST_F(BadInputTest, StringIdsAreEchoed) {
  auto alice = new_user("alice");
  // Numbers of any sign and size are ids too.
  for (std::string id : {"0", "-7", "9007199254740991"}) {
    Response r = raw_request(*alice, "{\"id\":" + id + ",\"op\":\"ping\"}", id);
    EXPECT_TRUE(r.ok()) << r.dump();
  }
  Response r = raw_request(*alice, R"({"id":"req-abc","op":"ping"})", "\"req-abc\"");
  EXPECT_TRUE(r.ok()) << r.dump();
  std::string long_id(64, 'x');
  r = raw_request(*alice, "{\"id\":\"" + long_id + "\",\"op\":\"ping\"}", "\"" + long_id + "\"");
  EXPECT_TRUE(r.ok()) << r.dump();
}

TEST_F(BadInputTest, OverlongOrMistypedIdIsBadRequest) {
  auto alice = new_user("alice");
  std::string long_id = "\"" + std::string(65, 'x') + "\"";
  for (std::string id : {long_id, std::string("{\"a\":1}"), std::string("[1]"), std::string("true")}) {
    alice->send_text("{\"id\":" + id + ",\"op\":\"ping\"}");
    // The id is not usable, so the answer may carry it or null.
    auto r = alice->try_wait_any_response({"null", JsonRef::parse(id).dump()}, 3s);
    ASSERT_TRUE(r.has_value()) << "no answer to id " << id;
    EXPECT_EQ(r->error_code(), "bad_request") << id << " -> " << r->dump();
  }
  alice->ok("ping");
}

TEST_F(BadInputTest, SeveralFramesInOneMessageAreAllAnswered) {
  auto alice = new_user("alice");
  alice->send_text("{\"id\":101,\"op\":\"ping\"}\n{\"id\":102,\"op\":\"chats.memo\"}\n{\"id\":103,\"op\":\"bogus\"}");
  EXPECT_TRUE(alice->wait_response(101).ok());
  EXPECT_TRUE(alice->wait_response(102).ok());
  EXPECT_EQ(alice->wait_response(103).error_code(), "unknown_op");
}

TEST_F(BadInputTest, ManyFramesInOneMessageEachGetOneResponse) {
  auto alice = new_user("alice");
  std::string batch;
  for (int id = 1000; id < 1150; ++id) batch += "{\"id\":" + std::to_string(id) + ",\"op\":\"ping\"}\n";
  alice->send_text(batch);
  for (int id = 1000; id < 1150; ++id) EXPECT_TRUE(alice->wait_response(id).ok()) << id;
  EXPECT_FALSE(alice->try_wait_any_response({"1000", "1149", "null"}, 200ms).has_value()) << "one response each";
}

TEST_F(BadInputTest, MissingFieldsAndWrongTypesAreBadRequest) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  send_text(*alice, chat, "existing");
  std::int64_t last_seq = get_chat(*alice, chat)["last_seq"].i64();

  struct Case {
    std::string op;
    JsonObj args;
    std::string field;  // the field error.message should name
  };
  std::vector<Case> cases = {
      {"messages.send", JsonObj().set("client_id", "c1").set("text", "x"), "chat_id"},
      {"messages.send", JsonObj().set("chat_id", chat).set("text", "x"), "client_id"},
      {"messages.send", JsonObj().set("chat_id", chat).set("client_id", "c2"), "text"},
      {"messages.send", JsonObj().set("chat_id", std::to_string(chat)).set("client_id", "c3").set("text", "x"), "chat_id"},
      {"messages.send", JsonObj().set_raw("chat_id", "1.5").set("client_id", "c4").set("text", "x"), "chat_id"},
      {"messages.send", JsonObj().set("chat_id", chat).set("client_id", "c5").set("text", 42), "text"},
      {"messages.send", JsonObj().set("chat_id", chat).set("client_id", "").set("text", "x"), "client_id"},
      {"messages.send", JsonObj().set("chat_id", chat).set("client_id", std::string(65, 'c')).set("text", "x"), "client_id"},
      {"messages.send", JsonObj().set("chat_id", chat).set_raw("client_id", "null").set("text", "x"), "client_id"},
      {"messages.send", JsonObj().set("chat_id", chat).set("client_id", "c6").set("text", "x").set("reply_to", "1"), "reply_to"},
      {"messages.history", JsonObj(), "chat_id"},
      {"messages.history", JsonObj().set("chat_id", chat).set("limit", "10"), "limit"},
      {"messages.read", JsonObj().set("chat_id", chat), "seq"},
      {"messages.read", JsonObj().set("chat_id", chat).set("seq", "1"), "seq"},
      {"messages.delete", JsonObj().set("chat_id", chat), "seq"},
      {"chats.get", JsonObj(), "chat_id"},
      {"chats.direct", JsonObj(), "user_id"},
      {"chats.create_group", JsonObj().set("title", "g"), "user_ids"},
      {"chats.create_group", JsonObj().set("title", "g").set("user_ids", bob.id()), "user_ids"},
      {"chats.create_group", JsonObj().set("title", "g").set("user_ids", JsonArr().add("bob")), "user_ids"},
      {"chats.rename", JsonObj().set("chat_id", chat), "title"},
      {"chats.invite", JsonObj().set("chat_id", chat), "user_ids"},
      {"profile.update", JsonObj().set("display_name", 7), "display_name"},
      {"friends.remove", JsonObj(), "user_id"},
      {"devices.revoke", JsonObj().set("device_id", "1"), "device_id"},
      {"sync", JsonObj().set("since", "0"), "since"},
      {"chats.list", JsonObj().set("before", JsonObj()), "before"},
      {"messages.history", JsonObj().set("chat_id", chat).set("before_seq", 5).set("after_seq", 1), "seq"},
  };
  for (const auto& c : cases) {
    Response r = alice->call(c.op, c.args);
    EXPECT_EQ(r.error_code(), "bad_request") << c.op << " " << c.args.str() << " -> " << r.dump();
    if (!r.ok() && r.frame["error"]["message"].is_string()) {
      EXPECT_NE(r.frame["error"]["message"].str().find(c.field), std::string::npos)
          << "error.message should name '" << c.field << "': " << r.dump();
    }
  }
  // Requests without `op`, with a non-string op, or with args that are not an object.
  EXPECT_EQ(raw_request(*alice, R"({"id":201,"args":{}})", "201").error_code(), "bad_request");
  EXPECT_EQ(raw_request(*alice, R"({"id":202,"op":5})", "202").error_code(), "bad_request");
  EXPECT_EQ(raw_request(*alice, R"({"id":203,"op":"chats.get","args":[1]})", "203").error_code(), "bad_request");
  EXPECT_EQ(raw_request(*alice, R"({"id":204,"op":"chats.get","args":"x"})", "204").error_code(), "bad_request");

  // Nothing was stored and the connection still works.
  EXPECT_EQ(get_chat(*alice, chat)["last_seq"].i64(), last_seq);
  alice->ok("ping");
}

TEST_F(BadInputTest, OutOfRangeNumbersAndLoneSurrogatesAreHandled) {
  auto alice = new_user("alice");
  EXPECT_EQ(alice->error("chats.get", JsonObj().set("chat_id", std::int64_t{9223372036854775807})), "chat_not_found");
  EXPECT_EQ(alice->error("chats.get", JsonObj().set_raw("chat_id", "1e3")), "bad_request");
  // Valid JSON whose integer does not fit 64 bits: refused as bad_request (a wrong type),
  // not as malformed JSON. The whole frame is refused before its id is read, so the answer
  // may carry id null.
  alice->send_text(R"({"id":77,"op":"chats.get","args":{"chat_id":99999999999999999999}})");
  auto big = alice->try_wait_any_response({"77", "null"}, 3s);
  ASSERT_TRUE(big.has_value()) << "no answer to an out-of-range chat_id";
  EXPECT_EQ(big->error_code(), "bad_request") << big->dump();
  // A lone surrogate escape is not a Unicode character: refused, not stored.
  std::int64_t chat = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  alice->send_text("{\"id\":31,\"op\":\"messages.send\",\"args\":{\"chat_id\":" + std::to_string(chat) +
                   ",\"client_id\":\"s1\",\"text\":\"\\ud800\"}}");
  auto r = alice->try_wait_any_response({"31", "null"}, 3s);
  ASSERT_TRUE(r.has_value()) << "no answer to a lone surrogate";
  EXPECT_TRUE(r->error_code() == "bad_json" || r->error_code() == "bad_request") << r->dump();
  EXPECT_EQ(history_after(*alice, chat, 0).size(), 0u);
  alice->ok("ping");
}

class BadInputFuzzTest : public ModuTest {
  std::vector<std::string> server_args() const override {
    return {"--rate-limit", "100000", "--rate-burst", "100000"};
  }
};

// Every field of every operation, replaced in turn by values of every JSON type: each request
// gets exactly one response, errors use documented codes, and the connection stays open.
TEST_F(BadInputFuzzTest, EveryRequestGetsOneResponseWhateverTheFieldValues) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = create_group(*alice, "fuzz", {bob.id()})["chat_id"].i64();
  std::int64_t seq = send_text(*alice, chat, "target")["seq"].i64();
  const std::string c = std::to_string(chat), b = std::to_string(bob.id()), q = std::to_string(seq);
  struct Op {
    std::string op;
    std::vector<std::pair<std::string, std::string>> fields;  // name, valid raw JSON
  };
  const std::vector<Op> ops = {
      {"profile.get", {{"user_id", b}}},
      {"profile.get", {{"handle", "\"bob\""}}},
      {"profile.update", {{"display_name", "\"A\""}, {"status_message", "\"s\""}, {"avatar", "\"\""}}},
      {"friends.add", {{"handle", "\"bob\""}}},
      {"friends.add", {{"user_id", b}}},
      {"friends.remove", {{"user_id", b}}},
      {"chats.list", {{"limit", "10"}}},
      {"chats.get", {{"chat_id", c}}},
      {"chats.direct", {{"user_id", b}}},
      {"chats.create_group", {{"title", "\"t\""}, {"user_ids", "[" + b + "]"}}},
      {"chats.invite", {{"chat_id", c}, {"user_ids", "[" + b + "]"}}},
      {"chats.rename", {{"chat_id", c}, {"title", "\"t\""}}},
      {"messages.send", {{"chat_id", c}, {"client_id", "\"f\""}, {"text", "\"x\""}, {"reply_to", q}}},
      {"messages.history", {{"chat_id", c}, {"before_seq", q}, {"limit", "5"}}},
      {"messages.history", {{"chat_id", c}, {"after_seq", "0"}}},
      {"messages.read", {{"chat_id", c}, {"seq", q}}},
      {"messages.delete", {{"chat_id", c}, {"seq", "999"}}},
      {"sync", {{"since", "0"}, {"limit", "5"}}},
      {"ping", {}},
      {"devices.list", {}},
  };
  const std::vector<std::string> values = {"null", "true", "\"x\"", "\"\"", "{}", "[]", "[null]", "-1", "0",
                                           "1.5", "9007199254740993", "{\"a\":[1]}"};
  std::map<std::int64_t, std::string> sent;  // id -> description
  std::int64_t id = 5000;
  auto send = [&](const Op& op, const std::string& replaced, const std::string& value, bool omit) {
    std::string args = "{";
    bool first = true;
    for (const auto& [name, valid] : op.fields) {
      if (name == replaced && omit) continue;
      args += (first ? "\"" : ",\"") + name + "\":" + (name == replaced ? value : valid);
      first = false;
    }
    args += "}";
    std::string frame = "{\"id\":" + std::to_string(id) + ",\"op\":\"" + op.op + "\",\"args\":" + args + "}";
    alice->send_text(frame);
    sent[id++] = frame;
  };
  for (const auto& op : ops) {
    send(op, "", "", false);  // the valid request itself
    for (const auto& [name, valid] : op.fields) {
      send(op, name, "", true);  // the field missing
      for (const auto& value : values) send(op, name, value, false);
    }
  }
  static const std::set<std::string> documented = {
      "bad_json", "bad_request", "unknown_op", "unauthenticated", "already_authenticated", "invalid_credentials",
      "session_revoked", "handle_taken", "invalid_handle", "weak_password", "user_not_found", "chat_not_found",
      "message_not_found", "forbidden", "duplicate_client_id", "delete_window_expired", "too_large",
      "rate_limited", "invalid_state", "unavailable", "internal"};
  int missing = 0;
  for (const auto& [request_id, frame] : sent) {
    auto r = alice->try_wait_any_response({std::to_string(request_id)}, missing ? 100ms : 3s);
    if (!r) {
      if (++missing <= 15) ADD_FAILURE() << "no response to " << frame;
      continue;
    }
    if (!r->ok()) {
      EXPECT_TRUE(documented.count(r->error_code())) << frame << " -> " << r->dump();
      EXPECT_NE(r->error_code(), "internal") << frame << " -> " << r->dump();
    }
  }
  EXPECT_EQ(missing, 0) << "requests without a response, of " << sent.size();
  EXPECT_FALSE(alice->try_wait_any_response({"null"}, 100ms).has_value()) << "every frame was valid JSON";
  EXPECT_TRUE(alice->is_open());
  alice->ok("ping");
}

// The same for the sign-in operations, each request on its own fresh connection (a success
// signs the connection in, after which every request would be already_authenticated).
TEST_F(BadInputFuzzTest, SignInRequestsGetOneResponseWhateverTheFieldValues) {
  Account bob = connect()->register_user("bob");
  struct Op {
    std::string op;
    std::vector<std::pair<std::string, std::string>> fields;
  };
  const std::string device = R"({"kind":"pc","name":"fuzz"})";
  const std::vector<Op> ops = {
      {"auth.register", {{"handle", "\"fuzzy\""}, {"password", "\"long enough\""}, {"display_name", "\"F\""}, {"device", device}}},
      {"auth.login", {{"handle", "\"bob\""}, {"password", json_quote(bob.password)}, {"device", device}}},
      {"auth.resume", {{"token", json_quote(bob.token)}}},
  };
  const std::vector<std::string> values = {"null", "true", "\"x\"", "\"\"", "{}", "[]", "-1", "1.5", "{\"kind\":[1]}"};
  std::vector<std::pair<std::unique_ptr<Client>, std::string>> sent;  // connection, frame
  for (const auto& op : ops) {
    for (const auto& [name, valid] : op.fields) {
      for (std::size_t v = 0; v <= values.size(); ++v) {
        bool omit = v == values.size();
        std::string args = "{";
        bool first = true;
        for (const auto& [field, field_valid] : op.fields) {
          if (field == name && omit) continue;
          args += (first ? "\"" : ",\"") + field + "\":" + (field == name ? values[v] : field_valid);
          first = false;
        }
        args += "}";
        std::string frame = "{\"id\":1,\"op\":\"" + op.op + "\",\"args\":" + args + "}";
        auto client = connect();
        client->send_text(frame);
        sent.emplace_back(std::move(client), frame);
      }
    }
  }
  int missing = 0;
  for (auto& [client, frame] : sent) {
    auto r = client->try_wait_any_response({"1", "null"}, missing ? 200ms : 3s);
    if (!r) {
      if (++missing <= 15) ADD_FAILURE() << "no response to " << frame;
      continue;
    }
    EXPECT_NE(r->error_code(), "internal") << frame << " -> " << r->dump();
    EXPECT_TRUE(client->is_open()) << frame;
  }
  EXPECT_EQ(missing, 0) << "requests without a response, of " << sent.size();
}

TEST_F(BadInputTest, TextOverLimitIsTooLarge) {
  auto alice = new_user("alice");
  std::int64_t chat = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  EXPECT_EQ(alice->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", "big1").set("text", std::string(16385, 'a'))),
            "too_large");
  // The limit is in UTF-8 bytes: 5,462 Hangul syllables are 16,386 bytes.
  std::string hangul;
  for (int i = 0; i < 5462; ++i) hangul += "가";
  EXPECT_EQ(alice->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", "big2").set("text", hangul)),
            "too_large");
  JsonRef at_limit = send_text(*alice, chat, std::string(16384, 'a'), "big3");
  EXPECT_EQ(at_limit["text"].str().size(), 16384u);
  EXPECT_EQ(history_after(*alice, chat, 0).size(), 1u);
}

class BadInputTextLimitTest : public ModuTest {
  std::vector<std::string> server_args() const override { return {"--max-text-bytes", "100"}; }
};

TEST_F(BadInputTextLimitTest, ConfiguredTextLimitApplies) {
  auto alice = new_user("alice");
  std::int64_t chat = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  EXPECT_EQ(alice->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", "t1").set("text", std::string(101, 'a'))),
            "too_large");
  send_text(*alice, chat, std::string(100, 'a'));
}

// The server may drop the connection before it has read the whole oversized frame, so
// these use a raw socket: it can still read the close frame after its own write failed.
TEST_F(BadInputTest, FrameOverLimitClosesWith1009) {
  RawWebSocket ws(port());
  std::string request = "{\"id\":9,\"op\":\"ping\",\"args\":{\"pad\":\"" + std::string(70000, 'a') + "\"}}";
  ws.send_frame(1, request);
  EXPECT_EQ(ws.wait_close_code(5s), 1009);
  connect()->register_user("alice");  // the server is fine
}

class BadInputFrameLimitTest : public ModuTest {
  std::vector<std::string> server_args() const override { return {"--max-frame-bytes", "4096"}; }
};

TEST_F(BadInputFrameLimitTest, ConfiguredFrameLimitApplies) {
  auto alice = new_user("alice");
  std::int64_t chat = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  send_text(*alice, chat, std::string(3000, 'a'));  // a frame under the limit is fine
  RawWebSocket ws(port());
  ws.send_frame(1, "{\"id\":9,\"op\":\"ping\",\"args\":{\"pad\":\"" + std::string(5000, 'p') + "\"}}");
  EXPECT_EQ(ws.wait_close_code(5s), 1009);
}

TEST_F(BadInputTest, BinaryFrameClosesWith1003) {
  auto alice = new_user("alice");
  alice->send_binary(R"({"id":1,"op":"ping"})");
  CloseInfo closed = alice->wait_closed();
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.code, 1003) << closed.reason;
  // The session itself is fine.
  resume(alice.account)->ok("ping");
}

// The default limit (50/s, bursts of 200) lets a client pipeline a burst of 200 requests,
// e.g. history pages while catching up, and limits what goes beyond.
TEST_F(BadInputTest, DefaultRateLimitServesBurstOf200) {
  auto alice = new_user("alice");
  std::this_thread::sleep_for(1s);  // let the bucket refill after registering
  auto started = std::chrono::steady_clock::now();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(alice->send_request("ping"));
  int ok = 0, limited = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    Response r = alice->wait_response(ids[i]);
    if (r.ok()) ++ok;
    else if (r.error_code() == "rate_limited") ++limited;
    else ADD_FAILURE() << r.dump();
    if (i < 200) {
      EXPECT_TRUE(r.ok()) << "request " << i << " is within the burst: " << r.dump();
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_LE(ok, 200 + static_cast<int>(50 * seconds) + 1) << "in " << seconds << " s";
  EXPECT_GT(limited, 0);
}

class BadInputRateLimitTest : public ModuTest {
  std::vector<std::string> server_args() const override { return {"--rate-limit", "5", "--rate-burst", "5"}; }
};

TEST_F(BadInputRateLimitTest, BurstOverLimitIsRateLimitedAndConnectionStaysOpen) {
  auto alice = new_user("alice");
  std::this_thread::sleep_for(1200ms);  // refill the bucket after registering
  std::vector<std::int64_t> ids;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) ids.push_back(alice->send_request("ping"));
  int ok = 0, limited = 0;
  for (auto id : ids) {
    Response r = alice->wait_response(id);
    if (r.ok()) ++ok;
    else if (r.error_code() == "rate_limited") ++limited;
    else ADD_FAILURE() << "unexpected " << r.dump();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_GE(ok, 5) << "the burst is served";
  // The burst plus what 5/s refills while the 30 requests were handled, and no more.
  EXPECT_LE(ok, 5 + static_cast<int>(5 * seconds) + 1) << "in " << seconds << " s";
  EXPECT_EQ(ok + limited, 30);
  EXPECT_TRUE(alice->is_open());
  // The limit is per connection: another connection of the same user is unaffected.
  auto other = resume(alice.account);
  other->ok("ping");
  // After a pause the connection serves requests again.
  std::this_thread::sleep_for(1500ms);
  alice->ok("ping");
}

}  // namespace
}  // namespace modu_it
