#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>

#include "runtime/util/in_root.hpp"
#include "support/checks.hpp"

using namespace agentrun;

namespace {

// A temporary directory standing in for a container's root, removed
// afterwards; umask 022 while it exists.
struct TempRoot : ScopedUmask, TempDir {
  int fd = -1;

  TempRoot() : ScopedUmask(022), TempDir("in-root") {
    fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    BOOST_TEST_REQUIRE(fd >= 0);
  }
  ~TempRoot() { ::close(fd); }

  std::string at(const std::string& rel) const { return path + "/" + rel; }
  void mkdir(const std::string& rel) const { BOOST_TEST_REQUIRE(::mkdir(at(rel).c_str(), 0755) == 0, rel); }
  void write(const std::string& rel, const std::string& text) const {
    std::ofstream(at(rel)) << text;
  }
  void symlink(const std::string& target, const std::string& rel) const {
    BOOST_TEST_REQUIRE(::symlink(target.c_str(), at(rel).c_str()) == 0, rel);
  }
};

bool same_file(int fd, const std::string& path) {
  struct stat a, b;
  if (::fstat(fd, &a) != 0 || ::stat(path.c_str(), &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::lstat(path.c_str(), &st);
  return st.st_mode;
}

std::string unique_name() { return "agentrun-test-absent-" + std::to_string(::getpid()); }

}  // namespace

BOOST_AUTO_TEST_CASE(clean_path_normalises) {
  BOOST_TEST(clean_path("a//b/../c") == "/a/c");  // by name, as runc cleans destinations
  BOOST_TEST(clean_path("/a/./b/") == "/a/b");
  BOOST_TEST(clean_path("") == "/");
  BOOST_TEST(clean_path("/") == "/");
  BOOST_TEST(clean_path("///") == "/");
  BOOST_TEST(clean_path(".") == "/");
  BOOST_TEST(clean_path("./x") == "/x");
  BOOST_TEST(clean_path("//x//y//") == "/x/y");
  BOOST_TEST(clean_path("/..") == "/");
  BOOST_TEST(clean_path("/x/../../dev") == "/dev");
  BOOST_TEST(clean_path("/a/.../b") == "/a/.../b");
  BOOST_TEST(clean_path("/dev/null") == "/dev/null");
}

BOOST_AUTO_TEST_CASE(open_resolves_inside_the_root) {
  TempRoot r;
  r.mkdir("a");
  r.mkdir("a/b");
  r.write("a/b/f", "x");
  auto fd = open_in_root(r.fd, "/a/b/f", O_PATH);
  BOOST_TEST_REQUIRE(bool(fd));
  BOOST_TEST(same_file(fd->get(), r.at("a/b/f")));
  auto rel = open_in_root(r.fd, "a//./b", O_PATH | O_DIRECTORY);
  BOOST_TEST_REQUIRE(bool(rel));
  BOOST_TEST(same_file(rel->get(), r.at("a/b")));
  auto root = open_in_root(r.fd, "/", O_PATH | O_DIRECTORY);
  BOOST_TEST_REQUIRE(bool(root));
  BOOST_TEST(same_file(root->get(), r.path));

  auto missing = open_in_root(r.fd, "/a//missing", O_PATH);
  BOOST_TEST_REQUIRE(!missing);
  BOOST_TEST(missing.error().errnum == ENOENT);
  BOOST_TEST(missing.error().message() == "open /a/missing in the container's root: no such file or directory");
}

BOOST_AUTO_TEST_CASE(absolute_symlink_resolves_in_the_root) {
  TempRoot r;
  r.symlink("/etc", "hostetc");
  // The host has /etc/passwd; the root has no /etc: the link must not reach the host's.
  BOOST_TEST_REQUIRE(exists("/etc/passwd"));
  auto fd = open_in_root(r.fd, "/hostetc/passwd", O_PATH);
  BOOST_TEST(!fd);
  if (!fd) BOOST_TEST(fd.error().errnum == ENOENT);
  // Once the root has an /etc/passwd of its own, the link leads there.
  r.mkdir("etc");
  r.write("etc/passwd", "root:x:0:0::/:/bin/sh\n");
  auto inside = open_in_root(r.fd, "/hostetc/passwd", O_RDONLY);
  BOOST_TEST_REQUIRE(bool(inside));
  BOOST_TEST(same_file(inside->get(), r.at("etc/passwd")));
  BOOST_TEST(!same_file(inside->get(), "/etc/passwd"));
}

BOOST_AUTO_TEST_CASE(dot_dot_cannot_escape) {
  TempRoot r;
  auto up = open_in_root(r.fd, "../../../..", O_PATH | O_DIRECTORY);
  BOOST_TEST_REQUIRE(bool(up));
  BOOST_TEST(same_file(up->get(), r.path));
  BOOST_TEST(!open_in_root(r.fd, "/../../../etc/passwd", O_PATH));
  r.symlink("../../../../../../", "uplink");
  auto via_link = open_in_root(r.fd, "/uplink", O_PATH | O_DIRECTORY);
  BOOST_TEST_REQUIRE(bool(via_link));
  BOOST_TEST(same_file(via_link->get(), r.path));
  r.mkdir("etc");
  r.write("etc/passwd", "");
  auto p = open_in_root(r.fd, "/uplink/etc/passwd", O_PATH);
  BOOST_TEST_REQUIRE(bool(p));
  BOOST_TEST(same_file(p->get(), r.at("etc/passwd")));
}

BOOST_AUTO_TEST_CASE(no_symlinks_variant) {
  TempRoot r;
  r.mkdir("proc");
  r.symlink("/proc", "dev");
  BOOST_TEST(bool(open_in_root_no_symlinks(r.fd, "/proc", O_PATH | O_DIRECTORY)));
  auto link = open_in_root_no_symlinks(r.fd, "/dev", O_PATH | O_DIRECTORY);
  BOOST_TEST_REQUIRE(!link);
  BOOST_TEST(link.error().message() == "/dev: must be a real directory in the container's root, not a symlink");
  auto missing = open_in_root_no_symlinks(r.fd, "/sys", O_PATH | O_DIRECTORY);
  BOOST_TEST_REQUIRE(!missing);
  BOOST_TEST(missing.error().errnum == ENOENT);
}

BOOST_AUTO_TEST_CASE(make_creates_missing_directories) {
  TempRoot r;
  auto fd = make_in_root(r.fd, "/x/y//z", TargetKind::directory);
  BOOST_TEST_REQUIRE(bool(fd));
  BOOST_TEST(S_ISDIR(mode_of(r.at("x/y/z"))));
  BOOST_TEST((mode_of(r.at("x")) & 07777) == 0755u);
  BOOST_TEST((mode_of(r.at("x/y/z")) & 07777) == 0755u);
  BOOST_TEST(same_file(fd->get(), r.at("x/y/z")));
  BOOST_TEST((::fcntl(fd->get(), F_GETFL) & O_PATH) == O_PATH);
  // Again: it exists, same result.
  auto again = make_in_root(r.fd, "/x/y/z", TargetKind::directory);
  BOOST_TEST_REQUIRE(bool(again));
  BOOST_TEST(same_file(again->get(), r.at("x/y/z")));
  auto root = make_in_root(r.fd, "/", TargetKind::directory);
  BOOST_TEST_REQUIRE(bool(root));
  BOOST_TEST(same_file(root->get(), r.path));
}

BOOST_AUTO_TEST_CASE(make_creates_missing_files) {
  TempRoot r;
  auto fd = make_in_root(r.fd, "/etc/resolv.conf", TargetKind::file);
  BOOST_TEST_REQUIRE(bool(fd));
  const mode_t m = mode_of(r.at("etc/resolv.conf"));
  BOOST_TEST(S_ISREG(m));
  BOOST_TEST((m & 07777) == 0644u);
  BOOST_TEST(S_ISDIR(mode_of(r.at("etc"))));
  struct stat st;
  BOOST_TEST_REQUIRE(::stat(r.at("etc/resolv.conf").c_str(), &st) == 0);
  BOOST_TEST(st.st_size == 0);
  BOOST_TEST(same_file(fd->get(), r.at("etc/resolv.conf")));
  // An existing file is opened, not truncated.
  r.write("etc/hosts", "127.0.0.1 localhost\n");
  auto hosts = make_in_root(r.fd, "/etc/hosts", TargetKind::file);
  BOOST_TEST_REQUIRE(bool(hosts));
  BOOST_TEST_REQUIRE(::stat(r.at("etc/hosts").c_str(), &st) == 0);
  BOOST_TEST(st.st_size == 20);
}

BOOST_AUTO_TEST_CASE(make_fails_on_a_file_in_the_way) {
  TempRoot r;
  r.write("f", "");
  auto fd = make_in_root(r.fd, "/f/sub", TargetKind::directory);
  BOOST_TEST_REQUIRE(!fd);
  BOOST_TEST(fd.error().errnum == ENOTDIR);
  BOOST_TEST(fd.error().step.rfind("create /f/sub in the container's root", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(make_follows_dangling_absolute_symlink_inside_the_root) {
  TempRoot r;
  const std::string name = unique_name();
  BOOST_TEST_REQUIRE(!exists("/" + name));
  r.symlink("/" + name + "/inner", "dl");
  auto fd = make_in_root(r.fd, "/dl/sub", TargetKind::directory);
  BOOST_TEST_REQUIRE(bool(fd));
  BOOST_TEST(S_ISDIR(mode_of(r.at(name + "/inner/sub"))));
  BOOST_TEST(same_file(fd->get(), r.at(name + "/inner/sub")));
  BOOST_TEST(!exists("/" + name));  // nothing on the host
  BOOST_TEST(S_ISLNK(mode_of(r.at("dl"))));  // the link is left alone
}

BOOST_AUTO_TEST_CASE(make_follows_dangling_relative_symlink) {
  TempRoot r;
  r.mkdir("a");
  r.symlink("../b/c", "a/rel");
  auto fd = make_in_root(r.fd, "/a/rel/d", TargetKind::directory);
  BOOST_TEST_REQUIRE(bool(fd));
  BOOST_TEST(S_ISDIR(mode_of(r.at("b/c/d"))));
  BOOST_TEST(same_file(fd->get(), r.at("b/c/d")));
}

BOOST_AUTO_TEST_CASE(make_relative_symlink_escaping_stays_inside) {
  TempRoot r;
  const std::string name = unique_name();
  r.mkdir("a");
  r.symlink("../../../../../../" + name, "a/esc");
  auto fd = make_in_root(r.fd, "/a/esc/x", TargetKind::directory);
  BOOST_TEST_REQUIRE(bool(fd));
  BOOST_TEST(same_file(fd->get(), r.at(name + "/x")));
  BOOST_TEST(!exists("/" + name));
  BOOST_TEST(!exists("/tmp/" + name));
}

BOOST_AUTO_TEST_CASE(make_file_through_dangling_symlink) {
  TempRoot r;
  r.symlink("/files/x.conf", "fl");
  auto fd = make_in_root(r.fd, "/fl", TargetKind::file);
  BOOST_TEST_REQUIRE(bool(fd));
  BOOST_TEST(S_ISREG(mode_of(r.at("files/x.conf"))));
  BOOST_TEST(same_file(fd->get(), r.at("files/x.conf")));
  BOOST_TEST(!exists("/files/x.conf"));
}

BOOST_AUTO_TEST_CASE(make_through_existing_symlink) {
  TempRoot r;
  r.mkdir("real");
  r.symlink("/real", "ln");
  auto fd = make_in_root(r.fd, "/ln/new", TargetKind::file);
  BOOST_TEST_REQUIRE(bool(fd));
  BOOST_TEST(S_ISREG(mode_of(r.at("real/new"))));
}

BOOST_AUTO_TEST_CASE(make_symlink_loop_fails) {
  TempRoot r;
  r.symlink("/l2", "l1");
  r.symlink("/l1", "l2");
  auto fd = make_in_root(r.fd, "/l1/x", TargetKind::directory);
  BOOST_TEST_REQUIRE(!fd);
  BOOST_TEST(fd.error().errnum == ELOOP);
}

// A destination with ".." is resolved by name first: "/x/../dev" is the
// root's /dev, and the plan sees it as "/dev" (see test_plan).
BOOST_AUTO_TEST_CASE(make_with_dot_dot_lands_on_the_cleaned_path) {
  TempRoot r;
  r.mkdir("dev");
  auto fd = make_in_root(r.fd, "/x/../dev", TargetKind::directory);
  BOOST_TEST_REQUIRE(bool(fd));
  BOOST_TEST(same_file(fd->get(), r.at("dev")));
  BOOST_TEST(clean_path("/x/../dev") == "/dev");
}
