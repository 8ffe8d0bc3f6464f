#pragma once
// The complete messages of a netlink datagram, in order, for a range-for:
// what NLMSG_OK and NLMSG_NEXT walk, without their mix of signed and
// unsigned lengths. A message that claims more than is left ends the walk.

#include <linux/netlink.h>

#include <cstddef>

namespace agentrun {

class NetlinkMessages {
 public:
  // `data`: as aligned as a nlmsghdr (a receive buffer).
  NetlinkMessages(const void* data, size_t len) : data_(static_cast<const char*>(data)), len_(len) {}

  class iterator {
   public:
    iterator(const char* at, size_t left) : at_(at), left_(left) { check(); }
    const nlmsghdr& operator*() const { return *reinterpret_cast<const nlmsghdr*>(at_); }
    iterator& operator++() {
      const size_t step = NLMSG_ALIGN((**this).nlmsg_len);
      at_ += step < left_ ? step : left_;
      left_ -= step < left_ ? step : left_;
      check();
      return *this;
    }
    bool operator!=(const iterator& o) const { return left_ != o.left_; }

   private:
    void check() {
      if (left_ < sizeof(nlmsghdr) || (**this).nlmsg_len < sizeof(nlmsghdr) || (**this).nlmsg_len > left_) left_ = 0;
    }
    const char* at_;
    size_t left_;
  };

  iterator begin() const { return {data_, len_}; }
  iterator end() const { return {data_ + len_, 0}; }

 private:
  const char* data_;
  size_t len_;
};

}  // namespace agentrun
