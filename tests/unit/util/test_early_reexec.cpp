// The re-execution at the binary's entry point: which commands take it, the
// environment it passes on, what counts as an unwritable binary, and that
// the binary enters there with nothing in the module calling out.
#include <boost/test/unit_test.hpp>

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/util/early_reexec.hpp"
#include "support/needs.hpp"

using namespace agentrun::early;

namespace {

bool starts(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return names_container_start(static_cast<int>(args.size()), argv.data());
}

std::string command_output(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  BOOST_TEST_REQUIRE(p != nullptr);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  BOOST_TEST_REQUIRE(::pclose(p) == 0, command);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_commands_that_start_container_processes_take_it) {
  BOOST_TEST(starts({"agentrun", "create", "--bundle", "b", "id"}));
  BOOST_TEST(starts({"agentrun", "--root", "/run/x", "--systemd-cgroup", "run", "id"}));
  BOOST_TEST(starts({"agentrun", "exec", "-t", "id", "sh"}));
  // A container named so takes it too: one execution more, never one fewer.
  BOOST_TEST(starts({"agentrun", "delete", "run"}));
  BOOST_TEST(!starts({"agentrun", "delete", "id"}));
  BOOST_TEST(!starts({"agentrun", "state", "runs"}));
  BOOST_TEST(!starts({"run"}));
  BOOST_TEST(!starts({"agentrun", "--log", "executions", "kill", "id"}));
}

BOOST_AUTO_TEST_CASE(the_environment_passes_on_the_installed_path_once) {
  std::string a = "PATH=/bin", b = "AGENTRUN_INSTALLED_BINARY=/old", c = "AGENTRUN_INSTALLED_BINARYX=keep",
              entry = "AGENTRUN_INSTALLED_BINARY=/usr/bin/agentrun";
  char* envp[] = {a.data(), b.data(), c.data(), nullptr};
  char* out[5];
  BOOST_TEST_REQUIRE(environment_with(envp, kInstalledBinaryEnv, entry.data(), out, 5));
  BOOST_TEST(out[0] == a.data());
  BOOST_TEST(out[1] == c.data());
  BOOST_TEST(out[2] == entry.data());
  BOOST_TEST(out[3] == nullptr);
  // Room for the kept entries, the new one and the null pointer, or nothing.
  BOOST_TEST(environment_with(envp, kInstalledBinaryEnv, entry.data(), out, 4));
  BOOST_TEST(!environment_with(envp, kInstalledBinaryEnv, entry.data(), out, 3));
  char* empty[] = {nullptr};
  BOOST_TEST_REQUIRE(environment_with(empty, kInstalledBinaryEnv, entry.data(), out, 2));
  BOOST_TEST(out[0] == entry.data());
  BOOST_TEST(out[1] == nullptr);
}

BOOST_AUTO_TEST_CASE(only_a_read_only_mount_or_a_fully_sealed_memfd_is_unwritable) {
  const int self = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);  // the test binary, in a writable build tree
  BOOST_TEST_REQUIRE(self >= 0);
  BOOST_TEST(!unwritable_binary(self));
  ::close(self);
  const int memfd = ::memfd_create("early", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  BOOST_TEST_REQUIRE(memfd >= 0);
  BOOST_TEST(!unwritable_binary(memfd));
  BOOST_TEST_REQUIRE(::fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
  BOOST_TEST(!unwritable_binary(memfd));
  BOOST_TEST_REQUIRE(::fcntl(memfd, F_ADD_SEALS, kBinarySeals) == 0);
  BOOST_TEST(unwritable_binary(memfd));
  ::close(memfd);
  const int proc = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);  // procfs is mounted read-write
  BOOST_TEST_REQUIRE(proc >= 0);
  BOOST_TEST(!unwritable_binary(proc));
  ::close(proc);
}

// The module runs before the C library and the relocation of the static
// PIE: a call to anything outside it (a memcpy the compiler made of a loop,
// a stack protector's check, a sanitizer's hook) would crash every start.
BOOST_AUTO_TEST_CASE(the_module_calls_nothing_outside_itself, *test::needs_tool("nm")) {
  const std::string undefined = command_output("nm -u -A '" AGENTRUN_CORE_ARCHIVE "'");
  std::vector<std::string> ours;
  size_t lines = 0;
  for (size_t at = 0; at < undefined.size(); ++lines) {
    const size_t end = undefined.find('\n', at);
    const std::string line = undefined.substr(at, end - at);
    at = end == std::string::npos ? undefined.size() : end + 1;
    if (line.find(":early_reexec.cpp.o:") != std::string::npos) ours.push_back(line.substr(line.rfind(' ') + 1));
  }
  BOOST_TEST_REQUIRE(lines > 0, "nm lists no undefined symbols at all in " AGENTRUN_CORE_ARCHIVE);
  // The linker's __ehdr_start (the binary's own ELF header) and _start,
  // where the entry goes on to.
  BOOST_TEST((ours == std::vector<std::string>{"__ehdr_start", "_start"}), "undefined: " << undefined.substr(0, 2000));
}

#if defined(__x86_64__)
BOOST_AUTO_TEST_CASE(the_binary_enters_at_the_early_reexecution, *test::needs_tool("nm")) {
  std::ifstream elf(AGENTRUN_BINARY, std::ios::binary);
  Elf64_Ehdr header{};
  BOOST_TEST_REQUIRE(static_cast<bool>(elf.read(reinterpret_cast<char*>(&header), sizeof header)));
  const std::string symbols = command_output("nm '" AGENTRUN_BINARY "'");
  const size_t at = symbols.find(" agentrun_entry\n");
  BOOST_TEST_REQUIRE(at != std::string::npos, "no agentrun_entry in " AGENTRUN_BINARY);
  const size_t line = symbols.rfind('\n', at) + 1;
  BOOST_TEST(std::stoull(symbols.substr(line, symbols.find(' ', line) - line), nullptr, 16) == header.e_entry);
}
#endif
