# Sourced by the suites that drive containerd's CRI plugin (cri/test.sh,
# systemd/test.sh), after lib.sh, with $work, $agentrun (the runtime binary)
# and $py set. cri_start HANDLER=BINARY... generates client.py's stubs, makes
# the busybox and pause images, and starts containerd (PID $containerd_pid) on
# $work/ctd.sock with its CRI plugin and a runtime handler for each BINARY, as
# a RuntimeClass selects it: the runc v2 shim with BinaryName BINARY, its
# --root $work/runtime-root/HANDLER, SystemdCgroup with the systemd driver
# (AGENTRUN_IT_CGROUP_DRIVER). client ARGS... runs client.py against the
# handler $cri_handler (the first one unless set). The suite's cleanup kills
# containerd.
cri=$(cd "$(dirname "$0")/../cri" && pwd)
cri_start() {
  cri_handler=${1%%=*}
  $py -m grpc_tools.protoc -I"$cri" --python_out="$work" --grpc_python_out="$work" "$cri/api.proto" || exit 1
  busybox_tar "$work"
  $py "$cri/mkimage.py" "$work/rootfs" docker.io/library/agentrun-bb:1 '["sleep","3600"]' "$work/bb.tar"
  $py "$cri/mkimage.py" "$work/rootfs" docker.io/library/agentrun-pause:1 \
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
    default_runtime_name = "$cri_handler"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$work/cni-conf"
TOML
  for h in "$@"; do
    cat >>"$work/config.toml" <<TOML
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${h%%=*}]
    runtime_type = "io.containerd.runc.v2"
    pod_annotations = ["io.agentrun.*"]
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${h%%=*}.options]
      BinaryName = "${h#*=}"
      Root = "$work/runtime-root/${h%%=*}"  # the runtime's --root, inside the work dir
      SystemdCgroup = $([ "$cgroup_driver" = systemd ] && echo true || echo false)
TOML
  done
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
  wait_until 30 "containerd's socket" test -S "$work/ctd.sock"
  C="ctr --address $work/ctd.sock -n k8s.io"
  $C images import --snapshotter native "$work/bb.tar" >/dev/null && $C images import --snapshotter native "$work/pause.tar" >/dev/null ||
    { echo "image import failed"; exit 1; }

}

# client.py gives the pods a systemd slice as cgroup parent, as kubelet does
# with its systemd driver, when AGENTRUN_IT_CGROUP_DRIVER is systemd.
export AGENTRUN_IT_CGROUP_DRIVER="$cgroup_driver"
client() { $py "$cri/client.py" "$work" "$work/ctd.sock" "$cri_handler" "$@" 2>&1; }
