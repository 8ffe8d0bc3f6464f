#include "runtime/container/launch.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "runtime/init/namespaces.hpp"
#include "runtime/policy/preflight.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/proc_stat.hpp"
#include "runtime/util/unix_socket.hpp"
#include "spec/names.hpp"

namespace agentrun {
namespace {

[[noreturn]] void stage_fail(SyncChannel& sync, const Error& e) {
  (void)sync.send_error(e);
  ::_exit(1);
}

// clone(2) without CLONE_VM (it returns twice, like fork). Given a cgroup2
// directory, clone3 puts the child there at birth (CLONE_INTO_CGROUP, 5.7),
// saving the migration a write to cgroup.procs costs. Where that fails (no
// clone3 in the kernel or in a seccomp filter around the runtime, which
// Docker's profile answers with ENOSYS; a cgroup that cannot take it) the
// plain clone follows and the caller writes cgroup.procs, whose error names
// the file.
long clone_process(unsigned long flags, int cgroup_fd, bool& born_in) {
  born_in = false;
  if (cgroup_fd >= 0) {
    clone_args args{};
    args.flags = flags | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    const long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) {
      born_in = true;
      return pid;
    }
  }
  return ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
}

// The namespaces the clone does not make: the cgroup namespace, which the
// init makes once it is in its cgroups; the network namespace, the
// costliest to make (0.4 ms), which create makes while the init's CPU
// wakes (give_network_namespace), or the init under a user namespace.
constexpr int kInitsNamespaces = CLONE_NEWCGROUP | CLONE_NEWNET;

std::string time_offsets(const Plan& plan) {
  std::string out;
  for (const auto& [clock, off] : plan.time_offsets)
    out += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
  return out;
}

// Only what the container needs crosses into it; in particular the state
// directory's lock stays with the runtime.
Status close_other_fds(const Plan& plan, const SyncChannel& sync, const LaunchIo& io) {
  std::vector<int> keep = {sync.fd(), io.console_socket, io.start_listener};
  keep.insert(keep.end(), io.bind_sources.begin(), io.bind_sources.end());
  keep.erase(std::remove(keep.begin(), keep.end(), -1), keep.end());
  std::sort(keep.begin(), keep.end());
  unsigned next = 3 + static_cast<unsigned>(plan.preserved_fds);
  for (int fd : keep) {
    if (static_cast<unsigned>(fd) < next) continue;
    if (static_cast<unsigned>(fd) > next && ::close_range(next, static_cast<unsigned>(fd) - 1, 0) < 0)
      return sys_error("close the runtime's descriptors", errno);
    next = static_cast<unsigned>(fd) + 1;
  }
  if (::close_range(next, ~0U, 0) < 0) return sys_error("close the runtime's descriptors", errno);
  return {};
}

// Whether the runtime died before this child asked to die with it. The
// first process of a new pid namespace sees no parent (getppid() is 0): the
// sync channel's end tells it instead.
bool parent_gone(pid_t runtime) {
  const pid_t parent = ::getppid();
  return parent != 0 && parent != runtime;
}

// What a process the runtime starts does first: die with the runtime, keep
// only the descriptors the container needs, and set its OOM score while it
// still has the host's privileges (lowering it needs them).
void begin_child(const Plan& plan, SyncChannel& sync, const LaunchIo& io, pid_t runtime) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent_gone(runtime)) ::_exit(1);
  if (Status s = close_other_fds(plan, sync, io); !s) stage_fail(sync, s.error());
  if (plan.process.oom_score_adj) {
    Status s = write_whole_file(AT_FDCWD, "/proc/self/oom_score_adj",
                                std::to_string(*plan.process.oom_score_adj), 0);
    if (!s) stage_fail(sync, Error{"set oom_score_adj " + std::to_string(*plan.process.oom_score_adj),
                                   "", s.error().errnum});
  }
}

// The process, in its namespaces. Never returns.
[[noreturn]] void run_child(const Plan& plan, const Protocol& protocol, SyncChannel& sync, const LaunchIo& io) {
  protocol.run_child(plan, InitIo{&sync, io.console_socket, io.start_listener, false, io.bind_sources});
  ::_exit(1);  // GCC does not take [[noreturn]] from a virtual call
}

