#pragma once
// The cgroupfs drivers: the container's directory in each hierarchy, made
// and removed by the runtime itself. CgroupfsV1 serves v1 and hybrid hosts
// (one hierarchy per controller, name=systemd included as runc does, and in
// hybrid mode the unified one for what v1 does not mount); CgroupfsV2 the
// unified hierarchy alone. The systemd driver uses them for the files of
// its scope.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "runtime/cgroup/cgroup_fs.hpp"
#include "runtime/cgroup/manager.hpp"
#include "runtime/cgroup/oom_kills.hpp"
#include "runtime/util/fd.hpp"

namespace agentrun {

class CgroupfsManager : public CgroupManager {
 public:
  // The container's directories for linux.cgroupsPath `cgroups_path`
  // (path.hpp); `own` is parse_proc_cgroup of the caller.
  static std::unique_ptr<CgroupfsManager> plan(const CgroupLayout& layout,
                                               const std::map<std::string, std::string>& own,
                                               const std::string& cgroups_path, const std::string& id,
                                               std::shared_ptr<CgroupFs> fs);
  static std::unique_ptr<CgroupfsManager> from_json(const std::string& json, std::shared_ptr<CgroupFs> fs);

  const char* driver() const override { return "cgroupfs"; }
  // mkdir -p in every hierarchy, remembering the directories made here.
  void create() override;
  void update(const spec::Resources& r) override { apply(r); }
  void join_init(pid_t pid, bool born_in) override;
  void add_process(pid_t pid) const override;
  std::vector<pid_t> processes() const override;
  void freeze() override;
  void thaw() override;
  bool frozen() const override;
  void signal_all(int signal) override;
  std::string stats_json(const std::string& id) const override;
  void watch_oom() override;
  void wait_for_oom(int timeout_ms) const override;
  void destroy() override;
  bool destroy_if_empty() override;
  std::string to_json() const override;
  void own_leaves() override;

  CgroupMode mode() const { return mode_; }
  // controller ("memory", "name=systemd"; "" for the unified hierarchy) -> directory
  const std::map<std::string, std::string>& dirs() const { return dirs_; }
  const std::vector<std::string>& created() const { return created_; }

 protected:
  std::string dir_of(const std::string& controller) const;  // "" if not mounted
  // linux.resources for the unified hierarchy: controllers enabled, files
  // written, the device filter attached.
  void apply_unified(const spec::Resources& r) const;
  // Makes `controller` usable in the unified directory, enabling it in
  // cgroup.subtree_control from the nearest ancestor that has it.
  void enable_controller(const std::string& controller) const;

  CgroupMode mode_ = CgroupMode::v2;
  std::map<std::string, std::string> dirs_;
  std::map<std::string, std::string> own_dirs_;  // v1: the caller's cgroups, when planned
  std::set<std::string> unified_controllers_;
  std::vector<std::string> created_;  // in creation order
  // Without a linux.cgroupsPath the container's cgroups are <own>/agentrun/ID.
  // That agentrun/ is shared and stays, as docker's docker/ does: making and
  // removing it with every container cost a start about 0.6 ms (bench/run)
  // on a v1 host, and an administrator's limits on it would go with it.
  bool default_path_ = false;
  // The OOM announcements watch_oom() asked for: v2's memory.events (poll
  // says POLLPRI), or an eventfd the kernel signals (v1).
  UniqueFd oom_fd_;
  bool oom_eventfd_ = false;
  mutable uint64_t oom_notices_ = 0;  // v1's OOM announcements (wait_for_oom)
  std::shared_ptr<CgroupFs> fs_;

 private:
  std::vector<std::string> distinct_dirs() const;
  void mkdir_p(const std::string& dir, bool keep);
  std::string inherited_cpuset(const std::string& dir, const char* file, bool known_empty) const;
  std::string freezer_dir(bool& v1) const;
  void remove_tree(const std::string& dir, bool leaf) const;
  bool is_leaf(const std::string& dir) const;
};

class CgroupfsV1 final : public CgroupfsManager {
 public:
  bool made_while_init_starts() const override { return true; }
  void apply(const spec::Resources& r) override;
  std::string accounting_only_dir() const override;
  uint64_t oom_kill_count() const override;
  void watch_oom() override;

 private:
  void apply_v1(const spec::Resources& r) const;

  mutable uint64_t last_oom_kills_ = 0;  // the count once the cgroup is gone
};

class CgroupfsV2 final : public CgroupfsManager {
 public:
  void create() override;
  void apply(const spec::Resources& r) override { apply_unified(r); }
  int birth_dir_fd() const override { return dir_fd_.get(); }
  void signal_all(int signal) override;
  // memory.events of the directory and of its parent (oom_kills.hpp).
  void watch_oom() override;
  uint64_t oom_kill_count() const override;
  void wait_for_oom(int timeout_ms) const override;

 private:
  UniqueFd dir_fd_;  // the container's directory, for CLONE_INTO_CGROUP
  UniqueFd parent_events_fd_;
  mutable OomKills oom_kills_;
};

}  // namespace agentrun
