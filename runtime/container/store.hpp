#pragma once
// The state root (--root, default /run/agentrun): one directory per
// container, holding
//   state.json   what `create` recorded (pid, start time, bundle, ...)
//   config.json  the config the container was created from (hooks for
//                start and delete come from here, not from a bundle that
//                may have changed since)
//   policy.json  the policy it was created with (the ceilings of `update`)
//   plan.json    what create decided for the processes of `exec`
//                (stored_plan.hpp)
//   isolation.json  what `inspect` prints
//   start.sock   present while the container is created and not started
// and, each in a file of its own, what create acquired, recorded as it
// acquires it, so that `delete` finds and frees it whatever became of
// state.json (a create killed before writing it, a file removed, cut
// short, corrupted, or another container's):
//   cgroups.json where its cgroups go: written before any is made, again
//                once they are (which of them it made)
//   init.json    the init's pid and start time, written before the init
//                goes past its first step
// A directory without state.json is a container being created, or whose
// create died.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/cgroup/manager.hpp"
#include "runtime/util/fd.hpp"
#include "spec/error.hpp"

namespace agentrun {

struct ContainerRecord {
  std::string id;
  std::string oci_version;
  std::string bundle;
  std::string rootfs;
  pid_t pid = 0;
  uint64_t start_time = 0;  // of pid, to recognise it after pid reuse
  bool own_pid_namespace = false;
  std::string created;  // RFC 3339
  std::string owner;
  std::map<std::string, std::string> annotations;
  std::string cgroup;  // Cgroup::to_json(): where its cgroups are and which of them it created
};

// What create acquired (init.json, cgroups.json).
struct Acquired {
  pid_t pid = 0;  // 0: no init recorded
  uint64_t start_time = 0;
  std::string cgroup;  // CgroupManager::to_json(), "" when none is recorded
  std::vector<Error> unreadable;  // each record that exists but cannot be read
};

enum class ContainerStatus { creating, created, running, paused, stopped };
const char* status_name(ContainerStatus s);

// Container ids as runc accepts them: letters, digits, "_", "+", "-", "."
// — except a leading ".", which names the runtime's own entries in the
// state root — at most 1024 bytes. Throws Failure otherwise.
void check_container_id(const std::string& id);

// An exclusive flock on a container directory, held for the object's life.
class ContainerLock {
 public:
  explicit ContainerLock(UniqueFd dir) : dir_(std::move(dir)) {}
  int dir_fd() const { return dir_.get(); }

 private:
  UniqueFd dir_;
};

class Store {
 public:
  explicit Store(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }

  // Creates the container's directory (and the root); fails if the id is taken.
  ContainerLock create(const std::string& id) const;
  // Fails with `container "<id>" does not exist`.
  ContainerLock lock(const std::string& id) const;
  bool exists(const std::string& id) const;

  // state.json, which must name this container and agree with what it
  // acquired (init.json, cgroups.json): a replaced file is refused, naming
  // the difference. Without state.json, a record of a container being created.
  ContainerRecord load(const std::string& id) const;
  void save(const ContainerLock& lock, const ContainerRecord& record) const;
  void record_init(const ContainerLock& lock, const std::string& id, pid_t pid, uint64_t start_time) const;
  // A process of the container's as init.json records one (guard.json).
  void record_process(const ContainerLock& lock, const std::string& id, const std::string& name, pid_t pid,
                      uint64_t start_time) const;
  void record_cgroups(const ContainerLock& lock, const std::string& id, const std::string& cgroup_json) const;
  Acquired acquired(const std::string& id) const;
  // A file of the container's (config.json, policy.json, isolation.json), written atomically.
  void save_file(const ContainerLock& lock, const std::string& id, const std::string& name, const std::string& text) const;
  std::string config_path(const std::string& id) const { return dir(id) + "/config.json"; }
  std::string file_path(const std::string& id, const std::string& name) const { return dir(id) + "/" + name; }
  std::string start_socket(const std::string& id) const { return dir(id) + "/start.sock"; }

  // `cgroup`: the container's cgroups (load_cgroups(r.cgroup)), asked
  // whether they are frozen; null for a container that has none.
  ContainerStatus status(const ContainerRecord& r, const CgroupManager* cgroup) const;
  void remove(const std::string& id) const;
  std::vector<std::string> ids() const;

 private:
  // Creates the root (and its missing parents), mode 0700.
  void ensure_root() const;
  std::string root_;
};

// A pidfd for the process, only if `pid` still names the one that started
// at `start_time`; for the container's init, open_init.
UniqueFd open_process(pid_t pid, uint64_t start_time);
UniqueFd open_init(const ContainerRecord& r);

std::string record_json(const ContainerRecord& r);
ContainerRecord parse_record(const std::string& text, const std::string& file);

}  // namespace agentrun
