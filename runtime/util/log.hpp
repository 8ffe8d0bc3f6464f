#pragma once
// The runtime's own log (--log, --log-format). containerd's shim shows the
// last "error" line of a JSON log to the user, so every error is logged
// with what failed and why. Errors also go to stderr, where docker and a
// person at a terminal read them.

#include <time.h>

#include <string>

namespace agentrun {

enum class LogLevel { debug, info, warning, error };

struct LogConfig {
  std::string path;   // empty: stderr only
  bool json = false;  // one {"level","msg","time"} object per line
  bool debug = false;
};

// Throws Failure when the log file cannot be opened.
void configure_log(const LogConfig& config);
void log_message(LogLevel level, const std::string& msg);

// RFC 3339 with nanoseconds in UTC, as the log and state timestamps use.
std::string rfc3339_now();
std::string rfc3339(const timespec& ts);  // UTC, with nanoseconds

// One log line, without the newline; exposed for tests.
std::string format_log_line(LogLevel level, const std::string& msg, const std::string& time, bool json);

}  // namespace agentrun
