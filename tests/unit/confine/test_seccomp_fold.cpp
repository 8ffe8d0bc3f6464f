// Folding libseccomp's dispatch on the call number into ranges
// (seccomp_fold.hpp) keeps every verdict: each built-in profile, folded,
// answers as libseccomp's filter does for every call number of every
// architecture it names (x32's too) and for the arguments its rules compare.
#include <boost/test/unit_test.hpp>

#include <linux/seccomp.h>

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "runtime/confine/seccomp_cache.hpp"
#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/confine/seccomp_eval.hpp"
#include "runtime/confine/seccomp_fold.hpp"
#include "runtime/confine/seccomp_profiles.hpp"
#include "support/builtin_filters.hpp"
#include "support/needs.hpp"
#include "support/same_verdicts.hpp"

using namespace agentrun;

namespace {

constexpr uint32_t kNr = offsetof(seccomp_data, nr);
constexpr uint32_t kArgs = offsetof(seccomp_data, args);

bool same(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].code != b[i].code || a[i].jt != b[i].jt || a[i].jf != b[i].jf || a[i].k != b[i].k) return false;
  return true;
}

void expect_same_verdicts(const std::vector<sock_filter>& original, const std::vector<sock_filter>& folded,
                          const std::string& name) {
  const size_t differ = test::different_verdicts(original, folded);
  BOOST_TEST(differ == 0u, name << ": " << differ << " calls answered differently");
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_builtin_profile_folds_to_the_same_verdicts) {
  for (const std::string& name : builtin_seccomp_names())
    for (bool native : {false, true}) {
      spec::Seccomp profile = builtin_seccomp_profile(name);
      if (native) profile.architectures.clear();
      const std::vector<sock_filter> original = compile_seccomp(profile, name).filter;
      const std::vector<sock_filter> folded = fold_syscall_ranges(original);
      BOOST_TEST_MESSAGE(name << (native ? " (native)" : "") << ": " << original.size() << " -> " << folded.size());
      BOOST_TEST(folded.size() <= original.size());
      expect_same_verdicts(original, folded, name);
      BOOST_TEST(same(compile_for_loading(profile, name).filter, folded));
    }
}

// Docker's baseline, the filter under most containers: one comparison per
// allowed call becomes one per range of calls (with the libseccomp whose
// filters the binary loads: another may lay them out otherwise).
BOOST_AUTO_TEST_CASE(dockers_baseline_folds_to_a_fraction, *test::needs(test::the_builds_libseccomp)) {
  spec::Seccomp docker = builtin_seccomp_profile("docker-baseline");
  const size_t three_architectures = compile_seccomp(docker, "docker").filter.size();
  BOOST_TEST(compile_for_loading(docker, "docker").filter.size() * 3 < three_architectures);
  docker.architectures.clear();
  const size_t native = compile_seccomp(docker, "docker").filter.size();
  BOOST_TEST(compile_for_loading(docker, "docker").filter.size() * 3 < native);
}

// A dispatch that something else jumps into is not the number's alone: the
// A register there may hold anything, so nothing is folded.
BOOST_AUTO_TEST_CASE(a_dispatch_entered_from_elsewhere_is_left_as_it_is) {
  const std::vector<sock_filter> filter{
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, kArgs},  // 0: A = args[0]
      {BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 7},     // 1: args[0] == 7: into the dispatch, at 4
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, kNr},    // 2: A = nr
      {BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1},     // 3
      {BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 2},     // 4
      {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 3},     // 5
      {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW},
      {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | 1},
  };
  BOOST_TEST(same(fold_syscall_ranges(filter), filter));
  // Without the way in from the argument check, the dispatch folds: numbers
  // 1 to 3 are one range.
  std::vector<sock_filter> alone = filter;
  alone[1] = {BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 7};
  const std::vector<sock_filter> folded = fold_syscall_ranges(alone);
  BOOST_TEST(folded.size() < alone.size());
  expect_same_verdicts(alone, folded, "synthetic");
}

BOOST_AUTO_TEST_CASE(a_malformed_filter_is_left_as_it_is) {
  const std::vector<sock_filter> filter{
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, kNr},
      {BPF_JMP | BPF_JEQ | BPF_K, 9, 0, 1},  // past the end
      {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW},
  };
  BOOST_TEST(same(fold_syscall_ranges(filter), filter));
  BOOST_TEST(fold_syscall_ranges({}).empty());
}
