#pragma once
// Where a process's settings came from, so that a refusal names the field
// or flag the user wrote and says what to change there: config.json's
// process at create; at exec, the --process file, or the flags laid over
// the container's process (exec_process_origin, cli/).

#include <set>
#include <string>

namespace agentrun::policy {

struct ProcessOrigin {
  enum class Kind { config, process_file, flags };
  Kind kind = Kind::config;
  std::string file;             // process_file: the --process path
  std::set<std::string> flags;  // flags: those given ("user", "cap", "cwd", ...)

  // `field` as in config.json's process ("user.uid", "capabilities.bounding",
  // "apparmorProfile"): "config.json: process.user.uid", "exec --process
  // p.json: user.uid", "exec --user", or, for a field no flag set, "the
  // container's process.user.uid".
  std::string name(const std::string& field) const;
  // The same for a sentence saying what to change: "process.user.uid in
  // config.json", "user.uid in p.json", "exec --user".
  std::string where(const std::string& field) const;
  // True when an exec flag set `field`.
  bool from_flag(const std::string& field) const;
};

}  // namespace agentrun::policy
