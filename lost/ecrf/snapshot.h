#pragma once
// An immutable in-memory copy of everything published: service boundaries indexed per service
// URN in R-trees, and the civic data. The LoST server answers from one snapshot at a time and
// swaps in a new one, whole, when ng911-gis publishes; PostGIS stays the source of truth.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/geometry/index/rtree.hpp>

#include "ecrf/civic.h"
#include "ecrf/geometry.h"

namespace pqxx {
class dbtransaction;
}

namespace ng911::ecrf {

struct Boundary {
  std::string layer, service_urn, es_nguid, display_name, uri, service_number, agency_id;
  std::string last_updated;            // xs:dateTime, UTC
  std::optional<std::string> expires;  // the Expire field, xs:dateTime, UTC
  MultiPolygon geom;
  Box box;
};

class Snapshot {
 public:
  // Reads the published layers in one consistent (REPEATABLE READ) transaction.
  static std::shared_ptr<const Snapshot> load(pqxx::dbtransaction& tx);
  // For tests and tools: build from boundaries directly.
  static std::shared_ptr<const Snapshot> from(std::vector<Boundary> boundaries, CivicIndex civic = {});

  // Service URNs with boundaries, sorted.
  const std::vector<std::string>& services() const { return services_; }
  bool has_service(std::string_view urn) const;

  // The boundary of `service` that covers the point. On a shared edge or vertex several do;
  // the one whose ES_NGUID sorts first wins, so the answer is the same every time.
  const Boundary* at_point(std::string_view service, LonLat p) const;
  // The boundary of `service` with the largest overlap (m² on the ellipsoid) with the area;
  // ties go to the ES_NGUID that sorts first. A point-sized area falls back to at_point.
  const Boundary* best_overlap(std::string_view service, const MultiPolygon& area) const;
  // Services with a boundary covering the point, or overlapping the area.
  std::vector<std::string> services_at(const MultiPolygon& area) const;
  const Boundary* by_key(std::string_view es_nguid) const;

  const CivicIndex& civic() const { return civic_; }
  std::size_t boundary_count() const { return boundaries_.size(); }
  // Published version per layer, as read.
  const std::map<std::string, std::int64_t>& versions() const { return versions_; }

 private:
  using Entry = std::pair<Box, std::size_t>;
  using Tree = boost::geometry::index::rtree<Entry, boost::geometry::index::rstar<16>>;
  void index();

  std::vector<Boundary> boundaries_;
  std::map<std::string, Tree, std::less<>> by_service_;
  std::map<std::string, std::size_t, std::less<>> by_key_;
  std::vector<std::string> services_;
  CivicIndex civic_;
  std::map<std::string, std::int64_t> versions_;
};

}  // namespace ng911::ecrf
