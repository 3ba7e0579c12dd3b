#pragma once
// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
// Load Balancer", NSDI 2016, §3.4): each backend walks its own permutation of the table's
// slots, and backends take turns claiming their next free slot. When a backend leaves, only its
// slots change hands (plus a few at the margins), so only about 1/N of calls move. Weights
// follow Katran's variant: a backend takes a turn each time its accumulated weight reaches the
// largest weight.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ng911::dataplane {

struct MaglevBackend {
  std::string name;      // stable across restarts ("ADDRESS:PORT"): it seeds the permutation
  std::uint32_t index;   // what the table's slots hold (the backends map index)
  std::uint32_t weight;  // 0: takes no slots
};

// The lookup table: slot -> backend index; every slot NG911_NO_BACKEND without backends of
// nonzero weight. `size` must be prime.
std::vector<std::uint32_t> maglev_table(std::span<const MaglevBackend> backends, std::uint32_t size);

// The slots whose value differs between two tables of the same size (all of `after` when
// `before` is empty): what must be written to the kernel's map.
std::vector<std::uint32_t> changed_slots(std::span<const std::uint32_t> before, std::span<const std::uint32_t> after);

}  // namespace ng911::dataplane
