#define BOOST_TEST_MODULE test_validate
#include <boost/test/unit_test.hpp>
#include <string>

#include "spec/error.hpp"
#include "spec/parse_config.hpp"
#include "spec/validate.hpp"
#include "support/checks.hpp"

using namespace agentrun::spec;

namespace {

// A config that uses every feature the rules look at, each in a valid way
// (several right at the edge of what is allowed).
const char* kGood = R"({
  "ociVersion": "1.2.0",
  "root": {"path": "rootfs"},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "source": "/srv", "options": ["rbind"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}
  ],
  "process": {
    "user": {"uid": 0, "gid": 0, "umask": 511},
    "args": ["sh"],
    "cwd": "/",
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 10},
                {"type": "RLIMIT_CORE", "hard": 5, "soft": 0}],
    "oomScoreAdj": 1000,
    "ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 7}
  },
  "hooks": {"prestart": [{"path": "/bin/true"}], "poststop": [{"path": "/bin/true"}]},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}, {"type": "ipc"},
                   {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}],
    "uidMappings": [{"containerID": 0, "hostID": 4294901760, "size": 65536}],
    "gidMappings": [{"containerID": 4294901760, "hostID": 100000, "size": 65536}],
    "timeOffsets": {"monotonic": {"secs": 1, "nanosecs": 999999999}, "boottime": {"secs": -1}},
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "kernel.msgmax": "1",
               "kernel.sem": "1 2 3 4", "fs.mqueue.msg_max": "10", "kernel.hostname": "x",
               "kernel.domainname": "y"},
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229},
                {"type": "p", "path": "/dev/sub/fifo"}],
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "rootfsPropagation": "rprivate",
    "personality": {"domain": "LINUX"},
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "listenerPath": "/run/l.sock",
      "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 5, "value": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 3},
        {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}
      ]
    }
  }
})";

template <class Mutate>
void rejects(Mutate mutate, const std::string& expected) {
  Config c = parse_config(kGood);
  mutate(c);
  BOOST_CHECK_EXCEPTION(validate_config(c), agentrun::Failure, Message{expected});
}

template <class Mutate>
void accepts(Mutate mutate) {
  Config c = parse_config(kGood);
  mutate(c);
  BOOST_CHECK_NO_THROW(validate_config(c));
}

Namespace& find_ns(Config& c, NamespaceType t) {
  for (auto& n : c.linux.namespaces)
    if (n.type == t) return n;
  throw std::logic_error("namespace not in kGood");
}

void drop_ns(Config& c, NamespaceType t) {
  std::erase_if(c.linux.namespaces, [t](const Namespace& n) { return n.type == t; });
}

}  // namespace

BOOST_AUTO_TEST_CASE(good_config_passes) {
  accepts([](Config&) {});
  // Without a process (plan rejects that later, not validation).
  accepts([](Config& c) { c.process.reset(); });
  BOOST_CHECK_EXCEPTION(
      validate_config(parse_config(R"({"ociVersion": "9", "root": {"path": "r"}})"), "bundle/config.json"),
      agentrun::Failure,
      Message{
          R"(bundle/config.json: ociVersion: unsupported version "9" (supported: 1.0.x to 1.2.x))"});
}

BOOST_AUTO_TEST_CASE(oci_version) {
  for (const char* v : {"1.0.0", "1.0.2-dev", "1.1.0-rc.1", "1.2.1", "1.2.0+build", "1.0.0-rc5"})
    accepts([v](Config& c) { c.ociVersion = v; });
  for (const char* v : {"2.0.0", "1.3.0", "1.0", "0.9.0", "1.0.0-", "v1.0.0", "", "1.0.0x", "1..0"})
    rejects([v](Config& c) { c.ociVersion = v; },
            std::string("config.json: ociVersion: unsupported version \"") + v +
                "\" (supported: 1.0.x to 1.2.x)");
}

