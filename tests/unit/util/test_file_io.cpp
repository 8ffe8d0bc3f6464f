// Reads of files the runtime does not control (config.json, policies, the
// state root, an image's /etc/passwd): only regular files, never blocking,
// never more than a bound.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/util/fd.hpp"
#include "runtime/util/file_io.hpp"
#include "support/checks.hpp"

using namespace agentrun;

BOOST_AUTO_TEST_CASE(a_regular_file_is_read_whole) {
  TempDir t("file-io");
  std::ofstream(t.path + "/f") << "root:x:0:0::/root:/bin/sh\n";
  auto text = read_regular_file(AT_FDCWD, t.path + "/f", 100);
  BOOST_TEST_REQUIRE(static_cast<bool>(text));
  BOOST_TEST(*text == "root:x:0:0::/root:/bin/sh\n");
}

BOOST_AUTO_TEST_CASE(a_longer_file_is_refused) {
  TempDir t("file-io");
  std::ofstream(t.path + "/f") << std::string(20000, 'x');
  auto text = read_regular_file(AT_FDCWD, t.path + "/f", 10000);
  BOOST_TEST_REQUIRE(!text);
  BOOST_TEST(text.error().message() == "read " + t.path + "/f: longer than 10000 bytes");
  BOOST_TEST(static_cast<bool>(read_regular_file(AT_FDCWD, t.path + "/f", 20000)));
}

// A link to /dev/zero would be read for ever, a FIFO without a writer would
// block for ever: neither is read.
BOOST_AUTO_TEST_CASE(a_device_or_a_fifo_is_refused_without_blocking) {
  TempDir t("file-io");
  BOOST_TEST_REQUIRE(::symlink("/dev/zero", (t.path + "/zero").c_str()) == 0);
  auto zero = read_regular_file(AT_FDCWD, t.path + "/zero", kMaxInputBytes);
  BOOST_TEST_REQUIRE(!zero);
  BOOST_TEST(zero.error().message() == "read " + t.path + "/zero: not a regular file");
  BOOST_TEST_REQUIRE(::mkfifo((t.path + "/fifo").c_str(), 0600) == 0);
  auto fifo = read_regular_file(AT_FDCWD, t.path + "/fifo", kMaxInputBytes);
  BOOST_TEST_REQUIRE(!fifo);
  BOOST_TEST(fifo.error().message() == "read " + t.path + "/fifo: not a regular file");
  BOOST_TEST(!read_regular_file(AT_FDCWD, t.path, kMaxInputBytes));  // a directory
  // O_NOFOLLOW, for the state root: a link is not followed at all.
  std::ofstream(t.path + "/real") << "{}";
  BOOST_TEST_REQUIRE(::symlink("real", (t.path + "/link").c_str()) == 0);
  BOOST_TEST(!read_regular_file(AT_FDCWD, t.path + "/link", kMaxInputBytes, O_NOFOLLOW));
  BOOST_TEST(static_cast<bool>(read_regular_file(AT_FDCWD, t.path + "/link", kMaxInputBytes)));
}

BOOST_AUTO_TEST_CASE(an_input_file_error_names_the_file) {
  TempDir t("file-io");
  BOOST_CHECK_EXCEPTION(read_input_file(t.path + "/config.json", "config.json"), Failure,
                        Message{"read config.json " + t.path + "/config.json: no such file or directory"});
  BOOST_TEST_REQUIRE(::mkfifo((t.path + "/config.json").c_str(), 0600) == 0);
  BOOST_CHECK_EXCEPTION(read_input_file(t.path + "/config.json", "config.json"), Failure,
                        Message{"read config.json " + t.path + "/config.json: not a regular file"});
}

namespace {

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

// replace_file(dirfd, "f", "new") in a child whose fsync(2) fails with EIO,
// on `dirfd` alone (`on_dir`) or on every other descriptor: what it
// returned, "" for success.
std::string replace_with_failing_fsync(int dirfd, const std::string& dir, bool on_dir) {
  int pipe_fds[2];
  BOOST_TEST_REQUIRE(::pipe(pipe_fds) == 0);
  const int code = run_confined_child(
      [&] {
        scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
        const bool ok = ctx &&
                        ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EIO), SCMP_SYS(fsync), 1,
                                           SCMP_A0(on_dir ? SCMP_CMP_EQ : SCMP_CMP_NE, static_cast<scmp_datum_t>(dirfd))) == 0 &&
                        ::seccomp_load(ctx) == 0;
        ::seccomp_release(ctx);
        return ok;
      },
      [&] {
        const Status s = replace_file(dirfd, "f", "new", dir);
        const std::string said = s ? "" : s.error().message();
        return ::write(pipe_fds[1], said.data(), said.size()) == static_cast<ssize_t>(said.size()) ? 0 : 1;
      });
  ::close(pipe_fds[1]);
  char buf[4096];
  const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
  ::close(pipe_fds[0]);
  BOOST_TEST_REQUIRE(code == 0);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(replace_file_leaves_the_new_file_alone) {
  TempDir t("file-io");
  std::ofstream(t.path + "/f") << "old";
  // A temporary left by a writer that had this pid and died mid-write.
  std::ofstream(t.path + "/f.agentrun-tmp." + std::to_string(::getpid())) << "half";
  BOOST_TEST_REQUIRE(static_cast<bool>(replace_file(AT_FDCWD, t.path + "/f", "new", "", 0600)));
  BOOST_TEST(read_file(t.path + "/f") == "new");
  BOOST_TEST(names_in(t.path) == std::vector<std::string>{"f"});
  struct stat st;
  BOOST_TEST_REQUIRE(::stat((t.path + "/f").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  const Status missing = replace_file(AT_FDCWD, t.path + "/no/f", "x");
  BOOST_TEST_REQUIRE(!missing);
  BOOST_TEST(missing.error().message() ==
             "write " + t.path + "/no/f.agentrun-tmp." + std::to_string(::getpid()) + ": no such file or directory");
}

// Durable, not only atomic: the data is flushed before the rename (a flush
// that fails leaves the old file and no temporary), and the directory after
// it (the rename itself reaches the disk). Observed through fsync(2) made to
// fail in a child.
BOOST_AUTO_TEST_CASE(replace_file_flushes_the_file_then_its_directory) {
  TempDir t("file-io");
  const UniqueFd dir(::open(t.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  BOOST_TEST_REQUIRE(dir.valid());
  std::ofstream(t.path + "/f") << "old";

  const std::string file_flush = replace_with_failing_fsync(dir.get(), t.path, false);
  BOOST_TEST(file_flush.rfind("flush " + t.path + "/f.agentrun-tmp.", 0) == 0, file_flush);
  BOOST_TEST(file_flush.find(" to disk: input/output error") != std::string::npos, file_flush);
  BOOST_TEST(read_file(t.path + "/f") == "old");
  BOOST_TEST(names_in(t.path) == std::vector<std::string>{"f"});

  const std::string dir_flush = replace_with_failing_fsync(dir.get(), t.path, true);
  BOOST_TEST(dir_flush == "flush directory " + t.path + " to disk: input/output error");
  BOOST_TEST(read_file(t.path + "/f") == "new");
  BOOST_TEST(names_in(t.path) == std::vector<std::string>{"f"});
}
