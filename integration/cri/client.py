# A small CRI client, as kubelet drives a runtime handler: a pod sandbox on
# the host network or on its own (CNI), a container (on its own network, a
# second one beside it), ExecSync, then removal.
# Prints one "key=value" line per observation.
# Usage: client.py STUBS_DIR SOCKET HANDLER node|pod COMMAND [POLICY_ANNOTATION]
import os
import sys

import grpc
import websocket

sys.path.insert(0, sys.argv[1])
import api_pb2 as api  # noqa: E402
import api_pb2_grpc as rpc  # noqa: E402

rt = rpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + sys.argv[2]))
# network NODE (2): the host's; POD (0): the pod's own, made by CNI.
namespaces = api.NamespaceOption(network=2 if sys.argv[4] == "node" else 0)
annotations = {"io.agentrun.policy": sys.argv[6]} if len(sys.argv) > 6 else {}
# kubelet's systemd driver gives each pod a slice (the uid's dashes become
# underscores: a dash nests); with cgroupfs this client leaves it to containerd.
uid = "uid-1"
parent = ""
if os.environ.get("AGENTRUN_IT_CGROUP_DRIVER") == "systemd":
    parent = "kubepods-besteffort-pod" + uid.replace("-", "_") + ".slice"
sandbox = api.PodSandboxConfig(
    metadata=api.PodSandboxMetadata(name="agent", uid=uid, namespace="default"),
    annotations=annotations,
    linux=api.LinuxPodSandboxConfig(
        cgroup_parent=parent, security_context=api.LinuxSandboxSecurityContext(namespace_options=namespaces)))
try:
    pod = rt.RunPodSandbox(api.RunPodSandboxRequest(config=sandbox, runtime_handler=sys.argv[3])).pod_sandbox_id
except grpc.RpcError as e:
    print("refused=" + e.details())
    sys.exit(0)
config = api.ContainerConfig(
    metadata=api.ContainerMetadata(name="work"), image=api.ImageSpec(image="docker.io/library/agentrun-bb:1"),
    envs=[api.KeyValue(key="GREETING", value="hello")], log_path="work.log",
    linux=api.LinuxContainerConfig(security_context=api.LinuxContainerSecurityContext(namespace_options=namespaces)))
def observe(pod):
    cid = rt.CreateContainer(api.CreateContainerRequest(pod_sandbox_id=pod, config=config, sandbox_config=sandbox)).container_id
    try:
        rt.StartContainer(api.StartContainerRequest(container_id=cid))
        out = rt.ExecSync(api.ExecSyncRequest(container_id=cid, cmd=["sh", "-c", sys.argv[5]], timeout=10))
        print("exec_stdout=" + out.stdout.decode().replace("\n", " ").strip())
        status = rt.ExecSync(api.ExecSyncRequest(container_id=cid, cmd=["sh", "-c", "exit 3"], timeout=10))
        print("exec_exit=" + str(status.exit_code))
        rt.UpdateContainerResources(api.UpdateContainerResourcesRequest(
            container_id=cid, linux=api.LinuxContainerResources(memory_limit_in_bytes=96 * 1024 * 1024, cpu_shares=256)))
        # cgroup v1: the memory hierarchy mounted at the container's cgroup;
        # v2: the file of the cgroup /proc/self/cgroup names (below the
        # container's cgroup namespace, if it has one).
        limit = rt.ExecSync(api.ExecSyncRequest(container_id=cid, cmd=["sh", "-c", (
            "f=/sys/fs/cgroup/memory/memory.limit_in_bytes; [ -f $f ] || "
            "f=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)/memory.max; cat $f")], timeout=10))
        print("updated_memory_limit=" + limit.stdout.decode().strip())
        stats = rt.ContainerStats(api.ContainerStatsRequest(container_id=cid)).stats
        print("stats_memory_working_set_positive=" + str(stats.memory.working_set_bytes.value > 0))
        streamed, result = streamed_exec(cid, ["sh", "-c", "echo streamed"])
        print("streamed_exec=" + streamed)
        print("streamed_exec_status=" + result)
        # kubectl exec -it, after the update above has repeated the config's device rules.
        tty, result = streamed_exec(cid, ["sh", "-c", "tty; read line"], tty=True)
        print("tty_exec=" + tty)
        print("tty_exec_status=" + result)
        if sys.argv[4] == "pod":
            second(pod)
        rt.StopContainer(api.StopContainerRequest(container_id=cid, timeout=2))
    finally:
        rt.RemoveContainer(api.RemoveContainerRequest(container_id=cid))


def second(pod):
    """A second container of the pod, beside the first: the same command."""
    other = api.ContainerConfig()
    other.CopyFrom(config)
    other.metadata.name = "second"
    other.log_path = "second.log"
    cid = rt.CreateContainer(api.CreateContainerRequest(pod_sandbox_id=pod, config=other, sandbox_config=sandbox)).container_id
    try:
        rt.StartContainer(api.StartContainerRequest(container_id=cid))
        out = rt.ExecSync(api.ExecSyncRequest(container_id=cid, cmd=["sh", "-c", sys.argv[5]], timeout=10))
        print("second_stdout=" + out.stdout.decode().replace("\n", " ").strip())
        rt.StopContainer(api.StopContainerRequest(container_id=cid, timeout=2))
    finally:
        rt.RemoveContainer(api.RemoveContainerRequest(container_id=cid))


def streamed_exec(cid, cmd, tty=False):
    """Exec through the streaming server, as `kubectl exec` reaches it: a
    websocket with one byte of channel before each frame (0 stdin, 1 stdout,
    3 the final status), ended by a close frame. With a tty (`kubectl exec
    -it`) the pty carries stdout and stderr together (CRI refuses tty with
    stderr), stdin is attached, and `cmd` must wait for a line: it is sent
    once a whole line of output arrived, because containerd 1.6's shim may
    drop what a tty exec wrote when the process ends before it was read
    (runc's too)."""
    url = rt.Exec(api.ExecRequest(container_id=cid, cmd=cmd, tty=tty, stdin=tty, stdout=True, stderr=not tty)).url
    ws = websocket.create_connection(url.replace("http", "ws", 1), subprotocols=["v4.channel.k8s.io"], timeout=10)
    channels = {1: b"", 3: b""}
    answered = not tty
    try:
        while True:
            opcode, data = ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            if data[:1] and data[0] in channels:
                channels[data[0]] += data[1:]
            if not answered and b"\n" in channels[1]:
                ws.send_binary(b"\x00\n")
                answered = True
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        pass  # the server may drop the connection right after its close frame
    finally:
        ws.close()
    return channels[1].decode().strip(), channels[3].decode().strip()


try:
    observe(pod)
finally:
    rt.StopPodSandbox(api.StopPodSandboxRequest(pod_sandbox_id=pod))
    rt.RemovePodSandbox(api.RemovePodSandboxRequest(pod_sandbox_id=pod))
print("removed=yes")
