#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_target.hpp"
#include "spec/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    fuzz_text(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const agentrun::Failure&) {
  }
  return 0;
}
