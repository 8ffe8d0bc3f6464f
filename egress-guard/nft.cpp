#include "egress-guard/nft.hpp"

#include <nftables/libnftables.h>

#include "egress-guard/failure.hpp"

namespace agentrun::egress {

Nft::Nft() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
  if (ctx_ == nullptr) fail("nftables", "nft_ctx_new failed");
  // Buffered, so that errors reach the caller's message and nothing reaches
  // the runtime's stdout or stderr.
  if (nft_ctx_buffer_output(ctx_) != 0 || nft_ctx_buffer_error(ctx_) != 0) {
    nft_ctx_free(ctx_);
    fail("nftables", "cannot buffer the output of libnftables");
  }
}

Nft::~Nft() { nft_ctx_free(ctx_); }

std::string Nft::run(const std::string& script) {
  const int rc = nft_run_cmd_from_buffer(ctx_, script.c_str());
  const char* err = nft_ctx_get_error_buffer(ctx_);
  std::string text = err != nullptr ? err : "";
  nft_ctx_get_output_buffer(ctx_);  // read, so that it does not grow
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
  const int rc = nft_run_cmd_from_buffer(ctx_, command.c_str());
  nft_ctx_get_error_buffer(ctx_);
  const char* out = nft_ctx_get_output_buffer(ctx_);
  if (rc != 0) return std::nullopt;
  return std::string(out != nullptr ? out : "");
}

}  // namespace agentrun::egress
