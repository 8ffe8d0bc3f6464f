#include "runtime/confine/landlock.hpp"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/util/fd.hpp"

// An enumerator in newer headers, so #ifndef cannot see it there; defined
// after the include, the macro then only replaces our own uses.
#ifndef LANDLOCK_RULE_NET_PORT
#define LANDLOCK_RULE_NET_PORT 2  // ABI 4
#endif

namespace agentrun {
namespace {

// struct landlock_ruleset_attr as of ABI 6 and struct landlock_net_port_attr
// (ABI 4), declared here because the headers' versions are older or absent.
// The kernel accepts a larger attr than it knows when the extra fields are 0.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};

}  // namespace

int landlock_abi() {
  long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return v > 0 ? static_cast<int>(v) : 0;
}

Status apply_landlock(Sys& sys, const LandlockRuleset& rs) {
  if (rs.abi < 1) return plain_error("landlock", "not available on this kernel");
  const RulesetAttr attr{rs.handled_fs, rs.handled_net, rs.scoped};
  AR_TRY_ASSIGN(UniqueFd ruleset, sys_fd(sys.landlock_create_ruleset(&attr, sizeof attr), "landlock: create the ruleset"));

  for (const auto& [path, rights] : rs.path_rules) {
    UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!fd) {
      int e = errno;
      if (e == ENOENT) continue;  // nothing there to grant anything on
      return sys_error("landlock: open " + path, e);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) {
      int e = errno;
      return sys_error("landlock: stat " + path, e);
    }
    landlock_path_beneath_attr rule{};
    rule.allowed_access = S_ISDIR(st.st_mode) ? rights : rights & landlock_file_rights();
    rule.parent_fd = fd.get();
    if (const int rc = sys.landlock_add_rule(ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &rule); rc < 0)
      return sys_error("landlock: allow " + landlock_rights_summary(rule.allowed_access) + " beneath " + path, -rc);
  }
  for (const auto& [port, rights] : rs.port_rules) {
    const NetPortAttr rule{rights, port};
    if (const int rc = sys.landlock_add_rule(ruleset.get(), LANDLOCK_RULE_NET_PORT, &rule); rc < 0) {
      const int e = -rc;
      return sys_error("landlock: allow " + landlock_port_rights_summary(rights) + " on TCP port " + std::to_string(port), e);
    }
  }
  if (const int rc = sys.landlock_restrict_self(ruleset.get()); rc < 0) {
    const int e = -rc;
    return Error{"landlock: restrict the process", e == EPERM ? "needs no_new_privs or CAP_SYS_ADMIN" : "", e};
  }
  return {};
}

}  // namespace agentrun
