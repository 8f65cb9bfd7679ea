#include "table.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace bench {
namespace {

using namespace simdjson;

/// What the table needs of one --json report, read out of the parser's document.
struct Run {
  std::string scenario, label, driver, command, failure;
  bool pass = false;
  std::map<std::string, double> config, metrics, server, loadgen;
  std::map<std::string, std::map<std::string, double>> latency;  // histogram -> p50, p99, ...

  enum class Role { modu, baseline, peer };
  Role role() const { return driver == "modu" ? Role::modu : driver == "baseline" ? Role::baseline : Role::peer; }
  /// A baseline run with its log synced before answering (modu-baseline --durable).
  bool durable() const { return command.find(" --server-arg --durable") != std::string::npos; }

  double cfg(const char* k) const { return get(config, k); }
  double metric(const char* k) const { return get(metrics, k); }
  double lat(const char* hist, const char* pct) const {
    auto it = latency.find(hist);
    return it == latency.end() ? NAN : get(it->second, pct);
  }
  static double get(const std::map<std::string, double>& m, const char* k) {
    auto it = m.find(k);
    return it == m.end() ? NAN : it->second;
  }
};

std::map<std::string, double> numbers(dom::object o) {
  std::map<std::string, double> out;
  for (auto [k, v] : o) {
    double d;
    if (!v.get_double().get(d)) out.emplace(std::string(k), d);
    else if (int64_t i; !v.get_int64().get(i)) out.emplace(std::string(k), double(i));
  }
  return out;
}

std::optional<Run> load(dom::parser& parser, const char* path) {
  dom::element doc;
  if (parser.load(path).get(doc)) return std::nullopt;
  Run r;
  std::string_view s;
  if (doc["scenario"].get_string().get(s)) return std::nullopt;
  r.scenario = s;
  if (!doc["driver"].get_string().get(s)) r.driver = s;
  r.label = doc["label"].get_string().get(s) ? r.driver : std::string(s);
  if (!doc["command"].get_string().get(s)) r.command = s;
  if (doc["pass"].get_bool().get(r.pass)) r.pass = false;
  dom::array fails;
  if (!doc["failures"].get_array().get(fails))
    for (auto f : fails)
      if (!f.get_string().get(s)) {
        r.failure = s;
        break;
      }
  dom::object o;
  if (!doc["config"].get_object().get(o)) r.config = numbers(o);
  if (!doc["server"].get_object().get(o)) r.server = numbers(o);
  if (!doc["loadgen"].get_object().get(o)) r.loadgen = numbers(o);
  if (!doc["metrics"].get_object().get(o))
    for (auto [k, v] : o) {
      double d;
      if (!v["value"].get_double().get(d)) r.metrics.emplace(std::string(k), d);
    }
  if (!doc["latency_ms"].get_object().get(o))
    for (auto [k, v] : o) {
      dom::object h;
      if (!v.get_object().get(h)) r.latency.emplace(std::string(k), numbers(h));
    }
  return r;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "–";
  char b[64];
  double a = std::fabs(v);
  if (a >= 1000) {
    std::snprintf(b, sizeof b, "%.0f", v);
    std::string s = b, out;  // thousands separators
    size_t digits = s.size() - (s[0] == '-');
    for (size_t i = 0; i < s.size(); ++i) {
      out += s[i];
      size_t left = s.size() - 1 - i;
      if (left && left % 3 == 0 && i >= s.size() - digits) out += ',';
    }
    return out;
  }
  std::snprintf(b, sizeof b, a >= 100 || v == std::floor(v) ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
  return b;
}

/// One figure of a scenario's table. Ratios are given only for figures marked `compared`.
struct Column {
  const char* title;
  std::function<double(const Run&)> value;
  bool compared = true;
  bool higher_is_better = false;
};

std::vector<Column> columns_of(const std::string& scenario) {
  auto lat = [](const char* hist, const char* pct) { return [=](const Run& r) { return r.lat(hist, pct); }; };
  auto server_cpu = [](const Run& r) { return Run::get(r.server, "cpu_s_measured"); };
  if (scenario == "idle")
    return {
        {"connections", [](const Run& r) { return r.metric("connections"); }, false},
        {"server RSS per conn (B)", [](const Run& r) { return r.metric("server_rss_per_connection"); }},
        {"connects/s", [](const Run& r) { return r.metric("connect_rate"); }, true, true},
        {"ping p50 (ms)", lat("ping_rtt", "p50")},
        {"ping p99 (ms)", lat("ping_rtt", "p99")},
        {"server CPU per 1k idle conns (millicores)", [](const Run& r) { return r.metric("server_cpu_per_1k_idle_conns"); }},
    };
  if (scenario == "direct" || scenario == "group") {
    std::vector<Column> c = {
        {"acked msg/s", [](const Run& r) { return r.metric("ack_throughput"); }, true, true},
        {"deliveries/s", [](const Run& r) { return r.metric("delivery_throughput"); }, true, true},
    };
    // MQTT and XMPP have no read pointers: their runs show none rather than a rate of 0.
    if (scenario == "group")
      c.push_back({"read updates/s", [](const Run& r) { double v = r.metric("read_update_rate"); return v > 0 ? v : NAN; }, true, true});
    c.push_back({"send→delivery p50 (ms)", lat("send_to_delivery", "p50")});
    c.push_back({"p99 (ms)", lat("send_to_delivery", "p99")});
    c.push_back({"p99.9 (ms)", lat("send_to_delivery", "p99_9")});
    // The split of the tail (bench/README.md, "Report"): how late the generator sent, and
    // the server's own time to answer a send where it reports one (Modu), as a bucket bound.
    c.push_back({"generator's send lag p99 (ms)", lat("send_lag", "p99"), false});
    c.push_back({"server's own send p99 ≤ (ms)", [](const Run& r) { return r.metric("server_send_answer_p99_at_most"); }, false});
    c.push_back({"server CPU per delivery (µs)", [=](const Run& r) { return server_cpu(r) * 1e6 / r.metric("deliveries"); }});
    c.push_back({"server RSS after (MiB)", [](const Run& r) { return Run::get(r.server, "rss_kb_after") / 1024; }});
    return c;
  }
  if (scenario == "reconnect")
    return {
        {"devices", [](const Run& r) { return r.metric("devices"); }, false},
        {"all caught up (ms)", [](const Run& r) { return r.metric("all_caught_up_after"); }},
        {"one device p50 (ms)", lat("device_catch_up", "p50")},
        {"p99 (ms)", lat("device_catch_up", "p99")},
        {"server CPU (s)", server_cpu},
    };
  if (scenario == "catch-up")
    return {
        {"messages", [](const Run& r) { return r.metric("messages"); }, false},
        {"full sync (ms)", [](const Run& r) { return r.metric("time_to_full_sync"); }},
        {"requests", [](const Run& r) { return r.metric("requests"); }},
        {"server CPU (s)", server_cpu},
    };
  if (scenario == "history")
    return {
        {"pages/s", [](const Run& r) { return r.metric("page_rate"); }, true, true},
        {"newest page p50 (ms)", lat("newest_page", "p50")},
        {"p99 (ms)", lat("newest_page", "p99")},
        {"p99.9 (ms)", lat("newest_page", "p99_9")},
        {"server CPU (s)", server_cpu},
    };
  return {};
}

/// The load of a run, in words; runs of one scenario with the same load share a table.
/// Idle runs share one table whatever their size (their figures are per connection).
std::string load_of(const Run& r) {
  auto i = [&](const char* k) { return num(r.cfg(k)); };
  const std::string& s = r.scenario;
  if (s == "idle") return "connections held idle with heartbeats";
  // Runs with and without a warm-up are apart: the store's state differs.
  std::string after = r.cfg("warmup_s") > 0 ? " after " + i("warmup_s") + " s of warm-up" : "";
  if (s == "direct") return i("conns") + " users in 1:1 chats, " + i("rate") + " msg/s offered for " + i("duration_s") + " s" + after;
  if (s == "group")
    return i("rooms") + " rooms of " + i("members") + " online members, " + i("rate") + " msg/s offered for " + i("duration_s") + " s" + after +
           ", members marking read";
  if (s == "reconnect") return i("conns") + " devices each missing " + i("missed") + " messages reconnect at once";
  if (s == "catch-up") return "one device missed " + i("messages") + " messages in " + i("chats") + " chats";
  if (s == "history") return "newest page of " + i("page") + " from a chat of " + i("messages") + " messages, " + i("readers") + " readers";
  return s;
}

/// The command without what only this machine's run had: absolute paths become relative to
/// the source tree, a peer's port and pid become placeholders.
std::string portable(const std::string& command) {
  std::istringstream in(command);
  std::string word, out, prev;
  while (in >> word) {
    if (prev == "--server-pid") word = "PID";
    if (prev == "--target" && word.rfind("127.0.0.1:", 0) == 0) word = "127.0.0.1:PORT";
    if (auto at = word.find("/build/"); word[0] == '/' && at != std::string::npos) word = word.substr(at + 1);
    out += (out.empty() ? "" : " ") + word;
    prev = word;
  }
  return out;
}

std::string ratio(double mine, double other) {
  if (!std::isfinite(mine) || !std::isfinite(other) || other == 0) return "–";
  char b[32];
  double q = mine / other;
  std::snprintf(b, sizeof b, q >= 10 ? "%.0f×" : q >= 1 ? "%.1f×" : "%.2f×", q);
  return b;
}

void write_table(std::ostream& md, const std::string& scenario, const std::string& load, const std::vector<const Run*>& runs) {
  const std::vector<Column> cols = columns_of(scenario);
  md << "### " << scenario << ": " << load << "\n\n| server |";
  for (auto& c : cols) md << ' ' << c.title << " |";
  md << " result |\n|---|";
  for (size_t i = 0; i < cols.size(); ++i) md << "---|";
  md << "---|\n";
  for (const Run* r : runs) {
    md << "| " << r->label << " |";
    for (auto& c : cols) md << ' ' << num(c.value(*r)) << " |";
    md << ' ' << (r->pass ? "PASS" : "**FAIL**: " + r->failure) << " |\n";
  }

  const Run* modu = nullptr;
  const Run* baseline = nullptr;
  for (const Run* r : runs) {
    if (r->role() == Run::Role::modu && !modu) modu = r;
    if (r->role() == Run::Role::baseline && !r->durable() && !baseline) baseline = r;
  }
  if (modu && baseline) {
    md << "| *Modu ÷ baseline* |";
    for (auto& c : cols) md << ' ' << (c.compared ? ratio(c.value(*modu), c.value(*baseline)) : "") << " |";
    md << " |\n";
  }
  // Per column, Modu against the best passing run of a kind, named: the durable baselines
  // (modu-baseline --durable, every tick or paced: the like-for-like limit for Modu's
  // acknowledgements after a durable commit), then the peers.
  auto best_row = [&](const char* title, auto of_kind) {
    if (!modu) return;
    std::string row;
    bool any = false;
    for (auto& c : cols) {
      const Run* best = nullptr;
      for (const Run* r : runs) {
        double v = c.value(*r);
        if (!of_kind(*r) || !r->pass || !std::isfinite(v)) continue;
        if (!best || (c.higher_is_better ? v > c.value(*best) : v < c.value(*best))) best = r;
      }
      row += ' ';
      if (c.compared && best) {
        row += ratio(c.value(*modu), c.value(*best)) + " (" + best->label + ")";
        any = true;
      }
      row += " |";
    }
    if (any) md << "| *" << title << "* |" << row << " |\n";
  };
  best_row("Modu ÷ best durable baseline", [](const Run& r) { return r.role() == Run::Role::baseline && r.durable(); });
  best_row("Modu ÷ best peer", [](const Run& r) { return r.role() == Run::Role::peer; });
  md << "\n";
  for (const Run* r : runs)
    if (!r->command.empty()) md << "- " << r->label << ": `" << portable(r->command) << "`\n";
  md << "\n";
}

}  // namespace

int table_main(int argc, char** argv) {
  bool help = argc > 2 && (std::string_view(argv[2]) == "--help" || std::string_view(argv[2]) == "-h");
  if (argc < 4 || help) {
    std::fprintf(help ? stdout : stderr,
                 "usage: modu-bench table OUT.md REPORT.json...\n"
                 "Writes the markdown tables of docs/benchmarks.md from reports written with --json.\n");
    return help ? 0 : 2;
  }
  static const char* order[] = {"idle", "direct", "group", "reconnect", "catch-up", "history"};
  dom::parser parser;
  std::vector<Run> runs;
  std::ostringstream md;
  for (int i = 3; i < argc; ++i) {
    if (auto r = load(parser, argv[i])) runs.push_back(std::move(*r));
    else md << "(unreadable report: " << argv[i] << ")\n\n";
  }
  md << "Ratios are Modu's figure divided by the other's: below 1 is better for latency, memory "
        "and CPU, above 1 for rates. The best peer is chosen per column among the passing peer runs.\n\n";
  for (const char* scenario : order) {
    std::vector<std::string> loads;  // in order of first appearance
    std::map<std::string, std::vector<const Run*>> by_load;
    for (const Run& r : runs) {
      if (r.scenario != scenario) continue;
      std::string l = load_of(r);
      if (!by_load.count(l)) loads.push_back(l);
      by_load[l].push_back(&r);
    }
    for (auto& l : loads) write_table(md, scenario, l, by_load[l]);
  }
  std::ofstream out(argv[2], std::ios::app);
  out << md.str();
  std::fputs(md.str().c_str(), stdout);
  return out ? 0 : 1;
}

}  // namespace bench
