#!/bin/sh
# The clients' systemd cgroup drivers, as on a current distribution: docker
# with native.cgroupdriver=systemd, podman with cgroup_manager = "systemd",
# containerd's CRI plugin with SystemdCgroup = true and a pod slice as
# kubelet's systemd driver gives it. The runtime is called with
# --systemd-cgroup and puts each container in a transient scope. Checks what
# users rely on there: limits in force (an OOM kill, a pids limit), the limits
# in the container's cgroup (found from /proc/PID/cgroup), its scope, update,
# pause, and that nothing is left (no scope unit, no cgroup) after removal.
# Only runtime-neutral checks, for each runtime given: agentrun, runc and crun
# side by side, each under its base name (a CRI handler; test-NAME for docker).
# Needs systemd as PID 1 on pure cgroup v2 (the guest tier, tests/guest/).
# Usage: integration/systemd/test.sh RUNTIME_BINARY...
set -u
runtimes=""
for r in "$@"; do runtimes="$runtimes $(readlink -f "$r")"; done
agentrun=$(readlink -f "$1")  # lib.sh's leftover check looks for its processes
here=$(cd "$(dirname "$0")" && pwd)
AGENTRUN_IT_CGROUP_DRIVER=systemd
. "$here/../lib.sh"
install_missing docker.io containerd podman conmon python3-grpcio python3-grpc-tools python3-websocket containernetworking-plugins
py=/usr/bin/python3

