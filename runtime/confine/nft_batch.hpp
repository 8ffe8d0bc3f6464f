#pragma once
// A Table (nft_table.hpp) as one nf_tables transaction: the netlink batch
// the kernel commits whole or not at all, in the expressions nft 1.1
// makes of the same text (a port range is one `range`, where nft 1.0 made
// two comparisons). Pure: bytes in, bytes out; nft_install sends it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/confine/nft_table.hpp"

namespace agentrun::nft {

struct Batch {
  std::vector<uint8_t> bytes;
  uint32_t begin_seq = 0;  // the batch's own header: a failed commit is reported on it
  // Each message that asks for an acknowledgement: its sequence number and
  // what it does ("create table inet agentrun"), for the error.
  std::vector<std::pair<uint32_t, std::string>> steps;
};

// Creates the table (fails with EEXIST if the namespace has one of its
// name), its chain and rules; with `replace`, deletes that table first.
Batch table_batch(const Table& table, bool replace, uint32_t first_seq);

// NFT_MSG_GETTABLE for inet `name`.
std::vector<uint8_t> get_table_request(const std::string& name, uint32_t seq);

// The comment in the attributes of an NFT_MSG_NEWTABLE message (after its
// nfgenmsg); nullopt when it has none.
std::optional<std::string> table_comment(const uint8_t* attributes, size_t length);

}  // namespace agentrun::nft
