#include "runtime/cgroup/files.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

#include <limits>
#include <memory>

#include "runtime/util/text_lines.hpp"
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

std::optional<std::string> read_opt(CgroupFs& fs, const std::string& dir, const std::string& file) {
  if (dir.empty()) return std::nullopt;
  std::string text;
  const int err = fs.read_file(dir + "/" + file, text);
  if (err == 0) return text;
  // ENODEV: the cgroup was removed between the open and the read (systemd
  // removes a scope's cgroup as soon as its last process exits).
  if (err == ENOENT || err == ENODEV) return std::nullopt;
  throw Failure(Error{"cgroup: read " + file + " in " + dir, "", err});
}

std::string read_req(CgroupFs& fs, const std::string& controller, const std::string& dir, const std::string& file) {
  auto text = read_opt(fs, dir, file);
  if (!text) throw Failure(Error{controller_step(controller) + ": read " + file + " in " + dir, "", ENOENT});
  return *text;
}

void write(CgroupFs& fs, const std::string& controller, const std::string& dir, const std::string& file,
           const std::string& value) {
  if (const int err = fs.write_file(dir + "/" + file, value))
    throw Failure(Error{controller_step(controller) + ": write " + file + " = " + value + " in " + dir, "", err});
}

std::map<std::string, uint64_t> key_values(const std::string& text) {
  std::map<std::string, uint64_t> out;
  const std::vector<std::string_view> w = text_words(text);
  for (size_t i = 0; i + 1 < w.size(); i += 2) {
    const auto value = number_of<uint64_t>(w[i + 1]);
    if (!value) break;
    out[std::string(w[i])] = *value;
  }
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
