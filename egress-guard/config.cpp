#include "egress-guard/config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstring>
#include <initializer_list>

#include "egress-guard/failure.hpp"
#include "egress-guard/name_match.hpp"

namespace agentrun::egress {
namespace {

using Value = rapidjson::Value;

[[noreturn]] void bad(const std::string& key, const std::string& why) { fail("config", "\"" + key + "\" " + why); }

void only_keys(const Value& obj, const std::string& where, std::initializer_list<std::string_view> keys) {
  for (const auto& m : obj.GetObject()) {
    const std::string_view k(m.name.GetString(), m.name.GetStringLength());
    bool known = false;
    for (auto key : keys) known = known || key == k;
    if (!known) bad(where + std::string(k), "is not a known key");
  }
}

const Value* find(const Value& obj, const char* key) {
  const auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string string_of(const Value& obj, const char* key, const std::string& where, bool required = true) {
  const Value* v = find(obj, key);
  if (v == nullptr) {
    if (required) bad(where + key, "is missing");
    return {};
  }
  if (!v->IsString()) bad(where + key, "must be a string");
  const std::string s(v->GetString(), v->GetStringLength());
  if (s.find('\0') != std::string::npos) bad(where + key, "contains a NUL byte");
  return s;
}

uint64_t number_of(const Value& obj, const char* key, const std::string& where, uint64_t min, uint64_t max,
                   std::optional<uint64_t> fallback = std::nullopt) {
  const Value* v = find(obj, key);
  if (v == nullptr) {
    if (!fallback) bad(where + key, "is missing");
    return *fallback;
  }
  if (!v->IsUint64() || v->GetUint64() < min || v->GetUint64() > max)
    bad(where + key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  return v->GetUint64();
}

const Value& object_of(const Value& v, const std::string& key) {
  if (!v.IsObject()) bad(key, "must be an object");
  return v;
}

// Names and set elements go into nft command text: only what they can hold.
bool nft_safe(std::string_view s, std::string_view extra) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          extra.find(c) != std::string_view::npos))
      return false;
  return true;
}

Upstream upstream_of(const Value& v, const std::string& key) {
  if (!v.IsString()) bad(key, "must be a string");
  Upstream u;
  u.text = v.GetString();
  auto* v4 = reinterpret_cast<sockaddr_in*>(&u.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&u.addr);
  if (inet_pton(AF_INET, u.text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(53);
    u.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, u.text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(53);
    u.len = sizeof(sockaddr_in6);
  } else {
    bad(key, "is not an IPv4 or IPv6 address");
  }
  return u;
}

NameRule rule_of(const Value& v, const std::string& where) {
  object_of(v, where);
  only_keys(v, where + ".", {"pattern", "elements"});
  NameRule r;
  const auto pattern = normalize_pattern(string_of(v, "pattern", where + "."));
  if (!pattern) bad(where + ".pattern", "is not a name or *.name");
  r.pattern = *pattern;
  const Value* elements = find(v, "elements");
  if (elements == nullptr) bad(where + ".elements", "is missing");
  if (!elements->IsArray()) bad(where + ".elements", "must be an array");
  for (const auto& e : elements->GetArray()) {
    if (!e.IsString() || !nft_safe(e.GetString(), " .-_"))
      bad(where + ".elements", "must hold set element suffixes such as \"tcp . 443\"");
    r.elements.emplace_back(e.GetString());
  }
  return r;
}

DnsConfig dns_of(const Value& v) {
  object_of(v, "dns");
  only_keys(v, "dns.", {"port", "upstream", "mark", "allowAll", "names", "minTtl", "maxTtl"});
  DnsConfig d;
  d.port = static_cast<uint16_t>(number_of(v, "port", "dns.", 1, 65535));
  d.mark = static_cast<uint32_t>(number_of(v, "mark", "dns.", 1, UINT32_MAX));
  const Value* up = find(v, "upstream");
  if (up == nullptr || !up->IsArray() || up->Empty()) bad("dns.upstream", "must be a non-empty array of addresses");
  for (const auto& u : up->GetArray()) d.upstream.push_back(upstream_of(u, "dns.upstream"));
  if (const Value* all = find(v, "allowAll")) {
    if (!all->IsBool()) bad("dns.allowAll", "must be true or false");
    d.allow_all = all->GetBool();
  }
  if (const Value* names = find(v, "names")) {
    if (!names->IsArray()) bad("dns.names", "must be an array");
    for (const auto& n : names->GetArray()) d.names.push_back(rule_of(n, "dns.names[]"));
  }
  d.min_ttl = static_cast<uint32_t>(number_of(v, "minTtl", "dns.", 0, 604800, 5));
  d.max_ttl = static_cast<uint32_t>(number_of(v, "maxTtl", "dns.", 1, 604800, 3600));
  if (d.min_ttl > d.max_ttl) bad("dns.minTtl", "is above dns.maxTtl");
  return d;
}

LogConfig log_of(const Value& v) {
  object_of(v, "log");
  only_keys(v, "log.", {"group", "file", "maxBytes"});
  LogConfig l;
  l.group = static_cast<uint16_t>(number_of(v, "group", "log.", 0, 65535));
  l.file = string_of(v, "file", "log.");
  if (!l.file.starts_with("/")) bad("log.file", "must be an absolute path");
  l.max_bytes = number_of(v, "maxBytes", "log.", 4096, UINT64_MAX / 2, 1 << 20);
  return l;
}

}  // namespace

Config parse_config(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError())
    fail("config", std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                       std::to_string(doc.GetErrorOffset()));
  if (!doc.IsObject()) fail("config", "not a JSON object");
  only_keys(doc, "", {"id", "netns", "ruleset", "table", "initPid", "dns", "log"});
  Config c;
  c.id = string_of(doc, "id", "");
  c.netns = string_of(doc, "netns", "");
  if (!c.netns.starts_with("/")) bad("netns", "must be an absolute path");
  // Without it the runtime has put the rules in; the guard only logs.
  const bool has_ruleset = find(doc, "ruleset") != nullptr;
  c.ruleset = string_of(doc, "ruleset", "", false);
  if (has_ruleset && c.ruleset.empty()) bad("ruleset", "is empty");
  c.table = string_of(doc, "table", "");
  if (!nft_safe(c.table, "_-")) bad("table", "is not a plain nftables table name");
  if (const Value* pid = find(doc, "initPid")) {
    if (!pid->IsUint() || pid->GetUint() < 1 || pid->GetUint() > INT32_MAX) bad("initPid", "must be a process id");
    c.init_pid = static_cast<pid_t>(pid->GetUint());
  }
  if (const Value* dns = find(doc, "dns")) c.dns = dns_of(*dns);
  // Its sets are the guard's to make and to fill.
  if (c.dns && c.ruleset.empty()) bad("dns", "needs the ruleset");
  if (const Value* log = find(doc, "log")) c.log = log_of(*log);
  return c;
}

}  // namespace agentrun::egress
