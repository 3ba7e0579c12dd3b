#include "ecrf/snapshot.h"

#include <algorithm>
#include <set>

#include <pqxx/pqxx>

namespace ng911::ecrf {
namespace {

namespace bgi = boost::geometry::index;

std::string text(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }
std::optional<int> integer(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int>();
}

std::vector<LonLat> line_from_wkt(const std::string& wkt) {
  bg::model::linestring<Point> line;
  bg::read_wkt(wkt, line);
  std::vector<LonLat> out;
  for (const auto& p : line) out.push_back({p.x(), p.y()});
  return out;
}

constexpr const char* kUtc = "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"";

}  // namespace

std::shared_ptr<const Snapshot> Snapshot::load(pqxx::dbtransaction& tx) {
  auto s = std::make_shared<Snapshot>();
  for (const auto& r : tx.exec("SELECT layer, version_id FROM gis.published_layer"))
    s->versions_[r[0].as<std::string>()] = r[1].as<std::int64_t>();
  const std::string utc = kUtc;
  for (const auto& r : tx.exec(
           "SELECT layer, serviceurn, es_nguid, dsplayname, serviceuri, servicenum, agency_id, "
           "to_char(dateupdate AT TIME ZONE 'UTC', '" + utc + "'), to_char(expire AT TIME ZONE 'UTC', '" + utc + "'), "
           "ST_AsText(geom) FROM gis.current_service_boundary "
           "WHERE (effective IS NULL OR effective <= now()) AND (expire IS NULL OR expire > now())")) {
    Boundary b{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
               r[4].as<std::string>(), text(r[5]), r[6].as<std::string>(), r[7].as<std::string>(),
               r[8].is_null() ? std::nullopt : std::optional(r[8].as<std::string>()),
               multipolygon_from_wkt(r[9].as<std::string>()), {}};
    s->boundaries_.push_back(std::move(b));
  }
  for (const auto& r : tx.exec(
           "SELECT country, state, county, inc_muni, uninc_comm, nbrhd_comm, post_code, post_comm, "
           "concat_ws(' ', st_predir, st_pretyp, st_name, st_postyp, st_posdir), add_number, addnum_suf, "
           "ST_X(geom), ST_Y(geom) FROM gis.current_address_point")) {
    AddressPoint p{text(r[0]), text(r[1]), text(r[2]), text(r[3]), text(r[4]), text(r[5]), text(r[6]), text(r[7]),
                   text(r[8]), integer(r[9]), text(r[10]), LonLat{r[11].as<double>(), r[12].as<double>()}};
    for (auto* f : {&p.country, &p.state, &p.county, &p.inc_muni, &p.uninc_comm, &p.nbrhd_comm, &p.post_code, &p.post_comm,
                    &p.street, &p.number_suffix})
      *f = normalize_civic(*f);
    s->civic_.add(std::move(p));
  }
  for (const auto& r : tx.exec(
           "SELECT country_l, state_l, county_l, concat_ws(' ', st_predir, st_pretyp, st_name, st_postyp, st_posdir), "
           "incmuni_l, incmuni_r, postcode_l, postcode_r, fromaddr_l, toaddr_l, fromaddr_r, toaddr_r, "
           "coalesce(parity_l, 'B'), coalesce(parity_r, 'B'), ST_AsText(ST_GeometryN(geom, 1)) "
           "FROM gis.current_road_centerline")) {
    RoadSegment road{text(r[0]), text(r[1]), text(r[2]), text(r[3]), text(r[4]), text(r[5]), text(r[6]), text(r[7]),
                     integer(r[8]), integer(r[9]), integer(r[10]), integer(r[11]), text(r[12]), text(r[13]),
                     line_from_wkt(r[14].as<std::string>())};
    for (auto* f : {&road.country, &road.state, &road.county, &road.street, &road.community_l, &road.community_r,
                    &road.post_code_l, &road.post_code_r})
      *f = normalize_civic(*f);
    s->civic_.add(std::move(road));
  }
  for (const auto& r : tx.exec(
           "SELECT layer, country, state, county, inc_muni, uninc_comm, nbrhd_comm, ST_AsText(geom) "
           "FROM gis.current_admin_area")) {
    static const std::map<std::string, int> levels{{"StateOrEquivalent", 1}, {"CountyOrEquivalent", 2},
                                                   {"IncorporatedMunicipality", 3}, {"UnincorporatedCommunity", 4},
                                                   {"NeighborhoodCommunity", 5}};
    AdminArea a{levels.at(r[0].as<std::string>()), normalize_civic(text(r[1])), normalize_civic(text(r[2])),
                normalize_civic(text(r[3])), normalize_civic(text(r[4])), normalize_civic(text(r[5])),
                normalize_civic(text(r[6])), multipolygon_from_wkt(r[7].as<std::string>())};
    s->civic_.add(std::move(a));
  }
  s->civic_.finish();
  s->index();
  return s;
}

std::shared_ptr<const Snapshot> Snapshot::from(std::vector<Boundary> boundaries, CivicIndex civic) {
  auto s = std::make_shared<Snapshot>();
  s->boundaries_ = std::move(boundaries);
  s->civic_ = std::move(civic);
  s->civic_.finish();
  s->index();
  return s;
}

void Snapshot::index() {
  // Sorted by ES_NGUID, so that "first candidate" is the deterministic tie-break.
  std::sort(boundaries_.begin(), boundaries_.end(),
            [](const Boundary& a, const Boundary& b) { return a.es_nguid < b.es_nguid; });
  std::map<std::string, std::vector<Entry>> entries;
  for (std::size_t i = 0; i < boundaries_.size(); ++i) {
    Boundary& b = boundaries_[i];
    b.box = bg::return_envelope<Box>(b.geom);
    entries[b.service_urn].emplace_back(b.box, i);
    by_key_.emplace(b.es_nguid, i);
  }
  for (auto& [service, list] : entries) {
    services_.push_back(service);
    by_service_.emplace(service, Tree(list.begin(), list.end()));  // bulk load (packing)
  }
}

bool Snapshot::has_service(std::string_view urn) const { return by_service_.find(urn) != by_service_.end(); }

const Boundary* Snapshot::at_point(std::string_view service, LonLat p) const {
  auto it = by_service_.find(service);
  if (it == by_service_.end()) return nullptr;
  Point pt(p.lon, p.lat);
  std::size_t best = SIZE_MAX;
  for (auto q = it->second.qbegin(bgi::intersects(pt)); q != it->second.qend(); ++q)
    if (q->second < best && bg::covered_by(pt, boundaries_[q->second].geom)) best = q->second;
  return best == SIZE_MAX ? nullptr : &boundaries_[best];
}

const Boundary* Snapshot::best_overlap(std::string_view service, const MultiPolygon& area) const {
  auto it = by_service_.find(service);
  if (it == by_service_.end()) return nullptr;
  auto box = bg::return_envelope<Box>(area);
  const Boundary* best = nullptr;
  double best_area = 0;
  for (auto q = it->second.qbegin(bgi::intersects(box)); q != it->second.qend(); ++q) {
    const Boundary& b = boundaries_[q->second];
    MultiPolygon common;
    bg::intersection(b.geom, area, common);
    if (common.empty()) continue;
    double a = geodesic_area_m2(common);
    if (a > best_area || (a == best_area && best && b.es_nguid < best->es_nguid)) {
      best = &b;
      best_area = a;
    }
  }
  return best;
}

std::vector<std::string> Snapshot::services_at(const MultiPolygon& area) const {
  std::vector<std::string> out;
  auto box = bg::return_envelope<Box>(area);
  for (const auto& [service, tree] : by_service_)
    for (auto q = tree.qbegin(bgi::intersects(box)); q != tree.qend(); ++q)
      if (bg::intersects(boundaries_[q->second].geom, area)) {
        out.push_back(service);
        break;
      }
  return out;
}

const Boundary* Snapshot::by_key(std::string_view es_nguid) const {
  auto it = by_key_.find(std::string(es_nguid));
  return it == by_key_.end() ? nullptr : &boundaries_[it->second];
}

}  // namespace ng911::ecrf
