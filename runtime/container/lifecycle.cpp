#include "runtime/container/egress_guard.hpp"
#include "runtime/container/lifecycle.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "hooks/hooks.hpp"
#include "runtime/container/seccomp_listener.hpp"
#include "runtime/init/sync.hpp"
#include "runtime/policy/parse_policy.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/log.hpp"
#include "runtime/util/unix_socket.hpp"
#include "spec/json_reader.hpp"
#include "spec/parse_config.hpp"
#include "spec/state.hpp"

namespace agentrun {
namespace {

std::string hook_state(const ContainerRecord& r, const char* status, pid_t pid) {
  return spec::state_json({r.oci_version, r.id, status, pid, r.bundle, r.annotations});
}

void signal_pidfd(int pidfd, int signal, const std::string& step) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0) < 0 && errno != ESRCH)
    fail_errno(step, errno);
}

void signal_all(const CgroupDrivers& cgroups, const ContainerRecord& r, int signal) {
  if (!r.cgroup.empty()) cgroups.load(r.cgroup)->signal_all(signal);
}

// The init is not our child: wait on its pidfd, which becomes readable when it exits.
void wait_for_exit(int pidfd, const std::string& id) {
  pollfd p{pidfd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 10000);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) fail_errno("wait for container " + id + " to exit", errno);
  if (rc == 0) fail("wait for container " + id + " to exit", "still running 10 seconds after SIGKILL");
}

// A killed process leaves its cgroup only once it has exited, which one held
// up in reclaim (a container at its memory limit) may take a while to do:
// until then the cgroup cannot be removed.
void wait_until_empty(const CgroupManager& cgroup, const std::string& id) {
  for (int waited_ms = 0; waited_ms < 10000; waited_ms += 10) {
    const std::vector<pid_t> left = cgroup.processes();
    if (left.empty()) return;
    // Those that forked while the cgroup could not be frozen are killed too.
    for (pid_t pid : left)
      if (::kill(pid, SIGKILL) < 0 && errno != ESRCH) fail_errno("kill process " + std::to_string(pid), errno);
    ::usleep(10000);
  }
  fail("wait for container " + id + " to exit", "processes remain in its cgroup 10 seconds after SIGKILL");
}

void kill_and_wait(const CgroupDrivers& cgroups, const ContainerRecord& r) {
  UniqueFd init = open_init(r);
  if (!init) return;
  // With a pid namespace of its own the kernel kills the rest with the init.
  if (!r.own_pid_namespace) signal_all(cgroups, r, SIGKILL);
  signal_pidfd(init.get(), SIGKILL, "kill container " + r.id);
  // A paused container's processes die only when thawed.
  std::unique_ptr<CgroupManager> cgroup;
  if (!r.cgroup.empty()) cgroup = cgroups.load(r.cgroup);
  if (cgroup) cgroup->thaw();
  wait_for_exit(init.get(), r.id);
  if (cgroup) wait_until_empty(*cgroup, r.id);
}

// The spec makes poststart and poststop failures warnings.
void run_hooks_warning(const std::vector<spec::Hook>& hooks, const std::string& kind, const std::string& state) {
  for (const Error& e : run_every_hook(hooks, kind, state)) log_message(LogLevel::warning, e.message());
}

// The config `known` holds (as create applied it), else the stored
// config.json, parsed into `read`.
const spec::Config& config_of(const Store& store, const std::string& id, const KnownContainer* known,
                              std::optional<spec::Config>& read) {
  if (known) return known->config;
  return read.emplace(stored_config(store, id));
}

void run_poststop_hooks(const Store& store, const ContainerRecord& r, const KnownContainer* known) {
  // The container is gone either way.
  try {
    std::optional<spec::Config> read;
    run_hooks_warning(config_of(store, r.id, known, read).hooks.poststop, "poststop", hook_state(r, "stopped", 0));
  } catch (const Failure& f) {
    log_message(LogLevel::warning, f.what());
  }
}

// The init has loaded a filter that notifies: a container whose listener
// never got the fd would run without its supervisor, so it is stopped.
void hand_off_listener(const CgroupDrivers& cgroups, const ContainerRecord& r, const spec::Config& config, int fd) {
  if (!config.linux.seccomp) fail("start container " + r.id, "its init sent a seccomp notify fd it has no listener for");
  const spec::Seccomp& s = *config.linux.seccomp;
  try {
    forward_seccomp_listener({s.listenerPath, s.listenerMetadata, r.oci_version, hook_state(r, "created", r.pid), r.pid}, fd);
  } catch (const Failure&) {
    // Stopped before `start` returns, so that its failure reads as stopped.
    kill_and_wait(cgroups, r);
    throw;
  }
}

}  // namespace

