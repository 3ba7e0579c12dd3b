#include "backends.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "dataplane/maglev.h"

namespace ng911::dataplane {

std::string BackendSpec::name() const {
  return (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

BackendSpec parse_backend(std::string_view text) {
  BackendSpec spec;
  std::string_view head = text.substr(0, text.find(','));
  std::string_view options = head.size() < text.size() ? text.substr(head.size() + 1) : std::string_view{};
  std::string_view port;
  if (head.starts_with("[")) {
    auto close = head.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unclosed [ in " + std::string(text));
    spec.address = std::string(head.substr(1, close - 1));
    if (close + 1 < head.size()) {
      if (head[close + 1] != ':') throw std::invalid_argument("expected :PORT after ] in " + std::string(text));
      port = head.substr(close + 2);
    }
  } else {
    auto colon = head.find(':');
    spec.address = std::string(head.substr(0, colon));
    if (colon != std::string_view::npos) port = head.substr(colon + 1);
  }
  unsigned char probe[16];
  bool v6 = spec.address.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, spec.address.c_str(), probe) != 1)
    throw std::invalid_argument("not an IP address: " + spec.address);
  if (!port.empty()) {
    unsigned long p = std::stoul(std::string(port));
    if (p == 0 || p > 65535) throw std::invalid_argument("bad port in " + std::string(text));
    spec.port = static_cast<std::uint16_t>(p);
  }
  while (!options.empty()) {
    std::string_view option = options.substr(0, options.find(','));
    options = option.size() < options.size() ? options.substr(option.size() + 1) : std::string_view{};
    auto eq = option.find('=');
    std::string_view key = option.substr(0, eq), value = eq == std::string_view::npos ? "" : option.substr(eq + 1);
    if (key == "weight") {
      spec.weight = static_cast<std::uint32_t>(std::stoul(std::string(value)));
    } else if (key == "mac") {
      spec.mac = parse_mac(value);
      if (!spec.mac) throw std::invalid_argument("bad MAC " + std::string(value));
    } else if (key == "dev") {
      spec.device = std::string(value);
    } else {
      throw std::invalid_argument("unknown backend option " + std::string(key));
    }
  }
  return spec;
}

Backend& BackendPool::at(const std::string& name) {
  auto it = backends_.find(name);
  if (it == backends_.end()) throw std::invalid_argument("no backend " + name);
  return it->second;
}

const Backend& BackendPool::add(const BackendSpec& spec) {
  std::string name = spec.name();
  if (backends_.count(name)) throw std::invalid_argument("backend " + name + " exists");
  std::vector<bool> used(NG911_MAX_BACKENDS);
  for (const auto& [_, b] : backends_) used[b.index] = true;
  for (auto i : released_) used[i] = true;
  auto free = std::find(used.begin(), used.end(), false);
  if (free == used.end()) throw std::invalid_argument("no room for another backend");
  Backend b;
  b.spec = spec;
  b.index = static_cast<std::uint32_t>(free - used.begin());
  return backends_.emplace(name, b).first->second;
}

void BackendPool::remove(const std::string& name) {
  released_.push_back(at(name).index);
  backends_.erase(name);
}

void BackendPool::set_weight(const std::string& name, std::uint32_t weight) { at(name).spec.weight = weight; }
void BackendPool::set_drained(const std::string& name, bool drained) { at(name).drained = drained; }

bool BackendPool::set_healthy(const std::string& name, bool healthy) {
  auto& b = at(name);
  bool changed = b.healthy != healthy;
  b.healthy = healthy;
  return changed;
}

void BackendPool::set_link(const std::string& name, const Mac& mac, int ifindex, const Mac& src_mac) {
  auto& b = at(name);
  b.mac = mac;
  b.ifindex = ifindex;
  b.src_mac = src_mac;
}

void BackendPool::set_config(const ng911_config& config) {
  config_ = config;
  write_config();
}

void BackendPool::write_config() {
  ng911_config c = config_;
  c.flags = draining_ ? c.flags | NG911_CFG_DRAINING : c.flags & ~NG911_CFG_DRAINING;
  c.drain_epoch = epoch_;
  maps_.set_config(c);
}

std::size_t BackendPool::apply() {
  std::vector<MaglevBackend> members;
  std::vector<bool> alive(NG911_MAX_BACKENDS);  // in the table, or drained with calls to finish
  bool drain = false;
  for (const auto& [name, b] : backends_) {
    if (!b.in_table() && !b.keeps_calls()) continue;
    // The kernel's entry first, so no slot ever names a backend the kernel does not know.
    ng911_backend entry{};
    std::memcpy(entry.mac, b.mac->data(), 6);
    std::memcpy(entry.src_mac, b.src_mac.data(), 6);
    entry.ifindex = static_cast<__u32>(b.ifindex);
    entry.port = htons(b.spec.port);
    if (b.spec.address.find(':') != std::string::npos) {
      entry.flags = NG911_BACKEND_IP6;
      inet_pton(AF_INET6, b.spec.address.c_str(), entry.ip6);
    } else {
      entry.flags = NG911_BACKEND_IP4;
      inet_pton(AF_INET, b.spec.address.c_str(), &entry.ip4);
    }
    maps_.set_backend(b.index, entry);
    maps_.add_port(b.ifindex);
    alive[b.index] = true;
    if (b.in_table()) members.push_back({name, b.index, b.spec.weight});
    drain = drain || b.keeps_calls();
  }
  auto table = maglev_table(members, NG911_MAGLEV_SIZE);

  if (drain) {
    // Calls in progress keep the table of the drain's start (the kernel's current one when it
    // begins), except where it names a backend that has gone: those calls move as they would
    // without a drain. Written before the flag goes up and before the new table.
    std::vector<std::uint32_t> prior = draining_ ? prior_ : table_;
    for (std::uint32_t s = 0; s < NG911_MAGLEV_SIZE; ++s)
      if (prior[s] == NG911_NO_BACKEND || !alive[prior[s]]) prior[s] = table[s];
    maps_.write_prior_slots(prior, changed_slots(prior_, prior));
    prior_ = std::move(prior);
    if (!draining_) {
      draining_ = true;
      ++epoch_;  // the pins of an earlier drain no longer count
      write_config();
    }
  }
  auto slots = changed_slots(table_, table);
  maps_.write_slots(table, slots);
  table_ = std::move(table);
  if (!drain && draining_) {
    draining_ = false;
    write_config();
  }
  // Entries no table names any more are cleared, so a pin naming one is known stale.
  static const ng911_backend none{};
  for (const auto& [name, b] : backends_)
    if (!alive[b.index]) maps_.set_backend(b.index, none);
  for (auto i : released_) maps_.set_backend(i, none);
  released_.clear();  // the tables no longer name them
  return slots.size();
}

std::string BackendPool::name_of(std::uint32_t index) const {
  for (const auto& [name, b] : backends_)
    if (b.index == index) return name;
  return {};
}

}  // namespace ng911::dataplane
