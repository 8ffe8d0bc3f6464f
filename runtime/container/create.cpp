#include "runtime/container/create.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <functional>

#include "hooks/hooks.hpp"
#include "runtime/cgroup/host_layout.hpp"
#include "runtime/cgroup/warm_up.hpp"
#include "runtime/confine/nft_install.hpp"
#include "runtime/container/egress_guard.hpp"
#include "runtime/container/launch.hpp"
#include "runtime/container/seccomp_filters.hpp"
#include "runtime/container/stored_plan.hpp"
#include "runtime/init/rootfs.hpp"
#include "runtime/policy/apply.hpp"
#include "runtime/policy/host_probe.hpp"
#include "runtime/policy/parse_policy.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/log.hpp"
#include "runtime/util/prefault.hpp"
#include "runtime/util/sealed_exec.hpp"
#include "runtime/util/unix_socket.hpp"
#include "spec/json_reader.hpp"
#include "spec/parse_config.hpp"
#include "spec/validate.hpp"

namespace agentrun {
namespace {

std::string absolute_bundle(const std::string& bundle) {
  char resolved[PATH_MAX];
  const std::string path = bundle.empty() ? "." : bundle;
  if (!::realpath(path.c_str(), resolved)) fail_errno("bundle " + path, errno);
  return resolved;
}

// Removes the state directory unless the container was created.
class StateGuard {
 public:
  StateGuard(const Store& store, std::string id) : store_(store), id_(std::move(id)) {}
  ~StateGuard() {
    if (armed_) try {
        store_.remove(id_);
      } catch (const Failure& f) {
        log_message(LogLevel::error, std::string("clean up after a failed create: ") + f.what());
      }
  }
  void release() { armed_ = false; }

 private:
  const Store& store_;
  std::string id_;
  bool armed_ = true;
};

}  // namespace

void write_pid_file(const std::string& path, pid_t pid) {
  if (Status s = replace_file(AT_FDCWD, path, std::to_string(pid)); !s)
    throw Failure(Error{"write pid file " + path, s.error().message(), 0});
}

namespace {

int listen_fds_from_environment() {
  const char* fds = std::getenv("LISTEN_FDS");
  const char* pid = std::getenv("LISTEN_PID");
  if (!fds || !pid || std::atoi(pid) != ::getpid()) return 0;
  int n = std::atoi(fds);
  return n > 0 ? n : 0;
}

PlanOptions plan_options(const CreateRequest& r, const std::string& bundle) {
  PlanOptions o;
  o.id = r.id;
  o.bundle = bundle;
  o.no_pivot = r.no_pivot;
  o.no_new_keyring = r.no_new_keyring;
  o.preserve_fds = r.preserve_fds;
  o.listen_fds = listen_fds_from_environment();
  return o;
}

// Removes the cgroups of a container that was not created; its processes are gone by then.
struct CgroupGuard {
  CgroupManager& cgroup;
  bool armed = true;
  ~CgroupGuard() {
    if (armed) try {
        cgroup.destroy();
      } catch (const Failure& f) {
        log_message(LogLevel::error, std::string("clean up after a failed create: ") + f.what());
      }
  }
};

constexpr size_t kEgressRulesHeap = 120 * 1024;  // about what agent-default's rules take

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// The container reads its repositories' .git/config without credentials:
// a copy kept in the state directory, bound read-only over each.
void bind_copies_without_credentials(const Store& store, const ContainerLock& lock, const std::string& id,
                                     const policy::Applied& applied, spec::Config& config) {
  size_t n = 0;
  for (const auto& [path, text] : applied.without_credentials) {
    const std::string name = "git-config-" + std::to_string(n++);
    store.save_file(lock, id, name, text);
    config.mounts.push_back(
        {path, "bind", store.file_path(id, name), {"bind", "ro", "nosuid", "nodev", "noexec"}, {}, {}});
  }
}

// What create does as the init comes up, in this order.
struct InitSteps {
  std::function<void(pid_t, uint64_t)> record_init;  // its pid and start time
  std::function<void()> make_cgroups;                 // those that wait for the init (v1's)
  std::function<void()> record_cgroups;               // those joining it made (systemd's scope)
  std::function<void()> while_init_sets_up;           // egress rules
  std::function<void(const Launched&)> started;       // empty: the init waits for `start`
};

// Whether a container may start as soon as its init is ready, with no
// `start` of its own: no hook runs between create and start or after it,
// and no seccomp listener waits for its notify fd (start hands it over).
bool may_start_at_ready(const Plan& plan) {
  const spec::Hooks& h = plan.hooks;
  return h.prestart.empty() && h.createRuntime.empty() && h.createContainer.empty() && h.startContainer.empty() &&
         h.poststart.empty() && plan.seccomp_listener_path.empty();
}

// create's side of the init's protocol (init/container_init is the other):
// create hands the init its network namespace; the init mounts while create
// records it, makes v1 cgroups and puts it in them (a join waits for an RCU
// grace period); the egress rules go in once the init says it is in that
// namespace (its first word). The init asks for the prestart and createRuntime hooks,
// reports what it blocked and says when it is ready, then waits for `start`
// on its start socket, or (`started`: a `run`) is told on this channel.
class InitProtocol : public Protocol {
 public:
  InitProtocol(InitEntry init, CgroupManager& cgroup, InitSteps steps)
      : init_(init), cgroup_(cgroup), steps_(std::move(steps)) {}

