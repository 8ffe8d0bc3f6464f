#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include "runtime/confine/builtin_filters.hpp"
#include "runtime/confine/seccomp_cache.hpp"
#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/confine/seccomp_load.hpp"
#include "runtime/confine/seccomp_profiles.hpp"
#include "runtime/plan/seccomp_sequence.hpp"
#include "runtime/util/embedded_files.hpp"
#include "runtime/util/fd.hpp"
#include "spec/error.hpp"
#include "support/builtin_filters.hpp"
#include "support/checks.hpp"
#include "support/needs.hpp"

using namespace agentrun;

namespace {

const SeccompProgram& baseline() { return test::baseline_filter(); }
const SeccompProgram& hardening() { return test::hardening_filter(); }

// Which filters confine the child: `both` is an agent container with no
// profile of its own; `hardening` alone stands for a container whose own
// profile allows everything.
enum class Layers { both, baseline, hardening };

// Runs body() in a child with no_new_privs, confined by `layers` (the
// baseline first, as the init loads them).
template <class Body>
int run_confined(Body body, Layers layers = Layers::both) {
  const SeccompProgram& first = baseline();
  const SeccompProgram& second = hardening();
  return run_confined_child(
      [&] {
        return (layers == Layers::hardening || load_seccomp(linux_sys(), first)) &&
               (layers == Layers::baseline || load_seccomp(linux_sys(), second));
      },
      body);
}

// The errno a call left, 0 when it succeeded. Raw syscall() throughout:
// sanitizer interceptors of the libc wrappers make calls a profile denies.
int observed(long rc) { return rc < 0 ? errno : 0; }

template <class Call>
int confined_errno(Call call, Layers layers = Layers::both) {
  return run_confined([&] { return observed(call()); }, layers);
}

// The hardening refuses these on its own too, whatever the container's profile.
constexpr Layers kBothAndHardeningAlone[] = {Layers::both, Layers::hardening};

// A one-instruction filter that allows everything.
sock_fprog allow_all() {
  static sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  return {1, &allow};
}

char* const kNoArgs[] = {const_cast<char*>("true"), nullptr};

}  // namespace

bool same_program(const SeccompProgram& a, const SeccompProgram& b) {
  return a.flags == b.flags && a.notify == b.notify && a.filter.size() == b.filter.size() &&
         std::equal(a.filter.begin(), a.filter.end(), b.filter.begin(), [](const sock_filter& x, const sock_filter& y) {
           return x.code == y.code && x.jt == y.jt && x.jf == y.jf && x.k == y.k;
         });
}

// What a container start takes (builtin_filters.hpp, compiled by the
// build) has each embedded profile's hash and facts, one entry each.
BOOST_AUTO_TEST_CASE(the_precompiled_filters_are_the_embedded_profiles) {
  std::vector<std::string> names;
  for (const BuiltinFilter& b : builtin_filter_table()) names.emplace_back(b.name);
  BOOST_TEST(names == builtin_seccomp_names(), boost::test_tools::per_element());
  BOOST_TEST(names.size() >= 3u);
  for (const BuiltinFilter& b : builtin_filter_table()) {
    BOOST_TEST_CONTEXT(b.name) {
      const spec::Seccomp profile = builtin_seccomp_profile(std::string(b.name));
      BOOST_TEST(b.sha256 == seccomp_profile_hash(profile));
      BOOST_TEST(b.native_only == admits_native_only(profile));
      BOOST_TEST(b.kills_process == kills_process(profile));
      BOOST_TEST(!b.filter.empty());
      BOOST_TEST(!b.native_filter.empty());
    }
  }
  // Docker's baseline names three architectures, which the build dropped once.
  const BuiltinFilter& docker = builtin_filter("docker-baseline");
  BOOST_TEST(docker.native_filter.size() < docker.filter.size());
  BOOST_CHECK_EXCEPTION(builtin_filter("bogus"), Failure, [](const Failure& f) {
    return std::string(f.what()).find("agent-hardening, docker-baseline") != std::string::npos;
  });
}

