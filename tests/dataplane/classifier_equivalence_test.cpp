// The SIP classifier (kernel/dp_sip.h) against the stage-one classifier it replaced, kept as the
// oracle in stage1/: for every message, seeded mutations of real ones included, the same kind,
// method, emergency flag and Call-ID hash. The faster scan (a header line per step, no length
// check per load, state in the scratch) must not change what is classified.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "dataplane/fixtures.h"
#include "dataplane/packets.h"
#include "dataplane/twin.h"
#include "dataplane/stage1/stage1_sip.h"

using namespace ng911::dataplane;
using namespace ng911::dataplane::test;

namespace {

struct Tally {
  int cases = 0, call_ids = 0, malformed = 0, fallbacks = 0, emergency = 0;
};

// Compares the two classifiers on one payload; returns false (after reporting) on a mismatch.
bool same(const std::string& payload, Tally& tally) {
  auto* bytes = reinterpret_cast<const __u8*>(payload.data());
  auto len = static_cast<__u32>(payload.size());
  ng911_sip_scan now{};
  ng911_twin_sip_scan(bytes, len, &now);
  s1_sip_result then{};
  s1_sip_classify(bytes, len, &then);
  ++tally.cases;
  bool ok = now.kind == then.kind;
  bool sip = then.kind == 1 || then.kind == 2;  // request, response
  if (ok && sip) {
    ok = now.is_invite == then.is_invite && now.emergency == then.emergency && now.has_call_id == then.has_call_id &&
         (!then.has_call_id || now.call_id_hash == then.call_id_hash);
    tally.call_ids += then.has_call_id != 0;
    tally.fallbacks += then.has_call_id == 0;
    tally.emergency += then.emergency != 0;
  }
  tally.malformed += then.kind == 4;
  if (!ok)
    BOOST_ERROR("classifiers differ (kind " << now.kind << " vs " << then.kind << ", call-id " << now.has_call_id << " vs "
                                            << then.has_call_id << ") on " << payload.size() << " bytes: "
                                            << payload.substr(0, 300));
  return ok;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(classifier_equivalence)

BOOST_AUTO_TEST_CASE(seed_messages_every_truncation_and_call_id_length) {
  Tally t;
  for (const auto& m : sip_seed_messages())
    for (std::size_t n = 0; n <= m.size(); ++n) same(m.substr(0, n), t);
  for (std::size_t n = 0; n <= 160; ++n) same(sip_request("INVITE", "urn:service:sos", std::string(n, 'c')), t);
  BOOST_TEST(t.call_ids > 500);
  BOOST_TEST(t.malformed > 50);
  BOOST_TEST(t.fallbacks > 100);
}

BOOST_AUTO_TEST_CASE(call_id_around_the_end_of_the_window) {
  Tally t;
  for (const auto& m : call_id_near_the_window_end()) {
    same(m, t);
    same(m.substr(0, NG911_SIP_WINDOW - 3), t);
  }
  BOOST_TEST(t.call_ids > 20);
  BOOST_TEST(t.fallbacks > 20);
}

BOOST_AUTO_TEST_CASE(seeded_mutations) {
  SipMutator mutator(20261126);
  Tally t;
  int mismatches = 0;
  for (int i = 0; i < 30000 && mismatches < 5; ++i) mismatches += !same(mutator.next(), t);
  BOOST_TEST(mismatches == 0);
  BOOST_TEST(t.call_ids > 5000);
  BOOST_TEST(t.malformed > 2000);
  BOOST_TEST(t.fallbacks > 200);
  BOOST_TEST(t.emergency > 1000);
}

BOOST_AUTO_TEST_SUITE_END()
