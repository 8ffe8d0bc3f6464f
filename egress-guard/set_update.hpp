#pragma once
// The nft commands that put the addresses of an allowed answer in the
// ruleset's sets: names4/names6 (address . protocol . port) for a name whose
// rule lists elements, names4_any/names6_any (the address alone) for one
// that lists none.
//
// An element's timeout is the largest any answer asked for that is still
// running: a client may use an address until its answer's TTL ends, however
// short a later answer's TTL is. Kernels differ (before 6.11 `add` keeps an
// existing element's timeout, from then on it replaces it), so each element
// is written as add, delete, add in one transaction, with the timeout this
// bookkeeping computed: the same outcome on every kernel, and no moment in
// which the element is missing.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "egress-guard/config.hpp"
#include "egress-guard/dns_message.hpp"

namespace agentrun::egress {

struct SetBatch {
  std::string commands;                               // empty: nothing to add
  std::vector<std::pair<std::string, uint64_t>> expiries;  // element -> when it ends (ms)
};

class SetUpdates {
 public:
  // At most this many elements are remembered; beyond it expired ones are
  // forgotten, and if that is not enough all of them (timeouts then follow
  // the latest answer only).
  static constexpr size_t kMaxRemembered = 65536;

  SetUpdates(std::string table, uint32_t min_ttl, uint32_t max_ttl)
      : table_(std::move(table)), min_ttl_(min_ttl), max_ttl_(max_ttl) {}

  // `rules`: the rules the answered name matched. `now_ms`: a monotonic clock.
  SetBatch plan(const std::vector<const NameRule*>& rules, const std::vector<dns::Address>& addresses,
                uint64_t now_ms) const;
  // After the batch was applied.
  void remember(const SetBatch& batch, uint64_t now_ms);

 private:
  std::string table_;
  uint32_t min_ttl_;
  uint32_t max_ttl_;
  std::map<std::string, uint64_t> expiry_;
};

// The text form of an address, as nft reads it.
std::string address_text(const dns::Address& a);

}  // namespace agentrun::egress
