// The cgroup layer against this host's kernel: cgroups are made only under
// the test process's own cgroup in each hierarchy, and removed again.
#include <boost/test/unit_test.hpp>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/cgroup/cgroupfs.hpp"
#include "runtime/cgroup/device_bpf.hpp"
#include "runtime/cgroup/host_cgroup_fs.hpp"
#include "runtime/cgroup/host_layout.hpp"
#include "runtime/util/file_io.hpp"
#include "spec/error.hpp"
#include "support/files.hpp"
#include "support/needs.hpp"
#include "support/wait.hpp"

using namespace agentrun;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> own_cgroups() {
  return parse_proc_cgroup(read_whole_file(AT_FDCWD, "/proc/self/cgroup").or_throw());
}

// A child that waits for `go`, reports whether it may open /dev/null and
// /dev/zero (0 or the errno) and then counts until it is killed.
struct Child {
  pid_t pid = -1;
  int go = -1;
  int report = -1;
  std::atomic<uint64_t>* counter = nullptr;

  Child() {
    void* shared = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_REQUIRE(shared != MAP_FAILED);
    counter = new (shared) std::atomic<uint64_t>(0);
    int to_child[2], from_child[2];
    BOOST_REQUIRE(::pipe2(to_child, O_CLOEXEC) == 0 && ::pipe2(from_child, O_CLOEXEC) == 0);
    pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      char c;
      if (::read(to_child[0], &c, 1) != 1) ::_exit(1);
      int results[2];
      const char* paths[2] = {"/dev/null", "/dev/zero"};
      for (int i = 0; i < 2; ++i) {
        const int fd = ::open(paths[i], O_RDONLY | O_CLOEXEC);
        results[i] = fd >= 0 ? 0 : errno;
        if (fd >= 0) ::close(fd);
      }
      if (::write(from_child[1], results, sizeof results) != sizeof results) ::_exit(1);
      for (;;) counter->fetch_add(1, std::memory_order_relaxed);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    go = to_child[1];
    report = from_child[0];
  }
  // Lets the child run; returns its open() results.
  std::pair<int, int> start() {
    BOOST_REQUIRE(::write(go, "x", 1) == 1);
    int results[2] = {-1, -1};
    BOOST_REQUIRE(::read(report, results, sizeof results) == static_cast<ssize_t>(sizeof results));
    return {results[0], results[1]};
  }
  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
  ~Child() {
    stop();
    ::close(go);
    ::close(report);
    ::munmap(counter, 4096);
  }
};

// Whatever happens in a test, the child dies and the cgroups go.
struct Cleanup {
  CgroupfsManager& cg;
  Child& child;
  ~Cleanup() {
    try {
      if (cg.frozen()) cg.thaw();
    } catch (const Failure&) {
    }
    child.stop();
    const auto dirs = cg.dirs();
    try {
      cg.destroy();
    } catch (const Failure& e) {
      BOOST_ERROR("cleanup: " << e.what());
    }
    for (const auto& [controller, dir] : dirs)
      if (fs::exists(dir)) BOOST_ERROR("left behind: cgroup " << dir);
  }
};

// The counter moves while thawed and stops while frozen.
void check_freeze(CgroupfsManager& cg, Child& child) {
  using namespace std::chrono_literals;
  test::wait_for([&] { return child.counter->load() > 0u; }, 5s, "the child to count");
  cg.freeze();
  BOOST_TEST(cg.frozen());
  const uint64_t frozen_at = child.counter->load();
  BOOST_TEST(test::stays_for([&] { return child.counter->load() == frozen_at; }, 200ms));
  cg.thaw();
  BOOST_TEST(!cg.frozen());
  test::wait_for([&] { return child.counter->load() > frozen_at; }, 5s, "the thawed child to count on");
}

}  // namespace

