#include "egress-guard/set_update.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

namespace agentrun::egress {

std::string address_text(const dns::Address& a) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family, a.bytes.data(), text, sizeof text);
  return text;
}

SetBatch SetUpdates::plan(const std::vector<const NameRule*>& rules, const std::vector<dns::Address>& addresses,
                          uint64_t now_ms) const {
  struct Element {
    std::string set, element;
    uint64_t until = 0;
  };
  std::map<std::string, Element> wanted;  // once each, however often the answer repeats it
  for (const auto& a : addresses) {
    const bool v4 = a.family == AF_INET;
    const uint64_t asked = now_ms + 1000ull * std::clamp(a.ttl, min_ttl_, max_ttl_);
    for (const NameRule* rule : rules) {
      std::vector<Element> elements;
      if (rule->elements.empty()) elements.push_back({v4 ? "names4_any" : "names6_any", address_text(a)});
      for (const auto& suffix : rule->elements)
        elements.push_back({v4 ? "names4" : "names6", address_text(a) + " . " + suffix});
      for (auto& e : elements) {
        auto& w = wanted.try_emplace(e.set + " " + e.element, e).first->second;
        w.until = std::max(w.until, asked);
      }
    }
  }
  SetBatch batch;
  for (auto& [key, e] : wanted) {
    if (const auto it = expiry_.find(key); it != expiry_.end()) e.until = std::max(e.until, it->second);
    const uint64_t seconds = (e.until - now_ms + 999) / 1000;
    const std::string target = "inet " + table_ + " " + e.set + " { " + e.element;
    const std::string timed = target + " timeout " + std::to_string(seconds) + "s }\n";
    batch.commands += "add element " + timed + "delete element " + target + " }\nadd element " + timed;
    batch.expiries.emplace_back(key, e.until);
  }
  return batch;
}

void SetUpdates::remember(const SetBatch& batch, uint64_t now_ms) {
  if (expiry_.size() + batch.expiries.size() > kMaxRemembered) {
    std::erase_if(expiry_, [now_ms](const auto& e) { return e.second <= now_ms; });
    if (expiry_.size() + batch.expiries.size() > kMaxRemembered) expiry_.clear();
  }
  for (const auto& [key, until] : batch.expiries) expiry_[key] = std::max(expiry_[key], until);
}

}  // namespace agentrun::egress
