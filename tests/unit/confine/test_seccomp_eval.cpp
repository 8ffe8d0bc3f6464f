// Compiled filters run in user space: what a profile answers is known
// without loading it, so rules for calls this host cannot make (another
// architecture's entry point) are still proven, and `create` can tell that
// a profile would stop the runtime before the container's process starts.
#include <boost/test/unit_test.hpp>

#include <errno.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/confine/seccomp_eval.hpp"
#include "runtime/confine/seccomp_profiles.hpp"
#include "runtime/plan/seccomp_sequence.hpp"
#include "support/builtin_filters.hpp"
#include "support/checks.hpp"
#include "support/needs.hpp"

using namespace agentrun;

namespace {

uint32_t verdict(const SeccompProgram& p, const seccomp_data& call) { return seccomp_verdict(p.filter, call).or_throw(); }

const SeccompProgram& baseline() { return test::baseline_filter(); }
const SeccompProgram& hardening() { return test::hardening_filter(); }

constexpr uint32_t errno_verdict(int e) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e); }

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

constexpr uint32_t kNr = offsetof(seccomp_data, nr);

// What a static busybox `echo` needs (less x86_64's arch_prctl), and nothing of the runtime's.
spec::Seccomp echo_only() {
  spec::Seccomp s;
  s.defaultAction = spec::SeccompAction::errno_;
  s.defaultErrnoRet = EPERM;
  s.syscalls.push_back({{"execve", "brk", "exit_group", "getrandom", "getuid", "mprotect", "prctl",
                         "prlimit64", "readlink", "rseq", "set_robust_list", "set_tid_address", "write"},
                        spec::SeccompAction::allow, {}, {}});
  return s;
}

Plan plan_with(const spec::Seccomp& profile, bool no_new_privileges) {
  Plan plan;
  plan.last_cap = 40;
  plan.process.no_new_privileges = no_new_privileges;
  plan.seccomp = SeccompFilter{"config.json: linux.seccomp", profile, compile_seccomp(profile, "config.json: linux.seccomp")};
  return plan;
}

SeccompFilter stacked_hardening() {
  return {"seccomp profile agent-hardening", builtin_seccomp_profile("agent-hardening"), hardening()};
}

std::vector<std::string> names_of(const std::vector<InitCall>& calls) {
  std::vector<std::string> out;
  for (const auto& c : calls) out.push_back(c.name);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(runs_loads_jumps_and_returns_as_the_kernel) {
  // nr == 39 ? ERRNO(5) : ALLOW
  std::vector<sock_filter> p = {stmt(BPF_LD | BPF_W | BPF_ABS, kNr), jump(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 1),
                                stmt(BPF_RET | BPF_K, errno_verdict(5)), stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  BOOST_TEST(*seccomp_verdict(p, native_call(39)) == errno_verdict(5));
  BOOST_TEST(*seccomp_verdict(p, native_call(40)) == SECCOMP_RET_ALLOW);
}

BOOST_AUTO_TEST_CASE(scratch_memory_alu_and_the_accumulator_verdict) {
  // A = (args[0] low word & 0xff) + 1, through M[3] and X; return A.
  std::vector<sock_filter> p = {stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args)),
                                stmt(BPF_ALU | BPF_AND | BPF_K, 0xff),
                                stmt(BPF_ST, 3),
                                stmt(BPF_LDX | BPF_MEM, 3),
                                stmt(BPF_LD | BPF_IMM, 1),
                                stmt(BPF_ALU | BPF_ADD | BPF_X, 0),
                                stmt(BPF_RET | BPF_A, 0)};
  BOOST_TEST(*seccomp_verdict(p, native_call(0, {0x1234})) == 0x35u);
}

BOOST_AUTO_TEST_CASE(malformed_programs_are_errors_not_verdicts) {
  auto reason = [](std::vector<sock_filter> p) {
    auto r = seccomp_verdict(p, native_call(1));
    return r ? std::string("<verdict>") : r.error().reason;
  };
  BOOST_TEST(reason({jump(BPF_JMP | BPF_JA, 5, 0, 0), stmt(BPF_RET | BPF_K, 0)}) == "jump past the end");
  BOOST_TEST(reason({stmt(BPF_LD | BPF_W | BPF_ABS, 64), stmt(BPF_RET | BPF_K, 0)}) == "load outside seccomp_data");
  BOOST_TEST(reason({stmt(BPF_LD | BPF_W | BPF_ABS, kNr)}) == "the program ends without a verdict");
  BOOST_TEST(reason({stmt(BPF_ST, 16), stmt(BPF_RET | BPF_K, 0)}) == "store outside scratch memory");
}

BOOST_AUTO_TEST_CASE(the_hardening_kills_foreign_architecture_calls, *test::needs(test::host::x86_64)) {
  seccomp_data i386_getpid{};
  i386_getpid.arch = AUDIT_ARCH_I386;
  i386_getpid.nr = 20;
  const uint32_t action = verdict(hardening(), i386_getpid) & SECCOMP_RET_ACTION_FULL;
  BOOST_TEST((action == SECCOMP_RET_KILL_THREAD || action == SECCOMP_RET_KILL_PROCESS), action);
  // x32 calls come through the x86_64 entry with the x32 bit set.
  seccomp_data x32_getpid = native_call(0x40000000 | SYS_getpid);
  const uint32_t x32_action = verdict(hardening(), x32_getpid) & SECCOMP_RET_ACTION_FULL;
  BOOST_TEST((x32_action == SECCOMP_RET_KILL_THREAD || x32_action == SECCOMP_RET_KILL_PROCESS), x32_action);
  // Docker's baseline alone lets the i386 call through, which is why the hardening must not.
  BOOST_TEST(verdict(baseline(), i386_getpid) == SECCOMP_RET_ALLOW);
}

