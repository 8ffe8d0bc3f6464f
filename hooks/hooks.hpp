#pragma once
// OCI hooks: each runs with the container's state on stdin, with exactly the
// environment config.json gives it, and is killed when its timeout passes.
// Usable between fork and exec (the init runs createContainer and
// startContainer hooks): no exceptions, errors are values.

#include <string>
#include <vector>

#include "spec/config.hpp"
#include "spec/error.hpp"

namespace agentrun {

// Runs `hooks` in order; the first failure stops and is returned, naming
// the kind ("prestart"), the position and the path, with the hook's output.
Status run_hooks(const std::vector<spec::Hook>& hooks, const std::string& kind,
                 const std::string& state_json);

// Runs all of `hooks`, a failure not stopping the ones after it (the spec
// makes poststart and poststop failures warnings); returns the failures.
std::vector<Error> run_every_hook(const std::vector<spec::Hook>& hooks, const std::string& kind,
                                  const std::string& state_json);

}  // namespace agentrun
