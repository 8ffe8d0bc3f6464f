#include "runtime/util/proc_stat.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace agentrun {

std::optional<ProcStat> parse_proc_stat(const char* text) {
  // The command name (field 2) may contain spaces and parentheses: fields
  // are counted after its last ')'.
  const char* p = std::strrchr(text, ')');
  if (!p || p[1] != ' ' || !p[2]) return std::nullopt;
  ProcStat st;
  st.state = p[2];
  p += 2;
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return std::nullopt;
    ++p;
  }
  char* end = nullptr;
  st.start_time = std::strtoull(p, &end, 10);
  if (end == p) return std::nullopt;
  return st;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  return parse_proc_stat(buf);
}

}  // namespace agentrun
