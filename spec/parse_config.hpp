#pragma once
// config.json -> Config. The parser checks JSON types, required fields and
// membership in the closed name sets (capabilities, namespaces, seccomp
// names, ...); cross-field rules are validate_config's job. Properties it
// does not know are ignored, as the runtime spec requires. Every error is a
// Failure naming the JSON path:
//   config.json: linux.namespaces[5].type: unknown namespace "bogus"

#include <string>
#include <string_view>

#include "spec/config.hpp"
#include "spec/json_reader.hpp"

namespace agentrun::spec {

// `file` is only the label used in error messages.
Config parse_config(std::string_view text, const std::string& file = "config.json");
// The same from a parsed document, for a caller that keeps a part of it as
// text (create stores the process, which `exec` starts from).
Config parse_config(const JsonNode& root);

// The process of `exec --process` and the resources of `update -r`, as
// documents of their own.
Process parse_process_json(std::string_view text, const std::string& file);
Resources parse_resources_json(std::string_view text, const std::string& file);
// A linux.seccomp object as a document of its own (a seccomp profile file).
Seccomp parse_seccomp_json(std::string_view text, const std::string& file);

}  // namespace agentrun::spec
