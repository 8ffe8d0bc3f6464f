#include "runtime/confine/seccomp_fold.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "runtime/confine/seccomp_eval.hpp"

namespace agentrun {
namespace {

constexpr uint32_t kNr = offsetof(seccomp_data, nr);
constexpr uint32_t kArch = offsetof(seccomp_data, arch);
constexpr size_t kNone = SIZE_MAX;

bool loads(const sock_filter& i, uint32_t offset) { return i.code == (BPF_LD | BPF_W | BPF_ABS) && i.k == offset; }

// A jump on the accumulator against a constant: what a dispatch on the
// number is made of (a JSET is not, and stays where it is, as a leaf).
bool dispatch_jump(const sock_filter& i) {
  if (BPF_CLASS(i.code) != BPF_JMP) return false;
  const uint16_t op = BPF_OP(i.code);
  return op == BPF_JA || (BPF_SRC(i.code) == BPF_K && (op == BPF_JEQ || op == BPF_JGT || op == BPF_JGE));
}

std::vector<size_t> successors(const sock_filter& i, size_t pc) {
  if (BPF_CLASS(i.code) == BPF_RET) return {};
  if (BPF_CLASS(i.code) != BPF_JMP) return {pc + 1};
  if (BPF_OP(i.code) == BPF_JA) return {pc + 1 + i.k};
  return {pc + 1 + i.jt, pc + 1 + i.jf};
}

// One dispatch: its jumps, and the first number of each range of numbers
// that leads to one place (an instruction outside it).
struct Region {
  size_t entry = 0;
  std::set<size_t> members;
  std::vector<std::pair<uint32_t, size_t>> ranges;
};

size_t leaf_of(const std::vector<sock_filter>& f, const Region& r, uint32_t nr) {
  size_t pc = r.entry;
  while (r.members.count(pc)) {
    const sock_filter& i = f[pc];
    bool taken = true;
    if (BPF_OP(i.code) == BPF_JEQ) taken = nr == i.k;
    if (BPF_OP(i.code) == BPF_JGT) taken = nr > i.k;
    if (BPF_OP(i.code) == BPF_JGE) taken = nr >= i.k;
    pc = BPF_OP(i.code) == BPF_JA ? pc + 1 + i.k : pc + 1 + (taken ? i.jt : i.jf);
  }
  return pc;
}

// The numbers where a comparison of the region changes its outcome.
std::set<uint32_t> breakpoints(const std::vector<sock_filter>& f, const Region& r) {
  std::set<uint32_t> out{0};
  for (size_t pc : r.members) {
    const sock_filter& i = f[pc];
    const uint16_t op = BPF_OP(i.code);
    if (op == BPF_JEQ || op == BPF_JGE) out.insert(i.k);
    if ((op == BPF_JEQ || op == BPF_JGT) && i.k != UINT32_MAX) out.insert(i.k + 1);
  }
  return out;
}

// The instructions reached from `entry` through dispatch jumps, if nothing
// else leads into them: the load of the number before `entry` is their only
// way in.
std::optional<Region> region_at(const std::vector<sock_filter>& f, const std::vector<std::vector<size_t>>& preds,
                                size_t entry) {
  Region r;
  r.entry = entry;
  // libseccomp shares its long jumps (JA) between a dispatch and the
  // argument checks: such a JA is not the dispatch's, but a place it leads to.
  std::set<size_t> shared;
  for (;;) {
    r.members.clear();
    std::vector<size_t> todo{entry};
    while (!todo.empty()) {
      const size_t pc = todo.back();
      todo.pop_back();
      if (!dispatch_jump(f[pc]) || shared.count(pc) || !r.members.insert(pc).second) continue;
      for (size_t s : successors(f[pc], pc)) todo.push_back(s);
    }
    const size_t before = shared.size();
    for (size_t pc : r.members)
      for (size_t p : preds[pc]) {
        if (r.members.count(p) || (pc == entry && p == entry - 1)) continue;
        if (pc == entry || BPF_OP(f[pc].code) != BPF_JA) return std::nullopt;
        shared.insert(pc);
      }
    if (shared.size() == before) break;
  }
  // Equal returns are one place.
  std::map<uint32_t, size_t> returning;
  uint32_t last_leaf = 0;
  for (uint32_t nr : breakpoints(f, r)) {
    size_t leaf = leaf_of(f, r, nr);
    if (f[leaf].code == (BPF_RET | BPF_K)) leaf = returning.emplace(f[leaf].k, leaf).first->second;
    if (r.ranges.empty() || leaf != last_leaf) r.ranges.emplace_back(nr, leaf);
    last_leaf = leaf;
  }
  return r;
}

// An instruction of the folded program; its targets are indices of
// `original` (orig) or of the folded program being built.
struct Target {
  bool orig = true;
  size_t at = 0;
};
struct Placed {
  sock_filter insn;
  Target taken, not_taken;  // a JA's target is `taken`
};

// A binary search over ranges[lo..hi]; returns where it starts. Each range
// leads to its place through `leads`: the place itself, or a JA to it.
Target place_search(std::vector<Placed>& out, const Region& r, const std::map<size_t, Target>& leads, size_t lo,
                    size_t hi) {
  if (lo == hi) return leads.at(r.ranges[lo].second);
  const size_t at = out.size();
  const size_t mid = lo + (hi - lo + 1) / 2;
  out.push_back({BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, r.ranges[mid].first, 0, 0), {}, {}});
  const Target below = place_search(out, r, leads, lo, mid - 1);
  const Target above = place_search(out, r, leads, mid, hi);
  out[at].taken = above;
  out[at].not_taken = below;
  return {false, at};
}

// The dispatch's replacement. Where a place is beyond a conditional jump's
// 8 bits (libseccomp's own long jumps), the search leads to a JA for each
// place, put after it.
void place_dispatch(std::vector<Placed>& out, const Region& r, bool far) {
  std::map<size_t, Target> leads;
  for (const auto& [nr, place] : r.ranges) leads[place] = {true, place};
  if (r.ranges.size() == 1) {
    out.push_back({BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0), leads.begin()->second, {}});
    return;
  }
  std::vector<Placed> jumps;
  if (far) {
    size_t at = out.size() + r.ranges.size() - 1;  // after the search's nodes
    for (auto& [place, lead] : leads) {
      jumps.push_back({BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0), lead, {}});
      lead = {false, at++};
    }
  }
  place_search(out, r, leads, 0, r.ranges.size() - 1);
  out.insert(out.end(), jumps.begin(), jumps.end());
}

