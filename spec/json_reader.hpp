#pragma once
// Typed access to a parsed JSON document that knows where each value came
// from, so that every error names the file and the JSON path:
//   config.json: process.capabilities.bounding[3]: unknown capability "CAP_BOGUS"
// All accessors throw agentrun::Failure on a type or range error.

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentrun::spec {

class JsonNode {
 public:
  // `v` is in the document whose root is `root`.
  JsonNode(const rapidjson::Value& v, const std::string& file, const rapidjson::Value& root)
      : v_(&v), file_(&file), root_(&root) {}

  // Where the value is ("process.args[0]"), found only when asked: the
  // common case, a valid document, builds no paths.
  std::string path() const;
  const rapidjson::Value& raw() const { return *v_; }

  // Throws Failure("<file>: <path>: <reason>").
  [[noreturn]] void fail(const std::string& reason) const;

  bool is_null() const { return v_->IsNull(); }
  bool is_object() const { return v_->IsObject(); }
  bool is_array() const { return v_->IsArray(); }
  bool is_string() const { return v_->IsString(); }

  std::string str() const;
  bool boolean() const;
  int32_t i32() const;
  int64_t i64() const;
  uint16_t u16() const;
  uint32_t u32() const;
  uint64_t u64() const;

  // Object member, or nothing when absent or null (the spec treats a null
  // optional field as absent).
  std::optional<JsonNode> get(std::string_view key) const;
  // Object member that must be present.
  JsonNode at(std::string_view key) const;
  std::vector<JsonNode> items() const;  // array elements
  std::vector<std::pair<std::string, JsonNode>> members() const;
  std::vector<std::string> strings() const;                    // array of strings
  std::map<std::string, std::string> string_map() const;       // object of strings

  // Strict documents (policies) reject keys they do not know.
  void allow_only(std::initializer_list<std::string_view> keys) const;

  // The value as compact JSON text.
  std::string json() const;

 private:
  void expect_object() const;
  JsonNode child(const rapidjson::Value& v) const { return JsonNode(v, *file_, *root_); }

  const rapidjson::Value* v_;
  const std::string* file_;
  const rapidjson::Value* root_;
};

// No document the runtime reads nests deeper than a few levels; a deeper one
// is refused before parsing (parsing and freeing recurse per level).
constexpr int kMaxJsonDepth = 128;

// Owns the parsed document; root() is valid while the document lives.
class JsonDocument {
 public:
  // Throws Failure("<file>: line L, column C: <parse error>"), or
  // Failure("<file>: nested deeper than 128 levels").
  JsonDocument(std::string_view text, std::string file);
  JsonNode root() const { return JsonNode(doc_, file_, doc_); }

 private:
  std::string file_;
  rapidjson::Document doc_;
};

}  // namespace agentrun::spec
