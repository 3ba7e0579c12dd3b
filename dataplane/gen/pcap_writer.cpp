// The pcap half of sender.h, apart from the live sender: libpcap's <pcap/bpf.h> and the kernel's
// <linux/bpf.h> both define struct bpf_insn.
#include <pcap/pcap.h>

#include <memory>
#include <stdexcept>

#include "dataplane/gen/sender.h"

namespace ng911::dataplane::gen {
namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};

}  // namespace

Counts write_pcap(const PcapOptions& options) {
  if (options.mix.total() == 0) throw std::invalid_argument("an empty mix");
  std::unique_ptr<pcap_t, PcapCloser> pcap(pcap_open_dead(DLT_EN10MB, 65535));
  if (!pcap) throw std::runtime_error("pcap_open_dead failed");
  std::unique_ptr<pcap_dumper_t, PcapCloser> dump(pcap_dump_open(pcap.get(), options.path.c_str()));
  if (!dump) throw std::runtime_error("cannot write " + options.path + ": " + pcap_geterr(pcap.get()));
  auto target = apportion(options.mix, options.count);
  Counts written{};
  double spacing_us = options.rate > 0 ? 1e6 / options.rate : 1;
  for (std::uint64_t i = 0; i < options.count; ++i) {
    // Stride scheduling: next is the kind furthest behind its share, so kinds interleave evenly.
    std::size_t pick = kind_count;
    double lowest = 0;
    for (std::size_t k = 0; k < kind_count; ++k) {
      if (written[k] >= target[k]) continue;
      double progress = (static_cast<double>(written[k]) + 0.5) / static_cast<double>(target[k]);
      if (pick == kind_count || progress < lowest) pick = k, lowest = progress;
    }
    auto frame = frame_for(all_kinds[pick], options.endpoints, options.run_id << 40 | i);
    ++written[pick];
    auto us = static_cast<std::uint64_t>(static_cast<double>(i) * spacing_us);
    pcap_pkthdr header{};
    header.ts.tv_sec = static_cast<time_t>(us / 1'000'000);
    header.ts.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
    header.caplen = header.len = static_cast<bpf_u_int32>(frame.size());
    pcap_dump(reinterpret_cast<u_char*>(dump.get()), &header, frame.data());
  }
  if (pcap_dump_flush(dump.get()) != 0) throw std::runtime_error("writing " + options.path + " failed");
  return written;
}

}  // namespace ng911::dataplane::gen
