#pragma once
// The OOM kills `events` reports for a cgroup v2 directory, counted on
// after the directory is gone. systemd removes a scope as soon as its last
// process exits, so an OOM kill that takes the container's init can take the
// directory with it within milliseconds, while the kernel spaces a file's
// change notifications 10 ms apart: a watcher can see the OOM announced
// (memory.events "oom") and then find the directory gone before its
// "oom_kill" could be read. The parent's memory.events counts its children's
// kills too (unless cgroup2 is mounted with memory_localevents): a kill it
// counted meanwhile, after an announcement the container's own count had not
// answered, is taken as the container's. No announcement, or no kill in the
// parent, counts nothing.

#include <cstdint>
#include <optional>

namespace agentrun {

class OomKills {
 public:
  // One reading of the directory's memory.events: its "oom" and "oom_kill",
  // and the parent's "oom_kill" read just before it (nullopt: the parent has
  // no memory.events).
  void read(uint64_t ooms, uint64_t kills, std::optional<uint64_t> parent_kills);
  // The directory is gone; the parent's "oom_kill" read now.
  void gone(std::optional<uint64_t> parent_kills);

  uint64_t kills() const { return kills_; }
  bool is_gone() const { return gone_; }

 private:
  bool read_once_ = false;
  bool gone_ = false;
  uint64_t kills_ = 0;
  uint64_t ooms_ = 0;          // at the last reading
  uint64_t ooms_answered_ = 0;  // at the first reading, or the last one where kills_ moved
  std::optional<uint64_t> parent_kills_;  // read with the last reading
};

}  // namespace agentrun