spec::Config stored_config(const Store& store, const std::string& id) {
  const std::string path = store.config_path(id);
  return spec::parse_config(read_input_file(path, "the container's stored"), path);
}

policy::Policy stored_policy(const Store& store, const std::string& id) {
  return policy::parse_policy(read_input_file(store.file_path(id, "policy.json"), "the container's policy"),
                              "policy of container " + id);
}

void start_created_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id,
                             const KnownContainer* created) {
  ContainerLock lock = store.lock(id);
  // Just created by this process (run): the start socket decides, since a
  // container started or deleted meanwhile has none.
  const ContainerRecord r = created ? created->record : store.load(id);
  if (!created) switch (container_status(store, cgroups, r)) {
      case ContainerStatus::created: break;
      case ContainerStatus::running:
      case ContainerStatus::paused: fail("start container " + id, "it is already running");
      case ContainerStatus::stopped: fail("start container " + id, "it has stopped");
      case ContainerStatus::creating: fail("start container " + id, "it is still being created");
    }
  const std::string sock = store.start_socket(id);
  SyncChannel conn(connect_unix(sock, SOCK_SEQPACKET, "connect to the container's init"));
  // Once asked, a container is started or failed: it never reads as created again.
  if (::unlink(sock.c_str()) < 0) fail_errno("remove " + sock, errno);
  conn.send(MsgType::start).or_throw();
  std::optional<spec::Config> read;
  const spec::Config& config = config_of(store, id, created, read);
  for (;;) {
    auto reply = conn.receive();
    // The connection closes on a successful exec (it is close-on-exec).
    if (!reply && reply.error().errnum == EPIPE) break;
    if (!reply) throw Failure(reply.error());
    if (reply->type == MsgType::error) throw Failure(reply->error);
    if (reply->type != MsgType::seccomp_listener || !reply->fd) fail("start container " + id, "unexpected message from its init");
    hand_off_listener(cgroups, r, config, reply->fd.get());
  }

  run_hooks_warning(config.hooks.poststart, "poststart", hook_state(r, "running", r.pid));
}

void kill_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id, int signal, bool all) {
  ContainerRecord r = store.load(id);
  ContainerStatus status = container_status(store, cgroups, r);
  if (status == ContainerStatus::stopped || status == ContainerStatus::creating)
    fail("kill container " + id, "container not running");
  UniqueFd init = open_init(r);
  if (!init) fail("kill container " + id, "container not running");
  const std::string step = "send signal " + std::to_string(signal) + " to container " + id;
  if (all) signal_all(cgroups, r, signal);
  signal_pidfd(init.get(), signal, step);
}

namespace {

// What delete frees: what state.json says when it can be read and agrees
// with the records of what create acquired; else those records alone.
struct Found {
  ContainerRecord record;
  ContainerStatus status = ContainerStatus::stopped;
  bool from_state = false;
  std::string broken;  // why state.json was refused ("" if it was used, or is missing)
  std::vector<std::string> unknown;  // what delete cannot tell, and why
};

Found find_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id) {
  Found f;
  try {
    f.record = store.load(id);
    f.status = container_status(store, cgroups, f.record);
    f.from_state = f.status != ContainerStatus::creating;
    if (f.from_state) return f;
  } catch (const Failure& e) {
    f.broken = e.what();
  }
  // Being created, or its state.json removed, cut short, corrupt or another
  // container's: the records say what it holds.
  const Acquired a = store.acquired(id);
  for (const Error& e : a.unreadable) f.unknown.push_back(e.message());
  const bool state_exists = !f.broken.empty();
  if (state_exists && a.pid == 0 && a.cgroup.empty() && a.unreadable.empty())
    f.unknown.push_back(f.broken + " (and no record says what the container holds)");
  f.record = ContainerRecord{};
  f.record.id = id;
  f.record.pid = a.pid;
  f.record.start_time = a.start_time;
  f.record.cgroup = a.cgroup;
  // Only a pid whose start time matches is the init: open_init checks it.
  const bool init_alive = static_cast<bool>(open_init(f.record));
  f.status = !state_exists ? ContainerStatus::creating : init_alive ? ContainerStatus::running : ContainerStatus::stopped;
  return f;
}

// Kills what runs in the container's cgroups (runc's delete kills the
// cgroup's processes too: a container without a pid namespace of its own
// may leave some after its init) and removes them.
void free_cgroups(CgroupManager& cgroup, const std::string& id, bool create_died) {
  // It may have died before recording every cgroup it made: its leaves go by name.
  if (create_died) cgroup.own_leaves();
  // Usually they are empty by now, which removing them shows.
  if (cgroup.destroy_if_empty()) return;
  if (cgroup.frozen()) cgroup.thaw();  // frozen processes die only when thawed
  wait_until_empty(cgroup, id);
  cgroup.destroy();
}

}  // namespace

