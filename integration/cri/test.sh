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
}
trap cleanup EXIT INT TERM

$py -m grpc_tools.protoc -I"$here" --python_out="$work" --grpc_python_out="$work" "$here/api.proto" || exit 1
busybox_tar "$work"
$py "$here/mkimage.py" "$work/rootfs" docker.io/library/agentrun-bb:1 '["sleep","3600"]' "$work/bb.tar"
$py "$here/mkimage.py" "$work/rootfs" docker.io/library/agentrun-pause:1 \
  '["sh","-c","trap \"exit 0\" TERM; while :; do sleep 1; done"]' "$work/pause.tar"
cat >"$work/config.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
[grpc]
  address = "$work/ctd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/library/agentrun-pause:1"
  restrict_oom_score_adj = true  # this host's root lacks CAP_SYS_RESOURCE
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "agentrun"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.agentrun]
    runtime_type = "io.containerd.runc.v2"
    pod_annotations = ["io.agentrun.*"]
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.agentrun.options]
      BinaryName = "$agentrun"
      Root = "$work/runtime-root"  # agentrun's --root, inside the work dir
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$work/cni-conf"
TOML
# Pod networks: a bridge of the test's own, addresses kept in the work dir, no iptables.
mkdir -p "$work/cni-conf"
cat >"$work/cni-conf/10-agentrun-test.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "agentrun-test",
 "plugins": [{"type": "bridge", "bridge": "agentrun-cni0", "isGateway": true, "ipMasq": false,
              "ipam": {"type": "host-local", "subnet": "10.231.0.0/24", "dataDir": "$work/cni-ipam"}},
             {"type": "loopback"}]}
JSON
# The operator's choice for this node: runc's behaviour (a host-network pod
# shares the host's UTS namespace, which the agent policies refuse).
AGENTRUN_POLICY=oci containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
containerd_pid=$!
wait_until 5 "containerd's socket" test -S "$work/ctd.sock"
C="ctr --address $work/ctd.sock -n k8s.io"
$C images import --snapshotter native "$work/bb.tar" >/dev/null && $C images import --snapshotter native "$work/pause.tar" >/dev/null ||
  { echo "image import failed"; exit 1; }

client() { $py "$here/client.py" "$work" "$work/ctd.sock" agentrun "$@" 2>&1; }
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
check "CRI: nothing left in agentrun's state" "" "$(ls "$work/runtime-root/k8s.io" 2>/dev/null)"

out=$(client node true agent-default)
check_contains "CRI: a pod annotation tightens the policy, and the refusal names the reason" \
  "policy agent-default+oci: requires uts-ns: config.json shares the host's uts namespace" "$out"

# A pod with its own network (CNI), containers joining the sandbox's
# namespaces by path, under agent-default asked for by annotation.
out=$(client pod 'cat /root/.ssh/id_ed25519 2>/dev/null || echo hidden; grep -c . /proc/self/status >/dev/null; grep Seccomp_filters /proc/self/status | tr -d "\t"; ls /sys/class/net | tr "\n" " "; ps | grep -c "[t]rap"' agent-default)
check_contains "CRI: pod network, agent-default in force: credentials hidden" "exec_stdout=hidden" "$out"
check_contains "CRI: pod network, agent-default in force: stacked seccomp filters" "Seccomp_filters:2" "$out"
check_contains "CRI: the pod's own network (eth0 from CNI)" "eth0" "$out"
check_contains "CRI: the pod's shared pid namespace (the sandbox's process is visible)" "eth0 lo 1" "$out"
check_contains "CRI: pod network, agent-default in force: exec with a tty" "tty_exec=/dev/pts/" "$out"
check_contains "CRI: pod network, removal" "removed=yes" "$out"
finish
