// modu-baseline: the physical limit of fan-out on this machine.
//
// A deliberately minimal chat fan-out server: one thread, epoll, no auth, no JSON. Every
// connection has one output buffer; events produced while handling a batch of epoll events
// are appended to it and written with one write() per connection per loop tick (batched
// writes). A message is encoded once and the same bytes are appended to each recipient.
// Messages are kept in memory, in each chat's order, for sync and history. modu-bench runs
// its scenarios against it with `--driver baseline`, so Modu's figures can be compared with
// what the kernel allows.
//
// --durable adds what an acknowledgement after a durable commit costs at the least: the
// messages are appended to a log file with one write and one fdatasync per commit, and
// nothing produced since the last commit (acks, events, answers) is written to any
// connection before that sync returns. A commit starts at the end of a loop tick, and no
// sooner than --sync-interval after the one before (0: every tick that stored a message);
// meanwhile the loop goes on reading and holds its output. The log is a preallocated ring
// that is overwritten in place, so a sync never has to change the file's size; it is
// unlinked at once, because nothing reads it back.
//
// --cpu-per-message US spends that much CPU time on the loop's one thread for every message
// stored, before it is stored. It answers "how much CPU may a server spend per message and
// still meet a latency target on this machine": the baseline with a budget added is a
// server of that cost with the least possible structure (docs/benchmarks.md, entry 39).
//
// Line protocol (one line per request, response or event):
//   client: "<id> reg <handle>"            -> "<id> ok <user_id>"
//           "<id> resume <user_id>"        -> "<id> ok"
//           "<id> direct <peer_id>"        -> "<id> ok <chat_id> <last_seq>"
//           "<id> group <uid>,<uid>,..."   -> "<id> ok <chat_id> <last_seq>"   (caller included)
//           "<id> get <chat_id>"           -> "<id> ok <chat_id> <last_seq>"
//           "<id> send <chat_id> <client_id> <text>" -> "<id> ok <seq>"
//           "<id> read <chat_id> <seq>"    -> "<id> ok <read_seq>"
//           "<id> ping"                    -> "<id> ok"
//           "<id> sync <since> <n>"        -> "<id> ok <pos>" then, for each of the caller's chats
//                                             changed after position <since>, "\t<chat_id> <last_seq> <k>"
//                                             and its k newest messages after <since> (k <= n),
//                                             oldest first, each "\t<record>"; every change is in
//                                             the one answer
//           "<id> hist <chat_id> <after> <limit>" -> "<id> ok <has_more>" then "\t<record>" for
//                                             up to <limit> messages after seq <after>, oldest
//                                             first (<after> < 0: the newest <limit>)
//   records: "<seq> <sender_id> <client_id> <text>"; a message's text holds no tab or newline
//   errors: "<id> err <code>"
//   events: "! hello", "! m <chat_id> <seq> <sender_id> <client_id> <text>", "! r <chat_id> <user_id> <read_seq>"
//
// Usage: modu-baseline [--listen 127.0.0.1:PORT] [--durable [--sync-interval US]] [--cpu-per-message US]
//                     [--fault drop|dup|reorder]
//        (prints "listening on 127.0.0.1:<port>"; --fault is for testing modu-bench's checks)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "line_protocol.hpp"

namespace {

struct Conn {
  int fd = -1;
  int64_t user = 0;
  std::string in, out;
  bool dirty = false, want_out = false, alive = false;
};

/// A stored message: the position of the change it made, and its record (see the protocol).
struct Stored {
  int64_t pos = 0;
  std::string record;
};

struct Chat {
  std::vector<int64_t> members;
  int64_t last_seq = 0;
  std::unordered_map<int64_t, int64_t> reads;
  std::vector<Stored> messages;  // messages[seq - 1]
  int64_t pos = 0;               // the position of its last change (creation or message)
};

/// --durable's log: a ring of kLogBytes, written at `at`.
struct DurableLog {
  static constexpr off_t kLogBytes = off_t(64) << 20;
  int fd = -1;
  off_t at = 0;
  std::string pending;        // records since the last commit, not yet written
  int64_t interval_ns = 0;    // --sync-interval
  int64_t last_commit_ns = 0;

