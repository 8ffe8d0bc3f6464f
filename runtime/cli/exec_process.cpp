#include "runtime/cli/exec_process.hpp"

#include <algorithm>
#include <charconv>

#include "runtime/util/file_io.hpp"
#include "spec/error.hpp"
#include "spec/json_reader.hpp"
#include "spec/names.hpp"
#include "spec/parse_config.hpp"

namespace agentrun {
namespace {

uint32_t id_number(std::string_view text, const std::string& flag, const std::string& whole) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size())
    fail(flag + " \"" + whole + "\"", "expects numeric ids (uid[:gid])");
  return v;
}

void set_env(std::vector<std::string>& env, const std::string& entry) {
  if (entry.find('=') == std::string::npos) fail("--env \"" + entry + "\"", "expects NAME=value");
  const std::string key = entry.substr(0, entry.find('=') + 1);
  auto same = [&](const std::string& e) { return e.compare(0, key.size(), key) == 0; };
  env.erase(std::remove_if(env.begin(), env.end(), same), env.end());
  env.push_back(entry);
}

void add_capability(spec::Process& p, const std::string& name) {
  auto cap = spec::capability_from_name(name);
  if (!cap) fail("--cap \"" + name + "\"", "unknown capability");
  if (!p.capabilities) p.capabilities = spec::Capabilities{};
  for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
    if (std::find(set->begin(), set->end(), *cap) == set->end()) set->push_back(*cap);
}

}  // namespace

spec::Process exec_process(const CommandLine& cl, const std::function<spec::Process()>& container_process) {
  if (auto path = cl.value("process")) return spec::parse_process_json(read_input_file(*path, "--process"), *path);
  spec::Process p = container_process();
  p.args.assign(cl.args.begin() + 1, cl.args.end());
  if (p.args.empty()) fail("exec", "no command given (and no --process)");
  p.terminal = flag_enabled(cl.options, "tty");
  p.consoleSize.reset();
  for (const auto& e : cl.values("env")) set_env(p.env, e);
  if (auto cwd = cl.value("cwd")) p.cwd = *cwd;
  if (auto user = cl.value("user")) {
    auto colon = user->find(':');
    p.user.uid = id_number(std::string_view(*user).substr(0, colon), "--user", *user);
    if (colon != std::string::npos) p.user.gid = id_number(std::string_view(*user).substr(colon + 1), "--user", *user);
  }
  for (const auto& g : cl.values("additional-gids")) p.user.additionalGids.push_back(id_number(g, "--additional-gids", g));
  for (const auto& c : cl.values("cap")) add_capability(p, c);
  if (flag_enabled(cl.options, "no-new-privs")) p.noNewPrivileges = true;
  if (auto profile = cl.value("apparmor")) p.apparmorProfile = *profile;
  if (auto label = cl.value("process-label")) p.selinuxLabel = *label;
  return p;
}

policy::ProcessOrigin exec_process_origin(const CommandLine& cl) {
  using Kind = policy::ProcessOrigin::Kind;
  if (auto path = cl.value("process")) return {Kind::process_file, *path, {}};
  policy::ProcessOrigin origin{Kind::flags, "", {}};
  for (const char* flag : {"user", "cap", "cwd", "apparmor", "process-label"})
    if (!cl.values(flag).empty()) origin.flags.insert(flag);
  if (flag_enabled(cl.options, "no-new-privs")) origin.flags.insert("no-new-privs");
  return origin;
}

}  // namespace agentrun
