#include "runtime/container/egress_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include "runtime/util/fd.hpp"
#include "runtime/util/text_lines.hpp"
#include "spec/json_write.hpp"

namespace agentrun {
namespace {

constexpr size_t kMaxRead = size_t{4} << 20;

std::string_view member(const rapidjson::Value& v, const char* key) {
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? std::string_view(it->value.GetString()) : std::string_view();
}

}  // namespace

EgressCounts count_egress_log(std::string_view text) {
  EgressCounts c;
  for (std::string_view line : text_lines(text, true)) {
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    if (d.HasParseError() || !d.IsObject()) {
      ++c.unreadable;
      continue;
    }
    const std::string_view action = member(d, "action");
    if (action == "deny" && member(d, "protocol") == "dns") ++c.names_refused;
    else if (action == "deny") ++c.denied;
    else if (action == "allow") ++c.allowed;
  }
  return c;
}

std::string egress_counts_json(const EgressCounts& c, const std::string& file) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  spec::write_string(w, "file", file);
  spec::write_number(w, "denied", c.denied);
  spec::write_number(w, "allowed", c.allowed);
  spec::write_number(w, "namesRefused", c.names_refused);
  if (c.unreadable) spec::write_number(w, "unreadableLines", c.unreadable);
  w.EndObject();
  return buf.GetString();
}

std::vector<std::string> EgressLogTail::new_lines() {
  std::vector<std::string> out;
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return out;
  if (st.st_ino != inode_ || static_cast<uint64_t>(st.st_size) < offset_) offset_ = 0;  // a fresh file
  inode_ = st.st_ino;
  std::string chunk(std::min<uint64_t>(static_cast<uint64_t>(st.st_size) - offset_, kMaxRead), '\0');
  const ssize_t got = ::pread(fd.get(), chunk.data(), chunk.size(), static_cast<off_t>(offset_));
  if (got <= 0) return out;
  chunk.resize(static_cast<size_t>(got));
  for (std::string_view line : text_lines(chunk, true)) {
    out.emplace_back(line);
    offset_ += line.size() + 1;  // a line still being written is read next time
  }
  return out;
}

}  // namespace agentrun
