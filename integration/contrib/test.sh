#!/bin/sh
# The operator's kit parses, the example policies and operator config are
# accepted by agentrun itself, and `cmake --install` puts everything in place.
# Usage: integration/contrib/test.sh AGENTRUN_BINARY
# (Debian's /usr/bin/python3, with the python3-yaml it installs, not whatever python3 is first in PATH.)
set -u
agentrun=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
top=$(cd "$here/../.." && pwd)
install_missing python3 python3-yaml
work=$(mktemp -d /tmp/agentrun-contrib.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT INT TERM

for f in "$top"/contrib/kubernetes/*.yaml; do
  /usr/bin/python3 -c 'import sys, yaml; docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]; assert all("kind" in d and "apiVersion" in d for d in docs), "not a manifest"' "$f"
  check "parses: ${f#$top/}" 0 $?
done
for f in "$top"/contrib/docker/daemon.json "$top"/contrib/agentrun-config.json; do
  /usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$f"; check "parses: ${f#$top/}" 0 $?
done
/usr/bin/python3 -c 'import sys, tomllib; c = tomllib.load(open(sys.argv[1], "rb")); r = c["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["agentrun"]; assert r["runtime_type"] == "io.containerd.runc.v2" and r["options"]["BinaryName"]' "$top/contrib/containerd/config.toml"
check "parses: contrib/containerd/config.toml (the agentrun handler)" 0 $?
/usr/bin/python3 -c 'import configparser, sys; p = configparser.ConfigParser(); p.read(sys.argv[1]); assert "agentrun" in p["engine.runtimes"]' "$top/contrib/podman/containers.conf"
check "parses: contrib/podman/containers.conf" 0 $?
bash -n "$top/contrib/bash-completion/agentrun"; check "bash completion is valid bash" 0 $?

# The operator config and the installed policy, as agentrun reads them.
mkdir -p "$work/etc/policies"
cp "$top/contrib/agentrun-config.json" "$work/etc/config.json"
cp "$top/contrib/policies/team-build.json" "$top/contrib/policies/agent-egress.json" "$work/etc/policies/"
out=$(AGENTRUN_CONFIG_DIR="$work/etc" "$agentrun" preflight --format json --policy team-build)
check_contains "the example policy is accepted, merged with the floor" '"policy":"team-build+agent-default"' "$out"
out=$(AGENTRUN_CONFIG_DIR="$work/etc" "$agentrun" preflight --format json --policy agent-egress)
check_contains "the egress example is accepted, merged with the floor" '"policy":"agent-egress+agent-default"' "$out"

cmake --install "$(dirname "$agentrun")" --prefix "$work/prefix" >/dev/null
for f in bin/agentrun share/man/man8/agentrun.8 share/bash-completion/completions/agentrun \
         share/doc/agentrun/examples/docker/daemon.json share/doc/agentrun/examples/kubernetes/runtimeclass.yaml \
         share/doc/agentrun/examples/agentrun-config.json share/doc/agentrun/examples/builtin-policies/agent-default.json; do
  [ -e "$work/prefix/$f" ]; check "installed: $f" 0 $?
done
finish
