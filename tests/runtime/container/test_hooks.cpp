// OCI hooks: the moments, namespaces, state on stdin, environment and timeouts.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "support/harness.hpp"

using test::Sandbox;

namespace {

std::string own_mount_ns() {
  char buf[128] = {};
  BOOST_TEST_REQUIRE(::readlink("/proc/self/ns/mnt", buf, sizeof buf - 1) > 0);
  return buf;
}

// A hook that appends "<kind> <mount ns> <state>" to `log`.
std::string hook(const std::string& kind, const std::string& log) {
  return R"({"path": "/bin/sh", "args": ["sh", "-c", "state=$(cat); echo \")" + kind +
         R"( $(readlink /proc/self/ns/mnt) $state\" >> )" + log + R"("]})";
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_hook_runs_at_its_moment_in_its_namespace) {
  Sandbox s;
  const std::string dir = s.dir + "/marker";
  BOOST_TEST_REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  const std::string log = dir + "/log";
  auto cfg = test::base_config({"sh", "-c", "echo process >> /marker/log"});
  test::set_json(cfg, "/mounts/-", R"({"destination": "/marker", "type": "bind", "source": ")" + dir + R"(", "options": ["rbind"]})");
  test::set_json(cfg, "/hooks", "{\"prestart\": [" + hook("prestart", log) + "], \"createRuntime\": [" +
                                    hook("createRuntime", log) + "], \"createContainer\": [" + hook("createContainer", log) +
                                    "], \"startContainer\": [" + hook("startContainer", "/marker/log") +
                                    "], \"poststart\": [" + hook("poststart", log) + "], \"poststop\": [" +
                                    hook("poststop", log) + "]}");
  test::set_json(cfg, "/annotations", R"({"who": "hooks-test"})");
  auto o = s.run(cfg, "hk");
  BOOST_TEST_REQUIRE(o.code == 0, o.err);

  std::istringstream lines(test::read_file(log));
  std::string line;
  std::vector<std::string> kinds;
  const std::string host_ns = own_mount_ns();
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string kind, ns, state;
    words >> kind >> ns;
    std::getline(words, state);
    kinds.push_back(kind);
    if (kind == "process") continue;
    BOOST_TEST(state.find("\"id\":\"hk\"") != std::string::npos, line);
    BOOST_TEST(state.find("\"bundle\":\"" + s.bundle + "\"") != std::string::npos, line);
    BOOST_TEST(state.find("\"who\":\"hooks-test\"") != std::string::npos, line);
    const bool in_container = kind == "createContainer" || kind == "startContainer";
    BOOST_TEST((ns == host_ns) == !in_container, kind << " ran in " << ns);
    const std::string status = kind == "poststop" ? "stopped" : kind == "poststart" ? "running"
                               : kind == "startContainer" ? "created" : "creating";
    BOOST_TEST(state.find("\"status\":\"" + status + "\"") != std::string::npos, line);
    BOOST_TEST((state.find("\"pid\":") != std::string::npos) == (kind != "poststop"), line);
  }
  // The process and poststart race; everything else is ordered.
  std::vector<std::string> ordered;
  for (const auto& k : kinds)
    if (k != "process" && k != "poststart") ordered.push_back(k);
  BOOST_TEST(ordered == (std::vector<std::string>{"prestart", "createRuntime", "createContainer", "startContainer", "poststop"}),
             test::read_file(log));
  BOOST_TEST(std::count(kinds.begin(), kinds.end(), "process") == 1);
  BOOST_TEST(std::count(kinds.begin(), kinds.end(), "poststart") == 1);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(hooks_get_exactly_their_environment) {
  Sandbox s;
  const std::string out = s.dir + "/env";
  auto cfg = test::base_config({"true"});
  test::set_json(cfg, "/hooks/prestart",
                 R"([{"path": "/bin/sh", "args": ["sh", "-c", "env > )" + out + R"("], "env": ["ONLY=1"]}])");
  BOOST_TEST_REQUIRE(s.run(cfg).code == 0);
  const std::string env = test::read_file(out);
  BOOST_TEST(env.find("ONLY=1\n") != std::string::npos, env);
  BOOST_TEST(env.find("PATH=") == std::string::npos, env);
  BOOST_TEST(env.find("AGENTRUN") == std::string::npos, env);
}

BOOST_AUTO_TEST_CASE(a_hook_past_its_timeout_is_killed) {
  Sandbox s;
  auto cfg = test::base_config({"true"});
  // Tagged, so that leftovers() finds the hook's process if the timeout left it running.
  test::set_json(cfg, "/hooks/createRuntime", R"([{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1, "env": [)" +
                                                  test::quote(s.tag()) + "]}]");
  const auto start = std::chrono::steady_clock::now();
  auto o = s.run(cfg);
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("createRuntime hook #0 (/bin/sleep): timed out") != std::string::npos, o.err);
  BOOST_TEST(took < std::chrono::seconds(10));
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(failing_poststart_and_poststop_hooks_are_warnings) {
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", "exit 4"});
  test::set_json(cfg, "/hooks/poststart", R"([{"path": "/bin/false"}])");
  test::set_json(cfg, "/hooks/poststop", R"([{"path": "/bin/false"}])");
  auto o = s.run(cfg);
  BOOST_TEST(o.code == 4, o.err);
  BOOST_TEST(o.err.find("warning: poststart hook #0 (/bin/false): exit status 1") != std::string::npos, o.err);
  BOOST_TEST(o.err.find("warning: poststop hook #0 (/bin/false): exit status 1") != std::string::npos, o.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(a_failing_poststart_or_poststop_hook_does_not_stop_the_hooks_after_it) {
  Sandbox s;
  const std::string log = s.dir + "/after";
  auto cfg = test::base_config({"true"});
  auto then = [&](const std::string& kind) {
    return R"([{"path": "/bin/false"}, {"path": "/bin/sh", "args": [")" + kind + R"(", "-c", "echo $0 >> )" + log + R"("]}])";
  };
  test::set_json(cfg, "/hooks/poststart", then("poststart"));
  test::set_json(cfg, "/hooks/poststop", then("poststop"));
  auto o = s.run(cfg);
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.err.find("warning: poststart hook #0 (/bin/false): exit status 1") != std::string::npos, o.err);
  BOOST_TEST(o.err.find("warning: poststop hook #0 (/bin/false): exit status 1") != std::string::npos, o.err);
  BOOST_TEST(test::read_file(log) == "poststart\npoststop\n");
  BOOST_TEST(s.leftovers().empty());
}
