// A config with no mount namespace, under `oci`: as crun, the container
// shares the runtime's mount namespace and enters its root by chroot; unlike
// crun, nothing is mounted or created there (the host's mount table and the
// rootfs stay as they were), and what that leaves out is named in a warning.
#include <boost/test/unit_test.hpp>

#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <stdexcept>
#include <string>

#include "support/console.hpp"
#include "support/harness.hpp"

using test::Sandbox;

namespace {

// The runtime's mount namespace is this test's: a private copy of the
// host's, so that other tests mounting on this host cannot change the
// mount table checked here. Before any thread: unshare refuses a process
// whose threads share its file-system context.
struct OwnMountNamespace {
  OwnMountNamespace() {
    if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
      throw std::runtime_error(std::string("a private mount namespace for the test: ") + ::strerror(errno));
  }
};
BOOST_TEST_GLOBAL_FIXTURE(OwnMountNamespace);

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

rapidjson::Document chroot_config(const std::vector<std::string>& args) {
  auto cfg = test::base_config(args);
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}])");
  return cfg;
}

// Every entry below `dir` with its type, symlinks not followed.
std::string tree(const std::string& dir) {
  std::string out;
  namespace fs = std::filesystem;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out += e.path().string() + " " + std::to_string(static_cast<int>(e.symlink_status().type())) + "\n";
  return out;
}

std::string link_of(const std::string& path) {
  char buf[PATH_MAX] = {};
  BOOST_TEST_REQUIRE(::readlink(path.c_str(), buf, sizeof buf - 1) > 0, path);
  return buf;
}

// A file only the rootfs has.
void put_marker(const Sandbox& s) { std::ofstream(s.rootfs + "/marker") << "from-the-rootfs\n"; }

// `ls /` as the rootfs holds it, not the host's root.
std::string rootfs_listing(const Sandbox& s) { return test::run_process({"/bin/ls", s.rootfs}).out; }

