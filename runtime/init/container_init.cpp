#include "runtime/init/container_init.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "hooks/hooks.hpp"
#include "runtime/confine/landlock.hpp"
#include "runtime/confine/seccomp_load.hpp"
#include "runtime/init/credentials.hpp"
#include "runtime/init/devices.hpp"
#include "runtime/init/namespaces.hpp"
#include "runtime/init/rootfs.hpp"
#include "runtime/init/security_labels.hpp"
#include "runtime/init/terminal.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/in_root.hpp"
#include "runtime/util/procfs.hpp"
#include "runtime/util/signals.hpp"
#include "runtime/util/text_lines.hpp"
#include "spec/state.hpp"

namespace agentrun {
namespace {

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& e : env)
    if (e.compare(0, name.size() + 1, name + "=") == 0) return e.substr(name.size() + 1);
  return {};
}

bool env_has(const std::vector<std::string>& env, const std::string& name);

// Without PATH in the environment (ctr run --rootfs), the usual directories, as crun and execvp do.
std::string process_path(const std::vector<std::string>& env) {
  return env_has(env, "PATH") ? env_value(env, "PATH") : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

bool env_has(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& e : env)
    if (e.compare(0, name.size() + 1, name + "=") == 0) return true;
  return false;
}

// HOME from the container's /etc/passwd when config.json does not set it.
std::string home_of(uid_t uid) {
  // The image's file: a FIFO or a link to /dev/zero there must not hang the init.
  auto passwd = read_regular_file(AT_FDCWD, "/etc/passwd", kMaxInputBytes);
  if (!passwd) return "/";
  for (std::string_view line : text_lines(*passwd)) {
    const std::vector<std::string_view> f = text_fields(line, ':');
    if (f.size() >= 6 && f[2] == std::to_string(uid)) return f[5].empty() ? "/" : std::string(f[5]);
  }
  return "/";
}

// Waits for the parent's answer to a request; anything else is fatal.
// The runtime joins the init to its cgroups while the init works; that
// news may arrive before the answer awaited.
Status await(InitIo& io, MsgType expected, const std::string& step) {
  for (;;) {
    AR_TRY_ASSIGN(Message m, io.sync->receive());
    if (m.type == MsgType::error) return std::move(m.error);
    if (m.type == MsgType::cgroup_joined && !io.in_cgroup) {
      io.in_cgroup = true;
      if (expected == MsgType::cgroup_joined) return {};
      continue;
    }
    if (m.type != expected) return plain_error(step, "unexpected message from the runtime");
    return {};
  }
}

// Anything that is not the init's own setup — hooks, cgroup mounts and
// namespace, the user's process — waits until the init is in its cgroups.
Status await_cgroup(InitIo& io) {
  if (io.in_cgroup) return {};
  return await(io, MsgType::cgroup_joined, "wait for the container's cgroups");
}

bool needs_cgroup_first(const Plan& plan) {
  const auto& h = plan.hooks;
  return plan.creates(spec::NamespaceType::cgroup) || !h.prestart.empty() || !h.createRuntime.empty() ||
         !h.createContainer.empty() ||
         std::any_of(plan.mounts.begin(), plan.mounts.end(), [](const MountStep& m) { return m.kind == MountKind::cgroup; });
}

// The state only for hooks that run: else the init faults in the JSON writer's code for nothing.
Status run_init_hooks(const std::vector<spec::Hook>& hooks, const char* kind, const Plan& plan, const char* status,
                      int pid) {
  return hooks.empty() ? Status{} : run_hooks(hooks, kind, plan_state_json(plan, status, pid));
}

// prestart and createRuntime (the runtime runs them), then createContainer.
Status run_setup_hooks(const Plan& plan, InitIo& io, int host_pid) {
  if (!plan.hooks.prestart.empty() || !plan.hooks.createRuntime.empty()) {
    AR_TRY(io.sync->send(MsgType::run_hooks));
    AR_TRY(await(io, MsgType::hooks_done, "run createRuntime hooks"));
  }
  return run_init_hooks(plan.hooks.createContainer, "createContainer", plan, "creating", host_pid);
}

