#pragma once
// Small helpers for writing JSON with RapidJSON writers (compact or pretty).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
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

// Any container of strings (vector, set).
template <class Writer, class Strings = std::vector<std::string>>
void write_string_list(Writer& w, const char* key, const Strings& items) {
  w.Key(key);
  w.StartArray();
  for (const std::string& s : items) w.String(s.c_str(), static_cast<unsigned>(s.size()));
  w.EndArray();
}

// A bool or integer as a JSON value; an empty optional is null.
template <class Writer, class T>
void write_number_value(Writer& w, const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    w.Bool(value);
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    w.Int64(value);
  } else if constexpr (std::is_integral_v<T>) {
    w.Uint64(value);
  } else if (value) {
    write_number_value(w, *value);
  } else {
    w.Null();
  }
}

template <class Writer, class T>
void write_number(Writer& w, const char* key, const T& value) {
  w.Key(key);
  write_number_value(w, value);
}

// A member that holds an object (or an array) whose members `body` writes.
template <class Writer, class Body>
void write_object(Writer& w, const char* key, Body body) {
  w.Key(key);
  w.StartObject();
  body();
  w.EndObject();
}
template <class Writer, class Items, class Each>
void write_array(Writer& w, const char* key, const Items& items, Each each) {
  w.Key(key);
  w.StartArray();
  for (const auto& item : items) each(item);
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