// What the container must never change, taken before it exists.
struct Untouched {
  explicit Untouched(const Sandbox& s) : s_(s), mountinfo_(test::read_file("/proc/self/mountinfo")), tree_(tree(s.rootfs)) {}
  void check() const {
    BOOST_TEST(test::read_file("/proc/self/mountinfo") == mountinfo_);
    BOOST_TEST(tree(s_.rootfs) == tree_);
    BOOST_TEST(s_.leftovers().empty());
  }
  const Sandbox& s_;
  std::string mountinfo_, tree_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_process_runs_in_the_rootfs_and_nothing_is_mounted_or_created) {
  Sandbox s;
  put_marker(s);
  Untouched untouched(s);
  s.write_config(chroot_config({"sh", "-c", "cat /marker; ls /; ls -A /dev | wc -l"}));
  const std::string log = s.dir + "/log.json";
  auto o = s.agentrun({"--log", log, "--log-format", "json", "run", "--bundle", s.bundle, "t"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  BOOST_TEST(contains(test::read_file(log), R"("level":"warning")"), test::read_file(log));
  BOOST_TEST(contains(test::read_file(log), "no mount namespace"), test::read_file(log));
  BOOST_TEST(o.out == "from-the-rootfs\n" + rootfs_listing(s) + "0\n");
  // The default spec's mounts, masks and /dev, each named once.
  BOOST_TEST(contains(o.err, "config.json: linux.namespaces: no mount namespace: the container shares the runtime's "
                             "and enters its root by chroot, as crun does; nothing is mounted or created, so these "
                             "are left out: mounts[0] /proc, mounts[1] /dev, mounts[2] /dev/pts"),
             o.err);
  BOOST_TEST(contains(o.err, "linux.maskedPaths, linux.readonlyPaths"), o.err);
  BOOST_TEST(contains(o.err, "the default /dev (device nodes and links)"), o.err);
  untouched.check();
}

BOOST_AUTO_TEST_CASE(the_init_shares_the_mount_namespace_and_exec_enters_its_root) {
  Sandbox s;
  put_marker(s);
  Untouched untouched(s);
  s.write_config(chroot_config({"sleep", "60"}));
  auto o = s.agentrun({"run", "-d", "--bundle", s.bundle, "--pid-file", s.dir + "/d.pid", "d"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  const std::string proc = "/proc/" + test::read_file(s.dir + "/d.pid");
  BOOST_TEST(link_of(proc + "/ns/mnt") == link_of("/proc/self/ns/mnt"));
  char rootfs[PATH_MAX];
  BOOST_TEST_REQUIRE(::realpath(s.rootfs.c_str(), rootfs) != nullptr);
  BOOST_TEST(link_of(proc + "/root") == rootfs);
  auto inspected = s.agentrun({"inspect", "d"});
  BOOST_TEST(contains(inspected.out, "linux.namespaces: no mount namespace: "), inspected.out);

  auto e = s.agentrun({"exec", "--cwd", "/etc", "d", "sh", "-c", "cat /marker; pwd; ls /"});
  BOOST_TEST(e.code == 0, e.err);
  BOOST_TEST(e.out == "from-the-rootfs\n/etc\n" + rootfs_listing(s));
  BOOST_TEST(s.agentrun({"delete", "--force", "d"}).code == 0);
  untouched.check();
}

BOOST_AUTO_TEST_CASE(a_missing_cwd_is_an_error_not_created) {
  Sandbox s;
  Untouched untouched(s);
  auto cfg = chroot_config({"true"});
  test::set_string(cfg, "/process/cwd", "/nosuch/dir");
  auto o = s.run(cfg);
  BOOST_TEST(o.code != 0);
  BOOST_TEST(contains(o.err, "config.json: process.cwd /nosuch/dir: it does not exist in the rootfs, and without a "
                             "mount namespace nothing "
                             "is created there"),
             o.err);
  untouched.check();
}

// The pty comes from the host's devpts; nothing is bound over /dev/console.
BOOST_AUTO_TEST_CASE(a_terminal_reaches_the_console_socket) {
  Sandbox s;
  Untouched untouched(s);
  auto cfg = chroot_config({"sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo on-a-terminal; echo done; sleep 30"});
  test::set_json(cfg, "/process/terminal", "true");
  s.write_config(cfg);
  const std::string sock = s.dir + "/console.sock";
  int listener = test::listen_at(sock);
  auto create = std::async(std::launch::async, [&] {
    return s.agentrun({"create", "--bundle", s.bundle, "--console-socket", sock, "tty"});
  });
  int master = test::receive_fd(listener);
  auto created = create.get();
  ::close(listener);
  BOOST_TEST_REQUIRE(created.code == 0, created.err);
  BOOST_TEST_REQUIRE(master >= 0);
  BOOST_TEST(contains(created.err, "/dev/console"), created.err);
  BOOST_TEST_REQUIRE(s.agentrun({"start", "tty"}).code == 0);
  const std::string out = test::read_until(master, "done");
  BOOST_TEST(contains(out, "on-a-terminal"), out);
  ::close(master);
  ::unlink(sock.c_str());
  BOOST_TEST(s.agentrun({"delete", "--force", "tty"}).code == 0);
  untouched.check();
}

BOOST_AUTO_TEST_CASE(exec_with_a_terminal_enters_the_root_too) {
  Sandbox s;
  put_marker(s);
  Untouched untouched(s);
  s.write_config(chroot_config({"sleep", "60"}));
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "t"}).code == 0);
  const std::string sock = s.dir + "/console.sock";
  int listener = test::listen_at(sock);
  auto exec = std::async(std::launch::async, [&] {
    return s.agentrun({"exec", "-t", "--console-socket", sock, "t", "sh", "-c",
                       "[ -t 0 ] && echo on-a-terminal; cat /marker; echo done"});
  });
  int master = test::receive_fd(listener);
  BOOST_TEST_REQUIRE(master >= 0);
  const std::string out = test::read_until(master, "done");
  BOOST_TEST(contains(out, "on-a-terminal"), out);
  BOOST_TEST(contains(out, "from-the-rootfs"), out);
  BOOST_TEST(exec.get().code == 0);
  ::close(master);
  ::close(listener);
  ::unlink(sock.c_str());
  BOOST_TEST(s.agentrun({"delete", "--force", "t"}).code == 0);
  untouched.check();
}

BOOST_AUTO_TEST_CASE(an_agent_policy_refuses_it) {
  Sandbox s;
  s.policy = "agent-default";
  Untouched untouched(s);
  auto o = s.run(chroot_config({"true"}));
  BOOST_TEST(o.code != 0);
  BOOST_TEST(contains(o.err, "policy agent-default: requires mount-ns: config.json shares the host's mount namespace"),
             o.err);
  untouched.check();
}

// Its rules would need mounts: a policy that does not require mount-ns refuses it too.
BOOST_AUTO_TEST_CASE(any_policy_with_rules_refuses_it) {
  Sandbox s;
  s.policy = s.dir + "/rules.json";
  std::ofstream(s.policy) << R"({"agentrunPolicy": 1, "name": "rules", "isolation": "best-effort",
                                 "filesystem": {"denyRead": ["/etc/shadow"]}})";
  Untouched untouched(s);
  auto o = s.run(chroot_config({"true"}));
  BOOST_TEST(o.code != 0);
  BOOST_TEST(contains(o.err, "config.json: linux.namespaces: a mount namespace (created or joined) is required"), o.err);
  untouched.check();
}

BOOST_AUTO_TEST_CASE(in_a_user_namespace_too) {
  Sandbox s;
  put_marker(s);
  test::run_process({"/bin/chown", "-R", "100000:100000", s.rootfs});
  Untouched untouched(s);
  auto cfg = chroot_config({"sleep", "60"});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "pid"}, {"type": "uts"}, {"type": "user"}])");
  test::set_json(cfg, "/linux/uidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  test::set_json(cfg, "/linux/gidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  s.write_config(cfg);
  auto o = s.agentrun({"run", "-d", "--bundle", s.bundle, "u"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  auto e = s.agentrun({"exec", "u", "sh", "-c", "cat /marker; id -u"});
  BOOST_TEST(e.code == 0, e.err);
  BOOST_TEST(e.out == "from-the-rootfs\n0\n");
  BOOST_TEST(s.agentrun({"delete", "--force", "u"}).code == 0);
  untouched.check();
}
