#include "spec/state.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "spec/json_write.hpp"

namespace agentrun::spec {
namespace {

template <class Writer>
void write_state(Writer& w, const State& s) {
  w.StartObject();
  write_string(w, "ociVersion", s.ociVersion);
  write_string(w, "id", s.id);
  write_string(w, "status", s.status);
  // The spec leaves pid out when there is no process; runc's `state` prints 0.
  if (s.pid > 0 || s.details) {
    w.Key("pid");
    w.Int(s.pid);
  }
  write_string(w, "bundle", s.bundle);
  if (s.details) {
    write_string(w, "rootfs", s.details->rootfs);
    write_string(w, "created", s.details->created);
    write_string(w, "owner", s.details->owner);
  }
  if (!s.annotations.empty()) write_string_map(w, "annotations", s.annotations);
  w.EndObject();
}

}  // namespace

std::string state_json(const State& s, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    write_state(w, s);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    write_state(w, s);
  }
  return buf.GetString();
}

}  // namespace agentrun::spec
