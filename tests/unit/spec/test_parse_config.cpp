#define BOOST_TEST_MODULE test_parse_config
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <string>

#include "spec/error.hpp"
#include "spec/parse_config.hpp"
#include "support/checks.hpp"

using namespace agentrun::spec;

namespace {

#define CHECK_FAILS(text, expected) \
  BOOST_CHECK_EXCEPTION(parse_config(text), agentrun::Failure, Message{expected})

// A minimal valid document with `extra` members added at the top level.
std::string doc(const std::string& extra = "") {
  std::string out = R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}})";
  if (!extra.empty()) out.insert(out.size() - 1, ", " + extra);
  return out;
}

std::string process(const std::string& extra) {
  return doc(R"("process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", )" + extra + "}");
}

std::string linux_(const std::string& extra) { return doc(R"("linux": {)" + extra + "}"); }

std::string resources(const std::string& extra) {
  return linux_(R"("resources": {)" + extra + "}");
}

std::string seccomp(const std::string& extra) {
  return linux_(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", )" + extra + "}");
}

const char* kFull = R"({
  "ociVersion": "1.2.0",
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "annotations": {"org.example.key": "value"},
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/srv/data",
     "options": ["rbind", "ro", "nosuid"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}]}
  ],
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6]},
    "args": ["sh", "-c", "echo hi"],
    "env": ["PATH=/bin", "HOME=/root"],
    "cwd": "/home",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_SYS_ADMIN"],
      "effective": ["CAP_KILL"],
      "inheritable": [],
      "permitted": ["CAP_KILL", "CAP_CHECKPOINT_RESTORE"],
      "ambient": ["CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024}],
    "noNewPrivileges": true,
    "oomScoreAdj": -500,
    "apparmorProfile": "default",
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 3,
                  "flags": ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM"],
                  "runtime": 100, "deadline": 200, "period": 300},
    "execCPUAffinity": {"initial": "0-3", "final": "7"}
  },
  "hooks": {
    "prestart": [{"path": "/bin/pre", "args": ["pre", "x"], "env": ["A=1"], "timeout": 5}],
    "createRuntime": [{"path": "/bin/cr"}],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps"}],
    "poststop": [{"path": "/bin/po1"}, {"path": "/bin/po2"}]
  },
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"},
                   {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "user"},
                   {"type": "cgroup"}, {"type": "time"}],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 2000, "size": 2}],
    "timeOffsets": {"monotonic": {"secs": -10, "nanosecs": 500}, "boottime": {"secs": 7}},
    "devices": [
      {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438,
       "uid": 0, "gid": 5},
      {"type": "p", "path": "/dev/fifo"}
    ],
    "cgroupsPath": "/agentrun/box",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}],
      "memory": {"limit": 536870912, "reservation": 1024, "swap": -1, "kernel": 1,
                 "kernelTCP": 2, "swappiness": 60, "disableOOMKiller": true,
                 "useHierarchy": false, "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": -1, "burst": 10, "period": 100000,
              "realtimeRuntime": 950, "realtimePeriod": 1000, "cpus": "0-1",
              "mems": "0", "idle": 1},
      "pids": {"limit": 32},
      "blockIO": {"weight": 500, "leafWeight": 300,
                  "weightDevice": [{"major": 8, "minor": 0, "weight": 600}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 1, "rate": 2000}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 2, "rate": 3000}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 3, "rate": 4000}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
      "unified": {"memory.high": "1G"}
    },
    "rootfsPropagation": "rslave",
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/listener.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
         "args": [{"index": 0, "value": 8, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"},
                  {"index": 1, "value": 2, "op": "SCMP_CMP_NE"}]},
        {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}
      ]
    },
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys", "/proc/bus"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "personality": {"domain": "LINUX32", "flags": []},
    "intelRdt": {"closID": "c1", "l3CacheSchema": "L3:0=ff", "memBwSchema": "MB:0=50",
                 "enableCMT": true, "enableMBM": false},
    "netDevices": {"eth1": {"name": "net0"}, "eth2": {}}
  }
})";

}  // namespace

