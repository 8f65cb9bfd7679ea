#include "harness/modu_test.h"

#include <atomic>
#include <stdexcept>

namespace modu_it {

void ModuTest::SetUp() {
  server_ = std::make_unique<ServerProcess>(server_args());
  server_->start();
}

void ModuTest::TearDown() {
  // Sessions are owned by the test body and already closed; the server dies with its object.
  server_.reset();
}

std::unique_ptr<Client> ModuTest::connect(ClientOptions options) {
  return std::make_unique<Client>(port(), std::move(options));
}

Session ModuTest::new_user(const std::string& handle, const std::string& display_name) {
  Session s;
  s.client = connect();
  s.account = s.client->register_user(handle, display_name);
  return s;
}

std::vector<Session> ModuTest::new_users(const std::string& prefix, int count) {
  std::vector<Session> out;
  for (int i = 0; i < count; ++i) out.push_back(new_user(prefix + std::to_string(i)));
  return out;
}

std::vector<std::int64_t> user_ids(const std::vector<Session>& sessions) {
  std::vector<std::int64_t> ids;
  for (const auto& s : sessions) ids.push_back(s.id());
  return ids;
}

Session ModuTest::new_device(const Account& account, const std::string& kind) {
  Session s;
  s.client = connect();
  s.account = s.client->login(account.handle, account.password, kind, "second " + kind);
  return s;
}

Session ModuTest::resume(const Account& account) {
  Session s;
  s.client = connect();
  s.client->resume(account);
  s.account = account;
  return s;
}

std::string next_client_id() {
  static std::atomic<int> counter{0};
  return "it-" + std::to_string(++counter);
}

JsonRef send_text(Client& client, std::int64_t chat_id, const std::string& text, const std::string& client_id) {
  return client.ok("messages.send", JsonObj()
                                        .set("chat_id", chat_id)
                                        .set("client_id", client_id.empty() ? next_client_id() : client_id)
                                        .set("text", text))["message"];
}

JsonRef create_group(Client& client, const std::string& title, const std::vector<std::int64_t>& user_ids) {
  return client.ok("chats.create_group", JsonObj().set("title", title).set("user_ids", JsonArr(user_ids)))["chat"];
}

JsonRef direct_chat(Client& client, std::int64_t other_user_id) {
  return client.ok("chats.direct", JsonObj().set("user_id", other_user_id))["chat"];
}

JsonRef get_chat(Client& client, std::int64_t chat_id) {
  return client.ok("chats.get", JsonObj().set("chat_id", chat_id))["chat"];
}

std::vector<JsonRef> history_after(Client& client, std::int64_t chat_id, std::int64_t after_seq, int page_limit) {
  std::vector<JsonRef> out;
  for (int pages = 0; pages < 10000; ++pages) {
    JsonRef page = client.ok("messages.history",
                             JsonObj().set("chat_id", chat_id).set("after_seq", after_seq).set("limit", page_limit));
    auto messages = page["messages"].items();
    for (const auto& m : messages) out.push_back(m);
    if (!messages.empty()) after_seq = messages.back()["seq"].i64();
    if (!page["has_more"].boolean()) return out;
    if (messages.empty()) throw std::runtime_error("messages.history: has_more with an empty page");
  }
  throw std::runtime_error("messages.history: paging did not end");
}

JsonRef member_of(const JsonRef& chat, std::int64_t user_id) {
  for (const auto& m : chat["members"].items())
    if (m["user_id"].i64() == user_id) return m;
  throw std::runtime_error("user " + std::to_string(user_id) + " is not among the members of " + chat.dump());
}

std::set<std::int64_t> member_ids(const JsonRef& chat) {
  std::set<std::int64_t> ids;
  for (const auto& m : chat["members"].items()) ids.insert(m["user_id"].i64());
  return ids;
}

}  // namespace modu_it
