#include "table.hpp"

#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace bench {

using namespace simdjson;

static std::string fmt(double v, int prec = 1) {
  char b[64];
  if (v >= 100000) std::snprintf(b, sizeof b, "%.0f", v);
  else std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

static double metric(dom::element doc, const char* name) {
  double v = -1;
  dom::element m;
  if (doc["metrics"][name].get(m)) return -1;
  if (m["value"].get_double().get(v)) return -1;
  return v;
}

int table_main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: modu-bench table OUT.md REPORT.json...\n");
    return 2;
  }
  std::ostringstream md;
  md << "| scenario | server | load | headline | latency p50 / p99 / p99.9 / max (ms) | server CPU s | server RSS KiB before → after | loadgen CPU s | result |\n";
  md << "|---|---|---|---|---|---|---|---|---|\n";
  dom::parser parser;
  for (int i = 3; i < argc; ++i) {
    dom::element doc;
    if (parser.load(argv[i]).get(doc)) {
      md << "| " << argv[i] << " | unreadable | | | | | | | |\n";
      continue;
    }
    std::string scenario(doc["scenario"].get_string().value_unsafe());
    std::string_view label_v;
    std::string driver(doc["label"].get_string().get(label_v) ? doc["driver"].get_string().value_unsafe() : label_v);
    dom::element cfg = doc["config"].value_unsafe();
    auto ci = [&](const char* k) { int64_t v = 0; if (cfg[k].get_int64().get(v)) v = 0; return v; };
    auto cd = [&](const char* k) { double v = 0; if (cfg[k].get_double().get(v)) v = 0; return v; };
    std::string load, headline, lat_name;
    if (scenario == "idle") {
      load = std::to_string(ci("conns")) + " conns";
      headline = fmt(metric(doc, "server_rss_per_connection"), 0) + " B server RSS/conn, " + fmt(metric(doc, "connect_rate"), 0) + " conn/s";
      lat_name = "ping_rtt";
    } else if (scenario == "direct" || scenario == "group") {
      load = scenario == "direct" ? std::to_string(ci("conns")) + " users, " + fmt(cd("rate"), 0) + " msg/s"
                                  : std::to_string(ci("rooms")) + "x" + std::to_string(ci("members")) + " members, " + fmt(cd("rate"), 0) + " msg/s";
      headline = fmt(metric(doc, "ack_throughput"), 0) + " msg/s acked, " + fmt(metric(doc, "delivery_throughput"), 0) + " deliveries/s";
      lat_name = "send_to_delivery";
    } else if (scenario == "reconnect") {
      load = std::to_string(ci("conns")) + " devices x " + std::to_string(ci("missed")) + " missed";
      headline = "all caught up in " + fmt(metric(doc, "all_caught_up_after"), 0) + " ms";
      lat_name = "device_catch_up";
    } else if (scenario == "catch-up") {
      load = std::to_string(ci("messages")) + " msgs in " + std::to_string(ci("chats")) + " chats";
      headline = "full sync in " + fmt(metric(doc, "time_to_full_sync"), 0) + " ms";
      lat_name = "catch_up_total";
    } else if (scenario == "history") {
      load = std::to_string(ci("messages")) + " stored, page " + std::to_string(ci("page"));
      headline = fmt(metric(doc, "page_rate"), 0) + " pages/s";
      lat_name = "newest_page";
    }
    std::string lat = "-";
    dom::element h;
    if (!doc["latency_ms"][lat_name].get(h)) {
      auto d = [&](const char* k) { double v = 0; if (h[k].get_double().get(v)) v = 0; return v; };
      lat = fmt(d("p50"), 2) + " / " + fmt(d("p99"), 2) + " / " + fmt(d("p99_9"), 2) + " / " + fmt(d("max"), 2) + " (" + lat_name + ")";
    }
    auto sd = [&](const char* o, const char* k) { double v = 0; if (doc[o][k].get_double().get(v)) v = 0; return v; };
    auto si = [&](const char* o, const char* k) { int64_t v = 0; if (doc[o][k].get_int64().get(v)) v = 0; return v; };
    bool pass = false;
    if (doc["pass"].get_bool().get(pass)) pass = false;
    md << "| " << scenario << " | " << driver << " | " << load << " | " << headline << " | " << lat << " | " << fmt(sd("server", "cpu_s_measured"), 2)
       << " | " << si("server", "rss_kb_before") << " → " << si("server", "rss_kb_after") << " | " << fmt(sd("loadgen", "cpu_s_measured"), 2) << " | "
       << (pass ? "PASS" : "**FAIL**") << " |\n";
  }
  std::ofstream out(argv[2], std::ios::app);
  out << md.str();
  std::fputs(md.str().c_str(), stdout);
  return out ? 0 : 1;
}

}  // namespace bench
