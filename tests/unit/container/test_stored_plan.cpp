// plan.json: what create decides for exec's processes, written and read back
// whole, and refused when it is not a plan of this version.
#include <boost/test/unit_test.hpp>

#include <linux/seccomp.h>
#include <sched.h>
#include <sys/personality.h>

#include <string>

#include "runtime/container/stored_plan.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"

using namespace agentrun;

namespace {

const std::string kFile = "/run/agentrun/c/plan.json";

const char* kProcess =
    R"({"user":{"uid":1000,"gid":1000,"additionalGids":[27]},"args":["sh","-c","echo \"hi\""],)"
    R"("env":["PATH=/bin"],"cwd":"/work","capabilities":{"bounding":["CAP_KILL","CAP_FUTURE"]},)"
    R"("rlimits":[{"type":"RLIMIT_NOFILE","hard":64,"soft":32}],"noNewPrivileges":true})";

// Every field the file keeps set, with values that catch truncation and
// byte order, and strings that need escaping.
StoredPlan full_plan() {
  StoredPlan s;
  Plan& p = s.base;
  p.joins = {{spec::NamespaceType::user, ""}, {spec::NamespaceType::pid, ""}, {spec::NamespaceType::time, ""}};
  p.chroot = true;
  p.personality = PER_LINUX32;
  p.seccomp = SeccompFilter{"config.json: linux.seccomp", {},
                            {{{0x20, 0, 0, 4}, {0x15, 0xfe, 0x01, 0xc000003e}, {0x06, 0, 0, 0xffffffff}},
                             SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_LOG, true}};
  p.seccomp_listener_path = "/run/listener.sock";
  p.seccomp_listener_metadata = "with \"quotes\"\nand newline";
  p.seccomp_stack = {SeccompFilter{"seccomp profile agent-hardening", {}, {{{0x06, 0, 0, 0x7fff0000}}, 0, false}},
                     SeccompFilter{"seccomp profile x", {}, {{{0x06, 0, 0, 0x00050001}, {0x06, 0, 0, 0x80000000}}, 0, false}}};
  p.landlock = LandlockRuleset{6, 0xffff, 0x3, 0x2, {{"/usr", 0x1ff}, {"/dev/null", 0x3}}, {{443, 0x2}, {65535, 0x1}}};
  p.last_cap = 40;
  p.no_new_keyring = true;
  s.process_policy = {"agent-default", policy::Isolation::best_effort, true,
                      policy::ProcessRules{true, false, false, std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"}},
                      uint64_t{1} << 40, true};
  s.host = HostFacts{40, true, false};
  s.process_json = kProcess;
  return s;
}

void check_filter(const SeccompFilter& fa, const SeccompFilter& fb) {
  BOOST_TEST(fa.name == fb.name);
  const SeccompProgram& a = fa.program;
  const SeccompProgram& b = fb.program;
  BOOST_TEST(a.flags == b.flags);
  BOOST_TEST(a.notify == b.notify);
  BOOST_REQUIRE_EQUAL(a.filter.size(), b.filter.size());
  for (size_t i = 0; i < a.filter.size(); ++i) {
    BOOST_TEST(a.filter[i].code == b.filter[i].code);
    BOOST_TEST(a.filter[i].jt == b.filter[i].jt);
    BOOST_TEST(a.filter[i].jf == b.filter[i].jf);
    BOOST_TEST(a.filter[i].k == b.filter[i].k);
  }
}

void check_same(const StoredPlan& a, const StoredPlan& b) {
  BOOST_REQUIRE_EQUAL(a.base.joins.size(), b.base.joins.size());
  for (size_t i = 0; i < a.base.joins.size(); ++i) {
    BOOST_TEST((a.base.joins[i].type == b.base.joins[i].type));
    BOOST_TEST(a.base.joins[i].path == b.base.joins[i].path);
  }
  BOOST_TEST(a.base.chroot == b.base.chroot);
  BOOST_TEST((a.base.personality == b.base.personality));
  BOOST_REQUIRE_EQUAL(a.base.seccomp.has_value(), b.base.seccomp.has_value());
  if (a.base.seccomp) check_filter(*a.base.seccomp, *b.base.seccomp);
  BOOST_TEST(a.base.seccomp_listener_path == b.base.seccomp_listener_path);
  BOOST_TEST(a.base.seccomp_listener_metadata == b.base.seccomp_listener_metadata);
  BOOST_REQUIRE_EQUAL(a.base.seccomp_stack.size(), b.base.seccomp_stack.size());
  for (size_t i = 0; i < a.base.seccomp_stack.size(); ++i) check_filter(a.base.seccomp_stack[i], b.base.seccomp_stack[i]);
  BOOST_REQUIRE_EQUAL(a.base.landlock.has_value(), b.base.landlock.has_value());
  if (a.base.landlock) {
    BOOST_TEST(a.base.landlock->abi == b.base.landlock->abi);
    BOOST_TEST(a.base.landlock->handled_fs == b.base.landlock->handled_fs);
    BOOST_TEST(a.base.landlock->handled_net == b.base.landlock->handled_net);
    BOOST_TEST(a.base.landlock->scoped == b.base.landlock->scoped);
    BOOST_TEST((a.base.landlock->path_rules == b.base.landlock->path_rules));
    BOOST_TEST((a.base.landlock->port_rules == b.base.landlock->port_rules));
  }
  BOOST_TEST(a.base.last_cap == b.base.last_cap);
  BOOST_TEST(a.base.no_new_keyring == b.base.no_new_keyring);
  const auto& pa = a.process_policy;
  const auto& pb = b.process_policy;
  BOOST_TEST(pa.name == pb.name);
  BOOST_TEST((pa.isolation == pb.isolation));
  BOOST_TEST(pa.agent == pb.agent);
  BOOST_TEST((pa.rules.noNewPrivileges == pb.rules.noNewPrivileges));
  BOOST_TEST((pa.rules.allowRoot == pb.rules.allowRoot));
  BOOST_TEST((pa.rules.allowPrivileged == pb.rules.allowPrivileged));
  BOOST_TEST((pa.rules.capabilities == pb.rules.capabilities));
  BOOST_TEST((pa.nofile_max == pb.nofile_max));
  BOOST_TEST(pa.requires_no_new_privileges == pb.requires_no_new_privileges);
  BOOST_TEST(a.host.last_cap == b.host.last_cap);
  BOOST_TEST(a.host.apparmor == b.host.apparmor);
  BOOST_TEST(a.host.selinux == b.host.selinux);
  BOOST_TEST(a.process_json == b.process_json);
}

// The plan's JSON with `from` replaced by `to` (once).
std::string edited(const std::string& from, const std::string& to) {
  std::string text = stored_plan_json(full_plan());
  const size_t at = text.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_field_survives_the_round_trip) {
  const StoredPlan plan = full_plan();
  const std::string text = stored_plan_json(plan);
  BOOST_TEST(text.rfind(R"({"agentrunPlan":1,)", 0) == 0, text);
  check_same(parse_stored_plan(text, kFile), plan);
}

BOOST_AUTO_TEST_CASE(absent_parts_stay_absent) {
  StoredPlan plan = full_plan();
  plan.base.seccomp.reset();
  plan.base.seccomp_stack.clear();
  plan.base.landlock.reset();
  plan.base.personality.reset();
  plan.base.joins.clear();
  plan.process_policy = policy::ProcessPolicy{"oci", policy::Isolation::strict, false, {}, std::nullopt, false};
  check_same(parse_stored_plan(stored_plan_json(plan), kFile), plan);
}

// exec starts from the container's process as config.json gave it, unknown
// capability names included (they are left out with a warning each time).
BOOST_AUTO_TEST_CASE(the_containers_process_comes_back_as_config_json_gave_it) {
  const StoredPlan plan = parse_stored_plan(stored_plan_json(full_plan()), kFile);
  const spec::Process p = container_process(plan, kFile);
  BOOST_TEST(p.args == (std::vector<std::string>{"sh", "-c", "echo \"hi\""}));
  BOOST_TEST(p.user.uid == 1000U);
  BOOST_TEST(p.user.additionalGids == std::vector<uint32_t>{27});
  BOOST_TEST(p.cwd == "/work");
  BOOST_TEST(p.noNewPrivileges);
  BOOST_REQUIRE(p.capabilities);
  BOOST_TEST(p.capabilities->unknown == std::vector<std::string>{"CAP_FUTURE"});
  BOOST_REQUIRE_EQUAL(p.rlimits.size(), 1U);
  BOOST_TEST(p.rlimits[0].soft == 32U);
}

BOOST_AUTO_TEST_CASE(another_version_is_refused_naming_the_file) {
  const std::string tail = "): the container was created by another version of agentrun; recreate it";
  expect_failure([&] { parse_stored_plan(edited(R"("agentrunPlan":1)", R"("agentrunPlan":2)"), kFile); },
                 kFile + ": not a plan this agentrun reads (version 1, not 2" + tail);
  expect_failure([&] { parse_stored_plan(edited(R"("agentrunPlan":1)", R"("agentrunPlan":"1")"), kFile); },
                 kFile + ": not a plan this agentrun reads (version 1, not \"1\"" + tail);
  expect_failure([&] { parse_stored_plan(edited(R"("agentrunPlan":1,)", ""), kFile); },
                 kFile + ": not a plan this agentrun reads (version 1, and it names none" + tail);
  expect_failure([&] { parse_stored_plan("[]", kFile); },
                 kFile + ": not a plan this agentrun reads (version 1, and it names none" + tail);
}

BOOST_AUTO_TEST_CASE(a_damaged_plan_is_refused_naming_the_field) {
  BOOST_CHECK_EXCEPTION(parse_stored_plan(edited("0020000000000004", "0020000000000g04"), kFile), Failure,
                        Prefix{kFile + ": seccomp.filter: expected hex digits at offset 8"});
  BOOST_CHECK_EXCEPTION(parse_stored_plan(edited("0020000000000004", "002000000000004"), kFile), Failure,
                        Prefix{kFile + ": seccomp.filter: expected 1 to 4096 BPF instructions"});
  BOOST_CHECK_EXCEPTION(parse_stored_plan(edited(R"("pid")", R"("pods")"), kFile), Failure,
                        Message{kFile + ": namespaces[1]: unknown namespace \"pods\""});
  BOOST_CHECK_EXCEPTION(parse_stored_plan(edited(R"("chroot":true,)", ""), kFile), Failure,
                        Prefix{kFile + ": "});
  BOOST_CHECK_EXCEPTION(parse_stored_plan(stored_plan_json(full_plan()).substr(0, 100), kFile), Failure,
                        Prefix{kFile + ": line 1"});
}
