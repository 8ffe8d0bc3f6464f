#include "runtime/cgroup/systemd_client.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "runtime/util/child_process.hpp"
#include "runtime/util/helper_binary.hpp"
#include "runtime/util/sealed_exec.hpp"
#include "spec/error.hpp"

extern char** environ;

namespace agentrun {
namespace {

const std::string kStep = "--systemd-cgroup";
constexpr const char* kHelperName = "agentrun-systemd";
constexpr size_t kMaxReply = 1 << 20;
// Beyond twice the request's own timeout (see call), for starting and connecting.
constexpr int64_t kSlackMs = 5000;

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_value(Writer& w, const PropertyValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) w.Bool(v);
        else if constexpr (std::is_same_v<T, int64_t>) w.Int64(v);
        else if constexpr (std::is_same_v<T, uint64_t>) w.Uint64(v);
        else if constexpr (std::is_same_v<T, double>) w.Double(v);
        else if constexpr (std::is_same_v<T, std::string>) w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
        else {
          w.StartArray();
          for (const auto& item : v) write_value(w, item);
          w.EndArray();
        }
      },
      value.v);
}

void write_properties(Writer& w, const std::vector<UnitProperty>& properties) {
  w.Key("properties");
  w.StartArray();
  for (const auto& p : properties) {
    w.StartObject();
    w.Key("name");
    w.String(p.name.c_str());
    w.Key("type");
    w.String(p.type.c_str());
    w.Key("value");
    write_value(w, p.value);
    w.EndObject();
  }
  w.EndArray();
}

PropertyValue read_value(const rapidjson::Value& v) {
  if (v.IsBool()) return {v.GetBool()};
  if (v.IsUint64()) return {v.GetUint64()};
  if (v.IsInt64()) return {v.GetInt64()};
  if (v.IsNumber()) return {v.GetDouble()};
  if (v.IsString()) return {std::string(v.GetString(), v.GetStringLength())};
  if (!v.IsArray()) fail(kStep, "agentrun-systemd's reply has a value that is not a D-Bus value");
  std::vector<PropertyValue> items;
  for (const auto& item : v.GetArray()) items.push_back(read_value(item));
  return {std::move(items)};
}

// A request: {"unit": unit, "timeoutMs": ..., <more>}.
template <class More>
std::string request(const std::string& unit, SystemdClient::Timeout timeout, More more) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  if (!unit.empty()) {
    w.Key("unit");
    w.String(unit.c_str(), static_cast<rapidjson::SizeType>(unit.size()));
  }
  w.Key("timeoutMs");
  w.Uint64(static_cast<uint64_t>(timeout.count()));
  more(w);
  w.EndObject();
  return buf.GetString();
}

std::string string_member(const rapidjson::Document& reply, const char* name, const std::string& step) {
  const auto it = reply.FindMember(name);
  if (it == reply.MemberEnd() || !it->value.IsString()) fail(step, std::string("its reply has no \"") + name + "\"");
  return it->value.GetString();
}

}  // namespace

std::string find_systemd_helper() { return find_helper_binary(kHelperName, "AGENTRUN_SYSTEMD_HELPER", installed_binary_path(), kStep); }

int systemd_version_number(const std::string& version) {
  const size_t start = version.find_first_not_of("\"v");
  if (start == std::string::npos) return -1;
  const size_t end = version.find_first_not_of("0123456789", start);
  const std::string digits = version.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (digits.empty() || digits.size() > 6) return -1;
  return std::stoi(digits);
}

SystemdClient::SystemdClient() : helper_(find_systemd_helper()) {}

std::string SystemdClient::step(const std::string& command) const {
  return kStep + ": " + kHelperName + " " + command + " (" + helper_ + ")";
}

rapidjson::Document SystemdClient::call(const std::string& command, const std::string& req, Timeout timeout) const {
  const std::string step = this->step(command);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  // Twice: a start that times out is followed by a stop that may take as long.
  const int64_t deadline = monotonic_ms() + 2 * timeout.count() + std::min<int64_t>(kSlackMs, timeout.count());
  auto run = run_child(helper_, {helper_, command}, env, req, deadline, kMaxReply + 1, step);
  if (!run) throw Failure(std::move(run).error());
  const auto& out = run->output;
  const auto show = [&] { return out.size() > 200 ? out.substr(0, 200) + "..." : out; };
  if (out.size() > kMaxReply) fail(step, "its reply is larger than 1 MiB");
  rapidjson::Document reply;
  const bool exited = WIFEXITED(run->status) && WEXITSTATUS(run->status) <= 1;
  if (!exited || reply.Parse(out.c_str(), out.size()).HasParseError() || !reply.IsObject() ||
      !reply.HasMember("ok") || !reply["ok"].IsBool())
    fail(step, describe_wait_status(run->status) + " without a reply" + (out.empty() ? "" : ", output: " + show()));
  if (reply["ok"].GetBool() != (WEXITSTATUS(run->status) == 0))
    fail(step, describe_wait_status(run->status) + " with a reply that says otherwise: " + show());
  if (reply["ok"].GetBool()) return reply;
  std::string reason = reply.HasMember("error") && reply["error"].IsString() ? reply["error"].GetString() : show();
  if (reply.HasMember("name") && reply["name"].IsString() && reply["name"].GetStringLength() > 0)
    reason += " (" + std::string(reply["name"].GetString()) + ")";
  const int errnum = reply.HasMember("errno") && reply["errno"].IsInt() ? reply["errno"].GetInt() : 0;
  throw Failure(Error{kStep, reason, errnum});
}

std::string SystemdClient::probe(Timeout timeout) const {
  return string_member(call("probe", request("", timeout, [](Writer&) {}), timeout), "version", step("probe"));
}

std::string SystemdClient::start_scope(const std::string& unit, const std::string& slice,
                                       const std::string& description, pid_t pid,
                                       const std::vector<UnitProperty>& properties, Timeout timeout) const {
  const auto req = request(unit, timeout, [&](Writer& w) {
    w.Key("slice");
    w.String(slice.c_str());
    w.Key("description");
    w.String(description.c_str());
    w.Key("pid");
    w.Int(pid);
    write_properties(w, properties);
  });
  return string_member(call("start-scope", req, timeout), "cgroup", step("start-scope"));
}

void SystemdClient::set_properties(const std::string& unit, const std::vector<UnitProperty>& properties,
                                   Timeout timeout) const {
  call("set-properties", request(unit, timeout, [&](Writer& w) { write_properties(w, properties); }), timeout);
}

void SystemdClient::stop_unit(const std::string& unit, Timeout timeout) const {
  call("stop-unit", request(unit, timeout, [](Writer&) {}), timeout);
}

UnitInfo SystemdClient::unit_info(const std::string& unit, const std::vector<std::string>& properties,
                                  Timeout timeout) const {
  const auto reply = call("unit-info", request(unit, timeout, [&](Writer& w) {
                            w.Key("properties");
                            w.StartArray();
                            for (const auto& p : properties) w.String(p.c_str());
                            w.EndArray();
                          }),
                          timeout);
  UnitInfo info;
  info.loaded = reply.HasMember("loaded") && reply["loaded"].IsBool() && reply["loaded"].GetBool();
  if (!info.loaded) return info;
  info.active_state = string_member(reply, "activeState", step("unit-info"));
  info.control_group = string_member(reply, "controlGroup", step("unit-info"));
  if (reply.HasMember("values") && reply["values"].IsObject())
    for (const auto& m : reply["values"].GetObject()) info.values[m.name.GetString()] = read_value(m.value);
  return info;
}

}  // namespace agentrun
