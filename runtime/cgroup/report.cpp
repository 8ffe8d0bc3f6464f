#include "runtime/cgroup/report.hpp"

#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

#include "runtime/cgroup/systemd_client.hpp"
#include "spec/error.hpp"

namespace agentrun {

CgroupReport report_cgroups(const CgroupLayout& layout, bool systemd) {
  CgroupReport r;
  r.layout = cgroup_mode_name(layout.mode);
  if (layout.mode != CgroupMode::v2 && !layout.v1.empty()) r.layout += ", v1 hierarchies below " +
      layout.v1.begin()->second.substr(0, layout.v1.begin()->second.rfind('/'));
  if (!layout.unified.empty()) r.layout += ", cgroup2 at " + layout.unified;
  std::set<std::string> usable;
  for (const auto& [controller, mount] : layout.v1)
    if (controller.rfind("name=", 0) != 0) usable.insert(controller);
  for (const auto& c : layout.unified_controllers)
    if (!layout.unified_blocked.count(c)) usable.insert(c);
  r.controllers.assign(usable.begin(), usable.end());
  r.driver = systemd ? "systemd" : "cgroupfs";
  if (!systemd) return r;
  if (::access("/run/systemd/system", F_OK) != 0) {
    r.usable = false;
    r.detail = "systemd is not running on this host (no /run/systemd/system)";
    return r;
  }
  try {
    const SystemdClient client;
    r.detail = "systemd " + client.probe() + ", through " + client.helper();
  } catch (const Failure& f) {
    r.usable = false;
    r.detail = f.what();
  }
  return r;
}

std::string cgroup_report_text(const CgroupReport& r) {
  std::string controllers;
  for (const auto& c : r.controllers) controllers += (controllers.empty() ? "" : " ") + c;
  return "cgroup layout: " + r.layout + "\ncgroup driver: " + r.driver +
         (r.detail.empty() ? "" : (r.usable ? ": " : ": UNUSABLE: ") + r.detail) +
         "\ncgroup controllers usable: " + (controllers.empty() ? "none" : controllers) + "\n";
}

std::string cgroup_report_json(const CgroupReport& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("layout"), w.String(r.layout.c_str());
  w.Key("driver"), w.String(r.driver.c_str());
  w.Key("usable"), w.Bool(r.usable);
  w.Key("detail"), w.String(r.detail.c_str());
  w.Key("controllers");
  w.StartArray();
  for (const auto& c : r.controllers) w.String(c.c_str());
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

}  // namespace agentrun
