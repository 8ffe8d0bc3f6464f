#!/bin/sh
# containerd's own client, ctr, through the runc v2 shim with agentrun as
# its runc binary: run, exec, ps, pause/resume, kill, delete.
# Usage: integration/containerd/test.sh AGENTRUN_BINARY
set -u
agentrun=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
install_missing containerd

work=$(mktemp -d /tmp/agentrun-containerd.XXXXXX)
cleanup() {
  if [ -S "$work/ctd.sock" ]; then
    for t in $(ctr --address "$work/ctd.sock" task ls -q 2>/dev/null); do
      ctr --address "$work/ctd.sock" task kill -s KILL "$t" 2>/dev/null
      ctr --address "$work/ctd.sock" task delete -f "$t" >/dev/null 2>&1
    done
    ctr --address "$work/ctd.sock" container ls -q 2>/dev/null | xargs -r ctr --address "$work/ctd.sock" container rm >/dev/null 2>&1
  fi
  [ -n "${containerd_pid:-}" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null
  pkill -f -- "-address $work/ctd.sock" 2>/dev/null
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r umount 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

containerd --root "$work/root" --state "$work/state" --address "$work/ctd.sock" >"$work/containerd.log" 2>&1 &
containerd_pid=$!
wait_until 30 "containerd's socket" test -S "$work/ctd.sock"
busybox_tar "$work"
C="ctr --address $work/ctd.sock"
R="--runtime io.containerd.runc.v2 --runc-binary $agentrun --runc-root $work/runtime-root --rootfs $work/rootfs"
# With the systemd driver, ctr wants a cgroupsPath of systemd's form (before
# $R: its --rootfs takes the next word).
cg() { [ "$cgroup_driver" = systemd ] && echo "--runc-systemd-cgroup --cgroup system.slice:agentrun-it:$1"; }
task_is() { [ "$($C task ls 2>/dev/null | awk -v t="$1" '$1 == t {print $3}')" = "$2" ]; }

check "ctr run" "hello" "$($C run --rm $(cg t1) $R t1 echo hello 2>&1)"
$C run --rm $(cg t2) $R t2 sh -c 'exit 4'; check "ctr run: exit status" 4 $?
check_contains "ctr run: a refusal reaches the user" "executable file not found" "$($C run --rm $(cg t3) $R t3 nosuch 2>&1)"
# ctr -t wants a terminal of its own: script(1) gives it one.
check_contains "ctr run -t" "/dev/pts/0" "$(script -qec "$C run --rm -t $(cg tty1) $R tty1 tty" /dev/null </dev/null 2>&1)"
$C run -d $(cg t4) $R t4 sleep 60 >/dev/null 2>&1
wait_until 30 "t4 running" task_is t4 RUNNING
check "ctr task exec" "uid=0(root) gid=0" "$($C task exec --exec-id e1 t4 id 2>&1)"
check "ctr task exec: exit status" 5 "$($C task exec --exec-id e2 t4 sh -c 'exit 5' >/dev/null 2>&1; echo $?)"
pid=$($C task ls | awk '$1 == "t4" {print $2}')
check_contains "ctr task ps" "$pid" "$($C task ps t4)"
$C task pause t4
check "ctr task pause" "PAUSED" "$($C task ls | awk '$1 == "t4" {print $3}')"
$C task resume t4
check "ctr task resume" "RUNNING" "$($C task ls | awk '$1 == "t4" {print $3}')"
$C task kill -s KILL t4
wait_until 30 "t4 stopped" task_is t4 STOPPED
check "ctr task kill" "STOPPED" "$($C task ls | awk '$1 == "t4" {print $3}')"
$C task delete t4 >/dev/null 2>&1; check "ctr task delete" 0 $?
$C container delete t4
check "nothing left in agentrun's state" "" "$(ls "$work/runtime-root/default" 2>/dev/null)"
finish
