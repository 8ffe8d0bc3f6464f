#include "runtime/confine/landlock_rules.hpp"

#include <linux/landlock.h>

#include <algorithm>

#include "spec/json_write.hpp"

// The build host's headers (Linux 6.1) stop at ABI 2; the kernels we run on
// know more. Values from the kernel's include/uapi/linux/landlock.h.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // ABI 5
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)  // ABI 4
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)  // ABI 4
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  // ABI 6
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)  // ABI 6
#endif

namespace agentrun {
namespace {

struct Right {
  uint64_t bit;
  const char* name;
  int abi;  // the first ABI that knows it
};

constexpr Right kFsRights[] = {
    {LANDLOCK_ACCESS_FS_EXECUTE, "execute", 1},       {LANDLOCK_ACCESS_FS_WRITE_FILE, "write_file", 1},
    {LANDLOCK_ACCESS_FS_READ_FILE, "read_file", 1},   {LANDLOCK_ACCESS_FS_READ_DIR, "read_dir", 1},
    {LANDLOCK_ACCESS_FS_REMOVE_DIR, "remove_dir", 1}, {LANDLOCK_ACCESS_FS_REMOVE_FILE, "remove_file", 1},
    {LANDLOCK_ACCESS_FS_MAKE_CHAR, "make_char", 1},   {LANDLOCK_ACCESS_FS_MAKE_DIR, "make_dir", 1},
    {LANDLOCK_ACCESS_FS_MAKE_REG, "make_reg", 1},     {LANDLOCK_ACCESS_FS_MAKE_SOCK, "make_sock", 1},
    {LANDLOCK_ACCESS_FS_MAKE_FIFO, "make_fifo", 1},   {LANDLOCK_ACCESS_FS_MAKE_BLOCK, "make_block", 1},
    {LANDLOCK_ACCESS_FS_MAKE_SYM, "make_sym", 1},     {LANDLOCK_ACCESS_FS_REFER, "refer", 2},
    {LANDLOCK_ACCESS_FS_TRUNCATE, "truncate", 3},     {LANDLOCK_ACCESS_FS_IOCTL_DEV, "ioctl_dev", 5},
};
constexpr Right kNetRights[] = {
    {LANDLOCK_ACCESS_NET_BIND_TCP, "bind_tcp", 4},
    {LANDLOCK_ACCESS_NET_CONNECT_TCP, "connect_tcp", 4},
};
constexpr Right kScopes[] = {
    {LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, "abstract_unix_socket", 6},
    {LANDLOCK_SCOPE_SIGNAL, "signal", 6},
};

constexpr uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
// Everything that changes a tree except creating device nodes, which no
// container process may do.
constexpr uint64_t kWrite = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                            LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |
                            LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                            LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |
                            LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE;
constexpr uint64_t kDevice =
    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV;
// The only rights landlock_add_rule accepts for a path that is not a directory.
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                 LANDLOCK_ACCESS_FS_IOCTL_DEV;

template <size_t N>
uint64_t known_at(const Right (&rights)[N], int abi) {
  uint64_t mask = 0;
  for (const auto& r : rights)
    if (r.abi <= abi) mask |= r.bit;
  return mask;
}

// Adds `rights` to the rule for `key`, one rule per key.
template <class Key>
void grant(std::vector<std::pair<Key, uint64_t>>& rules, const Key& key, uint64_t rights) {
  auto it = std::find_if(rules.begin(), rules.end(), [&](const auto& r) { return r.first == key; });
  if (it == rules.end())
    rules.emplace_back(key, rights);
  else
    it->second |= rights;
}


using Writer = spec::PrettyWriter;

template <size_t N>
void write_names(Writer& w, const char* key, const Right (&rights)[N], uint64_t mask) {
  w.Key(key);
  w.StartArray();
  for (const auto& r : rights)
    if (mask & r.bit) w.String(r.name);
  w.EndArray();
}

}  // namespace

LandlockRuleset landlock_ruleset(const LandlockPolicy& policy, int abi) {
  LandlockRuleset rs;
  rs.abi = abi;
  if (abi < 1) return rs;
  rs.handled_fs = known_at(kFsRights, abi);
  // Landlock unions the rights of every rule on the way from a file up to
  // "/": reading comes from the root rule, the others add to it.
  auto allow = [&rs](const std::string& path, uint64_t rights) { grant(rs.path_rules, path, rights & rs.handled_fs); };
  allow("/", kRead);
  for (const auto& p : policy.exec_from) allow(p, LANDLOCK_ACCESS_FS_EXECUTE);
  for (const auto& p : policy.writable) allow(p, kWrite);
  for (const auto& p : policy.device_paths) allow(p, kDevice | kWrite);

  // Only a direction the policy limits is handled: Landlock has no "any port" rule.
  const uint64_t net = (policy.tcp_bind ? uint64_t{LANDLOCK_ACCESS_NET_BIND_TCP} : 0) |
                       (policy.tcp_connect ? uint64_t{LANDLOCK_ACCESS_NET_CONNECT_TCP} : 0);
  rs.handled_net = net & known_at(kNetRights, abi);
  if (rs.handled_net & LANDLOCK_ACCESS_NET_BIND_TCP)
    for (uint16_t port : *policy.tcp_bind) grant(rs.port_rules, port, uint64_t{LANDLOCK_ACCESS_NET_BIND_TCP});
  if (rs.handled_net & LANDLOCK_ACCESS_NET_CONNECT_TCP)
    for (uint16_t port : *policy.tcp_connect) grant(rs.port_rules, port, uint64_t{LANDLOCK_ACCESS_NET_CONNECT_TCP});
  const uint64_t scopes = (policy.scope_abstract_unix ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET : 0) |
                          (policy.scope_signals ? LANDLOCK_SCOPE_SIGNAL : 0);
  rs.scoped = scopes & known_at(kScopes, abi);
  return rs;
}

uint64_t landlock_signal_scope() { return LANDLOCK_SCOPE_SIGNAL; }

std::string landlock_shortfall(int abi) {
  std::vector<std::string> lacks;
  if (abi < kLandlockTruncateAbi)
    lacks.push_back("truncate (ABI 3, Linux 6.2): a stacked seccomp filter refuses truncate(2) and read-only O_TRUNC opens");
  if (abi < kLandlockIoctlAbi)
    lacks.push_back("device ioctl (ABI 5, Linux 6.10): not restricted, beyond the device list and seccomp");
  if (abi < kLandlockScopeAbi)
    lacks.push_back("signal and abstract unix socket scopes (ABI 6, Linux 6.12): a container sharing the host's "
                    "pid or network namespace is refused under strict");
  std::string out;
  for (const auto& l : lacks) out += (out.empty() ? "lacks " : "; ") + l;
  return out;
}

LandlockRuleset with_executable(LandlockRuleset ruleset, const std::string& path) {
  ruleset.path_rules.emplace_back(path, uint64_t{LANDLOCK_ACCESS_FS_EXECUTE} & ruleset.handled_fs);
  return ruleset;
}

std::string landlock_ruleset_json(const LandlockRuleset& rs) {
  return spec::pretty_json([&](spec::PrettyWriter& w) {
    w.StartObject();
    spec::write_number(w, "abi", rs.abi);
    write_names(w, "handledAccessFs", kFsRights, rs.handled_fs);
    write_names(w, "handledAccessNet", kNetRights, rs.handled_net);
    write_names(w, "scoped", kScopes, rs.scoped);
    spec::write_array(w, "pathRules", rs.path_rules, [&](const auto& rule) {
      w.StartObject();
      spec::write_string(w, "path", rule.first);
      write_names(w, "access", kFsRights, rule.second);
      w.EndObject();
    });
    spec::write_array(w, "portRules", rs.port_rules, [&](const auto& rule) {
      w.StartObject();
      spec::write_number(w, "port", rule.first);
      write_names(w, "access", kNetRights, rule.second);
      w.EndObject();
    });
    w.EndObject();
  });
}

uint64_t landlock_file_rights() { return kFileRights; }

std::string landlock_rights_summary(uint64_t rights) {
  std::string out;
  auto add = [&out](const char* word) { out += out.empty() ? word : std::string(", ") + word; };
  if (rights & kRead) add("read");
  if (rights & LANDLOCK_ACCESS_FS_EXECUTE) add("execute");
  if (rights & (kWrite & ~LANDLOCK_ACCESS_FS_TRUNCATE)) add("write");
  if (rights & LANDLOCK_ACCESS_FS_IOCTL_DEV) add("device ioctl");
  return out;
}

std::string landlock_port_rights_summary(uint64_t rights) {
  std::string out;
  if (rights & LANDLOCK_ACCESS_NET_BIND_TCP) out = "bind";
  if (rights & LANDLOCK_ACCESS_NET_CONNECT_TCP) out += out.empty() ? "connect" : ", connect";
  return out;
}

}  // namespace agentrun
