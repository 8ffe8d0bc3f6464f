#pragma once
// The org.systemd.property.<Name> annotations of --systemd-cgroup, as unit
// properties: their values are GVariant text, read as runc reads them with
// godbus' ParseVariant.

#include <map>
#include <string>
#include <vector>

#include "runtime/cgroup/systemd_properties.hpp"

namespace agentrun {

// The org.systemd.property.<Name> annotations, in key order, with runc's
// rules: Name is at least 3 ASCII letters; the value is GVariant text
// (true, 5, uint64 5, @t 5, 'text', ['a','b'], @as [] ...); a Name ending
// in a lowercase letter and "Sec" becomes "...USec" with the number of
// seconds in microseconds. Throws Failure naming the annotation.
std::vector<UnitProperty> annotation_properties(const std::map<std::string, std::string>& annotations);

// One GVariant text value (the annotation parser), for tests and messages.
// Throws Failure with `step` for text that does not parse.
UnitProperty parse_gvariant(const std::string& name, const std::string& text, const std::string& step);

}  // namespace agentrun
