#include "runtime/confine/seccomp_compile.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <optional>

#include "runtime/util/fd.hpp"
#include "spec/error.hpp"

namespace agentrun {
namespace {

using spec::SeccompAction;
using spec::SeccompOperator;

struct FilterRelease {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterRelease>;

std::string item(const std::string& list, size_t i) { return list + "[" + std::to_string(i) + "]"; }

// errnum is errno, or the negated return of a libseccomp call.
[[noreturn]] void fail_sys(const std::string& step, const std::string& what, int errnum) {
  throw Failure(Error{step, what, errnum});
}

uint32_t errno_data(std::optional<uint32_t> ret, const std::string& field) {
  uint32_t v = ret.value_or(EPERM);
  // The action keeps 16 bits of data: a larger value would silently change.
  if (v > SECCOMP_RET_DATA) fail(field, std::to_string(v) + " is out of range 0-65535");
  return v;
}

uint32_t action_value(SeccompAction a, std::optional<uint32_t> errno_ret, const std::string& field) {
  switch (a) {
    case SeccompAction::kill:
    case SeccompAction::killThread: return SCMP_ACT_KILL_THREAD;
    case SeccompAction::killProcess: return SCMP_ACT_KILL_PROCESS;
    case SeccompAction::trap: return SCMP_ACT_TRAP;
    case SeccompAction::errno_: return SCMP_ACT_ERRNO(errno_data(errno_ret, field));
    case SeccompAction::trace: return SCMP_ACT_TRACE(errno_data(errno_ret, field));
    case SeccompAction::allow: return SCMP_ACT_ALLOW;
    case SeccompAction::log: return SCMP_ACT_LOG;
    case SeccompAction::notify: return SCMP_ACT_NOTIFY;
  }
  fail(field, "unknown action");
}

scmp_compare compare_op(SeccompOperator op, const std::string& field) {
  switch (op) {
    case SeccompOperator::ne: return SCMP_CMP_NE;
    case SeccompOperator::lt: return SCMP_CMP_LT;
    case SeccompOperator::le: return SCMP_CMP_LE;
    case SeccompOperator::eq: return SCMP_CMP_EQ;
    case SeccompOperator::ge: return SCMP_CMP_GE;
    case SeccompOperator::gt: return SCMP_CMP_GT;
    case SeccompOperator::maskedEq: return SCMP_CMP_MASKED_EQ;
  }
  fail(field, "unknown operator");
}

// "SCMP_ARCH_X86_64" -> libseccomp's "x86_64".
uint32_t arch_token(const std::string& name, const std::string& field) {
  std::string short_name = name.substr(name.rfind("SCMP_ARCH_", 0) == 0 ? 10 : 0);
  std::transform(short_name.begin(), short_name.end(), short_name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  uint32_t token = seccomp_arch_resolve_name(short_name.c_str());
  if (token == 0) {
    const scmp_version* v = seccomp_version();
    fail(field, name + " is not supported by libseccomp " + std::to_string(v->major) + "." +
                    std::to_string(v->minor) + "." + std::to_string(v->micro));
  }
  return token;
}

unsigned int filter_flag(const std::string& name, const std::string& field) {
  if (name == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") return SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  // The init is single-threaded when it loads the filter, so every thread
  // gets it anyway; passing TSYNC with NEW_LISTENER would be EINVAL.
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") return 0;
  fail(field, "unknown flag \"" + name + "\"");
}

// libseccomp takes one condition per argument in a rule (EINVAL otherwise);
// as runc does, conditions that repeat an index become one rule each, so
// any of them matching triggers the action.
bool repeats_an_index(const std::vector<spec::SeccompArg>& args) {
  for (size_t i = 0; i < args.size(); ++i)
    for (size_t j = i + 1; j < args.size(); ++j)
      if (args[i].index == args[j].index) return true;
  return false;
}

void add_rules(scmp_filter_ctx ctx, const spec::SeccompSyscall& sc, uint32_t action,
               const std::vector<int>& numbers, const std::string& step) {
  std::vector<scmp_arg_cmp> conds;
  for (size_t k = 0; k < sc.args.size(); ++k) {
    const spec::SeccompArg& a = sc.args[k];
    conds.push_back({a.index, compare_op(a.op, item(step + ".args", k)), a.value, a.valueTwo});
  }
  const bool split = repeats_an_index(sc.args);
  for (size_t j = 0; j < numbers.size(); ++j) {
    auto add = [&](unsigned int count, const scmp_arg_cmp* first) {
      // seccomp_rule_add (not _exact) translates the number for every
      // architecture in the filter and skips those lacking the call.
      int rc = seccomp_rule_add_array(ctx, action, numbers[j], count, first);
      if (rc < 0) fail_sys(step, "add rule for \"" + sc.names[j] + "\"", -rc);
    };
    if (split) {
      for (const auto& c : conds) add(1, &c);
    } else {
      add(static_cast<unsigned int>(conds.size()), conds.data());
    }
  }
}

std::vector<sock_filter> export_bpf(scmp_filter_ctx ctx, const std::string& where) {
  // A memfd rather than a pipe: a large filter would fill a pipe and block.
  UniqueFd mem(::memfd_create("agentrun-seccomp", MFD_CLOEXEC));
  if (!mem) fail_sys(where, "create a memfd for the filter", errno);
  if (int rc = seccomp_export_bpf(ctx, mem.get()); rc < 0) fail_sys(where, "export the filter", -rc);
  struct stat st;
  if (::fstat(mem.get(), &st) < 0) fail_sys(where, "stat the exported filter", errno);
  const size_t size = static_cast<size_t>(st.st_size);
  const size_t count = size / sizeof(sock_filter);
  if (size % sizeof(sock_filter) != 0)
    fail(where, "libseccomp exported " + std::to_string(size) + " bytes, not whole instructions");
  if (count > BPF_MAXINSNS)
    fail(where, "the filter has " + std::to_string(count) + " instructions, the kernel takes at most " +
                    std::to_string(BPF_MAXINSNS));
  std::vector<sock_filter> filter(count);
  ssize_t n = ::pread(mem.get(), filter.data(), size, 0);
  if (n < 0) fail_sys(where, "read the exported filter", errno);
  if (static_cast<size_t>(n) != size) fail(where, "short read of the exported filter");
  return filter;
}

}  // namespace

SeccompProgram compile_seccomp(const spec::Seccomp& s, const std::string& where) {
  SeccompProgram program;
  // The init's own system calls after loading (sending the listener among
  // them) would wait on a listener nobody holds yet.
  if (s.defaultAction == SeccompAction::notify)
    fail(where + ".defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
  const uint32_t default_action =
      action_value(s.defaultAction, s.defaultErrnoRet, where + ".defaultErrnoRet");
  Filter ctx(seccomp_init(default_action));
  if (!ctx) fail(where + ".defaultAction", "libseccomp refused the default action");
  // Only the filter is taken from libseccomp; the init loads it itself, so
  // load-time attributes (NNP, TSYNC, LOG, SSB) would have no effect.
  // A binary tree of syscall numbers instead of a list: the kernel runs the
  // filter for every syscall number when it is loaded (its action cache)
  // and on every uncached syscall after.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0)
    fail_sys(where, "ask libseccomp for a binary-tree filter", -rc);

  for (size_t i = 0; i < s.architectures.size(); ++i) {
    const std::string field = item(where + ".architectures", i);
    int rc = seccomp_arch_add(ctx.get(), arch_token(s.architectures[i], field));
    // The native architecture is always there already.
    if (rc < 0 && rc != -EEXIST) fail_sys(field, "add architecture " + s.architectures[i], -rc);
  }

  for (size_t i = 0; i < s.flags.size(); ++i)
    program.flags |= filter_flag(s.flags[i], item(where + ".flags", i));

  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const spec::SeccompSyscall& sc = s.syscalls[i];
    const std::string step = item(where + ".syscalls", i);
    // libseccomp's tables hold every architecture's names (with pseudo
    // numbers where a call does not exist), so an error here means the name
    // is unknown on all of them; a name foreign to the filter's
    // architectures resolves and is then skipped by seccomp_rule_add.
    std::vector<int> numbers;
    for (size_t j = 0; j < sc.names.size(); ++j) {
      int nr = seccomp_syscall_resolve_name(sc.names[j].c_str());
      if (nr == __NR_SCMP_ERROR)
        fail(item(step + ".names", j), "unknown system call \"" + sc.names[j] + "\"");
      numbers.push_back(nr);
    }
    const uint32_t action = action_value(sc.action, sc.errnoRet, step + ".errnoRet");
    // libseccomp refuses rules that repeat the default action (EACCES).
    if (action == default_action) continue;
    add_rules(ctx.get(), sc, action, numbers, step);
    if (sc.action == SeccompAction::notify) program.notify = true;
  }

  if (program.notify) program.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  // The kernel refuses this flag without a listener; say so before the init runs.
  if ((program.flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) && !program.notify)
    fail(where + ".flags", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule");

  program.filter = export_bpf(ctx.get(), where);
  return program;
}

bool admits_native_only(const spec::Seccomp& f) {
  return std::all_of(f.architectures.begin(), f.architectures.end(), [](const std::string& a) {
    return arch_token(a, "architectures") == seccomp_arch_native();
  });
}

bool kills_process(const spec::Seccomp& f) {
  return f.defaultAction == SeccompAction::killProcess ||
         std::any_of(f.syscalls.begin(), f.syscalls.end(),
                     [](const spec::SeccompSyscall& sc) { return sc.action == SeccompAction::killProcess; });
}

void drop_unreachable_architectures(spec::Seccomp& profile, bool native_only_above) {
  if (drops_architectures(native_only_above, kills_process(profile))) profile.architectures.clear();
}

}  // namespace agentrun
