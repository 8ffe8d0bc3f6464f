#include "runtime/cgroup/host_layout.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "runtime/util/file_io.hpp"
#include "runtime/util/text_lines.hpp"
#include "spec/error.hpp"

namespace agentrun {
namespace {

// Super options of a v1 mount also carry flags ("rw", "noprefix",
// "release_agent=..."): only these names are controllers.
const std::set<std::string>& v1_controller_names() {
  static const std::set<std::string> names = {"cpu",     "cpuacct", "cpuset",     "memory",  "devices",
                                              "freezer", "blkio",   "pids",       "net_cls", "net_prio",
                                              "hugetlb", "rdma",    "perf_event", "misc"};
  return names;
}

void add_v1_mount(CgroupLayout& layout, const MountInfo& m, bool prefer) {
  for (std::string_view field : text_fields(m.super_options, ',')) {
    const std::string opt(field);
    const bool named = opt.rfind("name=", 0) == 0;
    if (!named && !v1_controller_names().count(opt)) continue;
    // A hierarchy may be mounted several times (bind mounts of subtrees):
    // the mount of its root shows every cgroup, so it wins.
    if (prefer || !layout.v1.count(opt)) layout.v1[opt] = m.mount_point;
  }
}

}  // namespace

CgroupLayout parse_cgroup_layout(const std::vector<MountInfo>& mounts, const std::string& unified_controllers_text) {
  CgroupLayout layout;
  std::set<std::string> rooted;  // mount points of hierarchy roots seen
  bool unified_rooted = false;
  for (const auto& m : mounts) {
    const bool root = m.root == "/";
    if (m.fstype == "cgroup") {
      add_v1_mount(layout, m, root && !rooted.count(m.mount_point));
      if (root) rooted.insert(m.mount_point);
    } else if (m.fstype == "cgroup2" && (layout.unified.empty() || (root && !unified_rooted))) {
      layout.unified = m.mount_point;
      unified_rooted = root;
    }
  }
  if (layout.v1.empty() && layout.unified.empty()) fail("cgroup", "no cgroup file system is mounted");
  for (std::string_view c : text_words(unified_controllers_text)) layout.unified_controllers.emplace(c);
  layout.mode = layout.v1.empty() ? CgroupMode::v2 : layout.unified.empty() ? CgroupMode::v1 : CgroupMode::hybrid;
  return layout;
}

std::string v2_delegation_gap(const std::string& root, const std::string& dir, const std::string& controller) {
  const auto has = [&](const std::string& d, const char* file) {
    auto text = read_whole_file(AT_FDCWD, d + "/" + file);
    if (!text) return false;
    for (std::string_view c : text_words(*text))
      if (c == controller) return true;
    return false;
  };
  for (std::string d = dir;; d = d.substr(0, d.rfind('/'))) {
    if (has(d, "cgroup.subtree_control")) return "";
    auto procs = read_whole_file(AT_FDCWD, d + "/cgroup.procs");
    if (d != root && (!procs || procs->find_first_not_of(" \n") != std::string::npos))
      return "cgroup v2 cannot enable it in " + d + "/cgroup.subtree_control: that cgroup holds processes";
    if (d == root || has(d, "cgroup.controllers")) return "";
    if (d.size() <= root.size()) return "no ancestor of " + dir + " has it";
  }
}

bool in_unified_hierarchy_only(const std::string& text) {
  return text.starts_with("0::") && text.find('\n') + 1 == text.size();
}

namespace {

// /sys/fs/cgroup as mountinfo would list it, where it is the root of the
// one cgroup2 hierarchy: only the root cgroup has no cgroup.type (in a
// cgroup namespace its root is another cgroup, and mountinfo is read).
std::optional<MountInfo> usual_unified_mount() {
  auto own = read_whole_file(AT_FDCWD, "/proc/self/cgroup");
  if (!own || !in_unified_hierarchy_only(*own)) return std::nullopt;
  struct statfs st {};
  if (::statfs("/sys/fs/cgroup", &st) != 0 || st.f_type != CGROUP2_SUPER_MAGIC) return std::nullopt;
  if (::faccessat(AT_FDCWD, "/sys/fs/cgroup/cgroup.type", F_OK, 0) == 0 || errno != ENOENT) return std::nullopt;
  return MountInfo{0, 0, "/", "/sys/fs/cgroup", "cgroup2", "cgroup2", "rw"};
}

}  // namespace

CgroupLayout detect_cgroup_layout(std::vector<MountInfo>* cgroup_mounts) {
  auto usual = usual_unified_mount();
  auto mounts = usual ? std::vector<MountInfo>{*usual} : read_mountinfo();
  if (mounts.empty()) fail("cgroup", "cannot read /proc/self/mountinfo");
  auto layout = parse_cgroup_layout(mounts, "");
  if (!layout.unified.empty()) {
    auto text = read_whole_file(AT_FDCWD, layout.unified + "/cgroup.controllers");
    if (!text) throw Failure(std::move(text).error());
    layout = parse_cgroup_layout(mounts, *text);
  }
  if (cgroup_mounts)
    for (auto& m : mounts)
      if (m.fstype == "cgroup" || m.fstype == "cgroup2") cgroup_mounts->push_back(std::move(m));
  return layout;
}

void mark_blocked_controllers(CgroupLayout& layout) {
  if (layout.mode != CgroupMode::v2) return;
  auto own = read_whole_file(AT_FDCWD, "/proc/self/cgroup");
  if (!own) throw Failure(std::move(own).error());
  std::string path = parse_proc_cgroup(*own)[""];
  path = path.substr(0, path.rfind('/'));  // beside the caller's cgroup
  for (const auto& c : layout.unified_controllers)
    if (auto gap = v2_delegation_gap(layout.unified, layout.unified + path, c); !gap.empty())
      layout.unified_blocked[c] = gap;
}

std::map<std::string, std::string> parse_proc_cgroup(const std::string& text) {
  std::map<std::string, std::string> out;
  for (std::string_view line : text_lines(text)) {
    const auto a = line.find(':');
    const auto b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(a + 1, b - a - 1);
    const std::string path(line.substr(b + 1));
    if (controllers.empty()) {
      out[""] = path;
      continue;
    }
    for (std::string_view c : text_fields(controllers, ',')) out[std::string(c)] = path;
  }
  return out;
}

}  // namespace agentrun
