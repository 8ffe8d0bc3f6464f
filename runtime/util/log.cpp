#include "runtime/util/log.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iterator>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "spec/error.hpp"

namespace agentrun {
namespace {

struct Logger {
  int fd = -1;
  bool json = false;
  bool debug = false;
};

Logger& logger() {
  static Logger l;
  return l;
}

const char* level_name(LogLevel l) {
  constexpr const char* kNames[] = {"debug", "info", "warning", "error"};  // in LogLevel's order
  const auto i = static_cast<size_t>(l);
  return i < std::size(kNames) ? kNames[i] : "error";
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to report a failing log
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::string rfc3339(const timespec& ts) {
  // Calendar arithmetic, not gmtime_r(3): glibc's first call of it reads the
  // local time zone (/etc/localtime), which a UTC time never uses.
  using namespace std::chrono;
  const sys_seconds at{seconds{ts.tv_sec}};
  const sys_days day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss time{at - day};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%09ldZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                static_cast<long>(time.seconds().count()), static_cast<long>(ts.tv_nsec));
  return buf;
}

std::string rfc3339_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return rfc3339(ts);
}

std::string format_log_line(LogLevel level, const std::string& msg, const std::string& time, bool json) {
  if (!json) return "time=" + quoted(time) + " level=" + level_name(level) + " msg=" + quoted(msg);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("level");
  w.String(level_name(level));
  w.Key("msg");
  w.String(msg);
  w.Key("time");
  w.String(time);
  w.EndObject();
  return buf.GetString();
}

void configure_log(const LogConfig& config) {
  Logger& l = logger();
  l.json = config.json;
  l.debug = config.debug;
  if (config.path.empty()) return;
  l.fd = ::open(config.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (l.fd < 0) fail_errno("open log file " + config.path, errno);
}

void log_message(LogLevel level, const std::string& msg) {
  const Logger& l = logger();
  if (level == LogLevel::debug && !l.debug) return;
  const std::string time = rfc3339_now();
  if (l.fd >= 0) write_all(l.fd, format_log_line(level, msg, time, l.json) + "\n");
  // Errors always reach the caller's stderr; the rest only when there is no log file.
  // Errors and warnings always reach the caller's stderr too (a best-effort
  // policy's skipped features must be seen); the rest only without a log file.
  if (level == LogLevel::error)
    write_all(2, msg + "\n");
  else if (level == LogLevel::warning || l.fd < 0)
    write_all(2, std::string(level_name(level)) + ": " + msg + "\n");
}

}  // namespace agentrun
