#include "runtime/container/host_namespaces.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "spec/error.hpp"
#include "spec/names.hpp"
#include "spec/validate.hpp"

namespace agentrun {

void refuse_writes_into_host_namespaces(const spec::Config& config, const std::string& file,
                                        const std::string& own_ns_dir) {
  for (const auto& w : spec::writes_into_joined_namespaces(config)) {
    const std::string own = own_ns_dir + "/" + spec::namespace_proc_name(w.type);
    struct stat joined, ours;
    if (::stat(w.path.c_str(), &joined) < 0) fail_errno("stat namespace " + w.path, errno);
    if (::stat(own.c_str(), &ours) < 0) fail_errno("stat namespace " + own, errno);
    if (joined.st_dev == ours.st_dev && joined.st_ino == ours.st_ino)
      fail(file + ": " + w.field, std::string("the ") + spec::namespace_name(w.type) + " namespace it joins (" +
                                      w.path + ") is the host's: refusing to set it on the host");
  }
}

}  // namespace agentrun
