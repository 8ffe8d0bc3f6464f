#pragma once
// Starting a process in a container's namespaces: the path `create` (the
// container's init) and `exec` (a process in a running container) share.
//
//   runtime ──fork──> stage 1: joins namespaces by path (its user namespace
//                     first), creates a user namespace (the runtime writes
//                     the id maps), unshares the other namespaces, then clones
//   runtime <─parent─ the process (CLONE_PARENT): for create, pid 1 of the
//                     new pid namespace
//
// Stage 1 is needed because a new pid or time namespace only applies to
// children; a process that joins none and creates neither a user nor a time
// namespace is cloned straight into its new ones. The process is the
// runtime's child, so the runtime can reap it if setup fails; after create
// exits its init belongs to the caller's subreaper (containerd's shim), as
// with runc.
//
// What the runtime and the process say to each other once the process
// exists is a Protocol: create's is in create.cpp, exec's in exec.cpp, and
// their child sides in init/.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "runtime/init/sync.hpp"
#include "runtime/plan/plan.hpp"
#include "runtime/util/fd.hpp"
#include "runtime/util/sys.hpp"

namespace agentrun {

struct LaunchIo {
  int console_socket = -1;
  int start_listener = -1;
  // A cgroup2 directory to clone the process into (CLONE_INTO_CGROUP), or -1.
  int cgroup_fd = -1;
  std::vector<int> bind_sources;  // open_bind_sources() of the plan, handed to the init
};

struct Launched {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22, to recognise an init later (create)
  std::vector<std::string> blocked;  // executables the init covered (denyExec)
};

class Protocol;

// One of the init's entries (init/container_init.hpp), which main hands
// down: container/ starts the init but does not include it. An entry does
// not return.
using InitEntry = void (*)(Sys& sys, const Plan& plan, InitIo io);

// The runtime's end of the channel to the new process, and the processes to
// kill and reap if the launch fails.
class Conversation {
 public:
  // `creates`: the process is a container's init (create), not a process
  // `exec` starts; errors say which.
  Conversation(SyncChannel channel, bool creates) : channel_(std::move(channel)), creates_(creates) {}
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;
  ~Conversation();

  pid_t pid() const { return init_; }
  bool born_in_cgroup() const { return born_in_; }
  // Stage 1's word naming the init it cloned. The init shares stage 1's end
  // of the channel and may speak first: its words are kept for `expect`.
  void await_init_pid();
  // The next message. An error from the process, or the process ending
  // while `waiting_for`, is thrown as such.
  Message expect(const char* waiting_for);
  // A message to the process; when it has stopped meanwhile, its own error
  // (or how it ended) is what the caller learns, not the broken pipe.
  void tell(MsgType type, int fd_to_pass = -1);
  // The next message, or nothing once the process has executed its program
  // (its end of the channel is close-on-exec). Its error is thrown.
  std::optional<Message> until_exec();

 private:
  friend Launched launch(const Plan&, const Protocol&, const LaunchIo&);
  Result<Message> next();
  SyncChannel channel_;
  std::vector<Message> early_;  // the init's words before stage 1 named it, oldest first
  bool creates_;
  pid_t stage_ = 0;
  pid_t init_ = 0;
  bool born_in_ = false;
};

// The container's new network namespace, where create makes it
// (Plan::network_namespace_from_runtime): made on the runtime's CPU while
// the init's wakes, it is the init's first word. A refusal is named with
// what the host lacks, as stage 1 names the namespaces it makes.
void give_network_namespace(Sys& sys, const Plan& plan, Conversation& c);

// The init's word that it is in its network namespace (given, or its own):
// create puts the egress rules there only then. A refusal is named as above.
void await_network_namespace(Conversation& c);

// The runtime's side of what it says to one kind of process; the process's
// side is its entry in init/.
class Protocol {
 public:
  virtual ~Protocol() = default;
  // The process sets the container up (create), rather than joining one
  // that is (exec): it may not do so in a namespace of the host's.
  virtual bool sets_up_container() const = 0;
  // The process's own code, in its namespaces. Never returns.
  [[noreturn]] virtual void run_child(const Plan& plan, InitIo io) const = 0;
  // From the moment the process's pid is known until it is ready (create)
  // or has executed the user's program (exec).
  virtual void converse(const Plan& plan, Conversation& c, Launched& out) const = 0;
};

// Starts the process and runs `protocol` to its end. On failure every
// process it started is killed and reaped, and Failure is thrown with the
// process's own error.
Launched launch(const Plan& plan, const Protocol& protocol, const LaunchIo& io);

// The console socket of a process with a terminal; checks that there is
// one where one is needed (`own_pty`: the runtime relays the terminal itself).
UniqueFd connect_console(const std::string& command, bool terminal, const std::string& socket_path, bool own_pty);

// Start time of a process (clock ticks since boot), 0 if it does not exist.
uint64_t process_start_time(pid_t pid);

}  // namespace agentrun
