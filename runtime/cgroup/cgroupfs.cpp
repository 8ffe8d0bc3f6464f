#include "runtime/cgroup/cgroupfs.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "runtime/cgroup/device_bpf.hpp"
#include "runtime/cgroup/files.hpp"
#include "runtime/cgroup/path.hpp"
#include "runtime/cgroup/stats.hpp"
#include "runtime/cgroup/writes.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/log.hpp"
#include "runtime/util/text_lines.hpp"
#include "spec/error.hpp"
#include "spec/json_reader.hpp"
#include "spec/json_write.hpp"

namespace agentrun {
namespace {

using namespace cgroup_files;
using Clock = std::chrono::steady_clock;

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

bool listed(const std::optional<std::string>& text, const std::string& word) {
  if (!text) return false;
  for (std::string_view w : text_words(*text))
    if (w == word) return true;
  return false;
}

}  // namespace


std::unique_ptr<CgroupfsManager> CgroupfsManager::plan(const CgroupLayout& layout,
                                                       const std::map<std::string, std::string>& own_cgroups,
                                                       const std::string& cgroups_path, const std::string& id,
                                                       std::shared_ptr<CgroupFs> fs) {
  std::unique_ptr<CgroupfsManager> cg;
  if (layout.mode == CgroupMode::v2) cg = std::make_unique<CgroupfsV2>();
  else cg = std::make_unique<CgroupfsV1>();
  cg->mode_ = layout.mode;
  cg->unified_controllers_ = layout.unified_controllers;
  cg->fs_ = std::move(fs);
  cg->default_path_ = cgroups_path.empty();
  const auto own = [&](const std::string& key) {
    const auto it = own_cgroups.find(key);
    if (it == own_cgroups.end())
      fail("cgroup", "hierarchy \"" + (key.empty() ? std::string("unified") : key) +
                         "\" is mounted but this process's cgroup in it is not in /proc/self/cgroup");
    return it->second;
  };
  if (layout.mode != CgroupMode::v2)
    for (const auto& [controller, mount] : layout.v1) {
      const std::string mine = own(controller);
      cg->own_dirs_[controller] = mount + (mine == "/" ? "" : mine);
      cg->dirs_[controller] = mount + resolve_cgroup_path(cgroups_path, id, mine);
    }
  if (layout.mode == CgroupMode::hybrid)
    cg->dirs_[""] = layout.unified + resolve_cgroup_path(cgroups_path, id, own(""));
  // On cgroup v2 the caller's own cgroup holds the caller, so no controller
  // could be enabled below it (no internal processes): a relative path
  // starts from its parent, as runc's does.
  if (layout.mode == CgroupMode::v2)
    cg->dirs_[""] = layout.unified + resolve_cgroup_path(cgroups_path, id, parent_of(own("")));
  return cg;
}

std::vector<std::string> CgroupfsManager::distinct_dirs() const {
  std::vector<std::string> out;
  for (const auto& [controller, dir] : dirs_)
    if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(dir);
  return out;
}

std::string CgroupfsManager::dir_of(const std::string& controller) const {
  const auto it = dirs_.find(controller);
  return it == dirs_.end() ? "" : it->second;
}

// Usually only the last level is missing: it is tried first, and the walk
// goes up only on ENOENT (every mkdir on cgroupfs takes its locks). What it
// makes is recorded for destroy(), except the default paths' shared
// "agentrun/" parent (`keep`).
void CgroupfsManager::mkdir_p(const std::string& dir, bool keep) {
  int err = fs_->make_dir(dir);
  // A few tries: another runtime's cleanup may remove a parent meanwhile.
  for (int attempt = 0; err == ENOENT && attempt < 3; ++attempt) {
    const std::string parent = parent_of(dir);
    if (parent.empty() || parent == dir) throw Failure(Error{"cgroup: mkdir " + dir, "", err});
    mkdir_p(parent, default_path_ && parent.ends_with("/agentrun"));
    err = fs_->make_dir(dir);
  }
  if (err == 0 && !keep) created_.push_back(dir);
  else if (err != 0 && err != EEXIST) throw Failure(Error{"cgroup: mkdir " + dir, "", err});
}

// A v1 cpuset cgroup starts with no cpus and mems, and no task can join it
// until they are set: a level that has none takes its parent's, which takes
// its own parent's first when it has none either, a level someone else made
// meanwhile too (as runc does; on a hybrid host systemd may make a slice's
// directory there). The hierarchy's root always has both. A level just made
// here is known to be empty and is not read.
std::string CgroupfsManager::inherited_cpuset(const std::string& dir, const char* file, bool known_empty) const {
  if (!known_empty)
    if (std::string own = trim(read_req(*fs_, "cpuset", dir, file)); !own.empty()) return own;
  const std::string parent = parent_of(dir);
  const std::optional<std::string> theirs = parent == dir ? std::nullopt : read_opt(*fs_, parent, file);
  if (!theirs) fail("cgroup", dir + "/" + file + " is empty and has no parent cpuset to take it from");
  std::string value = trim(*theirs);
  if (value.empty()) value = inherited_cpuset(parent, file, true);
  write(*fs_, "cpuset", dir, file, value);
  return value;
}

void CgroupfsManager::create() {
  for (const auto& dir : distinct_dirs()) {
    mkdir_p(dir, false);
    if (dir != dir_of("cpuset")) continue;
    const bool made_here = std::find(created_.begin(), created_.end(), dir) != created_.end();
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) inherited_cpuset(dir, file, made_here);
  }
}