BOOST_AUTO_TEST_CASE(the_hardening_answers_native_calls_as_the_policy_says) {
  BOOST_TEST(verdict(hardening(), native_call(SYS_getpid)) == SECCOMP_RET_ALLOW);
  BOOST_TEST(verdict(hardening(), native_call(SYS_memfd_create)) == errno_verdict(EPERM));
  BOOST_TEST(verdict(hardening(), native_call(SYS_clone3)) == errno_verdict(ENOSYS));
  BOOST_TEST(verdict(hardening(), native_call(SYS_clone, {CLONE_NEWUSER | SIGCHLD})) == errno_verdict(EPERM));
  BOOST_TEST(verdict(hardening(), native_call(SYS_clone, {SIGCHLD})) == SECCOMP_RET_ALLOW);
  BOOST_TEST(verdict(hardening(), native_call(SYS_seccomp, {SECCOMP_SET_MODE_FILTER})) == errno_verdict(EPERM));
  BOOST_TEST(verdict(hardening(), native_call(SYS_prctl, {PR_SET_SECCOMP})) == errno_verdict(EPERM));
  BOOST_TEST(verdict(hardening(), native_call(SYS_ioctl, {0, TIOCSTI})) == errno_verdict(EPERM));
  BOOST_TEST(verdict(baseline(), native_call(SYS_execve)) == SECCOMP_RET_ALLOW);
  BOOST_TEST(verdict(baseline(), native_call(SYS_mount)) == errno_verdict(EPERM));
}

BOOST_AUTO_TEST_CASE(after_the_container_filter_only_execve_with_no_new_privileges) {
  Plan plan = plan_with(echo_only(), true);
  BOOST_TEST(names_of(calls_after_filters(plan)) ==
                 (std::vector<std::string>{"seccomp(SECCOMP_SET_MODE_FILTER)", "execve"}),
             boost::test_tools::per_element());
  // A profile that allows only what the workload needs passes: the runtime's
  // own calls (faccessat2, close_range, accept4...) all come before it.
  BOOST_CHECK_NO_THROW(check_calls_after_filters(plan));
}

BOOST_AUTO_TEST_CASE(the_policy_filter_and_a_notify_fd_come_after_it) {
  spec::Seccomp profile = builtin_seccomp_profile("docker-baseline");
  profile.listenerPath = "/run/l.sock";
  profile.syscalls.push_back({{"mkdirat"}, spec::SeccompAction::notify, {}, {}});
  Plan plan = plan_with(profile, true);
  plan.seccomp_stack.push_back(stacked_hardening());
  BOOST_TEST(names_of(calls_after_filters(plan)) ==
                 (std::vector<std::string>{"seccomp(SECCOMP_SET_MODE_FILTER)",
                                           "sendmsg (the seccomp notify fd to the runtime)",
                                           "seccomp(SECCOMP_SET_MODE_FILTER)", "execve"}),
             boost::test_tools::per_element());
  BOOST_CHECK_NO_THROW(check_calls_after_filters(plan));
}

BOOST_AUTO_TEST_CASE(a_profile_that_refuses_execve_is_named) {
  spec::Seccomp profile = echo_only();
  profile.syscalls[0].names.erase(profile.syscalls[0].names.begin());
  BOOST_TEST(failure_of([&] { check_calls_after_filters(plan_with(profile, true)); }) ==
             "config.json: linux.seccomp: the profile refuses execve (it fails with errno 1), which the runtime must "
             "make after loading it to start the container's process");
  profile.defaultAction = spec::SeccompAction::killProcess;
  profile.defaultErrnoRet.reset();
  BOOST_TEST(failure_of([&] { check_calls_after_filters(plan_with(profile, true)); }).find(
                 "refuses execve (it kills the process)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_policy_filter_cannot_be_stacked_on_a_profile_that_refuses_seccomp) {
  Plan plan = plan_with(echo_only(), true);
  plan.seccomp_stack.push_back(stacked_hardening());
  BOOST_TEST(failure_of([&] { check_calls_after_filters(plan); }) ==
             "config.json: linux.seccomp: the profile refuses seccomp(SECCOMP_SET_MODE_FILTER) (it fails with errno "
             "1), which the runtime must make after loading it to start the container's process");
}

BOOST_AUTO_TEST_CASE(without_no_new_privileges_the_capabilities_follow_the_filters) {
  Plan plan = plan_with(builtin_seccomp_profile("docker-baseline"), false);
  plan.process.caps.ambient = uint64_t{1} << 5;
  BOOST_TEST(names_of(calls_after_filters(plan)) ==
                 (std::vector<std::string>{"seccomp(SECCOMP_SET_MODE_FILTER)", "capset", "prctl(PR_CAP_AMBIENT)",
                                           "prctl(PR_CAP_AMBIENT)", "execve"}),
             boost::test_tools::per_element());
  BOOST_CHECK_NO_THROW(check_calls_after_filters(plan));
  BOOST_TEST(failure_of([&] { check_calls_after_filters(plan_with(echo_only(), false)); }).find(
                 "the profile refuses capset") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_filter_no_calls) {
  Plan plan;
  BOOST_TEST(calls_after_filters(plan).empty());
}
