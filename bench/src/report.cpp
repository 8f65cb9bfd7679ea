#include "report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "json_util.hpp"

namespace bench {

static const Snapshot* find_snap(const RunOutcome& r, const std::string& name) {
  for (auto& s : r.snaps)
    if (s.name == name) return &s;
  return nullptr;
}

static double secs(int64_t ns) { return double(ns) / 1e9; }

Report build_report(const Config& cfg, const ScenarioDef& sc, const ServerHandle& server, RunOutcome run) {
  Report rep;
  rep.cfg = &cfg;
  rep.server = &server;
  rep.run = std::move(run);
  const Result& r = rep.run.merged;
  auto& m = rep.metrics;
  auto add = [&](const std::string& n, double v, const std::string& unit) { m.push_back({n, v, unit}); };
  auto mark = [&](const std::map<std::string, int64_t>& mm, const char* k) -> int64_t {
    auto it = mm.find(k);
    return it == mm.end() ? 0 : it->second;
  };

  // Snapshot-based figures.
  const Snapshot* from = find_snap(rep.run, sc.measure_from);
  const Snapshot* to = find_snap(rep.run, sc.measure_to);
  const Snapshot* first = rep.run.snaps.size() > 1 ? &rep.run.snaps[1] : nullptr;  // first barrier
  if (from && to) {
    rep.measured_s = secs(to->t_ns - from->t_ns);
    rep.server_cpu_measured = to->server.cpu_s - from->server.cpu_s;
    rep.loadgen_cpu_measured = to->loadgen_cpu_s - from->loadgen_cpu_s;
    rep.server_wait_measured = to->server.wait_s - from->server.wait_s;
    rep.loadgen_wait_measured = to->loadgen_wait_s - from->loadgen_wait_s;
    rep.server_threads_measured = threads_between(from->server.threads, to->server.threads);
  }
  if (!rep.run.snaps.empty()) {
    rep.server_cpu_total = rep.run.snaps.back().server.cpu_s;
    if (!rep.run.snaps.back().server.ok && rep.run.snaps.size() > 1)
      rep.server_cpu_total = rep.run.snaps[rep.run.snaps.size() - 2].server.cpu_s;
  }
  if (first) rep.rss_before_kb = first->server.rss_kb;
  if (to) rep.rss_after_kb = to->server.rss_kb;

  auto& fail = rep.failures;
  std::string s = cfg.scenario;
  if (s == "direct" || s == "group") {
    int64_t t0 = mark(r.mins, "t_first_send"), ta = mark(r.maxs, "t_last_ack"), td = mark(r.maxs, "t_last_delivery");
    int64_t sent = r.get("sent"), acked = r.get("acked"), deliv = r.get("delivered") + r.get("delivered_self");
    add("offered_rate", cfg.rate, "msg/s");
    if (cfg.warmup > 0) add("warmup_sent", double(r.get("warmup_sent")), "msg (checked, not timed)");
    add("sent", double(sent), "msg");
    if (ta > t0) add("ack_throughput", double(acked) / secs(ta - t0), "msg/s");
    if (td > t0) add("delivery_throughput", double(deliv) / secs(td - t0), "deliveries/s");
    add("deliveries", double(deliv), "");
    add("expected_deliveries", double(r.get("expected_deliveries")), "");
    if (s == "group") {
      add("read_updates", double(r.get("read_updates")), "");
      if (td > t0) add("read_update_rate", double(r.get("read_updates")) / secs(td - t0), "events/s");
    }
    if (sent == 0) fail.push_back("nothing was sent");
    if (acked != sent) fail.push_back(std::to_string(sent - acked) + " of " + std::to_string(sent) + " sends not acknowledged");
    if (deliv != r.get("expected_deliveries"))
      fail.push_back("delivered " + std::to_string(deliv) + " of " + std::to_string(r.get("expected_deliveries")) + " expected deliveries");
    // The server's own share of send→ack, where it says so (Modu's /metrics): bucket bounds,
    // so "at most".
    if (from && to) {
      Buckets window = bucket_delta(from->server_send_seconds, to->server_send_seconds);
      for (auto [name, q] : {std::pair{"server_send_answer_p50_at_most", 0.5}, {"server_send_answer_p99_at_most", 0.99}})
        if (auto bound = quantile_at_most(window, q))
          add(name, *bound * 1000, "ms (server's /metrics: messages.send, dispatch to answer)");
    }
    double per_conn = cfg.rate / double(s == "group" ? cfg.rooms * cfg.members : cfg.conns);
    if (per_conn > 45 && cfg.driver == "modu")
      add("warning_per_connection_rate", per_conn, "req/s (server limit 50/s)");
  } else if (s == "idle") {
    const Snapshot* before = find_snap(rep.run, "before-connect");
    const Snapshot* conn = find_snap(rep.run, "connected");
    int64_t connected = r.get("connected");
    add("connections", double(connected), "");
    if (before && conn) {
      add("connect_phase", secs(conn->t_ns - before->t_ns), "s");
      if (conn->t_ns > before->t_ns) add("connect_rate", double(connected) / secs(conn->t_ns - before->t_ns), "conn/s");
      if (before->server.ok && conn->server.ok && connected) {
        add("server_rss_delta", double(conn->server.rss_kb - before->server.rss_kb), "KiB");
        add("server_rss_per_connection", double(conn->server.rss_kb - before->server.rss_kb) * 1024.0 / double(connected), "bytes");
      }
      if (connected)
        add("kernel_tcp_mem_per_connection", double(conn->tcp_mem_kb - before->tcp_mem_kb) * 1024.0 / double(connected),
            "bytes (both ends, machine-wide)");
    }
    add("pings", double(r.get("pings")), "");
    if (rep.measured_s > 0) add("server_cpu_per_1k_idle_conns", 1000.0 * rep.server_cpu_measured / rep.measured_s / (double(connected) / 1000.0 + 1e-9), "millicores");
    if (connected != cfg.conns) fail.push_back("only " + std::to_string(connected) + " of " + std::to_string(cfg.conns) + " connections came up");
    if (r.get("open_at_end") != cfg.conns) fail.push_back(std::to_string(cfg.conns - r.get("open_at_end")) + " connections were not open at the end");
    if (r.get("pongs") != r.get("pings")) fail.push_back("pings unanswered");
  } else if (s == "reconnect") {
    int64_t t0 = mark(r.mins, "t_reconnect_start"), t1 = mark(r.maxs, "t_all_caught_up");
    add("devices", double(r.get("devices_caught_up")), "");
    add("messages_missed_each", cfg.missed, "msg");
    if (t1 > t0) {
      add("all_caught_up_after", secs(t1 - t0) * 1000, "ms");
      add("catch_up_throughput", double(r.get("messages_caught_up")) / secs(t1 - t0), "msg/s");
    }
    if (r.get("devices_caught_up") != cfg.conns) fail.push_back("only " + std::to_string(r.get("devices_caught_up")) + " devices caught up");
    if (r.get("messages_caught_up") != int64_t(cfg.conns) * cfg.missed)
      fail.push_back("caught up " + std::to_string(r.get("messages_caught_up")) + " messages, expected " + std::to_string(int64_t(cfg.conns) * cfg.missed));
  } else if (s == "catch-up") {
    auto it = r.hists.find("catch_up_total");
    if (it != r.hists.end()) add("time_to_full_sync", double(it->second.max()) / 1e6, "ms");
    add("messages", double(r.get("messages_caught_up")), "msg");
    add("chats", double(r.get("chats")), "");
    add("requests", double(r.get("requests")), "");
    if (r.get("messages_caught_up") != cfg.messages)
      fail.push_back("caught up " + std::to_string(r.get("messages_caught_up")) + " of " + std::to_string(cfg.messages) + " messages");
  } else if (s == "history") {
    int64_t t0 = mark(r.mins, "t_first_send"), t1 = mark(r.maxs, "t_last_ack");
    add("stored_messages", cfg.messages, "msg");
    add("pages", double(r.get("pages")), "");
    if (t1 > t0) add("page_rate", double(r.get("pages")) / secs(t1 - t0), "pages/s");
    if (!r.get("pages")) fail.push_back("no page was loaded");
  }

  if (r.violations()) fail.push_back(std::to_string(r.violations()) + " correctness violations");
  if (r.errors()) fail.push_back(std::to_string(r.errors()) + " errors");
  if (rep.run.aborted) fail.push_back("the run was aborted");
  for (auto& p : rep.run.problems) fail.push_back(p);
  return rep;
}

static double ms(uint64_t ns) { return double(ns) / 1e6; }

// " modu-loop-0 4.80 / 4.01 s", with a comma before all but the first.
static std::string fmt_thread(const ThreadFigures& t, bool first) {
  char b[128];
  std::snprintf(b, sizeof b, "%s %s %.2f / %.2f s", first ? "" : ",", t.name.c_str(), t.cpu_s, t.wait_s);
  return b;
}

void Report::print_human(std::FILE* o) const {
  const Config& c = *cfg;
  const bool turns = c.scenario == "direct" || c.scenario == "group";
  std::fprintf(o, "\n== modu-bench %s against %s (driver %s, %d procs x %d threads, %d source addrs%s%s) ==\n", c.scenario.c_str(),
               c.label.c_str(), c.driver.c_str(), c.procs, c.threads, c.sources, turns ? ", senders in " : "",
               turns ? (c.order == "random" ? "a random order" : "round-robin order") : "");
  for (auto& m : metrics) std::fprintf(o, "  %-30s %14.2f %s\n", m.name.c_str(), m.value, m.unit.c_str());
  if (!run.merged.hists.empty()) {
    std::fprintf(o, "  latency (ms)               count        p50        p90        p99      p99.9        max\n");
    for (auto& [name, h] : run.merged.hists)
      std::fprintf(o, "  %-22s %9" PRIu64 " %10.3f %10.3f %10.3f %10.3f %10.3f\n", name.c_str(), h.count(), ms(h.percentile(50)),
                   ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)), ms(h.max()));
  }
  if (server && server->pids.size() > 1) {
    std::string pids;
    for (int p : server->pids) pids += (pids.empty() ? "" : ",") + std::to_string(p);
    std::fprintf(o, "  %zu server nodes (pids %s), summed: rss %lld KiB -> %lld KiB, cpu %.2f s measured (%.2f s total)\n",
                 server->pids.size(), pids.c_str(), (long long)rss_before_kb, (long long)rss_after_kb, server_cpu_measured, server_cpu_total);
  } else {
    std::fprintf(o, "  server pid %d: rss %lld KiB -> %lld KiB, cpu %.2f s measured (%.2f s total)\n", server ? server->pid : 0,
                 (long long)rss_before_kb, (long long)rss_after_kb, server_cpu_measured, server_cpu_total);
  }
  std::fprintf(o, "  load generator: cpu %.2f s measured (%.2f s total); measured window %.2f s\n", loadgen_cpu_measured,
               run.loadgen_cpu_total_s, measured_s);
  std::fprintf(o, "  waiting for a CPU (runnable, not running) in the window: server %.2f s, load generator %.2f s\n",
               server_wait_measured, loadgen_wait_measured);
  std::string threads;
  for (const ThreadFigures& t : server_threads_measured)
    if (t.cpu_s >= 0.005 || t.wait_s >= 0.005)
      threads += fmt_thread(t, threads.empty());
  if (!threads.empty()) std::fprintf(o, "  server threads in the window (CPU / waited for a CPU):%s\n", threads.c_str());
  std::fprintf(o, "  errors %lld, violations %lld\n", (long long)run.merged.errors(), (long long)run.merged.violations());
  for (auto& [k, v] : run.merged.counters)
    if (k.rfind("error.", 0) == 0 || k.rfind("violation.", 0) == 0) std::fprintf(o, "    %-40s %lld\n", k.c_str(), (long long)v);
  for (auto& s : run.merged.samples) std::fprintf(o, "    %s\n", s.c_str());
  if (pass()) {
    std::fprintf(o, "RESULT: PASS\n");
  } else {
    std::fprintf(o, "RESULT: FAIL\n");
    for (auto& f : failures) std::fprintf(o, "  - %s\n", f.c_str());
  }
}

