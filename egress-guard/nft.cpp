#include "egress-guard/nft.hpp"

#include <dlfcn.h>
#include <nftables/libnftables.h>

#include "egress-guard/failure.hpp"

namespace agentrun::egress {
namespace {

// libnftables and the five libraries it brings are loaded only by a guard
// that makes rules (its own ruleset, or the sets its DNS answers fill): one
// that only logs, as under agent-default, starts and lives without them.
struct Library {
  decltype(&nft_ctx_new) ctx_new;
  decltype(&nft_ctx_free) ctx_free;
  decltype(&nft_ctx_buffer_output) buffer_output;
  decltype(&nft_ctx_buffer_error) buffer_error;
  decltype(&nft_run_cmd_from_buffer) run_cmd;
  decltype(&nft_ctx_get_error_buffer) error_buffer;
  decltype(&nft_ctx_get_output_buffer) output_buffer;
};

template <class F>
void bind(void* handle, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(handle, name));
  if (out == nullptr) fail("nftables", std::string("libnftables.so.1 has no ") + name);
}

const Library& library() {
  static const Library lib = [] {
    void* handle = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) fail("nftables", std::string("load libnftables: ") + dlerror());
    Library l{};
    bind(handle, "nft_ctx_new", l.ctx_new);
    bind(handle, "nft_ctx_free", l.ctx_free);
    bind(handle, "nft_ctx_buffer_output", l.buffer_output);
    bind(handle, "nft_ctx_buffer_error", l.buffer_error);
    bind(handle, "nft_run_cmd_from_buffer", l.run_cmd);
    bind(handle, "nft_ctx_get_error_buffer", l.error_buffer);
    bind(handle, "nft_ctx_get_output_buffer", l.output_buffer);
    return l;
  }();
  return lib;
}

}  // namespace

void load_nftables() { library(); }

Nft::Nft() : ctx_(library().ctx_new(NFT_CTX_DEFAULT)) {
  if (ctx_ == nullptr) fail("nftables", "nft_ctx_new failed");
  // Buffered, so that errors reach the caller's message and nothing reaches
  // the runtime's stdout or stderr.
  if (library().buffer_output(ctx_) != 0 || library().buffer_error(ctx_) != 0) {
    library().ctx_free(ctx_);
    fail("nftables", "cannot buffer the output of libnftables");
  }
}

Nft::~Nft() { library().ctx_free(ctx_); }

std::string Nft::run(const std::string& script) {
  const int rc = library().run_cmd(ctx_, script.c_str());
  const char* err = library().error_buffer(ctx_);
  std::string text = err != nullptr ? err : "";
  library().output_buffer(ctx_);  // read, so that it does not grow
  if (rc == 0) return "";
  // nft's message, the input line and a line of carets under the spot: one
  // line of text for the status pipe and the log, without the carets.
  std::string joined;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t^~") == std::string::npos) continue;
    joined += (joined.empty() ? "" : " | ") + line.substr(line.find_first_not_of(" \t"));
  }
  return joined.empty() ? "nft_run_cmd_from_buffer failed (" + std::to_string(rc) + ")" : joined;
}

std::optional<std::string> Nft::list(const std::string& command) {
  const int rc = library().run_cmd(ctx_, command.c_str());
  library().error_buffer(ctx_);
  const char* out = library().output_buffer(ctx_);
  if (rc != 0) return std::nullopt;
  return std::string(out != nullptr ? out : "");
}

}  // namespace agentrun::egress
