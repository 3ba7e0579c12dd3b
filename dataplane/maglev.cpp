#include "maglev.h"

#include <algorithm>
#include <stdexcept>

#include "ng911_dp.h"

namespace ng911::dataplane {
namespace {

// FNV-1a with a seed: stable across builds and machines, unlike std::hash, so a restarted
// controller computes the same table and no call moves.
std::uint64_t fnv1a(std::string_view text, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

}  // namespace

std::vector<std::uint32_t> maglev_table(std::span<const MaglevBackend> backends, std::uint32_t size) {
  if (size < 2) throw std::invalid_argument("Maglev table size must be a prime > 1");
  std::vector<std::uint32_t> table(size, NG911_NO_BACKEND);
  struct Walker {
    std::uint32_t index, weight;
    std::uint64_t offset, skip, next = 0, credit = 0;
  };
  // Turns go in name order, so the table depends on the set of backends, not on the order
  // they were listed or added in.
  std::vector<const MaglevBackend*> sorted;
  for (const auto& b : backends) sorted.push_back(&b);
  std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->name < y->name; });
  std::vector<Walker> walkers;
  std::uint32_t max_weight = 0;
  for (const auto* p : sorted) {
    const auto& b = *p;
    if (b.weight == 0) continue;
    walkers.push_back({b.index, b.weight, fnv1a(b.name, 0x5bd1e995) % size, fnv1a(b.name, 0x27d4eb2f) % (size - 1) + 1});
    max_weight = std::max(max_weight, b.weight);
  }
  if (walkers.empty()) return table;
  std::uint32_t filled = 0;
  while (true) {
    for (auto& w : walkers) {
      w.credit += w.weight;
      if (w.credit < max_weight) continue;
      w.credit -= max_weight;
      std::uint64_t slot = (w.offset + w.next * w.skip) % size;
      while (table[slot] != NG911_NO_BACKEND) {
        ++w.next;
        slot = (w.offset + w.next * w.skip) % size;
      }
      table[slot] = w.index;
      ++w.next;
      if (++filled == size) return table;
    }
  }
}

std::vector<std::uint32_t> changed_slots(std::span<const std::uint32_t> before, std::span<const std::uint32_t> after) {
  std::vector<std::uint32_t> changed;
  for (std::uint32_t i = 0; i < after.size(); ++i)
    if (i >= before.size() || before[i] != after[i]) changed.push_back(i);
  return changed;
}

}  // namespace ng911::dataplane
