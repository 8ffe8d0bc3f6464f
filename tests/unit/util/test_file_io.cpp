// Reads of files the runtime does not control (config.json, policies, the
// state root, an image's /etc/passwd): only regular files, never blocking,
// never more than a bound.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

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
