#include <boost/test/unit_test.hpp>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <initializer_list>
#include <string>

#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/confine/seccomp_load.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"
#include "support/needs.hpp"

using namespace agentrun;
using namespace agentrun::spec;

namespace {

const std::string kWhere = "config.json: linux.seccomp";

SeccompProgram compile(const Seccomp& s) { return compile_seccomp(s, kWhere); }

std::string compile_error(const Seccomp& s) {
  return failure_of([&] { compile(s); });
}

// Runs body() in a child with no_new_privs (so seccomp needs no privilege)
// and returns its outcome.
template <class Body>
int run_child(Body body) {
  return run_confined_child([] { return true; }, body);
}

// body(listener) runs confined by p.
template <class Body>
int run_confined(const SeccompProgram& p, Body body) {
  return run_child([&] {
    auto listener = load_seccomp(linux_sys(), p);
    return listener ? body(*listener) : kSetupFailed;
  });
}

// The errno a call left, 0 when it succeeded. Raw syscall() throughout:
// sanitizer interceptors of the libc wrappers make calls a profile denies.
int observed(long rc) { return rc < 0 ? errno : 0; }

int uname_errno() {
  utsname u;
  return observed(::syscall(SYS_uname, &u));
}

// Confined by p, which of umask(inputs[i]) fail with ENOSYS: bit i set.
int denied_umasks(const SeccompProgram& p, std::initializer_list<long> inputs) {
  return run_confined(p, [&](int) {
    int bits = 0, bit = 1;
    for (long mode : inputs) {
      if (::syscall(SYS_umask, mode) < 0 && errno == ENOSYS) bits |= bit;
      bit <<= 1;
    }
    return bits;
  });
}

// Lets a child whose default action denies everything still exit.
const SeccompSyscall kAllowExit{.names = {"exit_group", "exit"}, .action = SeccompAction::allow};

// si_code SYS_SECCOMP, which glibc's headers leave out.
constexpr int kSysSeccomp = 1;

void on_sigsys(int, siginfo_t* info, void*) {
  ::_exit(info->si_code == kSysSeccomp && info->si_syscall == SYS_uname ? 42 : 43);
}

}  // namespace

BOOST_AUTO_TEST_CASE(unknown_system_call_names_the_field) {
  Seccomp s{.defaultAction = SeccompAction::errno_,
            .syscalls = {{.names = {"read"}}, {.names = {"write"}}, {.names = {"bogus", "close"}}}};
  BOOST_TEST(compile_error(s) ==
             "config.json: linux.seccomp.syscalls[2].names[0]: unknown system call \"bogus\"");
}

BOOST_AUTO_TEST_CASE(names_of_other_architectures_are_skipped) {
  // socketcall exists on x86 only, arm_fadvise64_64 on arm only.
  Seccomp with{.defaultAction = SeccompAction::allow,
               .syscalls = {{.names = {"socketcall", "arm_fadvise64_64"},
                             .action = SeccompAction::errno_}}};
  Seccomp without{.defaultAction = SeccompAction::allow};
  BOOST_TEST(compile(with).filter.size() == compile(without).filter.size());

  with.architectures = {"SCMP_ARCH_X86"};
  without.architectures = {"SCMP_ARCH_X86"};
  BOOST_TEST(compile(with).filter.size() > compile(without).filter.size());
}

BOOST_AUTO_TEST_CASE(rules_with_the_default_action_are_skipped) {
  const auto size = [](SeccompAction def, std::optional<uint32_t> def_ret, SeccompSyscall rule) {
    Seccomp s{.defaultAction = def, .defaultErrnoRet = def_ret, .syscalls = {rule}};
    return compile(s).filter.size();
  };
  const auto bare = compile(Seccomp{.defaultAction = SeccompAction::allow}).filter.size();
  BOOST_TEST(size(SeccompAction::allow, {}, {.names = {"uname"}, .action = SeccompAction::allow}) == bare);
  // ERRNO defaults to EPERM on both sides.
  BOOST_TEST(size(SeccompAction::errno_, {}, {.names = {"uname"}, .action = SeccompAction::errno_}) ==
             size(SeccompAction::errno_, {}, {}));
  BOOST_TEST(size(SeccompAction::errno_, EPERM,
                  {.names = {"uname"}, .action = SeccompAction::errno_, .errnoRet = ENOSYS}) >
             size(SeccompAction::errno_, EPERM, {}));
}

BOOST_AUTO_TEST_CASE(errno_and_trace_return_their_errno) {
  Seccomp s{.defaultAction = SeccompAction::allow,
            .syscalls = {{.names = {"uname"}, .action = SeccompAction::errno_, .errnoRet = ENOSYS},
                         {.names = {"chdir"}, .action = SeccompAction::errno_},
                         {.names = {"getppid"}, .action = SeccompAction::trace}}};
  const SeccompProgram p = compile(s);
  BOOST_TEST(!p.notify);
  BOOST_TEST(p.flags == 0u);
  BOOST_TEST(run_confined(p, [](int listener) { return listener == -1 ? uname_errno() : 1; }) == ENOSYS);
  BOOST_TEST(run_confined(p, [](int) { return observed(::syscall(SYS_chdir, "/")); }) == EPERM);
  // Without a tracer, TRACE fails the call with ENOSYS.
  BOOST_TEST(run_confined(p, [](int) { return observed(::syscall(SYS_getppid)); }) == ENOSYS);
}

