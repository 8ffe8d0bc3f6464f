#include "runtime/util/mount_root.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace agentrun {
namespace {

struct Place {
  uint64_t mount = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const Place&) const = default;
};

Result<Place> place_of(int fd, const std::string& step) {
  struct statx st {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_NO_AUTOMOUNT, STATX_INO | STATX_MNT_ID, &st) != 0)
    return sys_error(step + ": statx", errno);
  if (!(st.stx_mask & STATX_MNT_ID)) return plain_error(step, "statx gives no mount ID (Linux 5.8 does)");
  return Place{st.stx_mnt_id, (uint64_t{st.stx_dev_major} << 32) | st.stx_dev_minor, st.stx_ino};
}

}  // namespace

Result<UniqueFd> open_mount_root(const std::string& path) {
  const std::string step = "find the mount of " + path;
  UniqueFd here(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!here) return sys_error(step + ": open", errno);
  AR_TRY_ASSIGN(Place at, place_of(here.get(), step));
  for (;;) {
    UniqueFd up(::openat(here.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!up) return sys_error(step + ": open ..", errno);
    AR_TRY_ASSIGN(Place above, place_of(up.get(), step));
    // ".." of "/" is "/" itself.
    if (above.mount != at.mount || above == at) return here;
    here = std::move(up);
    at = above;
  }
}

}  // namespace agentrun
