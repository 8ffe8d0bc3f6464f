#include "runtime/cli/default_spec.hpp"

#include <rapidjson/document.h>

#include "spec/json_write.hpp"

namespace agentrun {
namespace {

constexpr const char* kDefault = R"({
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "agentrun",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                    "/proc/scsi", "/sys/devices/virtual/powercap"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
})";

void make_rootless(rapidjson::Document& d, unsigned uid, unsigned gid) {
  auto& a = d.GetAllocator();
  auto& linux = d["linux"];
  linux["namespaces"].PushBack(rapidjson::Value(rapidjson::kObjectType).AddMember("type", "user", a), a);
  auto mapping = [&](unsigned host) {
    rapidjson::Value list(rapidjson::kArrayType), m(rapidjson::kObjectType);
    m.AddMember("containerID", 0, a).AddMember("hostID", host, a).AddMember("size", 1, a);
    list.PushBack(m, a);
    return list;
  };
  linux.AddMember("uidMappings", mapping(uid), a);
  linux.AddMember("gidMappings", mapping(gid), a);
  // An unprivileged user cannot set the group of devpts or mount a new sysfs without a network namespace of its own.
  auto& mounts = d["mounts"];
  for (auto& m : mounts.GetArray()) {
    if (m["destination"] == "/dev/pts") {
      auto& opts = m["options"];
      for (auto it = opts.Begin(); it != opts.End();)
        it = (*it == "gid=5") ? opts.Erase(it) : it + 1;
    }
  }
}

}  // namespace

std::string default_spec_json(bool rootless, unsigned uid, unsigned gid) {
  rapidjson::Document d;
  d.Parse(kDefault);
  if (rootless) make_rootless(d, uid, gid);
  return spec::pretty_json([&](spec::PrettyWriter& w) { d.Accept(w); });
}

}  // namespace agentrun
