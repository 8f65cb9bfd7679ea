#include "metrics/metrics.h"

#include <fmt/format.h>

namespace modu {

template <std::size_t N>
void Histogram<N>::render(std::string& out, const char* name, const char* help) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  render_series(out, name, {});
}

template <std::size_t N>
void Histogram<N>::render_series(std::string& out, const char* name, std::string_view labels) const {
  std::string_view comma = labels.empty() ? "" : ",";
  std::int64_t cumulative = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, comma, bounds_[i], cumulative);
  }
  auto count = count_.load(std::memory_order_relaxed);
  auto sum = static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, comma, count);
  if (labels.empty())
    out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum, name, count);
  else
    out += fmt::format("{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name, labels, sum, name, labels, count);
}

template class Histogram<12>;
template class Histogram<16>;

std::string Metrics::render(std::size_t queued_writes, const RecentMessagesStats& recent) const {
  std::string out;
  auto gauge = [&](const char* name, const char* help, std::int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
  };
  auto counter = [&](const char* name, const char* help, std::int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  auto get = [](const std::atomic<std::int64_t>& a) { return a.load(std::memory_order_relaxed); };
  gauge("modu_connections", "Open WebSocket connections.", get(connections));
  counter("modu_connections_total", "WebSocket connections accepted.", get(connections_total));
  counter("modu_frames_in_total", "Protocol frames received.", get(frames_in));
  counter("modu_frames_out_total", "Protocol frames sent.", get(frames_out));
  counter("modu_ws_messages_out_total", "WebSocket messages sent (each carries one or more frames).",
          get(ws_messages_out));
  counter("modu_messages_stored_total", "Chat messages durably stored.", get(messages_stored));
  counter("modu_slow_consumers_closed_total", "Connections closed because they did not read.",
          get(slow_consumers_closed));
  counter("modu_reads_paused_total",
          "Times a connection was not read for a moment because too many writes waited to be stored.",
          get(reads_paused));
  gauge("modu_store_queued_writes", "Write jobs waiting for the committer.",
        static_cast<std::int64_t>(queued_writes));
  counter("modu_recent_messages_hits_total",
          "Catch-up reads (a chat's messages since a position) answered from memory.", recent.hits);
  counter("modu_recent_messages_misses_total",
          "Catch-up reads left to the database: the chat was not cached, was being written, or "
          "the read reached past its cached messages.",
          recent.misses);
  gauge("modu_recent_messages_chats", "Chats whose newest messages are held in memory.", recent.chats);
  gauge("modu_recent_messages", "Messages held in memory for catch-up reads.", recent.messages);
  gauge("modu_recent_messages_bytes", "Memory those messages take, as estimated against --recent-messages-mib.",
        recent.bytes);
  gauge("modu_bus_connected", "1 while this node is connected to the cluster's NATS (0 alone or cut off).",
        get(bus_connected));
  counter("modu_bus_batches_out_total", "Committed batches this node published to the other nodes.",
          get(bus_batches_out));
  counter("modu_bus_batches_in_total", "Batches received from other nodes.", get(bus_batches_in));
  counter("modu_bus_gaps_skipped_total",
          "Batches that never arrived and were skipped, each followed by sync.needed to every client.",
          get(bus_gaps_skipped));
  gauge("modu_bus_batches_waiting", "Batches held until an earlier one arrives.", get(bus_batches_waiting));
  out += "# HELP modu_errors_total Error responses by code.\n# TYPE modu_errors_total counter\n";
  for (int i = 0; i < kErrorCodeCount; ++i)
    out += fmt::format("modu_errors_total{{code=\"{}\"}} {}\n",
                       error_code_name(static_cast<ErrorCode>(i)), get(errors[static_cast<std::size_t>(i)]));
  batch_size.render(out, "modu_store_batch_size", "Write jobs per committed transaction.");
  commit_seconds.render(out, "modu_store_commit_seconds", "Time to run and commit one batch.");
  return out;
}

}  // namespace modu