  bool open_unlinked();
  /// How long until the pending records may be committed: 0 now, -1 when nothing is pending.
  int64_t wait_ns(int64_t now) const {
    if (pending.empty()) return -1;
    return std::max<int64_t>(0, last_commit_ns + interval_ns - now);
  }
  void commit(int64_t now);  // writes and syncs `pending`
};

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int g_epoll = -1;
std::vector<Conn> g_conns;                                  // indexed by fd
std::vector<std::vector<int>> g_user_conns(1);              // user -> fds
std::vector<std::vector<int64_t>> g_user_chats(1);          // user -> chat ids
std::vector<Chat> g_chats(1);                               // chat 0 unused
int64_t g_pos = 0;                                          // sync position: one step per message
DurableLog g_log;                                           // fd -1 unless --durable
std::map<std::pair<int64_t, int64_t>, int64_t> g_directs;
std::vector<int> g_dirty;
int64_t g_cpu_per_message_ns = 0;  // --cpu-per-message

// Runs until this thread has used `ns` more of CPU time (time waiting for a core not counted).
void spend_cpu(int64_t ns) {
  auto thread_cpu_ns = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
  };
  const int64_t until = thread_cpu_ns() + ns;
  while (thread_cpu_ns() < until) {
  }
}

// --fault drop|dup|reorder: every 25th message is mishandled for one recipient, so tests can
// prove that modu-bench's correctness checks catch losses, duplicates and reordering.
std::string g_fault;
int64_t g_sends = 0;
std::string g_held;  // reorder: an event held back until the next one for that connection
int g_held_fd = -1;

using baseline_protocol::field;
using baseline_protocol::to_i64;

void queue(int fd, std::string_view bytes) {
  Conn& c = g_conns[size_t(fd)];
  if (!c.alive) return;
  c.out.append(bytes);
  if (!c.dirty) {
    c.dirty = true;
    g_dirty.push_back(fd);
  }
}

void to_members(const Chat& ch, std::string_view line) {
  for (int64_t u : ch.members)
    for (int fd : g_user_conns[size_t(u)]) queue(fd, line);
}

bool member(const Chat& ch, int64_t u) { return std::find(ch.members.begin(), ch.members.end(), u) != ch.members.end(); }

void attach(Conn& c, int64_t user) {
  c.user = user;
  g_user_conns[size_t(user)].push_back(c.fd);
}

bool DurableLog::open_unlinked() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/modu-baseline-log-XXXXXX";
  fd = mkstemp(path.data());
  if (fd < 0) return false;
  unlink(path.c_str());
  std::string zeros(size_t(1) << 20, '\0');  // written once, so later writes never grow the file
  for (off_t off = 0; off < kLogBytes; off += off_t(zeros.size()))
    if (pwrite(fd, zeros.data(), zeros.size(), off) != ssize_t(zeros.size())) return false;
  return fdatasync(fd) == 0;
}

void DurableLog::commit(int64_t now) {
  last_commit_ns = now;
  std::string_view rest = pending;
  while (!rest.empty()) {
    size_t n = std::min(rest.size(), size_t(kLogBytes - at));
    ssize_t w = pwrite(fd, rest.data(), n, at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      std::perror("modu-baseline: log write");
      std::exit(1);  // an ack must never outrun its write
    }
    rest.remove_prefix(size_t(w));
    at = (at + w) % kLogBytes;
  }
  while (fdatasync(fd) != 0)
    if (errno != EINTR) {
      std::perror("modu-baseline: fdatasync");
      std::exit(1);
    }
  pending.clear();
}

/// Appends "\t<record>" for messages [from, to) of `ch` (indexes, not seqs).
void append_records(std::string& r, const Chat& ch, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    r += '\t';
    r += ch.messages[i].record;
  }
}

