#pragma once
// Policy fields as comparable text, for the policy unit tests.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "runtime/policy/policy.hpp"

namespace agentrun::policy {
inline std::ostream& operator<<(std::ostream& o, Isolation i) { return o << isolation_name(i); }
}  // namespace agentrun::policy

inline std::string show(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const auto& s : v) out += (out.size() > 1 ? "," : "") + s;
  return out + "]";
}
inline std::string show(const std::optional<std::vector<std::string>>& v) { return v ? show(*v) : "null"; }
inline std::string show(const std::vector<uint16_t>& v) {
  std::string out = "[";
  for (auto p : v) out += (out.size() > 1 ? "," : "") + std::to_string(p);
  return out + "]";
}
inline std::string show(const std::optional<std::vector<uint16_t>>& v) { return v ? show(*v) : "null"; }
inline std::string show(const std::optional<bool>& v) { return v ? (*v ? "true" : "false") : "null"; }
template <class T>
std::string show_num(const std::optional<T>& v) {
  return v ? std::to_string(*v) : "null";
}
inline std::string show(const std::optional<agentrun::policy::NetworkMode>& m) {
  return m ? (*m == agentrun::policy::NetworkMode::none ? "none" : "inherit") : "null";
}