// Plan::chroot: the pty comes from the host's devpts before the chroot;
// nothing is bound over /dev/console.
Status enter_chroot(Sys& sys, const Plan& plan, int console_socket) {
  UniqueFd peer;
  if (plan.process.terminal) {
    AR_TRY_ASSIGN(peer, host_console(console_socket, plan.process.console_size));
  }
  AR_TRY(chroot_into(sys, plan.rootfs));
  return peer ? make_controlling_terminal(peer.get()) : Status{};
}

// In the runtime's mount namespace nothing is mounted or created, not even
// the working directory.
Status setup_chroot(Sys& sys, const Plan& plan, InitIo& io, int host_pid) {
  AR_TRY(run_setup_hooks(plan, io, host_pid));
  AR_TRY(enter_chroot(sys, plan, io.console_socket));
  struct stat st;
  if (::stat(plan.process.cwd.c_str(), &st) < 0 && errno == ENOENT)
    return plain_error(plan.process.cwd_source + " " + plan.process.cwd,
                       "it does not exist in the rootfs, and without a mount namespace nothing is created there");
  return {};
}

Status setup_filesystem(const Plan& plan, InitIo& io, RootfsSetup& fs, int host_pid) {
  if (plan.chroot) return setup_chroot(fs.sys, plan, io, host_pid);
  AR_TRY(prepare_rootfs(fs));
  AR_TRY(mount_all(fs));
  AR_TRY(run_setup_hooks(plan, io, host_pid));
  AR_TRY(setup_dev(fs));
  AR_TRY(make_in_root(fs.root.get(), plan.process.cwd, TargetKind::directory));
  AR_TRY(apply_filesystem_policy(fs));
  for (const auto& path : fs.blocked) AR_TRY(io.sync->send_report(path));
  AR_TRY(protect_paths(fs));
  AR_TRY(enter_rootfs(fs));
  if (plan.process.terminal) AR_TRY(setup_console(fs, io.console_socket, plan.process.console_size));
  return seal_root(fs);
}

Status write_attrs(int procfs, const std::vector<AttrWrite>& writes) {
  if (writes.empty()) return {};
  AR_TRY_ASSIGN(std::string self, proc_self_name(procfs));
  for (const auto& w : writes) AR_TRY(write_proc_file(procfs, self + "/attr/" + w.file, w.value, w.step));
  return {};
}

Status setup_kernel_state(Sys& sys, const Plan& plan, int procfs) {
  if (!plan.hostname.empty()) AR_TRY(sys_status(sys.sethostname(plan.hostname), "set hostname " + plan.hostname));
  if (!plan.domainname.empty())
    AR_TRY(sys_status(sys.setdomainname(plan.domainname), "set domainname " + plan.domainname));
  for (const auto& [path, value] : plan.sysctls)
    AR_TRY(write_proc_file(procfs, "sys/" + path, value, "set sysctl " + path));
  const ProcessPlan& p = plan.process;
  for (const auto& r : p.rlimits) AR_TRY(sys_status(sys.setrlimit(r.resource, r.soft, r.hard), "set " + r.type));
  if (plan.personality) AR_TRY(sys_status(sys.personality(*plan.personality), "set personality"));
  if (p.ioprio) AR_TRY(sys_status(sys.ioprio_set(*p.ioprio), "set the I/O priority"));
  if (p.scheduler) AR_TRY(sys_status(sys.sched_setattr(*p.scheduler), "set the scheduler"));
  if (!p.cpus_initial.empty())
    AR_TRY(sys_status(sys.sched_setaffinity(p.cpus_initial), "set the initial CPU affinity"));
  if (!plan.no_new_keyring) {
    AR_TRY(write_attrs(procfs, keyring_label_writes(p)));
    AR_TRY(sys_status(sys.join_session_keyring("_ses." + plan.id), "create a session keyring"));
  }
  return write_attrs(procfs, exec_label_writes(p));
}

