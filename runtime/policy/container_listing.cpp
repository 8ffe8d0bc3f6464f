#include "runtime/policy/container_listing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "runtime/policy/merge.hpp"
#include "runtime/util/fd.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/in_root.hpp"

namespace agentrun::policy {
namespace {

bool is_bind(const spec::Mount& m) {
  return m.type == "bind" || std::find(m.options.begin(), m.options.end(), "bind") != m.options.end() ||
         std::find(m.options.begin(), m.options.end(), "rbind") != m.options.end();
}

std::optional<std::vector<DirEntry>> read_entries(int fd) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(fd), ::closedir);
  if (!d) {
    ::close(fd);
    return std::nullopt;
  }
  std::vector<DirEntry> out;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool directory = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      directory = ::fstatat(::dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back({name, directory});
  }
  return out;
}

// `path` (absolute) as the container will see it: below the last bind
// mount holding it, in that mount's source; elsewhere in the rootfs;
// resolved inside either. Nothing below a mount of another type.
std::optional<UniqueFd> open_container_path(const spec::Config& config, const std::string& rootfs,
                                            const std::string& path, int flags) {
  const spec::Mount* over = nullptr;
  std::string over_dest;
  for (const auto& m : config.mounts) {
    const std::string dest = clean_path(m.destination);
    if (path_within(path, dest)) over = &m, over_dest = dest;
  }
  if (over && !is_bind(*over)) return std::nullopt;
  const std::string base = over ? over->source : rootfs;
  const std::string rest = over ? path.substr(over_dest == "/" ? 0 : over_dest.size()) : path;
  UniqueFd root(::open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return std::nullopt;
  auto opened = open_in_root(root.get(), rest.empty() ? "/" : rest, flags | O_NONBLOCK);
  if (!opened) return std::nullopt;
  return std::move(*opened);
}

}  // namespace

std::optional<std::string> read_container_file(const spec::Config& config, const std::string& rootfs,
                                               const std::string& path) {
  auto fd = open_container_path(config, rootfs, path, O_RDONLY);
  if (!fd) return std::nullopt;
  auto text = read_regular(fd->get(), path, kMaxInputBytes);
  if (!text) return std::nullopt;
  return std::move(*text);
}

std::optional<std::vector<DirEntry>> list_container_dir(const spec::Config& config, const std::string& rootfs,
                                                       const std::string& dir) {
  auto opened = open_container_path(config, rootfs, dir, O_RDONLY | O_DIRECTORY);
  if (!opened) return std::nullopt;
  auto entries = read_entries(opened->release());
  if (!entries) return entries;
  for (const auto& m : config.mounts) {
    const std::string dest = clean_path(m.destination);
    const auto slash = dest.rfind('/');
    if (dest == "/" || (slash == 0 ? std::string("/") : dest.substr(0, slash)) != dir) continue;
    const std::string name = dest.substr(slash + 1);
    if (std::none_of(entries->begin(), entries->end(), [&](const DirEntry& e) { return e.name == name; }))
      entries->push_back({name, true});
  }
  return entries;
}

}  // namespace agentrun::policy
