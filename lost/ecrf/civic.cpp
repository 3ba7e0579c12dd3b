#include "ecrf/civic.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

namespace ng911::ecrf {
namespace {

struct Abbrev {
  std::string_view full, abbr;
};

// USPS Publication 28, Appendix C1 (common street suffixes) and B (directionals).
constexpr std::array kWords{
    Abbrev{"ALLEY", "ALY"},      Abbrev{"AVENUE", "AVE"},    Abbrev{"AV", "AVE"},          Abbrev{"BOULEVARD", "BLVD"},
    Abbrev{"BRIDGE", "BRG"},     Abbrev{"CIRCLE", "CIR"},    Abbrev{"COURT", "CT"},        Abbrev{"COVE", "CV"},
    Abbrev{"CROSSING", "XING"},  Abbrev{"DRIVE", "DR"},      Abbrev{"EXPRESSWAY", "EXPY"}, Abbrev{"FREEWAY", "FWY"},
    Abbrev{"HIGHWAY", "HWY"},    Abbrev{"LANE", "LN"},       Abbrev{"LOOP", "LOOP"},       Abbrev{"PARKWAY", "PKWY"},
    Abbrev{"PIKE", "PIKE"},      Abbrev{"PLACE", "PL"},      Abbrev{"PLAZA", "PLZ"},       Abbrev{"POINT", "PT"},
    Abbrev{"ROAD", "RD"},        Abbrev{"ROUTE", "RTE"},     Abbrev{"SQUARE", "SQ"},       Abbrev{"STREET", "ST"},
    Abbrev{"STR", "ST"},         Abbrev{"TERRACE", "TER"},   Abbrev{"TRAIL", "TRL"},       Abbrev{"TURNPIKE", "TPKE"},
    Abbrev{"WAY", "WAY"},        Abbrev{"NORTH", "N"},       Abbrev{"SOUTH", "S"},         Abbrev{"EAST", "E"},
    Abbrev{"WEST", "W"},         Abbrev{"NORTHEAST", "NE"},  Abbrev{"NORTHWEST", "NW"},    Abbrev{"SOUTHEAST", "SE"},
    Abbrev{"SOUTHWEST", "SW"},
};

std::string_view abbreviate(std::string_view word) {
  for (const auto& a : kWords)
    if (a.full == word) return a.abbr;
  return word;
}

bool same(const std::string& data, const std::string* civic) { return civic && normalize_civic(*civic) == data; }

std::optional<int> to_int(const std::string* s) {
  if (!s) return std::nullopt;
  int v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size()) return std::nullopt;
  return v;
}

bool in_range(std::optional<int> from, std::optional<int> to, const std::string& parity, int n) {
  if (!from || !to) return false;
  int lo = std::min(*from, *to), hi = std::max(*from, *to);
  if (n < lo || n > hi) return false;
  if (parity == "O") return n % 2 != 0;
  if (parity == "E") return n % 2 == 0;
  return parity != "Z";
}

LonLat interpolate(const std::vector<LonLat>& line, double fraction) {
  if (line.size() == 1) return line.front();
  double total = 0;
  for (std::size_t i = 1; i < line.size(); ++i)
    total += std::hypot(line[i].lon - line[i - 1].lon, line[i].lat - line[i - 1].lat);
  double want = total * std::clamp(fraction, 0.0, 1.0);
  for (std::size_t i = 1; i < line.size(); ++i) {
    double seg = std::hypot(line[i].lon - line[i - 1].lon, line[i].lat - line[i - 1].lat);
    if (want <= seg && seg > 0) {
      double t = want / seg;
      return {line[i - 1].lon + t * (line[i].lon - line[i - 1].lon), line[i - 1].lat + t * (line[i].lat - line[i - 1].lat)};
    }
    want -= seg;
  }
  return line.back();
}

// The civic elements that name the street, in reading order.
constexpr std::array<const char*, 6> kStreetElements{"PRD", "RD", "STS", "POD", "RDSEC", "RDBR"};

}  // namespace

