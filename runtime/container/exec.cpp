#include "runtime/container/exec.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstdlib>

#include "runtime/cgroup/warm_up.hpp"
#include "runtime/container/seccomp_listener.hpp"
#include "runtime/plan/seccomp_sequence.hpp"
#include "runtime/policy/confine_process.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/log.hpp"
#include "runtime/util/sealed_exec.hpp"
#include "spec/validate.hpp"

namespace agentrun {
namespace {

// exec's side of the protocol with exec_init: the process goes on once it
// is in the container's cgroups, reports nothing but a failure or the
// seccomp notify fd of its filter, and its end of the channel closes when
// it executes the user's program.
class ExecProtocol : public Protocol {
 public:
  ExecProtocol(InitEntry init, const CgroupManager* cgroup) : init_(init), cgroup_(cgroup) {}

  bool sets_up_container() const override { return false; }

  [[noreturn]] void run_child(const Plan& plan, InitIo io) const override {
    init_(linux_sys(), plan, std::move(io));
    std::abort();  // the init's entry does not return
  }

  void converse(const Plan& plan, Conversation& c, Launched& out) const override {
    if (cgroup_) cgroup_->add_process(out.pid);
    c.tell(MsgType::proceed);
    while (auto m = c.until_exec()) {
      if (m->type != MsgType::seccomp_listener || !m->fd) fail("exec", "unexpected message from the new process");
      forward_seccomp_listener({plan.seccomp_listener_path, plan.seccomp_listener_metadata, plan.oci_version,
                                plan_state_json(plan, "running", out.pid), out.pid},
                               m->fd.get());
    }
  }

 private:
  InitEntry init_;
  const CgroupManager* cgroup_;
};

// The stored plan with the container's identity, which its record holds.
Plan with_identity(Plan base, const ContainerRecord& r) {
  base.id = r.id;
  base.oci_version = r.oci_version;
  base.bundle = r.bundle;
  base.rootfs = r.rootfs;
  base.annotations = r.annotations;
  return base;
}

StoredPlan load_plan(const std::string& path, const std::string& id) {
  auto text = read_regular_file(AT_FDCWD, path, kMaxInputBytes, O_NOFOLLOW);
  if (!text && text.error().errnum == ENOENT)
    fail(path, "missing: container " + id +
                   " was created by an agentrun that did not store its plan for exec; recreate it");
  if (!text) throw Failure(text.error());
  return parse_stored_plan(*text, path);
}

}  // namespace

ExecTarget exec_target(const Store& store, const CgroupDrivers& cgroups, const std::string& id, bool ignore_paused) {
  ExecTarget t{store.load(id), nullptr, {}, store.file_path(id, "plan.json")};
  if (!t.record.cgroup.empty()) t.cgroup = cgroups.load(t.record.cgroup);
  const ContainerStatus status = store.status(t.record, t.cgroup.get());
  const bool paused_ok = status == ContainerStatus::paused && ignore_paused;
  if (status != ContainerStatus::created && status != ContainerStatus::running && !paused_ok)
    fail("exec in container " + id, std::string("it is ") + status_name(status) +
                                        (status == ContainerStatus::paused ? " (use --ignore-paused)" : ""));
  // Until `start`, the init runs the runtime's binary: from a read-only copy
  // since create always re-executes, but a container made by an older
  // agentrun may still run the host's file, which an exec'd process could reach.
  if (status == ContainerStatus::created && !runs_unwritable_binary(t.record.pid))
    fail("exec in container " + id,
         "it is created, not started, and its init still runs agentrun from a writable file that a process in the "
         "container could reach through /proc/1/exe: start it first");
  t.plan = load_plan(t.plan_file, id);
  return t;
}

Launched exec_in_container(const ExecTarget& target, spec::Process process, const ExecOptions& options,
                           InitEntry init_entry) {
  const ContainerRecord& r = target.record;
  const CgroupManager* cgroup = target.cgroup.get();
  CgroupWarmUp warm_up(cgroup ? cgroup->accounting_only_dir() : "");
  spec::validate_process(process, "process");
  // The container's policy confines this process as it confined the first.
  for (const auto& warning : policy::confine_process(target.plan.process_policy, process, target.plan.host, options.origin))
    log_message(LogLevel::warning, warning);
  Plan plan = make_exec_plan(with_identity(target.plan.base, r), process, r.pid, options.preserve_fds);
  plan.process.cwd_source = options.origin.name("cwd");
  check_calls_after_filters(plan);
  plan.runtime_binary = runtime_binary_id();
  UniqueFd console = connect_console("exec", process.terminal, options.console_socket, options.console_fd >= 0);
  // The namespaces are found through the init's pid: it must still be the init.
  UniqueFd init = open_init(r);
  if (!init) fail("exec in container " + r.id, "its init has exited");
  LaunchIo io;
  io.console_socket = console ? console.get() : options.console_fd;
  return launch(plan, ExecProtocol(init_entry, cgroup), io);
}

}  // namespace agentrun
