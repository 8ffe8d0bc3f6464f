#include "spec/error.hpp"

#include <cctype>
#include <cstring>

namespace agentrun {

std::string errno_text(int errnum) {
  const char* d = strerrordesc_np(errnum);
  std::string s = d ? d : "errno " + std::to_string(errnum);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string Error::message() const {
  std::string out = step;
  auto add = [&out](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += ": ";
    out += part;
  };
  add(reason);
  if (errnum != 0) add(errno_text(errnum));
  return out;
}

Error sys_error(std::string step, int errnum) { return Error{std::move(step), {}, errnum}; }

Error plain_error(std::string step, std::string reason) {
  return Error{std::move(step), std::move(reason), 0};
}

void fail(std::string step, std::string reason) {
  throw Failure(plain_error(std::move(step), std::move(reason)));
}

void fail_errno(std::string step, int errnum) { throw Failure(sys_error(std::move(step), errnum)); }

}  // namespace agentrun
