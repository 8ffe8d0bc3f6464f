#include "runtime/init/namespaces.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "spec/names.hpp"
#include "spec/validate.hpp"

namespace agentrun {
namespace {

// What the container would change in a namespace it joins: the root file
// system is set up (and pivot_root done) in its mount namespace, the
// hostname and domainname set in its uts namespace, its sysctls in theirs.
// Never in the runtime's own, nor in pid 1's: that would be the host's.
std::string change_in_joined(const Plan& plan, spec::NamespaceType type, bool sets_up) {
  if (type == spec::NamespaceType::mount && sets_up)
    return "the container's root file system would be set up, and pivot_root done, in it";
  if (type == spec::NamespaceType::uts && (!plan.hostname.empty() || !plan.domainname.empty()))
    return "the container's hostname and domainname would rename the host";
  for (const auto& [path, value] : plan.sysctls) {
    std::string key = path;
    std::replace(key.begin(), key.end(), '/', '.');
    if (spec::sysctl_namespace(key) == type) return "the container's sysctl " + key + " would be set on the host";
  }
  return "";
}

Status refuse_host_namespace(const NamespaceJoin& j, int fd, const std::string& change) {
  const std::string step = std::string("join ") + spec::namespace_name(j.type) + " namespace " + j.path;
  struct stat joined;
  if (::fstat(fd, &joined) < 0) return sys_error(step, errno);
  // A pid 1 this runtime may not inspect belongs to another (a supervisor
  // in an outer namespace); the runtime's own namespace is always readable.
  struct Owner {
    const char* pid;
    const char* name;
    bool may_be_hidden;
  };
  for (const Owner& o : {Owner{"self", "the runtime's own", false}, Owner{"1", "pid 1's", true}}) {
    const std::string own = std::string("/proc/") + o.pid + "/ns/" + spec::namespace_proc_name(j.type);
    struct stat st;
    if (::stat(own.c_str(), &st) < 0) {
      if (o.may_be_hidden && (errno == EACCES || errno == EPERM)) continue;
      return Error{step, "stat " + own, errno};
    }
    if (st.st_dev == joined.st_dev && st.st_ino == joined.st_ino)
      return plain_error(step, std::string("it is ") + o.name + ": " + change);
  }
  return {};
}

}  // namespace

Status join_namespaces(Sys& sys, const Plan& plan, bool sets_up) {
  std::vector<UniqueFd> fds;
  for (const auto& j : plan.joins) {
    fds.emplace_back(::open(j.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fds.back()) return sys_error(std::string("open ") + spec::namespace_name(j.type) + " namespace " + j.path, errno);
    if (const std::string change = change_in_joined(plan, j.type, sets_up); !change.empty())
      AR_TRY(refuse_host_namespace(j, fds.back().get(), change));
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    const auto& j = plan.joins[i];
    AR_TRY(sys_status(sys.setns(fds[i].get(), spec::namespace_clone_flag(j.type)),
                      std::string("join ") + spec::namespace_name(j.type) + " namespace " + j.path));
  }
  return {};
}

Status enter_network_namespace(Sys& sys, const Plan& plan, SyncChannel& sync) {
  if (!plan.creates(spec::NamespaceType::network)) return {};
  const bool given = plan.network_namespace_from_runtime();
  int rc;
  if (given) {
    AR_TRY_ASSIGN(Message m, sync.receive());
    if (m.type != MsgType::network_namespace || !m.fd)
      return plain_error("join the network namespace create made", "create sent no namespace");
    rc = sys.setns(m.fd.get(), CLONE_NEWNET);
  } else {
    rc = sys.unshare(CLONE_NEWNET);
  }
  AR_TRY(sync.send(MsgType::network_ready, rc < 0 ? -rc : 0));
  return sys_status(rc, given ? "join the network namespace create made" : "create the network namespace");
}

}  // namespace agentrun
