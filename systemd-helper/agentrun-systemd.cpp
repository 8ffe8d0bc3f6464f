// agentrun-systemd COMMAND: one JSON request on stdin, one JSON reply on
// stdout, exit 0 on {"ok":true,...}, 1 on {"ok":false,"error":...}. A thin
// sd-bus adaptor to systemd's manager on the system bus, started only by
// `agentrun --systemd-cgroup` (runtime/cgroup/systemd_client.hpp): the static
// runtime never links libsystemd, and the cgroupfs driver never pays for
// D-Bus. Commands: probe, start-scope, set-properties, stop-unit, unit-info.

#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "systemd-helper/bus_values.hpp"

namespace agentrun::systemd_helper {
namespace {

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr size_t kMaxRequest = 1 << 20;
constexpr uint64_t kDefaultTimeoutMs = 30000;  // runc waits 30 s for a job
constexpr uint64_t kMaxTimeoutMs = 600000;

struct Failed {
  std::string error;  // "<step>: <message>"
  int errnum = 0;
  std::string name;  // the D-Bus error name, if any
};

[[noreturn]] void fail(const std::string& step, const std::string& message, int errnum = 0) {
  throw Failed{step + ": " + message, errnum, ""};
}

// A failed sd-bus call: the D-Bus error's name and message when the peer
// sent one, else the errno of the local failure.
[[noreturn]] void fail_bus(const std::string& step, int r, const sd_bus_error* e = nullptr) {
  if (e != nullptr && sd_bus_error_is_set(e))
    throw Failed{step + ": " + (e->message ? e->message : e->name), sd_bus_error_get_errno(e), e->name};
  throw Failed{step + ": " + std::strerror(-r), -r, ""};
}

struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~BusError() { sd_bus_error_free(&e); }
  bool is(const char* name) const { return sd_bus_error_has_name(&e, name); }
};

struct Message {
  sd_bus_message* m = nullptr;
  ~Message() { sd_bus_message_unref(m); }
};

uint64_t now_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

// ---- the request ----

const rapidjson::Value& member(const rapidjson::Value& req, const char* name) {
  const auto it = req.FindMember(name);
  if (it == req.MemberEnd()) fail("request", std::string("\"") + name + "\" is missing", EINVAL);
  return it->value;
}

std::string string_field(const rapidjson::Value& req, const char* name) {
  const auto& v = member(req, name);
  if (!v.IsString() || std::strlen(v.GetString()) != v.GetStringLength())
    fail("request", std::string("\"") + name + "\" must be a string without NUL", EINVAL);
  return v.GetString();
}

// Only systemd's unit name characters pass.
std::string unit_field(const rapidjson::Value& req, const char* name) {
  std::string unit = string_field(req, name);
  const bool ok = !unit.empty() && unit.size() <= 255 &&
                  unit.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@") ==
                      std::string::npos;
  if (!ok) fail("request", std::string("\"") + name + "\" is not a systemd unit name: \"" + unit + "\"", EINVAL);
  return unit;
}

uint64_t timeout_usec(const rapidjson::Value& req) {
  if (!req.HasMember("timeoutMs")) return kDefaultTimeoutMs * 1000;
  const auto& v = req["timeoutMs"];
  if (!v.IsUint64() || v.GetUint64() == 0 || v.GetUint64() > kMaxTimeoutMs)
    fail("request", "\"timeoutMs\" must be an integer 1.." + std::to_string(kMaxTimeoutMs), EINVAL);
  return v.GetUint64() * 1000;
}

// ---- sd-bus ----

// The connection; each call on it waits at most `timeout` for its reply.
struct Bus {
  sd_bus* bus = nullptr;
  explicit Bus(uint64_t timeout) {
    // sd-bus honours DBUS_SYSTEM_BUS_ADDRESS.
    const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    if (int r = sd_bus_open_system(&bus); r < 0)
      fail_bus(std::string("connect to the system bus at ") + (address ? address : "/run/dbus/system_bus_socket"), r);
    if (int r = sd_bus_set_method_call_timeout(bus, timeout); r < 0) fail_bus("set the D-Bus call timeout", r);
  }
  ~Bus() { sd_bus_flush_close_unref(bus); }
};

Message new_call(sd_bus* bus, const char* method) {
  Message msg;
  if (int r = sd_bus_message_new_method_call(bus, &msg.m, kDest, kPath, kManager, method); r < 0)
    fail_bus(std::string("prepare ") + method, r);
  return msg;
}

void check_append(int r, const std::string& step) {
  if (r < 0) fail_bus(step, r);
}

// Appends one (sv) entry of a property array.
void append_property(sd_bus_message* m, const std::string& name, const std::string& type, const rapidjson::Value& v) {
  const std::string step = "property " + name;
  check_append(sd_bus_message_open_container(m, 'r', "sv"), step);
  check_append(sd_bus_message_append_basic(m, 's', name.c_str()), step);
  if (complete_type_length(type.c_str()) != type.size() || type.empty())
    fail(step, "\"" + type + "\" is not one complete D-Bus type of b y n q i u x t d s o, arrays and structs", EINVAL);
  check_append(sd_bus_message_open_container(m, 'v', type.c_str()), step);
  if (auto e = append_value(m, type, v); !e.empty()) fail(step, e, EINVAL);
  check_append(sd_bus_message_close_container(m), step);
  check_append(sd_bus_message_close_container(m), step);
}

// The request's "properties": [{"name":..., "type":..., "value":...}].
void append_requested_properties(sd_bus_message* m, const rapidjson::Value& req) {
  if (!req.HasMember("properties")) return;
  const auto& props = req["properties"];
  if (!props.IsArray()) fail("request", "\"properties\" must be an array", EINVAL);
  for (const auto& p : props.GetArray()) {
    if (!p.IsObject() || !p.HasMember("value")) fail("request", "each property needs \"name\", \"type\" and \"value\"", EINVAL);
    append_property(m, string_field(p, "name"), string_field(p, "type"), p["value"]);
  }
}

// JobRemoved signals of one unit, by job path, collected from before the
// call that creates the job: a job can finish before its call returns. The
// unit is told apart in the callback: with arg2='UNIT' in the rule, sd-bus
// 252 dispatched nothing that dbus-daemon delivered (tests/helper).
class JobWatch {
 public:
  JobWatch(sd_bus* bus, const std::string& unit) : bus_(bus), unit_(unit) {
    const std::string rule = std::string("type='signal',sender='") + kDest + "',path='" + kPath + "',interface='" +
                             kManager + "',member='JobRemoved'";
    if (int r = sd_bus_add_match(bus, &slot_, rule.c_str(), &JobWatch::on_removed, this); r < 0)
      fail_bus("watch the jobs of " + unit, r);
  }
  ~JobWatch() { sd_bus_slot_unref(slot_); }

