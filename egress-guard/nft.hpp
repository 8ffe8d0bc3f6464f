#pragma once
// libnftables, for the ruleset and the set updates, loaded (dlopen) when the
// first context is made. A context talks to the network namespace the
// calling thread is in when it runs a command.

#include <optional>
#include <string>

struct nft_ctx;

namespace agentrun::egress {

// Loads libnftables now, or throws GuardError: a guard that is to make
// rules does it while it waits for go, off the container's start.
void load_nftables();

class Nft {
 public:
  Nft();  // throws GuardError
  ~Nft();
  Nft(const Nft&) = delete;
  Nft& operator=(const Nft&) = delete;

  // Runs an nft script as one transaction: all of it or nothing. Returns ""
  // on success, else nft's error text (never empty).
  std::string run(const std::string& script);
  // What a listing command prints ("list table inet agentrun"), or nothing
  // when it fails (no such table).
  std::optional<std::string> list(const std::string& command);

 private:
  nft_ctx* ctx_;
};

}  // namespace agentrun::egress
