// agentrun-systemd's JSON <-> D-Bus marshalling (systemd-helper/bus_values),
// without a bus daemon: messages are built on an sd-bus connection over a
// socketpair that never completes its handshake, sealed, and read back.
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "systemd-helper/bus_values.hpp"

using namespace agentrun::systemd_helper;

namespace {

struct Bus {
  sd_bus* bus = nullptr;
  int peer = -1;
  Bus() {
    int fds[2];
    BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    peer = fds[1];
    BOOST_TEST_REQUIRE(sd_bus_new(&bus) >= 0);
    BOOST_TEST_REQUIRE(sd_bus_set_fd(bus, fds[0], fds[0]) >= 0);
    BOOST_TEST_REQUIRE(sd_bus_start(bus) >= 0);
  }
  ~Bus() {
    sd_bus_close_unref(bus);
    ::close(peer);
  }
};

std::string json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

// Appends `value_json` as `type`, then reads it back: the message's
// signature and the value as JSON, or the append error.
std::string round_trip(const std::string& type, const std::string& value_json) {
  Bus bus;
  sd_bus_message* m = nullptr;
  BOOST_TEST_REQUIRE(sd_bus_message_new_method_call(bus.bus, &m, "org.example", "/", "org.example", "M") >= 0);
  rapidjson::Document in;
  in.Parse(value_json.c_str());
  BOOST_TEST_REQUIRE(!in.HasParseError());
  std::string out = append_value(m, type, in);
  if (out.empty()) {
    BOOST_TEST_REQUIRE(sd_bus_message_seal(m, 1, 0) >= 0);
    BOOST_TEST_REQUIRE(sd_bus_message_rewind(m, 1) >= 0);
    rapidjson::Document back;
    if (out = read_value(m, back, back.GetAllocator()); out.empty())
      out = std::string(sd_bus_message_get_signature(m, 1)) + " " + json(back);
  }
  sd_bus_message_unref(m);
  return out;
}

// Each {type, JSON value, what round_trip gives}.
void check(const std::vector<std::array<std::string, 3>>& cases) {
  for (const auto& [type, value, expected] : cases) BOOST_TEST(round_trip(type, value) == expected, type + " " + value);
}

}  // namespace

BOOST_AUTO_TEST_CASE(basic_types) {
  check({
      {"b", "true", "b true"},
      {"y", "255", "y 255"},
      {"n", "-32768", "n -32768"},
      {"q", "65535", "q 65535"},
      {"i", "-5", "i -5"},
      {"u", "4294967295", "u 4294967295"},
      {"x", "-9223372036854775808", "x -9223372036854775808"},
      {"t", "18446744073709551615", "t 18446744073709551615"},
      {"d", "1.5", "d 1.5"},
      {"s", "\"system.slice\"", "s \"system.slice\""},
      {"o", "\"/org/freedesktop/systemd1\"", "o \"/org/freedesktop/systemd1\""},
  });
}

BOOST_AUTO_TEST_CASE(arrays_and_structs) {
  check({
      {"au", "[123]", "au [123]"},
      {"as", "[\"a\",\"b\"]", "as [\"a\",\"b\"]"},
      {"as", "[]", "as []"},
      {"ay", "[15,2]", "ay [15,2]"},
      {"a(st)", "[[\"/dev/block/8:0\",5],[\"/dev/block/8:16\",6]]", "a(st) [[\"/dev/block/8:0\",5],[\"/dev/block/8:16\",6]]"},
      {"a(ss)", "[[\"/dev/null\",\"rw\"]]", "a(ss) [[\"/dev/null\",\"rw\"]]"},
      {"(sa(ib))", "[\"x\",[[1,true]]]", "(sa(ib)) [\"x\",[[1,true]]]"},
      {"aay", "[[1],[]]", "aay [[1],[]]"},
  });
}

BOOST_AUTO_TEST_CASE(values_that_do_not_fit) {
  check({
      {"t", "-1", "value: expected a 64-bit unsigned integer for t"},
      {"y", "256", "value: expected an integer 0..255 for y"},
      {"i", "2147483648", "value: expected a 32-bit signed integer for i"},
      {"b", "1", "value: expected true or false for b"},
      {"s", "5", "value: expected a string for s"},
      {"s", "\"a\\u0000b\"", "value: the string contains a NUL"},
      {"au", "5", "value: expected an array for au"},
      {"a(st)", "[[\"/dev/sda\",1],[\"x\"]]", "value[1]: expected an array of its 2 members for (st)"},
      {"a(st)", "[[\"/dev/sda\",\"1\"]]", "value[0][1]: expected a 64-bit unsigned integer for t"},
      {"o", "\"not a path\"", "value: sd-bus: Invalid argument"},
  });
}

BOOST_AUTO_TEST_CASE(signatures_it_takes) {
  for (const char* good : {"b", "t", "as", "a(st)", "(ss)", "aay", "a(sa(ib))"})
    BOOST_TEST(complete_type_length(good) == std::string(good).size(), good);
  for (const char* bad : {"", "a", "()", "(s", "a{st}", "v", "h", "z", "(s))"})
    BOOST_TEST(round_trip(bad, "0").find("is not one complete D-Bus type") != std::string::npos, bad);
  // 33 nested arrays are beyond D-Bus's limit.
  BOOST_TEST(complete_type_length((std::string(33, 'a') + "t").c_str()) == 0u);
}
