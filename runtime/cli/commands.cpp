#include "runtime/cli/commands.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "runtime/cgroup/host_layout.hpp"
#include "runtime/cgroup/report.hpp"
#include "runtime/cli/default_spec.hpp"
#include "runtime/cli/features.hpp"
#include "runtime/cli/update_request.hpp"
#include "runtime/container/egress_log.hpp"
#include "runtime/container/lifecycle.hpp"
#include "runtime/container/ps.hpp"
#include "runtime/container/store.hpp"
#include "runtime/policy/apply.hpp"
#include "runtime/policy/host_probe.hpp"
#include "runtime/policy/preflight.hpp"
#include "runtime/policy/update_limits.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/log.hpp"
#include "spec/error.hpp"
#include "spec/json_reader.hpp"
#include "spec/json_write.hpp"
#include "spec/names.hpp"

namespace agentrun {
namespace {

void print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

int cmd_start(const CommandLine& cl, const CgroupDrivers& cgroups) {
  start_created_container(store_of(cl), cgroups, cl.args[0]);
  return 0;
}

int cmd_pause(const CommandLine& cl, const CgroupDrivers& cgroups) {
  pause_container(store_of(cl), cgroups, cl.args[0]);
  return 0;
}

int cmd_resume(const CommandLine& cl, const CgroupDrivers& cgroups) {
  resume_container(store_of(cl), cgroups, cl.args[0]);
  return 0;
}

// `ps`: the host's ps, rows kept for the container's processes (as runc).
int cmd_ps(const CommandLine& cl, const CgroupDrivers& cgroups) {
  const Store store = store_of(cl);
  const ContainerRecord r = store.load(cl.args[0]);
  const std::vector<pid_t> pids = container_cgroup_of(cgroups, r)->processes();
  const std::string format = cl.value("format").value_or("table");
  if (format == "json") {
    std::string out = "[";
    for (size_t i = 0; i < pids.size(); ++i) out += (i ? "," : "") + std::to_string(pids[i]);
    print(out + "]\n");
    return 0;
  }
  if (format != "table") fail("ps --format", "expects table or json, not \"" + format + "\"");
  std::vector<std::string> args(cl.args.begin() + 1, cl.args.end());
  if (args.empty()) args = {"-ef"};
  print(filter_ps_output(run_ps(args), pids));
  return 0;
}

int cmd_update(const CommandLine& cl, const CgroupDrivers& cgroups) {
  const Store store = store_of(cl);
  const std::string& id = cl.args[0];
  std::string text;
  if (auto path = cl.value("resources"))
    text = *path == "-" ? read_all(0, "stdin").or_throw() : read_input_file(*path, "--resources");
  const spec::Resources resources = update_resources(cl, text);
  ContainerLock lock = store.lock(id);
  const ContainerRecord r = store.load(id);
  if (container_status(store, cgroups, r) == ContainerStatus::stopped) fail("update container " + id, "it is stopped");
  // The policy the container was created with, not --policy: its limits are
  // ceilings, and a refusal comes before anything is written.
  const policy::LimitedUpdate limited =
      policy::limit_update(stored_policy(store, id), resources,
                           cl.has("resources") ? policy::UpdateSource::resources_file : policy::UpdateSource::flags);
  for (const auto& warning : limited.warnings) log_message(LogLevel::warning, warning);
  container_cgroup_of(cgroups, r)->update(limited.resources);
  return 0;
}

// Sleeps `interval_ms`, or less when the OOM count passes `ooms`, so that
// an OOM kill is reported at once.
void wait_for_interval_or_oom(const CgroupManager& cgroup, uint64_t interval_ms, uint64_t ooms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return;
    cgroup.wait_for_oom(static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (cgroup.oom_kill_count() > ooms) return;
  }
}

// `events`: one stats record with --stats; otherwise a record every
// interval and an "oom" event whenever the kernel OOM-killed a process,
// until the container stops.
int cmd_events(const CommandLine& cl, const CgroupDrivers& cgroups) {
  const Store store = store_of(cl);
  const std::string& id = cl.args[0];
  const ContainerRecord r = store.load(id);
  const auto cgroup = container_cgroup_of(cgroups, r);
  if (flag_enabled(cl.options, "stats")) {
    print(cgroup->stats_json(id) + "\n");
    return 0;
  }
  const uint64_t interval = parse_duration_ms(cl.value("interval").value_or("5s"), "interval");
  cgroup->watch_oom();
  uint64_t ooms = cgroup->oom_kill_count();
  // Egress records as the guard logs them, from the start of its log.
  EgressLogTail egress(store.file_path(id, "egress.log"));
  for (;;) {
    const bool running =
        store.exists(id) && container_status(store, cgroups, store.load(id)) != ContainerStatus::stopped;
    // Also after the end: the OOM kill may be what ended it.
    for (uint64_t n = cgroup->oom_kill_count(); ooms < n; ++ooms) print("{\"type\":\"oom\",\"id\":\"" + id + "\"}\n");
    for (const auto& line : egress.new_lines())
      print("{\"type\":\"egress\",\"id\":" + spec::json_quote(id) + ",\"data\":" + line + "}\n");
    if (!running) break;
    print(cgroup->stats_json(id) + "\n");
    std::fflush(stdout);
    wait_for_interval_or_oom(*cgroup, interval, ooms);
  }
  return 0;
}

int cmd_inspect(const CommandLine& cl, const CgroupDrivers&) {
  const Store store = store_of(cl);
  const std::string& id = cl.args[0];
  store.load(id);
  std::string record = read_input_file(store.file_path(id, "isolation.json"), "the container's isolation record");
  // What the egress guard has logged so far, counted now.
  const std::string log = store.file_path(id, "egress.log");
  if (auto text = read_regular_file(AT_FDCWD, log, kMaxInputBytes, O_NOFOLLOW)) {
    const size_t close = record.rfind('}');
    if (close != std::string::npos)
      record.insert(close, ",\n  \"egressLog\": " + egress_counts_json(count_egress_log(*text), log) + "\n");
  }
  print(record);
  return 0;
}

// Every feature with what the host says, then whether the policy's
// requirements are met here; the exit status says whether it would start.
int cmd_preflight(const CommandLine& cl, const CgroupDrivers&) {
  const std::string format = cl.value("format").value_or("table");
  if (format != "table" && format != "json") fail("preflight --format", "expects table or json, not \"" + format + "\"");
  const auto flag = cl.value("policy") ? cl.value("policy") : global_policy(cl);
  const policy::Selected selected = policy::select_policy(policy::selection_input(flag, {}));
  const bool systemd = flag_enabled(cl.global, "systemd-cgroup");
  CgroupLayout layout = detect_cgroup_layout();
  if (!systemd) mark_blocked_controllers(layout);  // as create does
  const auto probes = probe_features(layout, probe_host());
  const CgroupReport cgroups = report_cgroups(layout, systemd);
  std::vector<std::string> missing;
  for (const auto& feature : selected.policy.require)
    for (const auto& p : probes)
      if (p.name == feature && !p.available) missing.push_back(feature + " (" + p.reason + ")");
  // Without a working cgroup driver nothing starts, whatever the policy.
  const bool starts =
      cgroups.usable && (missing.empty() || selected.policy.isolation == policy::Isolation::best_effort);
  if (!cgroups.usable) missing.insert(missing.begin(), "the " + cgroups.driver + " cgroup driver (" + cgroups.detail + ")");
  if (format == "json") {
    std::string out = "{\"policy\":" + spec::json_quote(selected.policy.name) + ",\"wouldStart\":" +
                      (starts ? "true" : "false") + ",\"cgroup\":" + cgroup_report_json(cgroups) +
                      ",\"features\":" + preflight_json(probes) + "}\n";
    print(out);
  } else {
    print(preflight_table(probes));
    print("\n" + cgroup_report_text(cgroups));
    print("\npolicy " + selected.policy.name + " (" + policy::isolation_name(selected.policy.isolation) + "): " +
          (missing.empty() ? "every required feature is available: it would start\n"
                           : std::string(starts ? "would start without: " : "would NOT start, missing: ")));
    for (size_t i = 0; i < missing.size(); ++i) print((i ? ", " : "") + missing[i] + (i + 1 == missing.size() ? "\n" : ""));
  }
  return starts ? 0 : 1;
}

int cmd_state(const CommandLine& cl, const CgroupDrivers& cgroups) {
  const Store store = store_of(cl);
  print(container_state_json(store, cgroups, store.load(cl.args[0]), true) + "\n");
  return 0;
}

int cmd_kill(const CommandLine& cl, const CgroupDrivers& cgroups) {
  int signal = SIGTERM;
  if (cl.args.size() > 1) {
    auto s = spec::signal_from_string(cl.args[1]);
    if (!s) fail("kill", "unknown signal \"" + cl.args[1] + "\"");
    signal = *s;
  }
  kill_container(store_of(cl), cgroups, cl.args[0], signal, flag_enabled(cl.options, "all"));
  return 0;
}

int cmd_delete(const CommandLine& cl, const CgroupDrivers& cgroups) {
  delete_container(store_of(cl), cgroups, cl.args[0], flag_enabled(cl.options, "force"));
  return 0;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

int cmd_list(const CommandLine& cl, const CgroupDrivers& cgroups) {
  const Store store = store_of(cl);
  const std::string format = cl.value("format").value_or("table");
  if (format != "table" && format != "json") fail("list --format", "expects table or json, not \"" + format + "\"");
  const std::vector<Listed> listed = list_containers(store, cgroups);
  for (const auto& l : listed)
    if (!l.problem.empty()) log_message(LogLevel::warning, l.problem);
  if (flag_enabled(cl.options, "quiet")) {
    for (const auto& l : listed) print(l.record.id + "\n");
    return 0;
  }
  if (format == "json") {
    std::string out = "[";
    for (size_t i = 0; i < listed.size(); ++i) out += (i ? "," : "") + listed[i].state_json;
    print(out + "]\n");
    return 0;
  }
  size_t w = 2;
  for (const auto& l : listed) w = std::max(w, l.record.id.size());
  print(pad("ID", w + 3) + pad("PID", 10) + pad("STATUS", 10) + pad("BUNDLE", 40) + pad("CREATED", 33) + "OWNER\n");
  for (const auto& l : listed) {
    const ContainerRecord& r = l.record;
    print(pad(r.id, w + 3) + pad(std::to_string(r.pid), 10) + pad(l.status, 10) + pad(r.bundle, 40) +
          pad(r.created, 33) + (r.owner.empty() ? "root" : r.owner) + "\n");
  }
  return 0;
}

int cmd_spec(const CommandLine& cl, const CgroupDrivers&) {
  const std::string bundle = cl.value("bundle").value_or(".");
  const std::string path = bundle + "/config.json";
  const std::string text = default_spec_json(flag_enabled(cl.options, "rootless"), ::getuid(), ::getgid());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) fail("spec", path + " exists: remove it first");
    fail_errno("write " + path, errno);
  }
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) fail_errno("write " + path, n < 0 ? err : EIO);
  return 0;
}