bool is_jump(const sock_filter& i) { return BPF_CLASS(i.code) == BPF_JMP; }

struct Layout {
  std::vector<Placed> placed;
  std::vector<size_t> at_of;  // where each kept instruction of the original went
};

// Offsets from the placed targets, without what nothing reaches; nothing
// if a conditional jump would not fit its 8 bits.
std::optional<std::vector<sock_filter>> assemble(const Layout& layout) {
  const std::vector<Placed>& placed = layout.placed;
  const std::vector<size_t>& at_of = layout.at_of;
  const auto resolve = [&](const Target& t) { return t.orig ? at_of[t.at] : t.at; };
  for (const Placed& p : placed)
    if (is_jump(p.insn) && (resolve(p.taken) == kNone || (BPF_OP(p.insn.code) != BPF_JA && resolve(p.not_taken) == kNone)))
      return std::nullopt;  // into a jump the search replaced
  std::vector<bool> reached(placed.size(), false);
  std::vector<size_t> todo{0};
  while (!todo.empty()) {
    const size_t s = todo.back();
    todo.pop_back();
    if (s >= placed.size() || reached[s]) continue;
    reached[s] = true;
    const sock_filter& i = placed[s].insn;
    if (BPF_CLASS(i.code) == BPF_RET) continue;
    if (!is_jump(i)) {
      todo.push_back(s + 1);
      continue;
    }
    todo.push_back(resolve(placed[s].taken));
    if (BPF_OP(i.code) != BPF_JA) todo.push_back(resolve(placed[s].not_taken));
  }
  std::vector<size_t> final_at(placed.size() + 1, 0);
  for (size_t s = 0; s < placed.size(); ++s) final_at[s + 1] = final_at[s] + (reached[s] ? 1 : 0);
  std::vector<sock_filter> out;
  for (size_t s = 0; s < placed.size(); ++s) {
    if (!reached[s]) continue;
    sock_filter i = placed[s].insn;
    if (is_jump(i)) {
      const auto offset = [&](const Target& t) {
        const size_t to = final_at[resolve(t)];
        return to > final_at[s] ? to - final_at[s] - 1 : SIZE_MAX;  // forward only
      };
      if (BPF_OP(i.code) == BPF_JA) {
        const size_t k = offset(placed[s].taken);
        if (k > UINT32_MAX) return std::nullopt;
        i.k = static_cast<uint32_t>(k);
      } else {
        const size_t jt = offset(placed[s].taken), jf = offset(placed[s].not_taken);
        if (jt > UINT8_MAX || jf > UINT8_MAX) return std::nullopt;
        i.jt = static_cast<uint8_t>(jt);
        i.jf = static_cast<uint8_t>(jf);
      }
    }
    out.push_back(i);
  }
  return out;
}

