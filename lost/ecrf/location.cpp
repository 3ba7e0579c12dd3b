#include "ecrf/location.h"
#include "ecrf/xml_names.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <numbers>
#include <sstream>

#include <boost/geometry/formulas/vincenty_direct.hpp>
#include <boost/geometry/srs/spheroid.hpp>

namespace ng911::ecrf {
namespace {

constexpr std::string_view kUomMetre = "urn:ogc:def:uom:EPSG::9001";
constexpr std::string_view kUomDegree = "urn:ogc:def:uom:EPSG::9102";

bool is(const pugi::xml_node& node, const char* ns, std::string_view local) {
  return node.type() == pugi::node_element && local_name(node) == local && namespace_uri(node) == ns;
}

pugi::xml_node child(const pugi::xml_node& parent, const char* ns, std::string_view local) {
  for (auto c : parent.children())
    if (is(c, ns, local)) return c;
  return {};
}

std::vector<pugi::xml_node> element_children(const pugi::xml_node& parent) {
  std::vector<pugi::xml_node> out;
  for (auto c : parent.children())
    if (c.type() == pugi::node_element) out.push_back(c);
  return out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<double> numbers(std::string_view text, const char* what) {
  std::vector<double> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::strchr(" \t\r\n", text[i])) ++i;
    if (i == text.size()) break;
    std::size_t j = i;
    while (j < text.size() && !std::strchr(" \t\r\n", text[j])) ++j;
    double v = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + j, v);
    if (ec != std::errc() || p != text.data() + j || !std::isfinite(v))
      throw LocationInvalid(std::string(what) + ": '" + std::string(text.substr(i, j - i)) + "' is not a number");
    out.push_back(v);
    i = j;
  }
  return out;
}

int dimension_of(const pugi::xml_node& shape) {
  std::string srs = shape.attribute("srsName").value();
  if (srs.empty()) {
    // RFC 5491 requires srsName on the shape; a pos inherits nothing else.
    throw LocationInvalid(std::string(shape.name()) + " has no srsName (use urn:ogc:def:crs:EPSG::4326)");
  }
  if (srs == "urn:ogc:def:crs:EPSG::4326" || srs == "http://www.opengis.net/def/crs/EPSG/0/4326") return 2;
  if (srs == "urn:ogc:def:crs:EPSG::4979" || srs == "http://www.opengis.net/def/crs/EPSG/0/4979") return 3;
  throw LocationInvalid("unsupported CRS '" + srs + "': geodetic-2d uses urn:ogc:def:crs:EPSG::4326 (or 4979)");
}

LonLat checked(double lat, double lon, const char* what) {
  if (lat < -90 || lat > 90)
    throw LocationInvalid(std::string(what) + ": latitude " + std::to_string(lat) +
                          " is outside -90..90 (coordinates are latitude first)");
  if (lon < -180 || lon > 180)
    throw LocationInvalid(std::string(what) + ": longitude " + std::to_string(lon) + " is outside -180..180");
  return {lon, lat};
}

LonLat parse_pos(const pugi::xml_node& parent, int dim, const char* what) {
  auto pos = child(parent, kGmlNs, "pos");
  if (!pos) throw LocationInvalid(std::string(what) + " has no gml:pos");
  auto v = numbers(pos.child_value(), what);
  if (v.size() != static_cast<std::size_t>(dim))
    throw LocationInvalid(std::string(what) + ": gml:pos needs " + std::to_string(dim) + " numbers (latitude longitude" +
                          (dim == 3 ? " altitude" : "") + "), got " + std::to_string(v.size()));
  return checked(v[0], v[1], what);
}

double measure(const pugi::xml_node& parent, std::string_view name, std::string_view uom, const char* what) {
  auto node = child(parent, kGeoShapeNs, name);
  if (!node) throw LocationInvalid(std::string(what) + " has no " + std::string(name));
  std::string given = node.attribute("uom").value();
  if (given != uom)
    throw LocationInvalid(std::string(what) + ": " + std::string(name) + " must have uom=\"" + std::string(uom) + "\"");
  auto v = numbers(node.child_value(), what);
  if (v.size() != 1) throw LocationInvalid(std::string(what) + ": " + std::string(name) + " must be one number");
  return v[0];
}

// A radius or axis in metres. Half the equator (about 20,038 km) reaches every point of the
// Earth from any other: a larger shape is no location, and its numbers overflow the geometry
// library's integer rescaling (a 3.6e45 m ArcBand made Boost.Geometry throw
// positive_overflow, found by lost_request_fuzz).
constexpr double kMaxDistanceM = 20'037'509;
double distance(const pugi::xml_node& node, const char* name, const char* what) {
  double d = measure(node, name, kUomMetre, what);
  if (d > kMaxDistanceM)
    throw LocationInvalid(std::string(what) + ": " + name + " is longer than half the Earth's circumference");
  return d;
}