BOOST_AUTO_TEST_CASE(full_config_top_level_and_mounts) {
  Config c = parse_config(kFull);
  BOOST_TEST(c.ociVersion == "1.2.0");
  BOOST_TEST(c.root.path == "rootfs");
  BOOST_TEST(c.root.readonly);
  BOOST_TEST(c.hostname == "box");
  BOOST_TEST(c.domainname == "example.org");
  BOOST_TEST(c.annotations.at("org.example.key") == "value");
  BOOST_TEST_REQUIRE(c.mounts.size() == 2u);
  BOOST_TEST(c.mounts[0].destination == "/proc");
  BOOST_TEST(c.mounts[0].options.empty());
  const Mount& m = c.mounts[1];
  BOOST_TEST(m.type == "bind");
  BOOST_TEST(m.source == "/srv/data");
  BOOST_TEST((m.options == std::vector<std::string>{"rbind", "ro", "nosuid"}));
  BOOST_TEST_REQUIRE(m.uidMappings.size() == 1u);
  BOOST_TEST(m.uidMappings[0].hostID == 100000u);
  BOOST_TEST(m.uidMappings[0].size == 65536u);
  BOOST_TEST(m.gidMappings[0].hostID == 200000u);
}

BOOST_AUTO_TEST_CASE(full_config_process) {
  Config c = parse_config(kFull);
  BOOST_TEST_REQUIRE(c.process.has_value());
  const Process& p = *c.process;
  BOOST_TEST(p.terminal);
  BOOST_TEST(p.consoleSize->height == 24u);
  BOOST_TEST(p.consoleSize->width == 80u);
  BOOST_TEST(p.user.uid == 1000u);
  BOOST_TEST(p.user.gid == 1001u);
  BOOST_TEST(*p.user.umask == 18u);
  BOOST_TEST((p.user.additionalGids == std::vector<uint32_t>{5, 6}));
  BOOST_TEST((p.args == std::vector<std::string>{"sh", "-c", "echo hi"}));
  BOOST_TEST((p.env == std::vector<std::string>{"PATH=/bin", "HOME=/root"}));
  BOOST_TEST(p.cwd == "/home");
  BOOST_TEST((p.capabilities->bounding == std::vector<int>{0, 21}));
  BOOST_TEST((p.capabilities->effective == std::vector<int>{5}));
  BOOST_TEST(p.capabilities->inheritable.empty());
  BOOST_TEST((p.capabilities->permitted == std::vector<int>{5, 40}));
  BOOST_TEST((p.capabilities->ambient == std::vector<int>{10}));
  BOOST_TEST_REQUIRE(p.rlimits.size() == 1u);
  BOOST_TEST(p.rlimits[0].resource == RLIMIT_NOFILE);
  BOOST_TEST(p.rlimits[0].type == "RLIMIT_NOFILE");
  BOOST_TEST(p.rlimits[0].hard == 4096u);
  BOOST_TEST(p.rlimits[0].soft == 1024u);
  BOOST_TEST(p.noNewPrivileges);
  BOOST_TEST(*p.oomScoreAdj == -500);
  BOOST_TEST(p.apparmorProfile == "default");
  BOOST_TEST(p.selinuxLabel == "system_u:system_r:container_t:s0");
  BOOST_TEST(p.ioPriority->ioClass == 2);
  BOOST_TEST(p.ioPriority->priority == 4);
  BOOST_TEST(p.scheduler->policy == SCHED_DEADLINE);
  BOOST_TEST(p.scheduler->nice == -5);
  BOOST_TEST(p.scheduler->priority == 3);
  BOOST_TEST(p.scheduler->flags == 0x03u);
  BOOST_TEST(p.scheduler->runtime == 100u);
  BOOST_TEST(p.scheduler->deadline == 200u);
  BOOST_TEST(p.scheduler->period == 300u);
  BOOST_TEST(p.execCPUAffinity->initial == "0-3");
  BOOST_TEST(p.execCPUAffinity->final == "7");
}

