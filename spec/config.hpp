#pragma once
// The Linux part of an OCI runtime-spec config.json (versions 1.0 to 1.2),
// as plain data. Names follow the spec's JSON names. Values are already
// checked for type and for membership in known sets by the parser (see
// parse_config.hpp); "optional" marks fields whose absence means something
// different from any value.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace agentrun::spec {

struct IdMapping {
  uint32_t containerID = 0;
  uint32_t hostID = 0;
  uint32_t size = 0;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additionalGids;
};

// Capability numbers (CAP_CHOWN = 0 ...), one list per set.
struct Capabilities {
  std::vector<int> bounding, effective, inheritable, permitted, ambient;
  // Names this runtime does not know, from any set: ignored with a warning,
  // as runc does (a capability it cannot grant never widens anything).
  std::vector<std::string> unknown;
};

struct Rlimit {
  int resource = 0;  // RLIMIT_* number
  std::string type;  // "RLIMIT_NOFILE", for messages
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct IoPriority {
  int ioClass = 0;  // IOPRIO_CLASS_RT/BE/IDLE
  int priority = 0;
};

struct Scheduler {
  int policy = 0;  // SCHED_* number
  int32_t nice = 0;
  int32_t priority = 0;
  uint64_t flags = 0;  // SCHED_FLAG_* bits
  uint64_t runtime = 0;
  uint64_t deadline = 0;
  uint64_t period = 0;
};

struct CpuAffinity {
  std::string initial;  // cpu list, e.g. "0-3,7"
  std::string final;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> consoleSize;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool noNewPrivileges = false;
  std::optional<int> oomScoreAdj;
  std::string apparmorProfile;
  std::string selinuxLabel;
  std::optional<IoPriority> ioPriority;
  std::optional<Scheduler> scheduler;
  std::optional<CpuAffinity> execCPUAffinity;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
  std::vector<IdMapping> uidMappings;
  std::vector<IdMapping> gidMappings;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
  std::vector<Hook> prestart, createRuntime, createContainer, startContainer, poststart, poststop;
};

enum class NamespaceType { pid, network, mount, ipc, uts, user, cgroup, time };

struct Namespace {
  NamespaceType type = NamespaceType::pid;
  std::string path;  // empty: create a new one
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct Device {
  char type = 'c';  // 'c', 'u' (unbuffered char), 'b', 'p'
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> fileMode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

// linux.resources: applied by the cgroup backends.
struct DeviceRule {
  bool allow = false;
  std::string type;  // "a", "c", "b"; empty means all
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::string access;  // subset of "rwm"
};

struct MemoryResources {
  std::optional<int64_t> limit, reservation, swap, kernel, kernelTCP;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disableOOMKiller, useHierarchy, checkBeforeUpdate;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtimeRuntime;
  std::optional<uint64_t> realtimePeriod;
  std::string cpus;
  std::string mems;
  std::optional<int64_t> idle;
};

struct WeightDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leafWeight;
};

struct ThrottleDevice {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};

struct BlockIoResources {
  std::optional<uint16_t> weight, leafWeight;
  std::vector<WeightDevice> weightDevice;
  std::vector<ThrottleDevice> throttleReadBpsDevice, throttleWriteBpsDevice,
      throttleReadIOPSDevice, throttleWriteIOPSDevice;
};

struct HugepageLimit {
  std::string pageSize;  // "2MB"
  uint64_t limit = 0;
};

struct NetPriority {
  std::string name;
  uint32_t priority = 0;
};

struct NetworkResources {
  std::optional<uint32_t> classID;
  std::vector<NetPriority> priorities;
};

struct RdmaLimit {
  std::optional<uint32_t> hcaHandles, hcaObjects;
};

struct Resources {
  std::vector<DeviceRule> devices;
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<int64_t> pidsLimit;
  std::optional<BlockIoResources> blockIO;
  std::vector<HugepageLimit> hugepageLimits;
  std::optional<NetworkResources> network;
  std::map<std::string, RdmaLimit> rdma;
  std::map<std::string, std::string> unified;
};

enum class SeccompAction { kill, killProcess, killThread, trap, errno_, trace, allow, log, notify };
enum class SeccompOperator { ne, lt, le, eq, ge, gt, maskedEq };

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t valueTwo = 0;
  SeccompOperator op = SeccompOperator::eq;
};

struct SeccompSyscall {
  std::vector<std::string> names;
  SeccompAction action = SeccompAction::allow;
  std::optional<uint32_t> errnoRet;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  SeccompAction defaultAction = SeccompAction::allow;
  std::optional<uint32_t> defaultErrnoRet;
  std::vector<std::string> architectures;  // "SCMP_ARCH_X86_64", validated names
  std::vector<std::string> flags;          // "SECCOMP_FILTER_FLAG_LOG", validated names
  std::string listenerPath;
  std::string listenerMetadata;
  std::vector<SeccompSyscall> syscalls;
};

struct Personality {
  std::string domain;  // "LINUX" or "LINUX32"
  std::vector<std::string> flags;
};

struct IntelRdt {
  std::string closID, l3CacheSchema, memBwSchema;
  bool enableCMT = false, enableMBM = false;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uidMappings;
  std::vector<IdMapping> gidMappings;
  std::map<std::string, TimeOffset> timeOffsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::string cgroupsPath;
  std::optional<Resources> resources;
  std::string rootfsPropagation;
  std::optional<Seccomp> seccomp;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  std::string mountLabel;
  std::optional<Personality> personality;
  std::optional<IntelRdt> intelRdt;
  std::map<std::string, std::string> netDevices;  // host name -> name in container
};

struct Config {
  std::string ociVersion;
  Root root;
  std::vector<Mount> mounts;
  std::optional<Process> process;
  std::string hostname;
  std::string domainname;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux;
};

const char* namespace_name(NamespaceType t);  // "pid", "network", ...

}  // namespace agentrun::spec
