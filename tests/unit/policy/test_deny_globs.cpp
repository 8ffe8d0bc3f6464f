// denyRead patterns with wildcards, expanded over an imitation of a
// container's directories.
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

#include "runtime/policy/deny_globs.hpp"

using namespace agentrun::policy;

namespace {

// dir -> entries; a name ending in "/" is a directory.
struct Tree {
  std::map<std::string, std::vector<std::string>> dirs;
  mutable std::vector<std::string> listed;
  ListDir lister() const {
    return [this](const std::string& dir) -> std::optional<std::vector<DirEntry>> {
      listed.push_back(dir);
      auto it = dirs.find(dir);
      if (it == dirs.end()) return std::nullopt;
      std::vector<DirEntry> out;
      for (const auto& n : it->second)
        out.push_back(n.back() == '/' ? DirEntry{n.substr(0, n.size() - 1), true} : DirEntry{n, false});
      return out;
    };
  }
};

const Tree kWorkspace{{{"/workspace", {".env", "app/", "README", ".git/", "node_modules/"}},
                       {"/workspace/app", {".env.local", ".env", "src/", "env.txt"}},
                       {"/workspace/app/src", {"main.c", ".env.production"}},
                       {"/workspace/.git", {".env"}},
                       {"/workspace/node_modules", {".env"}},
                       {"/home", {"alice/", "bob/"}},
                       {"/root", {".bash_history", ".zsh_history", ".history-not", ".profile"}}}};

std::vector<std::string> expand(const Tree& t, const std::string& pattern, size_t budget = 1000) {
  return expand_glob(pattern, t.lister(), budget).matches;
}

}  // namespace

BOOST_AUTO_TEST_CASE(double_star_matches_any_depth_and_none) {
  BOOST_TEST(expand(kWorkspace, "/workspace/**/.env") ==
                 (std::vector<std::string>{"/workspace/.env", "/workspace/app/.env"}),
             boost::test_tools::per_element());
  BOOST_TEST(expand(kWorkspace, "/workspace/**/.env.*") ==
                 (std::vector<std::string>{"/workspace/app/.env.local", "/workspace/app/src/.env.production"}),
             boost::test_tools::per_element());
}

// .git and node_modules are not searched by "**"; named, they are.
BOOST_AUTO_TEST_CASE(pruned_directories_only_when_named) {
  BOOST_TEST(expand(kWorkspace, "/workspace/.git/.env") == std::vector<std::string>{"/workspace/.git/.env"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(single_component_wildcards) {
  BOOST_TEST(expand(kWorkspace, "/root/.*history") ==
                 (std::vector<std::string>{"/root/.bash_history", "/root/.zsh_history"}),
             boost::test_tools::per_element());
  BOOST_TEST(expand(kWorkspace, "/home/*") == (std::vector<std::string>{"/home/alice", "/home/bob"}),
             boost::test_tools::per_element());
  BOOST_TEST(expand(kWorkspace, "/nowhere/*").empty());
  BOOST_TEST((is_glob("/a/*") && is_glob("/a/?") && is_glob("/a/[ab]") && !is_glob("/a/b")));
}

// Literal components are not listed: only where a wildcard stands.
BOOST_AUTO_TEST_CASE(only_what_the_pattern_reaches_is_listed) {
  Tree t = kWorkspace;
  t.listed.clear();  // what the other cases listed through kWorkspace
  size_t budget = 1000;
  expand_glob("/root/.*history", t.lister(), budget);
  BOOST_TEST(t.listed == std::vector<std::string>{"/root"}, boost::test_tools::per_element());
  BOOST_TEST(budget == 996u);
}

// The search has a bound: a huge workspace cannot stall create.
BOOST_AUTO_TEST_CASE(the_search_stops_at_its_bound) {
  size_t budget = 6;
  const GlobExpansion e = expand_glob("/workspace/**/.env", kWorkspace.lister(), budget);
  BOOST_TEST(e.truncated);
  BOOST_TEST(budget == 0u);
}
