// config.json: parsed and validated as create does.
#include "fuzz/fuzz_target.hpp"
#include "spec/parse_config.hpp"
#include "spec/validate.hpp"

void fuzz_text(const std::string& text) {
 agentrun::spec::validate_config(agentrun::spec::parse_config(text, "config.json"));
}
