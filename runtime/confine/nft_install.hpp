#pragma once
// Puts a Table (nft_table.hpp) in a container's network namespace, as one
// transaction, from the runtime: a netfilter socket made in that namespace
// (setns there and back on the calling thread), the batch, and the
// kernel's answer to each of its messages.
//
// A namespace may hold the table already: the containers of a pod share
// one, and a container started again in its pod finds its own; its comment
// says which (nft_owner.hpp).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/confine/nft_table.hpp"
#include "runtime/util/fd.hpp"

namespace agentrun::nft {

// The network namespace of process `pid`, held open, and the path that
// reopens it (/proc/self/fd/N) for install_table and bound_nflog_socket: it
// stays the same namespace if the process dies meanwhile. nullopt when the
// process, a child of the caller, has exited already (an init that failed,
// which says why itself); Failure when its namespace cannot be opened else.
struct HeldNamespace {
  UniqueFd fd;
  std::string path;
};
std::optional<HeldNamespace> hold_network_namespace(pid_t pid);

// Returns "" when the table is now this one, or the owner whose table,
// with the same rules, is there already. Throws Failure, with the step
// (the rule the kernel refused, for one), otherwise; the namespace is then
// left as it was. `netns`: a /proc/PID/ns/net or a bind mount of one,
// never this process's own.
std::string install_table(const std::string& netns, const Table& table);

// A netfilter socket made in the namespace at `netns` (as install_table's),
// bound to the NFLOG `group` the table logs to (nflog_bind.hpp): from now on
// the kernel queues what is logged there, for a guard that reads it later.
// Throws Failure naming the step.
UniqueFd bound_nflog_socket(const std::string& netns, uint16_t group);

}  // namespace agentrun::nft