// Stage 1: namespaces, then the process. Never returns.
[[noreturn]] void stage1(const Plan& plan, const Protocol& protocol, SyncChannel& sync, const LaunchIo& io,
                        pid_t runtime) {
  begin_child(plan, sync, io, runtime);
  Sys& sys = linux_sys();
  if (Status s = join_namespaces(sys, plan, protocol.sets_up_container()); !s) stage_fail(sync, s.error());
  const bool new_user = plan.creates(spec::NamespaceType::user);
  if (int rc = new_user ? sys.unshare(CLONE_NEWUSER) : 0; rc < 0) stage_fail(sync, namespace_error(CLONE_NEWUSER, -rc));
  if (!sync.send(MsgType::stage_ready, new_user ? 1 : 0)) ::_exit(1);
  auto go = sync.receive();
  if (!go || go->type != MsgType::proceed) ::_exit(1);
  if (plan.has_user_namespace() &&
      (::syscall(SYS_setresgid, 0, 0, 0) < 0 || ::syscall(SYS_setresuid, 0, 0, 0) < 0))
    stage_fail(sync, sys_error("become root in the container's user namespace", errno));
  const int rest = plan.new_namespaces & ~(CLONE_NEWUSER | kInitsNamespaces);
  if (int rc = rest ? sys.unshare(rest) : 0; rc < 0) stage_fail(sync, namespace_error(rest, -rc));
  if (!plan.time_offsets.empty()) {
    Status s = write_whole_file(AT_FDCWD, "/proc/self/timens_offsets", time_offsets(plan), 0);
    if (!s) stage_fail(sync, Error{"set time namespace offsets", "", s.error().errnum});
  }
  bool born_in = false;
  const long pid = clone_process(CLONE_PARENT, io.cgroup_fd, born_in);
  if (pid < 0) stage_fail(sync, sys_error("start the container's init", errno));
  if (pid == 0) run_child(plan, protocol, sync, io);
  (void)sync.send(MsgType::init_pid, pid | (born_in ? kInitBornInCgroup : 0));
  ::_exit(0);
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + sigabbrev_np(WTERMSIG(status));
  return "ended";
}

std::string id_map(const std::vector<spec::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " + std::to_string(m.size) + "\n";
  return out;
}

void write_id_maps(const Plan& plan, pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/";
  write_whole_file(AT_FDCWD, dir + "uid_map", id_map(plan.uid_mappings), 0).or_throw();
  write_whole_file(AT_FDCWD, dir + "gid_map", id_map(plan.gid_mappings), 0).or_throw();
}

}  // namespace

Conversation::~Conversation() {
  for (pid_t p : {init_, stage_})
    if (p > 0) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
}

Result<Message> Conversation::next() {
  if (early_.empty()) return channel_.receive();
  Message m = std::move(early_.front());
  early_.erase(early_.begin());
  return m;
}

Message Conversation::expect(const char* waiting_for) {
  auto m = next();
  if (!m) {
    pid_t& who = init_ > 0 ? init_ : stage_;
    int status = 0;
    if (who > 0 && ::waitpid(who, &status, 0) == who) {
      who = 0;
      fail(creates_ ? "create container" : "exec in container",
           (creates_ ? "its init " : "the process ") + describe_exit(status) + " while " + waiting_for);
    }
    throw Failure(m.error());
  }
  if (m->type == MsgType::error) throw Failure(m->error);
  return std::move(*m);
}

void Conversation::tell(MsgType type, int fd_to_pass) {
  if (Status sent = channel_.send(type, 0, fd_to_pass); !sent) {
    expect("setting up the container");
    sent.or_throw();
  }
}

std::optional<Message> Conversation::until_exec() {
  auto m = next();
  if (!m && m.error().errnum == EPIPE) return std::nullopt;
  if (!m) throw Failure(m.error());
  if (m->type == MsgType::error) throw Failure(m->error);
  return std::move(*m);
}

