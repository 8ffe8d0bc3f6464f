#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "runtime/cgroup/cgroupfs.hpp"
#include "runtime/cgroup/drivers.hpp"
#include "runtime/cgroup/host_cgroup_fs.hpp"
#include "runtime/cgroup/host_layout.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"
#include "support/files.hpp"

using namespace agentrun;
namespace fs = std::filesystem;

namespace {

// Imitates cgroupfs on a plain directory tree: a new directory gets (empty)
// files named like its parent's, and removing a directory removes them.
class FakeCgroupFs : public HostCgroupFs {
 public:
  int make_dir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) != 0) return errno;
    for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
      if (e.is_regular_file()) std::ofstream(fs::path(path) / e.path().filename());
    return 0;
  }
  int remove_dir(const std::string& path) override {
    if (auto it = remove_errors.find(path); it != remove_errors.end()) return it->second;
    std::error_code ec;
    if (fs::is_directory(path, ec))
      for (const auto& e : fs::directory_iterator(path))
        if (e.is_regular_file()) fs::remove(e.path());
    return ::rmdir(path.c_str()) == 0 ? 0 : errno;
  }
  int read_file(const std::string& path, std::string& out) override {
    reads.push_back(path);
    if (auto it = read_errors.find(path); it != read_errors.end()) return it->second;
    return HostCgroupFs::read_file(path, out);
  }
  int write_file(const std::string& path, const std::string& value) override {
    writes.emplace_back(fs::path(path).filename(), value);
    if (auto it = write_errors.find(path); it != write_errors.end()) return it->second;
    return HostCgroupFs::write_file(path, value);
  }

  std::map<std::string, int> read_errors;                    // path -> errno its read fails with
  std::map<std::string, int> write_errors;                   // path -> errno its write fails with
  std::vector<std::string> reads;                           // paths, in order
  std::map<std::string, int> remove_errors;                  // path -> errno its rmdir fails with
  std::vector<std::pair<std::string, std::string>> writes;  // (file name, value), in order
};

const auto& put = test::put_file;

// A v1 host like this one, in `root`: the caller's memory cgroup is /own.
CgroupLayout fake_v1(const std::string& root) {
  const std::map<std::string, std::vector<std::string>> files = {
      {"memory",
       {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.usage_in_bytes",
        "memory.max_usage_in_bytes", "memory.failcnt", "memory.stat", "memory.oom_control"}},
      {"cpu,cpuacct", {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.stat", "cpuacct.usage",
                       "cpuacct.usage_percpu", "cpuacct.stat"}},
      {"cpuset", {"cpuset.cpus", "cpuset.mems"}},
      {"pids", {"pids.max", "pids.current"}},
      {"freezer", {"freezer.state"}},
      {"devices", {"devices.allow", "devices.deny"}},
      {"blkio", {}},
      {"systemd", {}}};
  for (const auto& [h, names] : files) {
    put(root + "/" + h + "/cgroup.procs", "");
    for (const auto& n : names) put(root + "/" + h + "/" + n, "");
  }
  put(root + "/cpuset/cpuset.cpus", "0-1\n");
  put(root + "/cpuset/cpuset.mems", "0\n");
  FakeCgroupFs().make_dir(root + "/memory/own");
  CgroupLayout l;
  l.mode = CgroupMode::v1;
  for (const char* c : {"memory", "cpuset", "pids", "freezer", "devices", "blkio"}) l.v1[c] = root + "/" + c;
  l.v1["cpu"] = l.v1["cpuacct"] = root + "/cpu,cpuacct";
  l.v1["name=systemd"] = root + "/systemd";
  return l;
}

const std::map<std::string, std::string> kOwnV1 = {{"memory", "/own"}, {"cpu", "/"},     {"cpuacct", "/"},
                                                   {"cpuset", "/"},    {"pids", "/"},    {"freezer", "/"},
                                                   {"devices", "/"},   {"name=systemd", "/"},
                                                   {"blkio", "/"}};

}  // namespace

