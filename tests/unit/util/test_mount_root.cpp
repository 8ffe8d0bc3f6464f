// The mount a path is on, by climbing with statx's mount IDs, agrees with
// /proc/self/mountinfo, and follows symlinks as the kernel does (a textual
// match against mount points would not). Needs no privilege.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "runtime/util/mount_root.hpp"
#include "runtime/util/mountinfo.hpp"
#include "support/checks.hpp"

using namespace agentrun;

namespace {

// The longest mount point that is a prefix of `path` (a path without symlinks).
std::string listed_mount_point(const std::string& path) {
  std::string best;
  for (const auto& m : read_mountinfo()) {
    const std::string& p = m.mount_point;
    const bool under = p == "/" || (path.compare(0, p.size(), p) == 0 && (path.size() == p.size() || path[p.size()] == '/'));
    if (under && p.size() >= best.size()) best = p;
  }
  return best;
}

bool same_file(int fd, const std::string& path) {
  struct stat a {}, b {};
  BOOST_TEST_REQUIRE(::fstat(fd, &a) == 0);
  BOOST_TEST_REQUIRE(::stat(path.c_str(), &b) == 0);
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_mount_root_is_the_mount_point_mountinfo_lists) {
  TempDir dir("mount-root");
  BOOST_TEST_REQUIRE(::mkdir((dir.path + "/a").c_str(), 0755) == 0);
  BOOST_TEST_REQUIRE(::mkdir((dir.path + "/a/b").c_str(), 0755) == 0);
  for (const std::string& path : {std::string("/"), std::string("/proc"), std::string("/proc/self/fd"),
                                 std::string("/dev"), dir.path, dir.path + "/a/b"}) {
    const std::string expected = listed_mount_point(path);
    BOOST_TEST_REQUIRE(!expected.empty(), path);
    auto root = open_mount_root(path);
    BOOST_TEST_REQUIRE(bool(root), path);
    BOOST_TEST(same_file(root->get(), expected), path << " is on " << expected);
  }
}

BOOST_AUTO_TEST_CASE(symlinks_on_the_way_are_followed) {
  TempDir dir("mount-root");
  BOOST_TEST_REQUIRE(::symlink("/proc", (dir.path + "/p").c_str()) == 0);
  auto root = open_mount_root(dir.path + "/p/self/fd");
  BOOST_TEST_REQUIRE(bool(root));
  BOOST_TEST(same_file(root->get(), "/proc"));
  BOOST_TEST(!same_file(root->get(), listed_mount_point(dir.path)));
}

BOOST_AUTO_TEST_CASE(a_path_that_is_not_there_is_an_error) {
  TempDir dir("mount-root");
  auto root = open_mount_root(dir.path + "/missing");
  BOOST_TEST_REQUIRE(!root);
  BOOST_TEST(root.error().message() ==
             "find the mount of " + dir.path + "/missing: open: no such file or directory");
}
