#pragma once
// Typed messages between `create` and the processes it starts, over a
// SOCK_SEQPACKET socket (one message per packet). An error in the init
// travels as a message with its step, reason and errno, so the user sees
// "mount proc on /proc: permission denied", not "init failed".

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/util/fd.hpp"
#include "spec/error.hpp"

namespace agentrun {

enum class MsgType : uint32_t {
  stage_ready = 1,  // stage 1 is in its user namespace (value: 1) or has none (0)
  proceed,          // parent: maps written, cgroups joined; go on
  init_pid,         // stage 1: value = pid of the init, as the parent sees it (bit 32: born in its cgroup)
  run_hooks,        // init: mounts are ready; run prestart and createRuntime hooks
  hooks_done,       // parent: hooks ran
  seccomp_listener, // init: carries the seccomp notify fd
  ready,            // init: set up, waiting for start
  start,            // `start`: run the user's process
  error,            // step, reason, errno
  report,           // init: something the runtime records (text), e.g. a blocked executable
  cgroup_joined,    // parent: the init is in the container's cgroups
  network_ready,    // init: it is in its own network namespace (0), or the errno refusing it
  network_namespace, // parent: carries the network namespace it made for the init (the last type)
};

// init_pid's value: the pid, and this bit when it was born in its cgroup.
constexpr int64_t kInitBornInCgroup = int64_t{1} << 32;

struct Message {
  MsgType type = MsgType::error;
  int64_t value = 0;
  Error error;      // for MsgType::error
  UniqueFd fd;      // passed by SCM_RIGHTS, when sent with one
};

class SyncChannel {
 public:
  SyncChannel() = default;
  explicit SyncChannel(UniqueFd fd) : fd_(std::move(fd)) {}

  Status send(MsgType type, int64_t value = 0, int fd_to_pass = -1);
  Status send_error(const Error& e);
  Status send_report(const std::string& text);  // arrives as Message::error.step
  // A closed peer is an Error with errnum EPIPE and reason "closed".
  Result<Message> receive();

  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

 private:
  Status send_text(MsgType type, const Error& e);
  UniqueFd fd_;
};

// A connected pair: [0] for the parent, [1] for the child.
Result<std::pair<SyncChannel, SyncChannel>> make_channel_pair();

// What the runtime hands the process it starts, beside the channel.
struct InitIo {
  SyncChannel* sync = nullptr;  // to `create` or `exec`
  int console_socket = -1;      // connected, when the process has a terminal
  int start_listener = -1;      // listening SOCK_SEQPACKET socket `start` connects to; -1: start comes on `sync`
  bool in_cgroup = false;       // the runtime said it put this process in the container's cgroups
  std::vector<int> bind_sources;  // inherited from `create` (open_bind_sources), the init's to close
};

}  // namespace agentrun
