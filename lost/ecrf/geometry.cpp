#include "ecrf/geometry.h"

namespace ng911::ecrf {

MultiPolygon multipolygon_from_wkt(const std::string& wkt) {
  MultiPolygon mp;
  if (wkt.starts_with("POLYGON")) {
    Polygon p;
    bg::read_wkt(wkt, p);
    mp.push_back(std::move(p));
  } else {
    bg::read_wkt(wkt, mp);
  }
  bg::correct(mp);
  return mp;
}

Polygon to_bg(const GeoPolygon& p) {
  Polygon out;
  for (const auto& v : p.exterior) out.outer().emplace_back(v.lon, v.lat);
  for (const auto& ring : p.interiors) {
    out.inners().emplace_back();
    for (const auto& v : ring) out.inners().back().emplace_back(v.lon, v.lat);
  }
  bg::correct(out);
  return out;
}

double geodesic_area_m2(const MultiPolygon& mp) {
  using Geographic = bg::model::point<double, 2, bg::cs::geographic<bg::degree>>;
  bg::model::multi_polygon<bg::model::polygon<Geographic>> geo;
  for (const auto& poly : mp) {
    bg::model::polygon<Geographic> g;
    for (const auto& p : poly.outer()) g.outer().emplace_back(p.x(), p.y());
    for (const auto& ring : poly.inners()) {
      g.inners().emplace_back();
      for (const auto& p : ring) g.inners().back().emplace_back(p.x(), p.y());
    }
    geo.push_back(std::move(g));
  }
  return std::abs(bg::area(geo, bg::strategy::area::geographic<>()));
}

}  // namespace ng911::ecrf
