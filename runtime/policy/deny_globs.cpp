#include "runtime/policy/deny_globs.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <set>

namespace agentrun::policy {

const std::vector<std::string> kGlobPrunedDirs = {".git", "node_modules"};

namespace {

std::string child(const std::string& dir, const std::string& name) { return (dir == "/" ? "" : dir) + "/" + name; }

class Walk {
 public:
  Walk(const std::vector<std::string>& parts, const ListDir& list, size_t& budget)
      : parts_(parts), list_(list), budget_(budget) {}

  // The directory `dir` stands where parts_[i] is to be matched.
  void visit(const std::string& dir, size_t i) {
    if (truncated_) return;
    const std::string& part = parts_[i];
    if (!is_glob(part) && i + 1 < parts_.size()) return visit(child(dir, part), i + 1);
    const auto entries = listing(dir);
    if (!entries) return;
    if (part == "**") {
      if (i + 1 < parts_.size()) visit(dir, i + 1);
      for (const auto& e : *entries)
        if (e.directory && std::find(kGlobPrunedDirs.begin(), kGlobPrunedDirs.end(), e.name) == kGlobPrunedDirs.end())
          visit(child(dir, e.name), i);
      return;
    }
    for (const auto& e : *entries) {
      if (::fnmatch(part.c_str(), e.name.c_str(), 0) != 0) continue;
      if (i + 1 == parts_.size()) matches_.insert(child(dir, e.name));
      else if (e.directory) visit(child(dir, e.name), i + 1);
    }
  }

  GlobExpansion result() const { return {{matches_.begin(), matches_.end()}, truncated_}; }

 private:
  std::optional<std::vector<DirEntry>> listing(const std::string& dir) {
    auto entries = list_(dir);
    if (!entries) return entries;
    if (entries->size() > budget_) {
      truncated_ = true;
      budget_ = 0;
      return std::nullopt;
    }
    budget_ -= entries->size();
    return entries;
  }

  const std::vector<std::string>& parts_;
  const ListDir& list_;
  size_t& budget_;
  bool truncated_ = false;
  std::set<std::string> matches_;
};

}  // namespace

bool is_glob(const std::string& pattern) { return pattern.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> path_components(const std::string& path) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < path.size();) {
    const size_t end = std::min(path.find('/', pos), path.size());
    if (end > pos) out.push_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

GlobExpansion expand_glob(const std::string& pattern, const ListDir& list, size_t& budget) {
  const std::vector<std::string> parts = path_components(pattern);
  if (parts.empty()) return {};
  Walk walk(parts, list, budget);
  walk.visit("/", 0);
  return walk.result();
}

}  // namespace agentrun::policy