Ring parse_ring(const pugi::xml_node& ring_parent, int dim, const char* what) {
  auto ring = child(ring_parent, kGmlNs, "LinearRing");
  if (!ring) throw LocationInvalid(std::string(what) + ": expected a gml:LinearRing");
  std::vector<double> v;
  if (auto list = child(ring, kGmlNs, "posList")) {
    v = numbers(list.child_value(), what);
  } else {
    for (auto c : ring.children())
      if (is(c, kGmlNs, "pos")) {
        auto p = numbers(c.child_value(), what);
        if (p.size() != static_cast<std::size_t>(dim))
          throw LocationInvalid(std::string(what) + ": each gml:pos needs " + std::to_string(dim) + " numbers");
        v.insert(v.end(), p.begin(), p.end());
      }
  }
  if (v.size() % static_cast<std::size_t>(dim) != 0)
    throw LocationInvalid(std::string(what) + ": the coordinate count is not a multiple of " + std::to_string(dim));
  Ring out;
  for (std::size_t i = 0; i + static_cast<std::size_t>(dim) <= v.size(); i += static_cast<std::size_t>(dim))
    out.push_back(checked(v[i], v[i + 1], what));
  if (out.size() < 4) throw LocationInvalid(std::string(what) + ": a ring needs at least 4 positions");
  if (out.front().lon != out.back().lon || out.front().lat != out.back().lat)
    throw LocationInvalid(std::string(what) + ": the ring is not closed (first and last positions differ)");
  return out;
}

GeoPolygon parse_polygon(const pugi::xml_node& node, int dim) {
  GeoPolygon p;
  auto exterior = child(node, kGmlNs, "exterior");
  if (!exterior) throw LocationInvalid("Polygon has no gml:exterior");
  p.exterior = parse_ring(exterior, dim, "Polygon");
  for (auto c : node.children())
    if (is(c, kGmlNs, "interior")) p.interiors.push_back(parse_ring(c, dim, "Polygon interior"));
  return p;
}

GeodeticShape parse_shape(const pugi::xml_node& node) {
  int dim = dimension_of(node);
  auto name = local_name(node);
  auto ns = namespace_uri(node);
  if (ns == kGmlNs && name == "Point") return GeoPoint{parse_pos(node, dim, "Point")};
  if (ns == kGmlNs && name == "Polygon") return parse_polygon(node, dim);
  if (ns != kGeoShapeNs) throw LocationInvalid("unknown shape " + std::string(node.name()) + " in namespace '" + ns + "'");
  if (name == "Circle" || name == "Sphere") {
    GeoCircle c{parse_pos(node, dim, node.name()), distance(node, "radius", node.name())};
    if (!(c.radius_m > 0)) throw LocationInvalid(std::string(node.name()) + ": radius must be positive");
    return c;
  }
  if (name == "Ellipse" || name == "Ellipsoid") {
    GeoEllipse e{parse_pos(node, dim, node.name()), distance(node, "semiMajorAxis", node.name()),
                 distance(node, "semiMinorAxis", node.name()),
                 measure(node, "orientation", kUomDegree, node.name())};
    if (!(e.semi_major_m > 0) || !(e.semi_minor_m > 0))
      throw LocationInvalid(std::string(node.name()) + ": the axes must be positive");
    if (e.semi_minor_m > e.semi_major_m)
      throw LocationInvalid(std::string(node.name()) + ": semiMinorAxis is longer than semiMajorAxis");
    return e;
  }
  if (name == "ArcBand") {
    GeoArcBand a{parse_pos(node, dim, "ArcBand"), distance(node, "innerRadius", "ArcBand"),
                 distance(node, "outerRadius", "ArcBand"), measure(node, "startAngle", kUomDegree, "ArcBand"),
                 measure(node, "openingAngle", kUomDegree, "ArcBand")};
    if (a.inner_m < 0 || !(a.outer_m > a.inner_m))
      throw LocationInvalid("ArcBand: radii must satisfy 0 <= innerRadius < outerRadius");
    if (!(a.opening_deg > 0) || a.opening_deg > 360) throw LocationInvalid("ArcBand: openingAngle must be in (0, 360]");
    return a;
  }
  if (name == "Prism") {
    // geodetic-3d prism reduced to 2-D: its base polygon.
    auto base = child(node, kGeoShapeNs, "base");
    auto poly = base ? child(base, kGmlNs, "Polygon") : pugi::xml_node();
    if (!poly) throw LocationInvalid("Prism has no gs:base/gml:Polygon");
    return parse_polygon(poly, 3);
  }
  throw LocationInvalid("unknown shape gs:" + std::string(name));
}

