# Sourced by the suites that drive dockerd (docker/test.sh, systemd/test.sh),
# after lib.sh, with $work set. docker_start RUNTIMES starts containerd and
# dockerd on private sockets and directories below $work (vfs storage, no
# iptables) with RUNTIMES as daemon.json's "runtimes" and the cgroup driver
# of AGENTRUN_IT_CGROUP_DRIVER, and sets D, the docker command. docker_stop
# removes the containers and stops both by PID, with the shims a failed check
# left (the suite's cleanup calls it, also when a check failed); then the
# bridge and parent cgroups dockerd made, if it made them.
had_docker0=$(ip link show docker0 >/dev/null 2>&1 && echo yes)
D="docker -H unix://$work/docker.sock"
docker_start() {
  cat >"$work/daemon.json" <<JSON
{"runtimes": $1,
 "data-root": "$work/data", "exec-root": "$work/exec", "pidfile": "$work/docker.pid",
 "hosts": ["unix://$work/docker.sock"], "storage-driver": "vfs", "iptables": false, "ip-masq": false,
 "exec-opts": ["native.cgroupdriver=$cgroup_driver"]}
JSON
  containerd --root "$work/ctd-root" --state "$work/ctd-state" --address "$work/docker-ctd.sock" >"$work/containerd.log" 2>&1 &
  docker_containerd_pid=$!
  wait_until 30 "containerd's socket" test -S "$work/docker-ctd.sock"
  dockerd --config-file "$work/daemon.json" --containerd "$work/docker-ctd.sock" >"$work/dockerd.log" 2>&1 &
  wait_until 60 "dockerd to answer" sh -c "$D info >/dev/null 2>&1"
}
docker_stop() {
  [ -S "$work/docker.sock" ] && $D ps -aq 2>/dev/null | xargs -r $D rm -f >/dev/null 2>&1
  [ -f "$work/docker.pid" ] && kill "$(cat "$work/docker.pid")" 2>/dev/null
  [ -f "$work/docker.pid" ] && poll_until 20 gone "$(cat "$work/docker.pid")"
  rm -f "$work/docker.pid"
  [ -n "${docker_containerd_pid:-}" ] && kill "$docker_containerd_pid" 2>/dev/null && wait "$docker_containerd_pid" 2>/dev/null
  docker_containerd_pid=""
  pkill -f -- "-address $work/docker-ctd.sock" 2>/dev/null
  [ -z "$had_docker0" ] && ip link delete docker0 2>/dev/null
  # dockerd's parent cgroups (cgroupfs driver), if empty: nothing else uses them here.
  for d in /sys/fs/cgroup/docker /sys/fs/cgroup/*/docker /sys/fs/cgroup/memory/*/*/docker; do rmdir "$d" 2>/dev/null; done
}
