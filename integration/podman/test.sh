#!/bin/sh
# podman --runtime agentrun (conmon calls the runtime): run, -t, exec,
# pause/unpause, kill with a signal, logs, update, top, stop, a refusal.
# Usage: integration/podman/test.sh AGENTRUN_BINARY
set -u
agentrun=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
install_missing podman conmon catatonit

work=$(mktemp -d /tmp/agentrun-podman.XXXXXX)
had_netavark=$(iptables-save 2>/dev/null | grep -q NETAVARK && echo yes)
had_podman0=$(ip link show podman0 >/dev/null 2>&1 && echo yes)
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf"
P="podman --root $work/graph --runroot $work/run --tmpdir $work/tmp --runtime agentrun"
# netavark leaves its iptables chains behind: removed when the suite made them.
remove_netavark_chains() {
  for table in nat filter; do
    iptables -t "$table" -S 2>/dev/null | grep -- '-A .* -j NETAVARK' | sed 's/^-A/-D/' | while read -r rule; do
      eval "iptables -t $table $rule" 2>/dev/null
    done
    for step in -F -X; do
      for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^NETAVARK/ {print $2}'); do
        iptables -t "$table" "$step" "$chain" 2>/dev/null
      done
    done
  done
}
cleanup() {
  $P rm -af -t 0 >/dev/null 2>&1
  [ -z "$had_netavark" ] && remove_netavark_chains
  [ -z "$had_podman0" ] && ip link delete podman0 2>/dev/null
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r umount 2>/dev/null
  rm -rf "$work"
  # podman's parent cgroups, if empty (it makes them; nothing else uses them here)
  for d in /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/memory/*/*/libpod_parent; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  stop_new_slices  # machine.slice, with the systemd manager
}
trap cleanup EXIT INT TERM

# cgroupfs (no systemd on the development hosts) or systemd
# (AGENTRUN_IT_CGROUP_DRIVER), and a file events log. Container logs in files
# too: on a systemd host podman's default is journald, read back through a
# dlopen of libsystemd that failed once in the guest tier. This host's root
# lacks CAP_SYS_RESOURCE, so every run asks for limits within the current ones.
cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
log_driver = "k8s-file"
[engine]
cgroup_manager = "$cgroup_driver"
events_logger = "file"
runtime_supports_json = ["agentrun"]
[engine.runtimes]
agentrun = ["$agentrun"]
CONF
cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "vfs"
graphroot = "$work/graph"
runroot = "$work/run"
CONF
L="--ulimit nproc=1000:1000 --ulimit nofile=1024:1024 --network none"
busybox_tar "$work"
$P import "$work/rootfs.tar" agentrun-bb:1 >/dev/null 2>&1 || { echo "podman import failed"; exit 1; }

check "run" "hello" "$($P run --rm $L agentrun-bb:1 echo hello 2>&1)"
$P run --rm $L agentrun-bb:1 sh -c 'exit 3' >/dev/null 2>&1; check "exit status" 3 $?
check_contains "a refusal reaches the user" 'executable file not found in $PATH' "$($P run --rm $L agentrun-bb:1 nosuch 2>&1)"
check "-t gives a terminal" "/dev/pts/0" "$($P run --rm -t $L agentrun-bb:1 tty </dev/null 2>&1 | tr -d '\r')"
file_is() { [ "$($P exec "$1" cat "$2" 2>/dev/null)" = "$3" ]; }
logs_have() { $P logs "$1" 2>&1 | grep -q "$2"; }
answers() { busybox nc 127.0.0.1 "$1" </dev/null 2>/dev/null | grep -q "$2"; }
$P run -d --name life $L agentrun-bb:1 sh -c 'trap "echo got-usr1" USR1; echo set > /tmp/trapped; while :; do sleep 0.2; done' >/dev/null 2>&1
wait_until 10 "life to set its trap" file_is life /tmp/trapped set
check "exec" "0" "$($P exec life id -u 2>&1)"
check_contains "exec -t" "/dev/pts/" "$($P exec -t life tty </dev/null 2>&1)"
$P pause life >/dev/null 2>&1; check "pause" "paused" "$($P inspect -f '{{.State.Status}}' life)"
$P unpause life >/dev/null 2>&1; check "unpause" "running" "$($P inspect -f '{{.State.Status}}' life)"
$P kill -s USR1 life >/dev/null 2>&1
wait_until 10 "the USR1 handler" logs_have life got-usr1
check_contains "kill with a signal, logs" "got-usr1" "$($P logs life 2>&1)"
$P update --memory 64m life >/dev/null 2>&1; check "update" 0 $?
check_contains "top" "sleep" "$($P top life 2>&1)"
$P stop -t 1 life >/dev/null 2>&1; check "stop" "exited" "$($P inspect -f '{{.State.Status}}' life)"
$P rm life >/dev/null 2>&1
$P run -d --name web -p 127.0.0.1:18998:7777 --ulimit nproc=1000:1000 --ulimit nofile=1024:1024 agentrun-bb:1 \
  sh -c 'while :; do echo published | nc -l -p 7777; done' >/dev/null 2>&1
# The container serves one connection at a time and needs a moment to listen
# again: the answer the wait gets is the check.
if poll_until 10 answers 18998 published; then ok "a published port (netavark)"; else
  not_ok "a published port (netavark)" "no answer on 127.0.0.1:18998 within 10s"; fi
$P rm -f -t 0 web >/dev/null 2>&1
# A pod: its infra container (podman's pause image, /catatonit) and a member
# sharing its namespaces.
$P pod create --name agents --network none >/dev/null 2>&1
check "a pod's member runs beside the infra container" "in the pod" \
  "$($P run --rm --pod agents agentrun-bb:1 echo in the pod 2>&1)"
check "the pod's infra container runs" "Running" "$($P pod inspect -f '{{.State}}' agents 2>&1)"
$P pod rm -f agents >/dev/null 2>&1
check "podman --runtime PATH" "by path" \
  "$(podman --root "$work/graph" --runroot "$work/run" --tmpdir "$work/tmp" --runtime "$agentrun" run --rm $L agentrun-bb:1 echo by path 2>&1)"
check "seccomp and the agent policy under podman" "Seccomp_filters:	$(agent_filters)" \
  "$($P run --rm $L agentrun-bb:1 grep Seccomp_filters /proc/self/status 2>&1)"
finish
