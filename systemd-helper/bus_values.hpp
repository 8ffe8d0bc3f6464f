#pragma once
// JSON values to and from D-Bus values of a given signature, in sd-bus
// messages: the typed unit properties of agentrun-systemd's requests, and
// the property values unit-info reads back.
//
// JSON forms: b is a bool; y n q i u x t are integers within the type's
// range; d is a number; s o are strings; aX is an array of X; (AB...) is an
// array with one element per member. Other D-Bus types (v, {}, h, g) are
// refused.

#include <systemd/sd-bus.h>

#include <rapidjson/document.h>

#include <string>

namespace agentrun::systemd_helper {

// The length of the complete type at the start of `sig` that this walker
// handles, or 0 when there is none (malformed or unsupported).
size_t complete_type_length(const char* sig);

// Appends `value` to `m` as one value of the complete type `type`. Returns
// "" or what does not fit ("expected an array of 2 members at [1]", an
// sd-bus errno text ...).
std::string append_value(sd_bus_message* m, const std::string& type, const rapidjson::Value& value);

// Reads the next value of `m`, whatever its type, into `out`. Returns "" or
// what went wrong.
std::string read_value(sd_bus_message* m, rapidjson::Value& out, rapidjson::Document::AllocatorType& alloc);

}  // namespace agentrun::systemd_helper
