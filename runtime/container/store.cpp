#include "runtime/container/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "runtime/util/file_io.hpp"
#include "runtime/util/proc_stat.hpp"
#include "spec/error.hpp"
#include "spec/json_reader.hpp"
#include "spec/json_write.hpp"

namespace agentrun {
namespace {

// Written beside the target, flushed and renamed over it: a reader, or the
// runtime after a crash, never sees half a file.
void write_atomically(int dir_fd, const std::string& dir, const std::string& name, const std::string& text) {
  replace_file(dir_fd, name, text, dir).or_throw();
}

// A record of the container's: nothing when it does not exist.
std::optional<std::string> read_record(const std::string& path, std::vector<Error>& unreadable) {
  auto text = read_regular_file(AT_FDCWD, path, kMaxInputBytes, O_NOFOLLOW);
  if (text) return *text;
  if (text.error().errnum != ENOENT) unreadable.push_back(text.error());
  return std::nullopt;
}

bool valid_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '+' || c == '-' || c == '.';
}

void remove_tree(int parent, const std::string& name, const std::string& shown) {
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) fail_errno("remove " + shown, errno);
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    fail_errno("remove " + shown, errno);
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (e->d_type == DT_DIR) {
      remove_tree(fd, n, shown + "/" + n);
    } else if (::unlinkat(fd, n.c_str(), 0) < 0 && errno != ENOENT) {
      int err = errno;
      ::closedir(d);
      fail_errno("remove " + shown + "/" + n, err);
    }
  }
  ::closedir(d);
  if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) fail_errno("remove " + shown, errno);
}

}  // namespace

const char* status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::creating: return "creating";
    case ContainerStatus::created: return "created";
    case ContainerStatus::running: return "running";
    case ContainerStatus::paused: return "paused";
    case ContainerStatus::stopped: return "stopped";
  }
  return "unknown";
}

void check_container_id(const std::string& id) {
  if (id.empty()) fail("container id", "missing");
  if (id[0] == '.' || id.size() > 1024 || !std::all_of(id.begin(), id.end(), valid_id_char))
    fail("container id \"" + id + "\"", "invalid: use letters, digits, '_', '+', '-' and '.' (not first)");
}

void Store::ensure_root() const {
  // containerd's roots (/run/containerd/runc/<namespace>) may not exist after a boot.
  for (size_t slash = root_.find('/', 1); slash != std::string::npos; slash = root_.find('/', slash + 1))
    if (::mkdir(root_.substr(0, slash).c_str(), 0700) < 0 && errno != EEXIST)
      fail_errno("create state root " + root_.substr(0, slash), errno);
  if (::mkdir(root_.c_str(), 0700) < 0 && errno != EEXIST) fail_errno("create state root " + root_, errno);
}

ContainerLock Store::create(const std::string& id) const {
  check_container_id(id);
  // The root is usually there: it is made only when the container's directory cannot be.
  int made = ::mkdir(dir(id).c_str(), 0700);
  if (made < 0 && errno == ENOENT) {
    ensure_root();
    made = ::mkdir(dir(id).c_str(), 0700);
  }
  if (made < 0) {
    if (errno == EEXIST) fail("create container \"" + id + "\"", "a container with this id exists");
    fail_errno("create state directory " + dir(id), errno);
  }
  return lock(id);
}

ContainerLock Store::lock(const std::string& id) const {
  check_container_id(id);
  UniqueFd fd(::open(dir(id).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) fail("container \"" + id + "\"", "does not exist");
    fail_errno("open state directory " + dir(id), errno);
  }
  if (::flock(fd.get(), LOCK_EX) < 0) fail_errno("lock state directory " + dir(id), errno);
  return ContainerLock(std::move(fd));
}

