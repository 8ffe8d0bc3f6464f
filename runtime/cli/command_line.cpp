#include "runtime/cli/command_line.hpp"

#include <algorithm>
#include <cstdint>

#include "spec/error.hpp"

namespace agentrun {
namespace {

const FlagSpec kBundle{"bundle", 'b', true, "path to the root of the bundle directory (default: the current directory)"};
const FlagSpec kConsoleSocket{"console-socket", 0, true,
                              "path to an AF_UNIX socket that receives the pty master of the container's terminal"};
const FlagSpec kPidFile{"pid-file", 0, true, "file to write the process id of the container's init to"};
const FlagSpec kNoPivot{"no-pivot", 0, false, "use MS_MOVE and chroot instead of pivot_root (for a rootfs on a ramdisk)"};
const FlagSpec kNoNewKeyring{"no-new-keyring", 0, false, "keep the caller's session keyring instead of a new one"};
const FlagSpec kPreserveFds{"preserve-fds", 0, true, "number of extra descriptors (from 3) to pass to the container"};
const FlagSpec kPidfdSocket{"pidfd-socket", 0, true, "accepted for runc compatibility; not supported yet"};

std::vector<FlagSpec> create_flags() {
  return {kBundle, kConsoleSocket, kPidFile, kNoPivot, kNoNewKeyring, kPreserveFds, kPidfdSocket};
}

std::vector<FlagSpec> run_flags() {
  auto f = create_flags();
  f.push_back({"detach", 'd', false, "detach from the container's process"});
  f.push_back({"keep", 0, false, "do not delete the container after it exits"});
  f.push_back({"no-subreaper", 0, false, "accepted for runc compatibility (agentrun is the init's parent)"});
  return f;
}

std::vector<FlagSpec> exec_flags() {
  return {
      {"process", 'p', true, "path to a process.json describing the process (the other process flags are ignored)"},
      {"tty", 't', false, "allocate a pseudo-terminal"},
      kConsoleSocket,
      {"detach", 'd', false, "detach from the process"},
      kPidFile,
      {"env", 'e', true, "set an environment variable (repeatable)"},
      {"cwd", 0, true, "working directory in the container"},
      {"user", 'u', true, "uid[:gid] of the process"},
      {"additional-gids", 'g', true, "an additional group id (repeatable)"},
      {"cap", 'c', true, "add a capability (repeatable)"},
      {"no-new-privs", 0, false, "set no_new_privs for the process"},
      kPreserveFds,
      {"ignore-paused", 0, false, "allow exec in a paused container"},
      {"apparmor", 0, true, "AppArmor profile of the process"},
      {"process-label", 0, true, "SELinux label of the process"},
  };
}

std::vector<FlagSpec> update_flags() {
  return {
      {"resources", 'r', true, "path to a JSON file of linux.resources to apply (\"-\" for stdin)"},
      {"memory", 0, true, "memory limit in bytes (suffixes k, m, g)"},
      {"memory-swap", 0, true, "memory plus swap limit in bytes (-1: unlimited)"},
      {"memory-reservation", 0, true, "memory soft limit in bytes"},
      {"kernel-memory", 0, true, "kernel memory limit (not supported by recent kernels)"},
      {"kernel-memory-tcp", 0, true, "kernel TCP buffer limit"},
      {"cpu-shares", 0, true, "CPU shares (relative weight)"},
      {"cpu-quota", 0, true, "CPU CFS quota in microseconds"},
      {"cpu-period", 0, true, "CPU CFS period in microseconds"},
      {"cpu-rt-runtime", 0, true, "CPU realtime runtime in microseconds"},
      {"cpu-rt-period", 0, true, "CPU realtime period in microseconds"},
      {"cpu-idle", 0, true, "1 to make the cgroup SCHED_IDLE"},
      {"cpuset-cpus", 0, true, "CPUs allowed (0-3, 0,1)"},
      {"cpuset-mems", 0, true, "memory nodes allowed"},
      {"pids-limit", 0, true, "maximum number of processes (-1: unlimited)"},
      {"blkio-weight", 0, true, "block IO weight (10-1000)"},
      {"l3-cache-schema", 0, true, "Intel RDT L3 schema (not supported)"},
      {"mem-bw-schema", 0, true, "Intel RDT memory bandwidth schema (not supported)"},
  };
}

const FlagSpec* find_flag(const std::vector<FlagSpec>& flags, const std::string& name) {
  for (const auto& f : flags)
    if (name == f.name || (name.size() == 1 && f.short_name == name[0])) return &f;
  return nullptr;
}

bool is_flag(const std::string& a) { return a.size() > 1 && a[0] == '-'; }

// Consumes flags from argv[i...] into `out`; stops at the first non-flag.
size_t parse_flags(const std::vector<std::string>& argv, size_t i, const std::vector<FlagSpec>& flags,
                   std::map<std::string, std::string>& out, std::map<std::string, std::vector<std::string>>& lists,
                   bool& help) {
  while (i < argv.size() && is_flag(argv[i])) {
    std::string a = argv[i++];
    if (a == "--") break;
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "help" || name == "h") {
      help = true;
      continue;
    }
    const FlagSpec* f = find_flag(flags, name);
    if (!f) fail("flag provided but not defined", "-" + name);
    if (!f->takes_value) {
      out[f->name] = inline_value.value_or("true");
      if (out[f->name] != "true" && out[f->name] != "false")
        fail("flag --" + std::string(f->name), "expects true or false, not \"" + out[f->name] + "\"");
      continue;
    }
    if (!inline_value && i >= argv.size()) fail("flag needs an argument", "--" + std::string(f->name));
    out[f->name] = inline_value ? *inline_value : argv[i++];
    lists[f->name].push_back(out[f->name]);
  }
  return i;
}

}  // namespace

