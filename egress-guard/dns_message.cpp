#include "egress-guard/dns_message.hpp"

#include <sys/socket.h>

#include <cstdio>
#include <cstring>

namespace agentrun::egress::dns {
namespace {

constexpr size_t kHeader = 12;
constexpr int kMaxPointers = 32;
constexpr size_t kMaxName = 255;  // RFC 1035 2.3.4, in wire octets
constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeAAAA = 28;
constexpr uint16_t kClassIN = 1;

uint16_t u16(std::span<const uint8_t> m, size_t at) { return static_cast<uint16_t>(m[at] << 8 | m[at + 1]); }

uint32_t u32(std::span<const uint8_t> m, size_t at) {
  return static_cast<uint32_t>(m[at]) << 24 | static_cast<uint32_t>(m[at + 1]) << 16 |
         static_cast<uint32_t>(m[at + 2]) << 8 | m[at + 3];
}

bool host_char(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Reads the name at `at`; sets `next` to the offset after it where it starts
// (past its first pointer, if any). `out` may be null when only skipping.
bool read_name(std::span<const uint8_t> m, size_t at, size_t& next, Question* out) {
  size_t pos = at;
  size_t wire = 0;
  int pointers = 0;
  bool jumped = false;
  for (;;) {
    if (pos >= m.size()) return false;
    const uint8_t len = m[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= m.size() || ++pointers > kMaxPointers) return false;
      const size_t target = static_cast<size_t>(len & 0x3F) << 8 | m[pos + 1];
      if (target >= pos) return false;  // only backwards: no loops
      if (!jumped) next = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((len & 0xC0) != 0) return false;  // the reserved label types
    wire += 1 + len;
    if (wire > kMaxName || pos + 1 + len > m.size()) return false;
    if (len == 0) {
      if (!jumped) next = pos + 1;
      return true;
    }
    if (out != nullptr) {
      if (!out->name.empty()) out->name += '.';
      for (size_t i = pos + 1; i <= pos + len; ++i) {
        const uint8_t c = m[i];
        if (host_char(c)) {
          out->name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        } else {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\%03u", c);
          out->name += esc;
          out->plain = false;
        }
      }
    }
    pos += 1 + len;
  }
}

}  // namespace

std::optional<Question> parse_query(std::span<const uint8_t> msg) {
  if (msg.size() < kHeader) return std::nullopt;
  const uint16_t flags = u16(msg, 2);
  if ((flags & 0x8000) != 0 || ((flags >> 11) & 0xF) != 0) return std::nullopt;  // a reply, or not QUERY
  if (u16(msg, 4) != 1) return std::nullopt;
  Question q;
  q.id = u16(msg, 0);
  size_t next = 0;
  if (!read_name(msg, kHeader, next, &q) || next + 4 > msg.size()) return std::nullopt;
  q.type = u16(msg, next);
  q.end = next + 4;
  return q;
}

std::vector<uint8_t> rcode_reply(std::span<const uint8_t> query, const Question& q, uint8_t rcode) {
  std::vector<uint8_t> out(query.begin(), query.begin() + static_cast<std::ptrdiff_t>(q.end));
  const uint16_t flags = u16(query, 2);
  // QR, the query's opcode and RD, RA, and the rcode.
  const uint16_t reply = static_cast<uint16_t>(0x8000 | (flags & 0x7900) | 0x0080 | (rcode & 0xF));
  out[2] = static_cast<uint8_t>(reply >> 8);
  out[3] = static_cast<uint8_t>(reply);
  std::memset(out.data() + 6, 0, 6);  // no answer, authority or additional records
  return out;
}

std::optional<std::vector<Address>> read_answer(std::span<uint8_t> reply, uint16_t id, uint32_t max_ttl) {
  const std::span<const uint8_t> m(reply);
  if (m.size() < kHeader || u16(m, 0) != id || (u16(m, 2) & 0x8000) == 0) return std::nullopt;
  size_t pos = kHeader;
  for (uint16_t i = 0, n = u16(m, 4); i < n; ++i) {
    if (!read_name(m, pos, pos, nullptr) || pos + 4 > m.size()) return std::nullopt;
    pos += 4;
  }
  std::vector<Address> out;
  for (uint16_t i = 0, n = u16(m, 6); i < n; ++i) {
    if (!read_name(m, pos, pos, nullptr) || pos + 10 > m.size()) return std::nullopt;
    const uint16_t type = u16(m, pos);
    const uint16_t cls = u16(m, pos + 2);
    uint32_t ttl = u32(m, pos + 4);
    if (ttl > 0x7FFFFFFF) ttl = 0;  // RFC 2181 8: a TTL with the top bit set means zero
    if (ttl > max_ttl) {
      ttl = max_ttl;
      for (int b = 0; b < 4; ++b) reply[pos + 4 + b] = static_cast<uint8_t>(ttl >> (24 - 8 * b));
    }
    const uint16_t rdlength = u16(m, pos + 8);
    pos += 10;
    if (pos + rdlength > m.size()) return std::nullopt;
    if (cls == kClassIN && (type == kTypeA || type == kTypeAAAA)) {
      const size_t size = type == kTypeA ? 4 : 16;
      if (rdlength != size) return std::nullopt;
      Address a;
      a.family = type == kTypeA ? AF_INET : AF_INET6;
      std::memcpy(a.bytes.data(), m.data() + pos, size);
      a.ttl = ttl;
      out.push_back(a);
    }
    pos += rdlength;
  }
  return out;
}

}  // namespace agentrun::egress::dns
