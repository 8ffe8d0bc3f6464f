#pragma once
// The closed sets of names that config.json (and the CLI) may use. A name
// outside these sets is an error, never skipped; the one exception is a
// capability in config.json, which runc and the runtime-spec ignore with a
// warning (spec/parse_config.cpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/config.hpp"

namespace agentrun::spec {

// "CAP_CHOWN" -> 0 ... "CAP_CHECKPOINT_RESTORE" -> 40. Exact, upper case.
std::optional<int> capability_from_name(std::string_view name);
std::string capability_name(int cap);
int last_known_capability();

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE.
std::optional<int> rlimit_from_name(std::string_view name);

// "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time".
std::optional<NamespaceType> namespace_from_name(std::string_view name);
std::vector<NamespaceType> all_namespace_types();
int namespace_clone_flag(NamespaceType t);  // CLONE_NEWPID, ...
const char* namespace_proc_name(NamespaceType t);  // /proc/PID/ns/<this>

std::optional<SeccompAction> seccomp_action_from_name(std::string_view name);
const char* seccomp_action_name(SeccompAction a);
std::vector<std::string> seccomp_action_names();
std::optional<SeccompOperator> seccomp_operator_from_name(std::string_view name);
std::vector<std::string> seccomp_operator_names();
bool is_seccomp_arch_name(std::string_view name);  // "SCMP_ARCH_X86_64", ...
std::vector<std::string> seccomp_arch_names();
bool is_seccomp_flag_name(std::string_view name);  // "SECCOMP_FILTER_FLAG_LOG", ...
std::vector<std::string> seccomp_flag_names();

// "SCHED_OTHER" ...; "SCHED_FLAG_RESET_ON_FORK" ...; "IOPRIO_CLASS_RT" ...
std::optional<int> scheduler_policy_from_name(std::string_view name);
std::optional<uint64_t> scheduler_flag_from_name(std::string_view name);
std::optional<int> ioprio_class_from_name(std::string_view name);

// Signals as runc takes them: "TERM", "SIGTERM", "15", "SIGRTMIN+3".
std::optional<int> signal_from_string(std::string_view s);

}  // namespace agentrun::spec