// A v2 controller is usable in a cgroup only when its parent enables it in
// cgroup.subtree_control, which the parent can do only when the controller
// is usable there: the walk goes up to the nearest ancestor that has it and
// enables it downwards from there, as runc does.
void CgroupfsManager::enable_controller(const std::string& controller) const {
  if (!unified_controllers_.count(controller))
    fail("cgroup", "controller \"" + controller + "\" is not available on this host (needed by " +
                       resource_field_of(controller) + ")");
  std::vector<std::string> chain;  // nearest first
  for (std::string dir = parent_of(dir_of("")); !listed(read_req(*fs_, "", dir, "cgroup.subtree_control"), controller);
       dir = parent_of(dir)) {
    chain.push_back(dir);
    if (listed(read_opt(*fs_, dir, "cgroup.controllers"), controller)) break;
    if (dir == "/") fail("cgroup", "no ancestor of " + dir_of("") + " has the controller \"" + controller + "\"");
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const int err = fs_->write_file(*it + "/cgroup.subtree_control", "+" + controller);
    if (err == 0) continue;
    fail_errno("cgroup: enable the controller \"" + controller + "\" for " + resource_field_of(controller) +
                   " in " + *it + "/cgroup.subtree_control" +
                   (err == EBUSY ? " (that cgroup holds processes: cgroup v2 lets only a cgroup without "
                                   "processes pass controllers down)"
                                 : ""),
               err);
  }
}

void CgroupfsManager::apply_unified(const spec::Resources& r) const {
  const auto writes = v2_writes(r);
  std::set<std::string> needed;
  for (const auto& w : writes)
    if (!w.controller.empty() && needed.insert(w.controller).second) enable_controller(w.controller);
  const std::string dir = dir_of("");
  for (const auto& w : writes) write(*fs_, w.controller, dir, w.file, w.value);
  if (r.devices.empty()) return;
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) fail_errno("cgroup devices: open " + dir, errno);
  attach_device_filter(fd.get(), device_filter_program(r.devices));
}

void CgroupfsManager::add_process(pid_t pid) const {
  std::set<std::string> done;  // comounted controllers share a directory
  for (const auto& [controller, dir] : dirs_)
    if (done.insert(dir).second) write(*fs_, controller, dir, "cgroup.procs", std::to_string(pid));
}

void CgroupfsManager::join_init(pid_t pid, bool born_in) {
  if (!born_in) add_process(pid);
}

