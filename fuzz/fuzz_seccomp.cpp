// A seccomp profile (linux.seccomp, or a profile file).
#include "fuzz/fuzz_target.hpp"
#include "spec/parse_config.hpp"

void fuzz_text(const std::string& text) {
 agentrun::spec::parse_seccomp_json(text, "seccomp profile");
}