BOOST_AUTO_TEST_CASE(process_fields) {
  rejects([](Config& c) { c.process->cwd = "home"; },
          R"(config.json: process.cwd: must be an absolute path, not "home")");
  rejects([](Config& c) { c.process->args.clear(); },
          "config.json: process.args: must not be empty");
  rejects([](Config& c) { c.process->user.umask = 01000; },
          "config.json: process.user.umask: must be at most 0777");
  accepts([](Config& c) { c.process->user.umask.reset(); });
  rejects([](Config& c) { c.process->ioPriority->priority = 8; },
          "config.json: process.ioPriority.priority: 8 is out of range 0..7");
  rejects([](Config& c) { c.process->ioPriority->priority = -1; },
          "config.json: process.ioPriority.priority: -1 is out of range 0..7");
  accepts([](Config& c) { c.process->ioPriority->priority = 0; });
  rejects([](Config& c) { c.process->oomScoreAdj = 1001; },
          "config.json: process.oomScoreAdj: 1001 is out of range -1000..1000");
  rejects([](Config& c) { c.process->oomScoreAdj = -1001; },
          "config.json: process.oomScoreAdj: -1001 is out of range -1000..1000");
  accepts([](Config& c) { c.process->oomScoreAdj = -1000; });
}

BOOST_AUTO_TEST_CASE(rlimits) {
  rejects([](Config& c) { c.process->rlimits.push_back(c.process->rlimits[0]); },
          R"(config.json: process.rlimits[2].type: duplicate rlimit "RLIMIT_NOFILE")");
  rejects([](Config& c) { c.process->rlimits[1].soft = 6; },
          "config.json: process.rlimits[1]: soft limit 6 exceeds hard limit 5");
}

// Whether the host has the LSM is the policy's matter (host_gaps).
BOOST_AUTO_TEST_CASE(security_labels_are_not_validation_errors) {
  accepts([](Config& c) {
    c.process->apparmorProfile = "p";
    c.process->selinuxLabel = "l";
    c.linux.mountLabel = "l";
  });
}

BOOST_AUTO_TEST_CASE(mounts_and_hooks) {
  rejects([](Config& c) { c.mounts[1].destination = "data"; },
          R"(config.json: mounts[1].destination: must be an absolute path, not "data")");
  rejects([](Config& c) { c.mounts[1].uidMappings[0].size = 0; },
          "config.json: mounts[1].uidMappings[0].size: must be greater than zero");
  rejects([](Config& c) { c.mounts[1].gidMappings[0].hostID = 4294967295u; },
          "config.json: mounts[1].gidMappings[0]: hostID + size exceeds 2^32");
  rejects([](Config& c) { c.hooks.poststop[0].path = "true"; },
          R"(config.json: hooks.poststop[0].path: must be an absolute path, not "true")");
  rejects([](Config& c) { c.hooks.createContainer.push_back({.path = ""}); },
          R"(config.json: hooks.createContainer[0].path: must be an absolute path, not "")");
}

BOOST_AUTO_TEST_CASE(namespaces) {
  rejects(
      [](Config& c) {
        c.linux.namespaces.push_back({NamespaceType::pid, ""});
      },
      R"(config.json: linux.namespaces[8].type: duplicate namespace "pid")");
  rejects([](Config& c) { find_ns(c, NamespaceType::network).path = "netns"; },
          R"(config.json: linux.namespaces[1].path: must be an absolute path, not "netns")");
  accepts([](Config& c) { find_ns(c, NamespaceType::network).path = "/run/netns/x"; });
}

BOOST_AUTO_TEST_CASE(user_namespace_and_mappings) {
  rejects([](Config& c) { c.linux.uidMappings.clear(); },
          "config.json: linux.uidMappings: required when creating a user namespace");
  rejects([](Config& c) { c.linux.gidMappings.clear(); },
          "config.json: linux.gidMappings: required when creating a user namespace");
  rejects([](Config& c) { drop_ns(c, NamespaceType::user); },
          "config.json: linux.uidMappings: set without a user namespace");
  rejects(
      [](Config& c) {
        drop_ns(c, NamespaceType::user);
        c.linux.uidMappings.clear();
      },
      "config.json: linux.gidMappings: set without a user namespace");
  accepts([](Config& c) {
    drop_ns(c, NamespaceType::user);
    c.linux.uidMappings.clear();
    c.linux.gidMappings.clear();
  });
  // Joining a user namespace takes its mappings as they are.
  accepts([](Config& c) {
    find_ns(c, NamespaceType::user).path = "/proc/42/ns/user";
    c.linux.uidMappings.clear();
    c.linux.gidMappings.clear();
  });
  rejects([](Config& c) { c.linux.gidMappings[0].size = 0; },
          "config.json: linux.gidMappings[0].size: must be greater than zero");
  rejects([](Config& c) { c.linux.uidMappings[0].hostID += 1; },
          "config.json: linux.uidMappings[0]: hostID + size exceeds 2^32");
  rejects([](Config& c) { c.linux.gidMappings[0].containerID += 1; },
          "config.json: linux.gidMappings[0]: containerID + size exceeds 2^32");
}