bool has_filters(const Plan& plan) { return plan.seccomp || !plan.seccomp_stack.empty(); }

// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: the process
// holds it on top of its own sets until its filters are loaded.
uint64_t held_for_filters(const Plan& plan) {
  return has_filters(plan) && !plan.process.no_new_privileges ? uint64_t{1} << CAP_SYS_ADMIN : 0;
}

// Landlock, credentials and no_new_privs; the seccomp filters come last,
// just before execve (load_filters).
Status confine_process(Sys& sys, const Plan& plan) {
  const ProcessPlan& p = plan.process;
  // Landlock while this process may still restrict itself without
  // no_new_privs (it holds CAP_SYS_ADMIN until the credentials change).
  // The process's own program may run wherever the image keeps it (a pod's
  // /pause): execFrom keeps anything else from running.
  if (plan.landlock) {
    auto program = find_executable(p.args[0], process_path(plan.process.env));
    AR_TRY(apply_landlock(sys, program ? with_executable(*plan.landlock, *program) : *plan.landlock));
  }
  AR_TRY(apply_credentials(sys, p, plan.last_cap, held_for_filters(plan)));
  if (p.no_new_privileges) AR_TRY(sys_status(sys.prctl(PR_SET_NO_NEW_PRIVS, 1), "set no_new_privs"));
  ::umask(p.umask.value_or(022));
  return {};
}

// The container's own filter, then the policy's on top, then (without
// no_new_privs) the process's own capabilities: a profile that allows only
// what the workload needs must not have to allow the runtime's work too.
// What runs after the container's filter is listed by calls_after_filters
// (seccomp_sequence.hpp), which create checks against the profiles.
Status load_filters(Sys& sys, const Plan& plan, SyncChannel& runtime) {
  if (plan.seccomp) {
    AR_TRY_ASSIGN(int listener, load_seccomp(sys, plan.seccomp->program));
    // The kernel made it close-on-exec: closing it now would be one more call.
    if (listener >= 0) AR_TRY(runtime.send(MsgType::seccomp_listener, 0, listener));
  }
  for (const auto& filter : plan.seccomp_stack) AR_TRY(load_seccomp(sys, filter.program));
  if (held_for_filters(plan)) AR_TRY(set_capabilities(sys, plan.process.caps, plan.last_cap));
  return {};
}

Result<std::string> check_executable(const std::string& name, const std::string& path) {
  const std::string step = "exec: \"" + name + "\"";
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return Error{step, "stat " + path, errno};
  if (!S_ISREG(st.st_mode)) return sys_error(step, EACCES);
  if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) < 0) return sys_error(step, errno);
  return path;
}

}  // namespace

Result<std::string> find_executable(const std::string& name, const std::string& path_env) {
  if (name.find('/') != std::string::npos) return check_executable(name, name);
  for (std::string_view dir : text_fields(path_env, ':')) {
    if (dir.empty() || dir[0] != '/') continue;  // relative entries would depend on the cwd
    auto found = check_executable(name, std::string(dir) + "/" + name);
    if (found) return found;
  }
  return plain_error("exec: \"" + name + "\"", "executable file not found in $PATH");
}

// The working directory, resolved inside the container's root as `create`
// resolves process.cwd: ".." and symlinks stay inside, and a magic link is
// refused (/proc/self/fd/N: a descriptor the process still holds could lead
// out of the root, runc's CVE-2024-21626).
Status enter_cwd(const ProcessPlan& process) {
  const std::string& cwd = process.cwd;
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open the container's root", errno);
  auto dir = open_in_root(root.get(), cwd, O_PATH | O_DIRECTORY);
  if (!dir && dir.error().errnum == ELOOP)
    return plain_error(process.cwd_source + " " + cwd,
                       "it leads through a magic link such as /proc/self/fd/N (or too many symbolic links): a working "
                       "directory must be a path inside the container");
  if (!dir) return sys_error("chdir to " + process.cwd_source + " " + cwd, dir.error().errnum);
  if (::fchdir(dir->get()) < 0) return sys_error("chdir to " + process.cwd_source + " " + cwd, errno);
  return {};
}