// A last check of the result: the same verdict for every number where a
// dispatch changes course (and the one before), under each architecture
// the filter checks for. (The unit tests try arguments too.)
bool same_verdicts(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b,
                   const std::vector<Region>& regions) {
  std::set<uint32_t> arches{seccomp_arch_native()};
  for (size_t pc = 0; pc + 1 < a.size(); ++pc)
    if (loads(a[pc], kArch) && BPF_CLASS(a[pc + 1].code) == BPF_JMP && BPF_OP(a[pc + 1].code) == BPF_JEQ)
      arches.insert(a[pc + 1].k);
  std::set<uint32_t> numbers{UINT32_MAX};
  for (const Region& r : regions)
    for (uint32_t nr : breakpoints(a, r)) {
      numbers.insert(nr);
      if (nr > 0) numbers.insert(nr - 1);
    }
  for (uint32_t arch : arches)
    for (uint32_t nr : numbers) {
      seccomp_data call{};
      call.nr = static_cast<int>(nr);
      call.arch = arch;
      auto x = seccomp_verdict(a, call), y = seccomp_verdict(b, call);
      if (!x || !y || *x != *y) return false;
    }
  return true;
}

// The program with each dispatch replaced, its targets still to resolve.
Layout place_all(const std::vector<sock_filter>& filter, const std::vector<Region>& regions,
                 const std::vector<size_t>& region_of, bool far) {
  Layout l;
  l.at_of.assign(filter.size(), kNone);
  for (size_t pc = 0; pc < filter.size(); ++pc) {
    const size_t reg = region_of[pc];
    if (reg != kNone && regions[reg].entry != pc) continue;  // a jump the search replaces
    l.at_of[pc] = l.placed.size();
    if (reg != kNone) {
      place_dispatch(l.placed, regions[reg], far);
      continue;
    }
    const sock_filter& i = filter[pc];
    Placed p{i, {}, {}};
    if (is_jump(i) && BPF_OP(i.code) == BPF_JA) p.taken = {true, pc + 1 + i.k};
    if (is_jump(i) && BPF_OP(i.code) != BPF_JA) p = {i, {true, pc + 1 + i.jt}, {true, pc + 1 + i.jf}};
    l.placed.push_back(p);
  }
  return l;
}

}  // namespace

std::vector<sock_filter> fold_syscall_ranges(const std::vector<sock_filter>& filter) {
  const size_t n = filter.size();
  std::vector<std::vector<size_t>> preds(n);
  for (size_t pc = 0; pc < n; ++pc)
    for (size_t s : successors(filter[pc], pc)) {
      if (s >= n) return filter;
      preds[s].push_back(pc);
    }
  std::vector<Region> regions;
  std::vector<size_t> region_of(n, kNone);
  for (size_t pc = 1; pc < n; ++pc) {
    if (!loads(filter[pc - 1], kNr) || !dispatch_jump(filter[pc]) || region_of[pc] != kNone) continue;
    auto r = region_at(filter, preds, pc);
    if (!r || std::any_of(r->members.begin(), r->members.end(), [&](size_t m) { return region_of[m] != kNone; }))
      continue;
    for (size_t m : r->members) region_of[m] = regions.size();
    regions.push_back(std::move(*r));
  }
  if (regions.empty()) return filter;

  for (bool far : {false, true}) {
    auto folded = assemble(place_all(filter, regions, region_of, far));
    if (folded && folded->size() < n && same_verdicts(filter, *folded, regions)) return *folded;
  }
  return filter;
}

}  // namespace agentrun
