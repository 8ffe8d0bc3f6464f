#include "runtime/cgroup/systemd_annotations.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

#include "spec/error.hpp"

namespace agentrun {
namespace {

struct Typed {
  std::string type;
  PropertyValue value;
};

// GVariant's text format as runc reads annotations with godbus'
// ParseVariant: basic values, arrays, tuples, type prefixes and @type.
class GVariantParser {
 public:
  GVariantParser(const std::string& text, std::string step) : s_(text), step_(std::move(step)) {}

  Typed parse() {
    Typed v = value("");
    skip_space();
    if (at_ != s_.size()) error("unexpected text after the value");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& what) {
    fail(step_, what + " at offset " + std::to_string(at_) + " of \"" + s_ + "\"");
  }
  void skip_space() {
    while (at_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[at_]))) ++at_;
  }
  bool take(const std::string& word) {
    if (s_.compare(at_, word.size(), word) != 0) return false;
    const size_t end = at_ + word.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) return false;
    at_ = end;
    return true;
  }
  bool peek(char c) {
    skip_space();
    return at_ < s_.size() && s_[at_] == c;
  }

  // The complete type at the cursor after "@": basic, aX or (...).
  std::string type_text() {
    const size_t start = at_;
    if (at_ >= s_.size()) error("a type is missing");
    if (s_[at_] == 'a') {
      ++at_;
      return "a" + type_text();
    }
    if (s_[at_] == '(') {
      ++at_;
      std::string t = "(";
      while (at_ < s_.size() && s_[at_] != ')') t += type_text();
      if (at_ >= s_.size() || t.size() == 1) error("an unfinished tuple type");
      ++at_;
      return t + ")";
    }
    if (std::string("bynqiuxtdso").find(s_[at_]) == std::string::npos) {
      at_ = start;
      error("an unsupported type");
    }
    return std::string(1, s_[at_++]);
  }

  // One value of type `want`, or of the type its text shows when `want` is "".
  Typed value(const std::string& want) {
    skip_space();
    if (peek('@')) {
      ++at_;
      const std::string type = type_text();
      if (!want.empty() && type != want) error("type " + type + " where " + want + " is needed");
      return value(type);
    }
    static const std::pair<const char*, const char*> prefixes[] = {
        {"boolean", "b"}, {"byte", "y"},   {"int16", "n"},  {"uint16", "q"}, {"int32", "i"},  {"uint32", "u"},
        {"int64", "x"},   {"uint64", "t"}, {"double", "d"}, {"string", "s"}, {"objectpath", "o"}};
    for (const auto& [word, type] : prefixes) {
      if (!take(word)) continue;
      if (!want.empty() && want != type) error(std::string(word) + " where " + want + " is needed");
      return value(type);
    }
    if (at_ >= s_.size()) error("a value is missing");
    const char c = s_[at_];
    for (const bool truth : {true, false}) {
      if (!take(truth ? "true" : "false")) continue;
      if (!want.empty() && want != "b") error("a boolean where " + want + " is needed");
      return {"b", {truth}};
    }
    if (c == '\'' || c == '"') {
      if (!want.empty() && want != "s" && want != "o") error("a string where " + want + " is needed");
      return {want.empty() ? "s" : want, {quoted()}};
    }
    if (c == '[') return array(want);
    if (c == '(') return tuple(want);
    if (c == '-' || c == '+' || std::isdigit(static_cast<unsigned char>(c))) return number(want);
    error("not a GVariant value");
  }

  std::string quoted() {
    const char quote = s_[at_++];
    std::string out;
    while (at_ < s_.size() && s_[at_] != quote) {
      char c = s_[at_++];
      if (c == '\\') {
        if (at_ >= s_.size()) break;
        c = s_[at_++];
        static const std::string from = "nrtabfv", to = "\n\r\t\a\b\f\v";
        if (const auto i = from.find(c); i != std::string::npos) c = to[i];
      }
      out += c;
    }
    if (at_ >= s_.size()) error("an unterminated string");
    ++at_;
    return out;
  }

  Typed array(const std::string& want) {
    if (!want.empty() && want[0] != 'a') error("an array where " + want + " is needed");
    ++at_;  // '['
    std::string element = want.empty() ? "" : want.substr(1);
    std::vector<PropertyValue> items;
    while (!peek(']')) {
      if (!items.empty()) {
        if (!peek(',')) error("\",\" or \"]\" expected");
        ++at_;
      }
      Typed item = value(element);
      element = item.type;  // the first element types the rest
      items.push_back(std::move(item.value));
    }
    ++at_;
    if (element.empty()) error("an empty array needs its type (@as [])");
    return {"a" + element, {std::move(items)}};
  }

  Typed tuple(const std::string& want) {
    ++at_;  // '('
    std::string type = "(";
    std::vector<PropertyValue> items;
    std::string wanted = want.empty() ? "" : want.substr(1, want.size() - 2);
    while (!peek(')')) {
      if (!items.empty()) {
        if (!peek(',')) error("\",\" or \")\" expected");
        ++at_;
        if (peek(')')) break;  // "(1,)"
      }
      // The member type from `want`, one complete type at a time.
      std::string member;
      if (!wanted.empty()) {
        GVariantParser types(wanted, step_);
        member = types.type_text();
        wanted.erase(0, member.size());
      } else if (!want.empty()) {
        error("more members than " + want + " has");
      }
      Typed item = value(member);
      type += item.type;
      items.push_back(std::move(item.value));
    }
    ++at_;
    if (items.empty()) error("an empty tuple");
    type += ")";
    if (!want.empty() && type != want) error("a tuple " + type + " where " + want + " is needed");
    return {type, {std::move(items)}};
  }

  Typed number(const std::string& want) {
    const size_t start = at_;
    while (at_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[at_])) || std::string("+-.").find(s_[at_]) != std::string::npos))
      ++at_;
    std::string text = s_.substr(start, at_ - start);
    if (!text.empty() && text[0] == '+') text.erase(0, 1);
    const bool real = text.find_first_of(".eE") != std::string::npos;
    const std::string type = !want.empty() ? want : real ? "d" : "i";  // a bare integer is int32, as in GVariant
    const char* first = text.data();
    const char* last = first + text.size();
    if (type == "d") {
      double d = 0;
      const auto [end, ec] = std::from_chars(first, last, d);
      if (ec != std::errc() || end != last || !std::isfinite(d)) { at_ = start; error("not a number"); }
      return {type, {d}};
    }
    static const std::map<std::string, std::pair<int64_t, uint64_t>> ranges = {
        {"y", {0, UINT8_MAX}},           {"n", {INT16_MIN, INT16_MAX}}, {"q", {0, UINT16_MAX}},
        {"i", {INT32_MIN, INT32_MAX}},   {"u", {0, UINT32_MAX}},       {"x", {INT64_MIN, INT64_MAX}},
        {"t", {0, UINT64_MAX}}};
    const auto range = ranges.find(type);
    if (range == ranges.end()) { at_ = start; error("a number where " + type + " is needed"); }
    const auto [low, high] = range->second;
    if (text.starts_with("-")) {
      int64_t v = 0;
      const auto [end, ec] = std::from_chars(first, last, v);
      if (ec != std::errc() || end != last || v < low) { at_ = start; error("not a " + type + " number"); }
      return {type, {v}};
    }
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || end != last || v > high) { at_ = start; error("not a " + type + " number"); }
    // Signed types keep a signed value, so that JSON writes what D-Bus takes.
    if (low < 0) return {type, {static_cast<int64_t>(v)}};
    return {type, {v}};
  }

  const std::string& s_;
  std::string step_;
  size_t at_ = 0;
};

