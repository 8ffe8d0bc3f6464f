// agentrun: an OCI runtime for untrusted AI-agent workloads.
//
// The composition root: main chooses the cgroup drivers and the init's
// entries, which the wings below see only as interfaces, and runs the
// commands that start a container's processes (create, run, exec) itself;
// the other commands are in commands.cpp.

#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/cgroup/drivers.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/exec_process.hpp"
#include "runtime/container/create.hpp"
#include "runtime/container/egress_guard.hpp"
#include "runtime/container/exec.hpp"
#include "runtime/container/foreground.hpp"
#include "runtime/container/lifecycle.hpp"
#include "runtime/init/container_init.hpp"
#include "runtime/util/log.hpp"
#include "runtime/util/sealed_exec.hpp"
#include "runtime/util/unix_socket.hpp"
#include "spec/error.hpp"

namespace agentrun {
namespace {

CreateRequest create_request(const CommandLine& cl) {
  CreateRequest r;
  r.id = cl.args.at(0);
  r.bundle = cl.value("bundle").value_or(".");
  r.console_socket = cl.value("console-socket").value_or("");
  r.pid_file = cl.value("pid-file").value_or("");
  r.no_pivot = flag_enabled(cl.options, "no-pivot");
  r.no_new_keyring = flag_enabled(cl.options, "no-new-keyring");
  r.systemd_cgroup = flag_enabled(cl.global, "systemd-cgroup");
  r.policy = global_policy(cl);
  if (auto n = cl.value("preserve-fds")) r.preserve_fds = parse_preserve_fds(*n);
  if (cl.has("pidfd-socket")) fail("--pidfd-socket", "not supported yet");
  return r;
}

// A process that enters a container must not be inspectable from inside
// it (its memory, its /proc/PID/exe): the init inherits this.
void not_dumpable() {
  if (::prctl(PR_SET_DUMPABLE, 0) < 0) fail_errno("make the runtime non-dumpable", errno);
}

void write_pid_file_if_asked(const CommandLine& cl, pid_t pid) {
  if (auto path = cl.value("pid-file")) write_pid_file(*path, pid);
}

// What `run` and `exec` share in the foreground: the runtime relays the
// terminal itself when no console socket was given.
struct ForegroundTerminal {
  UniqueFd ours, theirs;
  void open_if(bool needed) {
    if (!needed) return;
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) fail_errno("create a terminal socket", errno);
    ours.reset(pair[0]);
    theirs.reset(pair[1]);
  }
  UniqueFd master(bool terminal) {
    theirs.reset();
    if (!terminal || !ours) return UniqueFd();
    return receive_fd(ours.get()).or_throw();
  }
};

int cmd_create(const CommandLine& cl, const CgroupDrivers& cgroups) {
  not_dumpable();
  create_container(store_of(cl), create_request(cl), cgroups, container_init);
  return 0;
}

int cmd_run(const CommandLine& cl, const CgroupDrivers& cgroups) {
  not_dumpable();
  const Store store = store_of(cl);
  CreateRequest request = create_request(cl);
  const bool detach = flag_enabled(cl.options, "detach");
  ForegroundTerminal tty;
  tty.open_if(!detach && request.console_socket.empty());
  request.console_fd = tty.theirs.get();
  request.defer_logger = true;
  request.start_at_ready = true;
  if (!detach) block_forwarded_signals();
  Created created = create_container(store, request, cgroups, container_init);
  const KnownContainer known{created.record, created.config};
  const std::string& id = request.id;
  int code = 0;
  try {
    UniqueFd master = tty.master(created.terminal);
    if (!created.started) start_created_container(store, cgroups, id, &known);
    if (detach) {
      start_logger(store, id, created.logger);
      return 0;
    }
    const bool logs = static_cast<bool>(created.logger);
    DeferredLogger logger(store, id, std::move(created.logger));
    code = wait_in_foreground(created.record.pid, std::move(master), logs ? &logger : nullptr);
  } catch (const Failure&) {
    // Nobody would wait for a process left running.
    delete_container(store, cgroups, id, true);
    throw;
  }
  if (!flag_enabled(cl.options, "keep")) delete_container(store, cgroups, id, true, &known);
  return code;
}

int cmd_exec(const CommandLine& cl, const CgroupDrivers& cgroups) {
  not_dumpable();
  const ExecTarget target =
      exec_target(store_of(cl), cgroups, cl.args[0], flag_enabled(cl.options, "ignore-paused"));
  const spec::Process process =
      exec_process(cl, [&target] { return container_process(target.plan, target.plan_file); });
  ExecOptions options;
  options.origin = exec_process_origin(cl);
  options.console_socket = cl.value("console-socket").value_or("");
  if (auto n = cl.value("preserve-fds")) options.preserve_fds = parse_preserve_fds(*n);
  const bool detach = flag_enabled(cl.options, "detach");
  ForegroundTerminal tty;
  tty.open_if(!detach && options.console_socket.empty() && process.terminal);
  options.console_fd = tty.theirs.get();
  if (!detach) block_forwarded_signals();
  Launched launched = exec_in_container(target, process, options, exec_init);
  UniqueFd master = tty.master(process.terminal);
  write_pid_file_if_asked(cl, launched.pid);
  if (detach) return 0;
  return wait_in_foreground(launched.pid, std::move(master));
}

int run(const CommandLine& cl) {
  const CgroupDrivers& cgroups = host_cgroup_drivers();
  if (cl.command == "create") return cmd_create(cl, cgroups);
  if (cl.command == "run") return cmd_run(cl, cgroups);
  if (cl.command == "exec") return cmd_exec(cl, cgroups);
  return run_command(cl, cgroups);
}

}  // namespace
}  // namespace agentrun

int main(int argc, char** argv) {
  using namespace agentrun;
  try {
    CommandLine cl = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    // Every process that becomes a container's runs agentrun until its
    // execve, and the program it executes may lead back to the binary (an
    // entrypoint script "#!/proc/self/exe"): that binary must not be a file
    // the container could reopen for writing (runc CVE-2019-5736).
    if (!cl.help && (cl.command == "create" || cl.command == "run" || cl.command == "exec"))
      run_from_read_only_binary();
    LogConfig log;
    if (auto it = cl.global.find("log"); it != cl.global.end()) log.path = it->second;
    if (auto it = cl.global.find("log-format"); it != cl.global.end()) {
      if (it->second != "text" && it->second != "json")
        fail("--log-format", "expects text or json, not \"" + it->second + "\"");
      log.json = it->second == "json";
    }
    log.debug = flag_enabled(cl.global, "debug");
    configure_log(log);
    if (cl.version) {
      std::printf("agentrun version %s\nspec: 1.2.0\n", AGENTRUN_VERSION);
      return 0;
    }
    if (cl.help || cl.command.empty()) {
      const CommandSpec* c = find_command(cl.command);
      std::fputs((c ? command_usage_text(*c) : usage_text()).c_str(), cl.help ? stdout : stderr);
      return cl.help ? 0 : 1;
    }
    return run(cl);
  } catch (const Failure& f) {
    log_message(LogLevel::error, f.what());
  } catch (const std::exception& e) {
    log_message(LogLevel::error, std::string("internal error: ") + e.what());
  }
  return 1;
}
