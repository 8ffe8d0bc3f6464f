# Shared by the integration suites: checks that count, and a busybox rootfs.
# Each suite sources this, sets up its daemons on private sockets and
# directories, and stops them by PID in its EXIT trap.

passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
not_ok() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && printf '     %s\n' "$2"; }

# check NAME EXPECTED ACTUAL: equality
check() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2], got [$3]"; fi
}

# check_contains NAME NEEDLE HAYSTACK
check_contains() {
  case $3 in
    *"$2"*) ok "$1" ;;
    *) not_ok "$1" "expected to contain [$2]: $(printf '%s' "$3" | head -c 400)" ;;
  esac
}

finish() {
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
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