// ... and is the embedded profile compiled here and now, as written and
// with its architectures dropped.
BOOST_AUTO_TEST_CASE(the_precompiled_filters_are_the_embedded_profiles_compiled,
                     *test::needs(test::the_builds_libseccomp)) {
  for (const BuiltinFilter& b : builtin_filter_table()) {
    BOOST_TEST_CONTEXT(b.name) {
      spec::Seccomp profile = builtin_seccomp_profile(std::string(b.name));
      BOOST_TEST(same_program(builtin_program(b, false), compile_for_loading(profile, "test")));
      drop_unreachable_architectures(profile, true);
      BOOST_TEST(same_program(builtin_program(b, true), compile_for_loading(profile, "test")));
    }
  }
}

BOOST_AUTO_TEST_CASE(builtin_profiles_are_embedded_parse_and_compile) {
  const auto paths = embedded_files_under("seccomp-profiles");
  BOOST_TEST(std::count(paths.begin(), paths.end(), "seccomp-profiles/docker-baseline.json") == 1);
  BOOST_TEST(std::count(paths.begin(), paths.end(), "seccomp-profiles/agent-hardening.json") == 1);
  BOOST_TEST(embedded_file("seccomp-profiles/docker-baseline.json").has_value());
  BOOST_TEST(!embedded_file("seccomp-profiles/bogus.json").has_value());

  const spec::Seccomp base = builtin_seccomp_profile("docker-baseline");
  BOOST_TEST((base.defaultAction == spec::SeccompAction::errno_));
  BOOST_TEST(base.defaultErrnoRet.value_or(0) == 1u);
  const spec::Seccomp hard = builtin_seccomp_profile("agent-hardening");
  BOOST_TEST((hard.defaultAction == spec::SeccompAction::allow));
  BOOST_TEST(hard.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64"}, boost::test_tools::per_element());

  BOOST_TEST(baseline().filter.size() > 0u);
  BOOST_TEST(baseline().filter.size() <= size_t{BPF_MAXINSNS});
  BOOST_TEST(!baseline().notify);
  BOOST_TEST(hardening().filter.size() > 0u);
  BOOST_TEST(!hardening().notify);
}

BOOST_AUTO_TEST_CASE(unknown_profile_names_the_builtins) {
  for (const char* name : {"bogus", "../policies/agent-default"}) {
    try {
      builtin_seccomp_profile(name);
      BOOST_ERROR("no failure for " << name);
    } catch (const Failure& f) {
      BOOST_TEST(f.what() == "seccomp profile \"" + std::string(name) +
                                 "\": unknown (built-in: agent-hardening, docker-baseline, landlock-truncate)");
    }
  }
}

// Below Landlock ABI 3: truncation without a descriptor opened for writing,
// and nothing else. Run on a file this test may write, so that only the
// filter can refuse.
BOOST_AUTO_TEST_CASE(the_truncate_filter_refuses_what_landlock_below_abi_3_misses) {
  const SeccompProgram filter = compile_seccomp(builtin_seccomp_profile("landlock-truncate"), "landlock-truncate");
  TempDir dir("truncate");
  const std::string file = dir.path + "/f";
  UniqueFd(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  auto under_filter = [&](auto call) {
    return run_confined_child([&] { return static_cast<bool>(load_seccomp(linux_sys(), filter)); }, [&] { return observed(call()); });
  };
  const char* f = file.c_str();
  BOOST_TEST(under_filter([f] { return ::syscall(SYS_truncate, f, 0); }) == EPERM);
  BOOST_TEST(under_filter([f] { return ::syscall(SYS_openat, AT_FDCWD, f, O_RDONLY | O_TRUNC | O_CLOEXEC); }) == EPERM);
  BOOST_TEST(under_filter([f] { return ::syscall(SYS_open, f, O_RDONLY | O_TRUNC | O_CLOEXEC); }) == EPERM);
  BOOST_TEST(under_filter([f] {
               open_how how{};
               how.flags = O_RDONLY | O_CLOEXEC;
               return ::syscall(SYS_openat2, AT_FDCWD, f, &how, sizeof how);
             }) == ENOSYS);
  // Opening for writing is Landlock's to check; reading is untouched.
  BOOST_TEST(under_filter([f] { return ::syscall(SYS_openat, AT_FDCWD, f, O_WRONLY | O_TRUNC | O_CLOEXEC); }) == 0);
  BOOST_TEST(under_filter([f] { return ::syscall(SYS_openat, AT_FDCWD, f, O_RDWR | O_CLOEXEC); }) == 0);
  BOOST_TEST(under_filter([f] { return ::syscall(SYS_openat, AT_FDCWD, f, O_RDONLY | O_CLOEXEC); }) == 0);

  // The init loads it before agent-hardening, which refuses loading another.
  Plan plan;
  const SeccompFilter truncate{"landlock-truncate", {}, filter}, stacked{"agent-hardening", {}, hardening()};
  plan.seccomp = SeccompFilter{"docker-baseline", {}, baseline()};
  plan.seccomp_stack = {truncate, stacked};
  BOOST_CHECK_NO_THROW(check_calls_after_filters(plan));
  plan.seccomp_stack = {stacked, truncate};
  BOOST_CHECK_THROW(check_calls_after_filters(plan), Failure);
}

BOOST_AUTO_TEST_CASE(an_ordinary_program_still_works) {
  BOOST_TEST(run_confined([] {
               if (::syscall(SYS_write, STDOUT_FILENO, "", 0) < 0) return 1;
               if (::syscall(SYS_getpid) <= 0) return 2;
               int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY));
               char buf[64];
               if (fd < 0 || ::syscall(SYS_read, fd, buf, sizeof buf) <= 0) return 3;
               void* m = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
               if (m == MAP_FAILED) return 4;
               // fork() is clone(SIGCHLD | CLONE_CHILD_*), no namespace flags.
               pid_t child = ::fork();
               if (child < 0) return 5;
               if (child == 0) ::syscall(SYS_exit_group, 7);
               int status = 0;
               if (::waitpid(child, &status, 0) != child || outcome(status) != 7) return 6;
               long raw = ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
               if (raw < 0) return 7;
               if (raw == 0) ::syscall(SYS_exit_group, 8);
               if (::waitpid(static_cast<pid_t>(raw), &status, 0) != raw || outcome(status) != 8) return 8;
               // personality as Docker allows it: query, and PER_LINUX.
               if (::syscall(SYS_personality, 0xffffffffUL) < 0 || ::syscall(SYS_personality, 0UL) < 0) return 9;
               int pair[2];
               if (::syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, pair) < 0) return 10;
               if (::syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0) < 0) return 11;
               // execveat without AT_EMPTY_PATH: running a file by name.
               ::syscall(SYS_execveat, AT_FDCWD, "/bin/true", kNoArgs, environ, 0);
               return 12;
             }) == 0);
  BOOST_TEST(run_confined([] {
               ::syscall(SYS_execve, "/bin/true", kNoArgs, environ);
               return 1;
             }) == 0);
}

