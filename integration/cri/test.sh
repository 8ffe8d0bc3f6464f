#!/bin/sh
# The CRI path, as kubelet uses a RuntimeClass: containerd's CRI plugin with
# a runtime handler `agentrun` (the runc v2 shim, BinaryName), a small gRPC
# client for a host-network pod sandbox, a container, ExecSync and removal;
# and a pod annotation asking for a policy that refuses it, with agentrun's
# reason reaching the CRI caller. Usage: integration/cri/test.sh AGENTRUN_BINARY
set -u
agentrun=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
install_missing containerd python3-grpcio python3-grpc-tools python3-websocket containernetworking-plugins
py=/usr/bin/python3  # Debian's, the one the packages are for

work=$(mktemp -d /tmp/agentrun-cri.XXXXXX)
cleanup() {
  [ -n "${containerd_pid:-}" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null
  pkill -f -- "-address $work/ctd.sock" 2>/dev/null
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r umount 2>/dev/null
  rm -rf "$work"
  ip link delete agentrun-cni0 2>/dev/null
  stop_new_slices  # the pods' kubepods-*.slice, with SystemdCgroup
}
trap cleanup EXIT INT TERM

. "$here/daemon.sh"
cri_start agentrun="$agentrun"
out=$(client node 'echo $GREETING; id -u')
check_contains "CRI: pod sandbox, container, ExecSync with the container's env" "exec_stdout=hello 0" "$out"
check_contains "CRI: ExecSync exit status" "exec_exit=3" "$out"
check_contains "CRI: UpdateContainerResources reaches the cgroup" "updated_memory_limit=100663296" "$out"
check_contains "CRI: ContainerStats from the container's cgroup" "stats_memory_working_set_positive=True" "$out"
check_contains "CRI: exec through the streaming server (kubectl exec)" "streamed_exec=streamed" "$out"
check_contains "CRI: the streamed exec reports success" 'streamed_exec_status={"metadata":{},"status":"Success"}' "$out"
check_contains "CRI: exec with a tty after UpdateContainerResources (kubectl exec -it)" "tty_exec=/dev/pts/" "$out"
check_contains "CRI: the exec with a tty reports success" 'tty_exec_status={"metadata":{},"status":"Success"}' "$out"
check_contains "CRI: stop and removal" "removed=yes" "$out"
check "CRI: nothing left in agentrun's state" "" "$(ls "$work/runtime-root/agentrun/k8s.io" 2>/dev/null)"

out=$(client node true agent-default)
check_contains "CRI: a pod annotation tightens the policy, and the refusal names the reason" \
  "policy agent-default+oci: requires uts-ns: config.json shares the host's uts namespace" "$out"

# A pod with its own network (CNI), containers joining the sandbox's
# namespaces by path, under agent-default asked for by annotation.
out=$(client pod 'cat /root/.ssh/id_ed25519 2>/dev/null || echo hidden; grep -c . /proc/self/status >/dev/null; grep Seccomp_filters /proc/self/status | tr -d "\t"; ls /sys/class/net | tr "\n" " "; ps | grep -c "[t]rap"; busybox nc -w 3 10.231.0.1 22 </dev/null 2>&1' agent-default)
check_contains "CRI: pod network, agent-default in force: credentials hidden" "exec_stdout=hidden" "$out"
check_contains "CRI: pod network, agent-default in force: stacked seccomp filters" "Seccomp_filters:$(agent_filters)" "$out"
check_contains "CRI: the pod's own network (eth0 from CNI)" "eth0" "$out"
check_contains "CRI: the pod's shared pid namespace (the sandbox's process is visible)" "eth0 lo 1" "$out"
check_contains "CRI: pod network, agent-default in force: exec with a tty" "tty_exec=/dev/pts/" "$out"
# The pod's egress rules (agent-default's: the host's own addresses are
# refused at once) hold for the container: the node's address on the pod
# network, which would otherwise say "Connection refused".
check_contains "CRI: pod network, agent-default in force: the node's own address refused" "No route to host" "$out"
second=$(echo "$out" | grep '^second_stdout=')
check_contains "CRI: a second container of the pod, agent-default in force" "second_stdout=hidden Seccomp_filters:$(agent_filters) eth0 lo" "$second"
check_contains "CRI: a second container of the pod: the pod's egress rules hold for it too" "No route to host" "$second"
check_contains "CRI: pod network, removal" "removed=yes" "$out"
finish
