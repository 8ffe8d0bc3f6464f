#pragma once
// cgroup v2 has no devices.allow/deny files: device access is decided by a
// BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup.

#include <linux/bpf.h>

#include <vector>

#include "spec/config.hpp"

namespace agentrun {

// The program for linux.resources.devices. As with v1's devices.allow and
// devices.deny applied in order, the last rule that matches a request
// decides; nothing matching means deny. A rule matches when its type ("a"
// or empty: any), major and minor (absent: any) match and the requested
// access is a subset of its access ("" means "rwm").
// Throws Failure naming linux.resources.devices for bad rules.
std::vector<bpf_insn> device_filter_program(const std::vector<spec::DeviceRule>& rules);

// Loads `program`, attaches it to the cgroup directory `cgroup_dir_fd`
// (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) and then detaches the device
// programs attached there before (an update replaces the rules). Throws
// Failure, with the kernel verifier's log when loading fails.
void attach_device_filter(int cgroup_dir_fd, const std::vector<bpf_insn>& program);

}  // namespace agentrun
