#include "runtime/cgroup/stats.hpp"

#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <limits>
#include <vector>

#include "runtime/cgroup/files.hpp"
#include "runtime/util/text_lines.hpp"

namespace agentrun {
namespace {

using Json = rapidjson::Writer<rapidjson::StringBuffer>;
using namespace cgroup_files;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

void usage_block(Json& w, CgroupFs& fs, const char* name, const std::string& dir, const std::string& prefix, bool v2) {
  w.Key(name);
  w.StartObject();
  if (v2) {
    w.Key("usage"), w.Uint64(number(read_opt(fs, dir, prefix + "current")));
    w.Key("max"), w.Uint64(number(read_opt(fs, dir, prefix + "peak")));
    w.Key("limit"), w.Uint64(number(read_opt(fs, dir, prefix + "max")));
    w.Key("failcnt"), w.Uint64(value_of(read_opt(fs, dir, prefix + "events"), "max"));
  } else {
    w.Key("usage"), w.Uint64(number(read_opt(fs, dir, prefix + "usage_in_bytes")));
    w.Key("max"), w.Uint64(number(read_opt(fs, dir, prefix + "max_usage_in_bytes")));
    w.Key("limit"), w.Uint64(number(read_opt(fs, dir, prefix + "limit_in_bytes")));
    w.Key("failcnt"), w.Uint64(number(read_opt(fs, dir, prefix + "failcnt")));
  }
  w.EndObject();
}

void cpu_stats(Json& w, CgroupFs& fs, const std::string& cpuacct, const std::string& cpu, bool v2) {
  w.Key("cpu");
  w.StartObject();
  w.Key("usage");
  w.StartObject();
  const auto stat = key_values(read_opt(fs, cpu, "cpu.stat").value_or(""));
  const auto get = [&](const char* k) { return stat.count(k) ? stat.at(k) : 0; };
  if (v2) {
    w.Key("total"), w.Uint64(get("usage_usec") * 1000);
    w.Key("kernel"), w.Uint64(get("system_usec") * 1000);
    w.Key("user"), w.Uint64(get("user_usec") * 1000);
  } else {
    w.Key("total"), w.Uint64(number(read_opt(fs, cpuacct, "cpuacct.usage")));
    w.Key("percpu");
    w.StartArray();
    const std::string percpu = read_opt(fs, cpuacct, "cpuacct.usage_percpu").value_or("");
    for (std::string_view v : text_words(percpu)) {
      const auto n = number_of<uint64_t>(v);
      if (!n) break;
      w.Uint64(*n);
    }
    w.EndArray();
    // cpuacct.stat counts clock ticks.
    const auto ticks = key_values(read_opt(fs, cpuacct, "cpuacct.stat").value_or(""));
    const uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
    w.Key("kernel"), w.Uint64(ticks.count("system") ? ticks.at("system") * ns_per_tick : 0);
    w.Key("user"), w.Uint64(ticks.count("user") ? ticks.at("user") * ns_per_tick : 0);
  }
  w.EndObject();
  w.Key("throttling");
  w.StartObject();
  w.Key("periods"), w.Uint64(get("nr_periods"));
  w.Key("throttledPeriods"), w.Uint64(get("nr_throttled"));
  w.Key("throttledTime"), w.Uint64(v2 ? get("throttled_usec") * 1000 : get("throttled_time"));
  w.EndObject();
  w.EndObject();
}

void memory_stats(Json& w, CgroupFs& fs, const std::string& dir, bool v2) {
  w.Key("memory");
  w.StartObject();
  usage_block(w, fs, "usage", dir, "memory.", v2);
  usage_block(w, fs, "swap", dir, v2 ? "memory.swap." : "memory.memsw.", v2);
  if (!v2) usage_block(w, fs, "kernel", dir, "memory.kmem.", false);
  w.Key("raw");
  w.StartObject();
  for (const auto& [k, v] : key_values(read_opt(fs, dir, "memory.stat").value_or(""))) w.Key(k.c_str()), w.Uint64(v);
  w.EndObject();
  w.EndObject();
}

void pids_stats(Json& w, CgroupFs& fs, const std::string& dir) {
  w.Key("pids");
  w.StartObject();
  w.Key("current"), w.Uint64(number(read_opt(fs, dir, "pids.current")));
  const uint64_t limit = number(read_opt(fs, dir, "pids.max"));
  w.Key("limit"), w.Uint64(limit == kMax ? 0 : limit);
  w.EndObject();
}

struct IoEntry {
  uint64_t major, minor;
  std::string op;
  uint64_t value;
};

void io_entries(Json& w, const char* name, const std::vector<IoEntry>& list) {
  w.Key(name);
  w.StartArray();
  for (const auto& e : list) {
    w.StartObject();
    w.Key("major"), w.Uint64(e.major);
    w.Key("minor"), w.Uint64(e.minor);
    w.Key("op"), w.String(e.op.c_str());
    w.Key("value"), w.Uint64(e.value);
    w.EndObject();
  }
  w.EndArray();
}

// "8:0": a device's major and minor number.
std::optional<std::pair<uint64_t, uint64_t>> device_of(std::string_view word) {
  const size_t colon = word.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto major = number_of<uint64_t>(word.substr(0, colon)), minor = number_of<uint64_t>(word.substr(colon + 1));
  if (!major || !minor) return std::nullopt;
  return std::pair(*major, *minor);
}

// v1 "8:0 Read 4096" lines (the device-less "Total N" line is left out).
std::vector<IoEntry> v1_io_entries(const std::optional<std::string>& text) {
  std::vector<IoEntry> out;
  if (!text) return out;
  for (std::string_view line : text_lines(*text)) {
    const std::vector<std::string_view> w = text_words(line);
    if (w.size() < 3) continue;
    const auto device = device_of(w[0]);
    const auto value = number_of<uint64_t>(w[2]);
    if (device && value) out.push_back({device->first, device->second, std::string(w[1]), *value});
  }
  return out;
}

void blkio_stats(Json& w, CgroupFs& fs, const std::string& dir, bool v2) {
  w.Key("blkio");
  w.StartObject();
  std::vector<IoEntry> bytes, ios;
  if (v2) {
    // io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
    static const std::map<std::string, std::pair<bool, const char*>> keys = {
        {"rbytes", {true, "Read"}}, {"wbytes", {true, "Write"}},   {"dbytes", {true, "Discard"}},
        {"rios", {false, "Read"}},  {"wios", {false, "Write"}},    {"dios", {false, "Discard"}}};
    const std::string stat = read_opt(fs, dir, "io.stat").value_or("");
    for (std::string_view line : text_lines(stat)) {
      const std::vector<std::string_view> w = text_words(line);
      const auto device = w.empty() ? std::nullopt : device_of(w[0]);
      if (!device) continue;
      for (size_t i = 1; i < w.size(); ++i) {
        const auto eq = w[i].find('=');
        const auto it = keys.find(std::string(w[i].substr(0, eq)));
        if (eq == std::string_view::npos || it == keys.end()) continue;
        (it->second.first ? bytes : ios)
            .push_back({device->first, device->second, it->second.second, number(std::string(w[i].substr(eq + 1)))});
      }
    }
  } else {
    bytes = v1_io_entries(read_opt(fs, dir, "blkio.throttle.io_service_bytes_recursive"));
    ios = v1_io_entries(read_opt(fs, dir, "blkio.throttle.io_serviced_recursive"));
  }
  io_entries(w, "ioServiceBytesRecursive", bytes);
  io_entries(w, "ioServicedRecursive", ios);
  w.EndObject();
}

void hugetlb_stats(Json& w, CgroupFs& fs, const std::string& dir, bool v2) {
  w.Key("hugetlb");
  w.StartObject();
  const std::string suffix = v2 ? ".current" : ".usage_in_bytes";
  for (const auto& f : entries(dir, false)) {
    if (f.rfind("hugetlb.", 0) != 0 || f.size() <= suffix.size() + 8 ||
        f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0 || f.find(".rsvd.") != std::string::npos)
      continue;
    const std::string size = f.substr(8, f.size() - 8 - suffix.size());
    const std::string p = "hugetlb." + size + ".";
    w.Key(size.c_str());
    w.StartObject();
    w.Key("usage"), w.Uint64(number(read_opt(fs, dir, f)));
    w.Key("max"), w.Uint64(v2 ? 0 : number(read_opt(fs, dir, p + "max_usage_in_bytes")));
    w.Key("failcnt"),
        w.Uint64(v2 ? value_of(read_opt(fs, dir, p + "events"), "max") : number(read_opt(fs, dir, p + "failcnt")));
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

std::string cgroup_stats_json(CgroupFs& fs, const std::string& id, const std::map<std::string, std::string>& v1_dirs,
                              const std::string& unified) {
  // A controller's v1 directory, or the unified one (v2 = true).
  const auto pick = [&](const char* v1_controller, bool& v2) {
    const auto it = v1_dirs.find(v1_controller);
    v2 = it == v1_dirs.end();
    return v2 ? unified : it->second;
  };
  rapidjson::StringBuffer buf;
  Json w(buf);
  w.StartObject();
  w.Key("type"), w.String("stats");
  w.Key("id"), w.String(id.c_str());
  w.Key("data");
  w.StartObject();
  bool v2 = false;
  const std::string cpuacct = pick("cpuacct", v2);
  const auto v1_cpu = v1_dirs.find("cpu");
  cpu_stats(w, fs, cpuacct, v2 ? cpuacct : v1_cpu == v1_dirs.end() ? "" : v1_cpu->second, v2);
  const std::string memory = pick("memory", v2);
  memory_stats(w, fs, memory, v2);
  pids_stats(w, fs, pick("pids", v2));
  const std::string blkio = pick("blkio", v2);
  blkio_stats(w, fs, blkio, v2);
  const std::string hugetlb = pick("hugetlb", v2);
  hugetlb_stats(w, fs, hugetlb, v2);
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

}  // namespace agentrun
