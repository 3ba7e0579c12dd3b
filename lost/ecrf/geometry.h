#pragma once
// Boost.Geometry types of the in-memory boundary data: x is longitude, y latitude (EPSG:4326,
// planar in degrees like PostGIS geometry); areas are computed on the WGS 84 ellipsoid.
#include <string>

#include <boost/geometry.hpp>
#include <boost/geometry/geometries/point_xy.hpp>

#include "ecrf/location.h"

namespace ng911::ecrf {

namespace bg = boost::geometry;
using Point = bg::model::d2::point_xy<double>;
using Polygon = bg::model::polygon<Point>;
using MultiPolygon = bg::model::multi_polygon<Polygon>;
using Box = bg::model::box<Point>;

// From PostGIS's WKT (Polygon or MultiPolygon); orientation and closure corrected.
MultiPolygon multipolygon_from_wkt(const std::string& wkt);
Polygon to_bg(const GeoPolygon& p);
// Area in m² on the WGS 84 ellipsoid.
double geodesic_area_m2(const MultiPolygon& mp);

}  // namespace ng911::ecrf