BOOST_AUTO_TEST_CASE(fileless_execution_is_refused) {
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_memfd_create, "x", 0); }) == EPERM);
  BOOST_TEST(run_confined([] {
               int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, "/bin/true", O_RDONLY | O_CLOEXEC));
               if (fd < 0) return kSetupFailed;
               return observed(::syscall(SYS_execveat, fd, "", kNoArgs, environ, AT_EMPTY_PATH));
             }) == EPERM);
}

BOOST_AUTO_TEST_CASE(other_processes_are_out_of_reach) {
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }) == EPERM);
  BOOST_TEST(confined_errno([] {
               char buf[8];
               iovec local{buf, sizeof buf}, remote{buf, sizeof buf};
               return ::syscall(SYS_process_vm_readv, ::getpid(), &local, 1, &remote, 1, 0);
             }) == EPERM);
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_pidfd_getfd, 0, 0, 0); }) == EPERM);
}

BOOST_AUTO_TEST_CASE(kernel_surface_is_refused) {
  for (Layers l : kBothAndHardeningAlone) {
    BOOST_TEST(confined_errno([] { return ::syscall(SYS_bpf, 0, nullptr, 0); }, l) == EPERM);
    BOOST_TEST(confined_errno([] {
                 io_uring_params params{};
                 return ::syscall(SYS_io_uring_setup, 1, &params);
               }, l) == EPERM);
    BOOST_TEST(confined_errno([] { return ::syscall(SYS_userfaultfd, 0); }, l) == EPERM);
    BOOST_TEST(confined_errno([] {
                 perf_event_attr attr{};
                 attr.size = sizeof attr;
                 attr.type = PERF_TYPE_SOFTWARE;
                 attr.config = PERF_COUNT_SW_CPU_CLOCK;
                 return ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
               }, l) == EPERM);
    // KEYCTL_GET_KEYRING_ID of the session keyring.
    BOOST_TEST(confined_errno([] { return ::syscall(SYS_keyctl, 0, -3, 0); }, l) == EPERM);
  }
}

