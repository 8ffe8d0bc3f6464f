#pragma once
// What runtime tests share: a private sandbox (state root, bundle with a
// busybox rootfs) per test, running the agentrun binary with a time limit,
// and checks that nothing was left behind.

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "support/files.hpp"

#include <map>
#include <string>
#include <vector>

namespace test {

struct Output {
  int code = -1;  // exit status, or 128 + signal
  std::string out, err;
};

// Runs `argv` (argv[0] a path) with a time limit; the process is killed when
// it passes. `cgroups`: cgroup directories the process joins before it starts.
Output run_process(const std::vector<std::string>& argv, int timeout_seconds = 60, const std::string& input = "",
                   const std::vector<std::string>& cgroups = {});

// The default config (agentrun spec) with no terminal and `args`.
rapidjson::Document base_config(const std::vector<std::string>& args);
// Sets the value at a JSON pointer ("/process/cwd") to the given JSON text.
void set_json(rapidjson::Document& d, const char* pointer, const std::string& json);
void set_string(rapidjson::Document& d, const char* pointer, const std::string& value);
void remove_at(rapidjson::Document& d, const char* pointer);
std::string to_json(const rapidjson::Value& v);
std::string quote(const std::string& s);  // as a JSON string

// A private sandbox per test. The runtime runs in cgroups of the sandbox's
// own (one per hierarchy, below the test's), so that the cgroups of its
// containers (<own>/agentrun/<id> by default) are told apart from those of
// anyone else running the same tests with the same ids.
class Sandbox {
 public:
  Sandbox();
  // Deletes every container in its root, fails the test on anything left
  // (leftovers()) and removes its cgroups and directory.
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  std::string dir;     // everything lives below
  std::string root;    // --root
  std::string bundle;  // bundle/config.json, bundle/rootfs
  std::string rootfs;
  // The OCI features are tested as runc applies them; policy tests set another.
  std::string policy = "oci";

  void write_config(const rapidjson::Document& d) const;
  void write_config_text(const std::string& text) const;
  // agentrun --root <root> [--policy <policy>] args...
  Output agentrun(const std::vector<std::string>& args, int timeout_seconds = 60, const std::string& input = "") const;
  // Any command that runs agentrun itself (a wrapper around it), in the sandbox's cgroups.
  Output command(const std::vector<std::string>& argv, int timeout_seconds = 60) const;
  // run --bundle <bundle> <id>, in the foreground
  Output run(const rapidjson::Document& config, const std::string& id = "t") const;
  // The host pid of a container's init (from `state`), 0 when it has none.
  int pid_of(const std::string& id) const;
  // The environment entry that marks the processes of this sandbox (write_config adds it).
  std::string tag() const { return "AGENTRUN_TEST_SANDBOX=" + dir; }

  // Anything this sandbox's containers may have left: state directories,
  // mounts (nsfs bind mounts included) under `dir` or named after it,
  // /run/netns entries named after it, processes tagged with it, and any
  // cgroup or process below the sandbox's cgroup in every mounted hierarchy.
  std::vector<std::string> leftovers() const;

 private:
  std::vector<std::string> cgroups_;  // the sandbox's own, one per hierarchy
  std::vector<std::string> joined_;   // where agentrun runs: cgroups_, or a leaf below on cgroup v2
};

// AGENTRUN_TEST_CGROUP_DRIVER=systemd runs every Sandbox's agentrun with
// --systemd-cgroup: a container without a cgroupsPath goes into the scope
// agentrun-<id>.scope in system.slice (the guest tier runs the cgroup tests
// with both drivers).
bool systemd_driver();
// For a test that names cgroupfs paths: skipped under the systemd driver.
boost::unit_test::precondition needs_cgroupfs_driver();

// The processes whose command line (arguments joined by spaces) contains `fragment`, this one excepted.
std::vector<int> processes_running(const std::string& fragment);

bool file_exists(const std::string& path);

// The probe's report (agent_probe, net_attempts): "name=result" lines.
std::map<std::string, std::string> probe_results(const std::string& out);

}  // namespace test
