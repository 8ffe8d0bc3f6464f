#pragma once
// A whole file's text for tests: what they read of /proc, /sys and the
// cgroup files ("" when it cannot be read), and imitations of such files.

#include <filesystem>
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

// Writes `text` to `path`, making its parent directories.
inline void put_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

}  // namespace test
