#!/bin/sh
# docker run --runtime=agentrun, through dockerd, containerd and the runc v2
# shim, as users call it: under `oci` (runc's behaviour) and under the
# default agent policy. Usage: integration/docker/test.sh AGENTRUN_BINARY
set -u
agentrun=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
install_missing docker.io containerd

work=$(mktemp -d /tmp/agentrun-docker.XXXXXX)
. "$here/daemon.sh"
cleanup() {
  [ -S "$work/docker.sock" ] && $D network rm agentrun-net >/dev/null 2>&1
  docker_stop
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r umount 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

docker_start '{"agentrun-oci": {"path": "'"$agentrun"'", "runtimeArgs": ["--policy", "oci"]}, "agentrun": {"path": "'"$agentrun"'"}}'
# Conditions waited on: a container's file has the content, its logs contain a text, a port answers.
file_is() { [ "$($D exec "$1" cat "$2" 2>/dev/null)" = "$3" ]; }
logs_have() { $D logs "$1" 2>&1 | grep -q "$2"; }
answers() { nc 127.0.0.1 "$1" </dev/null 2>/dev/null | grep -q "$2" || busybox nc 127.0.0.1 "$1" </dev/null 2>/dev/null | grep -q "$2"; }
busybox_tar "$work"
$D import "$work/rootfs.tar" agentrun-bb:1 >/dev/null || { echo "docker import failed"; cat "$work/dockerd.log"; exit 1; }

# AGENTRUN_IT_DOCKER_RUNTIMES narrows the loop (the guest tier, where each
# docker run costs seconds, runs it under the default policy only).
for rt in ${AGENTRUN_IT_DOCKER_RUNTIMES:-agentrun-oci agentrun}; do
  run="$D run --rm --runtime=$rt agentrun-bb:1"
  check "$rt: run and its output" "hello" "$($run echo hello)"
  $run sh -c 'exit 3'; check "$rt: exit status" 3 $?
  out=$($run nosuch 2>&1); rc=$?
  check "$rt: missing program exits 127" 127 $rc
  check_contains "$rt: missing program, runc's words" 'executable file not found in $PATH' "$out"
  $run /etc/passwd >/dev/null 2>&1; check "$rt: program without exec permission exits 126" 126 $?
  check "$rt: -t gives a terminal" "/dev/pts/0" "$($D run --rm -t --runtime=$rt agentrun-bb:1 tty </dev/null | tr -d '\r')"
  $D run --rm --runtime=$rt --memory 16m --memory-swap 16m agentrun-bb:1 \
    sh -c 'x=$(head -c 100000000 /dev/zero | tr "\000" a)' >/dev/null 2>&1
  check "$rt: --memory, the OOM killer ends it" 137 $?
  check "$rt: --pids-limit" "procs=7" \
    "$($D run --rm --runtime=$rt --pids-limit 8 agentrun-bb:1 sh -c '(for i in $(seq 30); do sleep 5 & done) 2>/dev/null; set -- /proc/[0-9]*; echo procs=$#')"
  check_contains "$rt: --read-only" "Read-only file system" "$($D run --rm --runtime=$rt --read-only agentrun-bb:1 sh -c 'touch /x 2>&1')"
  check "$rt: --cap-drop ALL" "CapEff:	0000000000000000" \
    "$($D run --rm --runtime=$rt --cap-drop ALL agentrun-bb:1 grep CapEff /proc/self/status)"
  check "$rt: --network none" "lo" "$($D run --rm --runtime=$rt --network none agentrun-bb:1 ls /sys/class/net)"

  check "$rt: -i passes stdin" "through stdin" "$(echo 'through stdin' | $D run --rm -i --runtime=$rt agentrun-bb:1 cat)"
  $D run --name oomed --runtime=$rt --memory 16m --memory-swap 16m agentrun-bb:1 \
    sh -c 'x=$(head -c 100000000 /dev/zero | tr "\000" a)' >/dev/null 2>&1
  check "$rt: an OOM kill is reported as OOMKilled" "true" "$($D inspect -f '{{.State.OOMKilled}}' oomed)"
  $D rm oomed >/dev/null
  check "$rt: --security-opt seccomp=unconfined" "$([ $rt = agentrun ] && echo "Seccomp_filters:	$(agent_filters)" || echo 'Seccomp_filters:	0')" \
    "$($D run --rm --security-opt seccomp=unconfined --runtime=$rt agentrun-bb:1 grep Seccomp_filters /proc/self/status)"
  echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}' >"$work/profile.json"
  check_contains "$rt: --security-opt seccomp=PROFILE" "Operation not permitted" \
    "$($D run --rm --security-opt seccomp="$work/profile.json" --runtime=$rt agentrun-bb:1 sh -c 'mkdir /tmp/x 2>&1')"
  $D run -d --name life --runtime=$rt agentrun-bb:1 \
    sh -c 'trap "echo got-usr1" USR1; trap "exit 0" TERM; echo set > /tmp/trapped; while :; do sleep 0.2; done' >/dev/null
  wait_until 10 "$rt: life to set its traps" file_is life /tmp/trapped set
  check "$rt: exec" "0" "$($D exec life id -u)"
  check "$rt: exec -u -e -w" "1000 bar /tmp" "$($D exec -u 1000 -e FOO=bar -w /tmp life sh -c 'echo $(id -u) $FOO $(pwd)')"
  check_contains "$rt: exec -t" "/dev/pts/" "$($D exec -t life tty </dev/null)"
  $D exec -d life sh -c 'echo detached > /tmp/d'
  wait_until 10 "$rt: exec -d to write" file_is life /tmp/d detached
  check "$rt: exec -d" "detached" "$($D exec life cat /tmp/d)"
  check_contains "$rt: top" "sleep" "$($D top life)"
  $D pause life >/dev/null; check "$rt: pause" "paused" "$($D inspect -f '{{.State.Status}}' life)"
  $D unpause life >/dev/null; check "$rt: unpause" "running" "$($D inspect -f '{{.State.Status}}' life)"
  $D update --memory 64m --memory-swap 128m life >/dev/null; check "$rt: update" 0 $?
  check_contains "$rt: stats" "64MiB" "$($D stats --no-stream life)"
  $D kill -s USR1 life >/dev/null
  wait_until 10 "$rt: the USR1 handler" logs_have life got-usr1
  check_contains "$rt: kill with a signal, logs" "got-usr1" "$($D logs life)"
  $D restart -t 1 life >/dev/null; check "$rt: restart" "running" "$($D inspect -f '{{.State.Status}}' life)"
  $D stop -t 5 life >/dev/null; check "$rt: stop, gracefully (the process exits on TERM)" "0" "$($D inspect -f '{{.State.ExitCode}}' life)"
  $D start life >/dev/null
  $D run -d --name stubborn --runtime=$rt agentrun-bb:1 sh -c 'trap "" TERM; while :; do sleep 0.2; done' >/dev/null
  $D stop -t 1 stubborn >/dev/null; check "$rt: stop by timeout (SIGKILL)" "137" "$($D inspect -f '{{.State.ExitCode}}' stubborn)"
  $D rm stubborn >/dev/null
  $D run -d --name waited --runtime=$rt agentrun-bb:1 sh -c 'sleep 0.5; exit 7' >/dev/null
  check "$rt: wait" "7" "$($D wait waited)"
  $D rm waited >/dev/null
  if [ $rt = agentrun ]; then
    # agent-default's egress rules would confine the host: refused.
    check_contains "$rt: host network is refused" "network.egress needs a network namespace of the container's own" \
      "$($D run --rm --network host --runtime=$rt agentrun-bb:1 true 2>&1)"
    check_contains "$rt: the cloud metadata address is refused at once" "No route to host" \
      "$($D run --rm --runtime=$rt agentrun-bb:1 busybox nc -w 5 169.254.169.254 80 </dev/null 2>&1)"
  else
    check_contains "$rt: host network" "lo" "$($D run --rm --network host --runtime=$rt agentrun-bb:1 ls /sys/class/net)"
  fi
  $D stop -t 1 life >/dev/null; check "$rt: stop" "exited" "$($D inspect -f '{{.State.Status}}' life)"
  $D rm life >/dev/null
