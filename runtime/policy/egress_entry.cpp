#include "runtime/policy/egress_entry.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

#include "spec/error.hpp"

namespace agentrun::policy {
namespace {

constexpr const char* kStep = "egress entry";

uint16_t port_number(std::string_view s, const std::string& text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || value == 0 || value > 65535)
    fail(kStep, "\"" + text + "\": \"" + std::string(s) + "\" is not a port (1-65535)");
  return static_cast<uint16_t>(value);
}

void parse_ports(std::string_view s, const std::string& text, EgressEntry& e) {
  const size_t dash = s.find('-');
  e.port_from = port_number(s.substr(0, dash), text);
  e.port_to = dash == std::string_view::npos ? e.port_from : port_number(s.substr(dash + 1), text);
  if (e.port_to < e.port_from) fail(kStep, "\"" + text + "\": the port range runs backwards");
}

// A host name of letters, digits and hyphens, at least two labels: a single
// label is a keyword, and nothing resolves one the same way everywhere.
bool host_name(std::string_view s) {
  if (s.starts_with("*.")) s.remove_prefix(2);
  if (s.empty() || s.size() > 253 || s.find('.') == std::string_view::npos) return false;
  size_t label = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    ++label;
  }
  return true;
}

// "10.1.2.3/8" becomes "10.0.0.0/8": nft refuses host bits in a prefix.
bool network(std::string_view s, EgressEntry& e) {
  const size_t slash = s.find('/');
  const std::string addr(s.substr(0, slash));
  std::array<unsigned char, 16> bytes{};
  if (::inet_pton(AF_INET, addr.c_str(), bytes.data()) == 1) e.family = 4;
  else if (::inet_pton(AF_INET6, addr.c_str(), bytes.data()) == 1) e.family = 6;
  else return false;
  const unsigned bits = e.family == 4 ? 32 : 128;
  unsigned prefix = bits;
  if (slash != std::string_view::npos) {
    const std::string_view p = s.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix > bits) return false;
  }
  for (unsigned bit = prefix; bit < bits; ++bit) bytes[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  char out[INET6_ADDRSTRLEN];
  if (::inet_ntop(e.family == 4 ? AF_INET : AF_INET6, bytes.data(), out, sizeof out) == nullptr) return false;
  e.target = out;
  if (prefix != bits) e.target += "/" + std::to_string(prefix);
  return true;
}

}  // namespace

const char* protocol_name(EgressProtocol p) {
  return p == EgressProtocol::tcp ? "tcp" : p == EgressProtocol::udp ? "udp" : "";
}

EgressEntry parse_egress_entry(const std::string& text) {
  EgressEntry e;
  if (text == "dns") e.kind = EgressKind::dns;
  else if (text == "link-local") e.kind = EgressKind::link_local;
  else if (text == "metadata") e.kind = EgressKind::metadata;
  else if (text == "host") e.kind = EgressKind::host;
  if (e.kind != EgressKind::address) return e;

  std::string_view rest = text;
  if (rest.ends_with("/tcp") || rest.ends_with("/udp")) {
    e.protocol = rest.ends_with("/tcp") ? EgressProtocol::tcp : EgressProtocol::udp;
    rest.remove_suffix(4);
  }
  std::string_view target = rest;
  if (rest.starts_with("[")) {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) fail(kStep, "\"" + text + "\": \"[\" without \"]\"");
    target = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(":")) fail(kStep, "\"" + text + "\": \":PORT\" must follow \"]\"");
      parse_ports(after.substr(1), text, e);
    }
  } else if (const size_t colon = rest.rfind(':');
             colon != std::string_view::npos && rest.find(':') == colon) {  // one colon: NAME-OR-IPv4:PORT
    target = rest.substr(0, colon);
    parse_ports(rest.substr(colon + 1), text, e);
  }
  if (!e.any_port() && e.protocol == EgressProtocol::any) e.protocol = EgressProtocol::tcp;

  std::string lower(target);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (network(lower, e)) return e;
  if (!host_name(lower))
    fail(kStep, "\"" + text +
                    "\" is neither an address, a network (10.0.0.0/8), a host name with at least one dot "
                    "(example.com, *.example.com) nor one of dns, link-local, metadata, host");
  e.kind = EgressKind::name;
  e.target = lower;
  if (e.port_from != e.port_to) fail(kStep, "\"" + text + "\": a name takes one port, not a range");
  if (e.any_port() && e.protocol != EgressProtocol::any)
    fail(kStep, "\"" + text + "\": a name takes a port with its protocol, or neither");
  return e;
}

}  // namespace agentrun::policy
