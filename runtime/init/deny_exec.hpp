#pragma once
// denyExec in the init: each named command found in a PATH directory of
// the process is covered, before pivot_root, by a clone of the host's
// /dev/null (read-only, nodev, noexec) mounted on the entry itself.

#include <string>
#include <vector>

#include "runtime/plan/plan.hpp"
#include "runtime/util/sys.hpp"
#include "spec/error.hpp"

namespace agentrun {

// What the covers are made of: the rootfs (O_PATH, before pivot_root) and
// the host's /dev/null, checked to be char 1:3.
struct CoverSource {
  Sys& sys;
  int root;
  int dev_null;
};

// Covers plan.deny_exec in each of plan.deny_exec_dirs; what it covered is
// added to `blocked`, under every PATH directory it was found through.
Status block_denied_executables(const CoverSource& at, const Plan& plan, std::vector<std::string>& blocked);

}  // namespace agentrun