done

# Networking, volumes, devices and shared namespaces (under oci: the policy
# only adds restrictions, the plumbing is the same).
rt=agentrun-oci
$D network create --driver bridge agentrun-net >/dev/null
$D run -d --name srv --network agentrun-net --runtime=$rt agentrun-bb:1 \
  sh -c 'while :; do echo pong | nc -l -p 7777; done' >/dev/null
$D run -d --name pub -p 127.0.0.1:18777:7777 --ipc shareable --runtime=$rt agentrun-bb:1 \
  sh -c 'while :; do echo published | nc -l -p 7777; done' >/dev/null
# Each server answers one connection at a time and needs a moment to listen
# again: an answer the wait gets is the check.
if poll_until 10 answers 18777 published; then ok "published port on loopback"; else
  not_ok "published port on loopback" "no answer on 127.0.0.1:18777 within 10s"; fi
wait_until 10 "srv to listen" sh -c "$D exec srv sh -c 'nc 127.0.0.1 7777 </dev/null' | grep -q pong"
if poll_until 10 sh -c "$D run --rm --network agentrun-net --runtime=$rt agentrun-bb:1 sh -c 'nc srv 7777 </dev/null' | grep -q pong"; then
  ok "bridge network: a container reaches another by name"
else
  not_ok "bridge network: a container reaches another by name" "no pong from srv within 10s"
