// The cgroupfs driver on v1 and hybrid hosts.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

#include "runtime/cgroup/cgroupfs.hpp"
#include "runtime/cgroup/files.hpp"
#include "runtime/cgroup/writes.hpp"
#include "runtime/util/file_io.hpp"
#include "spec/error.hpp"

namespace agentrun {
namespace {

using namespace cgroup_files;

// Kernels without CFQ have BFQ's weight files only.
std::string v1_file(const std::string& dir, const std::string& file) {
  if (file.rfind("blkio.weight", 0) != 0 || ::access((dir + "/" + file).c_str(), F_OK) == 0) return file;
  const std::string bfq = "blkio.bfq." + file.substr(6);
  return ::access((dir + "/" + bfq).c_str(), F_OK) == 0 ? bfq : file;
}

}  // namespace

void CgroupfsV1::apply_v1(const spec::Resources& r) const {
  uint64_t current_limit = std::numeric_limits<uint64_t>::max();
  const std::string memory = dir_of("memory");
  if (!memory.empty() && r.memory && r.memory->limit.value_or(0) != 0 && r.memory->swap.value_or(0) != 0)
    current_limit = number(read_req(*fs_, "memory", memory, "memory.limit_in_bytes"));
  for (const auto& w : v1_writes(r, current_limit)) {
    const std::string dir = dir_of(w.controller);
    if (dir.empty())
      fail("cgroup", "controller \"" + w.controller + "\" is not available on this host (needed by " +
                         resource_field_of(w.controller) + ")");
    write(*fs_, w.controller, dir, v1_file(dir, w.file), w.value);
  }
}

void CgroupfsV1::apply(const spec::Resources& r) {
  if (mode_ == CgroupMode::v1) return apply_v1(r);
  // Hybrid: a part goes to the unified hierarchy when its v1 controller is
  // not mounted (hugetlb on many hosts); network and devices stay v1.
  const auto in_v1 = [&](const char* c) { return !dir_of(c).empty(); };
  spec::Resources v1 = r, v2;
  v1.unified.clear();
  v2.unified = r.unified;
  if (r.memory && !in_v1("memory")) std::swap(v1.memory, v2.memory);
  if (r.cpu) {
    spec::CpuResources sets;
    sets.cpus = r.cpu->cpus;
    sets.mems = r.cpu->mems;
    if (!in_v1("cpu")) std::swap(v1.cpu, v2.cpu);
    if (!in_v1("cpuset") && v1.cpu) v1.cpu->cpus.clear(), v1.cpu->mems.clear();
    if (!in_v1("cpuset") && !v2.cpu) v2.cpu = sets;
    if (in_v1("cpuset") && v2.cpu) v2.cpu->cpus.clear(), v2.cpu->mems.clear();
    if (in_v1("cpuset") && !v1.cpu) v1.cpu = sets;
  }
  if (r.pidsLimit && !in_v1("pids")) std::swap(v1.pidsLimit, v2.pidsLimit);
  if (r.blockIO && !in_v1("blkio")) std::swap(v1.blockIO, v2.blockIO);
  if (!in_v1("hugetlb")) std::swap(v1.hugepageLimits, v2.hugepageLimits);
  if (!in_v1("rdma")) std::swap(v1.rdma, v2.rdma);
  apply_v1(v1);
  apply_unified(v2);
}

std::string CgroupfsV1::accounting_only_dir() const {
  static const std::set<std::string> kAccounting = {"name=systemd", "cpuacct", "perf_event", "net_cls", "net_prio"};
  auto only_accounting = [this](const std::string& dir) {
    return std::all_of(dirs_.begin(), dirs_.end(),
                       [&](const auto& entry) { return entry.second != dir || kAccounting.count(entry.first); });
  };
  for (const auto& [controller, dir] : dirs_)
    if (kAccounting.count(controller) && only_accounting(dir)) {
      const auto own = own_dirs_.find(controller);
      return own != own_dirs_.end() ? own->second : dir;
    }
  return "";
}

uint64_t CgroupfsV1::oom_kill_count() const {
  const std::string v1 = dir_of("memory");
  // Once the cgroup is gone (its processes too), the last count read stays.
  const auto text = v1.empty() ? read_opt(*fs_, dir_of(""), "memory.events") : read_opt(*fs_, v1, "memory.oom_control");
  if (text) last_oom_kills_ = value_of(*text, "oom_kill");
  return std::max(last_oom_kills_, oom_notices_);
}

// v1 announces OOM through an eventfd registered in cgroup.event_control.
// Without one, wait_for_oom sleeps its interval.
void CgroupfsV1::watch_oom() {
  const std::string dir = dir_of("memory");
  if (dir.empty()) return CgroupfsManager::watch_oom();
  UniqueFd event(::eventfd(0, EFD_CLOEXEC));
  UniqueFd control(::open((dir + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC));
  if (!event || !control) return;
  const std::string line = std::to_string(event.get()) + " " + std::to_string(control.get());
  if (fs_->write_file(dir + "/cgroup.event_control", line) != 0) return;
  oom_fd_ = std::move(event);
  oom_eventfd_ = true;
  oom_notices_ = oom_kill_count();  // announcements count on from the kills so far
}

}  // namespace agentrun