void Conversation::await_init_pid() {
  std::vector<Message> held;
  for (;;) {
    Message m = expect("creating namespaces");
    if (m.type != MsgType::init_pid) {
      held.push_back(std::move(m));
      continue;
    }
    const int64_t pid = m.value & (kInitBornInCgroup - 1);
    // 0 would be the runtime itself to every /proc and cgroup.procs write.
    if (pid <= 0 || pid > INT_MAX) fail("create namespaces", "stage 1 named no init (" + std::to_string(pid) + ")");
    init_ = static_cast<pid_t>(pid);
    born_in_ = m.value & kInitBornInCgroup;
    early_ = std::move(held);
    return;
  }
}

void give_network_namespace(Sys& sys, const Plan& plan, Conversation& c) {
  if (!plan.network_namespace_from_runtime()) return;
  const char* const self = "/proc/thread-self/ns/net";
  UniqueFd own(::open(self, O_RDONLY | O_CLOEXEC));
  if (!own) fail_errno(std::string("open ") + self, errno);
  if (int rc = sys.unshare(CLONE_NEWNET); rc < 0) throw Failure(namespace_error(CLONE_NEWNET, -rc));
  UniqueFd made(::open(self, O_RDONLY | O_CLOEXEC));
  const int open_error = errno;
  // Only this thread moved, and back at once: the runtime stays in the host's.
  if (int rc = sys.setns(own.get(), CLONE_NEWNET); rc < 0)
    fail_errno("return to the runtime's network namespace", -rc);
  if (!made) fail_errno(std::string("open the network namespace made, ") + self, open_error);
  c.tell(MsgType::network_namespace, made.get());
}

void await_network_namespace(Conversation& c) {
  Message m = c.expect("creating its network namespace");
  if (m.type != MsgType::network_ready) fail("create container", "unexpected message from its init");
  if (m.value != 0) throw Failure(namespace_error(CLONE_NEWNET, static_cast<int>(m.value)));
}

Launched launch(const Plan& plan, const Protocol& protocol, const LaunchIo& io) {
  const pid_t runtime = ::getpid();
  auto [parent, child] = make_channel_pair().or_throw();
  Conversation c(std::move(parent), protocol.sets_up_container());
  // A process that joins no namespace and creates neither a user nor a time
  // namespace (those need a step between creating and starting) is cloned
  // straight into its new namespaces. If that clone fails, stage 1 tries
  // again and names the namespace the host refuses.
  if (plan.joins.empty() && !plan.creates(spec::NamespaceType::user) && !plan.creates(spec::NamespaceType::time)) {
    const int flags = plan.new_namespaces & ~kInitsNamespaces;
    const long pid = clone_process(flags, io.cgroup_fd, c.born_in_);
    if (pid == 0) {
      c.channel_.close();
      begin_child(plan, child, io, runtime);
      run_child(plan, protocol, child, io);
    }
    if (pid > 0) c.init_ = static_cast<pid_t>(pid);
  }
  if (c.init_ == 0) {
    c.stage_ = ::fork();
    if (c.stage_ < 0) fail_errno("start the container", errno);
    if (c.stage_ == 0) {
      c.channel_.close();
      stage1(plan, protocol, child, io, runtime);
    }
  }
  child.close();

  if (c.stage_ > 0) {
    Message ready = c.expect("joining namespaces");
    if (ready.value == 1) write_id_maps(plan, c.stage_);
    c.tell(MsgType::proceed);
    c.await_init_pid();
    ::waitpid(c.stage_, nullptr, 0);
    c.stage_ = 0;
  }
  Launched out{c.init_, 0, {}};
  protocol.converse(plan, c, out);
  c.init_ = 0;
  return out;
}

UniqueFd connect_console(const std::string& command, bool terminal, const std::string& socket_path, bool own_pty) {
  if (terminal && !own_pty && socket_path.empty())
    fail(command, "the process has a terminal but no --console-socket was given to receive it");
  if (!terminal && !socket_path.empty())
    fail(command, "--console-socket was given but the process has no terminal");
  if (socket_path.empty()) return UniqueFd();
  return connect_unix(socket_path, SOCK_STREAM, "connect to console socket " + socket_path);
}

uint64_t process_start_time(pid_t pid) {
  auto st = read_proc_stat(pid);
  return st ? st->start_time : 0;
}

}  // namespace agentrun