std::vector<pid_t> CgroupfsManager::processes() const {
  std::set<pid_t> pids;
  // A cgroup that is gone holds nothing: systemd removes a scope's once it is empty.
  for (const auto& dir : distinct_dirs()) {
    const std::string procs = read_opt(*fs_, dir, "cgroup.procs").value_or("");
    for (std::string_view w : text_words(procs)) {
      const auto pid = number_of<pid_t>(w);
      if (!pid) break;
      pids.insert(*pid);
    }
  }
  return {pids.begin(), pids.end()};
}

// v1's freezer when it is mounted, else the unified hierarchy's cgroup.freeze.
std::string CgroupfsManager::freezer_dir(bool& v1) const {
  v1 = !dir_of("freezer").empty();
  const std::string dir = v1 ? dir_of("freezer") : dir_of("");
  if (dir.empty()) fail("cgroup", "no freezer: neither a v1 freezer hierarchy nor cgroup v2 is mounted");
  return dir;
}

void CgroupfsManager::freeze() {
  bool v1 = false;
  const std::string dir = freezer_dir(v1);
  // Freezing completes asynchronously; tasks in uninterruptible sleep can
  // delay it. Give up after about a second rather than hang `pause`. v1's
  // state is written again until it reads FROZEN; v2 announces the change
  // in cgroup.events, which poll reports as POLLPRI.
  write(*fs_, "freezer", dir, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "FROZEN" : "1");
  UniqueFd events(v1 ? -1 : ::open((dir + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC));
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  while (!frozen()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      thaw();
      fail("cgroup freezer: freeze " + dir, "the processes did not stop within 1s");
    }
    if (v1) {
      sleep_ms(5);
      write(*fs_, "freezer", dir, "freezer.state", "FROZEN");
      continue;
    }
    pollfd p{events.get(), POLLPRI, 0};
    if (!events || ::poll(&p, 1, static_cast<int>(std::min<long>(left, 100))) < 0) sleep_ms(5);
  }
}

void CgroupfsManager::thaw() {
  bool v1 = false;
  const std::string dir = freezer_dir(v1);
  try {
    write(*fs_, "freezer", dir, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "THAWED" : "0");
  } catch (const Failure& f) {
    // Gone with its processes (systemd removes an empty scope's cgroup at
    // once); ENODEV: removed between the write's open and the write itself.
    const int err = f.error().errnum;
    if ((err == ENOENT || err == ENODEV) && ::access(dir.c_str(), F_OK) != 0) return;
    throw;
  }
}

bool CgroupfsManager::frozen() const {
  bool v1 = false;
  const std::string dir = freezer_dir(v1);
  const auto state = read_opt(*fs_, dir, v1 ? "freezer.state" : "cgroup.freeze");
  if (!state) return false;  // a cgroup that is gone is not frozen
  if (v1) return trim(*state) == "FROZEN";
  return trim(*state) == "1" && value_of(read_opt(*fs_, dir, "cgroup.events"), "frozen") == 1;
}

void CgroupfsManager::signal_all(int signal) {
  const bool was_frozen = frozen();
  try {
    freeze();
  } catch (const Failure& f) {
    // A process stuck in reclaim (at its memory limit) cannot be frozen, but
    // SIGKILL reaches it, and delete kills until the cgroup is empty.
    if (signal != SIGKILL) throw;
    log_message(LogLevel::warning, f.what());
  }
  for (pid_t pid : processes())
    if (::kill(pid, signal) < 0 && errno != ESRCH)
      fail_errno("send signal " + std::to_string(signal) + " to process " + std::to_string(pid), errno);
  // A paused container stays paused, unless it was killed: frozen processes die only when thawed.
  if (!was_frozen || signal == SIGKILL) thaw();
}

std::string CgroupfsManager::stats_json(const std::string& id) const {
  return cgroup_stats_json(*fs_, id, dirs_, dir_of(""));
}

// A leaf is usually empty by now: only when removing it fails are the
// cgroups the container made below it removed first; a leaf still busy with
// exiting processes gets about a second.
// A parent made for a cgroupsPath may hold other containers by now: it stays.
static bool busy_shared_parent(bool leaf, int err) { return !leaf && (err == ENOTEMPTY || err == EBUSY || err == EEXIST); }

