#pragma once
// The lines of a text, without their newlines: resolv.conf, an nft script,
// the egress log.

#include <string>
#include <string_view>
#include <vector>

namespace agentrun {

// `complete_only`: a last line without its newline (still being written) is
// left out; otherwise it counts.
inline std::vector<std::string_view> text_lines(std::string_view text, bool complete_only = false) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      if (!complete_only) out.push_back(text.substr(pos));
      break;
    }
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

}  // namespace agentrun
