#pragma once
// The OCI state of a container, as the runtime-spec defines it: printed by
// `state` and given to every hook on its stdin.

#include <map>
#include <string>

namespace agentrun::spec {

struct State {
  std::string ociVersion;
  std::string id;
  std::string status;  // creating, created, running, stopped (paused: runc's extension)
  int pid = 0;         // 0 when there is no process
  std::string bundle;
  std::map<std::string, std::string> annotations;
};

std::string state_json(const State& s);

}  // namespace agentrun::spec
