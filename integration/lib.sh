# Shared by the integration suites: checks that count, waiting on a
# condition, a check for leftovers, and a busybox rootfs. Each suite sources
# this, sets up its daemons on private sockets and directories, defines
# cleanup() to stop them by PID (also its EXIT trap), and ends with finish,
# which runs cleanup, then the leftover check.

passed=0
failed=0

# skip REASON: the host lacks what the suite needs; ctest reports exit 77 as skipped.
skip() {
  echo "SKIP: $1"
  exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (euid $(id -u))"

# poll_until SECONDS COMMAND...: until COMMAND succeeds (0) or SECONDS pass (1).
# The one place that sleeps: between tries of a condition, never as a wait.
poll_until() {
  deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.05
  done
}

# gone PID: the process has exited.
gone() { ! kill -0 "$1" 2>/dev/null; }

# wait_until SECONDS WHAT COMMAND...: as poll_until; a timeout is a failed check.
wait_until() {
  seconds=$1 what=$2
  shift 2
  poll_until "$seconds" "$@" || not_ok "waiting for $what" "not within ${seconds}s"
}

ok() { passed=$((passed + 1)); echo "ok   $1"; }
not_ok() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && printf '     %s\n' "$2"; }

# check NAME EXPECTED ACTUAL: equality
check() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2], got [$3]"; fi
}

# check_contains NAME NEEDLE HAYSTACK
# How many seccomp filters agent-default stacks on this kernel: Docker's
# baseline and the agent filter, and below Landlock ABI 3 (Linux 6.2) the
# landlock-truncate filter standing in for Landlock's truncate right
# (docs/policy.md). The ABI comes from landlock_create_ruleset (444).
agent_filters() {
  abi=$(python3 -c 'import ctypes; print(ctypes.CDLL(None).syscall(444, None, 0, 1))' 2>/dev/null || echo 0)
  if [ "$abi" -ge 3 ]; then echo 2; else echo 3; fi
}

check_contains() {
  case $3 in
    *"$2"*) ok "$1" ;;
    *) not_ok "$1" "expected to contain [$2]: $(printf '%s' "$3" | head -c 400)" ;;
  esac
}

# The clients' cgroup driver: cgroupfs (the default) or, with
# AGENTRUN_IT_CGROUP_DRIVER=systemd, systemd: docker's
# native.cgroupdriver=systemd, containerd's SystemdCgroup, podman's
# cgroup_manager = "systemd"; the runtime is then called with
# --systemd-cgroup. That needs systemd as PID 1 on a pure cgroup v2 hierarchy
# (the guest tier, tests/guest/).
cgroup_driver=${AGENTRUN_IT_CGROUP_DRIVER:-cgroupfs}
case $cgroup_driver in
  cgroupfs) ;;
  systemd)
    [ -d /run/systemd/system ] || skip "the systemd cgroup driver needs systemd as PID 1 (the guest tier, tests/guest/, has it)"
    [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || skip "the systemd cgroup driver needs a pure cgroup v2 hierarchy (the guest tier, tests/guest/, has it)"
    ;;
  *)
    echo "AGENTRUN_IT_CGROUP_DRIVER is cgroupfs or systemd, not \"$cgroup_driver\""
    exit 2
    ;;
esac

# cgroup_v2_file PID FILE: the content of FILE (memory.max, pids.max...) in the
# cgroup v2 cgroup of process PID, found from /proc/PID/cgroup: a container's
# cgroup is never assumed (runc uses the scope, crun nests in <scope>/container).
cgroup_v2_file() {
  cat "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")/$2" 2>&1
}

# systemd_units TYPE: the loaded units of that type (scope, slice), when
# systemd is PID 1.
systemd_units() {
  [ -d /run/systemd/system ] && systemctl list-units --all --plain --no-legend --type="$1" 2>/dev/null | awk '{print $1}'
}

# stop_new_slices: stops the slices that were not loaded when the suite
# began: the clients' parents (podman's machine.slice, the CRI pods'
# kubepods-*.slice) that systemd keeps after their last unit, as the suites
# remove the parent cgroups cgroupfs clients make.
slices_before=$(systemd_units slice)
stop_new_slices() {
  for s in $(systemd_units slice); do
    printf '%s\n' "$slices_before" | grep -qxF -e "$s" || systemctl stop "$s" 2>/dev/null
  done
}

# What exists before the suite, to tell what it left from what was there:
# cgroup directories of every hierarchy, systemd's scope units, network
# namespaces, nsfs mounts.
host_objects() {
  find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null
  systemd_units scope | sed 's/^/unit /'
  ls -1 /run/netns 2>/dev/null | sed 's|^|netns /run/netns/|'
  awk '/ - nsfs / {print "nsfs mount " $5}' /proc/self/mountinfo
}
before_suite=$(host_objects | sort)

# After cleanup: the runtime left nothing. Processes running the binary under
# test or living below the suite's work directory, mounts of that directory,
# and cgroups, network namespaces and nsfs mounts that were not there before.
# Cgroups of agentrun's runtime tests (below agentrun-test-*, or agentrun/
# of a runtime test run from the test's own cgroup), which may run beside a
# suite, are theirs to check.
check_leftovers() {
  left=""
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    exe=$(readlink "$p/exe" 2>/dev/null) root=$(readlink "$p/root" 2>/dev/null)
    [ -n "$exe" ] && case "$exe" in "$agentrun" | "$agentrun (deleted)") left="$left
process ${p#/proc/}: $exe" ;; esac
    case "$root" in "$work" | "$work"/*) left="$left
process ${p#/proc/} rooted in $root" ;; esac
  done
  mounts=$(grep -F " $work" /proc/self/mountinfo | awk '{print "mount " $5}')
  before=$(mktemp)
  printf '%s\n' "$before_suite" >"$before"
  new=$(host_objects | sort | comm -13 "$before" - | grep -v -e '/agentrun$' -e '/agentrun/' -e '/agentrun-test-')
  rm -f "$before"
  left=$(printf '%s\n%s\n%s' "$left" "$mounts" "$new" | sed '/^$/d')
  if [ -z "$left" ]; then ok "nothing left behind"; else not_ok "nothing left behind" "$left"; fi
}

finish() {
  trap - EXIT INT TERM
  cleanup
  check_leftovers
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# A busybox rootfs, as a tar for `docker import`: no registry is needed.
busybox_tar() {
  dir=$1/rootfs
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/workspace" "$dir/root/.ssh"
  cp /bin/busybox "$dir/bin/busybox"
  for a in sh echo cat id ls ps sleep true wget env grep head tr seq tty kill nc od sed; do ln -sf busybox "$dir/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'PRIVATE KEY' >"$dir/root/.ssh/id_ed25519"
  tar -C "$dir" -cf "$1/rootfs.tar" .
}

install_missing() {
  missing=""
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
    skip "cannot install$missing"
}
