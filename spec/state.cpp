#include "spec/state.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace agentrun::spec {

std::string state_json(const State& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("ociVersion");
  w.String(s.ociVersion);
  w.Key("id");
  w.String(s.id);
  w.Key("status");
  w.String(s.status);
  if (s.pid > 0) {
    w.Key("pid");
    w.Int(s.pid);
  }
  w.Key("bundle");
  w.String(s.bundle);
  if (!s.annotations.empty()) {
    w.Key("annotations");
    w.StartObject();
    for (const auto& [k, v] : s.annotations) {
      w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
      w.String(v);
    }
    w.EndObject();
  }
  w.EndObject();
  return buf.GetString();
}

}  // namespace agentrun::spec