BOOST_AUTO_TEST_CASE(default_errno_ret) {
  Seccomp s{.defaultAction = SeccompAction::errno_, .defaultErrnoRet = EACCES, .syscalls = {kAllowExit}};
  BOOST_TEST(run_confined(compile(s), [](int) { return uname_errno(); }) == EACCES);
  s.defaultErrnoRet.reset();
  BOOST_TEST(run_confined(compile(s), [](int) { return uname_errno(); }) == EPERM);
}

BOOST_AUTO_TEST_CASE(every_argument_operator) {
  struct Case {
    SeccompOperator op;
    uint64_t value, value_two;
    int denied;  // of umask(8), umask(16), umask(32): bits 1, 2, 4
  };
  const Case cases[] = {
      {SeccompOperator::ne, 16, 0, 5},  {SeccompOperator::lt, 16, 0, 1},
      {SeccompOperator::le, 16, 0, 3},  {SeccompOperator::eq, 16, 0, 2},
      {SeccompOperator::ge, 16, 0, 6},  {SeccompOperator::gt, 16, 0, 4},
      // value is the mask: (arg & 24) == 8.
      {SeccompOperator::maskedEq, 24, 8, 1},
  };
  for (const Case& c : cases) {
    Seccomp s{.defaultAction = SeccompAction::allow,
              .syscalls = {{.names = {"umask"},
                            .action = SeccompAction::errno_,
                            .errnoRet = ENOSYS,
                            .args = {{.index = 0, .value = c.value, .valueTwo = c.value_two, .op = c.op}}}}};
    BOOST_TEST(denied_umasks(compile(s), {8, 16, 32}) == c.denied,
               "operator " << static_cast<int>(c.op));
  }
}

BOOST_AUTO_TEST_CASE(personality_allowed_by_value_as_docker_does) {
  Seccomp s{.defaultAction = SeccompAction::errno_,
            .syscalls = {kAllowExit,
                         {.names = {"personality"},
                          .action = SeccompAction::allow,
                          .args = {{.index = 0, .value = 0xffffffff, .op = SeccompOperator::eq}}}}};
  const SeccompProgram p = compile(s);
  BOOST_TEST(run_confined(p, [](int) { return observed(::syscall(SYS_personality, 0xffffffffUL)); }) == 0);
  BOOST_TEST(run_confined(p, [](int) { return observed(::syscall(SYS_personality, PER_LINUX32)); }) == EPERM);
}

BOOST_AUTO_TEST_CASE(conditions_on_one_argument_are_alternatives) {
  Seccomp s{.defaultAction = SeccompAction::allow,
            .syscalls = {{.names = {"umask"},
                          .action = SeccompAction::errno_,
                          .errnoRet = ENOSYS,
                          .args = {{.index = 0, .value = 1}, {.index = 0, .value = 2}}}}};
  BOOST_TEST(denied_umasks(compile(s), {1, 2, 3}) == 3);
}

BOOST_AUTO_TEST_CASE(conditions_on_several_arguments_all_apply) {
  Seccomp s{.defaultAction = SeccompAction::allow,
            .syscalls = {{.names = {"getpriority"},
                          .action = SeccompAction::errno_,
                          .errnoRet = ENOSYS,
                          .args = {{.index = 0, .value = PRIO_PROCESS}, {.index = 1, .value = 0x7ffffff0}}}}};
  const SeccompProgram p = compile(s);
  auto getpriority_errno = [&p](int which, long who) {
    return run_confined(p, [=](int) { return observed(::syscall(SYS_getpriority, which, who)); });
  };
  BOOST_TEST(getpriority_errno(PRIO_PROCESS, 0) == 0);
  BOOST_TEST(getpriority_errno(PRIO_PROCESS, 0x7ffffff0) == ENOSYS);
  BOOST_TEST(getpriority_errno(PRIO_PGRP, 0x7ffffff0) == ESRCH);
}

BOOST_AUTO_TEST_CASE(kill_actions_end_the_process_with_sigsys) {
  for (SeccompAction a : {SeccompAction::kill, SeccompAction::killThread, SeccompAction::killProcess}) {
    Seccomp s{.defaultAction = SeccompAction::allow, .syscalls = {{.names = {"uname"}, .action = a}}};
    BOOST_TEST(run_confined(compile(s), [](int) { return uname_errno(); }) == killed_by(SIGSYS),
               "action " << static_cast<int>(a));
  }
}

