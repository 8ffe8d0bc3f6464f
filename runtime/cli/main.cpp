// agentrun: an OCI runtime for untrusted AI-agent workloads.

#include <cstdio>
#include <string>
#include <vector>

#include "runtime/cgroup/drivers.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/init/container_init.hpp"
#include "runtime/util/log.hpp"
#include "runtime/util/sealed_exec.hpp"
#include "spec/error.hpp"

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
    // The composition root: the wings below see the cgroup drivers and the
    // init only through the interfaces these are handed down as.
    return run_command(cl, {host_cgroup_drivers(), container_init, exec_init});
  } catch (const Failure& f) {
    log_message(LogLevel::error, f.what());
  } catch (const std::exception& e) {
    log_message(LogLevel::error, std::string("internal error: ") + e.what());
  }
  return 1;
}
