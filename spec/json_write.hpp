#pragma once
// Small helpers for writing JSON with RapidJSON writers (compact or pretty).

#include <map>
#include <string>

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

}  // namespace agentrun::spec
