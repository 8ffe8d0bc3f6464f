#include "runtime/cgroup/default_devices.hpp"

namespace agentrun {
namespace {

spec::DeviceRule allow(const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                      const char* access) {
  return spec::DeviceRule{true, type, major, minor, access};
}

}  // namespace

spec::Resources with_default_devices(spec::Resources r) {
  if (r.devices.empty()) return r;
  // runc's list: creating any node, and using the standard devices, the
  // ptys and the tun device.
  for (auto rule : {allow("c", std::nullopt, std::nullopt, "m"), allow("b", std::nullopt, std::nullopt, "m"),
                    allow("c", 1, 3, "rwm"), allow("c", 1, 8, "rwm"), allow("c", 1, 7, "rwm"),
                    allow("c", 5, 0, "rwm"), allow("c", 1, 5, "rwm"), allow("c", 1, 9, "rwm"),
                    allow("c", 5, 1, "rwm"), allow("c", 136, std::nullopt, "rwm"), allow("c", 5, 2, "rwm"),
                    allow("c", 10, 200, "rwm")})
    r.devices.push_back(rule);
  return r;
}

}  // namespace agentrun
