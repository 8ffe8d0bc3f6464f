// What an agent tries from inside (threats.md section 2), as one static
// program: each attempt prints "name=ok" or "name=<ERRNO>" (or
// "name=killed-<SIG>"), and the runtime tests compare with what the policy
// must allow and refuse. Built statically so it runs in any rootfs.
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "net_attempts.hpp"

namespace {

void report(const char* name, long rc) {
  if (rc >= 0) std::printf("%s=ok\n", name);
  else std::printf("%s=%s\n", name, strerrorname_np(errno));
  std::fflush(stdout);
}

// Runs f in a child, so that a kill or a success with side effects stays there.
template <class F>
void in_child(const char* name, F f) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);  // a program it executes has nothing to say here
    dup2(null, 1);
    dup2(null, 2);
    long rc = f();
    _exit(rc >= 0 ? 0 : 100 + errno);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  // 100 + errno: the attempt failed; any other status: it ran (an executed program's own status).
  if (WIFSIGNALED(status)) std::printf("%s=killed-%s\n", name, sigabbrev_np(WTERMSIG(status)));
  else if (WEXITSTATUS(status) < 100) std::printf("%s=ok\n", name);
  else std::printf("%s=%s\n", name, strerrorname_np(WEXITSTATUS(status) - 100));
  std::fflush(stdout);
}

long read_file(const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  char buf[64];
  long n = read(fd, buf, sizeof buf);
  close(fd);
  if (n == 0) {
    errno = ENODATA;  // readable but empty: a masked file
    return -1;
  }
  return n;
}

long write_file(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  if (fd < 0) return -1;
  long n = write(fd, "x", 1);
  close(fd);
  return n;
}