BOOST_AUTO_TEST_CASE(time_offsets) {
  rejects([](Config& c) { drop_ns(c, NamespaceType::time); },
          "config.json: linux.timeOffsets: requires a new time namespace");
  rejects([](Config& c) { find_ns(c, NamespaceType::time).path = "/proc/1/ns/time"; },
          "config.json: linux.timeOffsets: requires a new time namespace");
  accepts([](Config& c) {
    drop_ns(c, NamespaceType::time);
    c.linux.timeOffsets.clear();
  });
  rejects(
      [](Config& c) { c.linux.timeOffsets["realtime"] = {}; },
      R"(config.json: linux.timeOffsets.realtime: unknown clock "realtime" (expected "monotonic" or "boottime"))");
  rejects([](Config& c) { c.linux.timeOffsets["boottime"].nanosecs = 1000000000; },
          "config.json: linux.timeOffsets.boottime.nanosecs: must be less than 1000000000");
}

// As runc and crun: a uts namespace the container creates or joins (the
// runtime refuses to join its own, see launch).
BOOST_AUTO_TEST_CASE(hostname_needs_a_uts_namespace) {
  auto no_uts = [](Config& c) {
    drop_ns(c, NamespaceType::uts);
    std::erase_if(c.linux.sysctl, [](const auto& kv) {
      return kv.first.starts_with("kernel.") && kv.first.ends_with("name");
    });
  };
  rejects(no_uts, "config.json: hostname: requires a uts namespace (created or joined)");
  rejects(
      [&](Config& c) {
        no_uts(c);
        c.hostname.clear();
      },
      "config.json: domainname: requires a uts namespace (created or joined)");
  accepts([](Config& c) { find_ns(c, NamespaceType::uts).path = "/run/ns/uts"; });
  accepts([&](Config& c) {
    no_uts(c);
    c.hostname.clear();
    c.domainname.clear();
  });
}

BOOST_AUTO_TEST_CASE(sysctls) {
  rejects(
      [](Config& c) { c.linux.sysctl["vm.swappiness"] = "1"; },
      "config.json: linux.sysctl.vm.swappiness: not namespaced, refusing to set it on the host");
  rejects([](Config& c) { c.linux.sysctl["kernel.semx"] = "1"; },
          "config.json: linux.sysctl.kernel.semx: not namespaced, refusing to set it on the host");
  rejects([](Config& c) { drop_ns(c, NamespaceType::ipc); },
          "config.json: linux.sysctl.fs.mqueue.msg_max: requires an isolated ipc namespace");
  rejects([](Config& c) { drop_ns(c, NamespaceType::network); },
          "config.json: linux.sysctl.net.ipv4.ip_forward: requires an isolated network namespace");
  rejects([](Config& c) { drop_ns(c, NamespaceType::uts); },
          "config.json: hostname: requires a uts namespace (created or joined)");
  rejects(
      [](Config& c) {
        drop_ns(c, NamespaceType::uts);
        c.hostname.clear();
        c.domainname.clear();
      },
      "config.json: linux.sysctl.kernel.domainname: requires an isolated uts namespace");
  // Joined namespaces are not the host's.
  accepts([](Config& c) {
    find_ns(c, NamespaceType::ipc).path = "/proc/42/ns/ipc";
    find_ns(c, NamespaceType::network).path = "/run/netns/x";
  });
  for (const char* bad : {"net./../../x", "net..x", "net.ipv4.", ".net.x", "net/ipv4/ip_forward"})
    rejects([bad](Config& c) { c.linux.sysctl[bad] = "1"; },
            std::string("config.json: linux.sysctl.") + bad + ": invalid sysctl name");
}

