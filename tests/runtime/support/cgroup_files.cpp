#include "support/cgroup_files.hpp"

#include <rapidjson/document.h>

#include <stdexcept>

#include "support/host.hpp"

namespace test::cgroup {
namespace {

bool on_v1(const std::string& controller) { return !host::cgroup_v1_mount(controller).empty(); }

}  // namespace

Dirs dirs_of(const Sandbox& s, const std::string& id) {
  rapidjson::Document state, cg;
  state.Parse(read_file(s.root + "/" + id + "/state.json").c_str());
  if (state.HasParseError() || !state.IsObject() || !state.HasMember("cgroup") || !state["cgroup"].IsString())
    throw std::runtime_error("no cgroup in the state of " + id);
  cg.Parse(state["cgroup"].GetString());
  // The systemd driver keeps the scope's directories under "files".
  const rapidjson::Value& files = cg.HasMember("files") ? cg["files"] : cg;
  Dirs out;
  for (auto& m : files["dirs"].GetObject()) out[m.name.GetString()] = m.value.GetString();
  return out;
}

std::string dir_for(const Dirs& dirs, const std::string& controller) {
  const auto it = dirs.find(on_v1(controller) ? controller : "");
  if (it == dirs.end()) throw std::runtime_error("the container has no cgroup for " + controller);
  return it->second;
}

Setting memory_limit(uint64_t bytes) {
  return {"memory", on_v1("memory") ? "memory.limit_in_bytes" : "memory.max", std::to_string(bytes)};
}

Setting memory_reservation(uint64_t bytes) {
  return {"memory", on_v1("memory") ? "memory.soft_limit_in_bytes" : "memory.low", std::to_string(bytes)};
}

Setting memory_and_swap(uint64_t limit, uint64_t limit_with_swap) {
  if (on_v1("memory")) return {"memory", "memory.memsw.limit_in_bytes", std::to_string(limit_with_swap)};
  return {"memory", "memory.swap.max", std::to_string(limit_with_swap - limit)};  // swap alone
}

Setting cpu_shares(uint64_t shares) {
  if (on_v1("cpu")) return {"cpu", "cpu.shares", std::to_string(shares)};
  // The OCI conversion of shares (2-262144) to a weight (1-10000).
  return {"cpu", "cpu.weight", std::to_string(1 + ((shares - 2) * 9999) / 262142)};
}

Setting cpu_quota(int64_t quota, uint64_t period) {
  if (on_v1("cpu")) return {"cpu", "cpu.cfs_quota_us", std::to_string(quota)};
  return {"cpu", "cpu.max", std::to_string(quota) + " " + std::to_string(period)};
}

Setting cpuset_cpus(const std::string& cpus) { return {"cpuset", "cpuset.cpus", cpus}; }

Setting pids_max(int64_t limit) { return {"pids", "pids.max", std::to_string(limit)}; }

std::string read(const Dirs& dirs, const std::string& controller, const std::string& file) {
  std::string text = read_file(dir_for(dirs, controller) + "/" + file);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string read(const Dirs& dirs, const Setting& s) { return read(dirs, s.controller, s.file); }

}  // namespace test::cgroup
