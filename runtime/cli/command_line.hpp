#pragma once
// The command line, as runc takes it:
//   agentrun [global flags] COMMAND [command flags] ARGS...
// Flags take "--name value", "--name=value" or "-n value"; a flag may use
// one dash or two, as runc's parser allows. Command flags end at the first
// argument that is not a flag (so `exec ID sh -c ...` passes -c through)
// or at "--". Parsing is pure and throws Failure on anything unknown.

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace agentrun {

struct FlagSpec {
  const char* name;
  char short_name;  // 0 for none
  bool takes_value;
  const char* help;
};

struct CommandSpec {
  const char* name;
  const char* arguments;  // "<container-id>", for usage
  const char* summary;
  std::vector<FlagSpec> flags;
  size_t min_args;
  size_t max_args;
};

struct CommandLine {
  std::map<std::string, std::string> global;  // flag name -> value ("true" for switches)
  std::string command;                        // empty with --version or --help alone
  std::map<std::string, std::string> options;              // the last value of each flag
  std::map<std::string, std::vector<std::string>> lists;   // every value, for repeatable flags (-e A -e B)
  std::vector<std::string> args;
  bool help = false;     // --help anywhere: print usage of `command` (or of agentrun)
  bool version = false;

  bool has(const std::string& flag) const { return options.count(flag) != 0; }
  std::optional<std::string> value(const std::string& flag) const;
  std::vector<std::string> values(const std::string& flag) const;
  bool global_has(const std::string& flag) const { return global.count(flag) != 0; }
};

const std::vector<CommandSpec>& commands();
const std::vector<FlagSpec>& global_flags();
const CommandSpec* find_command(const std::string& name);

CommandLine parse_command_line(const std::vector<std::string>& argv);  // argv[0] excluded

std::string usage_text();
std::string command_usage_text(const CommandSpec& c);

// "true"/"false" values of boolean flags given with "=": --detach=false.
bool flag_enabled(const std::map<std::string, std::string>& flags, const std::string& name);

}  // namespace agentrun
