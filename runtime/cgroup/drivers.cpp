#include "runtime/cgroup/drivers.hpp"

#include <chrono>
#include <thread>

#include "runtime/cgroup/cgroupfs.hpp"
#include "runtime/cgroup/host_cgroup_fs.hpp"
#include "runtime/cgroup/systemd.hpp"
#include "spec/error.hpp"
#include "spec/json_reader.hpp"

namespace agentrun {

void CgroupManager::wait_for_oom(int timeout_ms) const {
  std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
}

namespace {

std::shared_ptr<CgroupFs> or_the_hosts(std::shared_ptr<CgroupFs> fs) {
  return fs ? std::move(fs) : std::make_shared<HostCgroupFs>();
}

}  // namespace

std::unique_ptr<CgroupManager> plan_cgroups(const CgroupRequest& request, std::shared_ptr<CgroupFs> fs) {
  fs = or_the_hosts(std::move(fs));
  if (request.systemd) return SystemdCgroup::plan(request, std::move(fs));
  return CgroupfsManager::plan(request.layout, request.own, request.cgroups_path, request.id, std::move(fs));
}

std::unique_ptr<CgroupManager> load_cgroups(const std::string& json, std::shared_ptr<CgroupFs> fs) {
  fs = or_the_hosts(std::move(fs));
  const spec::JsonDocument doc(json, "state: cgroup");
  // State written before there were drivers has no "driver": cgroupfs.
  const auto driver = doc.root().get("driver");
  const std::string name = driver ? driver->str() : "cgroupfs";
  if (name == "systemd") return SystemdCgroup::from_json(json, std::move(fs));
  if (name != "cgroupfs") driver->fail("not cgroupfs or systemd");
  return CgroupfsManager::from_json(json, std::move(fs));
}

const CgroupDrivers& host_cgroup_drivers() {
  struct HostDrivers : CgroupDrivers {
    std::unique_ptr<CgroupManager> plan(const CgroupRequest& request) const override { return plan_cgroups(request); }
    std::unique_ptr<CgroupManager> load(const std::string& json) const override { return load_cgroups(json); }
  };
  static const HostDrivers drivers;
  return drivers;
}

}  // namespace agentrun
