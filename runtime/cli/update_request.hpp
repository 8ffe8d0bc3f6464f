#pragma once
// `update`: the resources to apply, from -r (a linux.resources document) or
// from runc's flags. Pure, so that the flag handling is testable.

#include <string>

#include "runtime/cli/command_line.hpp"
#include "spec/config.hpp"

namespace agentrun {

// `resources_text` is the content of -r when it was given; its device rules
// get runc's standard list, as config.json's do.
spec::Resources update_resources(const CommandLine& cl, const std::string& resources_text);

// "512m", "1G", "1024" -> bytes (k, m, g, t with an optional b, base 1024);
// "-1" stays -1 (unlimited). Throws Failure naming the flag.
int64_t parse_bytes(const std::string& value, const std::string& flag);

// Go-style durations as runc's --interval takes them: "5s", "100ms", "1m30s".
uint64_t parse_duration_ms(const std::string& value, const std::string& flag);

}  // namespace agentrun
