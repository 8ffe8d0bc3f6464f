#include "spec/names.hpp"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace agentrun::spec {
namespace {

constexpr std::string_view kCapabilities[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

template <class T>
struct Named {
  std::string_view name;
  T value;
};

constexpr Named<int> kRlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

struct NamespaceInfo {
  NamespaceType type;
  std::string_view name;
  int flag;
  const char* proc;
};

constexpr NamespaceInfo kNamespaces[] = {
    {NamespaceType::user, "user", CLONE_NEWUSER, "user"},
    {NamespaceType::pid, "pid", CLONE_NEWPID, "pid"},
    {NamespaceType::network, "network", CLONE_NEWNET, "net"},
    {NamespaceType::mount, "mount", CLONE_NEWNS, "mnt"},
    {NamespaceType::ipc, "ipc", CLONE_NEWIPC, "ipc"},
    {NamespaceType::uts, "uts", CLONE_NEWUTS, "uts"},
    {NamespaceType::cgroup, "cgroup", CLONE_NEWCGROUP, "cgroup"},
    {NamespaceType::time, "time", CLONE_NEWTIME, "time"},
};

const NamespaceInfo& ns_info(NamespaceType t) {
  for (const auto& n : kNamespaces)
    if (n.type == t) return n;
  return kNamespaces[0];
}

constexpr Named<SeccompAction> kSeccompActions[] = {
    {"SCMP_ACT_KILL", SeccompAction::kill},
    {"SCMP_ACT_KILL_PROCESS", SeccompAction::killProcess},
    {"SCMP_ACT_KILL_THREAD", SeccompAction::killThread},
    {"SCMP_ACT_TRAP", SeccompAction::trap},
    {"SCMP_ACT_ERRNO", SeccompAction::errno_},
    {"SCMP_ACT_TRACE", SeccompAction::trace},
    {"SCMP_ACT_ALLOW", SeccompAction::allow},
    {"SCMP_ACT_LOG", SeccompAction::log},
    {"SCMP_ACT_NOTIFY", SeccompAction::notify},
};

constexpr Named<SeccompOperator> kSeccompOperators[] = {
    {"SCMP_CMP_NE", SeccompOperator::ne},           {"SCMP_CMP_LT", SeccompOperator::lt},
    {"SCMP_CMP_LE", SeccompOperator::le},           {"SCMP_CMP_EQ", SeccompOperator::eq},
    {"SCMP_CMP_GE", SeccompOperator::ge},           {"SCMP_CMP_GT", SeccompOperator::gt},
    {"SCMP_CMP_MASKED_EQ", SeccompOperator::maskedEq},
};

constexpr std::string_view kSeccompArchs[] = {
    "SCMP_ARCH_X86",       "SCMP_ARCH_X86_64",     "SCMP_ARCH_X32",       "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",   "SCMP_ARCH_MIPS",       "SCMP_ARCH_MIPS64",    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",    "SCMP_ARCH_MIPSEL64",   "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",     "SCMP_ARCH_PPC64LE",    "SCMP_ARCH_S390",      "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64",   "SCMP_ARCH_RISCV64",   "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",      "SCMP_ARCH_SH",         "SCMP_ARCH_SHEB",
};

constexpr std::string_view kSeccompFlags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

constexpr Named<int> kSchedPolicies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

constexpr Named<uint64_t> kSchedFlags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

constexpr Named<int> kIoprioClasses[] = {
    {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};

template <class T, size_t N>
std::optional<T> lookup(const Named<T> (&table)[N], std::string_view name) {
  for (const auto& e : table)
    if (e.name == name) return e.value;
  return std::nullopt;
}

template <class T, size_t N>
std::vector<std::string> names_of(const T (&table)[N]) {
  std::vector<std::string> out;
  for (const auto& e : table) {
    if constexpr (std::is_same_v<T, std::string_view>)
      out.emplace_back(e);
    else
      out.emplace_back(e.name);
  }
  return out;
}

template <size_t N>
bool contains(const std::string_view (&table)[N], std::string_view name) {
  return std::find(std::begin(table), std::end(table), name) != std::end(table);
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<int> capability_from_name(std::string_view name) {
  for (size_t i = 0; i < std::size(kCapabilities); ++i)
    if (kCapabilities[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

std::string capability_name(int cap) {
  if (cap >= 0 && static_cast<size_t>(cap) < std::size(kCapabilities))
    return std::string(kCapabilities[cap]);
  return "CAP_" + std::to_string(cap);
}

int last_known_capability() { return static_cast<int>(std::size(kCapabilities)) - 1; }

std::optional<int> rlimit_from_name(std::string_view name) { return lookup(kRlimits, name); }

std::optional<NamespaceType> namespace_from_name(std::string_view name) {
  for (const auto& n : kNamespaces)
    if (n.name == name) return n.type;
  return std::nullopt;
}

std::vector<NamespaceType> all_namespace_types() {
  std::vector<NamespaceType> out;
  for (const auto& n : kNamespaces) out.push_back(n.type);
  return out;
}

const char* namespace_name(NamespaceType t) { return ns_info(t).name.data(); }
int namespace_clone_flag(NamespaceType t) { return ns_info(t).flag; }
const char* namespace_proc_name(NamespaceType t) { return ns_info(t).proc; }

std::optional<SeccompAction> seccomp_action_from_name(std::string_view name) {
  return lookup(kSeccompActions, name);
}

const char* seccomp_action_name(SeccompAction a) {
  for (const auto& e : kSeccompActions)
    if (e.value == a) return e.name.data();
  return "?";
}

std::vector<std::string> seccomp_action_names() { return names_of(kSeccompActions); }

std::optional<SeccompOperator> seccomp_operator_from_name(std::string_view name) {
  return lookup(kSeccompOperators, name);
}

std::vector<std::string> seccomp_operator_names() { return names_of(kSeccompOperators); }
bool is_seccomp_arch_name(std::string_view name) { return contains(kSeccompArchs, name); }
std::vector<std::string> seccomp_arch_names() { return names_of(kSeccompArchs); }
bool is_seccomp_flag_name(std::string_view name) { return contains(kSeccompFlags, name); }
std::vector<std::string> seccomp_flag_names() { return names_of(kSeccompFlags); }

std::optional<int> scheduler_policy_from_name(std::string_view name) {
  return lookup(kSchedPolicies, name);
}

std::optional<uint64_t> scheduler_flag_from_name(std::string_view name) {
  return lookup(kSchedFlags, name);
}

std::optional<int> ioprio_class_from_name(std::string_view name) {
  return lookup(kIoprioClasses, name);
}

std::optional<int> signal_from_string(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) {
    auto n = parse_int(s);
    if (!n || *n <= 0 || *n > SIGRTMAX) return std::nullopt;
    return n;
  }
  std::string up(s);
  for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view name = up;
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (int sig = 1; sig < SIGRTMIN; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev && name == abbrev) return sig;
  }
  // RTMIN, RTMIN+n, RTMAX, RTMAX-n
  auto rt = [&](std::string_view base, int origin, char sign) -> std::optional<int> {
    if (name.substr(0, base.size()) != base) return std::nullopt;
    std::string_view rest = name.substr(base.size());
    if (rest.empty()) return origin;
    if (rest[0] != sign) return std::nullopt;
    auto n = parse_int(rest.substr(1));
    if (!n) return std::nullopt;
    int sig = sign == '+' ? origin + *n : origin - *n;
    if (sig < SIGRTMIN || sig > SIGRTMAX) return std::nullopt;
    return sig;
  };
  if (auto v = rt("RTMIN", SIGRTMIN, '+')) return v;
  if (auto v = rt("RTMAX", SIGRTMAX, '-')) return v;
  return std::nullopt;
}

}  // namespace agentrun::spec