BOOST_AUTO_TEST_CASE(v1_hierarchies_of_this_host, *test::needs(test::host::cgroup_v1) *
                                                      test::needs_cgroup("memory") * test::needs_cgroup("pids") *
                                                      test::needs_cgroup("cpuset") * test::needs_cgroup("devices")) {
  const auto layout = detect_cgroup_layout();
  const std::string name = "agentrun-test-" + std::to_string(::getpid());
  auto cg = CgroupfsManager::plan(layout, own_cgroups(), name, name, std::make_shared<HostCgroupFs>());
  Child child;
  Cleanup cleanup{*cg, child};
  cg->create();
  for (const auto& [controller, dir] : cg->dirs()) BOOST_TEST(fs::is_directory(dir), controller);

  spec::Resources r;
  r.pidsLimit = 5;
  r.memory = spec::MemoryResources{};
  r.memory->limit = 32 << 20;
  r.cpu = spec::CpuResources{};
  r.cpu->shares = 512;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, 3, "rwm"}};
  cg->apply(r);
  const auto& d = cg->dirs();
  BOOST_TEST(test::read_file(d.at("pids") + "/pids.max") == "5\n");
  BOOST_TEST(test::read_file(d.at("memory") + "/memory.limit_in_bytes") == "33554432\n");
  BOOST_TEST(test::read_file(d.at("cpu") + "/cpu.shares") == "512\n");
  BOOST_TEST(test::read_file(d.at("cpuset") + "/cpuset.cpus") == "0\n");
  BOOST_TEST(test::read_file(d.at("devices") + "/devices.list") == "c 1:3 rwm\n");

  cg->add_process(child.pid);
  const auto [null_result, zero_result] = child.start();
  BOOST_TEST(null_result == 0);
  BOOST_TEST(zero_result == EPERM);
  BOOST_TEST((cg->processes() == std::vector<pid_t>{child.pid}));
  BOOST_TEST(test::read_file(d.at("pids") + "/cgroup.procs") == std::to_string(child.pid) + "\n");

  check_freeze(*cg, child);

  rapidjson::Document stats;
  stats.Parse(cg->stats_json(name).c_str());
  BOOST_TEST_REQUIRE(stats.IsObject());
  BOOST_TEST(stats["id"].GetString() == name);
  BOOST_TEST(stats["data"]["memory"]["usage"]["usage"].GetUint64() > 0u);
  BOOST_TEST(stats["data"]["memory"]["usage"]["limit"].GetUint64() == 32u << 20);
  BOOST_TEST(stats["data"]["pids"]["current"].GetUint64() == 1u);
  BOOST_TEST(stats["data"]["pids"]["limit"].GetUint64() == 5u);
  BOOST_TEST(stats["data"]["cpu"]["usage"]["total"].GetUint64() > 0u);
  BOOST_TEST(cg->oom_kill_count() == 0u);

  child.stop();
  const auto dirs = cg->dirs();
  cg->destroy();
  for (const auto& [controller, dir] : dirs) BOOST_TEST(!fs::exists(dir), controller);
}

BOOST_AUTO_TEST_CASE(v2_device_filter_and_freeze, *test::needs(test::host::cgroup_v2)) {
  auto layout = detect_cgroup_layout();
  layout.mode = CgroupMode::v2;  // the unified hierarchy alone
  layout.v1.clear();
  const std::string name = "agentrun-test-v2-" + std::to_string(::getpid());
  auto cg = CgroupfsManager::plan(layout, own_cgroups(), name, name, std::make_shared<HostCgroupFs>());
  Child child;
  Cleanup cleanup{*cg, child};
  cg->create();
  spec::Resources r;
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, 3, "rwm"}};
  cg->apply(r);
  cg->add_process(child.pid);
  const auto [null_result, zero_result] = child.start();
  BOOST_TEST(null_result == 0);
  BOOST_TEST(zero_result == EPERM);
  BOOST_TEST((cg->processes() == std::vector<pid_t>{child.pid}));
  check_freeze(*cg, child);

  // An update replaces the filter rather than adding a stricter one.
  r.devices.push_back({true, "c", 1, 5, "r"});
  cg->apply(r);
  Child second;
  cg->add_process(second.pid);
  const auto [null_again, zero_now] = second.start();
  BOOST_TEST(null_again == 0);
  BOOST_TEST(zero_now == 0);
  second.stop();
  child.stop();
  const std::string dir = cg->dirs().at("");
  cg->destroy();
  BOOST_TEST(!fs::exists(dir));
}

BOOST_AUTO_TEST_CASE(verifier_refusal_is_explained) {
  const std::vector<bpf_insn> no_exit = {bpf_insn{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1}};
  try {
    attach_device_filter(-1, no_exit);
    BOOST_ERROR("a program without exit was loaded");
  } catch (const Failure& e) {
    const std::string text = e.what();
    BOOST_TEST(text.rfind("cgroup devices: load BPF device filter: verifier: ", 0) == 0, text);
  }
}