  bool sets_up_container() const override { return true; }

  [[noreturn]] void run_child(const Plan& plan, InitIo io) const override {
    init_(linux_sys(), plan, std::move(io));
    std::abort();  // the init's entry does not return
  }

  void converse(const Plan& plan, Conversation& c, Launched& out) const override {
    // The init sets up its mounts while its pid is recorded: a create
    // killed before the record takes the init with it (PR_SET_PDEATHSIG).
    out.start_time = process_start_time(out.pid);
    give_network_namespace(linux_sys(), plan, c);
    steps_.record_init(out.pid, out.start_time);
    steps_.make_cgroups();
    cgroup_.join_init(out.pid, c.born_in_cgroup());
    steps_.record_cgroups();
    c.tell(MsgType::cgroup_joined);
    if (plan.creates(spec::NamespaceType::network)) await_network_namespace(c);
    steps_.while_init_sets_up();
    // Nothing else waits between create and start: the start is queued, and
    // the init goes from ready to its process without waiting for create.
    if (steps_.started) c.tell(MsgType::start);
    for (;;) {
      Message m = c.expect("setting up the container");
      if (m.type == MsgType::ready) break;
      if (m.type == MsgType::run_hooks) {
        std::string state = plan_state_json(plan, "creating", out.pid);
        run_hooks(plan.hooks.prestart, "prestart", state).or_throw();
        run_hooks(plan.hooks.createRuntime, "createRuntime", state).or_throw();
        c.tell(MsgType::hooks_done);
      } else if (m.type == MsgType::report) {
        out.blocked.push_back(m.error.step);
      } else {
        fail("create container", "unexpected message from its init");
      }
    }
    if (!steps_.started) return;
    steps_.started(out);
    // Its end of the channel closes on a successful exec (close-on-exec).
    if (c.until_exec()) fail("start container", "unexpected message from its init");
  }

 private:
  InitEntry init_;
  CgroupManager& cgroup_;
  InitSteps steps_;
};

}  // namespace

int parse_preserve_fds(const std::string& value) {
  int n = -1;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || p != value.data() + value.size() || n < 0 || n > 1024)
    fail("--preserve-fds", "expects a number from 0 to 1024, not \"" + value + "\"");
  for (int fd = 3; fd < 3 + n; ++fd)
    if (::fcntl(fd, F_GETFD) < 0) fail("--preserve-fds " + value, "descriptor " + std::to_string(fd) + " is not open");
  return n;
}

std::unique_ptr<CgroupManager> container_cgroup(const Store& store, const CgroupDrivers& cgroups,
                                                const CgroupLayout& layout, const spec::Config& config,
                                                const CreateRequest& request) {
  auto own = read_whole_file(AT_FDCWD, "/proc/self/cgroup");
  if (!own) throw Failure(own.error());
  return cgroups.plan({layout, parse_proc_cgroup(*own), config.linux.cgroupsPath, request.id, request.systemd_cgroup,
                       config.annotations, store.root()});
}

std::string rootfs_of(const std::string& bundle, const spec::Config& config) {
  return config.root.path.rfind('/', 0) == 0 ? config.root.path : bundle + "/" + config.root.path;
}