void delete_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id, bool force,
                      const KnownContainer* reaped) {
  check_container_id(id);
  if (!store.exists(id)) {
    if (force) return;
    fail("container \"" + id + "\"", "does not exist");
  }
  ContainerLock lock = store.lock(id);
  // A container whose init this process reaped (run) is known, and stopped.
  Found found =
      reaped ? Found{reaped->record, ContainerStatus::stopped, true, {}, {}} : find_container(store, cgroups, id);
  const ContainerRecord& r = found.record;
  const ContainerStatus status = found.status;
  if ((status == ContainerStatus::running || status == ContainerStatus::paused) && !force)
    fail("delete container " + id, std::string("it is ") + status_name(status) + " (stop it first, or use --force)" +
                                       (found.broken.empty() ? "" : "; " + found.broken));
  // Whatever cannot be freed is named; the rest is freed all the same.
  std::vector<std::string> left = std::move(found.unknown);
  const auto attempt = [&left](const auto& step) {
    try {
      step();
    } catch (const Failure& f) {
      left.push_back(f.what());
    }
  };
  // A creating container's create died: holding the lock proves it.
  if (status != ContainerStatus::stopped) attempt([&] { kill_and_wait(cgroups, r); });
  KilledGuard guard;
  attempt([&] { guard = kill_egress_guard(store, id); });
  if (!r.cgroup.empty())
    attempt([&] { free_cgroups(*cgroups.load(r.cgroup), id, status == ContainerStatus::creating); });
  guard.await_end();
  if (!left.empty()) {
    std::string what;
    for (const auto& l : left) what += (what.empty() ? "" : "; ") + l;
    fail("delete container " + id, "could not free everything, so its state directory " + store.dir(id) +
                                       " is kept: " + what);
  }
  if (found.from_state && r.pid != 0) run_poststop_hooks(store, r, reaped);
  if (!found.broken.empty()) log_message(LogLevel::warning, "poststop hooks of container " + id + " not run: " + found.broken);
  store.remove(id);
}

ContainerStatus container_status(const Store& store, const CgroupDrivers& cgroups, const ContainerRecord& r) {
  const std::unique_ptr<CgroupManager> cgroup = r.cgroup.empty() ? nullptr : cgroups.load(r.cgroup);
  return store.status(r, cgroup.get());
}

std::unique_ptr<CgroupManager> container_cgroup_of(const CgroupDrivers& cgroups, const ContainerRecord& r) {
  if (r.cgroup.empty()) fail("container " + r.id, "has no cgroup");
  return cgroups.load(r.cgroup);
}

void pause_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id) {
  ContainerLock lock = store.lock(id);
  ContainerRecord r = store.load(id);
  const ContainerStatus status = container_status(store, cgroups, r);
  if (status != ContainerStatus::running && status != ContainerStatus::created)
    fail("pause container " + id, std::string("it is ") + status_name(status));
  container_cgroup_of(cgroups, r)->freeze();
}

void resume_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id) {
  ContainerLock lock = store.lock(id);
  ContainerRecord r = store.load(id);
  const ContainerStatus status = container_status(store, cgroups, r);
  if (status != ContainerStatus::paused) fail("resume container " + id, std::string("it is ") + status_name(status));
  container_cgroup_of(cgroups, r)->thaw();
}

std::string container_state_json(const Store& store, const CgroupDrivers& cgroups, const ContainerRecord& r,
                                 bool pretty) {
  const ContainerStatus status = container_status(store, cgroups, r);
  spec::State st{r.oci_version, r.id, status_name(status), status == ContainerStatus::stopped ? 0 : r.pid,
                 r.bundle, r.annotations, spec::StateDetails{r.rootfs, r.created, r.owner}};
  return spec::state_json(st, pretty);
}

std::vector<Listed> list_containers(const Store& store, const CgroupDrivers& cgroups) {
  std::vector<Listed> out;
  for (const auto& id : store.ids()) {
    Listed l;
    try {
      l.record = store.load(id);
      const ContainerStatus status = container_status(store, cgroups, l.record);
      l.status = status_name(status);
      l.state_json = container_state_json(store, cgroups, l.record, false);
      if (status == ContainerStatus::stopped) l.record.pid = 0;
    } catch (const Failure& f) {
      // One unreadable container must not hide the others, nor be hidden:
      // the runtime defines this status (the OCI spec lets it add values).
      l.record = ContainerRecord{};
      l.record.id = id;
      l.status = "broken";
      l.problem = f.what();
      l.state_json = spec::state_json({"", id, "broken", 0, "", {}}, false);
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace agentrun
