#include "runtime/policy/merge.hpp"

#include <algorithm>

#include "runtime/util/in_root.hpp"

namespace agentrun::policy {
namespace {

template <class T>
std::vector<T> unite(std::vector<T> a, const std::vector<T>& b) {
  for (const auto& x : b)
    if (std::find(a.begin(), a.end(), x) == a.end()) a.push_back(x);
  return a;
}

template <class T>
std::optional<std::vector<T>> intersect(const std::optional<std::vector<T>>& a, const std::optional<std::vector<T>>& b) {
  if (!a) return b;
  if (!b) return a;
  std::vector<T> out;
  for (const auto& x : *a)
    if (std::find(b->begin(), b->end(), x) != b->end()) out.push_back(x);
  return out;
}

// Paths allowed by both: each path of one list that lies within a path of the other.
std::optional<std::vector<std::string>> intersect_paths(const std::optional<std::vector<std::string>>& a,
                                                        const std::optional<std::vector<std::string>>& b) {
  if (!a) return b;
  if (!b) return a;
  std::vector<std::string> out;
  auto keep_within = [&out](const std::vector<std::string>& from, const std::vector<std::string>& bounds) {
    for (const auto& p : from)
      if (std::any_of(bounds.begin(), bounds.end(), [&](const std::string& q) { return path_within(p, q); }) &&
          std::find(out.begin(), out.end(), p) == out.end())
        out.push_back(p);
  };
  keep_within(*a, *b);
  keep_within(*b, *a);
  return out;
}

std::optional<bool> either(std::optional<bool> a, std::optional<bool> b) {
  if (!a) return b;
  if (!b) return a;
  return *a || *b;
}

std::optional<bool> both(std::optional<bool> a, std::optional<bool> b) {
  if (!a) return b;
  if (!b) return a;
  return *a && *b;
}

template <class T>
std::optional<T> lower(std::optional<T> a, std::optional<T> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// Egress allowed by both: deny if either denies by default, every deny of
// either, and under default deny only what each lets through (as written).
std::optional<Egress> both_egress(const std::optional<Egress>& a, const std::optional<Egress>& b) {
  if (!a) return b;
  if (!b) return a;
  Egress m;
  const bool a_denies = a->fallback == EgressDefault::deny, b_denies = b->fallback == EgressDefault::deny;
  m.fallback = a_denies || b_denies ? EgressDefault::deny : EgressDefault::allow;
  m.deny = unite(a->deny, b->deny);
  m.log = std::max(a->log, b->log);
  if (a_denies && b_denies) m.allow = *intersect(std::optional(a->allow), std::optional(b->allow));
  else if (a_denies) m.allow = a->allow;
  else if (b_denies) m.allow = b->allow;
  return m;
}

}  // namespace

bool path_within(const std::string& path_in, const std::string& base_in) {
  // By name, ".." resolved first: "/workspace/../etc" is /etc.
  const std::string path = clean_path(path_in), base = clean_path(base_in);
  if (base == "/") return true;
  return path == base || (path.size() > base.size() && path.compare(0, base.size(), base) == 0 && path[base.size()] == '/');
}

Policy merge_policies(const Policy& floor, const Policy& chosen) {
  Policy m;
  m.name = chosen.name == floor.name ? chosen.name : chosen.name + "+" + floor.name;
  m.file = floor.file.empty() || floor.file == chosen.file ? chosen.file
           : chosen.file.empty()                            ? floor.file
                                                            : chosen.file + ", " + floor.file;
  m.description = chosen.description;
  m.isolation = floor.isolation == Isolation::strict || chosen.isolation == Isolation::strict ? Isolation::strict
                                                                                                : Isolation::best_effort;
  m.require = unite(floor.require, chosen.require);

  m.filesystem.readonlyRoot = either(floor.filesystem.readonlyRoot, chosen.filesystem.readonlyRoot);
  m.filesystem.protectRepoHooks = either(floor.filesystem.protectRepoHooks, chosen.filesystem.protectRepoHooks);
  m.filesystem.writable = intersect_paths(floor.filesystem.writable, chosen.filesystem.writable);
  m.filesystem.denyRead = unite(floor.filesystem.denyRead, chosen.filesystem.denyRead);
  m.filesystem.denyExec = unite(floor.filesystem.denyExec, chosen.filesystem.denyExec);
  m.filesystem.execFrom = intersect_paths(floor.filesystem.execFrom, chosen.filesystem.execFrom);

  m.process.noNewPrivileges = either(floor.process.noNewPrivileges, chosen.process.noNewPrivileges);
  m.process.allowRoot = both(floor.process.allowRoot, chosen.process.allowRoot);
  m.process.allowPrivileged = both(floor.process.allowPrivileged, chosen.process.allowPrivileged);
  m.process.capabilities = intersect(floor.process.capabilities, chosen.process.capabilities);

  m.seccomp.baseline = floor.seccomp.baseline.empty() ? chosen.seccomp.baseline : floor.seccomp.baseline;
  m.seccomp.plus = unite(floor.seccomp.plus, chosen.seccomp.plus);

  const bool no_network = floor.network.mode == NetworkMode::none || chosen.network.mode == NetworkMode::none;
  m.network.mode = no_network ? std::optional(NetworkMode::none) : (floor.network.mode ? floor.network.mode : chosen.network.mode);
  m.network.tcpConnect = intersect(floor.network.tcpConnect, chosen.network.tcpConnect);
  m.network.tcpBind = intersect(floor.network.tcpBind, chosen.network.tcpBind);
  m.network.egress = both_egress(floor.network.egress, chosen.network.egress);

  m.resources.pidsMax = lower(floor.resources.pidsMax, chosen.resources.pidsMax);
  m.resources.memoryMax = lower(floor.resources.memoryMax, chosen.resources.memoryMax);
  m.resources.nofileMax = lower(floor.resources.nofileMax, chosen.resources.nofileMax);
  return m;
}

}  // namespace agentrun::policy
