// Terminals: the pty master reaches --console-socket by SCM_RIGHTS (as
// docker -t and podman -t receive it), and `run` relays its own.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <future>

#include "support/console.hpp"
#include "support/harness.hpp"

using test::Sandbox;
using test::listen_at;
using test::read_until;
using test::receive_fd;

BOOST_AUTO_TEST_CASE(console_socket_receives_the_pty_master) {
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", "tty; stty size; read line; echo \"got $line\"; sleep 30"});
  test::set_json(cfg, "/process/terminal", "true");
  test::set_json(cfg, "/process/consoleSize", R"({"height": 31, "width": 101})");
  s.write_config(cfg);
  const std::string sock = s.dir + "/console.sock";
  int listener = listen_at(sock);
  auto create = std::async(std::launch::async, [&] {
    return s.agentrun({"create", "--bundle", s.bundle, "--console-socket", sock, "tty1"});
  });
  int master = receive_fd(listener);
  auto created = create.get();
  ::close(listener);
  BOOST_TEST_REQUIRE(created.code == 0, created.err);
  BOOST_TEST_REQUIRE(master >= 0);
  BOOST_TEST_REQUIRE(s.agentrun({"start", "tty1"}).code == 0);
  BOOST_TEST(::write(master, "hello\n", 6) == 6);
  const std::string out = read_until(master, "got hello");
  BOOST_TEST(out.find("/dev/pts/0") != std::string::npos, out);
  BOOST_TEST(out.find("31 101") != std::string::npos, out);
  BOOST_TEST(out.find("got hello") != std::string::npos, out);
  ::close(master);
  BOOST_TEST(s.agentrun({"delete", "--force", "tty1"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(run_relays_its_own_terminal) {
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", "tty; read line; echo \"got $line\"; exit 5"});
  test::set_json(cfg, "/process/terminal", "true");
  s.write_config(cfg);
  auto o = s.agentrun({"run", "--bundle", s.bundle, "tty2"}, 30, "typed\n");
  BOOST_TEST(o.code == 5, o.err);
  BOOST_TEST(o.out.find("/dev/pts/0") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("got typed") != std::string::npos, o.out);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(console_socket_without_terminal_is_an_error) {
  Sandbox s;
  s.write_config(test::base_config({"true"}));
  const std::string sock = s.dir + "/console.sock";
  int listener = listen_at(sock);
  auto o = s.agentrun({"create", "--bundle", s.bundle, "--console-socket", sock, "x"});
  ::close(listener);
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("no terminal") != std::string::npos, o.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(exec_tty_after_an_update_that_repeats_the_device_rules) {
  // containerd's CRI sends the whole linux.resources on every update,
  // including the config's deny-all device rule: the update must keep
  // runc's standard devices, or `kubectl exec -it` cannot open /dev/ptmx.
  Sandbox s;
  auto cfg = test::base_config({"sleep", "60"});
  const std::string deny_all = R"({"devices": [{"allow": false, "access": "rwm"}], "pids": {"limit": 50}})";
  test::set_json(cfg, "/linux/resources", deny_all);
  s.write_config(cfg);
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "upd"}).code == 0);
  auto updated = s.agentrun({"update", "-r", "-", "upd"}, 60, deny_all);
  BOOST_TEST_REQUIRE(updated.code == 0, updated.err);

  auto plain = s.agentrun({"exec", "upd", "sh", "-c", "echo x > /dev/null && echo null-ok"});
  BOOST_TEST(plain.code == 0, plain.err);
  BOOST_TEST(plain.out == "null-ok\n");

  const std::string sock = s.dir + "/console.sock";
  int listener = listen_at(sock);
  auto exec = std::async(std::launch::async, [&] {
    return s.agentrun({"exec", "--tty", "--console-socket", sock, "--detach", "upd", "sh", "-c", "tty; sleep 30"});
  });
  int master = receive_fd(listener, 10);
  auto started = exec.get();
  ::close(listener);
  BOOST_TEST(started.code == 0, started.err);
  BOOST_TEST_REQUIRE(master >= 0);
  const std::string out = read_until(master, "\n");
  BOOST_TEST(out.find("/dev/pts/") == 0, out);
  ::close(master);
  BOOST_TEST(s.agentrun({"delete", "--force", "upd"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}
