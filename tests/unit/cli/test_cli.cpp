#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "runtime/cli/command_line.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"

using namespace agentrun;

namespace {

using Argv = std::vector<std::string>;

// The message of the Failure parse_command_line throws, or "<no failure>".
std::string parse_failure(const Argv& argv) {
  return failure_of([&] { parse_command_line(argv); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(global_flags_before_the_command) {
  auto cl = parse_command_line({"--root", "/tmp/r", "--log=/tmp/l.json", "--log-format", "json", "--debug",
                                "--systemd-cgroup", "state", "c1"});
  BOOST_TEST(cl.global.at("root") == "/tmp/r");
  BOOST_TEST(cl.global.at("log") == "/tmp/l.json");
  BOOST_TEST(cl.global.at("log-format") == "json");
  BOOST_TEST(cl.global.at("debug") == "true");
  BOOST_TEST(cl.global.at("systemd-cgroup") == "true");
  BOOST_TEST(cl.global.size() == 5u);
  BOOST_TEST(cl.global_has("debug"));
  BOOST_TEST(!cl.global_has("criu"));
  BOOST_TEST(flag_enabled(cl.global, "debug"));
  BOOST_TEST(cl.command == "state");
  BOOST_TEST(cl.args == Argv{"c1"});
  BOOST_TEST(cl.options.empty());
  BOOST_TEST(!cl.help);
  BOOST_TEST(!cl.version);
}

BOOST_AUTO_TEST_CASE(global_flag_with_equals_and_single_dash) {
  auto cl = parse_command_line({"--root=/a=b", "-log", "/l", "-debug=false", "start", "x"});
  BOOST_TEST(cl.global.at("root") == "/a=b");  // only the first '=' splits
  BOOST_TEST(cl.global.at("log") == "/l");
  BOOST_TEST(cl.global.at("debug") == "false");
  BOOST_TEST(!flag_enabled(cl.global, "debug"));
  BOOST_TEST(cl.command == "start");
  BOOST_TEST(cl.args == Argv{"x"});
}

BOOST_AUTO_TEST_CASE(global_flag_after_the_command_is_a_command_flag) {
  BOOST_TEST(parse_failure({"create", "--root", "/r", "c1"}) == "flag provided but not defined: -root");
}

BOOST_AUTO_TEST_CASE(create_flags_all_forms) {
  auto cl = parse_command_line({"create", "--bundle", "/b", "--console-socket=/s.sock", "-pid-file", "/p",
                                "--no-pivot", "--no-new-keyring", "--preserve-fds", "3", "c1"});
  BOOST_TEST(cl.command == "create");
  BOOST_TEST(*cl.value("bundle") == "/b");
  BOOST_TEST(*cl.value("console-socket") == "/s.sock");
  BOOST_TEST(*cl.value("pid-file") == "/p");
  BOOST_TEST(*cl.value("preserve-fds") == "3");
  BOOST_TEST(cl.has("no-pivot"));
  BOOST_TEST(flag_enabled(cl.options, "no-pivot"));
  BOOST_TEST(flag_enabled(cl.options, "no-new-keyring"));
  BOOST_TEST(!cl.value("detach"));
  BOOST_TEST(!cl.has("detach"));
  BOOST_TEST(cl.options.size() == 6u);
  BOOST_TEST(cl.args == Argv{"c1"});
  BOOST_TEST(cl.global.empty());
}

BOOST_AUTO_TEST_CASE(bundle_short_and_single_dash_long) {
  BOOST_TEST(*parse_command_line({"create", "-b", "/x", "id"}).value("bundle") == "/x");
  BOOST_TEST(*parse_command_line({"create", "-bundle", "/y", "id"}).value("bundle") == "/y");
  BOOST_TEST(*parse_command_line({"create", "-b=/z", "id"}).value("bundle") == "/z");
  BOOST_TEST(*parse_command_line({"create", "--bundle=", "id"}).value("bundle") == "");
  // A value may itself start with a dash.
  BOOST_TEST(*parse_command_line({"create", "--pid-file", "-weird", "id"}).value("pid-file") == "-weird");
  // The last occurrence wins.
  BOOST_TEST(*parse_command_line({"create", "-b", "/1", "--bundle", "/2", "id"}).value("bundle") == "/2");
}

BOOST_AUTO_TEST_CASE(run_flags) {
  auto cl = parse_command_line({"run", "-d", "--keep", "-b", "/b", "c2"});
  BOOST_TEST(flag_enabled(cl.options, "detach"));
  BOOST_TEST(flag_enabled(cl.options, "keep"));
  BOOST_TEST(*cl.value("bundle") == "/b");
  BOOST_TEST(cl.args == Argv{"c2"});

  auto off = parse_command_line({"run", "--detach=false", "c2"});
  BOOST_TEST(off.has("detach"));
  BOOST_TEST(*off.value("detach") == "false");
  BOOST_TEST(!flag_enabled(off.options, "detach"));
  BOOST_TEST(flag_enabled(parse_command_line({"run", "--detach=true", "c"}).options, "detach"));
  BOOST_TEST(flag_enabled(parse_command_line({"run", "-detach", "c"}).options, "detach"));

  BOOST_TEST(parse_failure({"run", "--detach=maybe", "c"}) == "flag --detach: expects true or false, not \"maybe\"");
  BOOST_TEST(parse_failure({"run", "-d=1", "c"}) == "flag --detach: expects true or false, not \"1\"");
  // --keep is not a create flag.
  BOOST_TEST(parse_failure({"create", "--keep", "c"}) == "flag provided but not defined: -keep");
}

BOOST_AUTO_TEST_CASE(delete_force) {
  BOOST_TEST(flag_enabled(parse_command_line({"delete", "-f", "c"}).options, "force"));
  BOOST_TEST(flag_enabled(parse_command_line({"delete", "--force", "c"}).options, "force"));
  auto plain = parse_command_line({"delete", "c"});
  BOOST_TEST(!plain.has("force"));
  BOOST_TEST(plain.args == Argv{"c"});
}

BOOST_AUTO_TEST_CASE(kill_all_and_optional_signal) {
  auto a = parse_command_line({"kill", "-a", "c", "KILL"});
  BOOST_TEST(flag_enabled(a.options, "all"));
  BOOST_TEST(a.args == (Argv{"c", "KILL"}));
  auto b = parse_command_line({"kill", "--all", "c"});
  BOOST_TEST(flag_enabled(b.options, "all"));
  BOOST_TEST(b.args == Argv{"c"});
  auto c = parse_command_line({"kill", "c", "9"});
  BOOST_TEST(!c.has("all"));
  BOOST_TEST(c.args == (Argv{"c", "9"}));
  // Flags stop at the first positional argument: "-9" after the id is the signal.
  auto d = parse_command_line({"kill", "c", "-9"});
  BOOST_TEST(d.args == (Argv{"c", "-9"}));
  BOOST_TEST(d.options.empty());
  BOOST_TEST(parse_failure({"kill", "-9", "c"}) == "flag provided but not defined: -9");
  BOOST_TEST(parse_failure({"kill"}) == "kill: expects 1 to 2 argument(s) (<container-id> [signal]), got 0");
  BOOST_TEST(parse_failure({"kill", "c", "TERM", "x"}) ==
             "kill: expects 1 to 2 argument(s) (<container-id> [signal]), got 3");
}

BOOST_AUTO_TEST_CASE(list_flags) {
  auto cl = parse_command_line({"list", "-f", "json", "-q"});
  BOOST_TEST(*cl.value("format") == "json");
  BOOST_TEST(flag_enabled(cl.options, "quiet"));
  BOOST_TEST(cl.args.empty());
  BOOST_TEST(*parse_command_line({"list", "--format=table"}).value("format") == "table");
  BOOST_TEST(flag_enabled(parse_command_line({"list", "--quiet"}).options, "quiet"));
  BOOST_TEST(parse_failure({"list", "extra"}) == "list: expects 0 argument(s) (), got 1");
  BOOST_TEST(parse_failure({"list", "-f"}) == "flag needs an argument: --format");
}

BOOST_AUTO_TEST_CASE(flags_stop_at_first_positional_and_double_dash) {
  auto cl = parse_command_line({"kill", "--", "-a"});
  BOOST_TEST(!cl.has("all"));
  BOOST_TEST(cl.args == Argv{"-a"});
  auto cl2 = parse_command_line({"kill", "-a", "--", "c", "--all"});
  BOOST_TEST(flag_enabled(cl2.options, "all"));
  BOOST_TEST(cl2.args == (Argv{"c", "--all"}));
  // A lone "-" is an argument, not a flag.
  auto cl3 = parse_command_line({"state", "-"});
  BOOST_TEST(cl3.args == Argv{"-"});
  // "--" before the command ends the global flags.
  auto cl4 = parse_command_line({"--debug", "--", "state", "c"});
  BOOST_TEST(cl4.command == "state");
  BOOST_TEST(flag_enabled(cl4.global, "debug"));
}

BOOST_AUTO_TEST_CASE(wrong_argument_counts) {
  BOOST_TEST(parse_failure({"create"}) == "create: expects 1 argument(s) (<container-id>), got 0");
  BOOST_TEST(parse_failure({"create", "-b", "/b"}) == "create: expects 1 argument(s) (<container-id>), got 0");
  BOOST_TEST(parse_failure({"start", "a", "b"}) == "start: expects 1 argument(s) (<container-id>), got 2");
  BOOST_TEST(parse_failure({"delete", "a", "-f"}) == "delete: expects 1 argument(s) (<container-id>), got 2");
  BOOST_TEST(parse_failure({"features", "x"}) == "features: expects 0 argument(s) (), got 1");
  BOOST_TEST(parse_failure({"spec", "x", "y"}) == "spec: expects 0 argument(s) (), got 2");
}

BOOST_AUTO_TEST_CASE(unknown_flags_and_commands) {
  BOOST_TEST(parse_failure({"create", "-bogus", "c"}) == "flag provided but not defined: -bogus");
  BOOST_TEST(parse_failure({"create", "--bogus", "c"}) == "flag provided but not defined: -bogus");
  BOOST_TEST(parse_failure({"create", "--bogus=1", "c"}) == "flag provided but not defined: -bogus");
  BOOST_TEST(parse_failure({"--bogus", "create", "c"}) == "flag provided but not defined: -bogus");
  BOOST_TEST(parse_failure({"start", "-f", "c"}) == "flag provided but not defined: -f");
  BOOST_TEST(parse_failure({"bogus", "c"}) == "unknown command \"bogus\": see agentrun --help");
  BOOST_TEST(parse_failure({"checkpoint", "c"}) == "unknown command \"checkpoint\": see agentrun --help");
  BOOST_TEST(parse_failure({"help", "bogus"}) == "help: unknown command \"bogus\"");
}

BOOST_AUTO_TEST_CASE(flag_needing_a_value_at_the_end) {
  BOOST_TEST(parse_failure({"create", "c", "--bundle"}) ==
             "create: expects 1 argument(s) (<container-id>), got 2");  // after the id: an argument
  BOOST_TEST(parse_failure({"create", "--bundle"}) == "flag needs an argument: --bundle");
  BOOST_TEST(parse_failure({"create", "-b"}) == "flag needs an argument: --bundle");
  BOOST_TEST(parse_failure({"--root"}) == "flag needs an argument: --root");
  BOOST_TEST(parse_failure({"--log-format"}) == "flag needs an argument: --log-format");
  BOOST_TEST(parse_failure({"create", "--console-socket"}) == "flag needs an argument: --console-socket");
}

BOOST_AUTO_TEST_CASE(help_forms) {
  auto top = parse_command_line({"--help"});
  BOOST_TEST(top.help);
  BOOST_TEST(top.command.empty());
  auto h = parse_command_line({"-h"});
  BOOST_TEST(h.help);
  BOOST_TEST(h.command.empty());

  auto ch = parse_command_line({"create", "--help"});
  BOOST_TEST(ch.help);
  BOOST_TEST(ch.command == "create");  // no argument-count error with --help
  BOOST_TEST(ch.args.empty());
  auto ch2 = parse_command_line({"kill", "-h"});
  BOOST_TEST(ch2.help);
  BOOST_TEST(ch2.command == "kill");

  auto hc = parse_command_line({"help", "create"});
  BOOST_TEST(hc.help);
  BOOST_TEST(hc.command == "create");
  BOOST_TEST(hc.args.empty());
  auto bare = parse_command_line({"help"});
  BOOST_TEST(bare.help);
  BOOST_TEST(bare.command.empty());
}

BOOST_AUTO_TEST_CASE(version_forms) {
  auto v = parse_command_line({"--version"});
  BOOST_TEST(v.version);
  BOOST_TEST(v.command.empty());
  BOOST_TEST(!v.help);
  BOOST_TEST(parse_command_line({"-v"}).version);
  BOOST_TEST(parse_command_line({"-version"}).version);
  BOOST_TEST(!parse_command_line({"--version=false"}).version);
  auto none = parse_command_line({});
  BOOST_TEST(!none.version);
  BOOST_TEST(!none.help);
  BOOST_TEST(none.command.empty());
}

BOOST_AUTO_TEST_CASE(command_table) {
  for (const char* name : {"create", "start", "run", "state", "kill", "delete", "list", "spec", "features", "exec",
                           "ps", "pause", "resume", "update", "events"}) {
    const CommandSpec* c = find_command(name);
    BOOST_TEST_REQUIRE(c != nullptr, name);
    BOOST_TEST(std::string(c->name) == name);
  }
  BOOST_TEST(find_command("checkpoint") == nullptr);
  BOOST_TEST(find_command("") == nullptr);
  BOOST_TEST(find_command("CREATE") == nullptr);
}

BOOST_AUTO_TEST_CASE(usage_mentions_every_command_and_global_flag) {
  const std::string u = usage_text();
  for (const auto& c : commands()) {
    BOOST_TEST(u.find("  " + std::string(c.name) + " ") != std::string::npos, c.name);
    BOOST_TEST(u.find(c.summary) != std::string::npos, c.name);
  }
  for (const auto& f : global_flags()) {
    BOOST_TEST(u.find("--" + std::string(f.name)) != std::string::npos, f.name);
    BOOST_TEST(u.find(f.help) != std::string::npos, f.name);
  }
  BOOST_TEST(u.find("--version, -v") != std::string::npos);
  BOOST_TEST(u.find("--root value") != std::string::npos);
  BOOST_TEST(u.find("--help, -h") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(command_usage_mentions_every_flag) {
  for (const auto& c : commands()) {
    const std::string u = command_usage_text(c);
    BOOST_TEST(u.rfind("usage: agentrun " + std::string(c.name), 0) == 0u, c.name);
    BOOST_TEST(u.find(c.arguments) != std::string::npos, c.name);
    BOOST_TEST(u.find(c.summary) != std::string::npos, c.name);
    BOOST_TEST((u.find("[command options]") != std::string::npos) == !c.flags.empty(), c.name);
    for (const auto& f : c.flags) {
      std::string left = "--" + std::string(f.name);
      if (f.short_name) left += ", -" + std::string(1, f.short_name);
      if (f.takes_value) left += " value";
      BOOST_TEST(u.find(left) != std::string::npos, c.name << " " << f.name);
      BOOST_TEST(u.find(f.help) != std::string::npos, c.name << " " << f.name);
    }
  }
  const std::string create = command_usage_text(*find_command("create"));
  for (const char* f : {"--bundle, -b value", "--console-socket value", "--pid-file value", "--no-pivot",
                        "--no-new-keyring", "--preserve-fds value"})
    BOOST_TEST(create.find(f) != std::string::npos, f);
  const std::string run = command_usage_text(*find_command("run"));
  BOOST_TEST(run.find("--detach, -d") != std::string::npos);
  BOOST_TEST(run.find("--keep") != std::string::npos);
  BOOST_TEST(command_usage_text(*find_command("kill")).find("--all, -a") != std::string::npos);
  BOOST_TEST(command_usage_text(*find_command("delete")).find("--force, -f") != std::string::npos);
  const std::string list = command_usage_text(*find_command("list"));
  BOOST_TEST(list.find("--format, -f value") != std::string::npos);
  BOOST_TEST(list.find("--quiet, -q") != std::string::npos);
}
