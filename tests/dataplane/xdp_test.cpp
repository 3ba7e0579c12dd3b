// The packet fixtures through the XDP program in the kernel (BPF_PROG_TEST_RUN), against the
// user-space twin: the same verdict, the same output bytes, the same class counted. Root.
#define BOOST_TEST_MODULE ng911 dataplane XDP tests
#include <linux/bpf.h>
#include <net/if.h>

#include <boost/test/unit_test.hpp>
#include <memory>
#include <numeric>

#include "dataplane/fixtures.h"
#include "dataplane/xdp.h"

using namespace ng911::dataplane;
using namespace ng911::dataplane::test;

namespace {

std::uint32_t xdp_verdict(std::uint32_t action) {
  switch (action) {
    case kDrop: return XDP_DROP;
    case kTx: return XDP_TX;
    case kRedirect: return XDP_REDIRECT;
    default: return XDP_PASS;
  }
}

// The kernel program and the twin, configured alike.
struct Lab {
  XdpProgram program;
  std::unique_ptr<ng911_twin> twin = std::make_unique<ng911_twin>();

  explicit Lab(ng911_backend backend = lab_backend(), bool with_backend = true, std::uint64_t burst = 1000) {
    ng911_twin_init(twin.get());
    auto config = lab_config(burst);
    twin->config = config;
    twin->now_ns = 1'000'000'000ull;
    program.maps().set_config(config);
    if (with_backend) {
      twin->backends[0] = backend;
      program.maps().set_backend(0, backend);
      std::vector<std::uint32_t> table(NG911_MAGLEV_SIZE, 0), slots(NG911_MAGLEV_SIZE);
      std::iota(slots.begin(), slots.end(), 0u);
      program.maps().write_slots(table, slots);
      for (auto& s : twin->table) s = 0;
    }
  }

  // Runs the frame through both; checks they agree; returns the twin's result.
  ng911_twin_result both(const std::vector<std::uint8_t>& frame, std::uint32_t ingress = 1) {
    auto before = program.maps().read_stats();
    auto kernel = test_run(program.program_fd(), frame);
    auto after = program.maps().read_stats();
    auto copy = frame;
    auto twin_result = ng911_twin_run(twin.get(), copy.data(), static_cast<__u32>(copy.size()), ingress);
    BOOST_TEST(kernel.verdict == xdp_verdict(twin_result.action));
    BOOST_TEST(kernel.out == copy, "the kernel's output frame is the twin's");
    BOOST_TEST(after.packets[twin_result.klass] == before.packets[twin_result.klass] + 1, "the kernel counted the class");
    return twin_result;
  }
};

// What the control plane writes, into the kernel's maps and the twin alike.
class BothTables : public DataplaneTables {
 public:
  BothTables(DataplaneMaps& kernel, ng911_twin& twin) : kernel_(kernel), twin_(twin) {}
  void set_config(const ng911_config& c) override { kernel_.set_config(c), twin_.set_config(c); }
  void set_backend(std::uint32_t i, const ng911_backend& b) override { kernel_.set_backend(i, b), twin_.set_backend(i, b); }
  void write_slots(std::span<const std::uint32_t> t, std::span<const std::uint32_t> s) override {
    kernel_.write_slots(t, s), twin_.write_slots(t, s);
  }
  void write_prior_slots(std::span<const std::uint32_t> t, std::span<const std::uint32_t> s) override {
    kernel_.write_prior_slots(t, s), twin_.write_prior_slots(t, s);
  }
  void add_port(int ifindex) override { kernel_.add_port(ifindex); }
  ng911_stats read_stats() const override { return kernel_.read_stats(); }

