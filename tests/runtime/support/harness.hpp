#pragma once
// What runtime tests share: a private sandbox (state root, bundle with a
// busybox rootfs) per test, running the agentrun binary with a time limit,
// and checks that nothing was left behind.

#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace test {

struct Output {
  int code = -1;  // exit status, or 128 + signal
  std::string out, err;
};

// Runs `argv` (argv[0] a path) with a time limit; the process is killed when it passes.
Output run_process(const std::vector<std::string>& argv, int timeout_seconds = 60, const std::string& input = "");

// The default config (agentrun spec) with no terminal and `args`.
rapidjson::Document base_config(const std::vector<std::string>& args);
// Sets the value at a JSON pointer ("/process/cwd") to the given JSON text.
void set_json(rapidjson::Document& d, const char* pointer, const std::string& json);
void set_string(rapidjson::Document& d, const char* pointer, const std::string& value);
void remove_at(rapidjson::Document& d, const char* pointer);
std::string to_json(const rapidjson::Value& v);
std::string quote(const std::string& s);  // as a JSON string

class Sandbox {
 public:
  Sandbox();
  ~Sandbox();  // deletes every container in its root and removes the directory
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  std::string dir;     // everything lives below
  std::string root;    // --root
  std::string bundle;  // bundle/config.json, bundle/rootfs
  std::string rootfs;
  // The OCI features are tested as runc applies them; policy tests set another.
  std::string policy = "oci";

  void write_config(const rapidjson::Document& d) const;
  void write_config_text(const std::string& text) const;
  // agentrun --root <root> [--policy <policy>] args...
  Output agentrun(const std::vector<std::string>& args, int timeout_seconds = 60, const std::string& input = "") const;
  // run --bundle <bundle> <id>, in the foreground
  Output run(const rapidjson::Document& config, const std::string& id = "t") const;

  // Anything this sandbox's containers may have left: state directories,
  // mounts under `dir`, processes whose root or cwd is under `dir`.
  std::vector<std::string> leftovers() const;
};

std::string read_file(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace test
