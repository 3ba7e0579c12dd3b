#pragma once
// Reads a GIS source file through GDAL/OGR (GeoJSON, Shapefile, GeoPackage, anything OGR
// reads), maps its fields onto a NENA layer's fields and reprojects geometries to EPSG:4326.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gis/layer_catalog.h"
#include "gis/validation_report.h"

namespace ng911::gis {

// A problem with the input as a whole (unreadable, empty, no CRS, bad mapping): nothing loads.
class GisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where each NENA field's value comes from when the source's names differ from NENA's.
struct FieldMapping {
  std::map<std::string, std::string> source_field;  // NENA field -> source field
  std::map<std::string, std::string> constant;      // NENA field -> fixed value
};

// Parses "NENA=SOURCE" (--map) and "NENA=VALUE" (--set) options; throws GisError on a
// malformed option or a field the layer does not have.
FieldMapping parse_field_mapping(const LayerSpec& layer, const std::vector<std::string>& maps,
                                 const std::vector<std::string>& sets);

struct SourceOptions {
  std::string path;
  std::string source_layer;  // empty: the first layer of the dataset
  std::string source_srs;    // empty: the file's own CRS; else overrides it (e.g. EPSG:2277)
  FieldMapping mapping;
};

struct SourceFeature {
  std::int64_t fid = 0;
  std::string label;  // "feature 12 (Travis, Texas PSAP)" for reports
  std::vector<std::optional<std::string>> values;  // one per LayerSpec::fields, text form
  std::optional<std::string> wkb_hex;  // EPSG:4326, the layer's geometry type; none if unusable
};

class SourceReader {
 public:
  // Opens the file and checks mapping and CRS; throws GisError with a readable message.
  SourceReader(const LayerSpec& layer, SourceOptions options);
  ~SourceReader();
  SourceReader(const SourceReader&) = delete;
  SourceReader& operator=(const SourceReader&) = delete;

  // Next feature, or nullopt at the end. Geometry problems go to the report as errors and leave
  // wkb_hex empty.
  std::optional<SourceFeature> next(ValidationReport& report);

  std::int64_t feature_count() const { return feature_count_; }
  std::string description() const;  // driver, layer, CRS, mapped and unused fields

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::int64_t feature_count_ = 0;
};

// Hex SHA-256 of a file's bytes (the load records it; unchanged files can be skipped).
std::string file_sha256(const std::string& path);

}  // namespace ng911::gis
