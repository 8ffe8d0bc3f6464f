#pragma once
// Text split into lines, fields and words without copies, and words read as
// numbers: resolv.conf, an nft script, the egress log, /proc and cgroup
// files, passwd. No iostreams: a string stream's first use builds the C++
// locale, which costs a start tens of microseconds and 200 KiB of pages.

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentrun {

// The fields of `text` between `sep`s, as std::getline(in, field, sep) reads
// them: an empty field counts, and a `sep` that ends the text starts none.
inline std::vector<std::string_view> text_fields(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find(sep, pos);
    if (end == std::string_view::npos) {
      out.push_back(text.substr(pos));
      break;
    }
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// The lines of a text, without their newlines. `complete_only`: a last line
// without its newline (still being written) is left out; otherwise it counts.
inline std::vector<std::string_view> text_lines(std::string_view text, bool complete_only = false) {
  if (complete_only) text = text.substr(0, text.rfind('\n') + 1);
  return text_fields(text, '\n');
}

// The words of `text`, as `>>` reads strings: runs of anything but white space.
inline std::vector<std::string_view> text_words(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  std::vector<std::string_view> out;
  for (size_t pos = text.find_first_not_of(kSpace); pos != std::string_view::npos;
       pos = text.find_first_not_of(kSpace, pos)) {
    const size_t end = std::min(text.find_first_of(kSpace, pos), text.size());
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// A word that is a decimal number and nothing else.
template <class T>
std::optional<T> number_of(std::string_view word) {
  T value{};
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size() || word.empty()) return std::nullopt;
  return value;
}

}  // namespace agentrun