int cmd_features(const CommandLine&, const CgroupDrivers&) {
  print(features_json(probe_host()));
  return 0;
}

}  // namespace

Store store_of(const CommandLine& cl) {
  auto it = cl.global.find("root");
  return Store(it == cl.global.end() ? "/run/agentrun" : it->second);
}

std::optional<std::string> global_policy(const CommandLine& cl) {
  auto it = cl.global.find("policy");
  return it == cl.global.end() ? std::nullopt : std::optional<std::string>(it->second);
}

int run_command(const CommandLine& cl, const CgroupDrivers& cgroups) {
  static const std::pair<const char*, int (*)(const CommandLine&, const CgroupDrivers&)> kCommands[] = {
      {"start", cmd_start},   {"state", cmd_state},   {"kill", cmd_kill},       {"delete", cmd_delete},
      {"list", cmd_list},     {"spec", cmd_spec},     {"features", cmd_features}, {"pause", cmd_pause},
      {"resume", cmd_resume}, {"ps", cmd_ps},         {"update", cmd_update},   {"events", cmd_events},
      {"inspect", cmd_inspect}, {"preflight", cmd_preflight},
  };
  for (const auto& [name, fn] : kCommands)
    if (cl.command == name) return fn(cl, cgroups);
  fail("unknown command \"" + cl.command + "\"", "see agentrun --help");
}

}  // namespace agentrun
