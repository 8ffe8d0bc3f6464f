#include "runtime/cgroup_manager.hpp"

#include <unistd.h>

#include <rapidjson/document.h>

#include "runtime/cgroup_path.hpp"
#include "runtime/cgroupfs.hpp"
#include "spec/error.hpp"

namespace agentrun {

std::unique_ptr<CgroupManager> plan_cgroups(const CgroupRequest& request, std::shared_ptr<CgroupFs> fs) {
  // The path is checked so that a typo is named, but there is no systemd
  // driver yet: refused either way, never placed somewhere else.
  if (request.systemd) {
    if (!request.cgroups_path.empty()) parse_systemd_cgroup_path(request.cgroups_path);
    if (::access("/run/systemd/system", F_OK) != 0)
      fail("--systemd-cgroup", "systemd is not running on this host: use the default cgroup driver");
    fail("--systemd-cgroup", "the systemd cgroup driver is not supported yet");
  }
  return CgroupfsManager::plan(request.layout, request.own, request.cgroups_path, request.id, std::move(fs));
}

std::unique_ptr<CgroupManager> load_cgroups(const std::string& json, std::shared_ptr<CgroupFs> fs) {
  rapidjson::Document d;
  if (d.Parse(json.c_str(), json.size()).HasParseError() || !d.IsObject()) fail("state: cgroup", "not a JSON object");
  // State written before there were drivers has no "driver": cgroupfs.
  const auto driver = d.FindMember("driver");
  if (driver != d.MemberEnd() && !(driver->value.IsString() && driver->value.GetString() == std::string("cgroupfs")))
    fail("state: cgroup", "\"driver\" is not cgroupfs or systemd");
  return CgroupfsManager::from_json(json, std::move(fs));
}

}  // namespace agentrun
