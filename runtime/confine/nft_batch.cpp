#include "runtime/confine/nft_batch.hpp"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <cstring>
#include <type_traits>

#include "spec/error.hpp"

namespace agentrun::nft {
namespace {

constexpr const char* kChain = "output";
constexpr size_t kMaxComment = 127;  // nft keeps 128 bytes with the NUL
constexpr uint8_t kCommentType = 0;  // libnftnl's NFTNL_UDATA_TABLE_COMMENT

// Netlink messages and attributes, appended to one buffer; a nest's or a
// message's length is filled in when it ends.
class Writer {
 public:
  std::vector<uint8_t> bytes;

  size_t begin_message(uint16_t type, uint16_t flags, uint32_t seq, uint8_t family, uint16_t res_id) {
    const size_t at = bytes.size();
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    h.nlmsg_seq = seq;
    append(&h, sizeof h);
    nfgenmsg g{};
    g.nfgen_family = family;
    g.version = NFNETLINK_V0;
    g.res_id = htons(res_id);
    append(&g, sizeof g);
    return at;
  }
  void end_message(size_t at) { set_length<nlmsghdr>(at, bytes.size() - at); }

  void put(uint16_t type, const void* data, size_t len) {
    const size_t at = begin_attr(type);
    append(data, len);
    end(at);
  }
  void put_u32(uint16_t type, uint32_t host) {
    const uint32_t be = htonl(host);
    put(type, &be, sizeof be);
  }
  void put_string(uint16_t type, const std::string& s) { put(type, s.c_str(), s.size() + 1); }
  size_t nest(uint16_t type) { return begin_attr(static_cast<uint16_t>(type | NLA_F_NESTED)); }
  void end(size_t at) {
    // The length leaves out the padding after the payload.
    set_length<nlattr>(at, bytes.size() - at);
    bytes.resize(NLA_ALIGN(bytes.size()), 0);
  }

 private:
  size_t begin_attr(uint16_t type) {
    const size_t at = bytes.size();
    nlattr a{};
    a.nla_type = type;
    append(&a, sizeof a);
    return at;
  }
  void append(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  template <class Header>
  void set_length(size_t at, size_t len) {
    Header h;
    std::memcpy(&h, bytes.data() + at, sizeof h);
    if constexpr (std::is_same_v<Header, nlmsghdr>) h.nlmsg_len = static_cast<uint32_t>(len);
    else h.nla_len = static_cast<uint16_t>(len);
    std::memcpy(bytes.data() + at, &h, sizeof h);
  }
};

// One expression of a rule: its name, then its own attributes.
class Expressions {
 public:
  explicit Expressions(Writer& w) : w_(w) {}