static std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string Report::to_json() const {
  const Config& c = *cfg;
  std::ostringstream o;
  o << "{\"tool\":\"modu-bench\",\"scenario\":" << json_string(c.scenario) << ",\"driver\":" << json_string(c.driver) << ",\"label\":" << json_string(c.label)
    << ",\"command\":" << json_string(c.command)
    << ",\"pass\":" << (pass() ? "true" : "false") << ",\"failures\":[";
  for (size_t i = 0; i < failures.size(); ++i) o << (i ? "," : "") << json_string(failures[i]);
  o << "],\"config\":{\"conns\":" << c.conns << ",\"users\":" << c.users << ",\"rooms\":" << c.rooms << ",\"members\":" << c.members
    << ",\"rate\":" << num(c.rate) << ",\"duration_s\":" << num(c.duration) << ",\"warmup_s\":" << num(c.warmup) << ",\"connect_rate\":" << num(c.connect_rate)
    << ",\"connect_spread_s\":" << num(c.connect_spread) << ",\"order\":" << json_string(c.order)
    << ",\"size\":" << c.size << ",\"missed\":" << c.missed << ",\"messages\":" << c.messages << ",\"chats\":" << c.chats
    << ",\"page\":" << c.page << ",\"readers\":" << c.readers << ",\"procs\":" << c.procs << ",\"threads\":" << c.threads
    << ",\"sources\":" << c.sources << ",\"smoke\":" << (c.smoke ? "true" : "false") << "}";
  o << ",\"metrics\":{";
  for (size_t i = 0; i < metrics.size(); ++i)
    o << (i ? "," : "") << json_string(metrics[i].name) << ":{\"value\":" << num(metrics[i].value) << ",\"unit\":" << json_string(metrics[i].unit) << "}";
  o << "},\"latency_ms\":{";
  bool first = true;
  for (auto& [name, h] : run.merged.hists) {
    o << (first ? "" : ",") << json_string(name) << ":{\"count\":" << h.count() << ",\"mean\":" << num(h.mean() / 1e6)
      << ",\"p50\":" << num(ms(h.percentile(50))) << ",\"p90\":" << num(ms(h.percentile(90))) << ",\"p99\":" << num(ms(h.percentile(99)))
      << ",\"p99_9\":" << num(ms(h.percentile(99.9))) << ",\"max\":" << num(ms(h.max())) << "}";
    first = false;
  }
  o << "},\"counters\":{";
  first = true;
  for (auto& [k, v] : run.merged.counters) {
    o << (first ? "" : ",") << json_string(k) << ":" << v;
    first = false;
  }
  o << "},\"errors\":" << run.merged.errors() << ",\"violations\":" << run.merged.violations() << ",\"samples\":[";
  for (size_t i = 0; i < run.merged.samples.size(); ++i) o << (i ? "," : "") << json_string(run.merged.samples[i]);
  o << "],\"server\":{\"pid\":" << (server ? server->pid : 0) << ",\"nodes\":" << (server ? std::max<size_t>(1, server->pids.size()) : 1) << ",\"rss_kb_before\":" << rss_before_kb << ",\"rss_kb_after\":" << rss_after_kb
    << ",\"cpu_s_measured\":" << num(server_cpu_measured) << ",\"cpu_s_total\":" << num(server_cpu_total)
    << ",\"cpu_wait_s_measured\":" << num(server_wait_measured) << ",\"threads\":[";
  for (size_t i = 0; i < server_threads_measured.size(); ++i) {
    const ThreadFigures& t = server_threads_measured[i];
    o << (i ? "," : "") << "{\"name\":" << json_string(t.name) << ",\"cpu_s_measured\":" << num(t.cpu_s)
      << ",\"cpu_wait_s_measured\":" << num(t.wait_s) << "}";
  }
  o << "]}";
  o << ",\"loadgen\":{\"cpu_s_measured\":" << num(loadgen_cpu_measured) << ",\"cpu_s_total\":" << num(run.loadgen_cpu_total_s)
    << ",\"cpu_wait_s_measured\":" << num(loadgen_wait_measured) << "}";
  o << ",\"measured_s\":" << num(measured_s) << ",\"phases\":[";
  for (size_t i = 0; i < run.snaps.size(); ++i) {
    auto& s = run.snaps[i];
    o << (i ? "," : "") << "{\"name\":" << json_string(s.name) << ",\"t_s\":" << num(double(s.t_ns - run.snaps[0].t_ns) / 1e9)
      << ",\"server_rss_kb\":" << s.server.rss_kb << ",\"kernel_tcp_mem_kb\":" << s.tcp_mem_kb << ",\"server_cpu_s\":" << num(s.server.cpu_s) << ",\"loadgen_cpu_s\":" << num(s.loadgen_cpu_s) << "}";
  }
  o << "]}\n";
  return o.str();
}

}  // namespace bench