BOOST_AUTO_TEST_CASE(full_config_hooks) {
  Config c = parse_config(kFull);
  BOOST_TEST_REQUIRE(c.hooks.prestart.size() == 1u);
  const Hook& h = c.hooks.prestart[0];
  BOOST_TEST(h.path == "/bin/pre");
  BOOST_TEST((h.args == std::vector<std::string>{"pre", "x"}));
  BOOST_TEST((h.env == std::vector<std::string>{"A=1"}));
  BOOST_TEST(*h.timeout == 5);
  BOOST_TEST(c.hooks.createRuntime[0].path == "/bin/cr");
  BOOST_TEST(!c.hooks.createRuntime[0].timeout);
  BOOST_TEST(c.hooks.createContainer[0].path == "/bin/cc");
  BOOST_TEST(c.hooks.startContainer[0].path == "/bin/sc");
  BOOST_TEST(c.hooks.poststart[0].path == "/bin/ps");
  BOOST_TEST(c.hooks.poststop.size() == 2u);
}

BOOST_AUTO_TEST_CASE(full_config_linux) {
  Linux l = parse_config(kFull).linux;
  BOOST_TEST_REQUIRE(l.namespaces.size() == 8u);
  BOOST_TEST((l.namespaces[1].type == NamespaceType::network));
  BOOST_TEST(l.namespaces[1].path == "/var/run/netns/x");
  BOOST_TEST((l.namespaces[7].type == NamespaceType::time));
  BOOST_TEST(l.namespaces[7].path.empty());
  BOOST_TEST(l.uidMappings[0].hostID == 1000u);
  BOOST_TEST(l.gidMappings[0].size == 2u);
  BOOST_TEST(l.timeOffsets.at("monotonic").secs == -10);
  BOOST_TEST(l.timeOffsets.at("monotonic").nanosecs == 500u);
  BOOST_TEST(l.timeOffsets.at("boottime").secs == 7);
  BOOST_TEST_REQUIRE(l.devices.size() == 2u);
  BOOST_TEST(l.devices[0].type == 'c');
  BOOST_TEST(l.devices[0].major == 10);
  BOOST_TEST(l.devices[0].minor == 229);
  BOOST_TEST(*l.devices[0].fileMode == 0666u);
  BOOST_TEST(*l.devices[0].gid == 5u);
  BOOST_TEST(l.devices[1].type == 'p');
  BOOST_TEST(!l.devices[1].uid);
  BOOST_TEST(l.cgroupsPath == "/agentrun/box");
  BOOST_TEST(l.rootfsPropagation == "rslave");
  BOOST_TEST(l.sysctl.at("net.ipv4.ip_forward") == "1");
  BOOST_TEST((l.maskedPaths == std::vector<std::string>{"/proc/kcore"}));
  BOOST_TEST(l.readonlyPaths.size() == 2u);
  BOOST_TEST(l.mountLabel == "system_u:object_r:container_file_t:s0");
  BOOST_TEST(l.personality->domain == "LINUX32");
  BOOST_TEST(l.intelRdt->closID == "c1");
  BOOST_TEST(l.intelRdt->memBwSchema == "MB:0=50");
  BOOST_TEST(l.intelRdt->enableCMT);
  BOOST_TEST(!l.intelRdt->enableMBM);
  // A net device without "name" keeps its host name.
  BOOST_TEST(
      (l.netDevices == std::map<std::string, std::string>{{"eth1", "net0"}, {"eth2", "eth2"}}));
}

