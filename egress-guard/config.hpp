#pragma once
// The guard's configuration, a JSON file the runtime writes in the
// container's state directory (docs in egress-guard/README.md). Unknown keys,
// wrong types and values that could not be used safely are errors.

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentrun::egress {

struct NameRule {
  std::string pattern;                // normalized (name_match.hpp)
  std::vector<std::string> elements;  // "tcp . 443": what follows the address in names4/names6
};

struct Upstream {
  std::string text;  // as written, for messages
  sockaddr_storage addr{};
  socklen_t len = 0;
};

struct DnsConfig {
  uint16_t port = 53;
  std::vector<Upstream> upstream;
  uint32_t mark = 0;
  bool allow_all = false;
  std::vector<NameRule> names;
  uint32_t min_ttl = 5;
  uint32_t max_ttl = 3600;
};

struct LogConfig {
  uint16_t group = 0;
  std::string file;
  uint64_t max_bytes = 1 << 20;
};

struct Config {
  std::string id;
  std::string netns;
  std::string ruleset;  // "": the runtime has put the rules in (no dns then)
  std::string table;
  std::optional<pid_t> init_pid;
  std::optional<DnsConfig> dns;
  std::optional<LogConfig> log;
};

// Throws GuardError ("config: ...") naming the offending key.
Config parse_config(std::string_view json);

}  // namespace agentrun::egress
