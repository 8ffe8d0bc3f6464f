#include "runtime/cgroup/systemd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "runtime/cgroup/files.hpp"
#include "runtime/cgroup/systemd_annotations.hpp"
#include "runtime/cgroup/systemd_client.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/text_lines.hpp"
#include "spec/error.hpp"
#include "spec/json_write.hpp"
#include "spec/json_reader.hpp"

namespace agentrun {
namespace {

// systemd's version, asked once per boot and kept in `dir`: a helper run
// (an exec and a bus connection) less for every container. An upgrade
// within the boot (daemon-reexec) only adds properties the cached, older
// version leaves out.
int cached_systemd_version(const std::string& dir) {
  auto boot = read_whole_file(AT_FDCWD, "/proc/sys/kernel/random/boot_id");
  const std::string key = boot ? cgroup_files::trim(*boot) : "";
  const std::string path = dir + "/.systemd-version";  // dot names are the runtime's own
  if (!dir.empty() && !key.empty())
    if (auto cached = read_whole_file(AT_FDCWD, path)) {
      const std::vector<std::string_view> w = text_words(*cached);
      const std::optional<int> version = w.size() >= 2 ? number_of<int>(w[1]) : std::nullopt;
      if (version && w[0] == key && *version > 0) return *version;
    }
  const int version = systemd_version_number(SystemdClient().probe());
  // Best effort: without the cache the next create asks again.
  if (!dir.empty() && !key.empty()) (void)replace_file(AT_FDCWD, path, key + " " + std::to_string(version) + "\n");
  return version;
}

}  // namespace

std::unique_ptr<SystemdCgroup> SystemdCgroup::plan(const CgroupRequest& request, std::shared_ptr<CgroupFs> fs) {
  auto cg = std::make_unique<SystemdCgroup>();
  cg->unit_ = systemd_unit_for(request.cgroups_path, request.id);
  if (cg->unit_.is_slice())
    fail("linux.cgroupsPath", "\"" + request.cgroups_path + "\" names a slice; a container needs a scope (slice:prefix:name)");
  cg->description_ = "agentrun container " + request.id;
  cg->cache_dir_ = request.cache_dir;
  cg->mode_ = request.layout.mode;
  cg->annotations_ = annotation_properties(request.annotations);
  // The scope's cgroup is where systemd puts it, in every hierarchy alike.
  cg->files_ = CgroupfsManager::plan(request.layout, request.own, cg->unit_.cgroup, request.id, std::move(fs));
  return cg;
}

void SystemdCgroup::create() {
  if (::access("/run/systemd/system", F_OK) != 0)
    fail("--systemd-cgroup", "systemd is not running on this host: use the default cgroup driver");
  systemd_version_ = cached_systemd_version(cache_dir_);
}

std::vector<UnitProperty> SystemdCgroup::properties_for(spec::Resources& r) const {
  round_cpu_quota_for_systemd(r);
  return resource_properties(r, mode_, systemd_version_);
}

void SystemdCgroup::apply(const spec::Resources& r) {
  spec::Resources rounded = r;
  properties_for(rounded);  // a limit systemd cannot take fails now, before the init exists
  resources_ = std::move(rounded);
}

void SystemdCgroup::join_init(pid_t pid, bool) {
  spec::Resources r = resources_.value_or(spec::Resources{});
  std::vector<UnitProperty> properties = accounting_properties(mode_);
  for (auto& p : properties_for(r)) properties.push_back(std::move(p));
  // Annotations last: they may override what the driver sets, as with runc.
  properties.insert(properties.end(), annotations_.begin(), annotations_.end());
  const std::string cgroup = SystemdClient().start_scope(unit_.name, unit_.slice, description_, pid, properties);
  unit_ours_ = true;
  if (cgroup != unit_.cgroup)
    fail("--systemd-cgroup: start " + unit_.name,
         "systemd put it in the cgroup " + cgroup + ", not in " + unit_.cgroup + " where its slice nests");
  // Directories of v1 hierarchies systemd does not manage, made once the
  // scope is there (systemd trims a new slice's directories in hierarchies
  // it does not enable for it); on v2 systemd made the one there is, with
  // the init in it.
  files_->create();
  if (resources_) files_->apply(r);
  files_->join_init(pid, mode_ == CgroupMode::v2);
}

void SystemdCgroup::update(const spec::Resources& r) {
  spec::Resources rounded = r;
  SystemdClient().set_properties(unit_.name, properties_for(rounded));
  files_->update(rounded);
}

void SystemdCgroup::destroy() {
  // The directories made here go even when systemd fails to stop the unit.
  try {
    if (unit_ours_) SystemdClient().stop_unit(unit_.name);
  } catch (const Failure&) {
    files_->destroy();
    throw;
  }
  // The scope's v1 directories systemd does not manage are gone with it, even
  // after a create killed before it recorded them.
  if (unit_ours_ && mode_ != CgroupMode::v2) files_->own_leaves();
  files_->destroy();
}

std::string SystemdCgroup::to_json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  spec::write_string(w, "driver", "systemd");
  spec::write_string(w, "unit", unit_.name);
  spec::write_string(w, "slice", unit_.slice);
  spec::write_string(w, "cgroup", unit_.cgroup);
  spec::write_string(w, "mode", cgroup_mode_name(mode_));
  spec::write_number(w, "systemdVersion", systemd_version_);
  const std::string files = files_->to_json();
  w.Key("files"), w.RawValue(files.c_str(), files.size(), rapidjson::kObjectType);
  w.EndObject();
  return buf.GetString();
}

std::unique_ptr<SystemdCgroup> SystemdCgroup::from_json(const std::string& json, std::shared_ptr<CgroupFs> fs) {
  const spec::JsonDocument doc(json, "state: cgroup");
  const spec::JsonNode root = doc.root();
  auto cg = std::make_unique<SystemdCgroup>();
  cg->unit_ours_ = true;
  cg->unit_.name = root.at("unit").str();
  cg->unit_.slice = root.at("slice").str();
  cg->unit_.cgroup = root.at("cgroup").str();
  const std::string mode = root.at("mode").str();
  cg->mode_ = mode == "v1" ? CgroupMode::v1 : mode == "hybrid" ? CgroupMode::hybrid : CgroupMode::v2;
  cg->systemd_version_ = root.at("systemdVersion").i32();
  const spec::JsonNode files = root.at("files");
  if (!files.is_object()) files.fail("not an object");
  cg->files_ = CgroupfsManager::from_json(files.json(), std::move(fs));
  return cg;
}

}  // namespace agentrun
