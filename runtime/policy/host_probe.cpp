#include "runtime/policy/host_probe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "runtime/util/file_io.hpp"

namespace agentrun {

HostFacts probe_host() {
  HostFacts h;
  if (auto last = read_whole_file(AT_FDCWD, "/proc/sys/kernel/cap_last_cap"))
    h.last_cap = std::atoi(last->c_str());
  auto apparmor = read_whole_file(AT_FDCWD, "/sys/module/apparmor/parameters/enabled");
  h.apparmor = apparmor && !apparmor->empty() && (*apparmor)[0] == 'Y';
  h.selinux = ::access("/sys/fs/selinux/enforce", F_OK) == 0;
  return h;
}

}  // namespace agentrun
