#pragma once
// What unit tests share: the message of a Failure, predicates for
// BOOST_CHECK_EXCEPTION, temporary directories, and running a check in a
// forked child confined by no_new_privs and filters.
//
// Header-only: every test file is its own executable with its own
// BOOST_TEST_MODULE, so the Boost.Test checks live in the test's unit.

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include "spec/error.hpp"

// The message of the Failure f() throws, or "<no failure>".
template <class F>
std::string failure_of(F&& f) {
  try {
    f();
  } catch (const agentrun::Failure& e) {
    return e.what();
  }
  return "<no failure>";
}

// f() throws a Failure with exactly `text`.
inline void expect_failure(const std::function<void()>& f, const std::string& text) {
  try {
    f();
    BOOST_ERROR("no failure; expected " << text);
  } catch (const agentrun::Failure& e) {
    BOOST_TEST(std::string(e.what()) == text);
  }
}

// Predicate for BOOST_CHECK_EXCEPTION: the exact message, shown on mismatch.
struct Message {
  std::string expected;
  bool operator()(const agentrun::Failure& f) const {
    BOOST_TEST(std::string(f.what()) == expected);
    return f.what() == expected;
  }
};

// Predicate for BOOST_CHECK_EXCEPTION: the message starts with `expected`.
struct Prefix {
  std::string expected;
  bool operator()(const agentrun::Failure& f) const {
    const std::string what = f.what();
    BOOST_TEST(what.rfind(expected, 0) == 0, "\"" << what << "\" starts with \"" << expected << "\"");
    return what.rfind(expected, 0) == 0;
  }
};

template <class T>
bool has(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The whole content of a file ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Something is at `path` (a dangling symlink counts).
inline bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// A fresh directory /tmp/agentrun-<name>-XXXXXX, removed with everything in
// it afterwards.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& name) {
    std::string tmpl = "/tmp/agentrun-" + name + "-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// Sets the umask for its lifetime.
struct ScopedUmask {
  mode_t old;
  explicit ScopedUmask(mode_t mask) : old(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;
};

// The exit code of a forked child that could not confine itself.
constexpr int kSetupFailed = 200;

// Exit code, or 1000 + the signal that killed the child.
inline int outcome(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status); }
inline int killed_by(int sig) { return 1000 + sig; }

// Runs body() in a forked child with no_new_privs (so that seccomp and
// Landlock need no privilege), once confine() returned true, and returns the
// child's outcome: body's result, kSetupFailed when it could not confine
// itself, killed_by(signal). An alarm bounds the child; no core files.
template <class Confine, class Body>
int run_confined_child(Confine confine, Body body) {
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    // Boost.Test installs handlers for these; the tests need the defaults.
    std::signal(SIGSYS, SIG_DFL);
    std::signal(SIGALRM, SIG_DFL);
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::alarm(10);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || !confine()) ::_exit(kSetupFailed);
    // Not _exit(): ASan's interceptor of it makes calls a profile denies.
    ::syscall(SYS_exit_group, body());
    ::_exit(kSetupFailed);  // exit_group was denied
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) BOOST_REQUIRE(errno == EINTR);
  return outcome(status);
}