BOOST_AUTO_TEST_CASE(v1_lifecycle) {
  TempDir t("cgroup-test");
  const std::string r = t.path;
  auto fake = std::make_shared<FakeCgroupFs>();
  auto cg = CgroupfsManager::plan(fake_v1(r), kOwnV1, "", "c1", fake);
  BOOST_TEST(cg->dirs().at("memory") == r + "/memory/own/agentrun/c1");
  BOOST_TEST(cg->dirs().at("cpuacct") == r + "/cpu,cpuacct/agentrun/c1");
  BOOST_TEST(cg->dirs().at("name=systemd") == r + "/systemd/agentrun/c1");

  cg->create();
  BOOST_TEST(cg->created().size() == 8u);  // agentrun/c1 in eight hierarchies (agentrun/ is shared)
  BOOST_TEST(fs::is_directory(r + "/memory/own/agentrun/c1"));
  // New cpuset levels inherit the parent's cpus and mems.
  BOOST_TEST(read_file(r + "/cpuset/agentrun/cpuset.cpus") == "0-1");
  BOOST_TEST(read_file(r + "/cpuset/agentrun/c1/cpuset.mems") == "0");

  spec::Resources res;
  res.memory = spec::MemoryResources{};
  res.memory->limit = 1 << 20;
  res.memory->swap = 2 << 20;
  res.cpu = spec::CpuResources{};
  res.cpu->shares = 512;
  res.cpu->cpus = "1";
  res.pidsLimit = 5;
  res.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, 3, "rwm"}};
  cg->apply(res);
  const std::string mem = r + "/memory/own/agentrun/c1/";
  BOOST_TEST(read_file(mem + "memory.limit_in_bytes") == "1048576");
  BOOST_TEST(read_file(mem + "memory.memsw.limit_in_bytes") == "2097152");
  BOOST_TEST(read_file(r + "/cpu,cpuacct/agentrun/c1/cpu.shares") == "512");
  BOOST_TEST(read_file(r + "/cpuset/agentrun/c1/cpuset.cpus") == "1");
  BOOST_TEST(read_file(r + "/pids/agentrun/c1/pids.max") == "5");
  BOOST_TEST(read_file(r + "/devices/agentrun/c1/devices.deny") == "a *:* rwm");  // after "a"
  BOOST_TEST(read_file(r + "/devices/agentrun/c1/devices.allow") == "c 1:3 rwm");

  cg->add_process(1234);
  for (const char* h : {"memory/own", "cpu,cpuacct", "cpuset", "pids", "freezer", "devices", "blkio", "systemd"})
    BOOST_TEST(read_file(r + "/" + h + "/agentrun/c1/cgroup.procs") == "1234", h);
  put(r + "/pids/agentrun/c1/cgroup.procs", "1234\n1240\n");
  BOOST_TEST((cg->processes() == std::vector<pid_t>{1234, 1240}));

  cg->freeze();
  BOOST_TEST(read_file(r + "/freezer/agentrun/c1/freezer.state") == "FROZEN");
  BOOST_TEST(cg->frozen());
  cg->thaw();
  BOOST_TEST(read_file(r + "/freezer/agentrun/c1/freezer.state") == "THAWED");
  BOOST_TEST(!cg->frozen());

  put(mem + "memory.usage_in_bytes", "4096\n");
  put(mem + "memory.stat", "cache 1\nrss 2\n");
  put(mem + "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  put(r + "/pids/agentrun/c1/pids.current", "2\n");
  put(r + "/blkio/agentrun/c1/blkio.throttle.io_service_bytes_recursive", "8:0 Read 4096\n8:0 Write 512\nTotal 4608\n");
  put(r + "/cpu,cpuacct/agentrun/c1/cpuacct.usage", "123\n");
  put(r + "/cpu,cpuacct/agentrun/c1/cpuacct.usage_percpu", "100 23 \n");
  put(r + "/cpu,cpuacct/agentrun/c1/cpu.stat", "nr_periods 4\nnr_throttled 1\nthrottled_time 99\n");
  const std::string stats = cg->stats_json("c1");
  BOOST_TEST(stats.rfind(R"({"type":"stats","id":"c1","data":{"cpu":{"usage":{"total":123,"percpu":[100,23],)", 0) == 0,
             stats);
  BOOST_TEST(stats.find(R"("throttling":{"periods":4,"throttledPeriods":1,"throttledTime":99})") != std::string::npos);
  BOOST_TEST(stats.find(R"("memory":{"usage":{"usage":4096,"max":0,"limit":1048576,"failcnt":0})") != std::string::npos,
             stats);
  BOOST_TEST(stats.find(R"("raw":{"cache":1,"rss":2})") != std::string::npos);
  BOOST_TEST(stats.find(R"("pids":{"current":2,"limit":5})") != std::string::npos);
  BOOST_TEST(stats.find(R"("blkio":{"ioServiceBytesRecursive":[{"major":8,"minor":0,"op":"Read","value":4096},)"
                        R"({"major":8,"minor":0,"op":"Write","value":512}],"ioServicedRecursive":[]})") != std::string::npos,
             stats);
  BOOST_TEST(cg->oom_kill_count() == 3u);

  // The state file round trip keeps what destroy needs.
  auto again = CgroupfsManager::from_json(cg->to_json(), fake);
  BOOST_TEST(again->to_json() == cg->to_json());
  BOOST_TEST((again->dirs() == cg->dirs()));
  BOOST_TEST((again->created() == cg->created()));

  fake->make_dir(mem + "nested");  // made by the container itself
  again->destroy();
  // The shared agentrun/ stays.
  for (const char* h : {"memory/own", "cpu,cpuacct", "cpuset", "pids", "freezer", "devices", "blkio", "systemd"}) {
    BOOST_TEST(!fs::exists(r + "/" + h + "/agentrun/c1"), h);
    BOOST_TEST(fs::is_directory(r + "/" + h + "/agentrun"), h);
  }
  BOOST_TEST(fs::is_directory(r + "/memory/own"));
}

