// The SIP classifier (kernel/dp_sip.h) against the stage-one classifier it replaced, kept as the
// oracle in stage1/: for every message, seeded mutations of real ones included, the same kind,
// method, emergency flag and Call-ID hash. The faster scan (a header line per step, no length
// check per load, state in the scratch) must not change what is classified.
#include <boost/test/unit_test.hpp>
#include <random>
#include <string>
#include <vector>

#include "dataplane/packets.h"
#include "dataplane/twin.h"
#include "dataplane/stage1/stage1_sip.h"

using namespace ng911::dataplane;

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

std::vector<std::string> seeds() {
  const std::string cid = "a84b4c76e66710@pc33.atlanta.example.com";
  std::vector<std::string> s = {
      sip_request("INVITE", "urn:service:sos", cid),
      sip_request("INVITE", "sip:urn:service:sos.police@esrp.example.net;user=phone", cid),
      sip_request("MESSAGE", "urn:service:sos", cid, "help", "text/plain"),
      sip_request("REGISTER", "sip:registrar.example.com", cid),
      sip_request("OPTIONS", "sip:esrp.example.net", "x"),
      sip_request("BYE", "sip:caller@192.0.2.1", std::string(200, 'k')),
      sip_response(200, "OK", cid, "INVITE"),
      sip_response(486, "Busy Here", cid, "INVITE"),
      emergency_invite_with_pidf(cid),
      "\r\n\r\n",
  };
  std::string compact = sip_request("ACK", "sip:esrp@192.0.2.100", cid);
  compact.replace(compact.find("Call-ID: "), 9, "i:\t ");
  s.push_back(compact);
  std::string spaced = sip_request("INVITE", "URN:SERVICE:SOS", cid);
  spaced.replace(spaced.find("Call-ID: "), 9, "cALL-iD \t: :");
  s.push_back(spaced);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(classifier_equivalence)

BOOST_AUTO_TEST_CASE(seed_messages_every_truncation_and_call_id_length) {
  Tally t;
  for (const auto& m : seeds())
    for (std::size_t n = 0; n <= m.size(); ++n) same(m.substr(0, n), t);
  for (std::size_t n = 0; n <= 160; ++n) same(sip_request("INVITE", "urn:service:sos", std::string(n, 'c')), t);
  BOOST_TEST(t.call_ids > 500);
  BOOST_TEST(t.malformed > 50);
  BOOST_TEST(t.fallbacks > 100);
}

BOOST_AUTO_TEST_CASE(call_id_around_the_end_of_the_window) {
  Tally t;
  // Padding moves the Call-ID across the window's end (1472 bytes) a byte at a time.
  std::string base = sip_request("INVITE", "urn:service:sos", "edge-of-window@example.com");
  auto at = base.find("Call-ID");
  for (std::size_t target = NG911_SIP_WINDOW - 80; target <= NG911_SIP_WINDOW + 8; ++target) {
    std::string m = base;
    std::size_t pad = target - at - 9;  // "X-Pad: " ... "\r\n"
    m.insert(at, "X-Pad: " + std::string(pad, 'p') + "\r\n");
    same(m, t);
    same(m.substr(0, NG911_SIP_WINDOW - 3), t);
  }
  BOOST_TEST(t.call_ids > 20);
  BOOST_TEST(t.fallbacks > 20);
}

BOOST_AUTO_TEST_CASE(seeded_mutations) {
  std::mt19937 rng(20261126);
  auto seed_list = seeds();
  const std::vector<std::string> inserts = {"Call-ID", "call-id:", "i:", "I ", "\r\n", "\r\n\r\n", " : ", ":",
                                            "\t", "urn:service:sos", "SIP/2.0", "sip:", "@", std::string(1, '\0'), "\n"};
  const std::string bytes = ":: \t\r\n\0iIcC-.@xS9";
  Tally t;
  int mismatches = 0;
  for (int i = 0; i < 30000 && mismatches < 5; ++i) {
    std::string m = seed_list[rng() % seed_list.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      std::size_t pos = rng() % (m.size() + 1);
      switch (rng() % 5) {
        case 0: if (pos < m.size()) m[pos] = bytes[rng() % bytes.size()]; break;
        case 1: m.insert(pos, inserts[rng() % inserts.size()]); break;
        case 2: m.erase(pos, rng() % 16); break;
        case 3: m.resize(pos); break;
        default: m.insert(pos, std::string(rng() % 1500, static_cast<char>('a' + rng() % 26))); break;
      }
    }
    mismatches += !same(m, t);
  }
  BOOST_TEST(mismatches == 0);
  BOOST_TEST(t.call_ids > 5000);
  BOOST_TEST(t.malformed > 2000);
  BOOST_TEST(t.fallbacks > 200);
  BOOST_TEST(t.emergency > 1000);
}

BOOST_AUTO_TEST_SUITE_END()