 private:
  DataplaneMaps& kernel_;
  TwinTables twin_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(dataplane_xdp)

// The drain (prior table, pins, To tags) in the kernel: the same choices as the twin for every
// message, and what the drain must do (twin_test.cpp has the same scenario on the twin alone).
BOOST_AUTO_TEST_CASE(drain_in_the_kernel_as_in_the_twin) {
  Lab lab(lab_backend(), false);
  BothTables tables(lab.program.maps(), *lab.twin);
  auto r = drain_scenario(tables, [&](std::vector<std::uint8_t>& frame) { return lab.both(frame); });
  BOOST_TEST(r.unrouted == 0);
  BOOST_TEST(r.old_on_drained > 120);
  BOOST_TEST(r.old_moved == 0);
  BOOST_TEST(r.old_reached_drained == 3 * r.old_on_drained);
  BOOST_TEST(r.new_on_drained == 0);
  BOOST_TEST(r.new_split == 0);
  BOOST_TEST(r.after_new_moved == 0);
  BOOST_TEST(r.after_reached_drained == 0);
  BOOST_TEST(r.kept >= 3u * static_cast<unsigned>(r.old_on_drained), "the kernel counted calls kept");
  BOOST_TEST(r.pinned > 0u, "the kernel counted calls pinned");
}

BOOST_AUTO_TEST_CASE(fixtures_agree_with_the_twin) {
  Lab lab;
  for (const auto& f : fixtures()) {
    BOOST_TEST_CONTEXT(f.name) {
      auto r = lab.both(f.frame);
      BOOST_TEST(r.klass == f.expected.klass);
      BOOST_TEST(r.action == f.expected.action);
    }
  }
  auto stats = lab.program.maps().read_stats();
  BOOST_TEST(stats.packets[NG911_OUTCOME(NG911_OUT_DROP_MALFORMED)] > 5u);
  BOOST_TEST(stats.packets[NG911_OUTCOME(NG911_OUT_TX)] > 20u);
}

BOOST_AUTO_TEST_CASE(forwarded_frames_are_rewritten_with_valid_checksums) {
  Lab lab;
  for (const auto& f : fixtures()) {
    if (f.expected.action != kTx) continue;
    BOOST_TEST_CONTEXT(f.name) {
      auto out = test_run(lab.program.program_fd(), f.frame).out;
      auto a = frame_addresses(out);
      BOOST_REQUIRE(a);
      BOOST_TEST(a->dst_ip == f.expected.dst_ip);
      BOOST_TEST(format_mac(a->dst_mac) == format_mac(kBackendMac));
      if (f.expected.dst_port) BOOST_TEST(a->dst_port == f.expected.dst_port);
      BOOST_TEST(check_frame(out) == "");
    }
  }
}

// The kernel reads the SIP window in place and copies it to the scratch only when the scan
// comes near its end; the twin always copies. Both must classify and forward alike on every
// message (mutations, Call-IDs across the window's end, IPv6), also when the frame carries bytes
// after the datagram that look like SIP (Ethernet padding is not always zeros).
BOOST_AUTO_TEST_CASE(mutated_messages_agree_with_the_twin) {
  Lab lab(lab_backend(), true, 1'000'000);  // a bucket no run empties: the guard never decides
  std::vector<std::string> payloads = sip_seed_messages();
  for (auto& m : call_id_near_the_window_end()) payloads.push_back(std::move(m));
  SipMutator mutator(6);
  for (int i = 0; i < 6000; ++i) payloads.push_back(mutator.next());
  const std::string trailer = "\r\nCall-ID: not-in-the-datagram\r\n\r\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
  int mismatches = 0, in_window_end = 0, forwarded = 0;
  for (std::size_t i = 0; i < payloads.size() && mismatches < 5; ++i) {
    FrameSpec spec;
    if (i % 5 == 4) {
      spec.src_ip = "2001:db8::1";
      spec.dst_ip = kVip6;
    }
    // Test-run hands a non-frags program only the first ~3.5 KB of a larger frame (the rest
    // in fragments), where the twin would see it whole; real frames are at most an MTU.
    spec.payload = payloads[i].substr(0, 3000);
    auto frame = build_frame(spec);
    if (i % 3 == 1) frame.insert(frame.end(), trailer.begin(), trailer.end());
    auto kernel = test_run(lab.program.program_fd(), frame);
    auto copy = frame;
    auto twin = ng911_twin_run(lab.twin.get(), copy.data(), static_cast<__u32>(copy.size()), 1);
    forwarded += twin.action == kTx;
    in_window_end += payloads[i].size() >= NG911_SIP_WINDOW;
    if (kernel.verdict != xdp_verdict(twin.action) || kernel.out != copy) {
      ++mismatches;
      BOOST_ERROR("kernel and twin differ (verdict " << kernel.verdict << " vs action " << twin.action << ", class "
                                                      << twin.klass << ") on " << payloads[i].size()
                                                      << " bytes: " << payloads[i].substr(0, 200));
    }
  }
  BOOST_TEST(mismatches == 0);
  BOOST_TEST(forwarded > 2000);
  BOOST_TEST(in_window_end > 80);
}

BOOST_AUTO_TEST_CASE(no_backends_passes_untouched) {
  Lab lab(lab_backend(), false);
  auto frame = request_from("192.0.2.1", "INVITE", "urn:service:sos", "nb@x");
  auto r = lab.both(frame);
  BOOST_TEST(r.action == kPass);
  BOOST_TEST(lab.program.maps().read_stats().packets[NG911_OUTCOME(NG911_OUT_PASS_NO_BACKEND)] == 1u);
}

BOOST_AUTO_TEST_CASE(another_interface_redirects_through_the_devmap) {
  // Any interface other than the test run's ingress (loopback) will do as the egress port.
  struct if_nameindex* names = if_nameindex();
  std::uint32_t egress = 0;
  for (auto* n = names; n && n->if_index; ++n)
    if (n->if_index != 1) {
      egress = n->if_index;
      break;
    }
  if_freenameindex(names);
  if (!egress) {
    BOOST_TEST_MESSAGE("no interface besides loopback: redirect checked by the twin and the e2e test only");
    return;
  }
  Lab lab(lab_backend(egress));
  lab.program.maps().add_port(static_cast<int>(egress));
  auto r = lab.both(request_from("192.0.2.1", "INVITE", "urn:service:sos", "rd@x"));
  BOOST_TEST(r.action == kRedirect);
}

BOOST_AUTO_TEST_CASE(flood_guard_drops_after_the_bucket_empties) {
  Lab lab(lab_backend(), true, 3);
  for (int i = 0; i < 3; ++i) BOOST_TEST(lab.both(request_from("192.0.2.10", "REGISTER", "sip:x", "f")).action == kTx);
  BOOST_TEST(lab.both(request_from("192.0.2.10", "REGISTER", "sip:x", "f")).action == kDrop);
  BOOST_TEST(lab.both(request_from("192.0.2.10", "INVITE", "urn:service:sos", "e")).action == kTx,
             "the flooding source's emergency call still goes through");
  for (int i = 0; i < 3; ++i) BOOST_TEST(lab.both(request_from("192.0.2.20", "INVITE", "sip:bob@x", "i")).action == kTx);
  BOOST_TEST(lab.both(request_from("192.0.2.20", "INVITE", "sip:bob@x", "i")).action == kDrop);
  auto stats = lab.program.maps().read_stats();
  BOOST_TEST(stats.packets[NG911_OUTCOME(NG911_OUT_DROP_REQUEST_FLOOD)] == 1u);
  BOOST_TEST(stats.packets[NG911_OUTCOME(NG911_OUT_DROP_INVITE_FLOOD)] == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
