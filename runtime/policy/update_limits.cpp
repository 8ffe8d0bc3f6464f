#include "runtime/policy/update_limits.hpp"

#include <charconv>
#include <cstdint>
#include <map>

#include "spec/error.hpp"

namespace agentrun::policy {
namespace {

// Where a requested value stands against the policy's ceiling.
enum class Verdict { within, above, removes, unreadable };

// pids.limit: 0 and below are written as "max" (cgroup/writes.cpp).
Verdict pids_verdict(int64_t value, int64_t max) {
  return value <= 0 ? Verdict::removes : value > max ? Verdict::above : Verdict::within;
}

// memory.limit: 0 leaves the limit as it is (as in runc), -1 removes it.
Verdict memory_verdict(int64_t value, int64_t max) {
  if (value == 0) return Verdict::within;
  return value < 0 ? Verdict::removes : value > max ? Verdict::above : Verdict::within;
}

// A cgroup v2 file's text: "max" or a number, with the surrounding
// whitespace the kernel strips. Anything else (memory.max's "4G") cannot be
// compared here, so it is not let through.
Verdict unified_verdict(const std::string& text, int64_t max) {
  const size_t begin = text.find_first_not_of(" \t\n");
  const size_t end = text.find_last_not_of(" \t\n");
  const std::string value = begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
  if (value == "max") return Verdict::removes;
  uint64_t n = 0;
  const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size()) return Verdict::unreadable;
  return n > static_cast<uint64_t>(max) ? Verdict::above : Verdict::within;
}

class Limiter {
 public:
  Limiter(const Policy& p, std::vector<std::string>& warnings) : p_(p), warnings_(warnings) {}

  // True when best-effort lowers the value to `max`; refuses under strict.
  // `what` is the request as given ("update --pids-limit 5000").
  bool exceeds(const std::string& what, Verdict v, const char* ceiling, int64_t max) {
    if (v == Verdict::within) return false;
    const std::string limit = std::string("the policy's ") + ceiling + " " + std::to_string(max);
    std::string problem = what + ": ";
    if (v == Verdict::above) problem += "above " + limit;
    else if (v == Verdict::removes) problem += "would remove the limit; " + limit + " is the ceiling";
    else problem += "not a number to check against " + limit;
    if (p_.isolation == Isolation::strict) fail("policy " + shown_name(p_), problem);
    warnings_.push_back("policy " + shown_name(p_) + " (best-effort): " + problem + "; set to " + std::to_string(max));
    return true;
  }

  void unified(std::map<std::string, std::string>& files, const std::string& file, const char* ceiling, int64_t max) {
    auto it = files.find(file);
    if (it != files.end() &&
        exceeds("update --resources unified." + file + " \"" + it->second + "\"", unified_verdict(it->second, max),
                ceiling, max))
      it->second = std::to_string(max);
  }

 private:
  const Policy& p_;
  std::vector<std::string>& warnings_;
};

}  // namespace

LimitedUpdate limit_update(const Policy& policy, spec::Resources requested, UpdateSource source) {
  LimitedUpdate out{std::move(requested), {}};
  spec::Resources& r = out.resources;
  Limiter limiter(policy, out.warnings);
  const bool flags = source == UpdateSource::flags;
  if (const auto max = policy.resources.pidsMax) {
    if (r.pidsLimit && limiter.exceeds(std::string(flags ? "update --pids-limit " : "update --resources pids.limit ") +
                                           std::to_string(*r.pidsLimit),
                                       pids_verdict(*r.pidsLimit, *max), "pidsMax", *max))
      r.pidsLimit = *max;
    limiter.unified(r.unified, "pids.max", "pidsMax", *max);
  }
  if (const auto max = policy.resources.memoryMax) {
    if (r.memory && r.memory->limit &&
        limiter.exceeds(std::string(flags ? "update --memory " : "update --resources memory.limit ") +
                            std::to_string(*r.memory->limit),
                        memory_verdict(*r.memory->limit, *max), "memoryMax", *max))
      r.memory->limit = *max;
    limiter.unified(r.unified, "memory.max", "memoryMax", *max);
  }
  return out;
}

}  // namespace agentrun::policy
