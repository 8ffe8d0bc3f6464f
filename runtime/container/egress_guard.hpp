#pragma once
// What a container's egress needs (container_egress), and its egress guard
// (egress-guard/agentrun-egress, docs/policy.md 2.5), where the policy logs
// or allows names. Where it allows names, create
// starts it early and lets it go once the init's network namespace exists;
// the guard puts the rules in, says "ok" on a pipe, then answers the
// container's DNS queries and writes egress.log. Otherwise the runtime puts
// the rules in itself (confine/nft_install.hpp) and binds their log group
// there, and the guard, started at the end of create without a handshake,
// only writes the log. It runs as the runtime's child in its own session,
// outside the container's namespaces and cgroups; delete kills it (its pid
// and start time are in guard.json). If it dies, the rules stay: names stop
// resolving, nothing opens up.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/container/foreground.hpp"
#include "runtime/container/store.hpp"
#include "runtime/policy/egress_ruleset.hpp"
#include "runtime/policy/policy.hpp"
#include "runtime/util/fd.hpp"
#include "spec/config.hpp"

namespace agentrun {

// What the guard is given, apart from the rules.
struct EgressGuardInput {
  std::string id;
  pid_t init = 0;
  std::vector<std::string> resolvers;  // where allowed queries go
};

// The guard's configuration file (the contract with egress-guard/).
std::string egress_guard_config(const policy::EgressSetup& setup, const EgressGuardInput& in,
                                const std::string& log_file);

// What `inspect` shows of it (isolation.json's "egress"): the rules as the
// kernel has them, where names are resolved, and the log.
// `shared_with`: what wait_ready() returned.
std::string egress_record(const policy::EgressSetup& setup, const EgressGuardInput& in, const std::string& log_file,
                          const std::string& shared_with);

// The addresses of this (the host's) network namespace: what `host` denies.
std::vector<std::string> host_addresses();

// The nameservers of the container's /etc/resolv.conf: config.json's bind
// mount on it, else the file in the rootfs (resolved inside it).
std::vector<std::string> container_resolvers(const spec::Config& config, const std::string& rootfs);

// A container's egress: the rules, and where its allowed names resolve.
struct ContainerEgress {
  policy::EgressSetup setup;
  std::vector<std::string> resolvers;
};

// What the rules and the guard enforce, when the policy has egress rules
// and the container a network namespace of its own to hold them (under a
// best-effort policy it goes on without, having warned; strict fails).
std::optional<ContainerEgress> container_egress(const policy::Policy& chosen, const spec::Config& config,
                                                const std::string& rootfs, const std::string& id);

class EgressGuard {
 public:
  // Starts the guard that makes the rules and answers DNS, and records it
  // in guard.json; it loads libnftables meanwhile and waits for go().
  EgressGuard(const Store& store, const ContainerLock& lock, const std::string& id);
  // A guard that only logs, from `nflog`, the log group the runtime bound in
  // the container's network namespace (nft::bound_nflog_socket), by the
  // egress-guard.json written already: it is started once the container is
  // set up, and not awaited. Nothing logged before it reads is lost; what
  // stops it goes to the log.
  EgressGuard(const Store& store, const ContainerLock& lock, const std::string& id, const UniqueFd& nflog);
  EgressGuard(const EgressGuard&) = delete;
  EgressGuard& operator=(const EgressGuard&) = delete;
  // Kills and reaps it, unless it was released.
  ~EgressGuard();

  // Once the init exists: writes egress-guard.json and lets the guard go;
  // does not wait for it.
  void go(const Store& store, const ContainerLock& lock, const policy::EgressSetup& setup,
          const EgressGuardInput& in);
  // Until the rules are in place; throws the guard's own error. Returns the
  // container whose guard put the same rules in this network namespace
  // before (a pod's containers share one): this guard has then exited.
  // "" when the rules are this guard's.
  std::string wait_ready();
  // The container keeps it; returns its pid.
  pid_t release() { return std::exchange(pid_, 0); }

 private:
  pid_t pid_ = 0;
  int ready_ = -1;  // the status pipe's read end
  int go_ = -1;     // the write end of the guard's fd 0
};

// The guard that only logs from `nflog`, if it is open, started and kept;
// `nflog` is closed. Returns its pid, 0 when there was none to start.
// `run -d` starts it once the container's process runs, so that its start
// overlaps the process's (CreateRequest::defer_logger).
pid_t start_logger(const Store& store, const std::string& id, UniqueFd& nflog);

// `run` in the foreground starts that guard only once its log group has
// something to read: a process that is refused nothing pays for no guard.
// The kernel holds what is logged until then. At the process's end, the
// guard is started if anything waits in the socket, and awaited (up to
// 5 s) while it logs what is left: it exits once the init has, and the
// container's log is complete when `run` returns.
class DeferredLogger final : public ForegroundWatch {
 public:
  DeferredLogger(const Store& store, std::string id, UniqueFd nflog)
      : store_(store), id_(std::move(id)), nflog_(std::move(nflog)) {}
  int fd() const override { return nflog_.get(); }
  void readable() override;
  void ended() override;

 private:
  const Store& store_;
  std::string id_;
  UniqueFd nflog_;
  UniqueFd guard_;  // the started guard's pidfd
};

// delete: the guard guard.json records, if it is still that process,
// killed. Its end is awaited apart (await_end), so that delete frees the
// cgroups while the guard's vCPU wakes to die: the state directory, where
// the guard writes egress.log, goes only after it.
class KilledGuard {
 public:
  KilledGuard() = default;
  KilledGuard(UniqueFd pidfd, pid_t pid) : pidfd_(std::move(pidfd)), pid_(pid) {}
  // Waits (up to 5 s) until it has exited, and reaps it when it is this
  // process's child (run).
  void await_end();

 private:
  UniqueFd pidfd_;
  pid_t pid_ = 0;
};
KilledGuard kill_egress_guard(const Store& store, const std::string& id);

}  // namespace agentrun