BOOST_AUTO_TEST_CASE(full_config_resources) {
  Resources r = *parse_config(kFull).linux.resources;
  BOOST_TEST_REQUIRE(r.devices.size() == 2u);
  BOOST_TEST(!r.devices[0].allow);
  BOOST_TEST(r.devices[0].type.empty());
  BOOST_TEST(!r.devices[0].major);
  BOOST_TEST(r.devices[0].access == "rwm");
  BOOST_TEST(r.devices[1].allow);
  BOOST_TEST(r.devices[1].type == "c");
  BOOST_TEST(*r.devices[1].minor == 229);
  BOOST_TEST(*r.memory->limit == 536870912);
  BOOST_TEST(*r.memory->swap == -1);
  BOOST_TEST(*r.memory->swappiness == 60u);
  BOOST_TEST(*r.memory->disableOOMKiller);
  BOOST_TEST(!*r.memory->useHierarchy);
  BOOST_TEST(*r.memory->checkBeforeUpdate);
  BOOST_TEST(*r.cpu->shares == 1024u);
  BOOST_TEST(*r.cpu->quota == -1);
  BOOST_TEST(*r.cpu->burst == 10u);
  BOOST_TEST(*r.cpu->realtimePeriod == 1000u);
  BOOST_TEST(r.cpu->cpus == "0-1");
  BOOST_TEST(*r.cpu->idle == 1);
  BOOST_TEST(*r.pidsLimit == 32);
  BOOST_TEST(*r.blockIO->weight == 500);
  BOOST_TEST(*r.blockIO->leafWeight == 300);
  BOOST_TEST(*r.blockIO->weightDevice[0].weight == 600);
  BOOST_TEST(!r.blockIO->weightDevice[0].leafWeight);
  BOOST_TEST(r.blockIO->throttleReadBpsDevice[0].rate == 1000u);
  BOOST_TEST(r.blockIO->throttleWriteBpsDevice[0].minor == 1);
  BOOST_TEST(r.blockIO->throttleReadIOPSDevice[0].rate == 3000u);
  BOOST_TEST(r.blockIO->throttleWriteIOPSDevice[0].rate == 4000u);
  BOOST_TEST(r.hugepageLimits[0].pageSize == "2MB");
  BOOST_TEST(r.hugepageLimits[0].limit == 2097152u);
  BOOST_TEST(*r.network->classID == 1048577u);
  BOOST_TEST(r.network->priorities[0].name == "eth0");
  BOOST_TEST(r.network->priorities[0].priority == 5u);
  BOOST_TEST(*r.rdma.at("mlx5_1").hcaHandles == 3u);
  BOOST_TEST(*r.rdma.at("mlx5_1").hcaObjects == 10000u);
  BOOST_TEST(r.unified.at("memory.high") == "1G");
}