BOOST_AUTO_TEST_CASE(v1_shared_parent_and_errors) {
  TempDir t("cgroup-test");
  const std::string r = t.path;
  auto fake = std::make_shared<FakeCgroupFs>();
  const auto layout = fake_v1(r);
  auto a = CgroupfsManager::plan(layout, kOwnV1, "", "a", fake);
  auto b = CgroupfsManager::plan(layout, kOwnV1, "", "b", fake);
  a->create();
  b->create();
  // The shared agentrun/ is never a container's: a made it, but it is not a's to remove.
  BOOST_TEST(a->created().size() == 8u);
  BOOST_TEST(b->created().size() == 8u);
  a->destroy();
  BOOST_TEST(fs::is_directory(r + "/pids/agentrun/b"));
  BOOST_TEST(!fs::exists(r + "/pids/agentrun/a"));

  spec::Resources net;
  net.network = spec::NetworkResources{7, {}};
  expect_failure([&] { b->apply(net); },
                 "cgroup: controller \"net_cls\" is not available on this host (needed by linux.resources.network)");
  spec::Resources swappiness;
  swappiness.memory = spec::MemoryResources{};
  swappiness.memory->swappiness = 10;
  expect_failure([&] { b->apply(swappiness); }, "cgroup memory: write memory.swappiness = 10 in " + r +
                                                   "/memory/own/agentrun/b: no such file or directory");
  b->destroy();  // agentrun/ stays after the last one, as docker's docker/ does
  BOOST_TEST(!fs::exists(r + "/pids/agentrun/b"));
  BOOST_TEST(fs::is_directory(r + "/pids/agentrun"));

  expect_failure([&] { CgroupfsManager::plan(layout, {{"memory", "/"}}, "x", "x", fake); },
                 "cgroup: hierarchy \"blkio\" is mounted but this process's cgroup in it is not in /proc/self/cgroup");
  expect_failure([&] { CgroupfsManager::from_json(R"({"mode":"v3","dirs":{},"created":[],"unifiedControllers":[]})", fake); },
                 "state: cgroup: mode: not v1, hybrid or v2");
}

// A systemd scope's directories: those systemd made (memory here) and
// those of a create killed before it recorded any go with the scope.
// Only the default paths' agentrun/ is shared: parents create made for a
// cgroupsPath, one named agentrun among them, go with the container.
BOOST_AUTO_TEST_CASE(parents_made_for_a_cgroups_path_go_with_the_container) {
  TempDir t("cgroup-test");
  const std::string r = t.path;
  auto fake = std::make_shared<FakeCgroupFs>();
  auto cg = CgroupfsManager::plan(fake_v1(r), kOwnV1, "/team/agentrun/c3", "c3", fake);
  cg->create();
  BOOST_TEST(cg->created().size() == 24u);  // team, team/agentrun and the leaf in eight hierarchies
  cg->destroy();
  BOOST_TEST(!fs::exists(r + "/pids/team"));
  BOOST_TEST(!fs::exists(r + "/memory/team"));
}

