#include "hooks/hooks.hpp"

#include <sys/wait.h>

#include "runtime/util/child_process.hpp"

namespace agentrun {
namespace {

constexpr size_t kMaxOutput = 4096;

Status run_hook(const spec::Hook& hook, const std::string& step, const std::string& input) {
  const std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  const int64_t deadline = hook.timeout ? monotonic_ms() + int64_t{*hook.timeout} * 1000 : 0;
  AR_TRY_ASSIGN(ChildResult run, run_child(hook.path, args, hook.env, input, deadline, kMaxOutput, step));
  if (WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) return {};
  std::string& output = run.output;
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return plain_error(step, describe_wait_status(run.status) + (output.empty() ? "" : ", output: " + output));
}

std::string hook_step(const std::vector<spec::Hook>& hooks, const std::string& kind, size_t i) {
  return kind + " hook #" + std::to_string(i) + " (" + hooks[i].path + ")";
}

}  // namespace

Status run_hooks(const std::vector<spec::Hook>& hooks, const std::string& kind,
                 const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) AR_TRY(run_hook(hooks[i], hook_step(hooks, kind, i), state_json));
  return {};
}

std::vector<Error> run_every_hook(const std::vector<spec::Hook>& hooks, const std::string& kind,
                                  const std::string& state_json) {
  std::vector<Error> failures;
  for (size_t i = 0; i < hooks.size(); ++i) {
    Status s = run_hook(hooks[i], hook_step(hooks, kind, i), state_json);
    if (!s) failures.push_back(std::move(s).error());
  }
  return failures;
}

}  // namespace agentrun
