#pragma once
// The OCI state of a container, as the runtime-spec defines it: given to
// every hook on its stdin, and (with runc's extra fields) printed by
// `state` and `list --format json`.

#include <map>
#include <optional>
#include <string>

namespace agentrun::spec {

// runc's additions to the state, for the commands that print it.
struct StateDetails {
  std::string rootfs;
  std::string created;  // RFC 3339
  std::string owner;
};

struct State {
  std::string ociVersion;
  std::string id;
  std::string status;  // creating, created, running, stopped (paused: runc's extension)
  int pid = 0;         // 0 when there is no process
  std::string bundle;
  std::map<std::string, std::string> annotations;
  std::optional<StateDetails> details;
};

std::string state_json(const State& s, bool pretty = false);

}  // namespace agentrun::spec