BOOST_AUTO_TEST_CASE(trap_delivers_sigsys) {
  Seccomp s{.defaultAction = SeccompAction::allow,
            .syscalls = {{.names = {"uname"}, .action = SeccompAction::trap}}};
  BOOST_TEST(run_confined(compile(s), [](int) {
               struct sigaction sa {};
               sa.sa_sigaction = on_sigsys;
               sa.sa_flags = SA_SIGINFO;
               if (::sigaction(SIGSYS, &sa, nullptr) < 0) return kSetupFailed;
               return uname_errno();
             }) == 42);
}

BOOST_AUTO_TEST_CASE(log_action_and_flags) {
  Seccomp s{.defaultAction = SeccompAction::allow,
            .flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"},
            .syscalls = {{.names = {"uname"}, .action = SeccompAction::log}}};
  const SeccompProgram p = compile(s);
  BOOST_TEST(p.flags == (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  BOOST_TEST(run_confined(p, [](int) { return uname_errno(); }) == 0);
}

// The native architecture is among those named: an x86_64 host.
BOOST_AUTO_TEST_CASE(architectures_are_added, *test::needs(test::host::x86_64)) {
  Seccomp s{.defaultAction = SeccompAction::allow,
            .syscalls = {{.names = {"uname"}, .action = SeccompAction::errno_, .errnoRet = ENOSYS}}};
  const auto native = compile(s).filter.size();
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  const SeccompProgram p = compile(s);
  BOOST_TEST(p.filter.size() > native);
  BOOST_TEST(run_confined(p, [](int) { return uname_errno(); }) == ENOSYS);
}

BOOST_AUTO_TEST_CASE(notify_hands_out_a_listener) {
  Seccomp s{.defaultAction = SeccompAction::allow,
            .flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
            .syscalls = {{.names = {"uname"}, .action = SeccompAction::notify}}};
  const SeccompProgram p = compile(s);
  BOOST_TEST(p.notify);
  BOOST_TEST(p.flags == (SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV));
  // The confined child answers its own child's uname with ENOSYS through the
  // listener; the grandchild's result is the outcome.
  BOOST_TEST(run_confined(p, [](int listener) {
               if (listener < 0) return 1;
               pid_t pid = ::fork();
               if (pid < 0) return 2;
               if (pid == 0) ::_exit(uname_errno());
               seccomp_notif req{};
               if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0 || req.data.nr != SYS_uname) return 3;
               seccomp_notif_resp resp{};
               resp.id = req.id;
               resp.error = -ENOSYS;
               if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) return 4;
               int status = 0;
               if (::waitpid(pid, &status, 0) < 0) return 5;
               return outcome(status);
             }) == ENOSYS);
}

BOOST_AUTO_TEST_CASE(refused_profiles) {
  Seccomp killable{.defaultAction = SeccompAction::allow, .flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}};
  BOOST_TEST(compile_error(killable) ==
             "config.json: linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule");
  BOOST_TEST(compile_error(Seccomp{.defaultAction = SeccompAction::notify}) ==
             "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  Seccomp big_errno{.defaultAction = SeccompAction::allow,
                    .syscalls = {{.names = {"uname"}, .action = SeccompAction::errno_, .errnoRet = 70000}}};
  BOOST_TEST(compile_error(big_errno) ==
             "config.json: linux.seccomp.syscalls[0].errnoRet: 70000 is out of range 0-65535");
}

BOOST_AUTO_TEST_CASE(a_flag_the_kernel_refuses_fails_the_load) {
  SeccompProgram p = compile(Seccomp{.defaultAction = SeccompAction::allow});
  p.flags |= 1u << 30;
  BOOST_TEST(run_child([&p] {
               auto r = load_seccomp(linux_sys(), p);
               return !r && r.error().message() == "load the seccomp filter: invalid argument" ? 0 : 1;
             }) == 0);
}

// The x86 family with x86_64 native.
BOOST_AUTO_TEST_CASE(foreign_architectures_are_dropped_only_under_a_native_only_filter, *test::needs(test::host::x86_64)) {
  Seccomp profile;
  profile.defaultAction = SeccompAction::errno_;
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  profile.syscalls.push_back(SeccompSyscall{{"getpid"}, SeccompAction::allow, {}, {}});
  Seccomp native_only;  // no architectures: the native one
  native_only.defaultAction = SeccompAction::allow;
  Seccomp multi = native_only;
  multi.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};

  BOOST_TEST(admits_native_only(native_only));
  BOOST_TEST(!admits_native_only(multi));  // lets i386 calls through: the rules below still count
  BOOST_TEST(!admits_native_only(profile));
  Seccomp p = profile;
  drop_unreachable_architectures(p, false);
  BOOST_TEST(p.architectures.size() == 3u);
  drop_unreachable_architectures(p, true);
  BOOST_TEST(p.architectures.empty());
  BOOST_TEST(compile(p).filter.size() < compile(profile).filter.size());

  // A whole-process kill outranks the thread kill above: nothing dropped.
  for (bool in_default : {true, false}) {
    Seccomp k = profile;
    (in_default ? k.defaultAction : k.syscalls[0].action) = SeccompAction::killProcess;
    BOOST_TEST(kills_process(k));
    drop_unreachable_architectures(k, true);
    BOOST_TEST(k.architectures.size() == 3u);
  }
}
