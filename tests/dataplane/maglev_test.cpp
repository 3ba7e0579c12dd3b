// Maglev tables: population, spread with weights, and how many calls move when a backend leaves.
#include <boost/test/unit_test.hpp>
#include <map>
#include <set>

#include "dataplane/maglev.h"
#include "dataplane/packets.h"
#include "dataplane/twin.h"

using namespace ng911::dataplane;

namespace {

std::vector<MaglevBackend> backends(int n, std::uint32_t weight = 1) {
  std::vector<MaglevBackend> out;
  for (int i = 0; i < n; ++i)
    out.push_back({"10.0.0." + std::to_string(i + 1) + ":5060", static_cast<std::uint32_t>(i), weight});
  return out;
}

std::map<std::uint32_t, double> shares(const std::vector<std::uint32_t>& table) {
  std::map<std::uint32_t, double> count;
  for (auto b : table) count[b] += 1.0 / static_cast<double>(table.size());
  return count;
}

// The backend a Call-ID goes to, hashed by the classifier the XDP program runs.
std::uint32_t backend_of(const std::vector<std::uint32_t>& table, const std::string& call_id) {
  std::string m = sip_request("INVITE", "urn:service:sos", call_id);
  int found = 0;
  auto h = ng911_twin_call_id_hash(reinterpret_cast<const __u8*>(m.data()), static_cast<__u32>(m.size()), &found);
  BOOST_REQUIRE(found);
  return table[h % table.size()];
}

}  // namespace

BOOST_AUTO_TEST_SUITE(maglev)

BOOST_AUTO_TEST_CASE(every_slot_filled_by_a_known_backend) {
  auto table = maglev_table(backends(7), NG911_MAGLEV_SIZE);
  BOOST_TEST(table.size() == NG911_MAGLEV_SIZE);
  std::set<std::uint32_t> seen(table.begin(), table.end());
  BOOST_TEST(seen.size() == 7u);
  BOOST_TEST(*seen.rbegin() == 6u);
}

BOOST_AUTO_TEST_CASE(no_backends_or_zero_weights_leave_the_table_empty) {
  auto empty = maglev_table({}, NG911_MAGLEV_SIZE);
  BOOST_TEST(std::count(empty.begin(), empty.end(), NG911_NO_BACKEND) == NG911_MAGLEV_SIZE);
  auto drained = maglev_table(backends(3, 0), NG911_MAGLEV_SIZE);
  BOOST_TEST(std::count(drained.begin(), drained.end(), NG911_NO_BACKEND) == NG911_MAGLEV_SIZE);
}

BOOST_AUTO_TEST_CASE(equal_weights_spread_evenly) {
  for (int n : {2, 5, 16}) {
    auto s = shares(maglev_table(backends(n), NG911_MAGLEV_SIZE));
    BOOST_TEST(s.size() == static_cast<std::size_t>(n));
    for (auto [b, share] : s) BOOST_TEST(std::abs(share - 1.0 / n) < 0.01, n << " backends: " << b << " has " << share);
  }
}

BOOST_AUTO_TEST_CASE(weights_spread_in_proportion) {
  auto list = backends(3);
  list[0].weight = 1;
  list[1].weight = 2;
  list[2].weight = 3;
  auto s = shares(maglev_table(list, NG911_MAGLEV_SIZE));
  BOOST_TEST(std::abs(s[0] - 1.0 / 6) < 0.01);
  BOOST_TEST(std::abs(s[1] - 2.0 / 6) < 0.01);
  BOOST_TEST(std::abs(s[2] - 3.0 / 6) < 0.01);
  list[1].weight = 0;  // drained: takes no new calls
  auto d = shares(maglev_table(list, NG911_MAGLEV_SIZE));
  BOOST_TEST(d.count(1) == 0u);
}

BOOST_AUTO_TEST_CASE(the_same_backends_give_the_same_table) {
  auto a = maglev_table(backends(5), NG911_MAGLEV_SIZE);
  auto reversed = backends(5);
  std::reverse(reversed.begin(), reversed.end());
  BOOST_TEST(maglev_table(reversed, NG911_MAGLEV_SIZE) == a, "order of listing does not matter");
  BOOST_TEST(changed_slots(a, a).empty());
  BOOST_TEST(changed_slots({}, a).size() == a.size());
}

BOOST_AUTO_TEST_CASE(one_of_n_leaving_moves_about_one_nth_of_calls) {
  for (int n : {3, 5, 10}) {
    auto all = backends(n);
    auto before = maglev_table(all, NG911_MAGLEV_SIZE);
    auto leaving = all;
    leaving.erase(leaving.begin() + 1);  // backend 1 dies
    auto after = maglev_table(leaving, NG911_MAGLEV_SIZE);
    const int calls = 20'000;
    int moved = 0, moved_elsewhere = 0;
    for (int i = 0; i < calls; ++i) {
      std::string cid = "call-" + std::to_string(i) + "@ua" + std::to_string(i % 97) + ".example.com";
      auto b = backend_of(before, cid), a = backend_of(after, cid);
      BOOST_REQUIRE(a != 1u);
      if (a != b) {
        ++moved;
        if (b != 1u) ++moved_elsewhere;
      }
    }
    double fraction = static_cast<double>(moved) / calls;
    BOOST_TEST_MESSAGE(n << " backends, one leaves: " << fraction << " of calls move (1/N = " << 1.0 / n
                          << "), of which from surviving backends " << static_cast<double>(moved_elsewhere) / calls);
    BOOST_TEST(fraction > 0.8 / n);
    BOOST_TEST(fraction < 1.3 / n);
    BOOST_TEST(static_cast<double>(moved_elsewhere) / calls < 0.3 / n, "calls on surviving backends mostly stay");
    auto slots = changed_slots(before, after);
    BOOST_TEST(static_cast<double>(slots.size()) / NG911_MAGLEV_SIZE < 1.3 / n);
  }
}

BOOST_AUTO_TEST_SUITE_END()
