#pragma once
// Errors are values that say what was being done, on what, and why.
//
// Code that runs between fork and exec (the container init) never throws:
// it returns Status / Result<T>. Code on the CLI side may throw Failure,
// which main() catches and reports.

#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace agentrun {

struct Error {
  std::string step;    // "mount proc on /proc", or a config field path
  std::string reason;  // what went wrong, when it is not just an errno
  int errnum = 0;      // the errno of the failed system call, 0 if none

  // "step: reason: errno text", leaving out the empty parts.
  std::string message() const;
};

// strerror in runc's lowercase wording ("no such file or directory"):
// docker maps exit codes 126/127 by matching it.
std::string errno_text(int errnum);

Error sys_error(std::string step, int errnum);
Error plain_error(std::string step, std::string reason);

class Failure : public std::exception {
 public:
  explicit Failure(Error e) : error_(std::move(e)), text_(error_.message()) {}
  const Error& error() const { return error_; }
  const char* what() const noexcept override { return text_.c_str(); }

 private:
  Error error_;
  std::string text_;
};

// Without exceptions (the build of init/ that checks it never throws: see
// CMakeLists.txt) nothing that throws is declared, so a call of it fails.
#if __cpp_exceptions
[[noreturn]] void fail(std::string step, std::string reason);
[[noreturn]] void fail_errno(std::string step, int errnum);
#endif

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e)) {}  // NOLINT: implicit on purpose
  explicit operator bool() const { return !error_; }
  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }
#if __cpp_exceptions
  // Throws on the CLI side; never use between fork and exec.
  void or_throw() const {
    if (error_) throw Failure(*error_);
  }
#endif

 private:
  std::optional<Error> error_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}        // NOLINT
  Result(Error e) : v_(std::move(e)) {}    // NOLINT
  explicit operator bool() const { return v_.index() == 0; }
  T& operator*() & { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }
#if __cpp_exceptions
  T or_throw() && {
    if (v_.index() != 0) throw Failure(std::get<1>(v_));
    return std::get<0>(std::move(v_));
  }
#endif

 private:
  std::variant<T, Error> v_;
};

}  // namespace agentrun

// Propagate a failed Status/Result out of a function returning Status or Result.
#define AR_TRY(expr)                                     \
  do {                                                   \
    if (auto ar_try_ = (expr); !ar_try_)                 \
      return std::move(ar_try_).error();                 \
  } while (0)

#define AR_CONCAT_(a, b) a##b
#define AR_CONCAT(a, b) AR_CONCAT_(a, b)
#define AR_TRY_ASSIGN(decl, expr) AR_TRY_ASSIGN_(AR_CONCAT(ar_res_, __LINE__), decl, expr)
#define AR_TRY_ASSIGN_(tmp, decl, expr)                  \
  auto tmp = (expr);                                     \
  if (!tmp) return std::move(tmp).error();               \
  decl = std::move(*tmp)
