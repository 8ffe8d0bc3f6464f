#pragma once
// Copies a directory tree between two open directories, keeping modes,
// owners and symlinks: what the "tmpcopyup" mount option needs.

#include <string>

#include "spec/error.hpp"

namespace agentrun {

// The content of `from` into `to`; `to` also takes the mode and owner of `from`.
Status copy_tree(int from, int to, const std::string& step);

}  // namespace agentrun
