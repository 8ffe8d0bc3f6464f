#include "systemd-helper/bus_values.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace agentrun::systemd_helper {
namespace {

// D-Bus allows 32 levels of arrays and 32 of structs; one bound covers both.
constexpr int kMaxDepth = 32;

bool basic(char c) { return c != '\0' && std::strchr("bynqiuxtdso", c) != nullptr; }

size_t type_length(const char* sig, int depth) {
  if (depth > kMaxDepth) return 0;
  if (basic(*sig)) return 1;
  if (*sig == 'a') {
    const size_t inner = type_length(sig + 1, depth + 1);
    return inner == 0 ? 0 : inner + 1;
  }
  if (*sig != '(') return 0;
  size_t at = 1;
  while (sig[at] != ')') {
    const size_t member = type_length(sig + at, depth + 1);
    if (member == 0) return 0;
    at += member;
  }
  return at == 1 ? 0 : at + 1;  // "()" is not a type
}

std::string sd_text(int r) { return std::string("sd-bus: ") + std::strerror(-r); }

// Appends `v` as the integer type T when it is an integer in T's range.
template <class T>
bool put_integer(sd_bus_message* m, char type, const rapidjson::Value& v, int& r) {
  T x;
  if constexpr (std::is_signed_v<T>) {
    if (!v.IsInt64() || v.GetInt64() < std::numeric_limits<T>::min() || v.GetInt64() > std::numeric_limits<T>::max())
      return false;
    x = static_cast<T>(v.GetInt64());
  } else {
    if (!v.IsUint64() || v.GetUint64() > std::numeric_limits<T>::max()) return false;
    x = static_cast<T>(v.GetUint64());
  }
  r = sd_bus_message_append_basic(m, type, &x);
  return true;
}

bool append_integer(sd_bus_message* m, char type, const rapidjson::Value& v, int& r) {
  switch (type) {
    case 'y': return put_integer<uint8_t>(m, type, v, r);
    case 'n': return put_integer<int16_t>(m, type, v, r);
    case 'q': return put_integer<uint16_t>(m, type, v, r);
    case 'i': return put_integer<int32_t>(m, type, v, r);
    case 'u': return put_integer<uint32_t>(m, type, v, r);
    case 'x': return put_integer<int64_t>(m, type, v, r);
    default: return put_integer<uint64_t>(m, type, v, r);
  }
}

const char* integer_kind(char type) {
  switch (type) {
    case 'y': return "an integer 0..255";
    case 'n': return "a 16-bit signed integer";
    case 'q': return "a 16-bit unsigned integer";
    case 'i': return "a 32-bit signed integer";
    case 'u': return "a 32-bit unsigned integer";
    case 'x': return "a 64-bit signed integer";
    default: return "a 64-bit unsigned integer";
  }
}

// Appends one value of the complete type sig[0, len).
std::string append(sd_bus_message* m, const std::string& sig, const rapidjson::Value& v, const std::string& where) {
  const auto expected = [&](const char* what) { return where + ": expected " + what + " for " + sig; };
  int r = 0;
  switch (sig[0]) {
    case 'b': {
      if (!v.IsBool()) return expected("true or false");
      const int x = v.GetBool();
      r = sd_bus_message_append_basic(m, 'b', &x);
      break;
    }
    case 'y': case 'n': case 'q': case 'i': case 'u': case 'x': case 't':
      if (!append_integer(m, sig[0], v, r)) return expected(integer_kind(sig[0]));
      break;
    case 'd': {
      if (!v.IsNumber()) return expected("a number");
      const double x = v.GetDouble();
      r = sd_bus_message_append_basic(m, 'd', &x);
      break;
    }
    case 's':
    case 'o':
      if (!v.IsString()) return expected("a string");
      // A C string would silently end at an embedded NUL.
      if (std::strlen(v.GetString()) != v.GetStringLength()) return where + ": the string contains a NUL";
      r = sd_bus_message_append_basic(m, sig[0], v.GetString());
      break;
    case 'a': {
      if (!v.IsArray()) return expected("an array");
      const std::string element = sig.substr(1);
      if ((r = sd_bus_message_open_container(m, 'a', element.c_str())) < 0) break;
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
        if (auto e = append(m, element, v[i], where + "[" + std::to_string(i) + "]"); !e.empty()) return e;
      r = sd_bus_message_close_container(m);
      break;
    }
    case '(': {
      const std::string members = sig.substr(1, sig.size() - 2);
      size_t count = 0;
      for (size_t at = 0; at < members.size(); at += type_length(members.c_str() + at, 0)) ++count;
      if (!v.IsArray() || v.Size() != count)
        return expected(("an array of its " + std::to_string(count) + " members").c_str());
      if ((r = sd_bus_message_open_container(m, 'r', members.c_str())) < 0) break;
      size_t at = 0;
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        const size_t len = type_length(members.c_str() + at, 0);
        if (auto e = append(m, members.substr(at, len), v[i], where + "[" + std::to_string(i) + "]"); !e.empty())
          return e;
        at += len;
      }
      r = sd_bus_message_close_container(m);
      break;
    }
    default:
      return where + ": the type " + sig + " is not supported";
  }
  return r < 0 ? where + ": " + sd_text(r) : "";
}