  // The job's result ("done", "failed", ...), or "" when the deadline passed.
  std::string wait(const std::string& job, uint64_t deadline) {
    const std::string step = "wait for the job of " + unit_;
    for (;;) {
      if (auto it = results_.find(job); it != results_.end()) return it->second;
      int r = sd_bus_process(bus_, nullptr);
      if (r < 0) fail_bus(step, r);
      if (r > 0) continue;
      const uint64_t now = now_usec();
      if (now >= deadline) return "";
      if ((r = sd_bus_wait(bus_, deadline - now)) < 0 && r != -EINTR) fail_bus(step, r);
    }
  }

 private:
  static int on_removed(sd_bus_message* m, void* self, sd_bus_error*) {
    uint32_t id = 0;
    const char *job = nullptr, *unit = nullptr, *result = nullptr;
    auto* watch = static_cast<JobWatch*>(self);
    if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0 && watch->unit_ == unit)
      watch->results_[job] = result;
    return 0;
  }

  sd_bus* bus_;
  std::string unit_;
  sd_bus_slot* slot_ = nullptr;
  std::map<std::string, std::string> results_;
};

// Calls a manager method that queues a job (`m` is filled in) and returns
// the job's object path, or "" with `r` and `err` set when the call failed.
std::string call_for_job(sd_bus* bus, Message& m, const std::string& step, uint64_t deadline, int& r, BusError& err) {
  Message reply;
  const uint64_t now = now_usec();
  if ((r = sd_bus_call(bus, m.m, deadline > now ? deadline - now : 1, &err.e, &reply.m)) < 0) return "";
  const char* job = nullptr;
  if ((r = sd_bus_message_read(reply.m, "o", &job)) < 0) fail_bus(step + ": read the job", r);
  return job;
}