std::string normalize_civic(std::string_view text) {
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += ' ';
    out += abbreviate(word);
    word.clear();
  };
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) word += static_cast<char>(std::toupper(u));
    else if (c == '\'') continue;  // O'Neil = ONEIL
    else flush();
  }
  flush();
  return out;
}

void CivicIndex::add(AddressPoint p) { points_.push_back(std::move(p)); }
void CivicIndex::add(RoadSegment r) { roads_.push_back(std::move(r)); }
void CivicIndex::add(AdminArea a) { areas_.push_back(std::move(a)); }

void CivicIndex::finish() {
  for (std::size_t i = 0; i < points_.size(); ++i) points_by_street_.emplace(points_[i].street, i);
  for (std::size_t i = 0; i < roads_.size(); ++i) roads_by_street_.emplace(roads_[i].street, i);
  // Smallest areas first, so that the most precise one wins when several match.
  std::stable_sort(areas_.begin(), areas_.end(), [](const AdminArea& a, const AdminArea& b) { return a.level > b.level; });
}

CivicMatch CivicIndex::match(const CivicAddress& civic) const {
  CivicMatch m;
  std::set<std::string> valid, invalid;
  const std::string* country = civic.get("country");
  const std::string* a1 = civic.get("A1");
  const std::string* a2 = civic.get("A2");
  const std::string* community = civic.get("A3");
  const char* community_element = "A3";
  if (!community && civic.get("A4")) community = civic.get("A4"), community_element = "A4";
  if (!community && civic.get("PCN")) community = civic.get("PCN"), community_element = "PCN";

  std::string street;
  std::vector<std::string> street_parts;
  for (const char* e : kStreetElements)
    if (const std::string* v = civic.get(e)) {
      street_parts.push_back(e);
      if (!street.empty()) street += ' ';
      street += *v;
    }
  street = normalize_civic(street);
  auto hno = to_int(civic.get("HNO"));

  // Administrative levels: each valid when some published record in the levels above agrees.
  auto scope_ok = [&](const std::string& c, const std::string& s, const std::string& county) {
    return (!country || same(c, country)) && (!a1 || same(s, a1)) && (!a2 || same(county, a2));
  };
  auto community_ok = [&](const std::string& inc, const std::string& uninc, const std::string& pcomm) {
    return !community || same(inc, community) || same(uninc, community) || same(pcomm, community);
  };

  // 1. An address point: the exact place.
  const AddressPoint* best_point = nullptr;
  bool street_seen = false;
  auto [pb, pe] = points_by_street_.equal_range(street);
  for (auto it = pb; it != pe; ++it) {
    const AddressPoint& p = points_[it->second];
    if (!scope_ok(p.country, p.state, p.county) || !community_ok(p.inc_muni, p.uninc_comm, p.post_comm)) continue;
    street_seen = true;
    if (hno && p.number == hno) {
      const std::string* hns = civic.get("HNS");
      if (!hns || same(p.number_suffix, hns)) { best_point = &p; break; }
    }
  }
  // 2. A road centerline whose address range holds the number.
  const RoadSegment* best_road = nullptr;
  const RoadSegment* any_road = nullptr;
  auto [rb, re] = roads_by_street_.equal_range(street);
  for (auto it = rb; it != re && !best_point; ++it) {
    const RoadSegment& r = roads_[it->second];
    if (!scope_ok(r.country, r.state, r.county) || !community_ok(r.community_l, r.community_r, "")) continue;
    street_seen = true;
    if (!any_road) any_road = &r;
    if (hno && (in_range(r.from_l, r.to_l, r.parity_l, *hno) || in_range(r.from_r, r.to_r, r.parity_r, *hno))) {
      best_road = &r;
      break;
    }
  }

  auto mark_admin = [&](bool ok_country, bool ok_a1, bool ok_a2, bool ok_comm) {
    if (country) (ok_country ? valid : invalid).insert("country");
    if (a1) (ok_a1 ? valid : invalid).insert("A1");
    if (a2) (ok_a2 ? valid : invalid).insert("A2");
    if (community) (ok_comm ? valid : invalid).insert(community_element);
  };

  if (best_point) {
    m.point = best_point->pos;
    m.method = "address point";
    mark_admin(true, true, true, true);
    for (const auto& e : street_parts) valid.insert(e);
    valid.insert("HNO");
    if (civic.get("HNS")) valid.insert("HNS");
    if (const std::string* pc = civic.get("PC")) (same(best_point->post_code, pc) ? valid : invalid).insert("PC");
  } else if (best_road) {
    const RoadSegment& r = *best_road;
    bool left = in_range(r.from_l, r.to_l, r.parity_l, *hno);
    auto from = left ? *r.from_l : *r.from_r, to = left ? *r.to_l : *r.to_r;
    double fraction = from == to ? 0.5 : static_cast<double>(*hno - from) / (to - from);
    m.point = interpolate(r.line, fraction);
    m.method = "road centerline";
    mark_admin(true, true, true, true);
    for (const auto& e : street_parts) valid.insert(e);
    valid.insert("HNO");
    if (const std::string* pc = civic.get("PC"))
      (same(left ? r.post_code_l : r.post_code_r, pc) ? valid : invalid).insert("PC");
  } else {
    // No exact place: find out which parts are right, and route on the smallest known area.
    if (street_seen) {
      for (const auto& e : street_parts) valid.insert(e);
      if (civic.get("HNO")) invalid.insert("HNO");
      if (any_road) {
        m.point = interpolate(any_road->line, 0.5);
        m.method = "street";
      }
    } else {
      for (const auto& e : street_parts) invalid.insert(e);
    }
    bool country_ok = !country, a1_ok = !a1, a2_ok = !a2, comm_ok = !community;
    for (const auto& a : areas_) {
      if (country && same(a.country, country)) country_ok = true;
      if (country && !same(a.country, country)) continue;
      if (a1 && same(a.state, a1)) a1_ok = true;
      if (a1 && !same(a.state, a1)) continue;
      if (a2 && a.level >= 2 && same(a.county, a2)) a2_ok = true;
      if (community && a.level >= 3 && community_ok(a.inc_muni, a.uninc_comm, "")) comm_ok = true;
    }
    for (const auto& p : points_) {
      if (country_ok && a1_ok && a2_ok && comm_ok) break;
      if (country && same(p.country, country)) country_ok = true;
      if (a1 && scope_ok(p.country, p.state, "")) a1_ok = a1_ok || same(p.state, a1);
      if (a2 && scope_ok(p.country, p.state, p.county)) a2_ok = true;
      if (community && scope_ok(p.country, p.state, p.county) && community_ok(p.inc_muni, p.uninc_comm, p.post_comm) &&
          (same(p.inc_muni, community) || same(p.uninc_comm, community) || same(p.post_comm, community)))
        comm_ok = true;
    }
    if (street_seen) country_ok = a1_ok = a2_ok = comm_ok = true;
    mark_admin(country_ok, a1_ok, a2_ok, comm_ok);
    if (!m.point) {
      // The smallest published area that agrees with every level the caller gave.
      for (const auto& a : areas_) {
        if (country && !same(a.country, country)) continue;
        if (a1 && !same(a.state, a1)) continue;
        if (a.level >= 2 && a2 && !same(a.county, a2)) continue;
        if (a.level >= 2 && !a2 && !(a.level >= 3 && community)) continue;
        if (a.level >= 3 && !(community && community_ok(a.inc_muni, a.uninc_comm, ""))) continue;
        if (a.level == 1 && !a1) continue;
        m.area = &a;
        m.method = "A" + std::to_string(a.level);
        break;
      }
    }
    if (const std::string* pc = civic.get("PC")) {
      bool seen = std::any_of(points_.begin(), points_.end(), [&](const AddressPoint& p) { return same(p.post_code, pc); });
      (seen ? valid : invalid).insert("PC");
    }
  }
  for (const auto& [name, value] : civic.elements) {
    if (valid.contains(name) || invalid.contains(name)) continue;
    m.unchecked.push_back(name);
  }
  // Report in the caller's order.
  for (const auto& [name, value] : civic.elements) {
    if (valid.contains(name)) m.valid.push_back(name);
    if (invalid.contains(name)) m.invalid.push_back(name);
  }
  return m;
}

}  // namespace ng911::ecrf