// Geodesic destination on WGS 84: from `from`, `distance` metres along `azimuth_deg`
// (clockwise from north).
LonLat destination(LonLat from, double distance, double azimuth_deg) {
  namespace bg = boost::geometry;
  static const bg::srs::spheroid<double> wgs84(6378137.0, 6356752.3142451793);
  constexpr double d2r = std::numbers::pi / 180;
  auto r = bg::formula::vincenty_direct<double, true, false>::apply(from.lon * d2r, from.lat * d2r, distance,
                                                                     azimuth_deg * d2r, wgs84);
  return {r.lon2 / d2r, r.lat2 / d2r};
}

}  // namespace

const std::string* CivicAddress::get(const std::string& name) const {
  for (const auto& [k, v] : elements)
    if (k == name) return &v;
  return nullptr;
}

GeodeticShape parse_geodetic(const pugi::xml_node& location) {
  auto shapes = element_children(location);
  if (shapes.empty()) throw LocationInvalid("the geodetic-2d location has no shape");
  if (shapes.size() > 1) throw LocationInvalid("a geodetic-2d location carries exactly one shape");
  return parse_shape(shapes.front());
}

CivicAddress parse_civic(const pugi::xml_node& location) {
  auto children = element_children(location);
  if (children.size() != 1 || !is(children.front(), kCivicNs, "civicAddress"))
    throw LocationInvalid("a civic location carries one civicAddress (" + std::string(kCivicNs) + ")");
  CivicAddress out;
  for (auto e : children.front().children()) {
    if (e.type() != pugi::node_element) continue;
    auto ns = namespace_uri(e);
    if (ns != kCivicNs && ns != kCivicExtNs) continue;  // other extensions are not ours to check
    std::string value = trim(e.child_value());
    if (element_children(e).size() > 0) throw LocationInvalid("civic element " + std::string(e.name()) + " has child elements");
    // RFC 6848 extension elements keep their namespace in the name: they are reported, never matched.
    out.elements.emplace_back((ns == kCivicExtNs ? "ext:" : "") + std::string(local_name(e)), value);
  }
  if (out.elements.empty()) throw LocationInvalid("the civicAddress is empty");
  return out;
}

GeoPolygon to_polygon(const GeodeticShape& shape, int segments) {
  struct Visitor {
    int segments;
    GeoPolygon operator()(const GeoPoint& p) const { return {{p.pos}, {}}; }
    GeoPolygon operator()(const GeoPolygon& p) const { return p; }
    GeoPolygon operator()(const GeoCircle& c) const {
      GeoPolygon out;
      for (int i = 0; i < segments; ++i) out.exterior.push_back(destination(c.center, c.radius_m, 360.0 * i / segments));
      out.exterior.push_back(out.exterior.front());
      return out;
    }
    GeoPolygon operator()(const GeoEllipse& e) const {
      GeoPolygon out;
      constexpr double d2r = std::numbers::pi / 180;
      for (int i = 0; i < segments; ++i) {
        double t = 2 * std::numbers::pi * i / segments;
        // Point of the ellipse in its own frame (x along the major axis), then as bearing and
        // distance from the centre, the major axis pointing `orientation` clockwise from north.
        double x = e.semi_major_m * std::cos(t), y = e.semi_minor_m * std::sin(t);
        double bearing = e.orientation_deg + std::atan2(y, x) / d2r;
        out.exterior.push_back(destination(e.center, std::hypot(x, y), bearing));
      }
      out.exterior.push_back(out.exterior.front());
      return out;
    }
    GeoPolygon operator()(const GeoArcBand& a) const {
      GeoPolygon out;
      int n = std::max(2, static_cast<int>(segments * a.opening_deg / 360.0));
      for (int i = 0; i <= n; ++i)
        out.exterior.push_back(destination(a.center, a.outer_m, a.start_deg + a.opening_deg * i / n));
      for (int i = n; i >= 0; --i) {
        if (a.inner_m > 0) out.exterior.push_back(destination(a.center, a.inner_m, a.start_deg + a.opening_deg * i / n));
        else if (i == n) out.exterior.push_back(a.center);
      }
      out.exterior.push_back(out.exterior.front());
      return out;
    }
  };
  return std::visit(Visitor{segments}, shape);
}

LonLat reference_point(const GeodeticShape& shape) {
  struct Visitor {
    LonLat operator()(const GeoPoint& p) const { return p.pos; }
    LonLat operator()(const GeoPolygon& p) const { return p.exterior.front(); }
    LonLat operator()(const GeoCircle& c) const { return c.center; }
    LonLat operator()(const GeoEllipse& e) const { return e.center; }
    LonLat operator()(const GeoArcBand& a) const { return a.center; }
  };
  return std::visit(Visitor{}, shape);
}

const char* shape_name(const GeodeticShape& shape) {
  static constexpr const char* names[] = {"Point", "Polygon", "Circle", "Ellipse", "ArcBand"};
  return names[shape.index()];
}

}  // namespace ng911::ecrf