BOOST_AUTO_TEST_CASE(mounts_and_namespaces_are_refused) {
  for (Layers l : kBothAndHardeningAlone) {
    BOOST_TEST(confined_errno([] { return ::syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, nullptr); }, l) == EPERM);
    BOOST_TEST(confined_errno([] { return ::syscall(SYS_open_tree, AT_FDCWD, "/", 0); }, l) == EPERM);
    BOOST_TEST(confined_errno([] { return ::syscall(SYS_fsopen, "tmpfs", 0); }, l) == EPERM);
    BOOST_TEST(confined_errno([] { return ::syscall(SYS_setns, -1, 0); }, l) == EPERM);
    BOOST_TEST(confined_errno([] { return ::syscall(SYS_unshare, CLONE_NEWUSER); }, l) == EPERM);
    BOOST_TEST(confined_errno([] { return ::syscall(SYS_clone, SIGCHLD | CLONE_NEWUSER, 0, 0, 0, 0); }, l) ==
               EPERM);
    // ENOSYS, so that libc falls back to clone.
    BOOST_TEST(confined_errno([] {
                 clone_args args{};
                 args.exit_signal = SIGCHLD;
                 return ::syscall(SYS_clone3, &args, sizeof args);
               }, l) == ENOSYS);
  }
  // The baseline allows unshare and namespace flags of clone only with
  // CAP_SYS_ADMIN, which agents lack.
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_unshare, CLONE_NEWNS); }) == EPERM);
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_clone, SIGCHLD | CLONE_NEWNET, 0, 0, 0, 0); }) == EPERM);
}

BOOST_AUTO_TEST_CASE(no_further_filters_through_either_call) {
  BOOST_TEST(confined_errno([] {
               sock_fprog prog = allow_all();
               return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
             }) == EPERM);
  BOOST_TEST(confined_errno([] {
               sock_fprog prog = allow_all();
               return ::syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
             }) == EPERM);
  // Asking which actions exist is harmless.
  BOOST_TEST(confined_errno([] {
               uint32_t action = SECCOMP_RET_ALLOW;
               return ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
             }) == 0);
}

BOOST_AUTO_TEST_CASE(terminal_injection_is_refused) {
  for (unsigned long request : {0x5412UL, 0xffffffff00005412UL, 0x541CUL}) {
    BOOST_TEST(run_confined([request] {
                 int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY));
                 char c = 'x';
                 return fd < 0 ? kSetupFailed : observed(::syscall(SYS_ioctl, fd, request, &c));
               }) == EPERM,
               "request " << std::hex << request);
  }
  // Other ioctls still reach the driver: /dev/null is not a terminal.
  BOOST_TEST(run_confined([] {
               int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY));
               int pgrp;
               return fd < 0 ? kSetupFailed : observed(::syscall(SYS_ioctl, fd, TIOCGPGRP, &pgrp));
             }) == ENOTTY);
}

BOOST_AUTO_TEST_CASE(socket_families) {
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_socket, AF_ALG, SOCK_SEQPACKET, 0); }) == EPERM);
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0); }) == EPERM);
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); }) == 0);
}

BOOST_AUTO_TEST_CASE(personality_only_as_docker_allows) {
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_personality, 0x0008UL); }) == 0);
  BOOST_TEST(confined_errno([] { return ::syscall(SYS_personality, 0x0400000UL); }) == EPERM);
}

// Live i386 calls need the kernel's IA32 emulation, which some hosts turn off.
BOOST_AUTO_TEST_CASE(foreign_architecture_calls_kill, *test::needs(test::host::i386_syscalls)) {
  // The baseline alone lets i386 calls through, as Docker's does ...
  BOOST_TEST(run_confined([] { return test::host::i386_getpid() == ::syscall(SYS_getpid) ? 0 : 1; }, Layers::baseline) == 0);
  // ... the hardening knows only x86_64: anything else is a bad architecture.
  BOOST_TEST(run_confined([] {
               test::host::i386_getpid();
               return 0;
             }) == killed_by(SIGSYS));
}