  void meta(uint32_t key) {
    expr("meta", [&] {
      w_.put_u32(NFTA_META_DREG, NFT_REG_1);
      w_.put_u32(NFTA_META_KEY, key);
    });
  }
  void payload(uint32_t base, uint32_t offset, uint32_t len) {
    expr("payload", [&] {
      w_.put_u32(NFTA_PAYLOAD_DREG, NFT_REG_1);
      w_.put_u32(NFTA_PAYLOAD_BASE, base);
      w_.put_u32(NFTA_PAYLOAD_OFFSET, offset);
      w_.put_u32(NFTA_PAYLOAD_LEN, len);
    });
  }
  void cmp(uint32_t op, const void* value, size_t len) {
    expr("cmp", [&] {
      w_.put_u32(NFTA_CMP_SREG, NFT_REG_1);
      w_.put_u32(NFTA_CMP_OP, op);
      data(NFTA_CMP_DATA, value, len);
    });
  }
  void cmp_u8(uint8_t v) { cmp(NFT_CMP_EQ, &v, 1); }
  // from <= reg 1 <= to
  void range(const void* from, const void* to, size_t len) {
    expr("range", [&] {
      w_.put_u32(NFTA_RANGE_SREG, NFT_REG_1);
      w_.put_u32(NFTA_RANGE_OP, NFT_RANGE_EQ);
      data(NFTA_RANGE_FROM_DATA, from, len);
      data(NFTA_RANGE_TO_DATA, to, len);
    });
  }
  // reg 1 = (reg 1 & mask) ^ 0
  void bitwise(const void* mask, size_t len) {
    const uint8_t zero[16] = {};
    expr("bitwise", [&] {
      w_.put_u32(NFTA_BITWISE_SREG, NFT_REG_1);
      w_.put_u32(NFTA_BITWISE_DREG, NFT_REG_1);
      w_.put_u32(NFTA_BITWISE_LEN, static_cast<uint32_t>(len));
      data(NFTA_BITWISE_MASK, mask, len);
      data(NFTA_BITWISE_XOR, zero, len);
    });
  }
  void ct_state() {
    expr("ct", [&] {
      w_.put_u32(NFTA_CT_DREG, NFT_REG_1);
      w_.put_u32(NFTA_CT_KEY, NFT_CT_STATE);
    });
  }
  void counter() {
    expr("counter", [&] {
      const uint64_t zero = 0;
      w_.put(NFTA_COUNTER_BYTES, &zero, sizeof zero);
      w_.put(NFTA_COUNTER_PACKETS, &zero, sizeof zero);
    });
  }
  void log(const std::string& prefix, uint16_t group) {
    expr("log", [&] {
      const uint16_t be = htons(group);
      w_.put(NFTA_LOG_GROUP, &be, sizeof be);
      w_.put_string(NFTA_LOG_PREFIX, prefix);
    });
  }
  void verdict(Verdict v) {
    if (v == Verdict::reject) {
      expr("reject", [&] {
        w_.put_u32(NFTA_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
        const uint8_t code = NFT_REJECT_ICMPX_ADMIN_PROHIBITED;
        w_.put(NFTA_REJECT_ICMP_CODE, &code, 1);
      });
      return;
    }
    expr("immediate", [&] {
      w_.put_u32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
      const size_t d = w_.nest(NFTA_IMMEDIATE_DATA);
      const size_t v = w_.nest(NFTA_DATA_VERDICT);
      w_.put_u32(NFTA_VERDICT_CODE, NF_ACCEPT);
      w_.end(v);
      w_.end(d);
    });
  }

 private:
  template <class F>
  void expr(const char* name, F&& attributes) {
    const size_t elem = w_.nest(NFTA_LIST_ELEM);
    w_.put_string(NFTA_EXPR_NAME, name);
    const size_t d = w_.nest(NFTA_EXPR_DATA);
    attributes();
    w_.end(d);
    w_.end(elem);
  }
  void data(uint16_t type, const void* value, size_t len) {
    const size_t n = w_.nest(type);
    w_.put(NFTA_DATA_VALUE, value, len);
    w_.end(n);
  }
  Writer& w_;
};

// The destination network: a prefix on a byte boundary is its bytes, any
// other is the whole address masked (as nft does).
void destination(Expressions& e, const Rule& r) {
  const uint32_t size = r.family == 4 ? 4 : 16, offset = r.family == 4 ? 16 : 24;
  if (r.prefix % 8 == 0) {
    e.payload(NFT_PAYLOAD_NETWORK_HEADER, offset, r.prefix / 8);
    e.cmp(NFT_CMP_EQ, r.address.data(), r.prefix / 8);
    return;
  }
  uint8_t mask[16] = {};
  for (unsigned bit = 0; bit < r.prefix; ++bit) mask[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
  e.payload(NFT_PAYLOAD_NETWORK_HEADER, offset, size);
  e.bitwise(mask, size);
  e.cmp(NFT_CMP_EQ, r.address.data(), size);
}

void expressions(Expressions& e, const Rule& r) {
  if (r.kind == Rule::Kind::loopback) {
    const uint32_t lo = 1;  // the loopback device's index in every namespace
    e.meta(NFT_META_OIF);
    e.cmp(NFT_CMP_EQ, &lo, sizeof lo);
  } else if (r.kind == Rule::Kind::established) {
    const uint32_t states = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED), zero = 0;
    e.ct_state();
    e.bitwise(&states, sizeof states);
    e.cmp(NFT_CMP_NEQ, &zero, sizeof zero);
  } else {
    if (r.family != 0) {
      e.meta(NFT_META_NFPROTO);
      e.cmp_u8(r.family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
    }
    if (r.prefix > 0) destination(e, r);
    if (r.protocol != 0) {
      e.meta(NFT_META_L4PROTO);
      e.cmp_u8(r.protocol);
    }
    if (r.icmpv6_type >= 0) {
      e.payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
      e.cmp_u8(static_cast<uint8_t>(r.icmpv6_type));
    } else if (r.port_from != 0) {
      const uint16_t from = htons(r.port_from), to = htons(r.port_to);
      e.payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
      if (r.port_from == r.port_to)
        e.cmp(NFT_CMP_EQ, &from, 2);
      else
        e.range(&from, &to, 2);
    }
    if (r.counter) e.counter();
    if (!r.log_prefix.empty()) e.log(r.log_prefix, r.log_group);
  }
  e.verdict(r.verdict);
}

constexpr uint16_t nft_type(int msg) { return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg); }

}  // namespace

Batch table_batch(const Table& table, bool replace, uint32_t first_seq) {
  if (table.comment.size() > kMaxComment) fail("egress rules", "the table's comment is longer than 127 bytes");
  Batch b;
  Writer w;
  uint32_t seq = first_seq;
  b.begin_seq = seq;
  w.end_message(w.begin_message(NFNL_MSG_BATCH_BEGIN, 0, seq++, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
  const std::string table_name = "table inet " + table.name;
  const auto message = [&](int type, uint16_t flags, const std::string& step, auto&& attributes) {
    b.steps.emplace_back(seq, step);
    const size_t at = w.begin_message(nft_type(type), static_cast<uint16_t>(flags | NLM_F_ACK), seq++, NFPROTO_INET, 0);
    attributes();
    w.end_message(at);
  };
  if (replace)
    message(NFT_MSG_DELTABLE, 0, "delete " + table_name, [&] { w.put_string(NFTA_TABLE_NAME, table.name); });
  message(NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, "create " + table_name, [&] {
    w.put_string(NFTA_TABLE_NAME, table.name);
    if (table.comment.empty()) return;
    // libnftnl's user data: a type byte, a length byte, the comment with its NUL.
    std::vector<uint8_t> udata = {kCommentType, static_cast<uint8_t>(table.comment.size() + 1)};
    udata.insert(udata.end(), table.comment.begin(), table.comment.end());
    udata.push_back(0);
    w.put(NFTA_TABLE_USERDATA, udata.data(), udata.size());
  });
  message(NFT_MSG_NEWCHAIN, NLM_F_CREATE, "create chain " + std::string(kChain), [&] {
    w.put_string(NFTA_CHAIN_TABLE, table.name);
    w.put_string(NFTA_CHAIN_NAME, kChain);
    const size_t hook = w.nest(NFTA_CHAIN_HOOK);
    w.put_u32(NFTA_HOOK_HOOKNUM, NF_INET_LOCAL_OUT);
    w.put_u32(NFTA_HOOK_PRIORITY, 0);
    w.end(hook);
    w.put_u32(NFTA_CHAIN_POLICY, NF_DROP);
    w.put_string(NFTA_CHAIN_TYPE, "filter");
  });
  for (const Rule& r : table.rules)
    message(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, "add rule `" + rule_text(r) + "`", [&] {
      w.put_string(NFTA_RULE_TABLE, table.name);
      w.put_string(NFTA_RULE_CHAIN, kChain);
      const size_t list = w.nest(NFTA_RULE_EXPRESSIONS);
      Expressions e(w);
      expressions(e, r);
      w.end(list);
    });
  w.end_message(w.begin_message(NFNL_MSG_BATCH_END, 0, seq, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
  b.bytes = std::move(w.bytes);
  return b;
}

std::vector<uint8_t> get_table_request(const std::string& name, uint32_t seq) {
  Writer w;
  const size_t at = w.begin_message(nft_type(NFT_MSG_GETTABLE), NLM_F_ACK, seq, NFPROTO_INET, 0);
  w.put_string(NFTA_TABLE_NAME, name);
  w.end_message(at);
  return std::move(w.bytes);
}

std::optional<std::string> table_comment(const uint8_t* p, size_t len) {
  while (len >= sizeof(nlattr)) {
    nlattr a;
    std::memcpy(&a, p, sizeof a);
    if (a.nla_len < sizeof a || a.nla_len > len) return std::nullopt;
    if ((a.nla_type & NLA_TYPE_MASK) == NFTA_TABLE_USERDATA) {
      const uint8_t* u = p + sizeof a;
      size_t left = a.nla_len - sizeof a;
      while (left >= 2 && size_t{u[1]} + 2 <= left) {
        if (u[0] == kCommentType) {
          const auto* text = reinterpret_cast<const char*>(u + 2);
          return std::string(text, strnlen(text, u[1]));
        }
        left -= size_t{u[1]} + 2;
        u += size_t{u[1]} + 2;
      }
      return std::nullopt;
    }
    const size_t step = NLA_ALIGN(a.nla_len);
    if (step >= len) break;
    p += step;
    len -= step;
  }
  return std::nullopt;
}

}  // namespace agentrun::nft