std::optional<std::string> CommandLine::value(const std::string& flag) const {
  auto it = options.find(flag);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> CommandLine::values(const std::string& flag) const {
  auto it = lists.find(flag);
  return it == lists.end() ? std::vector<std::string>{} : it->second;
}

bool flag_enabled(const std::map<std::string, std::string>& flags, const std::string& name) {
  auto it = flags.find(name);
  return it != flags.end() && it->second == "true";
}

const std::vector<FlagSpec>& global_flags() {
  static const std::vector<FlagSpec> kFlags = {
      {"root", 0, true, "root directory for the containers' state (default: /run/agentrun)"},
      {"log", 0, true, "file to log to (default: stderr)"},
      {"log-format", 0, true, "log format: text or json"},
      {"debug", 0, false, "log debug messages"},
      {"systemd-cgroup", 0, false, "use systemd to manage cgroups (not supported yet: refused)"},
      {"criu", 0, true, "path to criu (accepted for runc compatibility; checkpoint is not supported)"},
      {"rootless", 0, true, "true, false or auto (accepted for runc compatibility)"},
      {"policy", 0, true, "agent policy: a built-in name, an installed name or a path (default: the operator's)"},
      {"version", 'v', false, "print the version"},
  };
  return kFlags;
}

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"create", "<container-id>", "create a container from a bundle, stopped before the user's process runs",
       create_flags(), 1, 1},
      {"start", "<container-id>", "run the user's process of a created container", {}, 1, 1},
      {"run", "<container-id>", "create and start a container", run_flags(), 1, 1},
      {"state", "<container-id>", "print the state of a container as JSON", {}, 1, 1},
      {"kill", "<container-id> [signal]", "send a signal (default SIGTERM) to the container's init",
       {{"all", 'a', false, "send the signal to every process of the container"}}, 1, 2},
      {"delete", "<container-id>", "delete a container and everything it holds",
       {{"force", 'f', false, "kill the container first if it is running"}}, 1, 1},
      {"list", "", "list containers",
       {{"format", 'f', true, "table or json"}, {"quiet", 'q', false, "print only the ids"}}, 0, 0},
      {"spec", "", "write a default config.json",
       {kBundle, {"rootless", 0, false, "write a config for an unprivileged user"}}, 0, 0},
      {"features", "", "print the features this runtime supports as JSON", {}, 0, 0},
      {"exec", "<container-id> [command [args...]]", "run a new process in a running container", exec_flags(), 1,
       SIZE_MAX},
      {"ps", "<container-id> [ps options]", "list the processes of a container",
       {{"format", 'f', true, "table or json"}}, 1, SIZE_MAX},
      {"pause", "<container-id>", "freeze every process of a container", {}, 1, 1},
      {"resume", "<container-id>", "thaw a paused container", {}, 1, 1},
      {"update", "<container-id>", "change the resource limits of a container", update_flags(), 1, 1},
      {"inspect", "<container-id>", "print the isolation a container got: policy, features, seccomp, Landlock, paths",
       {}, 1, 1},
      {"preflight", "", "print which isolation features this host offers and whether the policy would start",
       {{"format", 'f', true, "table or json"}, {"policy", 0, true, "the policy to check (default: as for create)"}}, 0,
       0},
      {"events", "<container-id>", "print resource statistics and OOM events of a container",
       {{"stats", 0, false, "print one statistics record and exit"},
        {"interval", 0, true, "time between statistics records (default 5s)"}}, 1, 1},
  };
  return kCommands;
}

