#pragma once
// A network for the egress tests, built on the host without reaching out:
// the container's network namespace (joined by path, as docker's and a CNI
// plugin's are) and a namespace acting as the internet, joined by a veth
// pair.
//   container  10.203.0.2/24, fd77::2/64; default routes to the internet
//   internet   10.203.0.1 (the container's resolver), fd77::1, and on its
//              loopback 10.203.1.1 and 10.203.1.2 (two hosts),
//              169.254.169.254 and fd00:ec2::254 (cloud metadata)
// The internet answers on every address: TCP on ports 80, 443 and 8080
// (accepts and closes), UDP echo on 9999, ICMP echo, and DNS on port 53 of
// 10.203.0.1 and 10.203.1.1 from a table the test sets (names with A
// records and TTLs); each DNS server writes the names it was asked to a
// file of its own.

#include <string>
#include <utility>
#include <vector>

namespace test {

class EgressNetwork {
 public:
  explicit EgressNetwork(const std::string& dir);  // dir: where its files go
  ~EgressNetwork();
  EgressNetwork(const EgressNetwork&) = delete;
  EgressNetwork& operator=(const EgressNetwork&) = delete;

  std::string netns_path() const { return "/run/netns/" + container_; }
  // The DNS table: replaces the address of `name` (lower case), answered
  // with `ttl` seconds.
  void set_name(const std::string& name, const std::string& address, int ttl) const;
  // The names the DNS server on `address` (10.203.0.1 or 10.203.1.1) was asked.
  std::vector<std::string> queries(const std::string& address) const;

 private:
  void build();
  void clean_up();
  std::string dir_, container_, internet_;
  int server_ = -1;  // the pid of the servers' process
};

}  // namespace test
