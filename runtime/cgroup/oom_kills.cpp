#include "runtime/cgroup/oom_kills.hpp"

namespace agentrun {

void OomKills::read(uint64_t ooms, uint64_t kills, std::optional<uint64_t> parent_kills) {
  if (gone_) return;
  if (!read_once_ || kills != kills_) ooms_answered_ = ooms;
  read_once_ = true;
  kills_ = kills;
  ooms_ = ooms;
  parent_kills_ = parent_kills;
}

void OomKills::gone(std::optional<uint64_t> parent_kills) {
  if (gone_) return;
  gone_ = true;
  const bool unanswered = read_once_ && ooms_ > ooms_answered_;
  if (unanswered && parent_kills && parent_kills_ && *parent_kills > *parent_kills_) ++kills_;
}

}  // namespace agentrun
