#include "net/send_batch.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace modu {
namespace {

// Both ends of a stream socket pair, closed at the end.
struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
    fcntl(fd[1], F_SETFL, O_NONBLOCK);
  }
  ~SocketPair() {
    close(fd[0]);
    close(fd[1]);
  }
  int sender() const { return fd[0]; }
  std::string received() const {  // everything readable at the other end, now
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = read(fd[1], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
};

struct RecordingSender final : SendBatch::Sender {
  std::vector<int> results;
  std::function<void()> then;  // runs inside the callback
  void on_batched_send(int result) override {
    results.push_back(result);
    if (then) then();
  }
};

std::vector<boost::asio::const_buffer> pieces_of(const std::vector<std::string>& parts) {
  std::vector<boost::asio::const_buffer> out;
  for (const auto& p : parts) out.push_back(boost::asio::buffer(p));
  return out;
}

TEST(SendBatchTest, SendsToManySocketsInOneSystemCall) {
  SendBatch batch;
  ASSERT_TRUE(batch.available()) << batch.unavailable_reason();
  std::vector<std::unique_ptr<SocketPair>> pairs;
  std::vector<std::shared_ptr<RecordingSender>> senders;
  std::vector<std::vector<std::string>> parts;
  for (int i = 0; i < 5; ++i) {
    pairs.push_back(std::make_unique<SocketPair>());
    senders.push_back(std::make_shared<RecordingSender>());
    parts.push_back({"header" + std::to_string(i), "\n", std::string(100 * (i + 1), 'a' + i)});
  }
  {
    SendBatch::Scope scope(&batch);
    EXPECT_TRUE(batch.gathering());
    for (int i = 0; i < 5; ++i) batch.add(pairs[i]->sender(), pieces_of(parts[i]), senders[i]);
    EXPECT_EQ(pairs[0]->received(), "") << "nothing leaves before the scope ends";
  }
  EXPECT_FALSE(batch.gathering());
  EXPECT_EQ(batch.submits(), 1u);
  EXPECT_EQ(batch.sends(), 5u);
  for (int i = 0; i < 5; ++i) {
    std::string whole = parts[i][0] + parts[i][1] + parts[i][2];
    ASSERT_EQ(senders[i]->results, std::vector<int>{static_cast<int>(whole.size())}) << i;
    EXPECT_EQ(pairs[i]->received(), whole) << i;
  }
}

TEST(SendBatchTest, AFullSocketSaysSoAtOnceAndOthersStillSend) {
  SendBatch batch;
  ASSERT_TRUE(batch.available()) << batch.unavailable_reason();
  SocketPair full, open;
  fcntl(full.sender(), F_SETFL, O_NONBLOCK);
  std::string chunk(65536, 'x');
  while (write(full.sender(), chunk.data(), chunk.size()) > 0) {
  }
  auto to_full = std::make_shared<RecordingSender>();
  auto to_open = std::make_shared<RecordingSender>();
  std::vector<std::string> message{"hello"};
  {
    SendBatch::Scope scope(&batch);
    batch.add(full.sender(), pieces_of(message), to_full);
    batch.add(open.sender(), pieces_of(message), to_open);
  }
  EXPECT_EQ(to_full->results, std::vector<int>{-EAGAIN});
  EXPECT_EQ(to_open->results, std::vector<int>{5});
  EXPECT_EQ(open.received(), "hello");
}

TEST(SendBatchTest, AClosedPeerIsAnErrorNotASignal) {
  SendBatch batch;
  ASSERT_TRUE(batch.available()) << batch.unavailable_reason();
  SocketPair pair;
  close(pair.fd[1]);
  pair.fd[1] = -1;
  auto sender = std::make_shared<RecordingSender>();
  std::vector<std::string> message{"anyone there?"};
  {
    SendBatch::Scope scope(&batch);
    batch.add(pair.sender(), pieces_of(message), sender);
  }
  EXPECT_EQ(sender->results, std::vector<int>{-EPIPE});
}

TEST(SendBatchTest, NestedScopesSendOnceWhenTheOutermostEnds) {
  SendBatch batch;
  ASSERT_TRUE(batch.available()) << batch.unavailable_reason();
  SocketPair a, b;
  auto sa = std::make_shared<RecordingSender>(), sb = std::make_shared<RecordingSender>();
  std::vector<std::string> message{"x"};
  {
    SendBatch::Scope outer(&batch);
    batch.add(a.sender(), pieces_of(message), sa);
    {
      SendBatch::Scope inner(&batch);
      batch.add(b.sender(), pieces_of(message), sb);
    }
    EXPECT_TRUE(sb->results.empty()) << "the inner scope's end sends nothing";
  }
  EXPECT_EQ(batch.submits(), 1u);
  EXPECT_EQ(sa->results, std::vector<int>{1});
  EXPECT_EQ(sb->results, std::vector<int>{1});
}

TEST(SendBatchTest, MoreSendsThanTheRingHoldsGoInSeveralCalls) {
  SendBatch batch;
  ASSERT_TRUE(batch.available()) << batch.unavailable_reason();
  const std::size_t n = SendBatch::kEntries + 10;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  std::vector<std::shared_ptr<RecordingSender>> senders;
  std::vector<std::string> message{"frame"};
  {
    SendBatch::Scope scope(&batch);
    for (std::size_t i = 0; i < n; ++i) {
      pairs.push_back(std::make_unique<SocketPair>());
      senders.push_back(std::make_shared<RecordingSender>());
      batch.add(pairs.back()->sender(), pieces_of(message), senders.back());
    }
  }
  EXPECT_EQ(batch.submits(), 2u);
  EXPECT_EQ(batch.sends(), n);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(senders[i]->results, std::vector<int>{5}) << i;
    EXPECT_EQ(pairs[i]->received(), "frame") << i;
  }
}

TEST(SendBatchTest, ASenderToldItsResultCannotJoinTheBatchReportingIt) {
  SendBatch batch;
  ASSERT_TRUE(batch.available()) << batch.unavailable_reason();
  SocketPair pair;
  auto sender = std::make_shared<RecordingSender>();
  bool gathering_inside = true;
  sender->then = [&] { gathering_inside = batch.gathering(); };
  std::vector<std::string> message{"once"};
  {
    SendBatch::Scope scope(&batch);
    batch.add(pair.sender(), pieces_of(message), sender);
  }
  EXPECT_FALSE(gathering_inside) << "a write from the callback must go the usual way";
  EXPECT_EQ(sender->results, std::vector<int>{4});
}

TEST(SendBatchTest, TurnedOffItNeverGathers) {
  SendBatch batch(false);
  EXPECT_FALSE(batch.available());
  EXPECT_STREQ(batch.unavailable_reason(), "turned off");
  SendBatch::Scope scope(&batch);
  EXPECT_FALSE(batch.gathering());
  SendBatch::Scope none(nullptr);  // a writer without a batch
  EXPECT_FALSE(batch.gathering());
}

}  // namespace
}  // namespace modu
