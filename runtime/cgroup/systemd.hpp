#pragma once
// The systemd driver (--systemd-cgroup), with runc's semantics: the
// container's init goes into a transient scope that systemd starts
// (Delegate=yes, in the slice of linux.cgroupsPath "slice:prefix:name"),
// with the limits as unit properties; the same limits, and what systemd
// cannot express, are written to the scope's cgroup files by the cgroupfs
// driver of the host's layout, which also makes and joins the directories
// of v1 hierarchies systemd does not manage. `update` goes through
// SetUnitProperties and the files; `delete` stops the unit.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cgroup/cgroupfs.hpp"
#include "runtime/cgroup/systemd_properties.hpp"
#include "runtime/cgroup/systemd_unit.hpp"

namespace agentrun {

class SystemdCgroup final : public CgroupManager {
 public:
  // No effects; a malformed cgroupsPath or org.systemd.property.*
  // annotation throws Failure naming it.
  static std::unique_ptr<SystemdCgroup> plan(const CgroupRequest& request, std::shared_ptr<CgroupFs> fs);
  static std::unique_ptr<SystemdCgroup> from_json(const std::string& json, std::shared_ptr<CgroupFs> fs);

  const char* driver() const override { return "systemd"; }
  // Learns systemd's version (which properties it knows): from the cache
  // when it was asked during this boot, else from systemd, where no system
  // bus or no systemd fails before the init exists.
  void create() override;
  void apply(const spec::Resources& r) override;
  void update(const spec::Resources& r) override;
  void join_init(pid_t pid, bool born_in) override;
  void add_process(pid_t pid) const override { files_->add_process(pid); }
  std::string accounting_only_dir() const override { return ""; }

  std::vector<pid_t> processes() const override { return files_->processes(); }
  void freeze() override { files_->freeze(); }
  void thaw() override { files_->thaw(); }
  bool frozen() const override { return files_->frozen(); }
  void signal_all(int signal) override { files_->signal_all(signal); }
  std::string stats_json(const std::string& id) const override { return files_->stats_json(id); }
  uint64_t oom_kill_count() const override { return files_->oom_kill_count(); }
  void watch_oom() override { files_->watch_oom(); }
  void wait_for_oom(int timeout_ms) const override { files_->wait_for_oom(timeout_ms); }

  void destroy() override;
  void own_leaves() override { files_->own_leaves(); }
  std::string to_json() const override;

  const SystemdUnit& unit() const { return unit_; }
  const CgroupfsManager& files() const { return *files_; }

 private:
  std::vector<UnitProperty> properties_for(spec::Resources& r) const;

  SystemdUnit unit_;
  std::string description_;
  std::string cache_dir_;
  CgroupMode mode_ = CgroupMode::v2;
  std::unique_ptr<CgroupfsManager> files_;  // the scope's directories in every hierarchy
  std::vector<UnitProperty> annotations_;   // org.systemd.property.*
  std::optional<spec::Resources> resources_;  // until the scope starts
  int systemd_version_ = -1;
  // Whether the unit is this container's to stop: not when starting it
  // failed (the name may be another's: UnitExists), yes once it started or
  // when the state says so (a create killed meanwhile may have started it).
  bool unit_ours_ = false;
};

}  // namespace agentrun
