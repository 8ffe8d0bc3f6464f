// org.systemd.property.* annotations: the first line is the property's
// name, the rest its value in GVariant text.
#include "fuzz/fuzz_target.hpp"
#include "runtime/cgroup/systemd_annotations.hpp"

void fuzz_text(const std::string& text) {
  const auto nl = text.find('\n');
  const std::string name = text.substr(0, nl);
  const std::string value = nl == std::string::npos ? "" : text.substr(nl + 1);
  agentrun::annotation_properties({{"org.systemd.property." + name, value}});
}