Result<Prepared> prepare_process(Sys& sys, const Plan& plan, int procfs) {
  Prepared out;
  AR_TRY(setup_kernel_state(sys, plan, procfs));
  out.env = plan.process.env;
  if (!env_has(out.env, "HOME")) out.env.push_back("HOME=" + home_of(plan.process.uid));
  // As root first; a directory only the container's user may enter is
  // entered again after the user change.
  const Status in_cwd = enter_cwd(plan.process);
  if (!in_cwd && in_cwd.error().errnum == 0) return in_cwd.error();
  AR_TRY(confine_process(sys, plan));
  if (!in_cwd) AR_TRY(enter_cwd(plan.process));
  AR_TRY_ASSIGN(out.executable, find_executable(plan.process.args[0], process_path(out.env)));
  return out;
}

// A program path that leads to the runtime's binary (/proc/self/exe, or a
// link to it) would make the container's process the host's agentrun, which
// its other processes could then reopen for writing once it is no longer
// running (runc CVE-2019-5736). create, run and exec run from a read-only
// copy (main.cpp), so that file would be the copy; the program is refused
// all the same, should the copy ever be skipped.
Status refuse_runtime_binary(const Plan& plan, const std::string& executable) {
  struct stat st;
  if (!plan.runtime_binary || ::stat(executable.c_str(), &st) < 0) return {};
  if (std::make_pair(st.st_dev, st.st_ino) == *plan.runtime_binary)
    return plain_error("exec " + executable, "it is the runtime's own binary, which a container may not run");
  return {};
}

