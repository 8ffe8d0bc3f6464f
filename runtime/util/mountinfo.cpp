#include "runtime/util/mountinfo.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>

#include "runtime/util/file_io.hpp"

namespace agentrun {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<MountInfo> parse_mountinfo(std::string_view text) {
  std::vector<MountInfo> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    MountInfo m;
    std::string major_minor, options, field;
    if (!(f >> m.id >> m.parent >> major_minor >> m.root >> m.mount_point >> options)) continue;
    while (f >> field && field != "-") {
    }
    if (!(f >> m.fstype >> m.source >> m.super_options)) continue;
    m.root = unescape(m.root);
    m.mount_point = unescape(m.mount_point);
    m.source = unescape(m.source);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<MountInfo> read_mountinfo() {
  auto text = read_whole_file(AT_FDCWD, "/proc/self/mountinfo");
  return text ? parse_mountinfo(*text) : std::vector<MountInfo>{};
}

}  // namespace agentrun