bool valid_property_name(const std::string& name) {
  if (name.size() < 3) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  return true;
}

// seconds (any number type) to microseconds, for "...Sec" names.
uint64_t seconds_to_usec(const Typed& v, const std::string& step) {
  const auto too_large = [&] { fail(step, "the number of seconds is out of range"); };
  if (const auto* u = std::get_if<uint64_t>(&v.value.v)) {
    if (*u > kSystemdInfinity / kUsecPerSec) too_large();
    return *u * kUsecPerSec;
  }
  if (const auto* i = std::get_if<int64_t>(&v.value.v)) {
    if (*i < 0 || static_cast<uint64_t>(*i) > kSystemdInfinity / kUsecPerSec) too_large();
    return static_cast<uint64_t>(*i) * kUsecPerSec;
  }
  if (const auto* d = std::get_if<double>(&v.value.v)) {
    if (*d < 0 || *d * kUsecPerSec >= 18446744073709551616.0) too_large();
    return static_cast<uint64_t>(*d * kUsecPerSec);
  }
  fail(step, "a ...Sec property needs a number of seconds, not a value of type " + v.type);
}

}  // namespace

UnitProperty parse_gvariant(const std::string& name, const std::string& text, const std::string& step) {
  Typed v = GVariantParser(text, step).parse();
  return {name, std::move(v.type), std::move(v.value)};
}

std::vector<UnitProperty> annotation_properties(const std::map<std::string, std::string>& annotations) {
  const std::string prefix = "org.systemd.property.";
  std::vector<UnitProperty> p;
  for (const auto& [key, text] : annotations) {
    if (!key.starts_with(prefix)) continue;
    const std::string step = "annotation " + key;
    std::string name = key.substr(prefix.size());
    if (!valid_property_name(name)) fail(step, "a systemd property name is 3 or more ASCII letters");
    UnitProperty prop = parse_gvariant(name, text, step);
    // Documented as "...Sec" (TimeoutStopSec), taken over D-Bus as "...USec".
    const size_t stem = name.size() - 3;
    if (name.ends_with("Sec") && stem > 0 && name[stem - 1] >= 'a' && name[stem - 1] <= 'z') {
      prop = {name.substr(0, stem) + "USec", "t", {seconds_to_usec({prop.type, prop.value}, step)}};
    }
    p.push_back(std::move(prop));
  }
  return p;
}

}  // namespace agentrun