// Copies a binary to `path` and runs it as `true` (busybox picks the applet
// by name): execution of what an agent downloaded or wrote.
long copy_and_exec(const char* from, const char* path) {
  int in = open(from, O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  if (in < 0 || out < 0) return -1;
  char buf[65536];
  for (long n; (n = read(in, buf, sizeof buf)) > 0;)
    if (write(out, buf, n) != n) return -1;
  close(in);
  close(out);
  char* argv[] = {const_cast<char*>("true"), nullptr};
  return execv(path, argv);
}

long run_true() {
  char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>("true"), nullptr};
  return execv("/bin/sh", argv);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) return network_attempts(argc, argv);
  // Credentials and secrets.
  report("read_ssh_key", read_file("/root/.ssh/id_rsa"));
  report("read_home_ssh_key", read_file("/home/agent/.ssh/id_rsa"));
  report("read_workspace_env", read_file("/workspace/.env"));
  report("read_workspace_file", read_file("/workspace/notes.txt"));
  report("read_kube_token", read_file("/var/run/secrets/kubernetes.io/serviceaccount/token"));
  report("see_runtime_state", access("/run/agentrun", F_OK));

  // Writing.
  report("write_root", write_file("/etc/owned"));
  report("write_tmp", write_file("/tmp/ok"));
  report("write_workspace", write_file("/workspace/ok"));
  report("write_proc_sys", write_file("/proc/sys/kernel/hostname"));
  report("write_sysrq", write_file("/proc/sysrq-trigger"));
  // A read-write volume outside `writable`: truncation without opening for
  // writing, which Landlock handles from ABI 3 and a stacked filter below it.
  report("truncate_volume_file", syscall(SYS_truncate, "/data/file", 0));
  report("open_trunc_volume_file", syscall(SYS_openat, AT_FDCWD, "/data/file", O_RDONLY | O_TRUNC | O_CLOEXEC));
  report("mknod", mknod("/tmp/null2", S_IFCHR | 0666, makedev(1, 3)));

  // Running things.
  in_child("exec_sh", run_true);
  in_child("exec_copy_in_tmp", [] { return copy_and_exec("/bin/busybox", "/tmp/copied"); });
  in_child("exec_copy_in_workspace", [] { return copy_and_exec("/bin/busybox", "/workspace/copied"); });
  in_child("exec_copy_in_shm", [] { return copy_and_exec("/bin/busybox", "/dev/shm/copied"); });
  report("memfd_create", syscall(SYS_memfd_create, "x", 0));
  in_child("execveat_empty_path", [] {
    int fd = open("/bin/busybox", O_RDONLY);
    char* argv[] = {const_cast<char*>("true"), nullptr};
    return syscall(SYS_execveat, fd, "", argv, nullptr, AT_EMPTY_PATH);
  });
  in_child("exec_tmpfile_through_proc", [] {
    // An unnamed file in /tmp, filled and executed through /proc/self/fd.
    int fd = open("/tmp", O_TMPFILE | O_RDWR, 0755);
    int in = open("/bin/busybox", O_RDONLY);
    if (fd < 0 || in < 0) return -1L;
    char buf[65536];
    for (long n; (n = read(in, buf, sizeof buf)) > 0;)
      if (write(fd, buf, n) != n) return -1L;
    // A read-only twin, so that no writer keeps it busy (ETXTBSY).
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int ro = open(path, O_RDONLY);
    close(fd);
    std::snprintf(path, sizeof path, "/proc/self/fd/%d", ro);
    char* argv[] = {const_cast<char*>("true"), nullptr};
    return static_cast<long>(execv(path, argv));
  });
  in_child("exec_blocked_wget", [] {
    char* argv[] = {const_cast<char*>("wget"), nullptr};
    return execv("/bin/wget", argv);
  });

  // Other processes.
  // In a child: a traced probe would stop at its next fork, waiting for a tracer that never comes.
  in_child("ptrace_traceme", [] { return ptrace(PTRACE_TRACEME, 0, nullptr, nullptr); });
  {
    char buf[8], target[8] = "x";
    iovec local{buf, 1}, remote{target, 1};
    report("process_vm_readv", syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0));
  }
  report("pidfd_getfd", syscall(SYS_pidfd_getfd, 0, 0, 0));

  // Namespaces and filters.
  in_child("unshare_user", [] { return static_cast<long>(unshare(CLONE_NEWUSER)); });
  in_child("unshare_mount", [] { return static_cast<long>(unshare(CLONE_NEWNS)); });
  report("clone3", syscall(SYS_clone3, nullptr, 0));
  report("setns", setns(0, 0));
  report("seccomp_filter", syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, 0, nullptr));
  report("prctl_seccomp", prctl(PR_SET_SECCOMP, 2, 0, 0, 0));

  // Mounts and the kernel surface.
  report("mount", mount("none", "/tmp", "tmpfs", 0, nullptr));
  report("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/tmp", 0));
  report("bpf", syscall(SYS_bpf, BPF_PROG_LOAD, nullptr, 0));
  {
    io_uring_params p{};
    report("io_uring_setup", syscall(SYS_io_uring_setup, 1, &p));
  }
  report("userfaultfd", syscall(SYS_userfaultfd, 0));
  {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    report("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  }
  report("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  in_child("personality_read_implies_exec", [] { return static_cast<long>(syscall(SYS_personality, 0x0400000)); });
  report("write_sys", write_file("/sys/kernel/uevent_helper"));
  report("write_cgroup_release_agent", write_file("/sys/fs/cgroup/release_agent"));
  report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, nullptr, 0));
  {
    char c = 'x';
    report("ioctl_tiocsti", ioctl(0, TIOCSTI, &c));
  }
#if defined(__x86_64__)  // the other entries of an x86_64 kernel
  in_child("i386_syscall", [] {
    long rc;
    asm volatile("int $0x80" : "=a"(rc) : "a"(20) : "memory");  // getpid in the i386 table
    return rc;
  });
  in_child("x32_syscall", [] { return syscall(0x40000000 | SYS_getpid); });  // the x32 ABI's getpid
#endif

  // Network.
  report("socket_packet", socket(AF_PACKET, SOCK_RAW, 0));
  report("socket_alg", socket(AF_ALG, SOCK_SEQPACKET, 0));
  report("socket_vsock", socket(AF_VSOCK, SOCK_STREAM, 0));
  return 0;
}