Created create_container(const Store& store, const CreateRequest& request, const CgroupDrivers& cgroups,
                         InitEntry init_entry) {
  check_container_id(request.id);
  const std::string bundle = absolute_bundle(request.bundle);
  const std::string config_text = read_input_file(bundle + "/config.json", "config.json");
  const spec::JsonDocument document(config_text, "config.json");
  spec::Config config = spec::parse_config(document.root());
  const HostFacts host = probe_host();
  spec::validate_config(config);
  std::vector<MountInfo> cgroup_mounts;
  CgroupLayout layout = detect_cgroup_layout(&cgroup_mounts);
  // A systemd scope is delegated every controller systemd has; the cgroupfs
  // driver's cgroups go beside the runtime's own.
  if (!request.systemd_cgroup) mark_blocked_controllers(layout);

  // The state directory makes the id ours; then the cgroups, early (v1's
  // once the init is cloned), and the warm-up, whose grace period runs
  // alongside the policy and the plan.
  ContainerLock lock = store.create(request.id);  // the root it makes holds the seccomp cache too
  StateGuard guard(store, request.id);
  const std::unique_ptr<CgroupManager> cgroup = container_cgroup(store, cgroups, layout, config, request);
  CgroupGuard cgroup_guard{*cgroup};
  // Where the cgroups go, before and after they are made: a create killed
  // from now on leaves a record that `delete` frees them by.
  std::string cgroups_recorded;
  const auto record_cgroups = [&] {
    if (std::string now = cgroup->to_json(); now != cgroups_recorded) {
      store.record_cgroups(lock, request.id, now);
      cgroups_recorded = std::move(now);
    }
  };
  record_cgroups();
  const bool cgroups_later = cgroup->made_while_init_starts();
  const auto make_cgroups = [&] {
    cgroup->create();
    record_cgroups();
  };
  if (!cgroups_later) make_cgroups();
  CgroupWarmUp warm_up(cgroup->accounting_only_dir());

  const policy::SelectionInput selection = policy::selection_input(request.policy, config.annotations);
  const policy::Applied applied =
      policy::apply_policy(policy::select_policy(selection), config, rootfs_of(bundle, config),
                           {store.root(), selection.config_dir}, host, layout);
  for (const auto& warning : applied.translation.warnings) log_message(LogLevel::warning, warning);
  bind_copies_without_credentials(store, lock, request.id, applied, config);
  const std::optional<ContainerEgress> egress =
      container_egress(applied.policy, config, rootfs_of(bundle, config), request.id);
  // The rules go in the init's network namespace, which create hands it
  // first, while the init sets up its mounts: the runtime puts them in,
  // and binds their log group there, or, with names to resolve, the guard,
  // which loads its libraries while the plan is made and the init cloned,
  // and is waited for. create ends, and the user's program can run, only
  // after the rules are in. A guard that only logs starts at the end.
  std::optional<EgressGuard> egress_guard;
  if (egress && egress->setup.dns_proxy) egress_guard.emplace(store, lock, request.id);
  UniqueFd nflog;
  PlanOptions options = plan_options(request, bundle);
  options.chroot_without_mount_ns = !policy::has_rules(applied.policy);
  Plan plan = make_plan(config, options, host);
  for (const auto& warning : plan.warnings) log_message(LogLevel::warning, warning);
  policy::complete_plan(plan, applied);
  compile_seccomp_filters(plan, store.root());
  plan.runtime_binary = runtime_binary_id();
  plan.host_cgroup_mounts = std::move(cgroup_mounts);
  const StoredPlan for_exec{exec_base(plan), policy::process_policy(applied.policy), host,
                            document.root().at("process").json()};

  UniqueFd console = connect_console("create", plan.process.terminal, request.console_socket, request.console_fd >= 0);

  const auto limit_cgroups = [&] {
    if (plan.resources) cgroup->apply(*plan.resources);
  };
  if (!cgroups_later) limit_cgroups();
  // `run` starts the init at ready where nothing waits between create and
  // start; a pid file asked for is written before the process runs.
  const bool start_at_ready =
      request.start_at_ready && may_start_at_ready(plan) && !egress_guard && request.pid_file.empty();
  UniqueFd start_listener;
  if (!start_at_ready)
    start_listener = listen_unix(store.start_socket(request.id), "listen on " + store.start_socket(request.id));

  // A user namespace may keep the init from reaching a bind source: they are opened here.
  std::vector<UniqueFd> bind_sources;
  if (plan.has_user_namespace()) bind_sources = open_bind_sources(linux_sys(), plan).or_throw();
  LaunchIo io{console ? console.get() : request.console_fd, start_listener.get(), cgroup->birth_dir_fd(), {}};
  for (const auto& fd : bind_sources) io.bind_sources.push_back(fd.get());
  std::string egress_shared_with;
  pid_t init_pid = 0;
  const auto while_init_sets_up = [&] {
    if (egress_guard)
      egress_guard->go(store, lock, egress->setup, EgressGuardInput{request.id, init_pid, egress->resolvers});
    if (egress && egress->setup.table)
      if (const auto ns = nft::hold_network_namespace(init_pid)) {
        egress_shared_with = nft::install_table(ns->path, *egress->setup.table);
        // Unless the same rules are there, and their owner's guard logs for the namespace.
        if (egress->setup.log && egress_shared_with.empty())
          nflog = nft::bound_nflog_socket(ns->path, policy::kEgressLogGroup);
      }
  };

  Created out;
  out.terminal = plan.process.terminal;
  out.started = start_at_ready;
  // The records of a ready init (at ready, executing): what `exec` reads, then state.json.
  const auto record_created = [&](const Launched& launched) {
    store.save_file(lock, request.id, "config.json", config_text);
    store.save_file(lock, request.id, "policy.json", policy::policy_json(applied.policy));
    store.save_file(lock, request.id, "plan.json", stored_plan_json(for_exec));
    ContainerRecord& r = out.record;
    r.id = request.id;
    r.oci_version = config.ociVersion;
    r.bundle = bundle;
    r.rootfs = plan.rootfs;
    r.pid = launched.pid;
    r.start_time = launched.start_time;
    r.own_pid_namespace = plan.creates(spec::NamespaceType::pid);
    r.created = rfc3339_now();
    r.annotations = config.annotations;
    r.cgroup = cgroup->to_json();
    if (egress_guard) egress_shared_with = egress_guard->wait_ready();
    if (nflog) {
      store.save_file(lock, r.id, "egress-guard.json",
                      egress_guard_config(egress->setup, {r.id, r.pid, egress->resolvers},
                                          store.file_path(r.id, "egress.log")));
      if (!request.defer_logger) egress_guard.emplace(store, lock, r.id, nflog);
    }
    store.save_file(lock, r.id, "isolation.json",
                    policy::isolation_record(applied, plan, launched.blocked,
                                             egress ? egress_record(egress->setup, {r.id, r.pid, egress->resolvers},
                                                                    store.file_path(r.id, "egress.log"),
                                                                    egress_shared_with)
                                                    : ""));
    record_cgroups();  // state.json agrees with the records
    store.save(lock, r);
    if (!request.pid_file.empty()) write_pid_file(request.pid_file, r.pid);
  };
  const auto record_init = [&](pid_t pid, uint64_t start_time) {
    // The container waits for the egress rules the runtime builds: the heap
    // that takes, at once (after the clone, or the init would copy it).
    if (egress && egress->setup.table) populate_heap(kEgressRulesHeap);
    store.record_init(lock, request.id, pid, start_time);
    init_pid = pid;
  };
  const auto make_cgroups_later = [&] {
    if (!cgroups_later) return;
    make_cgroups();
    limit_cgroups();
  };
  const InitProtocol protocol(init_entry, *cgroup,
                              {record_init, make_cgroups_later, record_cgroups, while_init_sets_up,
                               start_at_ready ? std::function<void(const Launched&)>(record_created) : nullptr});
  Launched launched = launch(plan, protocol, io);
  bind_sources.clear();
  if (!start_at_ready) {
    try {
      record_created(launched);
    } catch (...) {
      kill_and_reap(launched.pid);
      throw;
    }
  }
  guard.release();
  cgroup_guard.armed = false;
  if (egress_guard) egress_guard->release();
  if (request.defer_logger) out.logger = std::move(nflog);
  out.config = std::move(config);
  return out;
}

}  // namespace agentrun
