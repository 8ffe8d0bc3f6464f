// The command line: NUL-separated arguments (argv[0] left out).
#include <vector>

#include "fuzz/fuzz_target.hpp"
#include "runtime/cli/command_line.hpp"

void fuzz_text(const std::string& text) {
  std::vector<std::string> argv;
  size_t start = 0;
  for (size_t end; (end = text.find('\0', start)) != std::string::npos; start = end + 1)
    argv.push_back(text.substr(start, end - start));
  argv.push_back(text.substr(start));
  agentrun::parse_command_line(argv);
}
