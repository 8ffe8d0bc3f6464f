// What the state root holds: a container's state.json, its stored plan, and
// the cgroup driver's record in it.
#include "fuzz/fuzz_target.hpp"
#include "spec/error.hpp"
#include "runtime/cgroup/drivers.hpp"
#include "runtime/container/store.hpp"
#include "runtime/container/stored_plan.hpp"

namespace {

// Each reader on its own: one refusing the input must not skip the others.
template <class Read>
void attempt(Read read) {
  try {
    read();
  } catch (const agentrun::Failure&) {
  }
}

}  // namespace

void fuzz_text(const std::string& text) {
  attempt([&] { agentrun::parse_record(text, "state.json"); });
  attempt([&] { agentrun::parse_stored_plan(text, "plan.json"); });
  attempt([&] { agentrun::load_cgroups(text); });
}