void reset_failed(sd_bus* bus, const std::string& unit) {
  BusError err;
  int r = sd_bus_call_method(bus, kDest, kPath, kManager, "ResetFailedUnit", &err.e, nullptr, "s", unit.c_str());
  if (r < 0 && !err.is("org.freedesktop.systemd1.NoSuchUnit")) fail_bus("reset-failed " + unit, r, &err.e);
}

// Stops `unit` and waits for the job until `deadline`; a unit systemd does
// not have is stopped already.
void stop(sd_bus* bus, const std::string& unit, uint64_t deadline) {
  const std::string step = "stop " + unit;
  JobWatch watch(bus, unit);
  Message m = new_call(bus, "StopUnit");
  check_append(sd_bus_message_append(m.m, "ss", unit.c_str(), "replace"), step);
  BusError err;
  int r = 0;
  const std::string job = call_for_job(bus, m, step, deadline, r, err);
  if (job.empty()) {
    if (err.is("org.freedesktop.systemd1.NoSuchUnit")) return;
    fail_bus(step, r, &err.e);
  }
  const std::string result = watch.wait(job, deadline);
  if (result.empty()) fail(step, "systemd did not finish the stop job in time", ETIMEDOUT);
  if (result != "done") fail(step, "the stop job ended with result \"" + result + "\"");
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The interface with the unit type's properties (ControlGroup, resource settings).
std::string unit_interface(const std::string& unit) {
  if (ends_with(unit, ".scope")) return "org.freedesktop.systemd1.Scope";
  if (ends_with(unit, ".slice")) return "org.freedesktop.systemd1.Slice";
  if (ends_with(unit, ".service")) return "org.freedesktop.systemd1.Service";
  fail("unit " + unit, "only .scope, .slice and .service units are handled", EINVAL);
}

// The unit's object path, or "" when systemd has no such unit loaded.
std::string unit_path(sd_bus* bus, const std::string& unit) {
  BusError err;
  Message reply;
  int r = sd_bus_call_method(bus, kDest, kPath, kManager, "GetUnit", &err.e, &reply.m, "s", unit.c_str());
  if (r < 0) {
    if (err.is("org.freedesktop.systemd1.NoSuchUnit")) return "";
    fail_bus("look up " + unit, r, &err.e);
  }
  const char* path = nullptr;
  if ((r = sd_bus_message_read(reply.m, "o", &path)) < 0) fail_bus("look up " + unit, r);
  return path;
}

std::string string_property(sd_bus* bus, const std::string& path, const std::string& iface, const char* name,
                            const std::string& unit) {
  BusError err;
  char* value = nullptr;
  int r = sd_bus_get_property_string(bus, kDest, path.c_str(), iface.c_str(), name, &err.e, &value);
  if (r < 0) fail_bus("read " + std::string(name) + " of " + unit, r, &err.e);
  std::string out = value;
  std::free(value);
  return out;
}

// ---- the commands ----

using Doc = rapidjson::Document;

void probe(const rapidjson::Value& req, Doc& out) {
  Bus bus(timeout_usec(req));
  BusError err;
  char* version = nullptr;
  int r = sd_bus_get_property_string(bus.bus, kDest, kPath, kManager, "Version", &err.e, &version);
  if (r < 0) fail_bus("read systemd's Version", r, &err.e);
  out.AddMember("version", rapidjson::Value(version, out.GetAllocator()), out.GetAllocator());
  std::free(version);
}

void start_scope(const rapidjson::Value& req, Doc& out) {
  const std::string unit = unit_field(req, "unit");
  const std::string slice = unit_field(req, "slice");
  const std::string description = string_field(req, "description");
  const auto& pid = member(req, "pid");
  if (!pid.IsUint() || pid.GetUint() == 0) fail("request", "\"pid\" must be a process id", EINVAL);
  const uint64_t deadline = now_usec() + timeout_usec(req);
  const std::string step = "start " + unit;
  Bus bus(timeout_usec(req));
  JobWatch watch(bus.bus, unit);

  // A slice unit hangs off its parent by Wants=; a scope is placed in it and delegated.
  const bool is_slice = ends_with(unit, ".slice");
  std::string job;
  // A unit of the same name may be a failed leftover: reset it and try once
  // more, as runc does; a live one stays an error.
  for (int attempt = 0; job.empty(); ++attempt) {
    Message m = new_call(bus.bus, "StartTransientUnit");
    check_append(sd_bus_message_append(m.m, "ss", unit.c_str(), "replace"), step);
    check_append(sd_bus_message_open_container(m.m, 'a', "(sv)"), step);
    rapidjson::Value v;
    append_property(m.m, "Description", "s", v.SetString(description.c_str(), out.GetAllocator()));
    if (is_slice) {
      check_append(sd_bus_message_append(m.m, "(sv)", "Wants", "as", 1, slice.c_str()), step);
    } else {
      check_append(sd_bus_message_append(m.m, "(sv)", "Slice", "s", slice.c_str()), step);
      check_append(sd_bus_message_append(m.m, "(sv)", "Delegate", "b", 1), step);
    }
    check_append(sd_bus_message_append(m.m, "(sv)", "PIDs", "au", 1, pid.GetUint()), step);
    check_append(sd_bus_message_append(m.m, "(sv)", "DefaultDependencies", "b", 0), step);
    append_requested_properties(m.m, req);
    check_append(sd_bus_message_close_container(m.m), step);
    check_append(sd_bus_message_append(m.m, "a(sa(sv))", 0), step);
    BusError err;
    int r = 0;
    job = call_for_job(bus.bus, m, step, deadline, r, err);
    if (!job.empty()) break;
    if (!err.is("org.freedesktop.systemd1.UnitExists") || attempt > 0) fail_bus(step, r, &err.e);
    reset_failed(bus.bus, unit);
  }

  const std::string result = watch.wait(job, deadline);
  if (result != "done") {
    // Leave nothing behind: a pending job is cancelled by the stop, a failed unit forgotten.
    std::string cleanup = result.empty() ? "; the unit was stopped" : "";
    try {
      if (result.empty()) stop(bus.bus, unit, now_usec() + timeout_usec(req));
      reset_failed(bus.bus, unit);
    } catch (const Failed& f) {
      cleanup = "; cleaning up failed too: " + f.error;
    }
    if (result.empty())
      fail(step, "systemd did not finish the start job within " + std::to_string(timeout_usec(req) / 1000) + " ms" +
                     cleanup, ETIMEDOUT);
    fail(step, "the start job ended with result \"" + result + "\"" + cleanup);
  }
  const std::string path = unit_path(bus.bus, unit);
  if (path.empty()) fail(step, "the unit is gone right after its start job finished", ENOENT);
  const std::string cgroup = string_property(bus.bus, path, unit_interface(unit), "ControlGroup", unit);
  out.AddMember("cgroup", rapidjson::Value(cgroup.c_str(), out.GetAllocator()), out.GetAllocator());
}

void set_properties(const rapidjson::Value& req, Doc&) {
  const std::string unit = unit_field(req, "unit");
  const std::string step = "set properties of " + unit;
  Bus bus(timeout_usec(req));
  Message m = new_call(bus.bus, "SetUnitProperties");
  // runtime=true: the settings last until the unit goes, like the unit itself.
  check_append(sd_bus_message_append(m.m, "sb", unit.c_str(), 1), step);
  check_append(sd_bus_message_open_container(m.m, 'a', "(sv)"), step);
  append_requested_properties(m.m, req);
  check_append(sd_bus_message_close_container(m.m), step);
  BusError err;
  if (int r = sd_bus_call(bus.bus, m.m, 0, &err.e, nullptr); r < 0) fail_bus(step, r, &err.e);
}

void stop_unit(const rapidjson::Value& req, Doc&) {
  const std::string unit = unit_field(req, "unit");
  Bus bus(timeout_usec(req));
  stop(bus.bus, unit, now_usec() + timeout_usec(req));
  reset_failed(bus.bus, unit);
}

void unit_info(const rapidjson::Value& req, Doc& out) {
  const std::string unit = unit_field(req, "unit");
  auto& alloc = out.GetAllocator();
  Bus bus(timeout_usec(req));
  const std::string path = unit_path(bus.bus, unit);
  out.AddMember("loaded", !path.empty(), alloc);
  if (path.empty()) return;
  const std::string iface = unit_interface(unit);
  const auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), alloc); };
  out.AddMember("activeState", str(string_property(bus.bus, path, "org.freedesktop.systemd1.Unit", "ActiveState", unit)),
                alloc);
  out.AddMember("controlGroup", str(string_property(bus.bus, path, iface, "ControlGroup", unit)), alloc);
  if (!req.HasMember("properties")) return;
  const auto& names = req["properties"];
  if (!names.IsArray()) fail("request", "\"properties\" must be an array of names", EINVAL);
  rapidjson::Value values(rapidjson::kObjectType);
  for (const auto& n : names.GetArray()) {
    if (!n.IsString()) fail("request", "\"properties\" must be an array of names", EINVAL);
    const std::string step = std::string("read ") + n.GetString() + " of " + unit;
    // Resource settings live on the type's interface, the rest on Unit.
    Message reply;
    BusError err;
    int r = 0;
    for (const std::string& i : {iface, std::string("org.freedesktop.systemd1.Unit")}) {
      sd_bus_error_free(&err.e);
      r = sd_bus_call_method(bus.bus, kDest, path.c_str(), "org.freedesktop.DBus.Properties", "Get", &err.e,
                             &reply.m, "ss", i.c_str(), n.GetString());
      if (r >= 0 || !err.is("org.freedesktop.DBus.Error.UnknownProperty")) break;
    }
    if (r < 0) fail_bus(step, r, &err.e);
    rapidjson::Value v;
    if (auto e = read_value(reply.m, v, alloc); !e.empty()) fail(step, e, EINVAL);
    values.AddMember(str(n.GetString()), v, alloc);
  }
  out.AddMember("values", values, alloc);
}

