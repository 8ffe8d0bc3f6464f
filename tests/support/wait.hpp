#pragma once
// Waiting on a condition instead of sleeping: a test polls what it waits for
// and gives up, with a failure that names it, after a bounded time.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace test {

// Polls `ready` until it holds (true) or `timeout` passes (false). Reports
// nothing: usable off the test's main thread, where Boost.Test may not log.
template <class Predicate>
bool poll_until(Predicate ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// As poll_until, and a timeout is a failure that names what was awaited.
template <class Predicate>
bool wait_for(Predicate ready, std::chrono::milliseconds timeout, const std::string& what) {
  if (poll_until(ready, timeout)) return true;
  BOOST_ERROR("timed out after " << timeout.count() << " ms waiting for " << what);
  return false;
}

// Whether `holds` stays true for the whole `window`: the observation a test
// needs to claim that something does NOT happen (a frozen counter stays put).
template <class Predicate>
bool stays_for(Predicate holds, std::chrono::milliseconds window) {
  const auto end = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < end) {
    if (!holds()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return holds();
}

}  // namespace test