BOOST_AUTO_TEST_CASE(owned_leaves_go_though_not_recorded) {
  TempDir t("cgroup-test");
  const std::string r = t.path;
  auto fake = std::make_shared<FakeCgroupFs>();
  const auto layout = fake_v1(r);
  auto early = CgroupfsManager::plan(layout, kOwnV1, "/system.slice/x.scope", "x", fake);
  const std::string recorded = early->to_json();  // before anything exists
  fake->make_dir(r + "/memory/system.slice");
  fake->make_dir(r + "/memory/system.slice/x.scope");
  early->create();
  BOOST_TEST(!early->created().empty());
  auto loaded = CgroupfsManager::from_json(recorded, fake);
  loaded->own_leaves();
  loaded->destroy();
  for (const char* h : {"memory", "cpu,cpuacct", "cpuset", "pids", "freezer", "devices", "blkio", "systemd"})
    BOOST_TEST(!fs::exists(r + "/" + h + "/system.slice/x.scope"), h);
  BOOST_TEST(fs::is_directory(r + "/memory/system.slice"));  // a parent it did not know it made
}

BOOST_AUTO_TEST_CASE(v2_lifecycle) {
  TempDir t("cgroup-test");
  const std::string r = t.path;
  for (const char* f : {"cgroup.procs", "cgroup.subtree_control", "cgroup.freeze", "cgroup.events", "memory.max",
                        "memory.current", "memory.stat", "memory.events", "cpu.weight", "cpu.max", "cpu.stat",
                        "io.max", "pids.max", "pids.current"})
    put(r + "/" + f, "");
  put(r + "/cgroup.controllers", "cpu io memory pids\n");
  CgroupLayout l;
  l.mode = CgroupMode::v2;
  l.unified = r;
  l.unified_controllers = {"cpu", "io", "memory", "pids"};
  auto fake = std::make_shared<FakeCgroupFs>();
  auto cg = CgroupfsManager::plan(l, {{"", "/"}}, "/test/c2", "c2", fake);
  BOOST_TEST(cg->dirs().size() == 1u);
  const std::string dir = r + "/test/c2/";
  BOOST_TEST(cg->dirs().at("") + "/" == dir);
  cg->create();

  spec::Resources res;
  res.memory = spec::MemoryResources{};
  res.memory->limit = 1 << 20;
  res.cpu = spec::CpuResources{};
  res.cpu->shares = 1024;
  res.blockIO = spec::BlockIoResources{};
  res.blockIO->throttleReadBpsDevice = {{8, 0, 1000}};
  res.blockIO->throttleWriteIOPSDevice = {{8, 0, 20}};
  cg->apply(res);
  BOOST_TEST(read_file(dir + "memory.max") == "1048576");
  BOOST_TEST(read_file(dir + "cpu.weight") == "39");
  BOOST_TEST(read_file(dir + "io.max") == "8:0 rbps=1000 wiops=20");
  // Controllers delegated by the created levels' parents (last one written).
  BOOST_TEST(read_file(r + "/cgroup.subtree_control") == "+io");
  BOOST_TEST(read_file(r + "/test/cgroup.subtree_control") == "+io");

  spec::Resources huge;
  huge.hugepageLimits = {{"2MB", 1}};
  expect_failure([&] { cg->apply(huge); },
                 "cgroup: controller \"hugetlb\" is not available on this host (needed by "
                 "linux.resources.hugepageLimits)");

  put(dir + "cgroup.events", "populated 1\nfrozen 1\n");
  cg->freeze();
  BOOST_TEST(read_file(dir + "cgroup.freeze") == "1");
  BOOST_TEST(cg->frozen());
  cg->thaw();
  BOOST_TEST(read_file(dir + "cgroup.freeze") == "0");
  BOOST_TEST(!cg->frozen());
  // Processes that never stop: pause gives up and thaws again.
  put(dir + "cgroup.events", "populated 1\nfrozen 0\n");
  expect_failure([&] { cg->freeze(); },
                 "cgroup freezer: freeze " + r + "/test/c2: the processes did not stop within 1s");
  BOOST_TEST(read_file(dir + "cgroup.freeze") == "0");

  put(dir + "memory.current", "8192\n");
  put(dir + "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
  put(dir + "memory.max", "max\n");
  put(dir + "memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");
  put(dir + "cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n");
  const std::string stats = cg->stats_json("c2");
  BOOST_TEST(stats.find(R"("cpu":{"usage":{"total":5000,"kernel":2000,"user":3000},)"
                        R"("throttling":{"periods":4,"throttledPeriods":1,"throttledTime":7000}})") != std::string::npos,
             stats);
  BOOST_TEST(stats.find(R"("usage":{"usage":8192,"max":0,"limit":18446744073709551615,"failcnt":2})") !=
                 std::string::npos,
             stats);
  BOOST_TEST(stats.find(R"({"major":8,"minor":0,"op":"Write","value":20})") != std::string::npos, stats);
  BOOST_TEST(stats.find(R"("ioServicedRecursive":[{"major":8,"minor":0,"op":"Read","value":1},)") !=
                 std::string::npos,
             stats);
  BOOST_TEST(cg->oom_kill_count() == 1u);

  auto again = CgroupfsManager::from_json(cg->to_json(), fake);
  BOOST_TEST(cgroup_mode_name(again->mode()) == std::string("v2"));
  again->destroy();
  BOOST_TEST(!fs::exists(r + "/test"));
  BOOST_TEST(fs::exists(r + "/cgroup.procs"));
}

BOOST_AUTO_TEST_CASE(hybrid_routes_unified_only_controllers) {
  TempDir t("cgroup-test");
  const std::string r = t.path;
  for (const char* f : {"memory/cgroup.procs", "memory/memory.limit_in_bytes", "unified/cgroup.procs",
                        "unified/cgroup.subtree_control", "unified/hugetlb.2MB.max", "unified/memory.high"})
    put(r + "/" + f, "");
  put(r + "/unified/cgroup.controllers", "hugetlb memory\n");
  CgroupLayout l;
  l.mode = CgroupMode::hybrid;
  l.v1["memory"] = r + "/memory";
  l.unified = r + "/unified";
  l.unified_controllers = {"hugetlb", "memory"};
  auto cg = CgroupfsManager::plan(l, {{"memory", "/"}, {"", "/"}}, "/h", "h", std::make_shared<FakeCgroupFs>());
  cg->create();
  spec::Resources res;
  res.memory = spec::MemoryResources{};
  res.memory->limit = 4096;
  res.hugepageLimits = {{"2MB", 2097152}};
  res.unified = {{"memory.high", "8192"}};
  cg->apply(res);
  BOOST_TEST(read_file(r + "/memory/h/memory.limit_in_bytes") == "4096");
  BOOST_TEST(read_file(r + "/unified/h/hugetlb.2MB.max") == "2097152");
  BOOST_TEST(read_file(r + "/unified/h/memory.high") == "8192");
  BOOST_TEST(read_file(r + "/unified/cgroup.subtree_control") == "+memory");  // after +hugetlb
  cg->add_process(77);
  BOOST_TEST(read_file(r + "/memory/h/cgroup.procs") == "77");
  BOOST_TEST(read_file(r + "/unified/h/cgroup.procs") == "77");
  cg->destroy();
  BOOST_TEST(!fs::exists(r + "/memory/h"));
  BOOST_TEST(!fs::exists(r + "/unified/h"));
}

BOOST_AUTO_TEST_CASE(the_accounting_only_directory) {
  TempDir t("cgroup-test");
  const std::string r = t.path;
  auto fake = std::make_shared<FakeCgroupFs>();
  // cpuacct shares its directory with cpu, which limits: name=systemd it is,
  // and the caller's own cgroup there, which exists before the container's.
  auto layout = fake_v1(r);
  auto own = kOwnV1;
  own["name=systemd"] = "/session-1.scope";
  BOOST_TEST(CgroupfsManager::plan(layout, own, "", "c1", fake)->accounting_only_dir() == r + "/systemd/session-1.scope");
  layout.v1.erase("name=systemd");
  BOOST_TEST(CgroupfsManager::plan(layout, kOwnV1, "", "c1", fake)->accounting_only_dir() == "");
  layout.v1["cpuacct"] = r + "/cpuacct";
  BOOST_TEST(CgroupfsManager::plan(layout, kOwnV1, "", "c1", fake)->accounting_only_dir() == r + "/cpuacct");
  // Loaded from a container's state (exec), the caller's is not known.
  const auto loaded = load_cgroups(CgroupfsManager::plan(layout, kOwnV1, "", "c1", fake)->to_json(), fake);
  BOOST_TEST(loaded->accounting_only_dir() == r + "/cpuacct/agentrun/c1");
  CgroupLayout v2;
  v2.mode = CgroupMode::v2;
  v2.unified = r;
  v2.unified_controllers = {"memory", "pids"};
  BOOST_TEST(CgroupfsManager::plan(v2, {{"", "/"}}, "", "c1", fake)->accounting_only_dir() == "");
}

BOOST_AUTO_TEST_CASE(v2_relative_paths_start_beside_the_callers_cgroup) {
  // The caller's own cgroup holds the caller: nothing below it could get a
  // controller, so relative paths start from its parent (as runc's).
  CgroupLayout v2;
  v2.mode = CgroupMode::v2;
  v2.unified = "/sys/fs/cgroup";
  v2.unified_controllers = {"memory", "pids"};
  auto fake = std::make_shared<FakeCgroupFs>();
  const std::map<std::string, std::string> own = {{"", "/user.slice/session-1.scope"}};
  BOOST_TEST(CgroupfsManager::plan(v2, own, "", "c1", fake)->dirs().at("") == "/sys/fs/cgroup/user.slice/agentrun/c1");
  BOOST_TEST(CgroupfsManager::plan(v2, own, "x/y", "c1", fake)->dirs().at("") == "/sys/fs/cgroup/user.slice/x/y");
  BOOST_TEST(CgroupfsManager::plan(v2, own, "/abs/c", "c1", fake)->dirs().at("") == "/sys/fs/cgroup/abs/c");
  BOOST_TEST(CgroupfsManager::plan(v2, {{"", "/"}}, "", "c1", fake)->dirs().at("") == "/sys/fs/cgroup/agentrun/c1");
}

BOOST_AUTO_TEST_CASE(v2_controllers_come_down_from_the_nearest_ancestor_that_has_them) {
  TempDir t("cgroup-test");
  const std::string r = t.path;
  // r delegates pids to "a" (a/cgroup.controllers has it); "a/b" exists and
  // passes nothing on; the container goes into a/b/c.
  put(r + "/cgroup.controllers", "memory pids\n");
  put(r + "/cgroup.subtree_control", "pids\n");
  put(r + "/a/cgroup.controllers", "pids\n");
  put(r + "/a/cgroup.subtree_control", "");
  put(r + "/a/b/cgroup.controllers", "");
  put(r + "/a/b/cgroup.subtree_control", "");
  put(r + "/a/b/cgroup.procs", "");
  put(r + "/a/b/pids.max", "");
  CgroupLayout l;
  l.mode = CgroupMode::v2;
  l.unified = r;
  l.unified_controllers = {"memory", "pids"};
  auto fake = std::make_shared<FakeCgroupFs>();
  auto cg = CgroupfsManager::plan(l, {{"", "/"}}, "/a/b/c", "c", fake);
  cg->create();
  spec::Resources res;
  res.pidsLimit = 10;
  cg->apply(res);
  BOOST_TEST(read_file(r + "/a/cgroup.subtree_control") == "+pids");
  BOOST_TEST(read_file(r + "/a/b/cgroup.subtree_control") == "+pids");
  BOOST_TEST(read_file(r + "/cgroup.subtree_control") == "pids\n");  // already delegated: left alone
  BOOST_TEST(read_file(r + "/a/b/c/pids.max") == "10");

  cg->destroy();
  BOOST_TEST(!fs::exists(r + "/a/b/c"));
  BOOST_TEST(fs::exists(r + "/a/b"));  // not made here
}

// systemd removes a scope's cgroup as soon as its last process exits, while
// `delete` may still be reading it: a cgroup gone between the open and the
// read (ENODEV) holds nothing and is not frozen; any other error names the file.
// A container's cgroups, made, on an imitation of a v1 host in a temporary directory.
struct MadeV1 {
  explicit MadeV1(const std::string& id) : cg(CgroupfsManager::plan(fake_v1(t.path), kOwnV1, "", id, fake)) {
    cg->create();
  }
  TempDir t{"cgroup-test"};
  std::shared_ptr<FakeCgroupFs> fake = std::make_shared<FakeCgroupFs>();
  std::unique_ptr<CgroupfsManager> cg;
};

BOOST_AUTO_TEST_CASE(a_cgroup_removed_mid_read_holds_nothing) {
  MadeV1 v1("gone");
  const std::string& r = v1.t.path;
  auto& fake = v1.fake;
  auto& cg = v1.cg;
  const std::string pids = r + "/pids/agentrun/gone/";
  put(pids + "cgroup.procs", "1234\n");
  BOOST_TEST((cg->processes() == std::vector<pid_t>{1234}));
  fake->read_errors[pids + "cgroup.procs"] = ENODEV;
  BOOST_TEST(cg->processes().empty());
  fake->read_errors[r + "/freezer/agentrun/gone/freezer.state"] = ENODEV;
  BOOST_TEST(!cg->frozen());
  fake->read_errors[pids + "cgroup.procs"] = EIO;
  expect_failure([&] { cg->processes(); }, "cgroup: read cgroup.procs in " + pids.substr(0, pids.size() - 1) +
                                               ": input/output error");
  fake->read_errors.clear();
  cg->destroy();
}

// A thaw whose cgroup systemd removed under it (kernfs answers the write
// ENODEV, and the directory is gone) has nothing left to thaw; while the
// directory is there, the error stands.
BOOST_AUTO_TEST_CASE(a_cgroup_removed_mid_thaw_has_nothing_to_thaw) {
  MadeV1 v1("gone");
  const std::string freezer = v1.t.path + "/freezer/agentrun/gone";
  v1.fake->write_errors[freezer + "/freezer.state"] = ENODEV;
  expect_failure([&] { v1.cg->thaw(); },
                 "cgroup freezer: write freezer.state = THAWED in " + freezer + ": no such device");
  std::filesystem::remove_all(freezer);
  v1.cg->thaw();
  v1.fake->write_errors[freezer + "/freezer.state"] = EIO;
  expect_failure([&] { v1.cg->thaw(); },
                 "cgroup freezer: write freezer.state = THAWED in " + freezer + ": input/output error");
}

// v1 refuses a memory limit above memory+swap: raising both writes the swap
// limit first, lowering them the memory limit first.
BOOST_AUTO_TEST_CASE(v1_memory_and_swap_go_in_an_order_the_kernel_takes) {
  MadeV1 v1("mem");
  const std::string& r = v1.t.path;
  auto& fake = v1.fake;
  auto& cg = v1.cg;
  const auto set = [&](int64_t limit, int64_t swap) {
    spec::Resources res;
    res.memory = spec::MemoryResources{};
    res.memory->limit = limit;
    res.memory->swap = swap;
    fake->writes.clear();
    cg->update(res);
    return fake->writes;
  };
  using Writes = std::vector<std::pair<std::string, std::string>>;
  put(r + "/memory/own/agentrun/mem/memory.limit_in_bytes", "1048576\n");
  BOOST_TEST((set(4 << 20, 8 << 20) ==
              Writes{{"memory.memsw.limit_in_bytes", "8388608"}, {"memory.limit_in_bytes", "4194304"}}));
  BOOST_TEST((set(1 << 20, 2 << 20) ==
              Writes{{"memory.limit_in_bytes", "1048576"}, {"memory.memsw.limit_in_bytes", "2097152"}}));
  cg->destroy();
}

// A cpuset level someone else made without cpus (on a hybrid host systemd
// may make a slice's directory) takes its parent's too: else the
// container's own level would copy nothing and no task could join it.
BOOST_AUTO_TEST_CASE(an_empty_cpuset_level_made_by_another_is_filled) {
  TempDir t("cgroup-test");
  const std::string r = t.path;
  auto fake = std::make_shared<FakeCgroupFs>();
  const CgroupLayout layout = fake_v1(r);
  fake->make_dir(r + "/cpuset/agentrun");  // its cpuset.cpus and cpuset.mems are empty
  auto cg = CgroupfsManager::plan(layout, kOwnV1, "", "cs", fake);
  cg->create();
  BOOST_TEST(read_file(r + "/cpuset/agentrun/cpuset.cpus") == "0-1");
  BOOST_TEST(read_file(r + "/cpuset/agentrun/cpuset.mems") == "0");
  BOOST_TEST(read_file(r + "/cpuset/agentrun/cs/cpuset.cpus") == "0-1");
  cg->destroy();
}

// The usual start: the shared level has its cpus and mems, and the
// container's level, just made, is known to be empty. Only the parent's two
// files are read; a level that was there already is read first.
// A v1 host in a temporary directory, its files faked.
struct FakeV1Host {
  TempDir t{"cgroup-test"};
  const std::string r = t.path;
  std::shared_ptr<FakeCgroupFs> fake = std::make_shared<FakeCgroupFs>();
  const CgroupLayout layout = fake_v1(r);
};

BOOST_FIXTURE_TEST_CASE(a_new_cpuset_level_reads_only_its_parent, FakeV1Host) {
  fake->make_dir(r + "/cpuset/agentrun");
  put(r + "/cpuset/agentrun/cpuset.cpus", "1\n");
  put(r + "/cpuset/agentrun/cpuset.mems", "0\n");
  const auto cpuset_reads = [&] {
    std::vector<std::string> out;
    for (const auto& p : fake->reads)
      if (p.find("/cpuset.") != std::string::npos) out.push_back(p.substr(r.size()));
    fake->reads.clear();
    return out;
  };
  auto cg = CgroupfsManager::plan(layout, kOwnV1, "", "new", fake);
  cg->create();
  BOOST_TEST(cpuset_reads() == (std::vector<std::string>{"/cpuset/agentrun/cpuset.cpus", "/cpuset/agentrun/cpuset.mems"}),
             boost::test_tools::per_element());
  BOOST_TEST(read_file(r + "/cpuset/agentrun/new/cpuset.cpus") == "1");
  BOOST_TEST(read_file(r + "/cpuset/agentrun/new/cpuset.mems") == "0");
  // A cgroupsPath that exists, with its own cpus: read, kept.
  FakeCgroupFs().make_dir(r + "/cpuset/agentrun/there");
  put(r + "/cpuset/agentrun/there/cpuset.cpus", "0\n");
  put(r + "/cpuset/agentrun/there/cpuset.mems", "0\n");
  fake->writes.clear();
  auto there = CgroupfsManager::plan(layout, kOwnV1, "/agentrun/there", "there", fake);
  there->create();
  BOOST_TEST(cpuset_reads() == (std::vector<std::string>{"/cpuset/agentrun/there/cpuset.cpus",
                                                         "/cpuset/agentrun/there/cpuset.mems"}),
             boost::test_tools::per_element());
  for (const auto& [file, value] : fake->writes) BOOST_TEST(file.find("cpuset.") == std::string::npos, file);
  BOOST_TEST(read_file(r + "/cpuset/agentrun/there/cpuset.cpus") == "0\n");  // untouched
  cg->destroy();
  there->destroy();
  FakeCgroupFs().remove_dir(r + "/cpuset/agentrun/there");
}

// delete removes the cgroups first: an empty one goes, and one that holds a
// process (EBUSY) stops it, leaving the rest to destroy() after the
// processes are killed. The shared agentrun/ level stays.
BOOST_FIXTURE_TEST_CASE(empty_cgroups_are_removed_without_reading_them, FakeV1Host) {
  auto cg = CgroupfsManager::plan(layout, kOwnV1, "", "e", fake);
  cg->create();
  fake->reads.clear();
  BOOST_TEST(cg->destroy_if_empty());
  BOOST_TEST(fake->reads.empty(), fake->reads.size());
  BOOST_TEST(cg->created().empty());
  BOOST_TEST(!fs::exists(r + "/pids/agentrun/e"));
  BOOST_TEST(!fs::exists(r + "/memory/own/agentrun/e"));
  BOOST_TEST(fs::is_directory(r + "/pids/agentrun"));

  auto busy = CgroupfsManager::plan(layout, kOwnV1, "", "b", fake);
  busy->create();
  const std::string held = r + "/freezer/agentrun/b";
  fake->remove_errors[held] = EBUSY;
  BOOST_TEST(!busy->destroy_if_empty());
  BOOST_TEST(fs::is_directory(held));
  BOOST_TEST(std::count(busy->created().begin(), busy->created().end(), held) == 1);
  fake->remove_errors.clear();
  busy->destroy();
  BOOST_TEST(!fs::exists(held));
  BOOST_TEST(!fs::exists(r + "/pids/agentrun/b"));
  BOOST_TEST(!fs::exists(r + "/cpuset/agentrun/b"));
}
