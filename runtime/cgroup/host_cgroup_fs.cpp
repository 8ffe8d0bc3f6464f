#include "runtime/cgroup/host_cgroup_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/util/file_io.hpp"

namespace agentrun {

int HostCgroupFs::make_dir(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0 ? 0 : errno; }

int HostCgroupFs::remove_dir(const std::string& path) { return ::rmdir(path.c_str()) == 0 ? 0 : errno; }

int HostCgroupFs::read_file(const std::string& path, std::string& out) {
  auto text = read_whole_file(AT_FDCWD, path);
  if (!text) return text.error().errnum;
  out = std::move(*text);
  return 0;
}

int HostCgroupFs::write_file(const std::string& path, const std::string& value) {
  const auto st = write_whole_file(AT_FDCWD, path, value, O_TRUNC);
  return st ? 0 : st.error().errnum;
}

}  // namespace agentrun
