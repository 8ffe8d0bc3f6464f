#pragma once
// A container's cgroups behind one interface, whichever driver keeps them:
// cgroupfs on a v1 or hybrid host, cgroupfs on cgroup v2, or systemd (a
// transient scope, runc's --systemd-cgroup). `create` plans, creates and
// limits them and puts the init in; the other commands load them from the
// container's state. Errors throw Failure naming the controller or unit, the
// file, the value and the errno.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/cgroup/layout.hpp"
#include "spec/config.hpp"

namespace agentrun {

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;

  // "cgroupfs" or "systemd".
  virtual const char* driver() const = 0;

  // Before the init exists: the directories that can be made now.
  virtual void create() = 0;
  // Whether create() and apply() wait until the init is cloned: it is not
  // born into the cgroups (v1), and making them, 9 hierarchies on a v1
  // host, overlaps the init's start and its network namespace.
  virtual bool made_while_init_starts() const { return false; }
  // linux.resources, before the init exists (systemd: given to the scope
  // when it starts) or for `update` (then through systemd as well).
  virtual void apply(const spec::Resources& r) = 0;
  virtual void update(const spec::Resources& r) = 0;
  // A cgroup2 directory the init can be cloned into (CLONE_INTO_CGROUP), or -1.
  virtual int birth_dir_fd() const { return -1; }
  // Puts the container's init in its cgroups; `born_in` says it was cloned
  // into birth_dir_fd() (systemd: starts the scope holding it).
  virtual void join_init(pid_t pid, bool born_in) = 0;
  // Puts a process `exec` started in the container's cgroups.
  virtual void add_process(pid_t pid) const = 0;
  // A directory of a hierarchy that only accounts, to warm up
  // (warm_up.hpp), or "": the caller's own cgroup there where known (the
  // warm-up's child is in it already: its join moves nothing, and it
  // exists before the container's), else the container's.
  virtual std::string accounting_only_dir() const { return ""; }

  virtual std::vector<pid_t> processes() const = 0;  // sorted, every hierarchy
  virtual void freeze() = 0;
  virtual void thaw() = 0;
  virtual bool frozen() const = 0;
  // Sends `signal` to every process, frozen meanwhile so that none can fork
  // away from it (runc's behaviour); SIGKILL through cgroup.kill on v2.
  virtual void signal_all(int signal) = 0;

  virtual std::string stats_json(const std::string& id) const = 0;  // one `events --stats` record
  virtual uint64_t oom_kill_count() const = 0;
  // Asks the kernel to announce OOM kills (v2: memory.events; v1: an
  // eventfd on memory.oom_control), so that wait_for_oom wakes at once: an
  // OOM kill that empties a systemd scope removes its cgroup moments later,
  // and with it the count (v2: oom_kills.hpp).
  virtual void watch_oom() {}
  // Returns after `timeout_ms`, or earlier when an OOM kill may have happened.
  virtual void wait_for_oom(int timeout_ms) const;

  // Removes what create() and join_init() made (systemd: stops the unit),
  // and cgroups the container made below them.
  virtual void destroy() = 0;
  // What destroy() does, where that alone shows the cgroups held no process
  // (a cgroup with one cannot be removed), and true; false, leaving the rest
  // to destroy(), as soon as one holds a process or cannot tell.
  virtual bool destroy_if_empty() { return false; }
  // From now on destroy() also removes the container's leaf directories that
  // no record says were made (a create killed while making them), as runc
  // removes a container's cgroup paths whoever made them.
  virtual void own_leaves() = 0;
  // What the container's state keeps: load_cgroups() reads it back.
  virtual std::string to_json() const = 0;
};

struct CgroupRequest {
  CgroupLayout layout;
  std::map<std::string, std::string> own;  // parse_proc_cgroup of the caller
  std::string cgroups_path;                // linux.cgroupsPath
  std::string id;
  bool systemd = false;                          // --systemd-cgroup
  std::map<std::string, std::string> annotations;  // org.systemd.property.* for systemd
  std::string cache_dir;  // where facts about the host may be kept between runs (the state root)
};

// Makes a container's CgroupManager: a new one for `create`, or the one a
// container's state describes (CgroupManager::to_json). main hands the
// host's drivers (drivers.hpp) to the commands: the container wing sees only
// this interface.
class CgroupDrivers {
 public:
  virtual ~CgroupDrivers() = default;
  virtual std::unique_ptr<CgroupManager> plan(const CgroupRequest& request) const = 0;
  virtual std::unique_ptr<CgroupManager> load(const std::string& json) const = 0;
};

}  // namespace agentrun
