#pragma once
// DNS messages for the guard's tests, built byte by byte: queries, and
// answers whose records name the question by a compression pointer.

#include <cstdint>
#include <string>
#include <vector>

namespace test::dns {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& m, uint16_t v) {
  m.push_back(static_cast<uint8_t>(v >> 8));
  m.push_back(static_cast<uint8_t>(v));
}

inline void put32(Bytes& m, uint32_t v) {
  put16(m, static_cast<uint16_t>(v >> 16));
  put16(m, static_cast<uint16_t>(v));
}

// "a.b.c" as labels, ending in the root label.
inline void put_name(Bytes& m, const std::string& name) {
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(static_cast<uint8_t>(dot - start));
    m.insert(m.end(), name.begin() + static_cast<std::ptrdiff_t>(start), name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  m.push_back(0);
}

inline Bytes query(uint16_t id, const std::string& name, uint16_t type = 1) {
  Bytes m;
  put16(m, id);
  put16(m, 0x0100);  // RD
  put16(m, 1);
  put16(m, 0);
  put16(m, 0);
  put16(m, 0);
  put_name(m, name);
  put16(m, type);
  put16(m, 1);
  return m;
}

struct Record {
  uint16_t type;  // 1 A, 28 AAAA, 5 CNAME
  uint32_t ttl;
  Bytes data;
};

// The reply to query(id, name) with `records` in the answer section, each
// owned by the question's name (a pointer to offset 12).
inline Bytes answer(uint16_t id, const std::string& name, const std::vector<Record>& records, uint16_t type = 1) {
  Bytes m = query(id, name, type);
  m[2] = 0x81;  // QR, RD
  m[3] = 0x80;  // RA
  m[7] = static_cast<uint8_t>(records.size());
  for (const auto& r : records) {
    put16(m, 0xC00C);
    put16(m, r.type);
    put16(m, 1);
    put32(m, r.ttl);
    put16(m, static_cast<uint16_t>(r.data.size()));
    m.insert(m.end(), r.data.begin(), r.data.end());
  }
  return m;
}

}  // namespace test::dns
