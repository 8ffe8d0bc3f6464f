#include "runtime/util/mountinfo.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/util/file_io.hpp"
#include "runtime/util/text_lines.hpp"

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
  for (std::string_view line : text_lines(text)) {
    // id parent major:minor root mount-point options [optional fields] - fstype source super-options
    const std::vector<std::string_view> f = text_words(line);
    if (f.size() < 6) continue;
    const auto dash = std::find(f.begin() + 6, f.end(), "-");
    const auto id = number_of<int>(f[0]), parent = number_of<int>(f[1]);
    if (!id || !parent || f.end() - dash < 4) continue;
    out.push_back({*id, *parent, unescape(f[3]), unescape(f[4]), std::string(dash[1]), unescape(dash[2]),
                   std::string(dash[3])});
  }
  return out;
}

std::vector<MountInfo> read_mountinfo() {
  auto text = read_whole_file(AT_FDCWD, "/proc/self/mountinfo");
  return text ? parse_mountinfo(*text) : std::vector<MountInfo>{};
}

}  // namespace agentrun
