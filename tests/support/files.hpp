#pragma once
// A whole file's text for tests: what they read of /proc, /sys and the
// cgroup files ("" when it cannot be read).

#include <fstream>
#include <sstream>
#include <string>

namespace test {

inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace test
