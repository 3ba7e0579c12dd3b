#pragma once
// The NENA GIS Data Model (NENA-STA-006) layers the loader knows: their fields, which are
// required, how each is checked, and the table that stores them. The SQL migration
// scripts/db/migrations/0002_gis_layers.sql creates those tables; a test checks the two agree.
#include <span>
#include <string>
#include <string_view>

namespace ng911::gis {

enum class FieldType { text, timestamp, integer };

// The syntax a field's value must have.
enum class FieldCheck {
  none,
  uri,          // any absolute URI (RFC 3986)
  service_uri,  // where calls are routed: sip:, sips: or tel:
  service_urn,  // urn:service:... (RFC 5031) or urn:emergency:service:... (NENA)
  nguid,        // urn:emergency:uid:gis:<type>:<id>:<agency>
  domain,       // an agency identifier: a DNS name
  state,        // two-letter state code
  country,      // two-letter ISO 3166 code
  parity,       // O, E, B or Z
};

struct FieldSpec {
  std::string_view name;  // NENA field name, as GIS admins know it
  FieldType type = FieldType::text;
  bool required = false;
  FieldCheck check = FieldCheck::none;

  std::string column() const;  // the table column: the NENA name lower-cased
};

enum class GeometryKind { polygon, point, line };

struct LayerSpec {
  std::string_view name;    // NENA layer name, e.g. PsapPolygon
  std::string_view alias;   // short name accepted on the command line (A1..A5), may be empty
  std::string_view table;   // schema-qualified table
  GeometryKind geometry;
  std::string_view id_field;     // unique per feature (an NGUID)
  std::string_view group_field;  // coverage (gaps/overlaps) is checked per value of this field;
                                 // empty: per layer; for point and line layers: unused
  std::span<const FieldSpec> fields;

  const FieldSpec* field(std::string_view nena_name) const;  // case-insensitive
  std::string_view geometry_name() const;                    // "MultiPolygon", ...
};

std::span<const LayerSpec> all_layers();
// Case-insensitive, by name or alias; nullptr when unknown.
const LayerSpec* find_layer(std::string_view name);
// "PsapPolygon, PolicePolygon, ..." for error messages.
std::string layer_names();

bool iequals(std::string_view a, std::string_view b);

}  // namespace ng911::gis
