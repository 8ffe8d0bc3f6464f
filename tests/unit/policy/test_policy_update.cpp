// `update` under the container's policy: pidsMax and memoryMax are ceilings.
#include <boost/test/unit_test.hpp>

#include "runtime/policy/update_limits.hpp"
#include "support/checks.hpp"

using namespace agentrun;
using namespace agentrun::policy;

namespace {

Policy limits(Isolation isolation) {
  Policy p;
  p.name = "agent-default";
  p.isolation = isolation;
  p.resources.pidsMax = 1024;
  p.resources.memoryMax = 1 << 30;
  return p;
}

spec::Resources pids(int64_t limit) {
  spec::Resources r;
  r.pidsLimit = limit;
  return r;
}

spec::Resources memory(int64_t limit) {
  spec::Resources r;
  r.memory = spec::MemoryResources{};
  r.memory->limit = limit;
  return r;
}

spec::Resources unified(const std::string& file, const std::string& value) {
  spec::Resources r;
  r.unified[file] = value;
  return r;
}

std::string refusal(const spec::Resources& r, UpdateSource source = UpdateSource::flags) {
  return failure_of([&] { limit_update(limits(Isolation::strict), r, source); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(strict_refuses_raising_or_removing_a_ceiling) {
  BOOST_TEST(refusal(pids(5000)) == "policy agent-default: update --pids-limit 5000: above the policy's pidsMax 1024");
  BOOST_TEST(refusal(pids(-1)) ==
             "policy agent-default: update --pids-limit -1: would remove the limit; the policy's pidsMax 1024 is the "
             "ceiling");
  BOOST_TEST(refusal(pids(0)).find("update --pids-limit 0: would remove the limit") != std::string::npos);
  BOOST_TEST(refusal(memory((1 << 30) + 1)) ==
             "policy agent-default: update --memory 1073741825: above the policy's memoryMax 1073741824");
  BOOST_TEST(refusal(memory(-1)).find("update --memory -1: would remove the limit") != std::string::npos);
  BOOST_TEST(refusal(pids(1025), UpdateSource::resources_file) ==
             "policy agent-default: update --resources pids.limit 1025: above the policy's pidsMax 1024");
  BOOST_TEST(refusal(memory(-1), UpdateSource::resources_file).find("update --resources memory.limit -1") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(strict_checks_the_unified_files_that_override_the_limits) {
  BOOST_TEST(refusal(unified("pids.max", "max"), UpdateSource::resources_file) ==
             "policy agent-default: update --resources unified.pids.max \"max\": would remove the limit; the policy's "
             "pidsMax 1024 is the ceiling");
  BOOST_TEST(refusal(unified("pids.max", "2048\n"), UpdateSource::resources_file)
                 .find("unified.pids.max \"2048\n\": above the policy's pidsMax 1024") != std::string::npos);
  BOOST_TEST(refusal(unified("memory.max", "4G"), UpdateSource::resources_file) ==
             "policy agent-default: update --resources unified.memory.max \"4G\": not a number to check against the "
             "policy's memoryMax 1073741824");
  BOOST_TEST(refusal(unified("memory.max", "-1"), UpdateSource::resources_file).find("not a number") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(what_stays_within_the_ceilings_passes_as_requested) {
  const Policy p = limits(Isolation::strict);
  BOOST_TEST(*limit_update(p, pids(1024), UpdateSource::flags).resources.pidsLimit == 1024);
  BOOST_TEST(*limit_update(p, pids(512), UpdateSource::flags).resources.pidsLimit == 512);
  BOOST_TEST(*limit_update(p, memory(1 << 20), UpdateSource::flags).resources.memory->limit == 1 << 20);
  // 0 leaves the memory limit as it is.
  BOOST_TEST(*limit_update(p, memory(0), UpdateSource::flags).resources.memory->limit == 0);
  const auto spaced = limit_update(p, unified("pids.max", " 100 "), UpdateSource::resources_file);
  BOOST_TEST(spaced.resources.unified.at("pids.max") == " 100 ");
  // What the policy does not limit.
  spec::Resources other = memory(0);
  other.memory->swap = -1;
  other.cpu = spec::CpuResources{};
  other.cpu->shares = 256;
  other.unified["memory.high"] = "max";
  const LimitedUpdate u = limit_update(p, other, UpdateSource::flags);
  BOOST_TEST(*u.resources.memory->swap == -1);
  BOOST_TEST(*u.resources.cpu->shares == 256u);
  BOOST_TEST(u.resources.unified.at("memory.high") == "max");
  BOOST_TEST(u.warnings.empty());
}

BOOST_AUTO_TEST_CASE(best_effort_lowers_to_the_ceiling_with_a_warning) {
  const Policy p = limits(Isolation::best_effort);
  spec::Resources r = pids(-1);
  r.memory = spec::MemoryResources{};
  r.memory->limit = int64_t{8} << 30;
  r.unified["pids.max"] = "max";
  r.unified["memory.max"] = "4G";
  const LimitedUpdate u = limit_update(p, r, UpdateSource::resources_file);
  BOOST_TEST(*u.resources.pidsLimit == 1024);
  BOOST_TEST(*u.resources.memory->limit == 1 << 30);
  BOOST_TEST(u.resources.unified.at("pids.max") == "1024");
  BOOST_TEST(u.resources.unified.at("memory.max") == "1073741824");
  BOOST_TEST_REQUIRE(u.warnings.size() == 4u);
  BOOST_TEST(u.warnings[0] ==
             "policy agent-default (best-effort): update --resources pids.limit -1: would remove the limit; the "
             "policy's pidsMax 1024 is the ceiling; set to 1024");
  BOOST_TEST(u.warnings[2] ==
             "policy agent-default (best-effort): update --resources memory.limit 8589934592: above the policy's "
             "memoryMax 1073741824; set to 1073741824");
}

BOOST_AUTO_TEST_CASE(a_policy_without_limits_changes_nothing) {
  Policy oci;
  oci.name = "oci";
  spec::Resources r = pids(-1);
  r.unified["memory.max"] = "max";
  const LimitedUpdate u = limit_update(oci, r, UpdateSource::resources_file);
  BOOST_TEST(*u.resources.pidsLimit == -1);
  BOOST_TEST(u.resources.unified.at("memory.max") == "max");
  BOOST_TEST(u.warnings.empty());
}
