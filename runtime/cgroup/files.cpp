#include "runtime/cgroup/files.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

#include <limits>
#include <memory>
#include <sstream>

#include "runtime/util/file_io.hpp"
#include "spec/error.hpp"

namespace agentrun::cgroup_files {
namespace {

std::string controller_step(const std::string& controller) {
  return controller.empty() ? "cgroup" : "cgroup " + controller;
}

}  // namespace

std::string parent_of(const std::string& dir) {
  const auto slash = dir.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

std::optional<std::string> read_opt(const std::string& dir, const std::string& file) {
  if (dir.empty()) return std::nullopt;
  auto text = read_whole_file(AT_FDCWD, dir + "/" + file);
  if (text) return std::move(*text);
  // ENODEV: the cgroup was removed between the open and the read (systemd
  // removes a scope's cgroup as soon as its last process exits).
  if (text.error().errnum == ENOENT || text.error().errnum == ENODEV) return std::nullopt;
  throw Failure(Error{"cgroup: read " + file + " in " + dir, "", text.error().errnum});
}

std::string read_req(const std::string& controller, const std::string& dir, const std::string& file) {
  auto text = read_opt(dir, file);
  if (!text) throw Failure(Error{controller_step(controller) + ": read " + file + " in " + dir, "", ENOENT});
  return *text;
}

void write(const std::string& controller, const std::string& dir, const std::string& file, const std::string& value) {
  auto st = write_whole_file(AT_FDCWD, dir + "/" + file, value, O_TRUNC);
  if (!st)
    throw Failure(Error{controller_step(controller) + ": write " + file + " = " + value + " in " + dir, "",
                        st.error().errnum});
}

std::map<std::string, uint64_t> key_values(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string key;
  uint64_t value;
  while (in >> key >> value) out[key] = value;
  return out;
}

uint64_t number(const std::optional<std::string>& text) {
  if (!text) return 0;
  const std::string t = trim(*text);
  if (t == "max") return std::numeric_limits<uint64_t>::max();
  try {
    return std::stoull(t);
  } catch (const std::exception&) {
    return 0;
  }
}

uint64_t value_of(const std::optional<std::string>& text, const std::string& key) {
  if (!text) return 0;
  const auto kv = key_values(*text);
  const auto it = kv.find(key);
  return it == kv.end() ? 0 : it->second;
}

std::vector<std::string> entries(const std::string& dir, bool dirs_only) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return out;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (dirs_only && e->d_type != DT_DIR) continue;
    out.push_back(name);
  }
  return out;
}

}  // namespace agentrun::cgroup_files