fi
mkdir -p "$work/vol" && echo hostfile >"$work/vol/f"
check "bind volume" "hostfile" "$($D run --rm -v "$work/vol:/data" --runtime=$rt agentrun-bb:1 cat /data/f)"
check "named volume" "kept" "$($D run --rm -v agentrun-vol:/v --runtime=$rt agentrun-bb:1 sh -c 'echo kept > /v/x' &&
                             $D run --rm -v agentrun-vol:/v --runtime=$rt agentrun-bb:1 cat /v/x)"
$D volume rm agentrun-vol >/dev/null
check_contains "tmpfs volume" "tmpfs /scratch tmpfs" "$($D run --rm --tmpfs /scratch --runtime=$rt agentrun-bb:1 grep scratch /proc/mounts)"
check "--device" "00 00" "$($D run --rm --device /dev/zero:/dev/myzero --runtime=$rt agentrun-bb:1 sh -c 'head -c 2 /dev/myzero | od -An -tx1 | tr -s " " | sed "s/^ //"')"
check "--init" "docker-init" "$($D run --rm --init --runtime=$rt agentrun-bb:1 cat /proc/1/comm)"
check_contains "--pid container:" "nc -l -p 7777" "$($D run --rm --pid container:srv --runtime=$rt agentrun-bb:1 ps)"
check "--net container:" "pong" "$($D run --rm --net container:srv --runtime=$rt agentrun-bb:1 sh -c 'nc 127.0.0.1 7777 </dev/null')"
$D run --rm --ipc container:pub --runtime=$rt agentrun-bb:1 true; check "--ipc container:" 0 $?
$D rm -f srv pub >/dev/null
$D network rm agentrun-net >/dev/null

# Under the default agent policy, what docker users see of it.
run="$D run --rm --runtime=agentrun agentrun-bb:1"
check "agent-default: credentials hidden" "gone" "$($run sh -c 'cat /root/.ssh/id_ed25519 2>/dev/null || echo gone')"
check "agent-default: seccomp baseline and agent filter" "Seccomp_filters:	$(agent_filters)" "$($run grep Seccomp_filters /proc/self/status)"
check "agent-default: no_new_privs" "NoNewPrivs:	1" "$($run grep NoNewPrivs /proc/self/status)"
check_contains "agent-default: /bin/wget is blocked" "Permission denied" "$($run sh -c '/bin/wget -q http://127.0.0.1/' 2>&1)"
out=$($D run --rm --runtime=agentrun --privileged agentrun-bb:1 true 2>&1); rc=$?
check "agent-default: --privileged is refused" 125 $rc
check_contains "agent-default: the refusal says why" "which the policy does not allow (allowPrivileged: false)" "$out"
finish