const CommandSpec* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

CommandLine parse_command_line(const std::vector<std::string>& argv) {
  CommandLine cl;
  std::map<std::string, std::vector<std::string>> global_lists;
  size_t i = parse_flags(argv, 0, global_flags(), cl.global, global_lists, cl.help);
  cl.version = flag_enabled(cl.global, "version");
  if (i >= argv.size()) return cl;
  cl.command = argv[i++];
  if (cl.command == "help") {
    cl.help = true;
    cl.command = i < argv.size() ? argv[i] : "";
    if (!cl.command.empty() && !find_command(cl.command)) fail("help", "unknown command \"" + cl.command + "\"");
    return cl;
  }
  const CommandSpec* spec = find_command(cl.command);
  if (!spec) fail("unknown command \"" + cl.command + "\"", "see agentrun --help");
  i = parse_flags(argv, i, spec->flags, cl.options, cl.lists, cl.help);
  cl.args.assign(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
  if (cl.help) return cl;
  if (cl.args.size() < spec->min_args || cl.args.size() > spec->max_args) {
    std::string want = spec->min_args == spec->max_args ? std::to_string(spec->min_args)
                                                         : std::to_string(spec->min_args) + " to " +
                                                               std::to_string(spec->max_args);
    fail(cl.command, "expects " + want + " argument(s) (" + spec->arguments + "), got " +
                         std::to_string(cl.args.size()));
  }
  return cl;
}

namespace {

std::string flag_lines(const std::vector<FlagSpec>& flags) {
  std::string out;
  for (const auto& f : flags) {
    std::string left = "  --" + std::string(f.name);
    if (f.short_name) left += ", -" + std::string(1, f.short_name);
    if (f.takes_value) left += " value";
    left.resize(std::max<size_t>(left.size() + 1, 30), ' ');
    out += left + f.help + "\n";
  }
  return out;
}

}  // namespace

std::string usage_text() {
  std::string out =
      "agentrun: an OCI container runtime for untrusted AI-agent workloads\n\n"
      "usage: agentrun [global options] command [command options] [arguments...]\n\ncommands:\n";
  for (const auto& c : commands()) {
    std::string left = "  " + std::string(c.name);
    left.resize(14, ' ');
    out += left + c.summary + "\n";
  }
  out += "\nglobal options:\n" + flag_lines(global_flags()) + "  --help, -h                  show help\n";
  return out;
}

std::string command_usage_text(const CommandSpec& c) {
  std::string out = "usage: agentrun " + std::string(c.name);
  if (!c.flags.empty()) out += " [command options]";
  if (*c.arguments) out += " " + std::string(c.arguments);
  out += "\n\n" + std::string(c.summary) + "\n";
  if (!c.flags.empty()) out += "\noptions:\n" + flag_lines(c.flags);
  return out;
}

}  // namespace agentrun
