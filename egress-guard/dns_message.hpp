#pragma once
// The little of the DNS wire format (RFC 1035) the guard needs: the question
// of a query, a reply that only carries an rcode, and the A/AAAA records of
// an answer. Everything is bounds-checked; compression pointers must point
// backwards and are followed a bounded number of times.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace agentrun::egress::dns {

constexpr uint8_t kServfail = 2;
constexpr uint8_t kRefused = 5;

struct Question {
  // Lower case, no trailing dot; a byte that cannot be in a host name is
  // written \DDD and makes the name not `plain` (such a name is never allowed).
  std::string name;
  bool plain = true;
  uint16_t id = 0;
  uint16_t type = 0;
  size_t end = 0;  // the offset just past the question
};

// The question of a standard query (QR 0, opcode QUERY, one question), or
// nullopt for anything else: such a message is dropped.
std::optional<Question> parse_query(std::span<const uint8_t> msg);

// A reply to `query` that says only `rcode`: its id, opcode and RD, RA set,
// and its question.
std::vector<uint8_t> rcode_reply(std::span<const uint8_t> query, const Question& q, uint8_t rcode);

struct Address {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};
  uint32_t ttl = 0;
};

// The A and AAAA records of the answer section of a reply with this id,
// following no CNAME (every address in the section counts). Lowers every
// answer TTL above max_ttl to max_ttl in `reply`, so that no client caches
// an address longer than the ruleset keeps it. nullopt if the reply is
// malformed or not a reply with this id: it must then not be relayed.
std::optional<std::vector<Address>> read_answer(std::span<uint8_t> reply, uint16_t id, uint32_t max_ttl);

}  // namespace agentrun::egress::dns