// `runtime` is whom a seccomp notify fd goes to: `start`, or `exec`.
Error execute(Sys& sys, const Plan& plan, const Prepared& prepared, SyncChannel& runtime) {
  if (Status s = refuse_runtime_binary(plan, prepared.executable); !s) return std::move(s).error();
  if (!plan.process.cpus_final.empty())
    if (Status s = sys_status(sys.sched_setaffinity(plan.process.cpus_final), "set the final CPU affinity"); !s)
      return std::move(s).error();
  reset_signals_for_exec();
  // Only stdio and the preserved descriptors reach the process (runc CVE-2024-21626).
  const unsigned first_closed = 3 + static_cast<unsigned>(plan.preserved_fds);
  if (::close_range(first_closed, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return sys_error("mark descriptors close-on-exec", errno);
  for (unsigned fd = 3; fd < first_closed; ++fd)
    if (::fcntl(static_cast<int>(fd), F_SETFD, 0) < 0)
      return sys_error("pass preserved fd " + std::to_string(fd), errno);

  std::vector<char*> argv, envp;
  for (const auto& a : plan.process.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : prepared.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  if (Status s = load_filters(sys, plan, runtime); !s) return std::move(s).error();
  int rc = sys.execve(prepared.executable.c_str(), argv.data(), envp.data());
  return sys_error("exec " + prepared.executable, -rc);
}

Result<Prepared> prepare_container(Sys& sys, const Plan& plan, InitIo& io) {
  // Nothing else to wait for: create has made the namespaces' id maps
  // (stage 1) and records the pid meanwhile; its next word is cgroup_joined.
  AR_TRY(enter_network_namespace(sys, plan, *io.sync));
  ::umask(0);
  AR_TRY_ASSIGN(UniqueFd procfs, open_procfs("/proc"));
  AR_TRY_ASSIGN(std::string self, proc_self_name(procfs.get()));
  const int host_pid = std::atoi(self.c_str());

  RootfsSetup fs{sys, plan, {}, {}, {}, {}, {}};
  for (int fd : io.bind_sources) fs.bind_sources.emplace_back(fd);
  if (needs_cgroup_first(plan)) {
    AR_TRY(await_cgroup(io));
    // Only once in its cgroups does a new cgroup namespace make them the container's root.
    AR_TRY_ASSIGN(fs.own_cgroups, read_whole_file(AT_FDCWD, "/proc/self/cgroup"));
    if (plan.creates(spec::NamespaceType::cgroup))
      AR_TRY(sys_status(sys.unshare(CLONE_NEWCGROUP), "create the cgroup namespace"));
  }
  AR_TRY(setup_filesystem(plan, io, fs, host_pid));
  // The container's limits hold before anything of the container's own runs.
  AR_TRY(await_cgroup(io));
  AR_TRY_ASSIGN(Prepared out, prepare_process(sys, plan, procfs.get()));
  out.host_pid = host_pid;
  return out;
}

// Once asked to start on `conn`, which hears how it went.
Error start_on(Sys& sys, const Plan& plan, SyncChannel& conn, const Prepared& prepared) {
  Status hooks = run_init_hooks(plan.hooks.startContainer, "startContainer", plan, "created", prepared.host_pid);
  Error e = hooks ? execute(sys, plan, prepared, conn) : std::move(hooks).error();
  (void)conn.send_error(e);
  return e;
}

Error start_container(Sys& sys, const Plan& plan, InitIo& io, const Prepared& prepared) {
  // Started at ready (`run`): the runtime says so on the same channel.
  if (io.start_listener < 0) {
    if (Status s = await(io, MsgType::start, "wait for start"); !s) {
      (void)io.sync->send_error(s.error());
      return std::move(s).error();
    }
    return start_on(sys, plan, *io.sync, prepared);
  }
  io.sync->close();
  // Each connection asks once; anything but a start request is dropped.
  SyncChannel conn;
  for (;;) {
    int fd = ::accept4(io.start_listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0 && errno == EINTR) continue;
    if (fd < 0) return sys_error("wait for start", errno);
    conn = SyncChannel(UniqueFd(fd));
    auto m = conn.receive();
    if (m && m->type == MsgType::start) break;
  }
  return start_on(sys, plan, conn, prepared);
}

[[noreturn]] static void exit_for(const Error& e) { ::_exit(e.errnum == ENOENT ? 127 : e.errnum == EACCES ? 126 : 1); }

void container_init(Sys& sys, const Plan& plan, InitIo io) {
  // If `create` dies while setting up, so does the init (had it died before,
  // the sync channel's end stops the init at its first message).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  auto prepared = prepare_container(sys, plan, io);
  if (!prepared) {
    (void)io.sync->send_error(prepared.error());
    ::_exit(1);
  }
  ::prctl(PR_SET_PDEATHSIG, 0);
  if (!io.sync->send(MsgType::ready)) ::_exit(1);
  exit_for(start_container(sys, plan, io, *prepared));
}

void exec_init(Sys& sys, const Plan& plan, InitIo io) {
  auto prepared = [&]() -> Result<Prepared> {
    AR_TRY(await(io, MsgType::proceed, "wait for the runtime"));
    AR_TRY_ASSIGN(UniqueFd procfs, open_procfs("/proc"));
    if (plan.chroot)
      AR_TRY(enter_chroot(sys, plan, io.console_socket));
    else if (plan.process.terminal)
      AR_TRY(setup_exec_console(io.console_socket, plan.process.console_size));
    return prepare_process(sys, plan, procfs.get());
  }();
  Error e = prepared ? execute(sys, plan, *prepared, *io.sync) : std::move(prepared).error();
  (void)io.sync->send_error(e);
  exit_for(e);
}

}  // namespace agentrun
