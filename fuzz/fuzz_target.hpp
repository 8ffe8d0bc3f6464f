#pragma once
// Each fuzz target defines fuzz_text(), given the input as text. Bad input
// may only ever fail with agentrun::Failure (a clear error naming the
// field), which fuzz_main.cpp catches; anything else that escapes (another
// exception, a crash, a sanitizer report) is a finding.

#include <string>

void fuzz_text(const std::string& text);
