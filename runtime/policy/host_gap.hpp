#pragma once
// One thing config.json asks for that this host cannot give (host_gaps.hpp
// finds them; process_policy.hpp judges them): plain data.

#include <string>

namespace agentrun::policy {

struct HostGap {
  std::string what;  // "config.json: <field>: <what is left out and why>"
  // Leaving it out gives the container less isolation than config.json asked
  // for: an agent policy refuses it (or records it under best-effort), with
  // these words and what to change.
  bool lessens_isolation = false;
  std::string refusal;
  std::string fix;
};

}  // namespace agentrun::policy