/// The sync answer's body: every chat of `user` changed after `since`.
void sync_body(std::string& r, int64_t user, int64_t since, int64_t n) {
  r += " ok " + std::to_string(g_pos);
  for (int64_t id : g_user_chats[size_t(user)]) {
    const Chat& ch = g_chats[size_t(id)];
    if (ch.pos <= since) continue;
    auto first_new = std::partition_point(ch.messages.begin(), ch.messages.end(),
                                          [&](const Stored& m) { return m.pos <= since; });
    size_t end = ch.messages.size();
    size_t from = std::max(size_t(first_new - ch.messages.begin()), end - size_t(std::min<int64_t>(std::max<int64_t>(n, 0), int64_t(end))));
    r += '\t' + std::to_string(id) + ' ' + std::to_string(ch.last_seq) + ' ' + std::to_string(end - from);
    append_records(r, ch, from, end);
  }
}

void history_body(std::string& r, const Chat& ch, int64_t after, int64_t limit) {
  size_t end = ch.messages.size();
  limit = std::clamp<int64_t>(limit, 1, 500);
  size_t from = after < 0 ? end - std::min(end, size_t(limit)) : std::min(end, size_t(after));
  size_t to = std::min(end, from + size_t(limit));
  r += " ok ";
  r += to < end ? '1' : '0';
  append_records(r, ch, from, to);
}

void handle_line(Conn& c, std::string_view l) {
  std::string id(field(l));
  std::string_view op = field(l);
  std::string r = id;
  auto chat_reply = [&](int64_t chat) { r += " ok " + std::to_string(chat) + " " + std::to_string(g_chats[size_t(chat)].last_seq) + "\n"; };
  if (op == "ping") {
    r += " ok\n";
  } else if (op == "reg") {
    int64_t uid = int64_t(g_user_conns.size());
    g_user_conns.emplace_back();
    g_user_chats.emplace_back();
    attach(c, uid);
    r += " ok " + std::to_string(uid) + "\n";
  } else if (op == "resume") {
    int64_t uid = to_i64(field(l));
    if (uid <= 0 || uid >= int64_t(g_user_conns.size())) r += " err invalid_credentials\n";
    else attach(c, uid), r += " ok\n";
  } else if (!c.user) {
    r += " err unauthenticated\n";
  } else if (op == "direct") {
    int64_t peer = to_i64(field(l));
    if (peer <= 0 || peer >= int64_t(g_user_conns.size())) {
      r += " err user_not_found\n";
    } else {
      auto key = std::minmax(c.user, peer);
      auto [it, fresh] = g_directs.emplace(key, int64_t(g_chats.size()));
      if (fresh) {
        g_chats.push_back(Chat{{c.user, peer}});
        g_chats.back().pos = ++g_pos;  // a new chat is a change its members' sync lists
        g_user_chats[size_t(c.user)].push_back(it->second);
        if (peer != c.user) g_user_chats[size_t(peer)].push_back(it->second);
      }
      chat_reply(it->second);
    }
  } else if (op == "group") {
    Chat ch;
    ch.members.push_back(c.user);
    std::string_view ids = field(l);
    while (!ids.empty()) {
      size_t comma = ids.find(',');
      int64_t u = to_i64(ids.substr(0, comma));
      ids = comma == std::string_view::npos ? std::string_view{} : ids.substr(comma + 1);
      if (u > 0 && u < int64_t(g_user_conns.size()) && !member(ch, u)) ch.members.push_back(u);
    }
    for (int64_t u : ch.members) g_user_chats[size_t(u)].push_back(int64_t(g_chats.size()));
    ch.pos = ++g_pos;
    g_chats.push_back(std::move(ch));
    chat_reply(int64_t(g_chats.size()) - 1);
  } else if (op == "sync") {
    int64_t since = to_i64(field(l));
    sync_body(r, c.user, since, to_i64(field(l)));
    r += '\n';
  } else if (op == "get" || op == "send" || op == "read" || op == "hist") {
    int64_t chat = to_i64(field(l));
    if (chat <= 0 || chat >= int64_t(g_chats.size()) || !member(g_chats[size_t(chat)], c.user)) {
      r += " err chat_not_found\n";
    } else if (op == "get") {
      chat_reply(chat);
    } else if (op == "hist") {
      int64_t after = to_i64(field(l));
      history_body(r, g_chats[size_t(chat)], after, to_i64(field(l)));
      r += '\n';
    } else if (op == "send") {
      if (g_cpu_per_message_ns > 0) spend_cpu(g_cpu_per_message_ns);
      Chat& ch = g_chats[size_t(chat)];
      std::string_view cid = field(l);
      int64_t seq = ++ch.last_seq;
      ch.reads[c.user] = seq;  // as in Modu: sending moves the sender's read pointer, silently
      std::string ev = "! m " + std::to_string(chat) + " " + std::to_string(seq) + " " + std::to_string(c.user) + " ";
      ev += cid;
      ev += ' ';
      ev += l;
      ev += '\n';
      ch.pos = ++g_pos;
      // The stored record is the event without "! m <chat_id> " and its newline.
      size_t head = 5 + std::to_string(chat).size();
      ch.messages.push_back(Stored{ch.pos, ev.substr(head, ev.size() - head - 1)});
      if (g_log.fd >= 0) g_log.pending += ev;
      if (g_fault.empty() || ++g_sends % 25 != 0) {
        to_members(ch, ev);  // encoded once, copied to each recipient's batch
      } else {
        // Fault injection: mishandle the copy for the last member's first connection.
        int victim = -1;
        if (!g_user_conns[size_t(ch.members.back())].empty()) victim = g_user_conns[size_t(ch.members.back())].front();
        for (int64_t u : ch.members)
          for (int fd : g_user_conns[size_t(u)]) {
            if (fd != victim) queue(fd, ev);
            else if (g_fault == "dup") queue(fd, ev), queue(fd, ev);
            else if (g_fault == "reorder") g_held = ev, g_held_fd = fd;
            // "drop": nothing
          }
      }
      if (g_held_fd >= 0 && !(g_sends % 25 == 0)) {
        queue(g_held_fd, g_held);  // after a newer event went out to it
        g_held_fd = -1;
      }
      r += " ok " + std::to_string(seq) + "\n";
    } else {
      Chat& ch = g_chats[size_t(chat)];
      int64_t& rs = ch.reads[c.user];
      int64_t want = std::min(to_i64(field(l)), ch.last_seq);
      if (want > rs) {  // pointers only move forward; no event when nothing changed
        rs = want;
        to_members(ch, "! r " + std::to_string(chat) + " " + std::to_string(c.user) + " " + std::to_string(rs) + "\n");
      }
      r += " ok " + std::to_string(rs) + "\n";
    }
  } else {
    r += " err unknown_op\n";
  }
  queue(c.fd, r);
}

