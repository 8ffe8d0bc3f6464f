#include "spec/json_reader.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <fcntl.h>
#include <limits>
#include <unistd.h>

#include "spec/error.hpp"

namespace agentrun::spec {

namespace {

// Appends the way from `v` down to `target` ("a.b[2]") to `path`; false,
// with `path` as it was, when `target` is not under `v`.
bool find_path(const rapidjson::Value& v, const rapidjson::Value* target, std::string& path) {
  if (&v == target) return true;
  const size_t mark = path.size();
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      if (mark != 0) path += '.';
      path.append(it->name.GetString(), it->name.GetStringLength());
      if (find_path(it->value, target, path)) return true;
      path.resize(mark);
    }
  } else if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      path += "[" + std::to_string(i) + "]";
      if (find_path(v[i], target, path)) return true;
      path.resize(mark);
    }
  }
  return false;
}

}  // namespace

std::string JsonNode::path() const {
  std::string path;
  find_path(*root_, v_, path);
  return path;
}

void JsonNode::fail(const std::string& reason) const {
  std::string where = *file_;
  if (const std::string p = path(); !p.empty()) where += ": " + p;
  agentrun::fail(where, reason);
}

std::string JsonNode::json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v_->Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

void JsonNode::expect_object() const {
  if (!v_->IsObject()) fail("expected an object");
}

std::string JsonNode::str() const {
  if (!v_->IsString()) fail("expected a string");
  std::string s(v_->GetString(), v_->GetStringLength());
  // A NUL inside a string would silently truncate it at the system call.
  if (s.find('\0') != std::string::npos) fail("string contains a NUL byte");
  return s;
}

bool JsonNode::boolean() const {
  if (!v_->IsBool()) fail("expected true or false");
  return v_->GetBool();
}

int64_t JsonNode::i64() const {
  if (!v_->IsInt64()) fail("expected an integer");
  return v_->GetInt64();
}

uint64_t JsonNode::u64() const {
  if (!v_->IsUint64()) fail("expected a non-negative integer");
  return v_->GetUint64();
}

int32_t JsonNode::i32() const {
  int64_t v = i64();
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
    fail("value " + std::to_string(v) + " is out of range for a 32-bit integer");
  return static_cast<int32_t>(v);
}

uint32_t JsonNode::u32() const {
  uint64_t v = u64();
  if (v > std::numeric_limits<uint32_t>::max())
    fail("value " + std::to_string(v) + " is out of range for an unsigned 32-bit integer");
  return static_cast<uint32_t>(v);
}

uint16_t JsonNode::u16() const {
  uint64_t v = u64();
  if (v > std::numeric_limits<uint16_t>::max())
    fail("value " + std::to_string(v) + " is out of range for an unsigned 16-bit integer");
  return static_cast<uint16_t>(v);
}

std::optional<JsonNode> JsonNode::get(std::string_view key) const {
  expect_object();
  auto it = v_->FindMember(rapidjson::StringRef(key.data(), key.size()));
  if (it == v_->MemberEnd() || it->value.IsNull()) return std::nullopt;
  return child(it->value);
}

JsonNode JsonNode::at(std::string_view key) const {
  auto n = get(key);
  if (!n) fail("missing required field \"" + std::string(key) + "\"");
  return *n;
}

std::vector<JsonNode> JsonNode::items() const {
  if (!v_->IsArray()) fail("expected an array");
  std::vector<JsonNode> out;
  out.reserve(v_->Size());
  for (rapidjson::SizeType i = 0; i < v_->Size(); ++i) out.push_back(child((*v_)[i]));
  return out;
}

std::vector<std::pair<std::string, JsonNode>> JsonNode::members() const {
  expect_object();
  std::vector<std::pair<std::string, JsonNode>> out;
  for (auto it = v_->MemberBegin(); it != v_->MemberEnd(); ++it) {
    out.emplace_back(std::string(it->name.GetString(), it->name.GetStringLength()), child(it->value));
  }
  return out;
}

std::vector<std::string> JsonNode::strings() const {
  std::vector<std::string> out;
  for (const auto& item : items()) out.push_back(item.str());
  return out;
}

std::map<std::string, std::string> JsonNode::string_map() const {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : members()) out[key] = value.str();
  return out;
}

void JsonNode::allow_only(std::initializer_list<std::string_view> keys) const {
  expect_object();
  for (auto it = v_->MemberBegin(); it != v_->MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (auto k : keys) known = known || k == name;
    if (!known) child(it->value).fail("unknown field");
  }
}

namespace {

// The deepest nesting of arrays and objects in `text`, strings skipped; the
// parser finds any other fault.
bool nests_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

JsonDocument::JsonDocument(std::string_view text, std::string file) : file_(std::move(file)) {
  if (nests_deeper_than(text, kMaxJsonDepth))
    agentrun::fail(file_, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  // Default flags: anything but whitespace after the document is an error.
  doc_.Parse(text.data(), text.size());
  if (doc_.HasParseError()) {
    size_t offset = doc_.GetErrorOffset();
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    agentrun::fail(file_, "line " + std::to_string(line) + ", column " + std::to_string(column) +
                              ": " + rapidjson::GetParseError_En(doc_.GetParseError()));
  }
}

}  // namespace agentrun::spec
