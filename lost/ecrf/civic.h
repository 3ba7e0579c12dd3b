#pragma once
// Civic address matching for routing and for the LVF (location validation): a civic location
// (RFC 5139) is matched against the published address points, road centerline address ranges
// and A1..A5 areas, after normalising case, spacing, punctuation, street suffixes (Street → ST)
// and directionals (North → N) on both sides.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ecrf/geometry.h"
#include "ecrf/location.h"

namespace ng911::ecrf {

// Upper case, single spaces, no punctuation; each word through the suffix and directional
// tables (USPS Publication 28 abbreviations). "  north Congress avenue." → "N CONGRESS AVE".
std::string normalize_civic(std::string_view text);

struct AddressPoint {
  std::string country, state, county, inc_muni, uninc_comm, nbrhd_comm, post_code, post_comm;
  std::string street;  // normalised PreDir + Name + PosTyp + PosDir
  std::optional<int> number;
  std::string number_suffix;
  LonLat pos;
};

struct RoadSegment {
  std::string country, state, county, street;
  std::string community_l, community_r, post_code_l, post_code_r;
  std::optional<int> from_l, to_l, from_r, to_r;
  std::string parity_l, parity_r;
  std::vector<LonLat> line;  // first part of the centerline
};

struct AdminArea {
  int level = 0;  // 1..5 for A1..A5
  std::string country, state, county, inc_muni, uninc_comm, nbrhd_comm;
  MultiPolygon geom;
};

// What a civic address resolved to and how each element fared.
struct CivicMatch {
  std::optional<LonLat> point;         // an address point, or a place interpolated on a road
  const AdminArea* area = nullptr;     // otherwise the smallest area that matched
  std::string method;                  // "address point", "road centerline", "street", "A3", ...
  std::vector<std::string> valid, invalid, unchecked;  // civic element names
};

class CivicIndex {
 public:
  void add(AddressPoint p);
  void add(RoadSegment r);
  void add(AdminArea a);
  void finish();  // after the last add

  CivicMatch match(const CivicAddress& civic) const;
  bool empty() const { return points_.empty() && roads_.empty() && areas_.empty(); }
  std::size_t size() const { return points_.size() + roads_.size() + areas_.size(); }

 private:
  std::vector<AddressPoint> points_;
  std::vector<RoadSegment> roads_;
  std::vector<AdminArea> areas_;
  std::unordered_multimap<std::string, std::size_t> points_by_street_, roads_by_street_;
};

}  // namespace ng911::ecrf
