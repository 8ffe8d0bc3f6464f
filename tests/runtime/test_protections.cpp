// The runtime's own attack surface while a container is created: the init
// must not expose the host binary, be inspectable, or hold runtime files.
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "support/harness.hpp"

using test::Sandbox;

namespace {

int created_init(const Sandbox& s, const rapidjson::Document& cfg, const std::string& id) {
  s.write_config(cfg);
  auto o = s.agentrun({"create", "--bundle", s.bundle, "--pid-file", s.dir + "/" + id + ".pid", id});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  return std::stoi(test::read_file(s.dir + "/" + id + ".pid"));
}

std::string link_of(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

}  // namespace

// The binary the init runs is on a read-only mount (or a sealed memfd):
// nothing in the container can write the host's agentrun through /proc/PID/exe.
BOOST_AUTO_TEST_CASE(init_runs_from_an_unwritable_binary) {
  Sandbox s;
  const int pid = created_init(s, test::base_config({"true"}), "exe");
  const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  int fd = ::open(exe.c_str(), O_RDONLY);
  BOOST_TEST_REQUIRE(fd >= 0);
  struct statvfs vfs;
  BOOST_TEST_REQUIRE(::fstatvfs(fd, &vfs) == 0);
  const bool sealed = ::fcntl(fd, F_GET_SEALS) > 0;
  BOOST_TEST(((vfs.f_flag & ST_RDONLY) != 0 || sealed), "neither a read-only mount nor a sealed memfd");
  // Reopened for writing through the descriptor, as an attacker holding it would once it is no longer busy.
  int w = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_WRONLY);
  BOOST_TEST(w < 0, "the runtime binary seen by the container is writable");
  BOOST_TEST((errno == EROFS || errno == ETXTBSY || errno == EPERM), errno);
  if (w >= 0) ::close(w);
  ::close(fd);
  struct stat before, after;
  BOOST_TEST_REQUIRE(::stat(AGENTRUN_BINARY, &before) == 0);
  BOOST_TEST(s.agentrun({"delete", "exe"}).code == 0);
  BOOST_TEST_REQUIRE(::stat(AGENTRUN_BINARY, &after) == 0);
  BOOST_TEST(before.st_mtime == after.st_mtime);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(init_holds_no_runtime_files) {
  Sandbox s;
  const int pid = created_init(s, test::base_config({"true"}), "fds");
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  BOOST_TEST_REQUIRE(d != nullptr);
  std::vector<std::string> targets;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') targets.push_back(std::string(e->d_name) + " -> " + link_of(dir + "/" + e->d_name));
  ::closedir(d);
  for (const auto& t : targets) {
    BOOST_TEST(t.find(s.root) == std::string::npos, t);  // no state directory (its lock) or state file
    BOOST_TEST(t.find(".json") == std::string::npos, t);
  }
  // stdio, the start listener and the sync socket; nothing else of the runtime's.
  BOOST_TEST(targets.size() <= 5u, targets.size());
  BOOST_TEST(s.agentrun({"delete", "fds"}).code == 0);
}

BOOST_AUTO_TEST_CASE(init_in_a_user_namespace_is_not_dumpable) {
  Sandbox s;
  test::run_process({"/bin/chown", "-R", "100000:100000", s.rootfs});
  auto cfg = test::base_config({"true"});
  cfg["linux"]["namespaces"].PushBack(
      rapidjson::Value(rapidjson::kObjectType).AddMember("type", "user", cfg.GetAllocator()), cfg.GetAllocator());
  test::set_json(cfg, "/linux/uidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  test::set_json(cfg, "/linux/gidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  const int pid = created_init(s, cfg, "dump");
  // Its credentials are the mapped root's; a dumpable process's /proc files would be owned by it.
  // (Both PR_SET_DUMPABLE in create and the uid change in the init make it non-dumpable.)
  const std::string status = test::read_file("/proc/" + std::to_string(pid) + "/status");
  BOOST_TEST(status.find("Uid:\t100000") != std::string::npos, status);
  struct stat st;
  BOOST_TEST_REQUIRE(::stat(("/proc/" + std::to_string(pid) + "/environ").c_str(), &st) == 0);
  BOOST_TEST(st.st_uid == 0u);
  BOOST_TEST(s.agentrun({"delete", "dump"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}
