#pragma once
// --systemd-cgroup's line to systemd: runs the helper agentrun-systemd
// (systemd-helper/), which speaks D-Bus with sd-bus, one command per run:
// a JSON request on its stdin, a JSON reply on its stdout. The helper is
// killed and reaped when it overruns its time; every failure is a Failure
// whose step is "--systemd-cgroup" and whose reason is the helper's error
// ("start docker-abc.scope: Unit docker-abc.scope already exists.
// (org.freedesktop.systemd1.UnitExists)") with its errno.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "runtime/cgroup/systemd_properties.hpp"

namespace agentrun {

// The helper: $AGENTRUN_SYSTEMD_HELPER when set (then it must be there),
// else agentrun-systemd next to the installed runtime binary
// (installed_binary_path, sealed_exec.hpp), else
// /usr/local/libexec/agentrun/agentrun-systemd, else
// /usr/libexec/agentrun/agentrun-systemd. Throws Failure naming the places
// looked at when none is an executable file.
std::string find_systemd_helper();

// systemd's version number from its Version property: "252.22-1~deb12u1",
// "v245.4-1.fc32" and "245" give 252, 245, 245; -1 when there is none.
int systemd_version_number(const std::string& version);

struct UnitInfo {
  bool loaded = false;
  std::string active_state;   // "active", "failed" ...
  std::string control_group;  // "/system.slice/docker-abc.scope"
  std::map<std::string, PropertyValue> values;  // the properties asked for
};

class SystemdClient {
 public:
  using Timeout = std::chrono::milliseconds;
  // runc waits 30 s for systemd's jobs.
  static constexpr Timeout kDefaultTimeout{30000};

  SystemdClient();  // find_systemd_helper()
  explicit SystemdClient(std::string helper) : helper_(std::move(helper)) {}
  const std::string& helper() const { return helper_; }

  // systemd's Version ("252.22-1~deb12u1"); fails when systemd is not on the system bus.
  std::string probe(Timeout timeout = kDefaultTimeout) const;

  // Starts the transient unit `unit` in `slice` with `pid` in it (Delegate,
  // no default dependencies, then `properties`) and waits for its job.
  // Returns its cgroup as systemd reports it ("/system.slice/docker-abc.scope").
  // A unit that does not start in time is stopped again.
  std::string start_scope(const std::string& unit, const std::string& slice, const std::string& description,
                          pid_t pid, const std::vector<UnitProperty>& properties,
                          Timeout timeout = kDefaultTimeout) const;

  // SetUnitProperties for the unit's runtime (not persistent).
  void set_properties(const std::string& unit, const std::vector<UnitProperty>& properties,
                      Timeout timeout = kDefaultTimeout) const;

  // Stops the unit and waits for it; a unit systemd does not know is fine.
  void stop_unit(const std::string& unit, Timeout timeout = kDefaultTimeout) const;

  UnitInfo unit_info(const std::string& unit, const std::vector<std::string>& properties = {},
                     Timeout timeout = kDefaultTimeout) const;

 private:
  // "--systemd-cgroup: agentrun-systemd COMMAND (PATH)", for errors about the helper itself.
  std::string step(const std::string& command) const;
  // Runs `command` with the JSON `request` and returns the reply when it is ok.
  rapidjson::Document call(const std::string& command, const std::string& request, Timeout timeout) const;

  std::string helper_;
};

}  // namespace agentrun
