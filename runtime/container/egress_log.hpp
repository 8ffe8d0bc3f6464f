#pragma once
// Reading what the egress guard logs (egress.log, one JSON object per line,
// see egress-guard/): the counts `inspect` shows, and the lines `events`
// streams as they come.

#include <cstdint>
#include <string>
#include <vector>

namespace agentrun {

struct EgressCounts {
  uint64_t denied = 0;       // connections refused by the rules
  uint64_t allowed = 0;      // connections let through (log: all)
  uint64_t names_refused = 0;  // DNS queries for names the policy does not allow
  uint64_t unreadable = 0;   // lines that are not a guard's record
};

// Of the log's text; a line cut short at the end is not counted.
EgressCounts count_egress_log(std::string_view text);
std::string egress_counts_json(const EgressCounts& c, const std::string& file);

// The log's new complete lines since the last call. When the guard has
// started the file afresh (past its size bound), it reads from the start.
class EgressLogTail {
 public:
  explicit EgressLogTail(std::string path) : path_(std::move(path)) {}
  std::vector<std::string> new_lines();

 private:
  std::string path_;
  uint64_t offset_ = 0;
  uint64_t inode_ = 0;
};

}  // namespace agentrun