void close_conn(int fd) {
  Conn& c = g_conns[size_t(fd)];
  if (!c.alive) return;
  if (c.user) {
    auto& v = g_user_conns[size_t(c.user)];
    v.erase(std::remove(v.begin(), v.end(), fd), v.end());
  }
  epoll_ctl(g_epoll, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  c = Conn{};
}

void flush(int fd) {
  Conn& c = g_conns[size_t(fd)];
  if (!c.alive) return;
  while (!c.out.empty()) {
    ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return close_conn(fd);
    c.out.erase(0, size_t(n));
  }
  bool want = !c.out.empty();
  if (want != c.want_out) {
    c.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    epoll_ctl(g_epoll, EPOLL_CTL_MOD, fd, &ev);
  }
}

void on_readable(int fd) {
  char buf[65536];
  for (int rounds = 0; rounds < 16; ++rounds) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return close_conn(fd);
    Conn& c = g_conns[size_t(fd)];
    c.in.append(buf, size_t(n));
    size_t start = 0;
    for (;;) {
      size_t nl = c.in.find('\n', start);
      if (nl == std::string::npos) break;
      handle_line(c, std::string_view(c.in).substr(start, nl - start));
      if (!g_conns[size_t(fd)].alive) return;
      start = nl + 1;
    }
    c.in.erase(0, start);
    if (c.in.size() > (1 << 20)) return close_conn(fd);  // no line that long
    if (size_t(n) < sizeof buf) break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen_on = "127.0.0.1:0";
  bool durable = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--listen" && i + 1 < argc) listen_on = argv[++i];
    else if (a == "--durable") durable = true;
    else if (a == "--sync-interval" && i + 1 < argc) g_log.interval_ns = std::max(0L, std::atol(argv[++i])) * 1000;
    else if (a == "--cpu-per-message" && i + 1 < argc) g_cpu_per_message_ns = std::max(0L, std::atol(argv[++i])) * 1000;
    else if (a == "--fault" && i + 1 < argc) g_fault = argv[++i];
    else {
      bool help = a == "--help" || a == "-h";
      std::fprintf(help ? stdout : stderr,
                   "usage: modu-baseline [--listen 127.0.0.1:PORT] [--durable [--sync-interval US]] [--cpu-per-message US]\n"
                   "                     [--fault drop|dup|reorder]\n"
                   "The raw-TCP fan-out server modu-bench measures as this machine's limit (see bench/README.md).\n"
                   "  --durable  acknowledge and deliver messages only after one fdatasync of a log holding them\n"
                   "  --sync-interval US  with --durable: start a commit no sooner than US microseconds after\n"
                   "             the one before (default 0: at the end of every loop tick that stored a message)\n"
                   "  --cpu-per-message US  spend US microseconds of CPU on every message stored: a server of\n"
                   "             that cost with the least possible structure, to find what a latency target allows\n"
                   "  --fault drop|dup|reorder  mishandle every 25th message (tests of modu-bench's checks)\n");
      return help ? 0 : 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  if (durable && !g_log.open_unlinked()) {
    std::perror("modu-baseline: --durable log");
    return 1;
  }
  size_t colon = listen_on.rfind(':');
  std::string host = listen_on.substr(0, colon);
  int port = colon == std::string::npos ? 0 : std::atoi(listen_on.c_str() + colon + 1);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(uint16_t(port));
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) {
    std::fprintf(stderr, "modu-baseline: bad listen address %s\n", listen_on.c_str());
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) || listen(lfd, 4096)) {
    std::perror("modu-baseline: bind/listen");
    return 1;
  }
  socklen_t len = sizeof sa;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len);
  std::printf("listening on %s:%u\n", host.c_str(), unsigned(ntohs(sa.sin_port)));
  std::fflush(stdout);

  g_epoll = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl(g_epoll, EPOLL_CTL_ADD, lfd, &ev);
  std::vector<epoll_event> events(1024);
  for (;;) {
    int64_t wait = g_log.wait_ns(now_ns());
    timespec until{wait / 1000000000, wait % 1000000000};
    int n = epoll_pwait2(g_epoll, events.data(), int(events.size()), wait < 0 ? nullptr : &until, nullptr);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < n; ++i) {
      int fd = events[size_t(i)].data.fd;
      if (fd == lfd) {
        for (int k = 0; k < 256; ++k) {
          int cfd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          if (size_t(cfd) >= g_conns.size()) g_conns.resize(size_t(cfd) * 2 + 16);
          Conn& c = g_conns[size_t(cfd)];
          c = Conn{};
          c.fd = cfd;
          c.alive = true;
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = cfd;
          epoll_ctl(g_epoll, EPOLL_CTL_ADD, cfd, &cev);
          queue(cfd, "! hello\n");
        }
        continue;
      }
      uint32_t e = events[size_t(i)].events;
      if (e & (EPOLLERR | EPOLLHUP)) {
        close_conn(fd);
        continue;
      }
      if (e & EPOLLIN) on_readable(fd);
      // Output may hold answers to messages not yet committed: it waits for the commit
      // (the end-of-tick flush writes it; epoll reports the socket writable again).
      if ((e & EPOLLOUT) && g_conns[size_t(fd)].alive && g_log.pending.empty()) flush(fd);
    }
    // One write per connection per tick: everything queued during this batch goes out
    // together. With --durable, output waits while messages wait for their commit.
    if (int64_t now = now_ns(); g_log.wait_ns(now) == 0) g_log.commit(now);
    if (g_log.wait_ns(now_ns()) > 0) continue;
    std::vector<int> dirty;
    dirty.swap(g_dirty);
    for (int fd : dirty) {
      g_conns[size_t(fd)].dirty = false;
      flush(fd);
    }
  }
  return 0;
}
