#pragma once
// One container's cgroups, in every hierarchy of the host: created and
// limited by `create`, joined by the init and by `exec`, frozen by `pause`,
// read by `events --stats` and `ps`, removed by `delete`. Errors throw
// Failure naming the controller, the file, the value and the errno.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "runtime/cgroup_layout.hpp"
#include "spec/config.hpp"

namespace agentrun {

// Directory creation and removal, the two operations where cgroupfs differs
// from a plain file system (mkdir populates the interface files, rmdir
// removes a directory that still shows them). Tests substitute an imitation.
class CgroupFs {
 public:
  virtual ~CgroupFs() = default;
  virtual int make_dir(const std::string& path);    // 0 or an errno
  virtual int remove_dir(const std::string& path);  // 0 or an errno
};

class Cgroup {
 public:
  // The container's directory in each hierarchy (name=systemd included,
  // as runc does; in hybrid mode the unified one too). `own_cgroups` is
  // parse_proc_cgroup of the caller.
  static Cgroup plan(const CgroupLayout& layout, const std::map<std::string, std::string>& own_cgroups,
                     const std::string& cgroups_path, const std::string& id,
                     std::shared_ptr<CgroupFs> fs = nullptr);

  // mkdir -p in every hierarchy, remembering the directories made here.
  void create();
  // Writes linux.resources (and, on v2, attaches the device filter).
  void apply(const spec::Resources& r);
  void add_process(pid_t pid) const;
  // The container's directory in a hierarchy that only accounts and cannot
  // limit a process (name=systemd, cpuacct, perf_event, net_cls, net_prio;
  // one not shared with a controller that limits), or "" (cgroup v2).
  std::string accounting_only_dir() const;
  std::vector<pid_t> processes() const;  // sorted, every hierarchy

  void freeze();
  void thaw();
  bool frozen() const;

  // One `runc events --stats` record.
  std::string stats_json(const std::string& id) const;
  uint64_t oom_kill_count() const;

  // Removes the directories create() made (and cgroups the container made
  // under them), deepest first.
  void destroy();

  std::string to_json() const;
  static Cgroup from_json(const std::string& json, std::shared_ptr<CgroupFs> fs = nullptr);

  CgroupMode mode() const { return mode_; }
  // controller ("memory", "name=systemd"; "" for the unified hierarchy) -> directory
  const std::map<std::string, std::string>& dirs() const { return dirs_; }
  const std::vector<std::string>& created() const { return created_; }

 private:
  std::vector<std::string> distinct_dirs() const;
  std::string dir_of(const std::string& controller) const;  // "" if not in a v1 hierarchy
  void write(const std::string& controller, const std::string& dir, const std::string& file,
             const std::string& value) const;
  void mkdir_p(const std::string& dir);
  void inherit_cpuset(const std::string& dir) const;
  void enable_controller(const std::string& controller) const;
  void apply_v1(const spec::Resources& r) const;
  void apply_v2(const spec::Resources& r) const;
  std::string freezer_dir(bool& v1) const;
  void remove_tree(const std::string& dir, bool leaf) const;

  CgroupMode mode_ = CgroupMode::v2;
  std::map<std::string, std::string> dirs_;
  std::set<std::string> unified_controllers_;
  std::vector<std::string> created_;  // in creation order
  std::shared_ptr<CgroupFs> fs_;
};

}  // namespace agentrun