bool Store::exists(const std::string& id) const {
  struct stat st;
  return ::lstat(dir(id).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

ContainerRecord Store::load(const std::string& id) const {
  check_container_id(id);
  if (!exists(id)) fail("container \"" + id + "\"", "does not exist");
  const std::string path = dir(id) + "/state.json";
  auto text = read_regular_file(AT_FDCWD, path, kMaxInputBytes, O_NOFOLLOW);
  if (!text) {
    if (text.error().errnum != ENOENT) throw Failure(text.error());
    ContainerRecord r;  // still being created
    r.id = id;
    return r;
  }
  ContainerRecord r = parse_record(*text, path);
  if (r.id != id) fail(path, "names container \"" + r.id + "\", not \"" + id + "\"");
  const Acquired a = acquired(id);
  if (!a.unreadable.empty()) throw Failure(a.unreadable.front());
  if (a.pid != 0 && (a.pid != r.pid || a.start_time != r.start_time))
    fail(path, "its init (pid " + std::to_string(r.pid) + ", started at " + std::to_string(r.start_time) +
                   ") is not the one init.json recorded (pid " + std::to_string(a.pid) + ", started at " +
                   std::to_string(a.start_time) + ")");
  if (!a.cgroup.empty() && a.cgroup != r.cgroup) fail(path, "its cgroups are not the ones cgroups.json recorded");
  return r;
}

void Store::record_process(const ContainerLock& lock, const std::string& id, const std::string& name, pid_t pid,
                           uint64_t start_time) const {
  write_atomically(lock.dir_fd(), dir(id), name,
                   "{\"pid\":" + std::to_string(pid) + ",\"startTime\":" + std::to_string(start_time) + "}");
}

void Store::record_init(const ContainerLock& lock, const std::string& id, pid_t pid, uint64_t start_time) const {
  record_process(lock, id, "init.json", pid, start_time);
}

void Store::record_cgroups(const ContainerLock& lock, const std::string& id, const std::string& cgroup_json) const {
  write_atomically(lock.dir_fd(), dir(id), "cgroups.json", cgroup_json);
}

Acquired Store::acquired(const std::string& id) const {
  Acquired a;
  const std::string init_path = dir(id) + "/init.json", cgroups_path = dir(id) + "/cgroups.json";
  try {
    if (auto text = read_record(init_path, a.unreadable)) {
      const spec::JsonDocument doc(*text, init_path);
      const pid_t pid = doc.root().at("pid").i32();
      if (pid <= 0) doc.root().at("pid").fail("not a process id");
      a.start_time = doc.root().at("startTime").u64();
      a.pid = pid;
    }
  } catch (const Failure& f) {
    a.unreadable.push_back(f.error());
  }
  try {
    if (auto text = read_record(cgroups_path, a.unreadable)) {
      const spec::JsonDocument doc(*text, cgroups_path);
      if (!doc.root().is_object()) doc.root().fail("not an object");
      a.cgroup = *text;
    }
  } catch (const Failure& f) {
    a.unreadable.push_back(f.error());
  }
  return a;
}

void Store::save(const ContainerLock& lock, const ContainerRecord& record) const {
  write_atomically(lock.dir_fd(), dir(record.id), "state.json", record_json(record));
}

void Store::save_file(const ContainerLock& lock, const std::string& id, const std::string& name,
                      const std::string& text) const {
  write_atomically(lock.dir_fd(), dir(id), name, text);
}

UniqueFd open_process(pid_t pid, uint64_t start_time) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) return fd;
  auto st = read_proc_stat(pid);
  if (!st || st->start_time != start_time) fd.reset();
  return fd;
}

UniqueFd open_init(const ContainerRecord& r) { return open_process(r.pid, r.start_time); }

ContainerStatus Store::status(const ContainerRecord& r, const CgroupManager* cgroup) const {
  if (r.pid == 0) return ContainerStatus::creating;
  auto st = read_proc_stat(r.pid);
  if (!st || st->start_time != r.start_time || st->state == 'Z' || st->state == 'X')
    return ContainerStatus::stopped;
  struct stat sb;
  const bool created = ::lstat(start_socket(r.id).c_str(), &sb) == 0;
  if (cgroup && cgroup->frozen()) return ContainerStatus::paused;
  return created ? ContainerStatus::created : ContainerStatus::running;
}

void Store::remove(const std::string& id) const {
  check_container_id(id);
  remove_tree(AT_FDCWD, dir(id), dir(id));
}

std::vector<std::string> Store::ids() const {
  std::vector<std::string> out;
  DIR* d = ::opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    fail_errno("list containers in " + root_, errno);
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n[0] != '.' && e->d_type == DT_DIR) out.push_back(n);  // dot names are the runtime's own
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string record_json(const ContainerRecord& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  spec::write_string(w, "id", r.id);
  spec::write_string(w, "ociVersion", r.oci_version);
  spec::write_string(w, "bundle", r.bundle);
  spec::write_string(w, "rootfs", r.rootfs);
  spec::write_number(w, "pid", r.pid);
  spec::write_number(w, "startTime", r.start_time);
  spec::write_number(w, "ownPidNamespace", r.own_pid_namespace);
  spec::write_string(w, "created", r.created);
  spec::write_string(w, "owner", r.owner);
  spec::write_string_map(w, "annotations", r.annotations);
  spec::write_string(w, "cgroup", r.cgroup);
  w.EndObject();
  return buf.GetString();
}

ContainerRecord parse_record(const std::string& text, const std::string& file) {
  spec::JsonDocument doc(text, file);
  auto root = doc.root();
  ContainerRecord r;
  r.id = root.at("id").str();
  r.oci_version = root.at("ociVersion").str();
  r.bundle = root.at("bundle").str();
  r.rootfs = root.at("rootfs").str();
  r.pid = root.at("pid").i32();
  r.start_time = root.at("startTime").u64();
  r.own_pid_namespace = root.at("ownPidNamespace").boolean();
  r.created = root.at("created").str();
  r.owner = root.at("owner").str();
  r.annotations = root.at("annotations").string_map();
  r.cgroup = root.at("cgroup").str();
  return r;
}

}  // namespace agentrun
