#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "runtime/init/security_labels.hpp"

using namespace agentrun;

namespace {

std::string show(const std::vector<AttrWrite>& writes) {
  std::string out;
  for (const auto& w : writes) out += w.file + "=" + w.value + ";";
  return out;
}

}  // namespace

// The keyring takes the label before it is created; the process's labels
// are set last, for execve.
BOOST_AUTO_TEST_CASE(labels_are_written_where_each_lsm_reads_them) {
  ProcessPlan p;
  BOOST_TEST(show(keyring_label_writes(p)).empty());
  BOOST_TEST(show(exec_label_writes(p)).empty());
  p.selinux_label = "system_u:system_r:container_t:s0:c1,c2";
  BOOST_TEST(show(keyring_label_writes(p)) == "keycreate=system_u:system_r:container_t:s0:c1,c2;");
  BOOST_TEST(show(exec_label_writes(p)) == "exec=system_u:system_r:container_t:s0:c1,c2;");
  p.selinux_label.clear();
  p.apparmor_profile = "agent";
  BOOST_TEST(show(keyring_label_writes(p)).empty());
  BOOST_TEST(show(exec_label_writes(p)) == "apparmor/exec=exec agent;");
  BOOST_TEST(exec_label_writes(p)[0].step == "set AppArmor profile agent");
}
