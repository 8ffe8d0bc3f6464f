#include "runtime/cgroup_manager.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <sstream>
#include <thread>

#include "runtime/cgroup_path.hpp"
#include "runtime/cgroup_writes.hpp"
#include "runtime/device_bpf.hpp"
#include "runtime/fd.hpp"
#include "runtime/file_io.hpp"
#include "spec/error.hpp"

namespace agentrun {
namespace {

using Json = rapidjson::Writer<rapidjson::StringBuffer>;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::string parent_of(const std::string& dir) {
  const auto slash = dir.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

std::string controller_step(const std::string& controller) {
  return controller.empty() ? "cgroup" : "cgroup " + controller;
}

// The file's contents; nullopt when it does not exist (a controller or
// kernel feature that is absent). Other errors throw.
std::optional<std::string> read_opt(const std::string& dir, const std::string& file) {
  if (dir.empty()) return std::nullopt;
  auto text = read_whole_file(AT_FDCWD, dir + "/" + file);
  if (text) return std::move(*text);
  if (text.error().errnum == ENOENT) return std::nullopt;
  throw Failure(Error{"cgroup: read " + file + " in " + dir, "", text.error().errnum});
}

std::string read_req(const std::string& controller, const std::string& dir, const std::string& file) {
  auto text = read_opt(dir, file);
  if (!text) throw Failure(Error{controller_step(controller) + ": read " + file + " in " + dir, "", ENOENT});
  return *text;
}

// "key value" lines (memory.stat, cpu.stat, memory.events ...).
std::map<std::string, uint64_t> key_values(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string key;
  uint64_t value;
  while (in >> key >> value) out[key] = value;
  return out;
}

// A limit or counter file; "max" is no limit.
uint64_t number(const std::optional<std::string>& text) {
  if (!text) return 0;
  const std::string t = trim(*text);
  if (t == "max") return kMax;
  try {
    return std::stoull(t);
  } catch (const std::exception&) {
    return 0;
  }
}

uint64_t value_of(const std::optional<std::string>& text, const std::string& key) {
  if (!text) return 0;
  const auto kv = key_values(*text);
  const auto it = kv.find(key);
  return it == kv.end() ? 0 : it->second;
}

std::vector<std::string> entries(const std::string& dir, bool dirs_only) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return out;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (dirs_only && e->d_type != DT_DIR) continue;
    out.push_back(name);
  }
  return out;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

const std::shared_ptr<CgroupFs>& real_fs() {
  static const auto fs = std::make_shared<CgroupFs>();
  return fs;
}

// ---- stats ----

void usage_block(Json& w, const char* name, const std::string& dir, const std::string& prefix, bool v2) {
  w.Key(name);
  w.StartObject();
  if (v2) {
    w.Key("usage"), w.Uint64(number(read_opt(dir, prefix + "current")));
    w.Key("max"), w.Uint64(number(read_opt(dir, prefix + "peak")));
    w.Key("limit"), w.Uint64(number(read_opt(dir, prefix + "max")));
    w.Key("failcnt"), w.Uint64(value_of(read_opt(dir, prefix + "events"), "max"));
  } else {
    w.Key("usage"), w.Uint64(number(read_opt(dir, prefix + "usage_in_bytes")));
    w.Key("max"), w.Uint64(number(read_opt(dir, prefix + "max_usage_in_bytes")));
    w.Key("limit"), w.Uint64(number(read_opt(dir, prefix + "limit_in_bytes")));
    w.Key("failcnt"), w.Uint64(number(read_opt(dir, prefix + "failcnt")));
  }
  w.EndObject();
}

void cpu_stats(Json& w, const std::string& cpuacct, const std::string& cpu, bool v2) {
  w.Key("cpu");
  w.StartObject();
  w.Key("usage");
  w.StartObject();
  const auto stat = key_values(read_opt(cpu, "cpu.stat").value_or(""));
  const auto get = [&](const char* k) { return stat.count(k) ? stat.at(k) : 0; };
  if (v2) {
    w.Key("total"), w.Uint64(get("usage_usec") * 1000);
    w.Key("kernel"), w.Uint64(get("system_usec") * 1000);
    w.Key("user"), w.Uint64(get("user_usec") * 1000);
  } else {
    w.Key("total"), w.Uint64(number(read_opt(cpuacct, "cpuacct.usage")));
    w.Key("percpu");
    w.StartArray();
    std::istringstream per(read_opt(cpuacct, "cpuacct.usage_percpu").value_or(""));
    for (uint64_t v; per >> v;) w.Uint64(v);
    w.EndArray();
    // cpuacct.stat counts clock ticks.
    const auto ticks = key_values(read_opt(cpuacct, "cpuacct.stat").value_or(""));
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

void memory_stats(Json& w, const std::string& dir, bool v2) {
  w.Key("memory");
  w.StartObject();
  usage_block(w, "usage", dir, "memory.", v2);
  usage_block(w, "swap", dir, v2 ? "memory.swap." : "memory.memsw.", v2);
  if (!v2) usage_block(w, "kernel", dir, "memory.kmem.", false);
  w.Key("raw");
  w.StartObject();
  for (const auto& [k, v] : key_values(read_opt(dir, "memory.stat").value_or(""))) w.Key(k.c_str()), w.Uint64(v);
  w.EndObject();
  w.EndObject();
}

void pids_stats(Json& w, const std::string& dir) {
  w.Key("pids");
  w.StartObject();
  w.Key("current"), w.Uint64(number(read_opt(dir, "pids.current")));
  const uint64_t limit = number(read_opt(dir, "pids.max"));
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

// v1 "8:0 Read 4096" lines (the device-less "Total N" line is left out).
std::vector<IoEntry> v1_io_entries(const std::optional<std::string>& text) {
  std::vector<IoEntry> out;
  std::istringstream lines(text.value_or(""));
  for (std::string line; std::getline(lines, line);) {
    IoEntry e;
    char colon;
    std::istringstream f(line);
    if (f >> e.major >> colon >> e.minor >> e.op >> e.value && colon == ':') out.push_back(e);
  }
  return out;
}

void blkio_stats(Json& w, const std::string& dir, bool v2) {
  w.Key("blkio");
  w.StartObject();
  std::vector<IoEntry> bytes, ios;
  if (v2) {
    // io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
    static const std::map<std::string, std::pair<bool, const char*>> keys = {
        {"rbytes", {true, "Read"}}, {"wbytes", {true, "Write"}},   {"dbytes", {true, "Discard"}},
        {"rios", {false, "Read"}},  {"wios", {false, "Write"}},    {"dios", {false, "Discard"}}};
    std::istringstream lines(read_opt(dir, "io.stat").value_or(""));
    for (std::string line; std::getline(lines, line);) {
      std::istringstream f(line);
      uint64_t major, minor;
      char colon;
      if (!(f >> major >> colon >> minor) || colon != ':') continue;
      for (std::string kv; f >> kv;) {
        const auto eq = kv.find('=');
        const auto it = keys.find(kv.substr(0, eq));
        if (eq == std::string::npos || it == keys.end()) continue;
        (it->second.first ? bytes : ios).push_back({major, minor, it->second.second, number(kv.substr(eq + 1))});
      }
    }
  } else {
    bytes = v1_io_entries(read_opt(dir, "blkio.throttle.io_service_bytes_recursive"));
    ios = v1_io_entries(read_opt(dir, "blkio.throttle.io_serviced_recursive"));
  }
  io_entries(w, "ioServiceBytesRecursive", bytes);
  io_entries(w, "ioServicedRecursive", ios);
  w.EndObject();
}

void hugetlb_stats(Json& w, const std::string& dir, bool v2) {
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
    w.Key("usage"), w.Uint64(number(read_opt(dir, f)));
    w.Key("max"), w.Uint64(v2 ? 0 : number(read_opt(dir, p + "max_usage_in_bytes")));
    w.Key("failcnt"),
        w.Uint64(v2 ? value_of(read_opt(dir, p + "events"), "max") : number(read_opt(dir, p + "failcnt")));
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

int CgroupFs::make_dir(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0 ? 0 : errno; }
int CgroupFs::remove_dir(const std::string& path) { return ::rmdir(path.c_str()) == 0 ? 0 : errno; }

Cgroup Cgroup::plan(const CgroupLayout& layout, const std::map<std::string, std::string>& own_cgroups,
                    const std::string& cgroups_path, const std::string& id, std::shared_ptr<CgroupFs> fs) {
  Cgroup cg;
  cg.mode_ = layout.mode;
  cg.unified_controllers_ = layout.unified_controllers;
  cg.fs_ = fs ? std::move(fs) : real_fs();
  const auto own = [&](const std::string& key) {
    const auto it = own_cgroups.find(key);
    if (it == own_cgroups.end())
      fail("cgroup", "hierarchy \"" + (key.empty() ? std::string("unified") : key) +
                         "\" is mounted but this process's cgroup in it is not in /proc/self/cgroup");
    return it->second;
  };
  if (layout.mode != CgroupMode::v2)
    for (const auto& [controller, mount] : layout.v1)
      cg.dirs_[controller] = mount + resolve_cgroup_path(cgroups_path, id, own(controller));
  if (layout.mode == CgroupMode::hybrid) cg.dirs_[""] = layout.unified + resolve_cgroup_path(cgroups_path, id, own(""));
  // On cgroup v2 the caller's own cgroup holds the caller, so no controller
  // could be enabled below it (no internal processes): a relative path
  // starts from its parent, as runc's does.
  if (layout.mode == CgroupMode::v2) cg.dirs_[""] = layout.unified + resolve_cgroup_path(cgroups_path, id, parent_of(own("")));
  return cg;
}

std::vector<std::string> Cgroup::distinct_dirs() const {
  std::vector<std::string> out;
  for (const auto& [controller, dir] : dirs_)
    if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(dir);
  return out;
}

std::string Cgroup::dir_of(const std::string& controller) const {
  const auto it = dirs_.find(controller);
  return it == dirs_.end() ? "" : it->second;
}

void Cgroup::write(const std::string& controller, const std::string& dir, const std::string& file,
                   const std::string& value) const {
  auto st = write_whole_file(AT_FDCWD, dir + "/" + file, value, O_TRUNC);
  if (!st)
    throw Failure(Error{controller_step(controller) + ": write " + file + " = " + value + " in " + dir, "",
                        st.error().errnum});
}

// Usually only the last level is missing: it is tried first, and the walk
// goes up only on ENOENT (every mkdir on cgroupfs takes its locks).
void Cgroup::mkdir_p(const std::string& dir) {
  int err = fs_->make_dir(dir);
  // A few tries: another container's delete may remove a shared parent meanwhile.
  for (int attempt = 0; err == ENOENT && attempt < 3; ++attempt) {
    const std::string parent = parent_of(dir);
    if (parent.empty() || parent == dir) throw Failure(Error{"cgroup: mkdir " + dir, "", err});
    mkdir_p(parent);
    err = fs_->make_dir(dir);
  }
  if (err == 0) created_.push_back(dir);
  else if (err != EEXIST) throw Failure(Error{"cgroup: mkdir " + dir, "", err});
}

// A new v1 cpuset cgroup starts with no cpus and mems, and no task can
// join it until they are set: take the parent's.
void Cgroup::inherit_cpuset(const std::string& dir) const {
  const std::string top = dir_of("cpuset");
  if (top.empty() || (dir != top && top.rfind(dir + "/", 0) != 0)) return;
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    if (!trim(read_req("cpuset", dir, file)).empty()) continue;
    write("cpuset", dir, file, trim(read_req("cpuset", parent_of(dir), file)));
  }
}

void Cgroup::create() {
  for (const auto& dir : distinct_dirs()) {
    const size_t before = created_.size();
    mkdir_p(dir);
    for (size_t i = before; i < created_.size(); ++i) inherit_cpuset(created_[i]);
  }
}

// v2 controllers are usable in a cgroup only when its parent delegates them.
// Done for the levels created here; a parent that was already there must
// delegate them itself, or the writes fail naming the file.
void Cgroup::enable_controller(const std::string& controller) const {
  if (!unified_controllers_.count(controller))
    fail("cgroup", "controller \"" + controller + "\" is not available on this host (needed by " +
                       resource_field_of(controller) + ")");
  const std::string unified = dir_of("");
  for (const auto& dir : created_) {
    if (dir != unified && unified.rfind(dir + "/", 0) != 0) continue;
    const std::string parent = parent_of(dir);
    std::istringstream on(read_req("", parent, "cgroup.subtree_control"));
    bool enabled = false;
    for (std::string c; on >> c;) enabled |= c == controller;
    if (!enabled) write(controller, parent, "cgroup.subtree_control", "+" + controller);
  }
}

namespace {

// Kernels without CFQ have BFQ's weight files only.
std::string v1_file(const std::string& dir, const std::string& file) {
  if (file.rfind("blkio.weight", 0) != 0 || ::access((dir + "/" + file).c_str(), F_OK) == 0) return file;
  const std::string bfq = "blkio.bfq." + file.substr(6);
  return ::access((dir + "/" + bfq).c_str(), F_OK) == 0 ? bfq : file;
}

}  // namespace

void Cgroup::apply_v1(const spec::Resources& r) const {
  uint64_t current_limit = kMax;
  const std::string memory = dir_of("memory");
  if (!memory.empty() && r.memory && r.memory->limit.value_or(0) != 0 && r.memory->swap.value_or(0) != 0)
    current_limit = number(read_req("memory", memory, "memory.limit_in_bytes"));
  for (const auto& w : v1_writes(r, current_limit)) {
    const std::string dir = dir_of(w.controller);
    if (dir.empty())
      fail("cgroup", "controller \"" + w.controller + "\" is not available on this host (needed by " +
                         resource_field_of(w.controller) + ")");
    write(w.controller, dir, v1_file(dir, w.file), w.value);
  }
}

void Cgroup::apply_v2(const spec::Resources& r) const {
  const auto writes = v2_writes(r);
  std::set<std::string> needed;
  for (const auto& w : writes)
    if (!w.controller.empty() && needed.insert(w.controller).second) enable_controller(w.controller);
  const std::string dir = dir_of("");
  for (const auto& w : writes) write(w.controller, dir, w.file, w.value);
  if (r.devices.empty()) return;
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) fail_errno("cgroup devices: open " + dir, errno);
  attach_device_filter(fd.get(), device_filter_program(r.devices));
}

void Cgroup::apply(const spec::Resources& r) {
  if (mode_ == CgroupMode::v1) return apply_v1(r);
  if (mode_ == CgroupMode::v2) return apply_v2(r);
  // Hybrid: a part goes to the unified hierarchy when its v1 controller is
  // not mounted (hugetlb on many hosts); network and devices stay v1.
  const auto in_v1 = [&](const char* c) { return !dir_of(c).empty(); };
  spec::Resources v1 = r, v2;
  v1.unified.clear();
  v2.unified = r.unified;
  if (r.memory && !in_v1("memory")) std::swap(v1.memory, v2.memory);
  if (r.cpu) {
    spec::CpuResources sets;
    sets.cpus = r.cpu->cpus;
    sets.mems = r.cpu->mems;
    if (!in_v1("cpu")) std::swap(v1.cpu, v2.cpu);
    if (!in_v1("cpuset") && v1.cpu) v1.cpu->cpus.clear(), v1.cpu->mems.clear();
    if (!in_v1("cpuset") && !v2.cpu) v2.cpu = sets;
    if (in_v1("cpuset") && v2.cpu) v2.cpu->cpus.clear(), v2.cpu->mems.clear();
    if (in_v1("cpuset") && !v1.cpu) v1.cpu = sets;
  }
  if (r.pidsLimit && !in_v1("pids")) std::swap(v1.pidsLimit, v2.pidsLimit);
  if (r.blockIO && !in_v1("blkio")) std::swap(v1.blockIO, v2.blockIO);
  if (!in_v1("hugetlb")) std::swap(v1.hugepageLimits, v2.hugepageLimits);
  if (!in_v1("rdma")) std::swap(v1.rdma, v2.rdma);
  apply_v1(v1);
  apply_v2(v2);
}

void Cgroup::add_process(pid_t pid) const {
  std::set<std::string> done;  // comounted controllers share a directory
  for (const auto& [controller, dir] : dirs_)
    if (done.insert(dir).second) write(controller, dir, "cgroup.procs", std::to_string(pid));
}

std::string Cgroup::accounting_only_dir() const {
  static const std::set<std::string> kAccounting = {"name=systemd", "cpuacct", "perf_event", "net_cls", "net_prio"};
  auto only_accounting = [this](const std::string& dir) {
    return std::all_of(dirs_.begin(), dirs_.end(),
                       [&](const auto& entry) { return entry.second != dir || kAccounting.count(entry.first); });
  };
  for (const auto& [controller, dir] : dirs_)
    if (kAccounting.count(controller) && only_accounting(dir)) return dir;
  return "";
}

std::vector<pid_t> Cgroup::processes() const {
  std::set<pid_t> pids;
  for (const auto& dir : distinct_dirs()) {
    std::istringstream in(read_req("", dir, "cgroup.procs"));
    for (pid_t p; in >> p;) pids.insert(p);
  }
  return {pids.begin(), pids.end()};
}

// v1's freezer when it is mounted, else the unified hierarchy's cgroup.freeze.
std::string Cgroup::freezer_dir(bool& v1) const {
  v1 = !dir_of("freezer").empty();
  const std::string dir = v1 ? dir_of("freezer") : dir_of("");
  if (dir.empty()) fail("cgroup", "no freezer: neither a v1 freezer hierarchy nor cgroup v2 is mounted");
  return dir;
}

void Cgroup::freeze() {
  bool v1 = false;
  const std::string dir = freezer_dir(v1);
  // Freezing completes asynchronously; tasks in uninterruptible sleep can
  // delay it. Give up after about a second rather than hang `pause`.
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (v1 || attempt == 0) write("freezer", dir, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "FROZEN" : "1");
    if (frozen()) return;
    sleep_ms(5);
  }
  thaw();
  fail("cgroup freezer: freeze " + dir, "the processes did not stop within 1s");
}

void Cgroup::thaw() {
  bool v1 = false;
  const std::string dir = freezer_dir(v1);
  write("freezer", dir, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "THAWED" : "0");
}

bool Cgroup::frozen() const {
  bool v1 = false;
  const std::string dir = freezer_dir(v1);
  if (v1) return trim(read_req("freezer", dir, "freezer.state")) == "FROZEN";
  return trim(read_req("freezer", dir, "cgroup.freeze")) == "1" &&
         value_of(read_req("freezer", dir, "cgroup.events"), "frozen") == 1;
}

std::string Cgroup::stats_json(const std::string& id) const {
  const auto pick = [&](const char* v1_controller, bool& v2) {
    const std::string d = dir_of(v1_controller);
    v2 = d.empty();
    return v2 ? dir_of("") : d;
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
  cpu_stats(w, cpuacct, v2 ? cpuacct : dir_of("cpu"), v2);
  const std::string memory = pick("memory", v2);
  memory_stats(w, memory, v2);
  pids_stats(w, pick("pids", v2));
  const std::string blkio = pick("blkio", v2);
  blkio_stats(w, blkio, v2);
  const std::string hugetlb = pick("hugetlb", v2);
  hugetlb_stats(w, hugetlb, v2);
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

uint64_t Cgroup::oom_kill_count() const {
  const std::string v1 = dir_of("memory");
  if (!v1.empty()) return value_of(read_req("memory", v1, "memory.oom_control"), "oom_kill");
  const std::string v2 = dir_of("");
  return v2.empty() ? 0 : value_of(read_opt(v2, "memory.events"), "oom_kill");
}

// A leaf is usually empty by now: only when removing it fails are the
// cgroups the container made below it removed first; a leaf still busy with
// exiting processes gets about a second.
void Cgroup::remove_tree(const std::string& dir, bool leaf) const {
  int err = fs_->remove_dir(dir);
  if ((err == EBUSY || err == ENOTEMPTY) && leaf) {
    for (const auto& child : entries(dir, true)) remove_tree(dir + "/" + child, true);
    for (int attempt = 0; attempt < 100; ++attempt) {
      err = fs_->remove_dir(dir);
      if (err != EBUSY) break;
      sleep_ms(10);
    }
  }
  if (err == 0 || err == ENOENT) return;
  // A shared parent such as "agentrun/" may hold other containers.
  if (!leaf && (err == ENOTEMPTY || err == EBUSY || err == EEXIST)) return;
  throw Failure(Error{"cgroup: remove " + dir, "", err});
}

void Cgroup::destroy() {
  std::optional<Failure> first;
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    const bool leaf = std::any_of(dirs_.begin(), dirs_.end(), [&](const auto& e) { return e.second == *it; });
    try {
      remove_tree(*it, leaf);
    } catch (const Failure& f) {
      if (!first) first = f;
    }
  }
  if (first) throw *first;
  // The shared "agentrun/" parent of default paths goes with its last
  // container, whichever created it (it stays while another one is in it).
  for (const auto& [controller, dir] : dirs_) {
    const std::string parent = parent_of(dir);
    if (parent.size() > 9 && parent.compare(parent.size() - 9, 9, "/agentrun") == 0) fs_->remove_dir(parent);
  }
  created_.clear();
}

std::string Cgroup::to_json() const {
  rapidjson::StringBuffer buf;
  Json w(buf);
  w.StartObject();
  w.Key("mode"), w.String(cgroup_mode_name(mode_));
  w.Key("dirs");
  w.StartObject();
  for (const auto& [c, d] : dirs_) w.Key(c.c_str(), static_cast<rapidjson::SizeType>(c.size())), w.String(d.c_str());
  w.EndObject();
  w.Key("created");
  w.StartArray();
  for (const auto& d : created_) w.String(d.c_str());
  w.EndArray();
  w.Key("unifiedControllers");
  w.StartArray();
  for (const auto& c : unified_controllers_) w.String(c.c_str());
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

Cgroup Cgroup::from_json(const std::string& json, std::shared_ptr<CgroupFs> fs) {
  const char* step = "state: cgroup";
  rapidjson::Document d;
  if (d.Parse(json.c_str(), json.size()).HasParseError() || !d.IsObject()) fail(step, "not a JSON object");
  const auto member = [&](const char* name) -> const rapidjson::Value& {
    const auto it = d.FindMember(name);
    if (it == d.MemberEnd()) fail(step, std::string("\"") + name + "\" is missing");
    return it->value;
  };
  const auto strings = [&](const rapidjson::Value& v, const char* name) {
    std::vector<std::string> out;
    if (!v.IsArray()) fail(step, std::string("\"") + name + "\" is not an array");
    for (const auto& s : v.GetArray()) {
      if (!s.IsString()) fail(step, std::string("\"") + name + "\" holds a non-string");
      out.emplace_back(s.GetString(), s.GetStringLength());
    }
    return out;
  };
  Cgroup cg;
  cg.fs_ = fs ? std::move(fs) : real_fs();
  const auto& mode = member("mode");
  const std::string m = mode.IsString() ? mode.GetString() : "";
  if (m == "v1") cg.mode_ = CgroupMode::v1;
  else if (m == "hybrid") cg.mode_ = CgroupMode::hybrid;
  else if (m == "v2") cg.mode_ = CgroupMode::v2;
  else fail(step, "\"mode\" is not v1, hybrid or v2");
  const auto& dirs = member("dirs");
  if (!dirs.IsObject()) fail(step, "\"dirs\" is not an object");
  for (const auto& e : dirs.GetObject()) {
    if (!e.value.IsString()) fail(step, "\"dirs\" holds a non-string");
    cg.dirs_[std::string(e.name.GetString(), e.name.GetStringLength())] = e.value.GetString();
  }
  cg.created_ = strings(member("created"), "created");
  for (auto& c : strings(member("unifiedControllers"), "unifiedControllers")) cg.unified_controllers_.insert(c);
  return cg;
}

}  // namespace agentrun