void write_reply(const Doc& reply) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  reply.Accept(writer);
  std::fwrite(buf.GetString(), 1, buf.GetSize(), stdout);
  std::fputc('\n', stdout);
}

int run(const char* command) {
  using Handler = void (*)(const rapidjson::Value&, Doc&);
  static const std::map<std::string_view, Handler> commands = {{"probe", probe},
                                                               {"start-scope", start_scope},
                                                               {"set-properties", set_properties},
                                                               {"stop-unit", stop_unit},
                                                               {"unit-info", unit_info}};
  Doc reply;
  reply.SetObject();
  try {
    const auto it = commands.find(command);
    if (it == commands.end()) fail("command", std::string("unknown command \"") + command + "\"", EINVAL);
    std::string input;
    char chunk[65536];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, stdin)) > 0) {
      input.append(chunk, n);
      if (input.size() > kMaxRequest) fail("read the request", "more than 1 MiB", E2BIG);
    }
    if (std::ferror(stdin)) fail("read the request", std::strerror(errno), errno);
    Doc req;
    if (req.Parse(input.c_str(), input.size()).HasParseError() || !req.IsObject())
      fail("read the request", "not a JSON object", EINVAL);
    reply.AddMember("ok", true, reply.GetAllocator());
    it->second(req, reply);
  } catch (const Failed& f) {
    reply.SetObject();
    auto& a = reply.GetAllocator();
    reply.AddMember("ok", false, a);
    reply.AddMember("error", rapidjson::Value(f.error.c_str(), a), a);
    reply.AddMember("errno", f.errnum, a);
    reply.AddMember("name", rapidjson::Value(f.name.c_str(), a), a);
  }
  write_reply(reply);
  const bool written = std::fflush(stdout) == 0 && !std::ferror(stdout);
  return written && reply["ok"].GetBool() ? 0 : 1;
}

}  // namespace
}  // namespace agentrun::systemd_helper

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: agentrun-systemd probe|start-scope|set-properties|stop-unit|unit-info < request.json\n");
    return 1;
  }
  return agentrun::systemd_helper::run(argv[1]);
}