work=$(mktemp -d /tmp/agentrun-systemd.XXXXXX)
. "$here/../docker/daemon.sh"
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf"
cleanup() {
  docker_stop
  [ -n "${containerd_pid:-}" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null
  pkill -f -- "-address $work/ctd.sock" 2>/dev/null  # shims left by a failed check
  [ -n "${P:-}" ] && $P rm -af -t 0 >/dev/null 2>&1
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r umount 2>/dev/null
  rm -rf "$work"
  ip link delete agentrun-cni0 2>/dev/null
  stop_new_slices
}
trap cleanup EXIT INT TERM
busybox_tar "$work"

# A process's cgroup directory, from /proc/PID/cgroup.
cgroup_of() { echo "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")"; }
loaded() { systemctl list-units --all --plain --no-legend "$1" 2>/dev/null | grep -q .; }
# A memory hog and a fork bomb, in the busybox image.
hog='x=$(head -c 100000000 /dev/zero | tr "\000" a)'
bomb='(for i in $(seq 30); do sleep 5 & done) 2>/dev/null; set -- /proc/[0-9]*; echo procs=$#'

# enforced CLIENT RUN...: a container runs; under -m 32m a memory hog is
# OOM-killed (137); --pids-limit 8 stops a fork bomb. RUN is the client's
# `run --rm` with the runtime chosen.
enforced() {
  client=$1
  shift
  check "$client: run" "hello" "$("$@" agentrun-bb:1 echo hello 2>&1)"
  "$@" -m 32m --memory-swap 32m agentrun-bb:1 sh -c "$hog" >/dev/null 2>&1
  check "$client: -m 32m, a memory hog is OOM-killed" 137 $?
  check "$client: --pids-limit 8 stops a fork bomb" "procs=7" "$("$@" --pids-limit 8 agentrun-bb:1 sh -c "$bomb" 2>&1)"
}
# started CLIENT CLI RUNTIME_OPTIONS: a detached container with memory 48m and
# pids 20; sets id, pid and cg (its cgroup). When it does not start, one
# failed check stands for those that need it.
started() {
  # shellcheck disable=SC2086
  if id=$($2 run -d $3 -m 48m --memory-swap 48m --pids-limit 20 agentrun-bb:1 sleep 600 2>"$work/err") &&
    pid=$($2 inspect -f '{{.State.Pid}}' "$id" 2>>"$work/err") && [ "${pid:-0}" != 0 ]; then
    cg=$(cgroup_of "$pid")
    return 0
  fi
  not_ok "$1: run -d with limits" "$(head -c 400 "$work/err")"
  [ -n "$id" ] && $2 rm -f "$id" >/dev/null 2>&1
  return 1
}
# in_force CLIENT PID SCOPE: the container whose init is PID runs in its own
# cgroup in the scope, with the limits it was started with (memory 48m, pids 20).
# gone_after CLIENT SCOPE CGROUP: after its removal, neither is left.
in_force() {
  client=$1 pid=$2 scope=$3
  cg=$(cgroup_of "$pid")
  check_contains "$client: the container's cgroup is in its scope" "/$scope" "$cg"
  check "$client: the scope is active" "active" "$(systemctl is-active "$scope" 2>&1)"
  check "$client: memory.max in the container's cgroup" 50331648 "$(cgroup_v2_file "$pid" memory.max)"
  check "$client: pids.max in the container's cgroup" 20 "$(cgroup_v2_file "$pid" pids.max)"
}
gone_after() {
  client=$1 scope=$2 cg=$3
  if loaded "$scope"; then not_ok "$client: no scope left after removal" "$(systemctl status "$scope" 2>&1 | head -n 5)"; else ok "$client: no scope left after removal"; fi
  if [ -d "$cg" ]; then not_ok "$client: no cgroup left after removal" "$cg exists"; else ok "$client: no cgroup left after removal"; fi
}

# docker: dockerd on its own containerd, each runtime registered as
# test-NAME (dockerd reserves "runc").
json=""
for rt in $runtimes; do json="$json${json:+, }\"test-${rt##*/}\": {\"path\": \"$rt\"}"; done
docker_start "{$json}"
check "docker: the systemd cgroup driver" "systemd" "$($D info -f '{{.CgroupDriver}}' 2>&1)"
$D import "$work/rootfs.tar" agentrun-bb:1 >/dev/null || { echo "docker import failed"; tail -n 20 "$work/dockerd.log"; exit 1; }
for rt in $runtimes; do
  name=${rt##*/}
  R="--runtime=test-$name"
  enforced "docker ($name)" $D run --rm $R
  if started "docker ($name)" "$D" "$R"; then
    scope=docker-$id.scope
    in_force "docker ($name)" "$pid" "$scope"
    $D update --memory 64m --memory-swap 128m "$id" >/dev/null 2>&1
    check "docker ($name): update reaches memory.max" 67108864 "$(cgroup_v2_file "$pid" memory.max)"
    $D pause "$id" >/dev/null 2>&1
    check "docker ($name): pause freezes the cgroup" "frozen 1" "$(grep frozen "$cg/cgroup.events" 2>&1)"
    $D unpause "$id" >/dev/null 2>&1
    check "docker ($name): unpause" "running" "$($D inspect -f '{{.State.Status}}' "$id" 2>&1)"
    $D rm -f "$id" >/dev/null 2>&1
    gone_after "docker ($name) rm -f" "$scope" "$cg"
  fi
  # run --rm: the id from --cidfile, the cgroup from inside (the host's cgroup namespace).
  rm -f "$work/cid"
  if cg=$($D run --rm $R --cgroupns host --cidfile "$work/cid" agentrun-bb:1 sed -n 's/^0:://p' /proc/self/cgroup 2>"$work/err"); then
    scope=docker-$(cat "$work/cid" 2>/dev/null).scope
    check_contains "docker ($name): run --rm ran in its scope" "/$scope" "$cg"
    gone_after "docker ($name) run --rm" "$scope" "/sys/fs/cgroup$cg"
  else
    not_ok "docker ($name): run --rm in the host's cgroup namespace" "$(head -c 400 "$work/err")"
  fi
done
docker_stop

# podman: conmon, the systemd cgroup manager, the runtime by path.
cat >"$CONTAINERS_CONF" <<CONF
[engine]
cgroup_manager = "systemd"
events_logger = "file"
CONF
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$work/graph" "$work/run" >"$CONTAINERS_STORAGE_CONF"
P="podman --root $work/graph --runroot $work/run --tmpdir $work/tmp"
$P import "$work/rootfs.tar" agentrun-bb:1 >/dev/null 2>&1 || { echo "podman import failed"; exit 1; }
for rt in $runtimes; do
  name=${rt##*/}
  R="--runtime $rt --network none"
  enforced "podman ($name)" $P run --rm $R
  if started "podman ($name)" "$P" "$R"; then
    scope=libpod-$id.scope
    in_force "podman ($name)" "$pid" "$scope"
    $P --runtime "$rt" update --memory 64m "$id" >/dev/null 2>&1
    check "podman ($name): update reaches memory.max" 67108864 "$(cgroup_v2_file "$pid" memory.max)"
    $P --runtime "$rt" rm -f -t 0 "$id" >/dev/null 2>&1
    gone_after "podman ($name) rm -f" "$scope" "$cg"
  fi
done

# CRI: a RuntimeClass handler for each runtime, SystemdCgroup = true, the pod
# in kubepods-besteffort-pod<uid>.slice (client.py, as kubelet's systemd driver).
. "$here/../cri/daemon.sh"
handlers=""
for rt in $runtimes; do handlers="$handlers ${rt##*/}=$rt"; done
# shellcheck disable=SC2086
cri_start $handlers
for rt in $runtimes; do
  cri_handler=${rt##*/}
  scopes_before=$(systemd_units scope)
  out=$(client node true)
  check_contains "CRI ($cri_handler): pod, container, ExecSync" "exec_exit=3" "$out"
  check_contains "CRI ($cri_handler): UpdateContainerResources reaches memory.max" "updated_memory_limit=100663296" "$out"
  check_contains "CRI ($cri_handler): stop and removal" "removed=yes" "$out"
  check "CRI ($cri_handler): no cri-containerd scope left" "" "$(systemd_units scope | grep '^cri-containerd-' | grep -vxF -e "$scopes_before")"
  check "CRI ($cri_handler): no container cgroup left in the pod's slice" "" \
    "$(find /sys/fs/cgroup/kubepods.slice -mindepth 2 -type d 2>/dev/null | grep -v '\.slice$')"
done
finish