void CgroupfsManager::remove_tree(const std::string& dir, bool leaf) const {
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
  if (busy_shared_parent(leaf, err)) return;
  throw Failure(Error{"cgroup: remove " + dir, "", err});
}

bool CgroupfsManager::is_leaf(const std::string& dir) const {
  return std::any_of(dirs_.begin(), dirs_.end(), [&](const auto& e) { return e.second == dir; });
}

bool CgroupfsManager::destroy_if_empty() {
  while (!created_.empty()) {
    const int err = fs_->remove_dir(created_.back());
    if (err != 0 && err != ENOENT && !busy_shared_parent(is_leaf(created_.back()), err)) return false;
    created_.pop_back();
  }
  return true;
}

void CgroupfsManager::destroy() {
  std::optional<Failure> first;
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    try {
      remove_tree(*it, is_leaf(*it));
    } catch (const Failure& f) {
      if (!first) first = f;
    }
  }
  if (first) throw *first;
  created_.clear();
}

void CgroupfsManager::watch_oom() {
  const std::string dir = dir_of("");
  if (!dir.empty()) oom_fd_.reset(::open((dir + "/memory.events").c_str(), O_RDONLY | O_CLOEXEC));
}

void CgroupfsManager::wait_for_oom(int timeout_ms) const {
  if (!oom_fd_) return CgroupManager::wait_for_oom(timeout_ms);
  pollfd p{oom_fd_.get(), static_cast<short>(oom_eventfd_ ? POLLIN : POLLPRI), 0};
  const int n = ::poll(&p, 1, timeout_ms);
  if (n < 0) return CgroupManager::wait_for_oom(timeout_ms);
  if (n == 0 || !oom_eventfd_) return;
  uint64_t count = 0;  // an eventfd stays readable until it is read
  if (::read(oom_fd_.get(), &count, sizeof count) < 0) return CgroupManager::wait_for_oom(timeout_ms);
  // v1 announces an OOM before its kill is counted, and the cgroup's removal
  // signals too: an announcement while the cgroup is there counts, so that
  // an OOM kill that empties a systemd scope (which then goes at once) is
  // reported even when the count can no longer be read.
  if (::access((dir_of("memory") + "/memory.oom_control").c_str(), F_OK) == 0) oom_notices_ += count;
}

void CgroupfsManager::own_leaves() {
  for (const auto& dir : distinct_dirs())
    if (std::find(created_.begin(), created_.end(), dir) == created_.end()) created_.push_back(dir);
}

std::string CgroupfsManager::to_json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  spec::write_string(w, "driver", "cgroupfs");
  spec::write_string(w, "mode", cgroup_mode_name(mode_));
  spec::write_string_map(w, "dirs", dirs_);
  spec::write_string_list(w, "created", created_);
  spec::write_string_list(w, "unifiedControllers", unified_controllers_);
  w.EndObject();
  return buf.GetString();
}

std::unique_ptr<CgroupfsManager> CgroupfsManager::from_json(const std::string& json, std::shared_ptr<CgroupFs> fs) {
  const spec::JsonDocument doc(json, "state: cgroup");
  const spec::JsonNode root = doc.root();
  const std::string m = root.at("mode").str();
  std::unique_ptr<CgroupfsManager> cg;
  if (m == "v1" || m == "hybrid") cg = std::make_unique<CgroupfsV1>();
  else if (m == "v2") cg = std::make_unique<CgroupfsV2>();
  else root.at("mode").fail("not v1, hybrid or v2");
  cg->mode_ = m == "v1" ? CgroupMode::v1 : m == "hybrid" ? CgroupMode::hybrid : CgroupMode::v2;
  cg->fs_ = std::move(fs);
  cg->dirs_ = root.at("dirs").string_map();
  cg->created_ = root.at("created").strings();
  for (auto& c : root.at("unifiedControllers").strings()) cg->unified_controllers_.insert(c);
  return cg;
}

}  // namespace agentrun