BOOST_AUTO_TEST_CASE(unsupported_features) {
  rejects([](Config& c) { c.linux.intelRdt = IntelRdt{}; },
          "config.json: linux.intelRdt: intelRdt is not supported");
  rejects([](Config& c) { c.linux.netDevices["eth0"] = "eth0"; },
          "config.json: linux.netDevices: netDevices are not supported yet");
  rejects([](Config& c) { c.linux.personality->flags = {"SHORT_INODE"}; },
          "config.json: linux.personality.flags: no personality flags are supported");
  accepts([](Config& c) { c.linux.personality->domain = "LINUX32"; });
}

BOOST_AUTO_TEST_CASE(paths) {
  for (const char* bad :
       {"dev/x", "/devx/y", "/dev/", "/dev", "/dev/../etc/passwd", "/dev/./x", "/dev/a/.."})
    rejects([bad](Config& c) { c.linux.devices[0].path = bad; },
            std::string("config.json: linux.devices[0].path: must be a path under /dev, not \"") +
                bad + "\"");
  accepts([](Config& c) { c.linux.devices[0].path = "/dev//net/tun"; });
  rejects([](Config& c) { c.linux.maskedPaths.push_back("proc/x"); },
          R"(config.json: linux.maskedPaths[1]: must be an absolute path, not "proc/x")");
  rejects([](Config& c) { c.linux.readonlyPaths[0] = ""; },
          R"(config.json: linux.readonlyPaths[0]: must be an absolute path, not "")");
}

BOOST_AUTO_TEST_CASE(rootfs_propagation) {
  for (const char* p : {"", "private", "rprivate", "slave", "rslave", "shared", "rshared",
                        "unbindable", "runbindable"})
    accepts([p](Config& c) { c.linux.rootfsPropagation = p; });
  rejects([](Config& c) { c.linux.rootfsPropagation = "recursive"; },
          R"(config.json: linux.rootfsPropagation: unknown propagation "recursive")");
}

BOOST_AUTO_TEST_CASE(seccomp) {
  rejects([](Config& c) { c.linux.seccomp->syscalls[0].errnoRet = 1; },
          "config.json: linux.seccomp.syscalls[0].errnoRet: only allowed with SCMP_ACT_ERRNO or "
          "SCMP_ACT_TRACE, not SCMP_ACT_ALLOW");
  rejects([](Config& c) { c.linux.seccomp->defaultAction = SeccompAction::killProcess; },
          "config.json: linux.seccomp.defaultErrnoRet: only allowed with SCMP_ACT_ERRNO or "
          "SCMP_ACT_TRACE, not SCMP_ACT_KILL_PROCESS");
  accepts([](Config& c) { c.linux.seccomp->defaultAction = SeccompAction::trace; });
  rejects([](Config& c) { c.linux.seccomp->syscalls[0].args[0].index = 6; },
          "config.json: linux.seccomp.syscalls[0].args[0].index: must be less than 6 (a syscall "
          "has at most 6 arguments)");
  rejects([](Config& c) { c.linux.seccomp->syscalls[1].names.clear(); },
          "config.json: linux.seccomp.syscalls[1].names: must name at least one syscall");
  rejects([](Config& c) { c.linux.seccomp->syscalls[1].names.push_back(""); },
          "config.json: linux.seccomp.syscalls[1].names[1]: must not be empty");
  rejects([](Config& c) { c.linux.seccomp->listenerPath.clear(); },
          "config.json: linux.seccomp.listenerPath: required when a syscall uses SCMP_ACT_NOTIFY");
  // runtime-spec: with no notifying rule there is simply no fd to send.
  accepts([](Config& c) { c.linux.seccomp->syscalls.pop_back(); });
  accepts([](Config& c) {
    c.linux.seccomp->syscalls.pop_back();
    c.linux.seccomp->listenerPath.clear();
  });
  rejects(
      [](Config& c) {
        c.linux.seccomp->defaultAction = SeccompAction::notify;
        c.linux.seccomp->defaultErrnoRet.reset();
      },
      "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
}
