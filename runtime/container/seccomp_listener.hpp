#pragma once
// The seccomp notify fd goes to the agent listening at linux.seccomp's
// listenerPath, with the container's state, as the runtime-spec describes.
// The init loads its filters just before execve, so the fd reaches the
// runtime command that is waiting for that exec: `start` or `exec`.

#include <string>

namespace agentrun {

struct ListenerTarget {
  std::string path;      // listenerPath
  std::string metadata;  // listenerMetadata
  std::string oci_version;
  std::string state;     // the container's state JSON
  int pid = 0;           // of the process whose filter it is
};

// Throws Failure naming the listener path.
void forward_seccomp_listener(const ListenerTarget& target, int fd);

}  // namespace agentrun
