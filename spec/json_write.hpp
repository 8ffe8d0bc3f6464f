#pragma once
// Small helpers for writing JSON with RapidJSON writers (compact or pretty).

#include <map>
#include <string>
#include <vector>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace agentrun::spec {

// `s` as a JSON string literal, quotes included.
std::string json_quote(const std::string& s);

template <class Writer>
void write_string(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<unsigned>(value.size()));
}

template <class Writer>
void write_string_map(Writer& w, const char* key, const std::map<std::string, std::string>& map) {
  w.Key(key);
  w.StartObject();
  for (const auto& [k, v] : map) write_string(w, k.c_str(), v);
  w.EndObject();
}

template <class Writer>
void write_string_list(Writer& w, const char* key, const std::vector<std::string>& items) {
  w.Key(key);
  w.StartArray();
  for (const auto& s : items) w.String(s.c_str(), static_cast<unsigned>(s.size()));
  w.EndArray();
}

using PrettyWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// JSON for people (2-space indent, final newline) written by `body`.
template <class Body>
std::string pretty_json(Body body) {
  rapidjson::StringBuffer buf;
  PrettyWriter w(buf);
  w.SetIndent(' ', 2);
  body(w);
  return std::string(buf.GetString()) + "\n";
}

}  // namespace agentrun::spec
