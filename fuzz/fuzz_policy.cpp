// A policy document: parsed, written back and parsed again (inspect shows
// the written form), and merged with a built-in as a floor would be.
#include <cstdio>
#include <cstdlib>

#include "fuzz/fuzz_target.hpp"
#include "runtime/policy/merge.hpp"
#include "runtime/policy/parse_policy.hpp"
#include "runtime/policy/select.hpp"
#include "spec/error.hpp"

void fuzz_text(const std::string& text) {
  using namespace agentrun::policy;
  const Policy p = parse_policy(text, "policy");
  // What agentrun writes of a policy it accepted (policy.json, inspect) must read back.
  Policy again;
  try {
    again = parse_policy(policy_json(p), "policy (written)");
  } catch (const agentrun::Failure& f) {
    std::fprintf(stderr, "the written policy does not read back: %s\n", f.what());
    std::abort();
  }
  merge_policies(load_policy("agent-default", "/nonexistent"), again);
}
