#pragma once
// Locations in LoST requests: the geodetic-2d shapes of RFC 5491 and civic addresses of
// RFC 5139 (with the RFC 6848 extension elements), parsed from their XML and checked.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <pugixml.hpp>

namespace ng911::ecrf {

inline constexpr const char* kGmlNs = "http://www.opengis.net/gml";
inline constexpr const char* kGeoShapeNs = "http://www.opengis.net/pidflo/1.0";
inline constexpr const char* kCivicNs = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr";
inline constexpr const char* kCivicExtNs = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr:ext";

// A location the client got wrong: LoST's locationInvalid, with a message for a human.
class LocationInvalid : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LonLat {
  double lon = 0;
  double lat = 0;
};

using Ring = std::vector<LonLat>;  // closed: first == last

struct GeoPoint { LonLat pos; };
struct GeoPolygon { Ring exterior; std::vector<Ring> interiors; };
struct GeoCircle { LonLat center; double radius_m = 0; };
struct GeoEllipse { LonLat center; double semi_major_m = 0; double semi_minor_m = 0; double orientation_deg = 0; };
struct GeoArcBand {
  LonLat center;
  double inner_m = 0, outer_m = 0;
  double start_deg = 0, opening_deg = 0;
};

using GeodeticShape = std::variant<GeoPoint, GeoPolygon, GeoCircle, GeoEllipse, GeoArcBand>;

// Civic address elements by their RFC 5139 / RFC 6848 names (country, A1..A6, PRD, POD, STS,
// HNO, HNS, RD, PC, PCN, ...), values trimmed. Order of appearance kept for reports.
struct CivicAddress {
  std::vector<std::pair<std::string, std::string>> elements;
  const std::string* get(const std::string& name) const;
};

using LocationValue = std::variant<GeodeticShape, CivicAddress>;

// Parses the geodetic-2d content of a <location>: exactly one shape. Throws LocationInvalid.
GeodeticShape parse_geodetic(const pugi::xml_node& location);
// Parses the civic content of a <location>: one civicAddress. Throws LocationInvalid.
CivicAddress parse_civic(const pugi::xml_node& location);

// The shape as a polygon ring in longitude/latitude: circles, ellipses and arc bands are laid
// out on the WGS 84 ellipsoid in metres (geodesic direct problem), with `segments` vertices
// for a full turn. A point yields a single-vertex ring.
GeoPolygon to_polygon(const GeodeticShape& shape, int segments = 64);

// A point that represents the shape (its centre, or the polygon's first vertex).
LonLat reference_point(const GeodeticShape& shape);
const char* shape_name(const GeodeticShape& shape);

}  // namespace ng911::ecrf
