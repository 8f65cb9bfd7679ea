// Micro-benchmarks of the server's per-message CPU work, with Google Benchmark: what each
// delivered or fetched message costs in encoding, and what each request costs in parsing.
// These guide the small optimisations; the end-to-end figures come from modu-bench.
//
//   build/release/bench/modu-micro                       (all, ~10 s)
//   build/release/bench/modu-micro --benchmark_filter=Message
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "net/send_batch.h"
#include "protocol/frames.h"
#include "protocol/json_writer.h"
#include "services/chat/chat_events.h"
#include "services/views.h"

namespace modu {
namespace {

MessageRecord sample_message(std::string text) {
  MessageRecord m;
  m.chat = ChatId(4211);
  m.seq = 982341;
  m.client_id = "c-7f3a9e21-0042";
  m.sender = UserId(1187);
  m.text = std::move(text);
  m.created_at = 1764583200123;
  return m;
}

const std::string kAsciiText =
    "Are we still meeting at the station at seven? I can bring the tickets and some snacks.";  // 86 B
const std::string kKoreanText = "오늘 저녁 일곱 시에 역에서 만나는 거 맞지? 표랑 간식은 내가 챙겨 갈게.";  // ~100 B

// One string value: JsonWriter's string path (eight bytes at a time) against rapidjson's
// own Writer (byte by byte); src/protocol/json_writer.h.
void BM_StringValue_rapidjson(benchmark::State& state, const std::string& text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> plain(buffer);
  for (auto _ : state) {
    buffer.Clear();
    plain.Reset(buffer);
    plain.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    benchmark::DoNotOptimize(buffer.GetString());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
void BM_StringValue_ours(benchmark::State& state, const std::string& text) {
  JsonWriter ours;
  for (auto _ : state) {
    ours.clear();
    ours.value(text);
    benchmark::DoNotOptimize(ours.view().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
const std::string kKey = "client_id";
BENCHMARK_CAPTURE(BM_StringValue_rapidjson, ascii, kAsciiText);
BENCHMARK_CAPTURE(BM_StringValue_ours, ascii, kAsciiText);
BENCHMARK_CAPTURE(BM_StringValue_rapidjson, korean, kKoreanText);
BENCHMARK_CAPTURE(BM_StringValue_ours, korean, kKoreanText);
BENCHMARK_CAPTURE(BM_StringValue_rapidjson, key, kKey);
BENCHMARK_CAPTURE(BM_StringValue_ours, key, kKey);

// One history row: what messages.history and catch-up pay per message.
void BM_WriteMessage(benchmark::State& state, const std::string& text) {
  MessageRecord m = sample_message(text);
  for (auto _ : state) {
    JsonWriter w;
    write_message(w, m, 1, m.sender.value);
    benchmark::DoNotOptimize(w.view().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK_CAPTURE(BM_WriteMessage, ascii, kAsciiText);
BENCHMARK_CAPTURE(BM_WriteMessage, korean, kKoreanText);

// A page of 100 history rows into one writer (messages.history's loop).
void BM_WriteHistoryPage(benchmark::State& state) {
  std::vector<MessageRecord> page;
  for (int i = 0; i < 100; ++i) {
    page.push_back(sample_message(i % 2 ? kAsciiText : kKoreanText));
    page.back().seq += i;
  }
  for (auto _ : state) {
    JsonWriter w;
    w.begin_object().key("messages").begin_array();
    for (const auto& m : page) write_message(w, m, 0, m.sender.value);
    w.end_array().field("has_more", false).end_object();
    benchmark::DoNotOptimize(w.view().data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * page.size()));
}
BENCHMARK(BM_WriteHistoryPage);

// A message.new event as the committer builds it: once per message, shared by recipients.
void BM_MessageNewEvent(benchmark::State& state) {
  MessageRecord m = sample_message(kAsciiText);
  for (auto _ : state) {
    SharedFrame frame = share(event_frame("message.new", 73455012, message_json(m, 1, m.sender.value)));
    benchmark::DoNotOptimize(frame->data());
  }
}
BENCHMARK(BM_MessageNewEvent);

// The request of a send: envelope and arguments parsed with the loop's reused parser.
void BM_ParseSendRequest(benchmark::State& state) {
  const std::string frame =
      R"({"id":18,"op":"messages.send","args":{"chat_id":4211,"client_id":"c-7f3a9e21-0042","text":")" +
      kAsciiText + R"("}})";
  simdjson::dom::parser parser;
  std::string id_json;
  for (auto _ : state) {
    auto request = parse_request(parser, frame, id_json);
    benchmark::DoNotOptimize(request.ok());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_ParseSendRequest);

// One slice of a group's delivery: a 300-byte WebSocket message to each of 128 loopback TCP
// connections, one `sendmsg` each, or all in one SendBatch (net/send_batch.h). Only the
// sends are timed; the receiving ends are drained between iterations.
class LoopbackConnections {
 public:
  explicit LoopbackConnections(int n) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(listener, reinterpret_cast<sockaddr*>(&addr), len);
    listen(listener, n);
    getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    for (int i = 0; i < n; ++i) {
      int client = socket(AF_INET, SOCK_STREAM, 0);
      connect(client, reinterpret_cast<sockaddr*>(&addr), len);
      int server = accept(listener, nullptr, nullptr);
      int one = 1;
      setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fcntl(client, F_SETFL, O_NONBLOCK);
      senders.push_back(server);
      receivers.push_back(client);
    }
    close(listener);
  }
  ~LoopbackConnections() {
    for (int fd : senders) close(fd);
    for (int fd : receivers) close(fd);
  }
  void drain() {
    char buf[16384];
    for (int fd : receivers)
      while (read(fd, buf, sizeof buf) > 0) {
      }
  }
  std::vector<int> senders, receivers;
};

struct CountingSender final : SendBatch::Sender {
  std::int64_t bytes = 0;
  void on_batched_send(int result) override { bytes += result > 0 ? result : 0; }
};

const std::string kWireMessage(300, 'm');
constexpr int kSliceConnections = 128;

void BM_SliceSends_OneByOne(benchmark::State& state) {
  LoopbackConnections conns(kSliceConnections);
  std::int64_t bytes = 0;
  for (auto _ : state) {
    for (int fd : conns.senders) {
      iovec piece{const_cast<char*>(kWireMessage.data()), kWireMessage.size()};
      msghdr header{};
      header.msg_iov = &piece;
      header.msg_iovlen = 1;
      bytes += sendmsg(fd, &header, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    state.PauseTiming();
    conns.drain();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kSliceConnections);
  benchmark::DoNotOptimize(bytes);
}
BENCHMARK(BM_SliceSends_OneByOne);

void BM_SliceSends_Batched(benchmark::State& state) {
  LoopbackConnections conns(kSliceConnections);
  SendBatch batch;
  if (!batch.available()) {
    state.SkipWithError(batch.unavailable_reason());
    return;
  }
  auto sender = std::make_shared<CountingSender>();
  std::vector<boost::asio::const_buffer> pieces{boost::asio::buffer(kWireMessage)};
  for (auto _ : state) {
    {
      SendBatch::Scope scope(&batch);
      for (int fd : conns.senders) batch.add(fd, pieces, sender);
    }
    state.PauseTiming();
    conns.drain();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kSliceConnections);
  benchmark::DoNotOptimize(sender->bytes);
}
BENCHMARK(BM_SliceSends_Batched);

}  // namespace
}  // namespace modu

BENCHMARK_MAIN();
