#pragma once
// The JSON lines of the egress log, one event each: a packet the ruleset
// logged, a refused or answered DNS name, the guard's own failure.

#include <time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "egress-guard/nflog.hpp"

namespace agentrun::egress {

// "2026-12-05T05:40:01.123Z"
std::string iso_time(const timespec& realtime);

// The ruleset's prefixes are "agentrun ACTION [RULE]": {"action":ACTION,
// "rule":RULE}; any other prefix is kept whole as "prefix", action "log".
std::string packet_line(const std::string& time, const nflog::Packet& p);
std::string dns_refused_line(const std::string& time, const std::string& name);
std::string resolve_line(const std::string& time, const std::string& name, const std::vector<std::string>& addresses,
                         uint32_t ttl);
std::string guard_error_line(const std::string& time, const std::string& message);

}  // namespace agentrun::egress
