#include "egress-guard/log_lines.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <functional>

namespace agentrun::egress {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void field(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string line(const std::string& time, const std::function<void(Writer&)>& body) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  field(w, "time", time);
  body(w);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

std::string iso_time(const timespec& t) {
  tm utc{};
  gmtime_r(&t.tv_sec, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(t.tv_nsec / 1000000));
  return text;
}

std::string packet_line(const std::string& time, const nflog::Packet& p) {
  return line(time, [&](Writer& w) {
    const std::string_view prefix(p.prefix);
    if (prefix.starts_with("agentrun ") && prefix.size() > 9) {
      const auto words = prefix.substr(9);
      const auto space = words.find(' ');
      field(w, "action", std::string(words.substr(0, space)));
      if (space != std::string_view::npos) field(w, "rule", std::string(words.substr(space + 1)));
    } else {
      field(w, "action", "log");
      field(w, "prefix", p.prefix);
    }
    if (const auto s = nflog::summarize(p.payload)) {
      field(w, "protocol", s->protocol);
      field(w, "destination", s->destination);
      if (s->port) {
        w.Key("port");
        w.Uint(*s->port);
      }
      if (s->icmp_type) {
        w.Key("icmpType");
        w.Uint(*s->icmp_type);
      }
      field(w, "source", s->source);
    }
    if (p.uid) {
      w.Key("uid");
      w.Uint(*p.uid);
    }
  });
}

std::string dns_refused_line(const std::string& time, const std::string& name) {
  return line(time, [&](Writer& w) {
    field(w, "action", "deny");
    field(w, "rule", "dns");
    field(w, "protocol", "dns");
    field(w, "name", name);
  });
}

std::string resolve_line(const std::string& time, const std::string& name, const std::vector<std::string>& addresses,
                         uint32_t ttl) {
  return line(time, [&](Writer& w) {
    field(w, "action", "resolve");
    field(w, "name", name);
    w.Key("addresses");
    w.StartArray();
    for (const auto& a : addresses) w.String(a.c_str(), static_cast<rapidjson::SizeType>(a.size()));
    w.EndArray();
    w.Key("ttl");
    w.Uint(ttl);
  });
}

std::string guard_error_line(const std::string& time, const std::string& message) {
  return line(time, [&](Writer& w) {
    field(w, "action", "error");
    field(w, "message", message);
  });
}

}  // namespace agentrun::egress