template <class T>
std::string read_basic(sd_bus_message* m, char type, T& out) {
  const int r = sd_bus_message_read_basic(m, type, &out);
  return r < 0 ? sd_text(r) : "";
}

}  // namespace

size_t complete_type_length(const char* sig) { return type_length(sig, 0); }

std::string append_value(sd_bus_message* m, const std::string& type, const rapidjson::Value& value) {
  if (type.empty() || complete_type_length(type.c_str()) != type.size())
    return "\"" + type + "\" is not one complete D-Bus type of b y n q i u x t d s o, arrays and structs";
  return append(m, type, value, "value");
}

std::string read_value(sd_bus_message* m, rapidjson::Value& out, rapidjson::Document::AllocatorType& alloc) {
  char type = 0;
  const char* contents = nullptr;
  int r = sd_bus_message_peek_type(m, &type, &contents);
  if (r < 0) return sd_text(r);
  if (r == 0) return "no value left in the message";
  std::string e;
  switch (type) {
    case 'b': { int v = 0; e = read_basic(m, type, v); out.SetBool(v != 0); break; }
    case 'y': { uint8_t v = 0; e = read_basic(m, type, v); out.SetUint(v); break; }
    case 'n': { int16_t v = 0; e = read_basic(m, type, v); out.SetInt(v); break; }
    case 'q': { uint16_t v = 0; e = read_basic(m, type, v); out.SetUint(v); break; }
    case 'i': { int32_t v = 0; e = read_basic(m, type, v); out.SetInt(v); break; }
    case 'u': { uint32_t v = 0; e = read_basic(m, type, v); out.SetUint(v); break; }
    case 'x': { int64_t v = 0; e = read_basic(m, type, v); out.SetInt64(v); break; }
    case 't': { uint64_t v = 0; e = read_basic(m, type, v); out.SetUint64(v); break; }
    case 'd': {
      double v = 0;
      e = read_basic(m, type, v);
      // JSON has no NaN or infinity.
      if (std::isfinite(v)) out.SetDouble(v); else out.SetNull();
      break;
    }
    case 's': case 'o': case 'g': {
      const char* v = nullptr;
      e = read_basic(m, type, v);
      if (e.empty()) out.SetString(v, alloc);
      break;
    }
    case 'a': case 'r': case 'e': case 'v': {
      // Arrays, structs and dict entries become JSON arrays; a variant its content.
      if ((r = sd_bus_message_enter_container(m, type, contents)) < 0) return sd_text(r);
      if (type == 'v') {
        e = read_value(m, out, alloc);
      } else {
        out.SetArray();
        while (e.empty() && (r = sd_bus_message_at_end(m, 0)) == 0) {
          rapidjson::Value element;
          e = read_value(m, element, alloc);
          out.PushBack(element, alloc);
        }
        if (r < 0) return sd_text(r);
      }
      if (e.empty() && (r = sd_bus_message_exit_container(m)) < 0) return sd_text(r);
      break;
    }
    default:
      return std::string("a value of D-Bus type ") + type + " cannot be shown as JSON";
  }
  return e;
}

}  // namespace agentrun::systemd_helper
