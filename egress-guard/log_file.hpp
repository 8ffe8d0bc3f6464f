#pragma once
// An append-only file of lines bounded in size: a line that would take it
// past max_bytes first moves it to FILE.1 (replacing that) and starts a new
// FILE, so at most about twice max_bytes are kept. Safe across threads.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace agentrun::egress {

class LogFile {
 public:
  LogFile(std::string path, uint64_t max_bytes);  // opens (creates) it; throws GuardError
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Appends `line` and a newline; throws GuardError when it cannot.
  void append(std::string_view line);

 private:
  void open();

  std::string path_;
  uint64_t max_bytes_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::mutex mutex_;
};

}  // namespace agentrun::egress
