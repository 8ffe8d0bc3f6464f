// One dump of addresses gives what getifaddrs(3) gives, the links aside.
// Needs no privilege: both read the caller's network namespace.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <set>
#include <string>

#include "runtime/util/interface_addresses.hpp"
#include "support/needs.hpp"

using namespace agentrun;

namespace {

std::multiset<std::string> listed_by_getifaddrs() {
  std::multiset<std::string> expected;
  ifaddrs* list = nullptr;
  BOOST_TEST_REQUIRE(::getifaddrs(&list) == 0);
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    const int family = a->ifa_addr->sa_family;
    const void* bytes = family == AF_INET    ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr)
                        : family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr)
                                             : nullptr;
    char text[INET6_ADDRSTRLEN];
    if (bytes && ::inet_ntop(family, bytes, text, sizeof text)) expected.insert(text);
  }
  ::freeifaddrs(list);
  return expected;
}

// Equal empty lists would prove nothing.
test::host::Probe an_address() {
  if (listed_by_getifaddrs().empty()) return {false, "needs a network namespace with an address (none is up)"};
  return {true, "addresses"};
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_addresses_getifaddrs_lists, *test::needs(an_address)) {
  const std::multiset<std::string> expected = listed_by_getifaddrs();
  auto listed = interface_addresses();
  BOOST_TEST_REQUIRE(bool(listed));
  const std::multiset<std::string> got(listed->begin(), listed->end());
  BOOST_TEST((got == expected));
}