BOOST_AUTO_TEST_CASE(full_config_seccomp) {
  Seccomp s = *parse_config(kFull).linux.seccomp;
  BOOST_TEST((s.defaultAction == SeccompAction::errno_));
  BOOST_TEST(*s.defaultErrnoRet == 1u);
  BOOST_TEST((s.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  BOOST_TEST((s.flags == std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"}));
  BOOST_TEST(s.listenerPath == "/run/listener.sock");
  BOOST_TEST(s.listenerMetadata == "meta");
  BOOST_TEST_REQUIRE(s.syscalls.size() == 3u);
  BOOST_TEST((s.syscalls[0].names == std::vector<std::string>{"read", "write"}));
  BOOST_TEST(!s.syscalls[0].errnoRet);
  const SeccompSyscall& sc = s.syscalls[1];
  BOOST_TEST((sc.action == SeccompAction::errno_));
  BOOST_TEST(*sc.errnoRet == 38u);
  BOOST_TEST_REQUIRE(sc.args.size() == 2u);
  BOOST_TEST(sc.args[0].value == 8u);
  BOOST_TEST(sc.args[0].valueTwo == 4u);
  BOOST_TEST((sc.args[0].op == SeccompOperator::maskedEq));
  BOOST_TEST(sc.args[1].index == 1u);
  BOOST_TEST(sc.args[1].valueTwo == 0u);
  BOOST_TEST((sc.args[1].op == SeccompOperator::ne));
  BOOST_TEST((s.syscalls[2].action == SeccompAction::notify));
}

BOOST_AUTO_TEST_CASE(minimal_config_has_defaults) {
  Config c = parse_config(doc());
  BOOST_TEST(!c.process);
  BOOST_TEST(!c.root.readonly);
  BOOST_TEST(c.mounts.empty());
  BOOST_TEST(c.hooks.prestart.empty());
  BOOST_TEST(c.linux.namespaces.empty());
  BOOST_TEST(!c.linux.resources);
  BOOST_TEST(!c.linux.seccomp);
  BOOST_TEST(c.linux.netDevices.empty());
}

BOOST_AUTO_TEST_CASE(unknown_properties_are_ignored) {
  Config c = parse_config(doc(
      R"("vendorThing": {"x": [1, 2]}, "windows": {"layerFolders": []},
         "process": {"user": {"uid": 1, "gid": 2, "username": "w"}, "cwd": "/", "args": ["a"],
                     "commandLine": "a", "future": true},
         "linux": {"futureField": 1, "resources": {"cpu": {"newKnob": 3, "shares": 2}},
                   "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "extra": null,
                               "syscalls": [{"names": ["a"], "action": "SCMP_ACT_LOG",
                                             "comment": "why"}]}})"));
  BOOST_TEST(c.process->user.gid == 2u);
  BOOST_TEST(*c.linux.resources->cpu->shares == 2u);
  BOOST_TEST((c.linux.seccomp->syscalls[0].action == SeccompAction::log));
}

BOOST_AUTO_TEST_CASE(null_means_absent) {
  Config c = parse_config(doc(R"("process": null, "hostname": null, "linux": {"seccomp": null})"));
  BOOST_TEST(!c.process);
  BOOST_TEST(c.hostname.empty());
  BOOST_TEST(!c.linux.seccomp);
}

BOOST_AUTO_TEST_CASE(malformed_json_reports_line_and_column) {
  CHECK_FAILS("{\n  \"ociVersion\": \"1.0.0\",\n  oops\n}",
              "config.json: line 3, column 3: Missing a name for object member.");
  CHECK_FAILS(doc() + " x",
              "config.json: line 1, column 53: The document root must not be followed by other "
              "values.");
  BOOST_CHECK_EXCEPTION(parse_config("{", "bundle/config.json"), agentrun::Failure,
                        Message{"bundle/config.json: line 1, column 2: Missing a name for "
                                "object member."});
}

BOOST_AUTO_TEST_CASE(required_fields) {
  CHECK_FAILS("[]", "config.json: expected an object");
  CHECK_FAILS(R"({"root": {"path": "r"}})", R"(config.json: missing required field "ociVersion")");
  CHECK_FAILS(R"({"ociVersion": "1.0.0"})", R"(config.json: missing required field "root")");
  CHECK_FAILS(R"({"ociVersion": "1.0.0", "root": {"readonly": true}})",
              R"(config.json: root: missing required field "path")");
  CHECK_FAILS(doc(R"("process": {"cwd": "/"})"),
              R"(config.json: process: missing required field "user")");
  CHECK_FAILS(doc(R"("process": {"user": {"uid": 0, "gid": 0}})"),
              R"(config.json: process: missing required field "cwd")");
  CHECK_FAILS(process(R"("rlimits": [{"type": "RLIMIT_CORE", "hard": 1}])"),
              R"(config.json: process.rlimits[0]: missing required field "soft")");
  CHECK_FAILS(doc(R"("mounts": [{"source": "x"}])"),
              R"(config.json: mounts[0]: missing required field "destination")");
  CHECK_FAILS(linux_(R"("devices": [{"type": "b", "path": "/dev/sda", "major": 8}])"),
              R"(config.json: linux.devices[0]: missing required field "minor")");
  CHECK_FAILS(seccomp(R"("syscalls": [{"names": ["read"]}])"),
              R"(config.json: linux.seccomp.syscalls[0]: missing required field "action")");
  CHECK_FAILS(resources(R"("devices": [{"access": "r"}])"),
              R"(config.json: linux.resources.devices[0]: missing required field "allow")");
}

BOOST_AUTO_TEST_CASE(wrong_types_name_the_path) {
  CHECK_FAILS(R"({"ociVersion": 1, "root": {"path": "r"}})",
              "config.json: ociVersion: expected a string");
  CHECK_FAILS(doc(R"("mounts": [{"destination": "/x", "options": ["ro", 1]}])"),
              "config.json: mounts[0].options[1]: expected a string");
  CHECK_FAILS(process(R"("terminal": "yes")"),
              "config.json: process.terminal: expected true or false");
  CHECK_FAILS(doc(R"("process": {"user": {"uid": -1, "gid": 0}, "cwd": "/"})"),
              "config.json: process.user.uid: expected a non-negative integer");
  CHECK_FAILS(doc(R"("process": {"user": {"uid": 4294967296, "gid": 0}, "cwd": "/"})"),
              "config.json: process.user.uid: value 4294967296 is out of range for an unsigned "
              "32-bit integer");
  CHECK_FAILS(resources(R"("blockIO": {"weight": 70000})"),
              "config.json: linux.resources.blockIO.weight: value 70000 is out of range for an "
              "unsigned 16-bit integer");
  CHECK_FAILS(linux_(R"("sysctl": {"net.x": 1})"),
              "config.json: linux.sysctl.net.x: expected a string");
  CHECK_FAILS(linux_(R"("netDevices": {"eth0": "eth1"})"),
              "config.json: linux.netDevices.eth0: expected an object");
  CHECK_FAILS(doc(R"("annotations": ["a"])"), "config.json: annotations: expected an object");
}

// As runc: kept aside for a warning (policy/host_gaps), not an error.
BOOST_AUTO_TEST_CASE(unknown_capability_names_are_kept_aside) {
  auto p = *parse_config(process(R"("capabilities": {"bounding": ["CAP_CHOWN", "CAP_BOGUS", "CAP_KILL"],
                                                      "ambient": ["cap_chown", "CAP_BOGUS"]})"))
                .process;
  BOOST_TEST((p.capabilities->bounding == std::vector<int>{0, 5}));
  BOOST_TEST(p.capabilities->ambient.empty());
  BOOST_TEST((p.capabilities->unknown == std::vector<std::string>{"CAP_BOGUS", "cap_chown"}));
  CHECK_FAILS(process(R"("capabilities": {"bounding": ["CAP_CHOWN", 5]})"),
              "config.json: process.capabilities.bounding[1]: expected a string");
}

BOOST_AUTO_TEST_CASE(unknown_names_are_errors) {
  CHECK_FAILS(linux_(R"("namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"},
                                      {"type": "ipc"}, {"type": "uts"}, {"type": "bogus"}])"),
              R"(config.json: linux.namespaces[5].type: unknown namespace "bogus")");
  CHECK_FAILS(process(R"("rlimits": [{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}])"),
              R"(config.json: process.rlimits[0].type: unknown rlimit "RLIMIT_BOGUS")");
  CHECK_FAILS(
      process(R"("ioPriority": {"class": "IOPRIO_CLASS_NONE", "priority": 1})"),
      R"(config.json: process.ioPriority.class: unknown I/O priority class "IOPRIO_CLASS_NONE")");
  CHECK_FAILS(process(R"("scheduler": {"policy": "SCHED_FAST"})"),
              R"(config.json: process.scheduler.policy: unknown scheduler policy "SCHED_FAST")");
  CHECK_FAILS(process(R"("scheduler": {"policy": "SCHED_RR", "flags": ["SCHED_FLAG_X"]})"),
              R"(config.json: process.scheduler.flags[0]: unknown scheduler flag "SCHED_FLAG_X")");
  CHECK_FAILS(linux_(R"("personality": {"domain": "LINUX64"})"),
              R"(config.json: linux.personality.domain: unknown personality domain "LINUX64")");
}

BOOST_AUTO_TEST_CASE(seccomp_names_are_checked) {
  CHECK_FAILS(
      linux_(R"("seccomp": {"defaultAction": "SCMP_ACT_BOGUS"})"),
      R"(config.json: linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_BOGUS")");
  CHECK_FAILS(seccomp(R"("syscalls": [{"names": ["read"], "action": "ALLOW"}])"),
              R"(config.json: linux.seccomp.syscalls[0].action: unknown seccomp action "ALLOW")");
  CHECK_FAILS(
      seccomp(R"("syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                       "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}])"),
      R"(config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_XX")");
  CHECK_FAILS(
      seccomp(R"("architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"])"),
      R"(config.json: linux.seccomp.architectures[1]: unknown seccomp architecture "SCMP_ARCH_VAX")");
  CHECK_FAILS(
      seccomp(R"("flags": ["SECCOMP_FILTER_FLAG_BOGUS"])"),
      R"(config.json: linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_BOGUS")");
  Config c = parse_config(seccomp(R"("flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                                     "architectures": ["SCMP_ARCH_AARCH64"])"));
  BOOST_TEST(c.linux.seccomp->flags[0] == "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
}

BOOST_AUTO_TEST_CASE(device_types_and_rules) {
  CHECK_FAILS(linux_(R"("devices": [{"type": "x", "path": "/dev/x", "major": 1, "minor": 1}])"),
              R"(config.json: linux.devices[0].type: invalid device type "x")");
  CHECK_FAILS(linux_(R"("devices": [{"type": "", "path": "/dev/x", "major": 1, "minor": 1}])"),
              R"(config.json: linux.devices[0].type: invalid device type "")");
  CHECK_FAILS(linux_(R"("devices": [{"type": "cb", "path": "/dev/x", "major": 1, "minor": 1}])"),
              R"(config.json: linux.devices[0].type: invalid device type "cb")");
  CHECK_FAILS(resources(R"("devices": [{"allow": true, "type": "u"}])"),
              R"(config.json: linux.resources.devices[0].type: invalid device type "u")");
  CHECK_FAILS(resources(R"("devices": [{"allow": true, "access": "rwx"}])"),
              R"(config.json: linux.resources.devices[0].access: invalid device access "rwx")");
  Config c = parse_config(linux_(R"("devices": [{"type": "u", "path": "/dev/u", "major": 1,
                                                 "minor": 2}, {"type": "b", "path": "/dev/b",
                                                 "major": 8, "minor": 0}])"));
  BOOST_TEST(c.linux.devices[0].type == 'u');
  BOOST_TEST(c.linux.devices[1].type == 'b');
}

BOOST_AUTO_TEST_CASE(hook_timeout_must_be_positive) {
  CHECK_FAILS(doc(R"("hooks": {"poststop": [{"path": "/x"}, {"path": "/y", "timeout": 0}]})"),
              "config.json: hooks.poststop[1].timeout: must be greater than zero");
  CHECK_FAILS(doc(R"("hooks": {"prestart": [{"path": "/x", "timeout": -3}]})"),
              "config.json: hooks.prestart[0].timeout: must be greater than zero");
  Config c = parse_config(doc(R"("hooks": {"prestart": [{"path": "/x", "timeout": 1}]})"));
  BOOST_TEST(*c.hooks.prestart[0].timeout == 1);
}

BOOST_AUTO_TEST_CASE(empty_pids_sets_no_limit) {
  BOOST_TEST(!parse_config(resources(R"("pids": {})")).linux.resources->pidsLimit);
}


// A document nested a million levels deep crashed the parser (its stack);
// the nesting is bounded before parsing, and brackets in strings do not count.
BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_before_parsing) {
  const std::string deep = "{\"annotations\": {\"a\": \"" + std::string(1000, '[') + "\"}, \"x\": " +
                           std::string(1000000, '[') + std::string(1000000, ']') + "}";
  BOOST_CHECK_EXCEPTION(parse_config(deep, "config.json"), agentrun::Failure,
                        Message{"config.json: nested deeper than 128 levels"});
  const std::string ok = doc(R"("annotations": {"a": ")" + std::string(1000, '{') + R"("}, "x": )" +
                             std::string(120, '[') + std::string(120, ']'));
  BOOST_TEST(parse_config(ok, "config.json").annotations.at("a") == std::string(1000, '{'));
}
