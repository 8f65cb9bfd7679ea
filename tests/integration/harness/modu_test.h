// The GoogleTest fixture every integration test uses: a fresh `modu serve` with its own data
// directory per test, plus helpers for the steps most tests share.
//
//   class ChatsTest : public ModuTest {};
//   TEST_F(ChatsTest, Something) {
//     auto alice = new_user("alice");          // registered on its own connection
//     auto bob = new_user("bob");
//     auto phone = new_device(alice.account);  // a second device (auth.login)
//     JsonRef chat = alice->ok("chats.direct", JsonObj().set("user_id", bob.id()))["chat"];
//     JsonRef msg = send_text(*alice, chat["chat_id"].i64(), "hi");
//   }
//
// A suite that needs server flags overrides server_args(). Suites whose name ends in
// "Slow" are labelled `slow` in ctest (see CMakeLists.txt).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "harness/client.h"
#include "harness/http.h"
#include "harness/json.h"
#include "harness/process.h"

namespace modu_it {

// A signed-in device: its credentials and its open connection.
struct Session {
  Account account;
  std::unique_ptr<Client> client;

  Client* operator->() const { return client.get(); }
  Client& operator*() const { return *client; }
  std::int64_t id() const { return account.user_id; }
};

class ModuTest : public ::testing::Test {
 protected:
  // Extra `modu serve` flags for this suite.
  virtual std::vector<std::string> server_args() const { return {}; }

  void SetUp() override;
  void TearDown() override;

  ServerProcess& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }

  // A new connection (hello already read), not signed in.
  std::unique_ptr<Client> connect(ClientOptions options = {});
  // Registers `handle` on a new connection.
  Session new_user(const std::string& handle, const std::string& display_name = "");
  // Registers `count` users, `prefix`0, `prefix`1, …, each on its own connection.
  std::vector<Session> new_users(const std::string& prefix, int count);
  // Signs `account`'s user in on a new connection as a new device (auth.login).
  Session new_device(const Account& account, const std::string& kind = "phone");
  // Resumes `account`'s device session on a new connection (auth.resume).
  Session resume(const Account& account);

 private:
  std::unique_ptr<ServerProcess> server_;
};

// --- protocol shortcuts (all require success) ----------------------------------------

// messages.send with a fresh client_id unless one is given; returns the message.
JsonRef send_text(Client& client, std::int64_t chat_id, const std::string& text,
                  const std::string& client_id = "");
// A unique client_id for this process ("it-<n>").
std::string next_client_id();
// chats.create_group; returns the chat summary.
JsonRef create_group(Client& client, const std::string& title, const std::vector<std::int64_t>& user_ids);
// chats.direct; returns the chat summary.
JsonRef direct_chat(Client& client, std::int64_t other_user_id);
// chats.get; returns the chat summary.
JsonRef get_chat(Client& client, std::int64_t chat_id);
// Every message after `after_seq`, paging forward with `messages.history after_seq`.
std::vector<JsonRef> history_after(Client& client, std::int64_t chat_id, std::int64_t after_seq,
                                   int page_limit = 200);
// The member entry of `user_id` in a chat summary, or throws.
JsonRef member_of(const JsonRef& chat, std::int64_t user_id);
// The user ids of `sessions`, in order.
std::vector<std::int64_t> user_ids(const std::vector<Session>& sessions);
// The user ids of a chat summary's members.
std::set<std::int64_t> member_ids(const JsonRef& chat);

}  // namespace modu_it
